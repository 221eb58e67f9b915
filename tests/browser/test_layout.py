"""What a class sees, measured in a real Chromium at a laptop's, a projector's and a phone's size.

Every page at 1280×720, 1400×900 and 390×844, and in presenter mode at 1280×720: no chart is drawn
wider than its column, no chart text is cut short with "…", every chart text has WCAG AA contrast
(and is at least 16 px in presenter mode), the title sits under the header bar (no empty band),
the phone's sidebar starts closed and its segmented controls fit. Presenter mode collapses the
sidebar, draws one chart per row at the full width and puts each lesson's key chart on the first
screen; the Training view shows its curves and decision boundaries together. Chart texts are read
by wrapping the canvas ``fillText`` that Vega draws them with.

A viewport screenshot of each case goes to artifacts/screenshots/layout/.
"""

from __future__ import annotations

import re
import urllib.request

import pytest

from dashboard.registry import ALL_VIEWS, ROOT
from tests.browser.test_browser import CHART, assert_page_ok, wait_until_idle
from tests.dashboard.colour import contrast

pytestmark = pytest.mark.browser

SIZES = {"1280x720": (1280, 720), "1400x900": (1400, 900), "390x844": (390, 844)}
CASES = [(v.url_path, s, False) for v in ALL_VIEWS for s in SIZES] + [(v.url_path, "1280x720", True) for v in ALL_VIEWS]
CASES += [("training?compare=both", "1280x720", False)]  # three runs: the narrowest columns
SHOTS = ROOT / "artifacts" / "screenshots" / "layout"
MIN_CONTRAST = 4.5
PRESENTER_MIN_PX = 16
TITLE_TOP_MAX = 100  # px from the top of the window to the page title: the header bar and a margin

#: records, per chart canvas, the texts of its latest full drawing with their colour and font
TEXT_HOOK = r"""
(() => {
  const texts = new WeakMap();
  window.__chartTexts = texts;
  const P = CanvasRenderingContext2D.prototype;
  const clear = P.clearRect, fill = P.fillText;
  P.clearRect = function (x, y, w, h) {
    const c = this.canvas;
    if (x <= 0 && y <= 0 && w * h * 1.1 >= c.clientWidth * c.clientHeight) texts.set(c, new Map());
    return clear.apply(this, arguments);
  };
  P.fillText = function (text) {
    const c = this.canvas;
    if (!texts.has(c)) texts.set(c, new Map());
    if (this.globalAlpha > 0) {  // Vega lays out overlapping axis labels, then draws them invisible
      const m = this.getTransform(), x = arguments[1], y = arguments[2];
      const at = [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
      const w = this.measureText(String(text)).width * Math.hypot(m.a, m.b);
      const shift = {center: 0.5, right: 1, end: 1}[this.textAlign] || 0;
      // a rotated text (a y-axis title) has no horizontal extent to check here
      const box = Math.abs(m.b) > 1e-6 ? [at[0], at[0]] : [at[0] - shift * w, at[0] + (1 - shift) * w];
      texts.get(c).set(String(text), {fill: String(this.fillStyle), alpha: this.globalAlpha, font: this.font,
                                      x0: box[0] / (window.devicePixelRatio || 1), x1: box[1] / (window.devicePixelRatio || 1)});
    }
    return fill.apply(this, arguments);
  };
})();
"""

#: per chart: its drawn surface's box, its column's width, and its texts
CHART_FACTS = """
(sel) => [...document.querySelectorAll(sel)].map(el => {
  const surf = el.querySelector('canvas, svg');
  const r = surf.getBoundingClientRect();
  const col = el.closest('[data-testid="stColumn"]')
    || document.querySelector('[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"]');
  let texts = [];
  if (surf.tagName.toLowerCase() === 'canvas') {
    const m = window.__chartTexts.get(surf);
    texts = m ? [...m.entries()].map(([t, v]) => ({text: t, ...v})) : [];
  } else {
    texts = [...surf.querySelectorAll('text')].map(t => {
      const s = getComputedStyle(t), b = t.getBoundingClientRect();
      return {text: t.textContent, fill: s.fill, alpha: Number(s.opacity), font: s.fontSize + ' x',
              x0: b.left - r.left, x1: b.right - r.left};
    });
  }
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
          column: col ? col.getBoundingClientRect().width : window.innerWidth, texts};
})
"""


