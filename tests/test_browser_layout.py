"""Every page at a desktop width (1280 px) and a phone width (390 px), measured in headless Chromium.

* Nothing is clipped: no element is wider than the viewport, and an element that sticks out
  of a box does so only inside a box that scrolls sideways and shows that it does (the hint
  and the faded edge of ``_static/layout.js``); the page itself never scrolls sideways.
* Every table's caption is left-aligned and fully visible, also once its table is scrolled
  to the far end.
* Glued values read as text: no glued value in the prose is set as code, no number in a
  paragraph is set as code, and no ``{glue`` markup or other MyST role (a ``{cite:p}`` inside a
  value glued as plain text) is left in the text.
* Figures: each image links to its full-size file, and one drawn well below its natural
  size says so (a reader on a phone can open it and zoom). At 1280 px every figure is shown
  at its natural width or at least as wide as the column width that the legibility test
  (``tests/test_figure_legibility.py``) assumes.
* Accessibility: axe-core (pinned in ``tests/axe/package.json``, installed from the npm
  registry with ``npm ci`` on first use) finds no critical or serious violation of WCAG 2.1
  A/AA.

Each page is loaded once per width; every measurement is taken on that load.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import browser_site
from tests.browser_site import pages
from tests.test_figure_legibility import HTML_COLUMN_CSS_PX

# the shared fixtures: the served site and the browser
browser, site, site_html = browser_site.browser, browser_site.site, browser_site.site_html

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}
HEIGHT = 900
AXE_DIR = Path(__file__).parent / "axe"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_FAILING_IMPACTS = {"critical", "serious"}
SCRIPT_TIMEOUT = 300  # seconds; axe-core takes a few seconds on the longest pages


def axe_version() -> str:
    return json.loads((AXE_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]["axe-core"]


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle at the pinned version, installed with ``npm ci`` if missing."""
    bundle = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    installed = AXE_DIR / "node_modules" / "axe-core" / "package.json"

    def current() -> bool:
        return installed.is_file() and json.loads(installed.read_text(encoding="utf-8"))["version"] == axe_version()

    if not (bundle.is_file() and current()):
        npm = shutil.which("npm")
        assert npm, "npm is needed to install axe-core for the accessibility test (.ci/system-deps installs it)"
        cmd = [npm, "ci", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", "--loglevel=error"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"
    assert bundle.is_file() and current(), f"axe-core {axe_version()} is not in {AXE_DIR / 'node_modules'}"
    return bundle.read_text(encoding="utf-8")


# Waits until the page has settled (math typeset, fonts and images loaded), then recomputes
# the scroll cues (layout.js) so that what is measured is what the reader sees.
SETTLE = """
const done = arguments[arguments.length - 1];
const mathjax = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
const images = Array.from(document.images).filter(i => !i.complete)
  .map(i => new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); }));
Promise.all([mathjax, document.fonts && document.fonts.ready, ...images]).then(() => {
  if (window.il2Layout) window.il2Layout.refresh();
  requestAnimationFrame(() => requestAnimationFrame(() => done(document.documentElement.dataset.layoutCues || '')));
});
"""

# Everything measured on a page, as lists of problems (strings) by check.
MEASURE = r"""
const vw = document.documentElement.clientWidth;
const out = {overflow: [], captions: [], glue: [], figures: [], figure_sizes: [], glued: 0, tables: 0};
const name = (el) => {
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  else if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).slice(0, 2).join('.');
  const text = (el.textContent || '').replace(/\s+/g, ' ').trim();
  return text ? `${s} "${text.slice(0, 70)}"` : s;
};
const shown = (el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
};
// a box that scrolls sideways and shows it: the hint above it is visible and its far edge fades
const cued = (box) => {
  const hint = box.previousElementSibling;
  const mask = getComputedStyle(box).maskImage || getComputedStyle(box).webkitMaskImage || 'none';
  return box.classList.contains('scrolls-x') && hint && hint.classList.contains('scroll-hint') && shown(hint)
    && (box.scrollLeft > 0 || mask !== 'none');
};
// the nearest ancestor that clips or scrolls horizontally: clipFor(x) is x itself if it does,
// else clipFor(its parent) (memoised)
const clipper = new Map();
const clipFor = (x) => {
  const chain = [];
  let found = null;
  for (let a = x; a && a !== document.body; a = a.parentElement) {
    if (clipper.has(a)) { found = clipper.get(a); break; }
    chain.push(a);
    if (getComputedStyle(a).overflowX !== 'visible') { found = a; break; }
  }
  for (const c of chain) clipper.set(c, found);
  return found;
};
const clipOf = (el) => clipFor(el.parentElement);
const tiny = (el) => { for (let a = el; a && a !== document.body; a = a.parentElement) {
  const r = a.getBoundingClientRect(); if (r.width <= 1 || r.height <= 1) return true; } return false; };

// 1. nothing sticks out of the viewport or of a box, unless the box scrolls and shows it
const docWidth = document.documentElement.scrollWidth;
if (docWidth > vw + 1) out.overflow.push(`the page scrolls sideways: ${docWidth} px wide in a ${vw} px viewport`);
for (const el of document.body.querySelectorAll('*')) {
  if (!shown(el)) continue;
  const r = el.getBoundingClientRect();
  const box = clipOf(el);
  if (box) {
    const b = box.getBoundingClientRect();
    const left = b.left + box.clientLeft, right = left + box.clientWidth;
    if (r.left >= left - 1 && r.right <= right + 1) continue;
    if (tiny(el)) continue;  // visually hidden text (1 px boxes)
    const style = getComputedStyle(box).overflowX;
    if ((style === 'auto' || style === 'scroll') && box.scrollWidth > box.clientWidth) {
      if (!cued(box)) out.overflow.push(`${name(box)} scrolls sideways without a visible cue (${box.scrollWidth} px in ${box.clientWidth} px)`);
    } else {
      out.overflow.push(`${name(el)} is clipped by ${name(box).slice(0, 60)} (${Math.round(r.left)}..${Math.round(r.right)} px in ${Math.round(left)}..${Math.round(right)} px)`);
    }
  } else if ((r.right > vw + 1 || r.left < -1) && !tiny(el)) {
    out.overflow.push(`${name(el)} is outside the ${vw} px viewport (${Math.round(r.left)}..${Math.round(r.right)} px)`);
  }
}
// a box that clips (overflow hidden or clip) may not have more content than it shows
for (const box of new Set(clipper.values())) {
  if (!box || !shown(box) || tiny(box)) continue;
  const style = getComputedStyle(box).overflowX;
  if ((style === 'hidden' || style === 'clip') && box.scrollWidth > box.clientWidth + 1)
    out.overflow.push(`${name(box)} clips its content (${box.scrollWidth} px in ${box.clientWidth} px)`);
}
out.overflow = Array.from(new Set(out.overflow));

// 2. table captions: left-aligned and fully visible, at the start and at the far end of the table
for (const table of document.querySelectorAll('.bd-article table')) {
  const caption = table.querySelector(':scope > caption');
  if (!caption || !shown(caption)) continue;
  out.tables += 1;
  const box = table.closest('.pst-scrollable-table-container');
  const align = getComputedStyle(caption).textAlign;
  if (align !== 'left' && align !== 'start') out.captions.push(`${name(caption)}: aligned ${align}`);
  const check = (where) => {
    const c = caption.getBoundingClientRect();
    let left = 0, right = vw;
    if (box) { const b = box.getBoundingClientRect(); left = Math.max(left, b.left); right = Math.min(right, b.left + box.clientWidth); }
    if (c.left < left - 1 || c.right > right + 1 || caption.scrollWidth > caption.clientWidth + 1)
      out.captions.push(`${name(caption)} ${where}: ${Math.round(c.left)}..${Math.round(c.right)} px, visible ${Math.round(left)}..${Math.round(right)} px`);
  };
  check('at the start');
  if (box && box.scrollWidth > box.clientWidth) {
    box.scrollLeft = box.scrollWidth;
    check('scrolled to the end');
    box.scrollLeft = 0;
  }
}

// 3. glued values read as text
const MONO = /mono|courier|consolas|menlo/i;
for (const g of document.querySelectorAll('.bd-article span.output.text_plain, .bd-article span.pasted-text')) {
  out.glued += 1;
  if (g.closest('pre, div.cell_output, div.output')) continue;  // a cell's own output block, not prose
  const font = getComputedStyle(g).fontFamily;
  if (g.closest('code, kbd, samp, tt') || g.querySelector('code, kbd, samp, tt, pre') || MONO.test(font))
    out.glue.push(`glued value set as code: ${name(g)} (font ${font.slice(0, 40)})`);
}
const NUMBER = /^[\s\d.,%()\u2013\u2212+\-<>=\u2264\u2265\u00d7/]*\d[\s\d.,%()\u2013\u2212+\-<>=\u2264\u2265\u00d7/]*$/;
for (const code of document.querySelectorAll('.bd-article :is(p, li, td, th, caption, figcaption, dd) code'))
  if (NUMBER.test(code.textContent)) out.glue.push(`a number set as code: ${name(code.parentElement)}`);
const text = document.querySelector('main').innerText;
for (const m of text.matchAll(/\{glue[^}]*\}[^\s]*/g)) out.glue.push(`unresolved glue markup: ${m[0].slice(0, 60)}`);
// any other MyST role left as text (e.g. a {cite:p} inside a value glued as plain text), outside code
const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  if (node.parentElement.closest('code, pre, script, style')) continue;
  for (const m of node.data.matchAll(/\{(?!glue)[a-z][\w:.-]*\}`[^`]*`/g))
    out.glue.push(`unresolved role in the text: ${m[0].slice(0, 70)} (in ${name(node.parentElement).slice(0, 80)})`);
}

// 4. figures: a link to the full-size image, and a visible offer when the image is shrunk
for (const img of document.querySelectorAll('.bd-article figure img')) {
  if (!shown(img)) continue;
  out.figure_sizes.push({src: img.getAttribute('src'), natural: img.naturalWidth,
    shown: img.getBoundingClientRect().width});
  const link = img.closest('a.figure-full-size');
  if (!link || new URL(link.href).pathname !== new URL(img.currentSrc || img.src).pathname) {
    out.figures.push(`${img.getAttribute('src')}: no link to the full-size image`);
    continue;
  }
  const shrunk = img.naturalWidth > 0 && img.clientWidth < 0.8 * img.naturalWidth;
  const offer = getComputedStyle(link, '::after').content;
  if (shrunk && (!offer || offer === 'none' || offer === 'normal'))
    out.figures.push(`${img.getAttribute('src')}: drawn at ${img.clientWidth} of ${img.naturalWidth} px without offering the full size`);
}
return out;
"""

AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
     nodes: v.nodes.map(n => n.target.join(' '))}))))
  .catch(e => done({error: String(e)}));
