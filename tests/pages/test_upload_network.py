"""Your own data on the network views (Training, Activations, γ and β, Why it works), through the
sidebar's real uploader (AppTest drives st.file_uploader).

A few-valued target trains a classifier, a continuous one a regression, and the task can be
overridden; two features draw the decision boundary, three draw none and fail nowhere; the file
never reaches the URL, and a link naming an uploaded file opens on the built-in data with one notice;
the moons uploaded as CSV train exactly as the built-in moons; two sessions with the same file share
their runs, two files never do. Small networks (``FAST``) keep each run quick.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

from core.data import UPLOAD_PREFIX, is_registered, load_dataset
from core.tabular import to_csv
from dashboard import runs as runs_module
from dashboard import upload
from dashboard.registry import VIEWS
from tests.core.test_tabular import grid
from tests.pages.test_pages_apptest import (
    assert_chart_data_ok,
    assert_clean,
    chart_frames,
    charts_of,
    open_view,
)
from tests.pages.test_upload_pages import frames, put, sidebar_errors

VIEW = {v.url_path: v for v in VIEWS}
NETWORK_VIEWS = ("training", "activations", "gamma-beta", "why")
FAST = {"seeds": "1", "epochs": "3", "depth": "2", "width": "8"}


def table(n_features: int, target: str = "classes", n: int = 120, seed: int = 0) -> bytes:
    """A CSV of ``n_features`` features on very different scales and a target: three whole-number
    classes, or a continuous value."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)) * np.logspace(0, n_features - 1, n_features)
    if target == "classes":
        y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5 * np.logspace(0, 1, 2)[1])
    else:
        y = X @ np.arange(1, n_features + 1) + rng.normal(size=n)
    return to_csv(X, y, [f"f{j}" for j in range(n_features)], "target")


def infos(at) -> str:
    return " ".join(str(e.value) for e in at.main.info)


def has_boundary(at) -> bool:
    """A decision boundary is drawn: a chart whose data is a probability over the plane."""
    return any("prob" in f.columns for el in charts_of(at) for f in chart_frames(el))


def dataset_in_use(at, view: str = "training") -> str:
    return at.session_state[upload.IN_USE][view].dataset.name


@pytest.mark.parametrize("view", NETWORK_VIEWS)
def test_each_network_view_trains_on_an_uploaded_classification_table(view):
    at = open_view(VIEW[view], query=FAST)
    put(at, "mine.csv", table(3))
    assert_clean(at, view)
    assert not sidebar_errors(at), sidebar_errors(at)
    assert "Your file" in infos(at) and "Classification of `target` \\(3 classes\\)" in infos(at)
    assert dataset_in_use(at, view).startswith(UPLOAD_PREFIX)
    assert assert_chart_data_ok(at, view) > 0
    assert not has_boundary(at)  # three features: no boundary, and no error either
    assert "exactly two features" in infos(at)


def test_two_features_draw_the_decision_boundary_on_training_and_three_do_not():
    at = open_view(VIEW["training"], query=FAST)
    put(at, "two.csv", table(2))
    assert_clean(at, "two features")
    assert has_boundary(at)
    assert at.multiselect(key="upload_features").value == ["f0", "f1"]
    at.multiselect(key="upload_features").set_value(["f0"]).run()  # one feature: no boundary either
    assert_clean(at, "one feature")
    assert not has_boundary(at) and "exactly two features" in infos(at)
    assert_chart_data_ok(at, "one feature")


def test_a_continuous_target_trains_a_regression_and_the_task_can_be_overridden():
    at = open_view(VIEW["training"], query=FAST)
    put(at, "reg.csv", table(2, "continuous"))
    assert_clean(at, "regression")
    assert at.session_state["upload_task"] == "regression"
    assert "Regression of `target`" in infos(at) and "regression data set" in infos(at)
    assert not has_boundary(at)  # a regression has no decision boundary
    put(at, "classes.csv", table(2))  # whole numbers, three values: classification by default
    assert at.session_state["upload_task"] == "classification" and has_boundary(at)
    at.segmented_control(key="upload_task").set_value("regression").run()
    assert_clean(at, "overridden to regression")
    assert "Regression of `target`" in infos(at) and not has_boundary(at)
    regression = dataset_in_use(at)
    at.segmented_control(key="upload_task").set_value("classification").run()
    assert dataset_in_use(at) != regression  # the task is part of the data's name: no run is shared
    assert_chart_data_ok(at, "back to classification")


def test_the_moons_uploaded_as_csv_train_exactly_as_the_built_in_moons():
    query = {**FAST, "dataset": "moons", "seed": "0", "n_samples": "200"}
    at = open_view(VIEW["training"], query=query)
    built_in = frames(at)
    moons = load_dataset("moons", n_samples=200, noise=0.2, seed=0)
    put(at, "moons.csv", to_csv(moons.X, moons.y, moons.feature_names, "label"))
    assert_clean(at, "moons as CSV")
    assert at.session_state["upload_task"] == "classification" and has_boundary(at)
    assert frames(at) == built_in  # the same data, split, weights and batches: the same curves and boundary


