"""The dashboard served on localhost and a headless Debian Chromium driving it (Playwright, sync API).

The server is ``streamlit run dashboard/app.py`` on a free port, started once
per session and stopped at the end. Chromium is Debian's ``/usr/bin/chromium``
(Playwright's own browser download is not used); when it is missing the
browser tests fail with a message saying how to install it, they never skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT = 90  # seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


@pytest.fixture(scope="session")
def server():
    """Base URL of a freshly started dashboard; its log is printed if it does not come up."""
    port = _free_port()
    url = f"http://localhost:{port}"
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
           "--server.headless", "true", "--server.port", str(port), "--server.address", "localhost",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                text = Path(log.name).read_text(errors="replace")[-4000:]
                pytest.fail(f"the dashboard did not start on {url} (exit code {proc.poll()}):\n{text}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        server_log = Path(log.name)
        if server_log.exists():
            server_log.unlink()


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium was not found at {CHROMIUM}. The browser tests need it: "
            "install Debian's package (`sudo apt-get install -y chromium`) or point the CHROMIUM "
            "environment variable at a Chromium binary. (scripts/test.sh installs it.)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dirs():
    """(artifacts/screenshots, docs/screenshots or None): the second only with UPDATE_SCREENSHOTS=1."""
    out = ROOT / "artifacts" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    docs = None
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        docs = ROOT / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
    return out, docs


@pytest.fixture()
def save_screenshot(screenshot_dirs):
    """save_screenshot(page, name): a full-page PNG in artifacts/screenshots (and docs/ on request)."""
    out, docs = screenshot_dirs

    def save(page, name: str) -> Path:
        path = out / f"{name}.png"
        # Streamlit scrolls inside its main container, not the document: grow the viewport to the
        # content's height so that a "full page" screenshot really holds the whole page
        height = page.evaluate(
            """() => Math.max(document.documentElement.scrollHeight,
                ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"],'
                     + ' [data-testid="stSidebarContent"]')].map(e => e.scrollHeight))""")
        size = page.viewport_size
        if height > size["height"]:
            page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 16_000)})
            page.wait_for_timeout(300)  # let the layout and the charts follow the new size
        page.screenshot(path=str(path), full_page=True)
        page.set_viewport_size(size)
        if docs is not None:
            shutil.copyfile(path, docs / path.name)
        return path

    return save