"""


@dataclass
class PageAudit:
    overflow: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    glue: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    figure_sizes: list[dict] = field(default_factory=list)  # each figure's src, natural and shown width (CSS px)
    axe: list[dict] = field(default_factory=list)
    glued: int = 0
    tables: int = 0


def content_pages(html_dir: Path) -> list[str]:
    """Every page but the root's redirect (index.html only forwards to the landing page)."""
    return [p for p in pages(html_dir) if 'http-equiv="Refresh"' not in (html_dir / p).read_text(encoding="utf-8")]


@pytest.fixture(scope="module")
def audits(site, browser, axe_source) -> dict[tuple[str, str], PageAudit]:
    """Every page at each width: the layout measurements and axe-core's violations."""
    browser.set_script_timeout(SCRIPT_TIMEOUT)
    results: dict[tuple[str, str], PageAudit] = {}
    try:
        for width_name, width in WIDTHS.items():
            metrics = {"width": width, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": width < 800}
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            for page in content_pages(site["html"]):
                browser.get(site["base"] + page)
                cues = browser.execute_async_script(SETTLE)
                audit = PageAudit(**browser.execute_script(MEASURE))
                if cues != "ready":
                    audit.overflow.insert(0, "the scroll cues (_static/layout.js) did not run")
                browser.execute_script(axe_source)
                violations = browser.execute_async_script(AXE_RUN, AXE_TAGS)
                if isinstance(violations, dict):  # axe-core failed: a failure, not a pass
                    violations = [{"id": "axe-error", "impact": "critical", "help": violations["error"], "nodes": []}]
                audit.axe = violations
                results[(page, width_name)] = audit
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return results


def narrower_than_the_column(sizes: list[dict], column: float = HTML_COLUMN_CSS_PX) -> list[str]:
    """Figures shown narrower than their natural width and than ``column`` (CSS px)."""
    return [
        f"{f['src']}: shown {f['shown']:.0f} px wide, natural {f['natural']} px: less than "
        f"min(natural, {column:g} px), the width tests/test_figure_legibility.py assumes"
        for f in sizes
        if f["shown"] < min(f["natural"], column) - 1
    ]


def report(audits: dict[tuple[str, str], PageAudit], attribute: str) -> str:
    lines = []
    for (page, width), audit in audits.items():
        lines += [f"{page} at {WIDTHS[width]} px: {problem}" for problem in getattr(audit, attribute)]
    return "\n".join(lines)


# A page that breaks every rule, to show that the checks find what they look for.
BROKEN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>broken</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main><div class="bd-article">
<p>Glued as code: <code class="docutils literal"><span class="output text_plain">12</span></code>; a number as code
<code class="docutils literal">3.5%</code>; unresolved {glue}`n_trials`;
<span class="output text_plain">a role glued as text {cite:p}`he2020`</span>.</p>
<div class="pst-scrollable-table-container" style="overflow-x: auto"><table>
<caption style="text-align: center">Table 1 A caption centred across the whole scroll width of its table</caption>
<tr><td style="white-space: nowrap">WIDE</td></tr></table></div>
<div style="overflow: hidden"><p style="white-space: nowrap">clipped LONG</p></div>
<figure><img alt="a figure" width="2400" height="100" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'
 width='2400' height='100'/%3E" style="max-width: 100%"></figure>
<p>https://example.org/a/very/long/address/that/does/not/wrap/and/pushes/the/page/sideways/on/a/phone</p>
<div role="list"><div role="doc-biblioentry">An entry</div></div>
<button aria-label="Toggle hidden content">Show code cell source</button>
</div></main></body></html>""".replace("WIDE", "wide cell " * 60).replace("LONG", "text " * 200)


def test_the_checks_find_what_they_look_for(browser, axe_source, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(BROKEN_PAGE, encoding="utf-8")
    browser.set_script_timeout(SCRIPT_TIMEOUT)
    metrics = {"width": WIDTHS["phone"], "height": HEIGHT, "deviceScaleFactor": 1, "mobile": True}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        browser.get(page.as_uri())
        found = PageAudit(**browser.execute_script(MEASURE))
        browser.execute_script(axe_source)
        violations = {(v["id"], v["impact"]) for v in browser.execute_async_script(AXE_RUN, AXE_TAGS)}
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    overflow = "\n".join(found.overflow)
    assert "the page scrolls sideways" in overflow
    assert "scrolls sideways without a visible cue" in overflow
    assert "clips its content" in overflow
    captions = "\n".join(found.captions)
    assert "aligned center" in captions and "at the start" in captions
    glue = "\n".join(found.glue)
    assert "glued value set as code" in glue and "a number set as code" in glue and "unresolved glue markup" in glue
    assert "unresolved role in the text: {cite:p}`he2020`" in glue
    assert any("no link to the full-size image" in f for f in found.figures)
    # the 2400 px figure fits a 390 px phone: narrower than the desktop column, but as wide as the phone allows
    (narrow,) = narrower_than_the_column(found.figure_sizes)
    assert "natural 2400 px" in narrow and found.figure_sizes[0]["shown"] < WIDTHS["phone"]
    assert narrower_than_the_column(found.figure_sizes, column=found.figure_sizes[0]["shown"]) == []
    assert ("aria-required-children", "critical") in violations
    assert ("label-content-name-mismatch", "serious") in violations


def test_every_page_is_audited_at_both_widths(site, audits):
    expected = {(page, width) for page in content_pages(site["html"]) for width in WIDTHS}
    assert set(audits) == expected
    assert {"chapters/intro.html", "references.html", "chapters/efficacy.html"} <= {page for page, _ in audits}
    # the checks below have something to check: tables with captions, glued values
    assert all(audits[("chapters/prisma.html", w)].tables >= 3 for w in WIDTHS)
    assert all(audits[("chapters/intro.html", w)].glued >= 3 for w in WIDTHS)


def test_nothing_is_clipped_and_wide_boxes_show_that_they_scroll(audits):
    if problems := report(audits, "overflow"):
        pytest.fail(problems, pytrace=False)


def test_every_table_caption_is_left_aligned_and_in_view(audits):
    if problems := report(audits, "captions"):
        pytest.fail(problems, pytrace=False)


def test_glued_values_are_plain_text_and_resolved(audits):
    if problems := report(audits, "glue"):
        pytest.fail(problems, pytrace=False)


def test_figures_link_to_their_full_size_image(audits):
    if problems := report(audits, "figures"):
        pytest.fail(problems, pytrace=False)


def test_figures_are_shown_at_least_as_wide_as_the_column_assumed_here(audits):
    """At 1280 px each figure is shown at its natural width or at least HTML_COLUMN_CSS_PX wide, so the
    legibility test's rendered font sizes are what a reader sees (or smaller than it). At 390 px figures
    are narrower; there each links to its full-size image (test_figures_link_to_their_full_size_image)."""
    desktop = {page: audit.figure_sizes for (page, width), audit in audits.items() if width == "desktop"}
    assert sum(len(sizes) for sizes in desktop.values()) >= 10
    problems = [f"{page}: {p}" for page, sizes in desktop.items() for p in narrower_than_the_column(sizes)]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_no_serious_or_critical_accessibility_violation(audits):
    found = [
        f"{page} at {WIDTHS[width]} px: {v['impact']} {v['id']} ({v['help']}), {len(v['nodes'])} element(s): "
        + "; ".join(v["nodes"][:3])
        for (page, width), audit in audits.items()
        for v in audit.axe
        if v["impact"] in AXE_FAILING_IMPACTS
    ]
    if found:
        pytest.fail(f"axe-core {axe_version()}, WCAG 2.1 A/AA:\n" + "\n".join(found), pytrace=False)
