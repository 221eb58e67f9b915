"""Each view shows the same thing whatever was opened before it.

A walk through the sidebar (every ordered pair of views, and the whole sidebar forwards and
backwards), a setting changed on one view and then every other view opened, and every lesson
opened from every view: at each step the view on screen must be what a fresh deep link to its
address shows (same title, texts, widgets and charts), and its address carries only its own
settings.
"""

from __future__ import annotations

import itertools
import os

import pytest
from streamlit.testing.v1 import AppTest

from core.params import specs
from dashboard.lessons import LESSONS
from dashboard.registry import ALL_VIEWS, FAMILIES, VIEWS
from dashboard.style import LESSONS_PANEL
from tests.pages.test_pages_apptest import (
    APP,
    TIMEOUT,
    _name,
    assert_clean,
    config_widgets,
    moved_value,
    open_view,
    signature,
)

FRESH: dict[tuple, tuple] = {}  # (url path, query) -> what a fresh deep link shows


def shown(at: AppTest) -> tuple:
    """What a view shows: its title, every text of the main area, the widgets' values, the charts."""
    main = at.main
    texts = tuple(str(e.value) for kind in ("markdown", "caption", "warning", "error", "info", "success")
                  for e in getattr(main, kind))
    widgets = tuple(sorted((k, repr(w.value)) for k, w in config_widgets(at).items()))
    return (at.title[0].value if len(at.title) else "", texts, widgets, signature(at))


def fresh(view, query: dict[str, str]) -> tuple:
    key = (view.url_path, tuple(sorted(query.items())))
    if key not in FRESH:
        at = open_view(view, query=query)
        assert_clean(at, f"fresh {_name(view)}?{query}")
        FRESH[key] = shown(at)
    return FRESH[key]


def go(at: AppTest, view) -> AppTest:
    at.switch_page(os.path.relpath(view.path, APP.parent))  # "../pages/x.py"
    return at.run()


def own_keys(view) -> set[str]:
    classes = FAMILIES.get(view.family, ())
    return {f for cls in classes for f in specs(cls)} | {"lesson", "presenter"}


def assert_as_a_fresh_link(at: AppTest, view, what: str) -> None:
    assert_clean(at, what)
    query = {k: v for k, v in at.query_params.items()}
    stray = set(query) - own_keys(view)
    assert not stray, f"{what}: the address carries another view's settings {sorted(stray)}"
    assert shown(at) == fresh(view, query), f"{what}: differs from a fresh link to {_name(view)}?{query}"


def walk(order, what: str, panels: tuple[str, ...] = ()) -> AppTest:
    """An AppTest that opens the app, then each view of ``order`` from the sidebar, checking each
    against its own link; ``panels``: folded sidebar panels open from the start (their controls drawn)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key in panels:
        at.session_state[key] = True
    at.run()
    for view in order:
        go(at, view)
        assert_as_a_fresh_link(at, view, f"{what}, at {_name(view)}")
    return at


@pytest.mark.parametrize("pair", list(itertools.permutations(ALL_VIEWS, 2)),
                         ids=lambda p: f"{_name(p[0])}-then-{_name(p[1])}")
def test_a_view_opened_after_another_shows_what_its_own_link_shows(pair):
    walk(pair, " -> ".join(_name(v) for v in pair))


@pytest.mark.parametrize("direction", [1, -1], ids=["down", "up"])
def test_the_whole_sidebar_walked_in_order_shows_each_view_as_its_link_does(direction):
    order = list(ALL_VIEWS)[::direction]
    walk(order + order, f"sidebar {'down' if direction == 1 else 'up'}, twice")


@pytest.mark.parametrize("view", VIEWS, ids=[_name(v) for v in VIEWS])
def test_a_setting_changed_on_one_view_changes_no_view_of_another_family(view):
    at = walk([view], f"{_name(view)}")
    widgets = config_widgets(at)
    key = next(k for k in ("n_samples", "dataset", "batch_size", "noise", "lr_scale", "depth") if k in widgets)
    new = moved_value(widgets[key])
    widgets[key].set_value(new)
    at.run()
    assert at.session_state[key] == new
    assert_as_a_fresh_link(at, view, f"{_name(view)} after {key}={new!r}")
    for other in ALL_VIEWS:
        go(at, other)
        what = f"{_name(view)} with {key}={new!r}, then {_name(other)}"
        assert_as_a_fresh_link(at, other, what)
        if other.family and other.family != view.family:
            assert shown(at) == fresh(other, {}), f"{what}: not the view's default"
    go(at, view)
    assert at.session_state[key] == new, f"{_name(view)} lost its own setting on the way round"


@pytest.mark.parametrize("item", LESSONS, ids=[x.key for x in LESSONS])
def test_a_lesson_opened_from_any_view_shows_what_its_link_shows(item):
    for start in ALL_VIEWS:
        at = walk([start], f"lesson {item.key} from {_name(start)}", panels=(LESSONS_PANEL,))
        at.button(key=f"side-lesson-{item.key}").click().run()
        view = next(v for v in ALL_VIEWS if v.url_path == item.view)
        what = f"lesson {item.key} from {_name(start)}"
        assert at.query_params.get("lesson") == item.key, f"{what}: the address lost lesson="
        assert_as_a_fresh_link(at, view, what)
        assert fresh(view, {"lesson": item.key})[:3] == shown(at)[:3], f"{what}: not what ?lesson= opens"
