"""The structured abstract, the plain-language summary and the key findings: written from the results.

Every number and every verdict comes from the data through the review layer (the summary of
findings, the reconciliation, the scorecard), so the abstract changes when a trial is added or
a number corrected; the sentences that are not generated are guarded by the claims registry.
"""

from __future__ import annotations

from helpers.evidence.load import Evidence
from helpers.report.prose import GlueMarkdown, fmt_int, join_words, lower_first, sentence
from helpers.review.grade import FindingRow, plain_statement, summary_of_findings
from helpers.review.reconciliation import book_totals
from helpers.review.scorecard import scorecard
from helpers.review.search import search_summary


def results_text(ev: Evidence, rows: tuple[FindingRow, ...]) -> GlueMarkdown:
    t = book_totals(ev)
    counts = (
        f"This book reconstructs {fmt_int(t['studies_included'])} of the review's "
        f"{fmt_int(ev.review_value('studies_total'))} studies ({fmt_int(t['studies_rct'])} randomised, "
        f"{fmt_int(t['studies_open_label'])} open-label), with {fmt_int(t['patients_il2_known'])} IL-2 and "
        f"{fmt_int(t['patients_placebo_known'])} placebo patients of known number against the review's "
        f"{fmt_int(ev.review_value('patients_il2'))} and {fmt_int(ev.review_value('patients_placebo'))}."
    )
    findings = " ".join(sentence(plain_statement(r)) for r in rows)
    return GlueMarkdown(f"{counts} {findings}")


def conclusions_text(ev: Evidence, rows: tuple[FindingRow, ...]) -> GlueMarkdown:
    """What the evidence allows one to conclude, each clause following from the data."""
    from helpers.review.safety import coverage_totals

    comparisons = [r for r in rows if r.method != "narrative"]
    trials = max((r.k for r in comparisons), default=0)
    levels = sorted({r.certainty for r in rows}, key=["high", "moderate", "low", "very low"].index)
    parts = [
        f"The randomised evidence on low-dose IL-2 in SLE comes from at most {fmt_int(trials)} "
        f"{'trial' if trials == 1 else 'trials'} per outcome, and its certainty is {join_words(levels)}."
    ]
    if {s.claim: s.verdict for s in scorecard(ev)}.get("Primary endpoints of the RCTs") == "reproduced":
        parts.append("No randomised trial met its primary endpoint as reported, as the review says.")
    primary = comparisons[0] if comparisons else None
    if primary is not None and primary.certainty in ("low", "very low"):
        parts.append(
            "The pooled estimates in this book, which the review does not report, do not settle whether IL-2 "
            f"improves {lower_first(primary.label)}."
        )
    elif primary is not None:
        parts.append(sentence(plain_statement(primary)))
    t = coverage_totals(ev)
    if t["il2_counted"] < t["il2_known"]:
        parts.append(
            f"The review's statement that IL-2 is safe rests on adverse-event counts for {fmt_int(t['il2_counted'])} "
            f"of {fmt_int(t['il2_known'])} IL-2 patients and a comparison with placebo for "
            f"{fmt_int(t['il2_compared'])}."
        )
    parts.append(
        "Larger placebo-controlled trials reporting responses, Treg values and adverse events in full are needed."
    )
    return GlueMarkdown(" ".join(parts))


def plain_text(ev: Evidence, rows: tuple[FindingRow, ...]) -> GlueMarkdown:
    """The plain-language summary: what was asked, what was found, how sure one can be."""
    t = book_totals(ev)
    comparisons = [r for r in rows if r.method != "narrative"]
    trials = max((r.k for r in comparisons), default=0)
    said = {
        "high": "we are confident that",
        "moderate": "it is probably true that",
        "low": "it may be that",
        "very low": "we do not know whether",
    }
    found = []
    for r in comparisons:
        outcome = lower_first(r.label)
        more = r.estimate > (1.0 if r.measure == "RR" else 0.0)
        verb = "increases" if more else "reduces"
        if r.certainty == "very low":
            found.append(f"we do not know whether IL-2 changes {outcome}")
        else:
            found.append(f"{said[r.certainty]} IL-2 {verb} {outcome}")
    return GlueMarkdown(
        "Lupus (systemic lupus erythematosus) is a long-term disease in which the immune system attacks the "
        "body. Low doses of interleukin-2, a messenger of the immune system, are meant to strengthen the cells "
        f"that calm it (regulatory T cells). We looked at {fmt_int(t['studies_included'])} studies with "
        f"{fmt_int(t['patients_known'])} patients whose number is known; at most {fmt_int(trials)} "
        f"{'study compares' if trials == 1 else 'studies compare'} IL-2 with a dummy treatment (placebo) for any "
        f"one result. From them, {join_words(found)}. The studies are few and small, and some did not report all "
        "they measured, so these answers could change as new studies report."
    )


def glue_values(ev: Evidence) -> dict[str, object]:
    rows = summary_of_findings(ev)
    search = search_summary(ev)
    return {
        "abstract_databases": search["search_databases"],
        "abstract_window": search["search_window"],
        "abstract_records": search["search_records"],
        "abstract_results": results_text(ev, rows),
        "abstract_conclusions": conclusions_text(ev, rows),
        "abstract_plain": plain_text(ev, rows),
    }
