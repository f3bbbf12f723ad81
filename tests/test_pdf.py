"""The PDF manuscript: an article built by the README's command, laid out within its margins, reproducible.

It is built from a copy of the session's clean HTML build (``pdf_book``), so the executed
notebooks are reused, as they are when an author runs ``make pdf`` after ``make book``.
The checks read the PDF itself with poppler (``pdfinfo``, ``pdffonts``, ``pdftotext -bbox``,
``pdftoppm``) and the LaTeX log and labels of the build.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

from helpers.paths import ROOT

pytestmark = pytest.mark.pdf

TARGET = "il2-sle-review"
#: Pages of the manuscript, measured at commit e9da3af (191); the book may grow or shrink by a quarter.
EXPECTED_PAGES = 191
PAGE_TOLERANCE = 0.25
#: How far (points) a word's box may reach past the text block: sideways, none (but rounding); down,
#: less than a line: TeX lets the last line of a page hang below the block (a longtable's "continues
#: on next page" does, by 4 to 7 points); a figure caption run into the footer went 25 points past it.
SIDE_TOLERANCE, FOOT_TOLERANCE = 2.0, 9.0
PT_PER_CM = 72 / 2.54  # PDF points


def _run(*cmd: str, cwd: Path | None = None) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=cwd).stdout


@pytest.fixture(scope="module")
def manuscript(pdf_book):
    """(latex folder, PDF) of the session's PDF build, once it is known to have succeeded."""
    assert pdf_book.result.returncode == 0, pdf_book.log[-3000:]
    latex = pdf_book.output / "_build" / "latex"
    pdf = latex / f"{TARGET}.pdf"
    assert pdf.exists(), "the build printed no error but wrote no PDF"
    return latex, pdf


@cache
def _page_settings() -> dict:
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    return config["sphinx"]["config"]["manuscript_page"]


def _pages(pdf: Path) -> int:
    return int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", str(pdf))).group(1))


def _words(pdf: Path) -> list[tuple[int, float, float, list[tuple[float, float, float, float, str]]]]:
    """Per page: (number, width, height as displayed, words with their boxes), from ``pdftotext -bbox``.

    On a landscape page (rotated 90 degrees) pdftotext gives the boxes as displayed, with the
    unrotated page's size: width and height are swapped here to match.
    """
    info = _run("pdfinfo", "-f", "1", "-l", str(_pages(pdf)), str(pdf))
    rotation = {int(n): int(r) for n, r in re.findall(r"Page\s+(\d+) rot:\s+(\d+)", info)}
    out = []
    for n, page in enumerate(re.split(r"<page ", _run("pdftotext", "-bbox", str(pdf), "-"))[1:], start=1):
        width, height = map(float, re.match(r'width="([\d.]+)" height="([\d.]+)"', page).groups())
        if rotation.get(n) in (90, 270):
            width, height = height, width
        words = [
            (float(x0), float(y0), float(x1), float(y1), word)
            for x0, y0, x1, y1, word in re.findall(
                r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', page
            )
        ]
        out.append((n, width, height, words))
    return out


def test_pdf_builds_with_vector_figures_and_glued_numbers(pdf_book, manuscript):
    latex, pdf = manuscript
    assert "Executing notebook" not in pdf_book.log  # the HTML build's executed notebooks were reused
    text = re.sub(r"\s+", " ", _run("pdftotext", str(pdf), "-"))
    assert "retrieved 1,018 records" in text
    assert "<IPython.core.display" not in text  # every figure rendered, none fell back to its text form
    assert "load_evidence(" not in text and "import helpers" not in text  # no code cell is printed
    assert "Text description of the figure above" not in text  # nor the dropdowns collapsed in HTML
    assert len(sorted(latex.glob("*.pdf"))) >= 9  # the SVG figures became PDF files (vector), not bitmaps


def test_page_count_within_bounds(manuscript):
    pages = _pages(manuscript[1])
    low, high = EXPECTED_PAGES * (1 - PAGE_TOLERANCE), EXPECTED_PAGES * (1 + PAGE_TOLERANCE)
    assert low <= pages <= high, f"{pages} pages, expected {low:.0f} to {high:.0f}: update EXPECTED_PAGES if intended"


def test_latex_log_has_no_overfull_box_or_broken_reference(manuscript):
    latex, _ = manuscript
    log = (latex / f"{TARGET}.log").read_text(encoding="utf-8", errors="replace")
    overfull = re.findall(r"Overfull \\[hv]box \(([\d.]+)pt too (?:wide|high)\)[^\n]*", log)
    assert not [o for o in overfull if float(o) > 1.0], re.findall(r"Overfull \\[hv]box[^\n]*", log)
    assert "undefined references" not in log and "multiply-defined labels" not in log
    assert "Missing character" not in log  # every glyph is in the fonts


def test_every_font_is_embedded(manuscript):
    lines = _run("pdffonts", str(manuscript[1])).splitlines()[2:]
    assert lines, "no fonts listed"
    not_embedded = [line for line in lines if line.split()[-5] != "yes"]  # columns: ... emb sub uni object ID
    assert not not_embedded, not_embedded


