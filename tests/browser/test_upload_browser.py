"""A CSV file uploaded through the real page (Playwright's set_input_files on Streamlit's uploader):
the charts are drawn from it, its notice is shown, its names stay text; a malformed file gets one
error and the built-in charts stay."""

from __future__ import annotations

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
