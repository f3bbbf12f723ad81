"""The PDF manuscript builds (XeLaTeX, figures converted to vector PDF) and carries the glued numbers.

It is built from a copy of the session's clean HTML build (``pdf_book``), so the executed
notebooks are reused, as they are when an author runs the PDF build after the HTML one.
"""

from __future__ import annotations

import re
import subprocess

import pytest

pytestmark = pytest.mark.pdf


def test_pdf_builds_with_vector_figures_and_glued_numbers(pdf_book):
    assert pdf_book.result.returncode == 0, pdf_book.log[-3000:]
    assert "Executing notebook" not in pdf_book.log  # the HTML build's executed notebooks were reused
    latex = pdf_book.output / "_build" / "latex"
    pdf = latex / "il2-sle-review.pdf"
    assert pdf.exists() and pdf.stat().st_size > 100_000
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "retrieved 1,018 records" in re.sub(r"\s+", " ", text)
    assert "<IPython.core.display" not in text  # every figure rendered, none fell back to its text form
    figures = sorted(latex.glob("*.pdf"))
    assert len(figures) >= 8  # the SVG figures became PDF files (vector), not bitmaps
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", pages).group(1)) > 30
