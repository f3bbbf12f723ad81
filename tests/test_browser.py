"""The built book as a reader meets it, in headless Chromium (Debian's chromium and chromium-driver).

Every page of a clean build is served on 127.0.0.1 and loaded in the browser: no console
errors, every image loaded and described, every internal link and anchor resolves, every
glued number is resolved, and code is hidden until the reader opens it. Layout (tables,
figures, glued values) and accessibility (axe-core) at a desktop and a phone width are in
``test_browser_layout.py``; the site and the browser are set up in ``browser_site.py``.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests import browser_site
from tests.browser_site import pages

# the shared fixtures: the served site and the browser
browser, site, site_html = browser_site.browser, browser_site.site, browser_site.site_html

pytestmark = pytest.mark.browser


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def parse(path: Path) -> _Anchors:
    p = _Anchors()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_every_page_is_covered(site):
    found = pages(site["html"])
    assert {"chapters/intro.html", "chapters/prisma.html", "chapters/efficacy.html"} <= set(found)
    assert len(found) >= 9


def test_pages_load_without_console_errors_and_images_load_with_alt_text(site, browser):
    problems = []
    for page in pages(site["html"]):
        browser.get(site["base"] + page)
        state = browser.execute_script("return document.readyState")
        images = browser.execute_script(
            "return Array.from(document.images)"
            ".map(i => [i.currentSrc || i.src, i.complete && i.naturalWidth > 0, i.alt]);"
        )
        for src, loaded, alt in images:
            if not loaded:
                problems.append(f"{page}: image did not load: {src}")
            if not (alt or "").strip():
                problems.append(f"{page}: image without alt text: {src}")
        assert state == "complete", page
    assert not problems, "\n".join(problems)


def test_no_console_errors(site, browser):
    errors = []
    for page in pages(site["html"]):
        browser.get(site["base"] + page)
        browser.execute_script("return document.readyState")
        for entry in browser.get_log("browser"):
            if entry["level"] == "SEVERE":
                errors.append(f"{page}: {entry['message']}")
    assert not errors, "\n".join(errors)


def test_internal_links_and_anchors_resolve(site):
    html_dir = site["html"]
    parsed = {page: parse(html_dir / page) for page in pages(html_dir)}
    broken = []
    for page, anchors in parsed.items():
        for href in anchors.links:
            url = urllib.parse.urlparse(href)
            if url.scheme or href.startswith("mailto:") or href.startswith("//"):
                continue  # external
            target_path, fragment = url.path, url.fragment
            target = (html_dir / page).parent / target_path if target_path else html_dir / page
            target = target.resolve()
            if not target.exists():
                broken.append(f"{page}: {href} (no file)")
                continue
            if fragment and target.suffix == ".html":
                ids = parse(target).ids if target_path else anchors.ids
                if fragment not in ids:
                    broken.append(f"{page}: {href} (no anchor #{fragment})")
    assert not broken, "\n".join(broken)
    with urllib.request.urlopen(site["base"] + "chapters/efficacy.html") as r:
        assert r.status == 200


def test_glued_numbers_are_resolved_and_references_numbered(site, browser):
    for page in pages(site["html"]):
        browser.get(site["base"] + page)
        text = browser.find_element(By.TAG_NAME, "main").text
        assert "{glue" not in text and "glue:" not in text, page
        assert not re.search(r"\b(Fig|Table)\. \?\?", text), page
        assert "<IPython.core.display" not in text, page
    browser.get(site["base"] + "chapters/intro.html")
    assert "retrieved 1,018 records" in browser.find_element(By.TAG_NAME, "main").text


def test_code_is_hidden_by_default_and_opens_on_click(site, browser):
    browser.get(site["base"] + "chapters/prisma.html")
    toggles = browser.find_elements(By.CSS_SELECTOR, "div.cell.tag_hide-input details")
    assert toggles, "code cells are wrapped in a toggle"
    code = toggles[0].find_element(By.CSS_SELECTOR, "div.cell_input")
    assert not code.is_displayed() and toggles[0].get_attribute("open") is None
    summary = toggles[0].find_element(By.TAG_NAME, "summary")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", summary)
    summary.click()
    WebDriverWait(browser, 5).until(lambda _: code.is_displayed())
    assert toggles[0].get_attribute("open") is not None