def _rgb(css: str, alpha: float = 1.0) -> str:
    """A canvas or CSS colour as '#rrggbb', blended onto white when translucent."""
    if css.startswith("#") and len(css) == 7:
        r, g, b = (int(css[i:i + 2], 16) for i in (1, 3, 5))
        a = 1.0
    else:
        parts = [float(x) for x in re.findall(r"[\d.]+", css)]
        r, g, b = parts[:3]
        a = parts[3] if len(parts) > 3 else 1.0
    a *= alpha
    return "#" + "".join(f"{round(255 - (255 - v) * a):02x}" for v in (r, g, b))


def _open(browser, server, path: str, size: str, presenter: bool):
    w, h = SIZES[size]
    context = browser.new_context(viewport={"width": w, "height": h}, device_scale_factor=1)
    context.add_init_script(TEXT_HOOK)
    page = context.new_page()
    page.set_default_timeout(120_000)
    query = ("&" if "?" in path else "?") + "presenter=1" if presenter else ""
    page.goto(f"{server}/{path}{query}", wait_until="domcontentloaded")
    wait_until_idle(page)
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    return context, page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _sidebar_open(page) -> bool:
    """Whether the sidebar is shown: Streamlit's own state, and where it is drawn."""
    box = page.locator('[data-testid="stSidebar"]').bounding_box()
    shown = box is not None and box["x"] + box["width"] > 10 and box["width"] > 10
    return page.get_attribute('[data-testid="stSidebar"]', "data-collapsed") == "false" and shown


def _main_width(page) -> float:
    return page.evaluate("""() => document.querySelector('[data-testid="stMainBlockContainer"] > '
                         + '[data-testid="stVerticalBlock"]').getBoundingClientRect().width""")


def _check_charts(page, what: str, *, presenter: bool) -> list[dict]:
    charts = page.evaluate(CHART_FACTS, CHART)
    vw = page.viewport_size["width"]
    for i, c in enumerate(charts):
        name = f"{what}: chart {i} ({(c['texts'] or [{'text': '?'}])[0]['text']!r})"
        assert c["width"] <= c["column"] + 1, f"{name} is {c['width']:.0f} px wide in a {c['column']:.0f} px column"
        assert c["left"] >= -1 and c["right"] <= vw + 1, f"{name} runs off the screen ({c['left']:.0f}-{c['right']:.0f})"
        assert c["texts"], f"{name}: no text was drawn (the text hook saw nothing)"
        for t in c["texts"]:
            assert "…" not in t["text"], f"{name}: text cut short: {t['text']!r}"
            if not t["alpha"]:  # Vega hides overlapping axis labels by drawing them transparent
                continue
            # a text's box is its em box, a little wider than its glyphs: 3 px of slack
            assert t["x0"] >= -3 and t["x1"] <= c["width"] + 3, \
                f"{name}: {t['text']!r} drawn at x {t['x0']:.0f}..{t['x1']:.0f}, outside the chart (0..{c['width']:.0f})"
            colour = _rgb(t["fill"], t["alpha"])
            ratio = contrast(colour, "#ffffff")
            assert ratio >= MIN_CONTRAST, f"{name}: {t['text']!r} in {colour}: contrast {ratio:.2f}:1"
            px = float(re.search(r"([\d.]+)px", t["font"]).group(1))
            if presenter:
                assert px >= PRESENTER_MIN_PX, f"{name}: {t['text']!r} drawn at {px:g} px in presenter mode"
    return charts


@pytest.mark.parametrize(("view", "size", "presenter"), CASES,
                         ids=[f"{v or 'home'}-{s}{'-presenter' if p else ''}" for v, s, p in CASES])
