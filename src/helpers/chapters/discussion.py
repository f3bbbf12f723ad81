"""The discussion: main results with their certainty, limitations, implications — written from the data.

Each paragraph is assembled from the review layer (summary of findings, RoB 2, the audit of derived
counts, harms coverage, the scorecard), so a new trial or a corrected number changes the discussion;
nothing here states a finding the data do not give.
"""

from __future__ import annotations

from helpers.chapters.efficacy import count_word
from helpers.evidence.load import Evidence
from helpers.report.prose import GlueMarkdown, fmt_int, join_words, sentence, upper_first
from helpers.review.grade import FindingRow, plain_statement, summary_of_findings


def main_results(rows: tuple[FindingRow, ...]) -> GlueMarkdown:
    """One bullet per outcome of the summary of findings: the statement and what lowered its certainty."""
    items = []
    for r in rows:
        why = f" Certainty was lowered for {r.downgrade_words}." if r.downgrade_words else ""
        items.append(f"- {sentence(plain_statement(r))}{why}")
    return GlueMarkdown("\n".join(items))


def evidence_limitations(ev: Evidence, rows: tuple[FindingRow, ...]) -> GlueMarkdown:
    """Few small trials, risk of bias resting on missing information, harms counted for part of the
    patients, Treg without values, and unpublished candidate trials."""
    from helpers.review import rob2, treg
    from helpers.review.safety import coverage_totals

    parts = []
    comparisons = [r for r in rows if r.method != "narrative"]
    if comparisons:
        k = max(r.k for r in comparisons)
        n = max(r.n_il2 + r.n_control for r in comparisons)
        parts.append(
            f"The randomised evidence is at most {fmt_int(k)} {'trial' if k == 1 else 'trials'} and "
            f"{fmt_int(n)} patients for any outcome, so every interval is wide and no estimate of between-trial "
            "heterogeneity is informative."
        )
    g = rob2.glue_values(ev)
    parts.append(
        "Risk of bias was judged with RoB 2 {cite:p}`sterne2019` for"
        f"  {g['rob2_n_results']} results of {g['rob2_n_trials']} trials from "
        f"abstracts, registry records and table pages; {g['rob2_n_ni']} of {g['rob2_n_asked']} signalling questions "
        f"({g['rob2_pct_ni']}) have no information, so several judgements could improve with a full report."
    )
    t = coverage_totals(ev)
    parts.append(
        f"Adverse events are counted for {fmt_int(t['il2_counted'])} of {fmt_int(t['il2_known'])} IL-2 patients "
        f"and compared with placebo for {fmt_int(t['il2_compared'])}; rare or late harms cannot be excluded."
    )
    rows_t = treg.treg_rows(ev)
    if not rows_t["statistic"].isin(["mean_sd", "median_range", "median_iqr"]).any():
        parts.append(
            "No study reports Treg values with their spread, so the size of the Treg response, and its relation to "
            "clinical response, cannot be estimated."
        )
    candidates = ev.studies[(ev.studies["inclusion_status"] == "candidate") & ev.studies["registration"].notna()]
    if len(candidates):
        listed = "; ".join(f"{r.label}, {r.registration}: {r.inclusion_reason}" for r in candidates.itertuples())
        parts.append(
            "Registered studies whose results were not available in the review's window may be missing from the "
            f"evidence, a possible bias from missing results that no small-study test could detect: {listed}."
        )
    return GlueMarkdown(" ".join(parts))


def reconstruction_limitations(ev: Evidence) -> GlueMarkdown:
    """The reconstructed study set and the derived counts, with the audit's verdicts."""
    from helpers.review.derived_audit import audit_derived_counts
    from helpers.review.scorecard import scorecard

    totals = {s.claim: s for s in scorecard(ev)}["Studies and patients"]
    audit = audit_derived_counts(ev)
    verdicts = {v: sum(a.verdict == v for a in audit) for v in ("all", "some", "none", "no figure")}
    audit_text = (
        f"{fmt_int(len(audit))} counts are derived from percentages or totals: {fmt_int(verdicts['all'])} reproduce "
        f"every figure the sources report, {fmt_int(verdicts['some'])} only some"
        + (f", {fmt_int(verdicts['no figure'])} have no figure to check" if verdicts["no figure"] else "")
        + " (the audit in the data appendix)."
    )
    return GlueMarkdown(
        f"Against the review's abstract, {totals.reason}. {audit_text} "
        "One reviewer extracted the data and rated risk of bias, without the full texts and without reading "
        "figures, so values shown only in figures are missing and no rating was checked by a second reader."
    )


def other_reviews(ev: Evidence) -> GlueMarkdown:
    """How this book's findings sit beside the later reviews' pooled figures (the "After the review" chapter)."""
    from helpers.chapters.after_review import primary_text
    from helpers.review.after_review import comparisons

    c = comparisons(ev)
    same = c[c["same_scale"]]
    n_reviews = c["review_id"].nunique()
    uncontrolled = int(c["later"].map(lambda f: f["comparison"] in ("single_arm", "pre_post")).sum())
    share = "Most" if 2 * uncontrolled > len(c) else "Some" if uncontrolled else "None"
    return GlueMarkdown(
        f"{upper_first(count_word(n_reviews))} later reviews, published after the review's window, report "
        f"{fmt_int(len(c))} pooled figures; "
        f"{fmt_int(len(same))} of them have a counterpart in this book on the same scale, and each difference is "
        "explained in {ref}`ch-after-review`. "
        f"{share} ({fmt_int(uncontrolled)}) are single-arm proportions or before-after changes, which count what "
        "happened on IL-2 without a placebo arm, so they cannot confirm or contradict a between-arm effect. "
        f"{primary_text(ev)}"
    )


def implications(rows: tuple[FindingRow, ...]) -> GlueMarkdown:
    """For practice, from the certainty of the primary outcome; for research, what the gaps ask for."""
    comparisons = [r for r in rows if r.method != "narrative"]
    primary = comparisons[0] if comparisons else None
    if primary is None or primary.certainty in ("low", "very low"):
        practice = (
            "For practice: with evidence of this certainty, low-dose IL-2 is not an established treatment for SLE; "
            "outside a trial its benefit for a patient with active disease is uncertain."
        )
    else:
        practice = f"For practice: {plain_statement(primary)}."
    research = (
        "For research: placebo-controlled trials large enough for the optimal information size of the summary "
        "of findings, analysed by intention to treat with every randomised patient, reporting responder indices "
        "with their counts, Treg values with their spread beside clinical response, and adverse events in both "
        "arms; and completed trials published, whatever their result."
    )
    return GlueMarkdown(f"{practice}\n\n{research}")


def glue_values(ev: Evidence) -> dict[str, object]:
    rows = summary_of_findings(ev)
    levels = sorted({r.certainty for r in rows}, key=["high", "moderate", "low", "very low"].index)
    return {
        "discussion_main": main_results(rows),
        "discussion_levels": join_words(levels),
        "discussion_evidence": evidence_limitations(ev, rows),
        "discussion_reconstruction": reconstruction_limitations(ev),
        "discussion_implications": implications(rows),
        "discussion_other_reviews": other_reviews(ev),
        "discussion_n_outcomes": fmt_int(len(rows)),
    }
