"""The key-findings boxes (helpers.chapters.key_findings): real text, a box on each chapter that has
one, and bullets that follow the data."""

from __future__ import annotations

import nbformat
import pytest

from helpers.chapters import key_findings
from helpers.evidence.load import load_evidence
from helpers.paths import chapters_dir
from tests.book_builds import edit_file

BOXED = ("search", "prisma", "risk_of_bias", "efficacy", "treg", "safety", "responder_indices")


@pytest.mark.parametrize("chapter", BOXED)
def test_each_chapter_opens_with_its_box(chapter):
    nb = nbformat.read(chapters_dir() / f"{chapter}.ipynb", as_version=4)
    assert ":::{admonition} Key findings" in nb.cells[0].source
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert f"key_findings.{chapter}(evidence)" in first_code.source


def test_real_bullets():
    ev = load_evidence()
    assert str(key_findings.search(ev)).startswith("- The review searched Scopus and MEDLINE")
    prisma = str(key_findings.prisma(ev))
    assert "- This book: 5 studies reconstructed, 217 patients of known number (137 on IL-2, 80 on placebo)." in prisma
    rob = str(key_findings.risk_of_bias(ev))
    assert "RoB 2, for 4 results of 2 randomised trials: 0 low, 2 some concerns, 2 high risk of bias." in rob
    efficacy = str(key_findings.efficacy(ev))
    assert (
        "Low-dose IL-2 may increase SRI-4 response at week 12 (RR 1.33, 95% CI 1.00 to 1.76; low certainty)" in efficacy
    )
    assert "Fragility index 1" in efficacy and "too few to estimate between-trial heterogeneity" in efficacy
    assert "Adverse-event counts for 69 of 137 IL-2 patients" in str(key_findings.safety(ev))
    assert "The evidence on Treg response is very uncertain" in str(key_findings.treg(ev))


def test_bullets_follow_a_changed_count(data_copy):
    # SYNTHETIC edit of a copy of data/: LUPIL-2's IL-2 responders 34 -> 44 of 50.
    edit_file(
        data_copy / "outcomes.csv",
        "lupil2,il2,sri4,week_12,itt,count,34,50,68,,,,,,0.3439,",
        "lupil2,il2,sri4,week_12,itt,count,44,50,88,,,,,,0.3439,",
    )
    text = str(key_findings.efficacy(load_evidence()))
    assert "RR 1.59, 95% CI 1.24 to 2.05" in text
