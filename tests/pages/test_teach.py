"""Teaching aids, as a user drives them: lessons, lesson links, playback, link box, presenter mode."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.params import specs
from dashboard.guard import FAILURE_TEXT
from dashboard.lessons import LESSONS, lesson
from dashboard.registry import ROOT
from dashboard.style import LESSONS_PANEL
from tests.pages.test_pages_apptest import open_panel

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 300


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error if FAILURE_TEXT in str(e.value)]


def _app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    return at.run()


def _title(at: AppTest) -> str:
    return at.title[0].value if len(at.title) else ""


VIEW_TITLES = {"landscape": "Loss landscape", "training": "Training", "activations": "Activations",
               "gamma-beta": "γ and β", "sweeps": "Sweeps", "why": "Why it works"}


@pytest.mark.parametrize("item", LESSONS, ids=lambda x: x.key)
def test_a_lesson_button_opens_its_view_with_its_settings_and_its_note(item):
    at = _app()
    _clean(at)
    at.button(key=f"home-lesson-{item.key}").click().run()
    _clean(at)
    assert _title(at) == VIEW_TITLES[item.view]
    for name, value in item.settings.items():
        assert at.session_state[name] == value, name
    notes = [m.value for m in at.markdown if m.value.startswith("**Lesson:")]
    assert notes and item.title in notes[0]
    assert len(at.get("vega_lite_chart")) + len(at.get("arrow_vega_lite_chart")) == 0, "charts before the answer"
    at.radio(key=f"predict-{item.key}").set_value(0).run()
    _clean(at)
    assert len(at.get("vega_lite_chart")) + len(at.get("arrow_vega_lite_chart")) > 0


def test_a_lesson_resets_settings_it_does_not_name():
    at = _app({"lesson": "high_lr"})
    _clean(at)
    assert at.session_state["lr"] == 1.0
    open_panel(at, LESSONS_PANEL)
    at.button(key="side-lesson-deep_sigmoid").click().run()
    _clean(at)
    assert at.session_state["activation"] == "sigmoid"
    from core.training import TrainConfig

    assert at.session_state["lr"] == TrainConfig().lr  # back to the default, not the last lesson's


def test_a_lesson_link_opens_the_lesson_and_an_unknown_one_says_so():
    at = _app({"lesson": "valley"})
    _clean(at)
    assert _title(at) == "Loss landscape"
    at = _app({"lesson": "<b>nope</b>"})
    _clean(at)
    assert any("is no lesson here" in w.value for w in at.warning)
    from tests.pages.test_pages_apptest import outside_code

    assert "<b>" not in outside_code(" ".join(w.value for w in at.warning)), "markup outside a code span"


def test_playback_buttons_step_through_the_descent_without_retraining():
    at = AppTest.from_file(str(ROOT / "pages" / "landscape.py"), default_timeout=TIMEOUT)
    at.query_params.update({"steps": "100"})
    at.run()
    _clean(at)
    last = at.session_state["at_step"]
    assert last == 100
    at.button(key="at_step_first").click().run()
    assert at.session_state["at_step"] == 0
    at.button(key="at_step_next").click().run()
    at.button(key="at_step_next").click().run()
    assert at.session_state["at_step"] == 2
    at.button(key="at_step_prev").click().run()
    assert at.session_state["at_step"] == 1
    at.button(key="at_step_last").click().run()
    assert at.session_state["at_step"] == last
    # play from the end starts again from the first step, and the button becomes "pause"
    at.button(key="at_step_play").click().run()
    _clean(at)
    assert at.session_state["at_step"] == 0
    assert at.button(key="at_step_play").label == "Pause"
    at.button(key="at_step_play").click().run()
    assert at.button(key="at_step_play").label == "Play"


def test_link_box_shows_the_views_settings_and_presenter_mode_goes_in_the_url():
    at = _app()
    at.switch_page("../pages/landscape.py").run()
    _clean(at)
    code = " ".join(c.value for c in at.code)
    for name in specs(__import__("core.experiment", fromlist=["LandscapeConfig"]).LandscapeConfig):
        assert f"{name}=" in code
    at.toggle(key="presenter").set_value(True).run()
    _clean(at)
    assert at.query_params.get("presenter") in ("1", ["1"])


def test_lessons_are_listed_in_the_sidebar_on_every_view():
    at = open_panel(_app(), LESSONS_PANEL)
    keys = {b.key for b in at.sidebar.button}
    assert {f"side-lesson-{x.key}" for x in LESSONS} <= keys
    assert lesson("valley") is not None


def test_a_lesson_link_with_other_settings_says_they_differ_and_one_click_goes_back():
    at = _app({"lesson": "deep_sigmoid", "depth": "3"})
    _clean(at)
    assert _title(at) == "Training" and at.session_state["depth"] == 3
    notes = [m.value for m in at.markdown if m.value.startswith("**Lesson:")]
    assert notes and "settings have changed" in notes[0] and "depth is 3" in notes[0], notes
    assert lesson("deep_sigmoid").look_for not in notes[0], "the lesson's text shown over other settings"
    assert at.query_params.get("lesson") == "deep_sigmoid", "the link of an open lesson lost lesson="
    at.button(key="lesson_back").click().run()
    _clean(at)
    assert at.session_state["depth"] == lesson("deep_sigmoid").settings["depth"]
    notes = [m.value for m in at.markdown if m.value.startswith("**Lesson:")]
    assert notes and lesson("deep_sigmoid").look_for in notes[0]


def test_closing_the_lesson_removes_it_from_the_link():
    at = _app({"lesson": "high_lr"})
    assert at.query_params.get("lesson") == "high_lr"
    at.button(key="lesson_close").click().run()
    _clean(at)
    assert "lesson" not in at.query_params
    assert not [m for m in at.markdown if m.value.startswith("**Lesson:")]


@pytest.mark.parametrize("item", LESSONS, ids=lambda x: x.key)
def test_an_open_lesson_shows_its_claim_measured_on_the_runs_on_screen(item):
    from dashboard.lessons import verdict
    from dashboard.selections import CompareView

    at = _app({"lesson": item.key})
    _clean(at)
    assert not at.success, f"{item.key}: the verdict shows before the lesson's question is answered"
    at.radio(key=f"predict-{item.key}").set_value(0).run()  # any answer reveals the charts and the verdict
    _clean(at)
    # the same settings and seeds (the view's default number of them), computed through core alone
    expected = verdict(item.key, seeds=1 if item.view in ("landscape", "sweeps") else CompareView().seeds)
    shown = [s.value for s in at.success] + [w.value for w in at.warning]
    assert expected.text in shown, f"{item.key}: the page shows {shown}, core measures {expected.text!r}"
    assert expected.holds and expected.text in [s.value for s in at.success]


def test_a_lesson_whose_settings_changed_measures_its_claim_on_the_new_runs():
    at = _app({"lesson": "deep_sigmoid", "depth": "2", "predict": "0"})
    _clean(at)
    verdicts = [s.value for s in at.success] + [w.value for w in at.warning]
    assert verdicts, "no verdict on the changed settings"
    assert at.button(key="lesson_back") is not None