def test_no_text_outside_the_margins(manuscript):
    """Every word of every page lies inside the text block, the page number excepted (tables included)."""
    margin = _page_settings()["margin_cm"] * PT_PER_CM
    outside = []
    for n, width, height, words in _words(manuscript[1]):
        for x0, y0, x1, y1, word in words:
            if word == str(n):  # the page number, in the footer (beside a landscape page)
                continue
            if x0 < margin - SIDE_TOLERANCE or x1 > width - margin + SIDE_TOLERANCE:
                outside.append((n, word, round(x0), round(x1), "beyond a side margin"))
            elif y0 < margin - SIDE_TOLERANCE or y1 > height - margin + FOOT_TOLERANCE:
                outside.append((n, word, round(y0), round(y1), "in the top or bottom margin"))
    assert not outside, f"{len(outside)} words outside the margins, e.g. {outside[:10]}"


def test_wide_tables_are_set_on_landscape_pages(manuscript):
    info = _run("pdfinfo", "-f", "1", "-l", str(_pages(manuscript[1])), str(manuscript[1]))
    assert re.search(r"rot:\s+90", info)  # the widest tables are turned, not shrunk off the page


def test_first_page_is_a_title_block_with_the_commit_date(manuscript):
    _, pdf = manuscript
    first = re.sub(r"\s+", " ", _run("pdftotext", "-f", "1", "-l", "1", str(pdf), "-"))
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert config["title"] in first
    for author in cff["authors"]:
        assert author.get("name", author.get("family-names")) in first
    date = _run("git", "-C", str(ROOT), "log", "-1", "--format=%cs").strip()
    assert date in first  # the date of the commit built, in ISO form
    assert not re.search(r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}\b", first)  # no build-day date (Sphinx's default)
    assert "Abstract" in first and "Background." in first  # the structured abstract comes first


def test_pdf_dates_are_the_commit_time(manuscript):
    """XeLaTeX stamps the PDF with SOURCE_DATE_EPOCH (the commit's time), not the time of the build."""
    info = _run("pdfinfo", "-isodates", str(manuscript[1]))
    commit = _run("git", "-C", str(ROOT), "log", "-1", "--format=%ct").strip()
    stamped = re.search(r"CreationDate:\s+(\S+)", info).group(1)
    expected = _run("date", "-u", "-d", f"@{commit}", "+%Y-%m-%dT%H:%M:%SZ").strip()
    assert stamped == expected


def test_recompiling_gives_identical_bytes(manuscript, tmp_path):
    """The LaTeX sources compile to the same PDF, byte for byte (no clock time anywhere in it)."""
    latex, pdf = manuscript
    copy = tmp_path / "latex"
    shutil.copytree(latex, copy, ignore=shutil.ignore_patterns(f"{TARGET}.*", "*.aux"))
    shutil.copy(latex / f"{TARGET}.tex", copy)
    subprocess.run(["make", "all-pdf"], cwd=copy, capture_output=True, check=True, timeout=600)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (pdf, copy / f"{TARGET}.pdf")]
    assert digest[0] == digest[1]


def test_numbers_of_sections_figures_and_tables_are_those_of_the_html(pdf_book, manuscript):
    """Section 4, Table 4.2 or Fig. 4.1 is the same in both: LaTeX's numbers of the labels against the HTML captions."""
    latex, _ = manuscript
    aux = (latex / f"{TARGET}.aux").read_text(encoding="utf-8")
    numbers = dict(re.findall(r"\\newlabel\{([^}]+)\}\{\{([^}]*)\}", aux))
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"], *(chapter["file"] for part in toc["parts"] for chapter in part["chapters"])]
    expected = {}
    for doc in docs:
        html = (pdf_book.html / f"{doc}.html").read_text(encoding="utf-8")
        captions = r'<(?:table|figure)[^>]*\bid="([^"]+)"[^>]*>.*?caption-number">(?:Fig\.|Table) ([\d.]+)'
        for label, number in re.findall(captions, html, re.S):
            expected[f"{doc}:{label}"] = number
        section = re.search(r'<h1>\s*<span class="section-number">([\d.]+?)\.?\s*</span>', html)
        if section:
            expected[f"{doc}::doc"] = section.group(1)
    assert len(expected) > 60
    wrong = {label: (number, numbers.get(label)) for label, number in expected.items() if numbers.get(label) != number}
    assert not wrong, f"(HTML, PDF) numbers differ: {wrong}"


def _gray_pixels(pgm: Path) -> bytes:
    """The pixels of a binary PGM file (P5, 8 bits), as pdftoppm -gray writes it."""
    data = pgm.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    width, height = int(fields.group(1)), int(fields.group(2))
    return data[fields.end() : fields.end() + width * height]


def test_first_pages_render_with_ink(manuscript, tmp_path):
    _, pdf = manuscript
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "40", "-f", "1", "-l", "3", str(pdf), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.pgm"))
    assert len(pages) == 3
    for page in pages:
        pixels = _gray_pixels(page)
        dark = sum(1 for value in pixels if value < 128) / len(pixels)
        assert 0.01 < dark < 0.5, f"{page.name}: {dark:.1%} dark pixels"
