"""Lesson links a teacher can trim (AppTest): hide= hides controls and sections on every view and stays
in every view's address; a bad hide= or predict= gets one notice shown only as text; the share panel
shows the trimmed link as text; the reset buttons return to a known state."""

from __future__ import annotations

import pytest

from core.experiment import LandscapeConfig
from dashboard.lessons import lesson
from dashboard.registry import ALL_VIEWS, VIEWS
from dashboard.style import EXPORT_PANEL, LESSONS_PANEL, SHARE_PANEL
from dashboard.trim import TICKS
from tests.pages.test_link_safety import PAYLOADS, _assert_inert
from tests.pages.test_pages_apptest import (
    _name,
    assert_clean,
    config_widgets,
    open_panel,
    open_view,
    outside_code,
)
from tests.pages.test_view_independence import fresh, go, shown

BY_PATH = {v.url_path: v for v in ALL_VIEWS}
HIDE = "lr,depth,optimizer,lr_scale,steps"


def _sidebar_keys(at) -> set[str]:
    return {getattr(w, "key", None) for w in at.sidebar}


def test_hidden_controls_are_absent_and_keep_the_links_values():
    at = open_view(BY_PATH["landscape"], query={"hide": "lr_scale,steps", "lr_scale": "0.3"})
    assert_clean(at, "hide on the landscape")
    widgets = config_widgets(at)
    assert "lr_scale" not in widgets and "steps" not in widgets
    assert {"w0_a", "w0_b", "optimizer"} <= set(widgets)
    assert at.session_state["lr_scale"] == 0.3 and at.session_state["steps"] == LandscapeConfig().steps
    assert at.query_params.get("hide") == "lr_scale,steps" and at.query_params.get("lr_scale") == "0.3"


def test_hide_stays_on_every_view_and_in_every_address_and_each_shows_what_its_own_link_shows():
    at = open_view(BY_PATH["training"], query={"hide": HIDE})
    assert_clean(at, "hide on training")
    for view in [*ALL_VIEWS, BY_PATH["training"]]:
        go(at, view)
        what = f"hide={HIDE}, then {_name(view)}"
        assert_clean(at, what)
        query = dict(at.query_params.items())
        assert query.get("hide") == ",".join(sorted(HIDE.split(","))), what
        assert not set(HIDE.split(",")) & set(config_widgets(at)), f"{what}: a hidden control is drawn"
        assert shown(at) == fresh(view, query), f"{what}: differs from a fresh link with the same address"


def test_sections_can_be_hidden_too():
    at = open_view(BY_PATH["landscape"], query={"hide": "lessons,link,export,presenter,reset", "lesson": "valley"})
    assert_clean(at, "sections hidden")
    for key in (LESSONS_PANEL, EXPORT_PANEL):  # hidden, not merely closed: open, they still draw nothing
        open_panel(at, key)
    keys = _sidebar_keys(at)
    assert not {k for k in keys if k and (k.startswith("side-lesson-") or k.startswith("export-"))}
    assert not {"presenter", "reset_view", "reset_lesson"} & keys
    assert not at.code, "the link panels are hidden"


@pytest.mark.parametrize("query", [
    {"hide": "nope,lr"}, {"hide": "lr;depth"}, {"hide": ",,,"}, {"hide": "x" * 500},
    {"hide": "lr", "predict": "maybe"}, {"predict": ""}, {"hide": ["lr", "<b>depth</b>"]},
], ids=["unknown", "semicolon", "commas", "long", "predict-word", "predict-empty", "repeated"])
def test_a_malformed_hide_or_predict_gets_one_clear_notice_and_no_traceback(query):
    for view in (BY_PATH["training"], BY_PATH["landscape"], BY_PATH[""]):
        at = open_view(view, query=query)
        assert_clean(at, f"{_name(view)}?{query}")
        warned = [w.value for w in at.warning if "link was adjusted" in w.value]
        bad = query != {"hide": ",,,"}
        assert len(warned) == (1 if bad else 0), f"{_name(view)}?{query}: {warned}"
        if bad:
            assert "hide" in warned[0] or "predict" in warned[0]
            assert "<b>" not in outside_code(warned[0])


@pytest.mark.parametrize("view", ALL_VIEWS, ids=[_name(v) for v in ALL_VIEWS])
def test_hostile_hide_and_predict_values_are_shown_only_as_text(view):
    for i, payload in enumerate(PAYLOADS):
        key = ("hide", "predict")[i % 2]
        at = open_view(view, query={key: payload})
        _assert_inert(at, f"{_name(view)}?{key}={payload}")