def test_charts_fit_their_columns_with_uncut_readable_text(browser, server, view, size, presenter):
    what = f"/{view} at {size}{' (presenter)' if presenter else ''}"
    context, page = _open(browser, server, view, size, presenter)
    try:
        _shot(page, f"{re.sub(r'[?=&]', '-', view) or 'home'}-{'presenter' if presenter else size}")
        assert_page_ok(page, what)
        charts = _check_charts(page, what, presenter=presenter)
        title_top = page.locator('[data-testid="stMain"] h1').first.bounding_box()["y"]
        assert title_top <= TITLE_TOP_MAX, f"{what}: the title starts {title_top:.0f} px down"
        if size == "390x844" or presenter:
            assert not _sidebar_open(page), f"{what}: the sidebar opens over the page"
        if size == "390x844":
            groups = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] '
                + '[data-testid="stButtonGroup"]')].map(g => [g.scrollWidth, g.clientWidth,
                g.getBoundingClientRect().right])""")
            for scroll, client, right in groups:
                assert scroll <= client + 1 and right <= 391, f"{what}: a segmented control overflows"
        if presenter and view == "activations":  # every chart there is one to a row
            full = _main_width(page)
            assert charts and all(c["width"] >= 0.9 * full for c in charts), \
                f"{what}: charts {[round(c['width']) for c in charts]} px in a {full:.0f} px page"
    finally:
        context.close()


#: the lessons, by view: their key chart (the first the view draws) must be on the first screen
KEY_CHART_LESSONS = ["valley", "deep_sigmoid", "bad_init", "train_eval"]


@pytest.mark.parametrize("lesson", KEY_CHART_LESSONS)
def test_presenter_mode_shows_the_lessons_key_chart_on_the_first_screen(browser, server, lesson):
    context, page = _open(browser, server, f"?lesson={lesson}&predict=0", "1280x720", True)
    try:
        _shot(page, f"lesson-{lesson}-presenter")
        assert not _sidebar_open(page), "presenter mode leaves the sidebar open"
        first = page.locator(CHART).first.locator("canvas, svg").first.bounding_box()
        assert first["y"] + 0.5 * first["height"] <= 720, \
            f"{lesson}: the key chart starts at {first['y']:.0f} px ({first['height']:.0f} px tall): below the fold"
        buttons = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] button')]
            .filter(b => b.querySelector('[data-testid="stIconMaterial"]') && b.offsetWidth)
            .map(b => { const r = b.getBoundingClientRect(),
                        i = b.querySelector('[data-testid="stIconMaterial"]').getBoundingClientRect();
                        return [i.left - r.left, r.right - i.right]; })""")
        for left, right in buttons:  # an icon button's icon lies whole inside the button
            assert left >= 0 and right >= 0, f"{lesson}: an icon is clipped by its button ({left:.0f}, {right:.0f})"
    finally:
        context.close()


def test_training_shows_its_curves_and_decision_boundaries_on_one_screen(browser, server):
    context, page = _open(browser, server, "training", "1400x900", False)
    try:
        boxes = [c.locator("canvas, svg").first.bounding_box() for c in page.locator(CHART).all()[:3]]
        assert len(boxes) == 3, "expected the loss and two decision boundaries first"
        for b in boxes:
            assert b["y"] >= 0 and b["y"] + b["height"] <= 900, f"a chart is off the first screen: {b}"
        assert len({round(b["y"] / 40) for b in boxes}) == 1, f"the loss and the boundaries are not in one row: {boxes}"
    finally:
        context.close()


def test_the_presenter_switch_collapses_the_sidebar_and_the_favicon_is_served_by_the_app(browser, server):
    context, page = _open(browser, server, "training", "1400x900", False)
    try:
        assert _sidebar_open(page), "the sidebar should start open on a wide screen"
        href = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]').href")
        assert href.startswith(server), f"the favicon comes from {href}, not from the app"
        with urllib.request.urlopen(href, timeout=10) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("image/")
        page.locator('[data-testid="stSidebar"]').get_by_text("Presenter mode").click()
        page.wait_for_function("() => window.location.href.includes('presenter=1')", timeout=60_000)
        wait_until_idle(page)
        page.wait_for_timeout(500)
        assert not _sidebar_open(page), "turning presenter mode on leaves the sidebar open"
    finally:
        context.close()