def test_the_file_stays_out_of_the_url_and_the_link_panel_offers_its_data():
    at = open_view(VIEW["training"], query=FAST)
    before = dict(at.query_params.items())
    put(at, "mine.csv", table(2))
    after = dict(at.query_params.items())
    assert after.pop("train_step") and before.pop("train_step")  # the player's last step: another data size
    assert after == before and after["dataset"] == "moons"  # the built-in choice stays in the address
    assert not any(UPLOAD_PREFIX in v or "mine" in v for v in after.values())
    assert "A link cannot carry a file" in " ".join(str(c.value) for c in at.sidebar.caption)
    assert any(b.label == "The data shown (CSV)" for b in at.get("download_button"))


@pytest.mark.parametrize("name", ["upload:abc", "upload:0123456789abcdef", "UPLOAD:x"])
def test_a_link_naming_an_uploaded_file_opens_the_built_in_data_with_one_notice(name):
    at = open_view(VIEW["training"], query={**FAST, "dataset": name})
    assert_clean(at, name)
    warnings = [str(w.value) for w in at.main.warning]
    assert len(warnings) == 1 and "a link cannot carry an uploaded file" in warnings[0], warnings
    assert at.session_state["dataset"] == "moons" and at.query_params["dataset"] == "moons"
    assert_chart_data_ok(at, name)


def test_a_link_cannot_reopen_another_sessions_upload_by_its_name():
    first = open_view(VIEW["training"], query=FAST)
    put(first, "mine.csv", table(2))
    name = dataset_in_use(first)  # registered, and held by the first session
    other = open_view(VIEW["training"], query={**FAST, "dataset": name})
    assert_clean(other, "a registered name in a link")
    assert other.session_state["dataset"] == "moons" and len(other.main.warning) == 1
    assert "Your file" not in infos(other)


def test_two_sessions_with_the_same_file_share_their_runs_and_another_file_trains_its_own(monkeypatch):
    trained = []
    real = runs_module.train_many

    def counting(configs, progress=None, **kw):
        trained.extend(configs)
        return real(configs, progress, **kw)

    monkeypatch.setattr(runs_module, "train_many", counting)
    query = {**FAST, "seed": "7"}  # runs no other test asked for
    first = open_view(VIEW["training"], query=query)
    put(first, "mine.csv", table(2, seed=3))
    mine = [c for c in trained if c.dataset.startswith(UPLOAD_PREFIX)]
    assert len(mine) == 2 and {c.dataset for c in mine} == {dataset_in_use(first)}
    second = open_view(VIEW["training"], query=query)
    put(second, "same data, another name.csv", table(2, seed=3))
    assert dataset_in_use(second) == dataset_in_use(first)
    assert [c for c in trained if c.dataset.startswith(UPLOAD_PREFIX)] == mine  # nothing trained again
    put(second, "other.csv", table(2, seed=4))
    other = [c for c in trained if c.dataset.startswith(UPLOAD_PREFIX)][len(mine):]
    assert len(other) == 2 and {c.dataset for c in other} == {dataset_in_use(second)} != {mine[0].dataset}
    assert_clean(second, "another file")


def test_back_to_the_built_in_data_trains_on_the_sidebars_data_set_again():
    at = open_view(VIEW["training"], query=FAST)
    put(at, "mine.csv", table(3))
    at.switch_page("../pages/activations.py").run()  # the file and its columns follow to the other views
    assert_clean(at, "activations after an upload")
    name = dataset_in_use(at, "activations")
    assert name == dataset_in_use(at, "training")
    at.button(key="upload_forget").click().run()
    assert_clean(at, "back to built-in")
    assert "Your file" not in infos(at) and "activations" not in at.session_state[upload.IN_USE]
    assert not at.selectbox(key="dataset").disabled
    gc.collect()
    assert not is_registered(name)  # the session let the file go: no registry keeps its data


def test_a_file_larger_than_the_samples_setting_is_subsampled_and_the_notice_says_so():
    at = open_view(VIEW["training"], query={**FAST, "n_samples": "100"})
    put(at, "mine.csv", table(2, n=150))
    assert_clean(at, "subsampled")
    assert "100 of the 150 samples" in infos(at)
    at.select_slider(key="n_samples").set_value(200).run()
    assert "150 samples and 2 feature" in infos(at)  # all of them: the setting asks for more
    assert_chart_data_ok(at, "all samples")


def test_a_text_target_is_classified_and_refused_as_a_regression_with_one_message():
    at = open_view(VIEW["training"], query=FAST)
    put(at, "kinds.csv", grid("a,b,kind", "{i},{j}.5,{k}x", n=30))
    assert_clean(at, "text target")
    assert "Classification of `kind` \\(3 classes\\)" in infos(at) and has_boundary(at)
    at.segmented_control(key="upload_task").set_value("regression").run()
    assert_clean(at, "text target as a regression")
    errors = sidebar_errors(at)
    assert len(errors) == 1 and "cannot be a regression target" in errors[0], errors
    assert "Your file" not in infos(at) and "training" not in at.session_state[upload.IN_USE]  # the built-in data
    assert_chart_data_ok(at, "text target as a regression")
