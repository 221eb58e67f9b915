"""A CSV file uploaded through the real page (Playwright's set_input_files on Streamlit's uploader):
the charts are drawn from it, its notice is shown, its names stay text; a malformed file gets one
error and the built-in charts stay."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.test_browser import CHART, assert_page_ok, wait_until_idle
from tests.core.test_tabular import grid

pytestmark = pytest.mark.browser

INPUT = '[data-testid="stSidebar"] input[type="file"]'
OWN = grid("<b>size</b>,price,label", "{j}00,{i}.5,{k}") + b"3100,7.25,1\n"


def upload(page, name: str, data: bytes) -> None:
    page.locator(INPUT).set_input_files(files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    page.wait_for_timeout(500)  # the upload, then the rerun it starts
    wait_until_idle(page)


def open_data_section(page, view: str) -> None:
    if view == "landscape":  # its data section is an expander
        page.locator('[data-testid="stSidebar"] summary', has_text="Data").first.click()
        page.locator(INPUT).wait_for(state="attached")


@pytest.mark.parametrize("view", ["standardization", "landscape"])
def test_a_file_uploaded_through_the_page_draws_its_charts(page, server, view, save_screenshot):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/{view}", wait_until="domcontentloaded")
    wait_until_idle(page)
    open_data_section(page, view)
    upload(page, "<i>mine</i>.csv", OWN)
    save_screenshot(page, f"{view}-upload")
    assert_page_ok(page, f"{view} with a file")
    main = page.inner_text('[data-testid="stMain"]')
    assert "Your file <i>mine</i>.csv" in main  # the file's name shown as text, not as markup
    assert page.locator('[data-testid="stMain"] i', has_text="mine").count() == 0
    assert page.locator(CHART).count() > 0
    assert not errors, errors


def test_a_malformed_file_through_the_page_gets_one_error_and_the_charts_stay(page, server):
    page.goto(f"{server}/standardization", wait_until="domcontentloaded")
    wait_until_idle(page)
    charts = page.locator(CHART).count()
    upload(page, "bad.csv", b"1,2,3\n" * 20)
    assert_page_ok(page, "standardization with a bad file")
    sidebar = page.inner_text('[data-testid="stSidebar"]')
    assert "cannot be used" in sidebar and "no header" in sidebar
    assert page.locator(CHART).count() == charts


def test_a_file_uploaded_on_training_trains_the_networks_and_draws_its_decision_boundary(page, server):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/training?seeds=1&epochs=3&depth=2&width=8", wait_until="domcontentloaded")
    wait_until_idle(page)
    address = page.url
    upload(page, "<i>mine</i>.csv", OWN)  # two numeric features (size, price) and three classes
    assert_page_ok(page, "training with a file")
    main = page.inner_text('[data-testid="stMain"]')
    assert "Your file <i>mine</i>.csv" in main and "Classification of label (3 classes)" in main
    assert page.locator('[data-testid="stMain"] i', has_text="mine").count() == 0
    assert page.locator(CHART).count() >= 3  # the loss, the accuracy and the boundaries
    def settings(url: str) -> dict:  # the address's settings, but the player's step (another data size)
        return {k: v for k, v in parse_qs(urlsplit(url).query).items() if k != "train_step"}

    assert settings(page.url) == settings(address) and settings(page.url)["dataset"] == ["moons"]
    assert not errors, errors
