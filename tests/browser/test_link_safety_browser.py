"""In the real page: a shared link cannot plant a link, an image or markup in the dashboard.

Each view is opened with hostile text in a value, in a key and as a lesson name; the drawn page
must hold no link or image that came from it, and a notice must say what was ignored.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from dashboard.registry import ALL_VIEWS
from tests.browser.test_browser import assert_page_ok, wait_until_idle

pytestmark = pytest.mark.browser

HOSTILE = (  # two links a view: every payload in a key, in a value and as the lesson's name
    (("dataset", "www.evil.example.com"), ("https://evil.example.com", "1"),
     ("lesson", "<https://evil.example.com>"), ("lr", "javascript:alert('evil')")),
    (("compare", "![x](http://evil.example.com/x.png)"), ("lesson", "**bold** [link](http://evil.example.com)"),
     ("<a href='http://evil.example.com'>evil</a>", "<img src=x onerror=alert(1)>")),
)
PLANTED = """() => [...document.querySelectorAll('a[href], img[src], [onerror]')]
    .filter(e => /evil|javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || 'onerror'))
    .map(e => e.outerHTML.slice(0, 200))"""


@pytest.mark.parametrize("view", ALL_VIEWS, ids=[v.url_path or "home" for v in ALL_VIEWS])
def test_a_hostile_link_plants_no_link_image_or_markup(page, server, view):
    for pairs in HOSTILE:
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
        page.goto(f"{server}/{view.url_path}?{query}", wait_until="domcontentloaded")
        wait_until_idle(page)
        what = f"/{view.url_path}?{query}"
        assert_page_ok(page, what)
        assert page.evaluate(PLANTED) == [], f"{what}: the link planted an element"
        notices = " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())
        assert "link was adjusted" in notices or "no lesson" in notices, f"{what}: no notice: {notices!r}"
        assert page.locator('[data-testid="stAlert"] strong:has-text("bold")').count() == 0, \
            f"{what}: Markdown from the link was rendered"
