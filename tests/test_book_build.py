"""The book builds strictly, shows the data's numbers, rebuilds on a data edit, and refuses bad data.

Every build here runs the README's command on the real book sources, with its output in a
temporary folder and ``IL2_DATA_DIR`` pointing at a copy of ``data/`` that the test may edit,
so the repository is never touched. The clean, second, rebuilt and PDF builds are shared by
the whole session (``tests/book_builds.py``).
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.paths import DATA_ENV_VAR, ROOT
from tests.conftest import build_book, copy_data, edit_file

pytestmark = pytest.mark.build

PAGES = [
    "chapters/intro.html",
    "chapters/search.html",
    "chapters/prisma.html",
    "chapters/appendix_data.html",
    "chapters/appendix_methods.html",
    "chapters/appendix_results.html",
    "chapters/efficacy.html",
    "chapters/responder_indices.html",
    "chapters/risk_of_bias.html",
    "chapters/treg.html",
    "chapters/safety.html",
    "chapters/declarations.html",
    "chapters/appendix_reporting.html",
    "chapters/after_review.html",
    "references.html",
]


def page_text(html_dir: Path, page: str) -> str:
    raw = (html_dir / page).read_text(encoding="utf-8")
    main = re.search(r"<main.*?</main>", raw, re.S).group(0)
    main = re.sub(r"<(script|style).*?</\1>", " ", main, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


def test_clean_build_is_strict_and_warning_free(clean_book):
    assert clean_book.result.returncode == 0, clean_book.log[-3000:]
    assert "WARNING" not in clean_book.log and "Traceback" not in clean_book.log
    for page in PAGES:
        assert (clean_book.html / page).exists(), page


def test_notebooks_execute_two_at_a_time_into_the_cache_myst_nb_reads(clean_book):
    """Every chapter ran once, in the parallel step; myst-nb took each from the cache, executing none itself."""
    n = len(list((ROOT / "chapters").glob("*.ipynb")))
    assert f"Executing notebook: {n} executed, 2 at a time" in clean_book.log
    assert clean_book.log.count("Using cached notebook") == n
    assert "Executing notebook using" not in clean_book.log  # myst-nb's own (serial) execution


def test_pages_show_glued_numbers_and_no_unresolved_glue(clean_book):
    html_dir = clean_book.html
    intro = page_text(html_dir, "chapters/intro.html")
    assert "retrieved 1,018 records" in intro
    assert "This book reconstructs 5 of the review’s 6 studies" in intro  # Sphinx's smart quotes
    prisma = page_text(html_dir, "chapters/prisma.html")
    assert "This book includes 5 studies" in prisma
    assert "The IL-2 total falls 13 short" in prisma
    for page in PAGES:
        text = page_text(html_dir, page)
        assert "{glue" not in text and "::" not in text.replace("Section", ""), page
        assert "Fig. ??" not in text and "Table ??" not in text


def test_code_is_hidden_behind_a_toggle(clean_book):
    raw = (clean_book.html / "chapters" / "prisma.html").read_text(encoding="utf-8")
    assert raw.count('class="cell tag_hide-input') >= 3
    assert "toggle-details" in raw or "<details" in raw


def test_figures_are_vector_with_alt_text_and_numbered(clean_book):
    raw = (clean_book.html / "chapters" / "prisma.html").read_text(encoding="utf-8")
    images = re.findall(r"<img [^>]*>", raw)
    assert images and all('alt="' in i and 'alt=""' not in i for i in images)
    assert any(".svg" in i for i in images)
    assert "Fig. 2.1" in page_text(clean_book.html, "chapters/prisma.html")
    forest = (clean_book.html / "chapters" / "efficacy.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<img [^>]*alt="Forest plot[^"]+"', forest)) == 1  # the primary analysis alone
    text = page_text(clean_book.html, "chapters/efficacy.html")
    assert "Primary analysis (Mantel-Haenszel, common effect): 1.33 (95% CI 1.004 to 1.757)" in text
    assert "the REML risk ratio becomes 1.34 (95% CI 0.10 to 18.35)" in text
    assert (
        "is not estimable: it needs at least three trials" in text  # after the prediction interval's citation
    )
    assert "Fig. 4.1" in text  # efficacy is chapter 4


def test_results_download_agrees_with_the_results_command(clean_book):
    (download,) = (clean_book.html / "_downloads").rglob("results.csv")
    env = dict(os.environ, **{DATA_ENV_VAR: str(clean_book.data)})
    printed = subprocess.run(
        [sys.executable, "-m", "helpers", "results"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert download.read_text(encoding="utf-8") == printed
    assert "sri4_week12_rct" in printed


def test_rebuild_without_changes_executes_nothing(rebuilt_book):
    result = rebuilt_book["unchanged"].result
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 added, 0 changed, 0 removed" in result.stdout
    assert "Executing notebook" not in result.stdout


def test_data_edit_shows_the_new_number_after_rebuild(rebuilt_book):
    edited = rebuilt_book["edited"]
    assert edited.result.returncode == 0, edited.log[-3000:]
    n = len(list((ROOT / "chapters").glob("*.ipynb")))
    assert f"Executing notebook: {n} executed" in edited.result.stdout  # re-executed, not served from the cache
    assert "retrieved 1,019 records" in page_text(edited.html, "chapters/intro.html")
    assert "1,019" in page_text(edited.html, "chapters/search.html")
    assert "1,018" not in page_text(edited.html, "chapters/search.html")


def test_bad_data_fails_the_build_with_a_precise_message_and_renders_nothing(tmp_path):
    data = copy_data(tmp_path / "data")
    edit_file(data / "outcomes.csv", "analysed_efficacy,count,16,29,55.17", "analysed_efficacy,count,40,29,")
    result = build_book(tmp_path / "out", data)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "outcomes.csv, line 2" in log and "column 'events': found 40; expected events <= total" in log
    assert "Executing notebook" not in log  # refused before any notebook ran
    html_dir = tmp_path / "out" / "_build" / "html"
    assert not (html_dir / "chapters" / "prisma.html").exists()


def test_two_clean_builds_give_identical_numbers_and_figures(clean_book, second_clean_book):
    """Reproducibility: no timestamps, random ids or run-dependent numbers in the output."""
    assert second_clean_book.result.returncode == 0, second_clean_book.log[-3000:]
    first, second = clean_book.html, second_clean_book.html
    figures = sorted(p.relative_to(first) for p in (first / "_images").glob("*"))
    assert figures and figures == sorted(p.relative_to(second) for p in (second / "_images").glob("*"))
    for figure in figures:
        assert (first / figure).read_bytes() == (second / figure).read_bytes(), figure
    for page in PAGES:
        assert page_text(first, page) == page_text(second, page), page
    (csv1,), (csv2,) = (first / "_downloads").rglob("results.csv"), (second / "_downloads").rglob("results.csv")
    assert csv1.read_bytes() == csv2.read_bytes()
