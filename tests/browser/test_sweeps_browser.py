"""The Sweeps view in a real Chromium: a learning-rate sweep opened by its link trains under a progress
bar that names the runs being trained, the bar goes away, the loss chart and the phase strip are drawn
with the measured headline under them, and a display control (presenter mode) redraws without training
again. The grid's first seed is one no other test uses, so the sweep trains here, not from the cache."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_browser import CHART, EXCEPTION, assert_page_ok, wait_until_idle

pytestmark = pytest.mark.browser

PROGRESS = '[data-testid="stProgress"]'
#: 8 rates x 2 normalizations x 2 seeds = 32 runs of the view's default network (two stacks, a few seconds)
LINK = "sweeps?sweep=lr&compare=batch&lr_min=0.003&lr_max=10.0&seeds=2&seed=4242"

#: every text a progress bar showed, recorded by the page itself (a bar can come and go between polls)
RECORD_PROGRESS = """
window.__progress = [];
new MutationObserver(() => {
    for (const el of document.querySelectorAll('[data-testid="stProgress"]')) {
        const text = (el.closest('[data-testid="stElementContainer"]') || el).innerText.trim();
        if (text && !window.__progress.includes(text)) window.__progress.push(text);
    }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _progress_seen(page) -> list[str]:
    return page.evaluate("() => window.__progress")


def _what_you_see(page) -> list[str]:
    heading = page.locator('[data-testid="stMain"] h3').filter(has_text="What you see")
    assert heading.count() == 1, "no 'What you see' heading"
    items = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"] li')
    return [t.strip() for t in items.all_inner_texts()]


def test_a_sweep_link_trains_under_a_named_progress_bar_draws_its_headline_and_a_display_change_keeps_it(
        page, server, save_screenshot):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(RECORD_PROGRESS)
    page.goto(f"{server}/{LINK}", wait_until="domcontentloaded")
    wait_until_idle(page)
    save_screenshot(page, "sweeps-lr-link")

    seen = _progress_seen(page)
    assert seen, "no progress bar was shown while the sweep trained"
    named = [t for t in seen if re.search(r"Training runs? \d+(–\d+)? of 32", t)]
    assert named, f"the progress bar did not name the runs being trained: {seen}"
    assert any("learning rates 0.003 to 10" in t and "seeds 4242 to 4243" in t for t in named), named
    assert page.locator(PROGRESS).count() == 0, "the progress bar is still on the page"

    assert page.locator(CHART).count() == 2, "expected the loss chart and the phase strip"
    assert_page_ok(page, "sweeps")
    lines = _what_you_see(page)
    for who in ("No normalization", "Batch norm"):
        mine = [x for x in lines if x.startswith(who)]
        assert mine, f"no headline line for {who}: {lines}"
        assert re.search(r"learned on all 2 seeds up to rate [\d.]+\.|did not learn on every seed", mine[0]), mine
    assert not re.search(r"\b(nan|inf)\b", " ".join(lines).lower()), lines
    assert "seed=4242" in page.url and "seeds=2" in page.url

    page.evaluate("() => { window.__progress = []; }")
    before = page.url
    page.get_by_text("Presenter mode (larger type)").click()
    page.wait_for_function("(url) => window.location.href !== url", arg=before)
    wait_until_idle(page)
    assert "presenter=1" in page.url
    assert _progress_seen(page) == [], f"a display change trained again: {_progress_seen(page)}"
    assert page.locator(CHART).count() == 2
    assert _what_you_see(page) == lines, "the headline changed with a display control"
    assert page.locator(EXCEPTION).count() == 0
    assert_page_ok(page, "sweeps in presenter mode")
    assert not errors, f"JavaScript errors: {errors}"
