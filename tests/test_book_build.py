"""The book builds strictly, shows the data's numbers, rebuilds on a data edit, and refuses bad data.

Every build here runs the README's command on the real book sources, with its output in a
temporary folder and ``IL2_DATA_DIR`` pointing at a copy of ``data/`` that the test may edit,
so the repository is never touched.
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
from tests.conftest import copy_data, edit_file

pytestmark = pytest.mark.build

JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")
PAGES = ["intro.html", "chapters/search.html", "chapters/prisma.html", "chapters/appendix_data.html",
         "chapters/appendix_methods.html", "chapters/appendix_results.html", "chapters/efficacy.html",
         "chapters/responder_indices.html", "references.html"]


def build(output: Path, data: Path) -> subprocess.CompletedProcess:
    """The README's build command, into ``output``, reading ``data``."""
    env = dict(os.environ, **{DATA_ENV_VAR: str(data)})
    return subprocess.run(
        [JUPYTER_BOOK, "build", "-W", "-n", "--keep-going", str(ROOT / "book"), "--path-output", str(output)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )


def page_text(output: Path, page: str) -> str:
    raw = (output / "_build" / "html" / page).read_text(encoding="utf-8")
    main = re.search(r"<main.*?</main>", raw, re.S).group(0)
    main = re.sub(r"<(script|style).*?</\1>", " ", main, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """One clean build, shared by the tests of this module (in order: they edit its data last)."""
    root = tmp_path_factory.mktemp("book")
    data = copy_data(root / "data")
    result = build(root / "out", data)
    return {"output": root / "out", "data": data, "result": result}


def test_clean_build_is_strict_and_warning_free(book):
    result = book["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "WARNING" not in log and "Traceback" not in log
    for page in PAGES:
        assert (book["output"] / "_build" / "html" / page).exists(), page


def test_pages_show_glued_numbers_and_no_unresolved_glue(book):
    intro = page_text(book["output"], "intro.html")
    assert "retrieved 1,018 records" in intro
    assert "The review reports 6 studies with 230 patients ( 150 on IL-2, 80 on placebo)" in intro
    prisma = page_text(book["output"], "chapters/prisma.html")
    assert "This book includes 5 studies" in prisma
    assert "The IL-2 total falls 25 short" in prisma
    for page in PAGES:
        text = page_text(book["output"], page)
        assert "{glue" not in text and "::" not in text.replace("Section", ""), page
        assert "Fig. ??" not in text and "Table ??" not in text


def test_code_is_hidden_behind_a_toggle(book):
    raw = (book["output"] / "_build" / "html" / "chapters" / "prisma.html").read_text(encoding="utf-8")
    assert raw.count('class="cell tag_hide-input') >= 3
    assert "toggle-details" in raw or "<details" in raw


def test_figure_is_vector_with_alt_text_and_numbered(book):
    raw = (book["output"] / "_build" / "html" / "chapters" / "prisma.html").read_text(encoding="utf-8")
    images = re.findall(r"<img [^>]*>", raw)
    assert images and all('alt="' in i and 'alt=""' not in i for i in images)
    assert any(".svg" in i for i in images)
    assert "Fig. 2.1" in page_text(book["output"], "chapters/prisma.html")
    forest = (book["output"] / "_build" / "html" / "chapters" / "efficacy.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<img [^>]*alt="Forest plot[^"]+"', forest)) == 3
    text = page_text(book["output"], "chapters/efficacy.html")
    assert "REML random effects with a Hartung-Knapp interval: 1.34 (95% CI 0.10 to 18.35)" in text
    assert "needs at least 3 studies" in text and "Fig. 3.1" in text


def test_results_download_agrees_with_the_results_command(book):
    (download,) = (book["output"] / "_build" / "html" / "_downloads").rglob("results.csv")
    env = dict(os.environ, **{DATA_ENV_VAR: str(book["data"])})
    printed = subprocess.run([sys.executable, "-m", "helpers", "results"], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True).stdout
    assert download.read_text(encoding="utf-8") == printed
    assert "sri4_week12_rct" in printed
    assert "Table" in page_text(book["output"], "chapters/appendix_results.html")


def test_rebuild_without_changes_executes_nothing(book):
    result = build(book["output"], book["data"])
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 added, 0 changed, 0 removed" in result.stdout
    assert "Executing" not in result.stdout


def test_data_edit_shows_the_new_number_after_rebuild(book):
    edit_file(book["data"] / "prisma.csv", "Databases,1018,", "Databases,1019,")
    result = build(book["output"], book["data"])
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Executing notebook" in result.stdout  # the pages were re-executed, not served from a cache
    assert "retrieved 1,019 records" in page_text(book["output"], "intro.html")
    assert "1,019" in page_text(book["output"], "chapters/search.html")
    assert "1,018" not in page_text(book["output"], "chapters/search.html")


def test_bad_data_fails_the_build_with_a_precise_message_and_renders_nothing(tmp_path):
    data = copy_data(tmp_path / "data")
    edit_file(data / "outcomes.csv", "analysed_efficacy,count,16,29,55.17", "analysed_efficacy,count,40,29,")
    result = build(tmp_path / "out", data)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "outcomes.csv, line 2" in log and "column 'events': found 40; expected events <= total" in log
    html_dir = tmp_path / "out" / "_build" / "html"
    assert not (html_dir / "chapters" / "prisma.html").exists()
