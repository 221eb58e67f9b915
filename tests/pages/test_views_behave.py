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
    at.query_params.update(query or {})
    at.run()
    if page:
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
    at = _app({"lesson": "high_lr"})
    assert at.title[0].value == "Training"
    from core.lessons import lesson
    from core.training import TrainConfig, train

    settings = {k: v for k, v in lesson("high_lr").settings.items() if k != "compare"}
    hist = train(TrainConfig(norm="none", **settings))
    assert hist.diverged, "the lesson's plain run no longer diverges"
    label = f"diverged at step {hist.diverged_at:,}"
    marked = 0
    for el in charts_of(at):
        for frame in chart_frames(el):
            if "label" in frame.columns and (frame["label"] == label).any():
                marked += 1
    assert marked >= 2, f"the loss and the accuracy charts should both mark {label!r}"
    assert_chart_data_ok(at, "high_lr")
    titles = [s.get("title", {}) for s in _specs(at)]
    titles = [t.get("text") if isinstance(t, dict) else t for t in titles]
    boundary = [t for t in titles if t and t.startswith("no normalization")]
    assert boundary and label in boundary[0], titles
    last = at.session_state["train_step"]
    assert f"step {last:,}" not in boundary[0], "the diverged run's boundary is labelled with a step it never reached"
    assert all(f"at step {last:,}" not in s.value for s in at.subheader)
