"""Every view says what it did with a link's bad values: one notice, the problem first, nothing
adjusted in silence (a layer past the depth, a repeated key, two lessons, unknown keys counted)."""

from __future__ import annotations

import pytest

from dashboard.registry import ALL_VIEWS, VIEWS
from tests.pages.test_pages_apptest import assert_clean, open_view

BY_PATH = {v.url_path: v for v in ALL_VIEWS}


def _warnings(at) -> list[str]:
    return [str(w.value) for w in at.warning]


@pytest.mark.parametrize(("path", "query", "field", "expect"), [
    ("activations", {"layer": "40"}, "layer", 10),
    ("activations", {"layer": "0"}, "layer", 1),
    ("activations", {"stage": "foo"}, "stage", "pre_activation"),
    ("gamma-beta", {"norm_layer": "-1"}, "norm_layer", 1),
    ("gamma-beta", {"norm_layer": "40"}, "norm_layer", 10),
])
def test_a_value_the_view_cannot_show_is_adjusted_with_a_notice(path, query, field, expect):
    at = open_view(BY_PATH[path], query=query)
    assert_clean(at, f"{path}?{query}")
    assert at.session_state[field] == expect
    (notice,) = _warnings(at)
    assert notice.startswith("**The link was adjusted:**") and field in notice, notice


@pytest.mark.parametrize("view", VIEWS, ids=[v.url_path for v in VIEWS])
def test_a_repeated_key_is_reported_and_the_last_value_used(view):
    key = {"standardization": "batch_size", "landscape": "steps"}.get(view.url_path, "epochs")
    at = open_view(view)
    values = [str(v) for v in (at.session_state[key] + 1, at.session_state[key] + 2)]
    at = open_view(view, query={})
    at.query_params[key] = values  # ?key=a&key=b
    at.switch_page(f"../{view.file}").run()
    assert_clean(at, f"{view.url_path} with {key} twice")
    text = " ".join(_warnings(at))
    assert "appears 2 times" in text, text


def test_many_unknown_keys_are_counted_not_all_listed():
    at = open_view(BY_PATH["landscape"], query={f"junk{i}": "1" for i in range(9)})
    (notice,) = _warnings(at)
    assert "9 unknown setting(s) ignored" in notice and "and 6 more" in notice, notice


def test_two_lessons_in_a_link_open_the_last_and_say_so():
    at = open_view(BY_PATH[""], query={})
    at.query_params["lesson"] = ["valley", "high_lr"]
    at.run()
    assert_clean(at, "two lessons")
    assert at.title[0].value == "Training"
    assert any("names 2 lessons" in w for w in _warnings(at)), _warnings(at)
