"""The built site served on 127.0.0.1 and a headless Chromium, shared by the browser test modules.

The site is the session's clean, strict build (``conftest.py``'s ``clean_book``). To check a
site already built, without building the book again (a quicker loop while working on the
styles), point ``IL2_BROWSER_SITE`` at its HTML folder, e.g.
``IL2_BROWSER_SITE=book/_build/html pytest tests/test_browser.py tests/test_browser_layout.py``.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import threading
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SITE_ENV_VAR = "IL2_BROWSER_SITE"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports what matters
        pass


if os.environ.get(SITE_ENV_VAR):

    @pytest.fixture(scope="module")
    def site_html() -> Path:
        html = Path(os.environ[SITE_ENV_VAR]).resolve()
        assert (html / "index.html").is_file(), f"{SITE_ENV_VAR}={html}: no built site there"
        return html

else:

    @pytest.fixture(scope="module")
    def site_html(clean_book) -> Path:
        assert clean_book.result.returncode == 0, clean_book.log[-2000:]
        return clean_book.html


@pytest.fixture(scope="module")
def site(site_html):
    handler = functools.partial(_Quiet, directory=str(site_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{server.server_address[1]}/", "html": site_html}
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=subprocess.DEVNULL), options=options)
    yield driver
    driver.quit()


def pages(html_dir: Path) -> list[str]:
    """Every page of the book (not the generated index and search pages)."""
    skip = {"genindex.html", "search.html"}
    return sorted(
        str(p.relative_to(html_dir))
        for p in html_dir.rglob("*.html")
        if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts
    )