def test_the_share_panel_shows_the_link_that_hides_what_is_ticked():
    at = open_view(BY_PATH["landscape"], query={"lesson": "valley"})
    assert_clean(at, "lesson")
    open_panel(at, SHARE_PANEL)
    at.checkbox(key="share-hide-lr_scale").check().run()
    at.checkbox(key="share-hide-export").check().run()
    at.checkbox(key="share-predict").uncheck().run()
    assert_clean(at, "ticked")
    codes = [c.value for c in at.code]
    trimmed = [c for c in codes if "hide=" in c]
    assert trimmed and "hide=export,lr_scale" in trimmed[0] and "predict=0" in trimmed[0]
    assert "lesson=valley" in trimmed[0]
    assert "lr_scale" in config_widgets(at), "ticking does not hide the teacher's own controls"
    assert not [m.value for m in at.markdown if "hide=" in m.value], "the link is shown only in a code block"


def test_reset_this_view_returns_to_the_defaults_and_reset_to_the_lesson_to_its_settings():
    at = open_view(BY_PATH["landscape"], query={"lesson": "valley", "steps": "30", "w0_a": "2.5"})
    assert_clean(at, "lesson with changes")
    assert at.session_state["steps"] == 30
    at.button(key="reset_lesson").click().run()
    assert_clean(at, "reset to the lesson")
    for name, value in lesson("valley").settings.items():
        assert at.session_state[name] == value
    assert at.session_state["w0_a"] == LandscapeConfig().w0_a
    assert at.query_params.get("lesson") == "valley"
    config_widgets(at)["w0_b"].set_value(3.0).run()
    at.button(key="reset_view").click().run()
    assert_clean(at, "reset the view")
    assert at.session_state["w0_b"] == LandscapeConfig().w0_b and "lesson" not in at.query_params
    assert shown(at) == fresh(BY_PATH["landscape"], dict(at.query_params.items()))


@pytest.mark.parametrize("view", VIEWS, ids=[_name(v) for v in VIEWS])
def test_every_view_has_a_reset_button_and_the_share_panel(view):
    at = open_panel(open_view(view), SHARE_PANEL)
    assert_clean(at, _name(view))
    keys = _sidebar_keys(at)
    assert "reset_view" in keys and "share-predict" in keys


@pytest.mark.parametrize("view", [BY_PATH["training"], BY_PATH["landscape"]], ids=["training", "landscape"])
def test_the_folded_panels_draw_their_controls_only_while_open(view):
    at = open_view(view)
    assert_clean(at, f"{_name(view)}, panels closed")
    keys = _sidebar_keys(at)
    folded = {k for k in keys if k and k.startswith(("side-lesson-", "export-", "share-"))}
    assert not folded, f"a closed panel drew its controls: {sorted(folded)}"
    closed_widgets = len(list(at.sidebar))
    for key, prefix in ((LESSONS_PANEL, "side-lesson-"), (SHARE_PANEL, "share-hide-"), (EXPORT_PANEL, "export-")):
        open_panel(at, key)
        assert_clean(at, f"{_name(view)}, {key} open")
        assert any(k and k.startswith(prefix) for k in _sidebar_keys(at)), f"{key} open but empty"
    assert len(list(at.sidebar)) > closed_widgets + 20, "the open panels hold the Lessons, Share and Export controls"


def test_the_share_panel_keeps_its_ticks_when_closed_and_opened_again():
    at = open_panel(open_view(BY_PATH["training"]), SHARE_PANEL)
    at.checkbox(key="share-hide-lr").check().run()
    at.checkbox(key="share-predict").uncheck().run()
    at.session_state[SHARE_PANEL] = False
    at.run()
    assert_clean(at, "share panel closed")
    assert "share-hide-lr" not in _sidebar_keys(at) and at.session_state[TICKS]["lr"] is True
    open_panel(at, SHARE_PANEL)
    assert at.checkbox(key="share-hide-lr").value and not at.checkbox(key="share-predict").value
    trimmed = [c.value for c in at.code if "hide=" in c.value]
    assert trimmed and "hide=lr" in trimmed[0] and "predict=0" in trimmed[0]


def test_a_charts_save_menu_draws_its_buttons_only_while_open():
    """Save chart is a lazy popover (dashboard.drawing.draw): closed, its PNG and SVG buttons are not
    drawn; opened, that chart's two are, named after the page and the chart."""
    at = open_view(BY_PATH["training"])
    assert_clean(at, "training, save menus closed")
    saves = [b for b in at.get("download_button") if b.label in ("PNG", "SVG")]
    assert not saves, "a closed Save chart menu drew its buttons"
    open_panel(at, "save-1")
    assert_clean(at, "training, the first chart's save menu open")
    saves = {b.label for b in at.get("download_button") if b.label in ("PNG", "SVG")}
    assert saves == {"PNG", "SVG"}, f"the open menu holds {sorted(saves)}"
    assert len([b for b in at.get("download_button") if b.label == "PNG"]) == 1, "another menu opened too"
