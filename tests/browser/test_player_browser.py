"""The step player in a real Chromium: buttons named for screen readers, driven from the keyboard,
whole (not clipped) in presenter mode at 1280x720, one compact row on a phone; a saved chart's file
is named after its page and chart."""

from __future__ import annotations

import pytest

from tests.browser.test_browser import assert_page_ok, wait_until_idle

pytestmark = pytest.mark.browser

NAMES = ("First step", "Previous step", "Play", "Next step", "Last step")
RANGE = '[data-testid="stMain"] input[type="range"]'


def _open(browser, server, path: str, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/{path}", wait_until="domcontentloaded")
    wait_until_idle(page)
    return context, page


def _step(page) -> str:
    return page.locator(RANGE).first.get_attribute("aria-valuetext")


def _press(page, key: str) -> str:
    before = page.url
    page.keyboard.press(key)
    page.wait_for_function("(url) => window.location.href !== url", arg=before, timeout=60_000)
    wait_until_idle(page)
    return _step(page)


def test_player_buttons_are_named_and_space_and_the_arrows_drive_them(page, server):
    page.goto(f"{server}/training", wait_until="domcontentloaded")
    wait_until_idle(page)
    for name in NAMES:
        assert page.get_by_role("button", name=name).count() == 1, f"no button named {name!r}"
    for icon in ("first_page", "chevron_left", "play_arrow"):
        assert page.get_by_role("button", name=icon).count() == 0, f"a button is still announced as {icon!r}"
    last = _step(page)
    page.locator('[data-testid="stMain"] h1').first.click()  # focus on the page, not on a widget
    earlier = _press(page, "ArrowLeft")
    assert int(earlier.replace(",", "")) < int(last.replace(",", ""))
    assert _press(page, "ArrowRight") == last
    assert _press(page, "Home") == "0"
    page.keyboard.press("Space")
    page.get_by_role("button", name="Pause").wait_for(timeout=60_000)
    page.keyboard.press("Space")
    page.get_by_role("button", name="Play").wait_for(timeout=60_000)
    wait_until_idle(page)
    assert_page_ok(page, "training after the keyboard drove the player")


def test_presenter_mode_at_1280x720_shows_every_player_icon_whole(browser, server):
    context, page = _open(browser, server, "training?presenter=1", 1280, 720)
    try:
        for name in NAMES:
            button = page.get_by_role("button", name=name)
            box = button.bounding_box()
            icon = button.locator('[data-testid="stIconMaterial"]').first.bounding_box()
            assert box and icon and icon["width"] >= 12, f"{name}: no icon drawn"
            assert box["x"] <= icon["x"] and icon["x"] + icon["width"] <= box["x"] + box["width"] + 0.5, name
            sizes = button.evaluate("e => [e.scrollWidth, e.clientWidth]")
            assert sizes[0] <= sizes[1] + 1, f"{name}: its content overflows the button ({sizes})"
        assert_page_ok(page, "training in presenter mode")
    finally:
        context.close()


def test_on_a_phone_the_player_takes_two_rows_and_the_curve_buttons_one_more(browser, server):
    """The slider, then the player's buttons on one row; Training's Curves and Pin buttons, which share
    the bar on a wide screen, wrap to a row of their own on a phone, never between the player's."""
    context, page = _open(browser, server, "training", 390, 844)
    try:
        slider = page.locator('[data-testid="stMain"] [data-testid="stSlider"]').first.bounding_box()
        bar = page.locator(".st-key-train_step_bar").bounding_box()
        button = page.get_by_role("button", name="Play").bounding_box()
        rows = {round(page.get_by_role("button", name=n).bounding_box()["y"]) for n in NAMES}
        assert max(rows) - min(rows) <= 2, f"the player's buttons wrap: rows at {sorted(rows)}"
        below = [page.get_by_role("button", name=n).bounding_box()["y"] for n in ("Raw · log", "Pin")]
        assert all(y > button["y"] + button["height"] - 1 for y in below), "a curve button shares the player's row"
        assert bar["height"] < 2.6 * button["height"], f"the bar takes more than two rows: {bar['height']:.0f} px"
        assert button["y"] - slider["y"] < 2.5 * button["height"], "the buttons are not right under the slider"
    finally:
        context.close()


def test_a_saved_chart_is_named_after_the_page_and_the_chart(page, server):
    page.goto(f"{server}/training", wait_until="domcontentloaded")
    wait_until_idle(page)
    save = page.get_by_role("button", name="Save chart").first
    save.evaluate("e => e.scrollIntoView({block: 'center'})")  # out from under the sticky header
    save.click()
    png = page.locator('[data-testid="stPopoverBody"]').get_by_role("button", name="PNG").first
    png.wait_for(state="visible")
    with page.expect_download(timeout=60_000) as download:
        png.click()
    assert download.value.suggested_filename == "training-loss.png"
