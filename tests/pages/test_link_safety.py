"""Nothing taken from a link is rendered as a link, markup or Markdown, on any view.

Every text element a view draws (warnings, markdown, captions, ...) is checked: the hostile text of
the link may appear only inside an inline code span, which Markdown shows character for character.
The browser test (tests/browser/test_link_safety.py) checks the drawn page for links and images.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.registry import ALL_VIEWS
from tests.pages.test_pages_apptest import _ids, _name, assert_clean, open_view, outside_code

#: what a phishing link would carry; each contains "evil" so it can be found wherever it lands
PAYLOADS = (
    "www.evil.example.com",
    "https://evil.example.com/login",
    "<https://evil.example.com>",
    "[click](http://evil.example.com)",
    "![x](http://evil.example.com/x.png)",
    "javascript:alert('evil')",
    "<a href='http://evil.example.com'>evil</a>",
    "<img src=x onerror=alert('evil')>",
    "**evil** _evil_ :red[evil] $evil$",
)
TEXT_ELEMENTS = ("markdown", "caption", "warning", "error", "info", "success", "exception")


def _texts(at: AppTest) -> list[str]:
    out = []
    for kind in TEXT_ELEMENTS:
        out += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    out += [str(e.label) for e in at.button] + [str(t.value) for t in at.title]
    return out


def _assert_inert(at: AppTest, what: str) -> None:
    assert_clean(at, what)
    for text in _texts(at):
        assert "evil" not in outside_code(text).lower(), f"{what}: link text rendered as Markdown: {text!r}"


@pytest.mark.parametrize("view", ALL_VIEWS, ids=_ids(ALL_VIEWS))
def test_hostile_values_in_a_link_are_shown_only_as_text(view):
    keys = ("dataset", "lr", "compare", "layer", "stage", "steps")
    for i, payload in enumerate(PAYLOADS):
        key = keys[i % len(keys)]
        at = open_view(view, query={key: payload, "lesson": payload} if i % 2 else {key: payload})
        _assert_inert(at, f"{_name(view)}?{key}={payload}")


@pytest.mark.parametrize("view", ALL_VIEWS, ids=_ids(ALL_VIEWS))
def test_hostile_keys_in_a_link_are_shown_only_as_text(view):
    at = open_view(view, query={p: "1" for p in PAYLOADS})
    _assert_inert(at, f"{_name(view)} with hostile keys")
    warned = " ".join(str(w.value) for w in at.warning)
    assert "unknown setting" in warned, f"{_name(view)}: the ignored keys were not reported: {warned!r}"
    assert f"{len(PAYLOADS)} unknown setting" in warned, "the notice does not count every ignored key"
