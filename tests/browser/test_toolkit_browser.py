"""A teacher's trimmed lesson in a real Chromium: hide= removes the controls from the drawn sidebar,
the lesson's question shows with no chart, a click on an answer draws the charts and the verdict;
momentum on the landscape draws both surfaces with their paths."""

from __future__ import annotations

import pytest

from tests.browser.test_browser import CHART, EXCEPTION, wait_until_idle

pytestmark = pytest.mark.browser


def _labels(page) -> list[str]:
    return page.eval_on_selector_all('[data-testid="stSidebar"] [data-testid="stWidgetLabel"]',
                                     "els => els.map(e => e.innerText.trim())")


def test_a_trimmed_lesson_link_hides_its_controls_asks_first_and_reveals_on_an_answer(page, server,
                                                                                     save_screenshot):
    page.goto(f"{server}/landscape?lesson=valley&hide=lr_scale,steps,export")
    wait_until_idle(page)
    labels = _labels(page)
    assert not [x for x in labels if x.startswith("Learning rate") or x == "Steps"], labels
    assert any(x.startswith("Start: weight of A") for x in labels), labels
    assert page.get_by_text("Predict first:").count() == 1
    assert page.locator(CHART).count() == 0, "a chart is drawn before the answer"
    assert "hide=" in page.url and "lesson=valley" in page.url
    save_screenshot(page, "lesson-valley-question")
    page.get_by_text("100 times as many or more").click()
    wait_until_idle(page)
    assert page.locator(CHART).count() >= 3
    assert page.get_by_text("You predicted:").count() == 1
    assert page.locator(EXCEPTION).count() == 0
    assert "hide=" in page.url, "the address lost hide= after the answer"
    save_screenshot(page, "lesson-valley-revealed")


def test_momentum_on_the_landscape_draws_and_reads_cleanly(page, server, save_screenshot):
    page.goto(f"{server}/landscape?optimizer=momentum&beta=0.9")
    wait_until_idle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(CHART).count() == 4  # two surfaces, the rate chart, the loss curves
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "heavy-ball momentum" in text and "nan" not in text.lower()
    save_screenshot(page, "landscape-momentum")


def test_hovering_the_loss_curves_shows_every_curves_value_and_the_curves_button_opens_its_controls(
        page, server, save_screenshot):
    page.goto(f"{server}/training?epochs=3&seeds=1&batch_size=4")
    wait_until_idle(page)
    chart = page.locator(CHART).first
    box = chart.bounding_box()
    tooltip = page.locator("#vg-tooltip-element")
    for frac in (0.5, 0.55, 0.6):  # the rule follows the pointer to the nearest recorded step
        page.mouse.move(box["x"] + box["width"] * frac, box["y"] + box["height"] * 0.55)
        page.wait_for_timeout(400)
        if tooltip.count() and tooltip.is_visible():
            break
    text = tooltip.inner_text()
    for name in ("no normalization, training", "no normalization, validation", "batch norm, training",
                 "batch norm, validation", "step"):
        assert name in text, f"the hover's tooltip lacks {name!r}: {text!r}"
    save_screenshot(page, "training-hover")
    page.mouse.move(1, 1)
    page.get_by_role("button", name="Smoothed 0.8 · log").click()
    popover = page.locator('[data-testid="stPopoverBody"]')
    popover.wait_for()
    assert "Smoothing" in popover.inner_text() and "Log scale for the loss" in popover.inner_text()
    assert page.locator(EXCEPTION).count() == 0


def test_moving_the_why_views_smoothing_redraws_its_curves_at_the_new_weight(page, server):
    """The Why curves hold every weight and a param picks one: the browser must redraw the chart when
    only the param changes, and the same weight must give the same picture again."""
    page.goto(f"{server}/why?smooth=0.9&seeds=1&epochs=4")
    wait_until_idle(page)
    chart = page.locator(CHART).first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    before = chart.screenshot()

    def move(key: str) -> None:
        page.get_by_role("button", name="Smoothed").first.click()
        slider = page.locator('[data-testid="stPopoverBody"]').get_by_role("slider")
        slider.wait_for()
        slider.focus()
        page.keyboard.press(key)
        wait_until_idle(page)
        page.keyboard.press("Escape")
        chart.scroll_into_view_if_needed()
        page.wait_for_timeout(800)

    move("ArrowLeft")  # 0.9 -> 0.8
    assert "smooth=0.8" in page.url and page.locator(EXCEPTION).count() == 0
    assert chart.screenshot() != before, "the chart was not redrawn at the new weight"
    move("ArrowRight")  # back to 0.9
    assert "smooth=0.9" in page.url and page.locator(EXCEPTION).count() == 0
    assert chart.screenshot() == before, "the same weight should draw the same picture"
