"""The abstract, plain-language summary and discussion are written from the results: real text,
and text that moves when the data move (SYNTHETIC edits of a copy of data/)."""

from __future__ import annotations

from helpers.chapters import abstract, discussion
from helpers.evidence.load import load_evidence
from tests.book_builds import edit_file

LUPIL2_ITT_IL2 = "lupil2,il2,sri4,week_12,itt,count,34,50,68,,,,,,0.3439,"


def test_real_abstract_states_results_with_certainty():
    v = abstract.glue_values(load_evidence())
    results = str(v["abstract_results"])
    assert results.startswith("This book reconstructs 5 of the review's 6 studies (2 randomised, 3 open-label)")
    assert (
        "Low-dose IL-2 may increase SRI-4 response at week 12 (RR 1.33, 95% CI 1.00 to 1.76; low certainty)." in results
    )
    assert "The evidence on Treg response is very uncertain" in results
    conclusions = str(v["abstract_conclusions"])
    assert "No randomised trial met its primary endpoint as reported, as the review says." in conclusions
    assert "adverse-event counts for 69 of 137 IL-2 patients and a comparison with placebo for 29" in conclusions
    assert "we do not know" not in str(v["abstract_plain"]) and "it may be that IL-2 increases SRI-4" in str(
        v["abstract_plain"]
    )


def test_abstract_and_discussion_follow_a_changed_count(data_copy):
    # SYNTHETIC edit: LUPIL-2's IL-2 responders 34 -> 44 of 50 (and its p to 0.01, so it met its endpoint).
    edit_file(data_copy / "outcomes.csv", LUPIL2_ITT_IL2, "lupil2,il2,sri4,week_12,itt,count,44,50,88,,,,,,0.01,")
    ev = load_evidence()
    results = str(abstract.glue_values(ev)["abstract_results"])
    assert "RR 1.33, 95% CI 1.00 to 1.76" not in results
    assert "SRI-4 response at week 12 (RR 1.59, 95% CI 1.24 to 2.05" in results
    conclusions = str(abstract.glue_values(ev)["abstract_conclusions"])
    assert "No randomised trial met its primary endpoint" not in conclusions
    assert "SRI-4 response at week 12 (RR 1.59, 95% CI 1.24 to 2.05" in str(
        discussion.glue_values(ev)["discussion_main"]
    )
