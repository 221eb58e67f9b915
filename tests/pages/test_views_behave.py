"""What a user sees on the pages in cases the issue reported: a diverged run, the standardization
sliders, the landscape's learning-rate links, exports, the small labels (AppTest)."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from dashboard.guard import FAILURE_TEXT
from dashboard.registry import ROOT
from tests.pages.test_pages_apptest import assert_chart_data_ok, chart_frames, charts_of

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 300


def _app(query: dict | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if page is None:  # home, or a lesson link (its view is opened by the app)
        at.query_params.update(query or {})
        at.run()
    else:  # a deep link to the page: the address appears with the page's first run
        at.run()
        at.query_params.update(query or {})
        at.switch_page(f"../pages/{page}.py").run()
    _clean(at)
    return at


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error if FAILURE_TEXT in str(e.value)]


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in charts_of(at)]


# ------------------------------------------------------------------ the high-learning-rate lesson

def test_high_lr_lesson_shows_the_diverged_run_up_to_its_divergence_and_labels_its_boundary():
    at = _app({"lesson": "high_lr", "predict": "0"})
    assert at.title[0].value == "Training"
    from core.training import TrainConfig, train
    from dashboard.lessons import lesson
    from dashboard.selections import CompareView

    settings = {k: v for k, v in lesson("high_lr").settings.items() if k != "compare"}
    seeds = CompareView().seeds  # the view's default: the curves are the median over these seeds
    plain = [train(TrainConfig(norm="none", **{**settings, "seed": s})) for s in range(seeds)]
    assert all(h.diverged for h in plain), "the lesson's plain run no longer diverges on every seed"
    # the median curve ends where the last seed diverged; the boundary is the first seed's
    label = f"all {seeds} seeds diverged, the last at step {max(h.diverged_at for h in plain):,}"
    hist = plain[0]
    marked = 0
    for el in charts_of(at):
        for frame in chart_frames(el):
            if "label" in frame.columns and (frame["label"] == label).any():
                marked += 1
    assert marked >= 2, f"the loss and the accuracy charts should both mark {label!r}"
    assert_chart_data_ok(at, "high_lr")
    titles = [s.get("title", {}) for s in _specs(at)]
    titles = [t.get("text") if isinstance(t, dict) else t for t in titles]
    boundary = [t for t in titles if t and str(t).startswith("no normalization")]
    assert boundary and "diverged" in str(boundary[0]), titles
    last = at.session_state["train_step"]
    assert f"step {last:,}" not in str(boundary[0]), "the diverged run's boundary is labelled with a step it never reached"
    notes = " ".join(c.value for c in at.caption)
    first = f"diverged at step {hist.diverged_at:,}"
    assert first in notes and "No normalization: the boundary at step 0" in notes, notes


# ------------------------------------------------------------------ the landscape's learning rate

def test_a_links_lr_scale_that_is_a_choice_is_kept_exactly_and_1_does_not_diverge():
    at = _app({"lr_scale": "1"}, page="landscape")
    assert at.session_state["lr_scale"] == 1.0
    assert not at.warning, [w.value for w in at.warning]
    assert not [e for e in at.error if "diverged" in str(e.value)], "lr_scale=1 diverged"
    assert at.query_params["lr_scale"] == "1.0"
    for value in (0.05, 0.3, 0.99, 1.01):
        again = _app({"lr_scale": str(value)}, page="landscape")
        assert again.session_state["lr_scale"] == value


def test_the_loss_charts_log_step_axis_has_decade_ticks():
    at = _app(page="landscape")
    specs = [s for s in _specs(at) if "Loss against step" in str(s.get("title"))]
    assert specs
    axis = specs[0]["layer"][0]["encoding"]["x"]["axis"]
    assert axis["values"][:4] == [0, 1, 10, 100] and 1000 in axis["values"]


# ------------------------------------------------------------------ exports

def _capture_view_json(monkeypatch) -> list[dict]:
    from dashboard import exports

    seen: list[dict] = []
    real = exports.view_json

    def recording(*args, **kwargs):
        text = real(*args, **kwargs)
        seen.append(json.loads(text))
        return text

    monkeypatch.setattr(exports, "view_json", recording)
    return seen


def test_the_exported_config_json_rebuilds_the_same_view(monkeypatch):
    """Every setting of the page (the network, ``compare``, the step) is in the JSON under the URL's
    names; its settings, turned into a query string, open the same view with the same charts."""
    import urllib.parse

    from tests.pages.test_pages_apptest import signature

    seen = _capture_view_json(monkeypatch)
    at = _app(page="training")
    at.selectbox(key="compare").set_value("both").run()
    at.select_slider(key="lr").set_value(0.3).run()
    steps = [int(o.replace(",", "")) for o in at.select_slider(key="train_step").options]
    at.select_slider(key="train_step").set_value(steps[len(steps) // 2]).run()
    _clean(at)
    saved = seen[-1]
    assert saved["view"] == "training"
    settings = saved["settings"]
    for key in ("compare", "seeds", "lr", "depth", "dataset", "batch_size", "train_step"):
        assert key in settings, key
    assert settings["compare"] == "both" and settings["lr"] == 0.3 and settings["train_step"] == steps[len(steps) // 2]
    seeds = settings["seeds"]
    assert seeds == 3, "the view's default number of seeds"
    # every run behind the view: each normalization with each seed, its own seed in its config
    assert set(saved["configs"]) == {f"{n}, seed {s}" for n in ("none", "batch", "layer") for s in range(seeds)}
    assert all(c["seed"] == int(name.rsplit(" ", 1)[1]) for name, c in saved["configs"].items())
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlencode(
        {k: str(int(v)) if isinstance(v, bool) else str(v) for k, v in settings.items()})).items()}
    again = _app(query, page="training")
    assert not again.warning, [w.value for w in again.warning]
    for key, value in settings.items():
        assert again.session_state[key] == value, key
    assert signature(again) == signature(at), "the rebuilt view draws different charts"
    assert seen[-1]["settings"] == settings and seen[-1]["query"] == saved["query"]


def test_the_landscape_exports_its_settings_too(monkeypatch):
    seen = _capture_view_json(monkeypatch)
    _app(page="landscape")
    saved = seen[-1]
    assert saved["view"] == "landscape"
    assert {"lr_scale", "steps", "at_step", "w0_a", "fit_intercept"} <= set(saved["settings"])
    assert saved["configs"]["landscape"]["config"] == "LandscapeConfig"


# ------------------------------------------------------------------ standardization: undoing it

def _strip_values(at: AppTest, title_part: str):
    import pandas as pd

    for el in charts_of(at):
        title = json.loads(el.proto.spec).get("title", "")
        text = title.get("text", "") if isinstance(title, dict) else title
        if title_part in " ".join(text) if isinstance(text, list) else title_part in str(text):
            return pd.concat(chart_frames(el), ignore_index=True)
    raise AssertionError(f"no chart titled {title_part!r}")


def test_undo_sets_gamma_to_the_batch_std_and_beta_to_its_mean_and_gives_back_the_raw_batch():
    import numpy as np

    at = _app(page="standardization")
    at.toggle(key="undo").set_value(True).run()
    _clean(at)
    assert at.query_params["undo"] == "1"
    assert at.slider(key="gamma").disabled and at.slider(key="beta").disabled
    raw = _strip_values(at, "The batch's")
    steps = _strip_values(at, "scaled and shifted")
    out = steps[steps["stage"].str.startswith("γ")]
    assert len(out) == len(raw) > 1
    assert np.allclose(np.sort(out["value"]), np.sort(raw["value"]), rtol=1e-9, atol=1e-9)
    mean, std = raw["value"].mean(), raw["value"].std(ddof=0)
    label = out["stage"].iloc[0]
    assert f"β = {mean:.4g}" in label and f"γ = {np.sqrt(std**2 + 1e-5):.4g}" in label
    assert mean > 5, "the article's A, B data: this batch's mean is beyond the β slider's ±5"
    assert any("gives back the raw batch" in c.value for c in at.caption)
    for feature in (1,):  # B, whose batch mean is near 100
        at.selectbox(key="feature").set_value(feature).run()
        raw = _strip_values(at, "The batch's")
        steps = _strip_values(at, "scaled and shifted")
        out = steps[steps["stage"].str.startswith("γ")]
        assert np.allclose(np.sort(out["value"]), np.sort(raw["value"]), rtol=1e-9)
        assert raw["value"].mean() > 50


# ------------------------------------------------------------------ small labels

def test_home_lesson_cards_end_in_one_full_stop():
    from dashboard.lessons import LESSONS

    at = _app()
    cards = [m.value for m in at.markdown if any(m.value.startswith(f"**{x.title}**") for x in LESSONS)]
    assert len(cards) == len(LESSONS)
    for text in cards:
        assert ".." not in text, text
        assert text.endswith(".") and not text.endswith(".."), text


def test_the_article_data_set_is_not_called_seed_where_users_read_it():
    at = _app(page="standardization")
    box = at.selectbox(key="dataset")
    assert box.value == "seed"  # the key stays (URLs, tests)
    shown = box.format_func("seed")
    assert "seed" not in shown.lower() and "A, B" in shown
    assert not [c.value for c in at.caption if c.value.startswith("**seed**")]
    at = _app(page="training")
    assert "seed" not in at.selectbox(key="dataset").format_func("seed").lower()
    assert at.number_input(key="seed").label == "Random seed"


def test_init_std_is_shown_only_for_the_normal_initialisation():
    at = _app(page="training")
    keys = {w.key for w in at.select_slider}
    assert at.session_state["init"] != "normal" and "init_scale" not in keys
    for init in ("he", "glorot"):
        _pick(at, "init", init)
        assert "init_scale" not in {w.key for w in at.select_slider}, init
    _pick(at, "init", "normal")
    assert "init_scale" in {w.key for w in at.select_slider}
    assert "init_scale" in at.query_params, "the setting stays in the link either way"


def _pick(at: AppTest, key: str, value) -> None:
    widget = next(w for w in (*at.segmented_control, *at.selectbox) if w.key == key)
    widget.set_value(value).run()
    _clean(at)
