"""The PDF manuscript builds (XeLaTeX, figures converted to vector PDF) and carries the glued numbers."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import build_book, copy_data

pytestmark = pytest.mark.pdf


def test_pdf_builds_with_vector_figures_and_glued_numbers(tmp_path):
    data = copy_data(tmp_path / "data")
    result = build_book(tmp_path / "out", data, "--builder", "pdflatex")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    pdf = tmp_path / "out" / "_build" / "latex" / "il2-sle-review.pdf"
    assert pdf.exists() and pdf.stat().st_size > 100_000
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "retrieved 1,018 records" in re.sub(r"\s+", " ", text)
    assert "<IPython.core.display" not in text  # every figure rendered, none fell back to its text form
    figures = sorted((tmp_path / "out" / "_build" / "latex").glob("*.pdf"))
    assert len(figures) >= 8  # the SVG figures became PDF files (vector), not bitmaps
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", pages).group(1)) > 30
