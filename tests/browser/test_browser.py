"""The served dashboard in a real headless Chromium: every page of the registry opens by its URL,
finishes running, shows no exception box or failure text, and draws every chart; a slider moved
with the keyboard reruns the page cleanly. A full-page screenshot of each page goes to
artifacts/screenshots/ (and docs/screenshots/ with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import pytest

from dashboard.guard import FAILURE_TEXT
from dashboard.registry import ALL_VIEWS, HOME, VIEWS

pytestmark = pytest.mark.browser

CHART = '[data-testid="stVegaLiteChart"]'
EXCEPTION = '[data-testid="stException"]'
RUN_TIMEOUT = 120_000  # ms: a first training run on 2 cores


def wait_until_idle(page, timeout: int = RUN_TIMEOUT, quiet_ms: int = 800) -> None:
    """Wait until the script has run to the end and the page has settled.

    The app reports "notRunning", nothing is stale, no status widget or skeleton is left, the
    page has its title, every chart has a drawn canvas or svg, and none of that has changed for
    ``quiet_ms`` (charts mount a moment after the run ends, once Vega's code has loaded).
    """
    page.evaluate("() => { window.__idleSig = null; window.__idleSince = 0; }")
    page.wait_for_function(
        """(quietMs) => {
            const reset = () => { window.__idleSig = null; return false; };
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return reset();
            if (document.querySelector('[data-stale="true"], [data-testid="stStatusWidget"], '
                                       + '[data-testid*="Skeleton"], [data-testid="stSpinner"]')) return reset();
            if (!document.querySelector('[data-testid="stMain"] h1')) return reset();
            const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
            const drawn = charts.every(c => {
                const s = c.querySelector('canvas, svg.marks, svg');
                if (!s) return false;
                const r = s.getBoundingClientRect();
                return r.width > 0 && r.height > 0;
            });
            if (!drawn) return reset();
            const sig = [document.querySelectorAll('[data-testid="stElementContainer"]').length, charts.length,
                         document.querySelector('[data-testid="stMain"]').innerText.length,
                         window.location.href].join('|');
            const now = performance.now();
            if (window.__idleSig !== sig) { window.__idleSig = sig; window.__idleSince = now; return false; }
            return now - window.__idleSince >= quietMs;
        }""",
        arg=quiet_ms,
        timeout=timeout,
        polling=100,
    )


def chart_report(page) -> list[dict]:
    """Per chart: the drawn surface's size and, for a canvas, how many pixels carry ink."""
    return page.eval_on_selector_all(
        CHART,
        """els => els.map(el => {
            const surf = el.querySelector('canvas, svg');
            if (!surf) return {kind: null, w: 0, h: 0, ink: 0};
            const r = surf.getBoundingClientRect();
            let ink = -1;
            if (surf.tagName.toLowerCase() === 'canvas' && surf.width && surf.height) {
                const d = surf.getContext('2d').getImageData(0, 0, surf.width, surf.height).data;
                ink = 0;
                for (let i = 3; i < d.length; i += 4 * 7) if (d[i] > 0) ink++;
            } else {
                ink = surf.querySelectorAll('path, rect, line, circle, text').length;
            }
            return {kind: surf.tagName.toLowerCase(), w: r.width, h: r.height, ink};
        })""",
    )


def assert_page_ok(page, what: str) -> None:
    assert page.locator(EXCEPTION).count() == 0, f"{what}: exception box: {page.locator(EXCEPTION).all_inner_texts()}"
    dialogs = " ".join(page.locator('[role="dialog"]').all_inner_texts())
    assert "Page not found" not in dialogs, f"{what}: Streamlit says 'Page not found' for this URL"
    body = page.inner_text("body")
    assert FAILURE_TEXT not in body, f"{what}: the view failed"
    assert "Traceback" not in body, f"{what}: a traceback is shown"
    for i, c in enumerate(chart_report(page)):
        assert c["kind"] in ("canvas", "svg"), f"{what}: chart {i} has no canvas or svg"
        assert c["w"] > 0 and c["h"] > 0, f"{what}: chart {i} is drawn at size {c['w']}x{c['h']}"
        assert c["ink"] > 0, f"{what}: chart {i} is blank"


@pytest.mark.parametrize("view", ALL_VIEWS, ids=[v.url_path or "home" for v in ALL_VIEWS])
def test_every_page_opens_by_its_url_and_draws_every_chart(page, server, view, save_screenshot):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/{view.url_path}", wait_until="domcontentloaded")
    wait_until_idle(page)
    page.mouse.move(0, 0)
    save_screenshot(page, view.url_path or "home")  # first, so that a failing page can be looked at too
    assert_page_ok(page, view.url_path)
    if view is not HOME:
        title = page.locator('[data-testid="stMain"] h1').first.inner_text().strip()
        assert title == view.title.strip(), f"/{view.url_path} opened '{title}', not '{view.title}'"
    if view in VIEWS:
        assert page.locator(CHART).count() > 0, f"{view.url_path} drew no chart"
    assert not errors, f"{view.url_path}: JavaScript errors {errors}"


def test_a_slider_moved_with_the_keyboard_reruns_the_landscape_cleanly(page, server):
    view = next(v for v in VIEWS if v.url_path == "landscape")
    page.goto(f"{server}/{view.url_path}", wait_until="domcontentloaded")
    wait_until_idle(page)
    before = page.url
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Learning rate")
    assert slider.count() == 1, "no learning-rate slider on the landscape page"
    thumb = slider.get_by_role("slider")
    shown = slider.locator('[data-testid="stSliderThumbValue"]')
    start = shown.inner_text()
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(url) => window.location.href !== url", arg=before, timeout=RUN_TIMEOUT)
    wait_until_idle(page)
    assert shown.inner_text() != start, "the slider did not move"
    assert "lr_scale=" in page.url and page.url != before, "the URL did not follow the slider"
    assert_page_ok(page, "landscape after the slider moved")


def test_a_bad_link_shows_one_readable_warning(page, server):
    view = next(v for v in VIEWS if v.url_path == "landscape")
    page.goto(f"{server}/{view.url_path}?lr_scale=abc&steps=-5&unknown=1&dataset=%3Cscript%3E",
              wait_until="domcontentloaded")
    wait_until_idle(page)
    alerts = page.locator('[data-testid="stAlertContentWarning"]')
    assert alerts.count() == 1
    text = alerts.first.inner_text()
    assert "lr_scale" in text and "unknown" in text
    assert "&#" not in text and "&amp;" not in text, f"HTML entities shown literally: {text}"
    assert_page_ok(page, "landscape with a bad link")
