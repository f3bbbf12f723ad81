"""The "Key findings" box at the top of each chapter: three or four bullets written from the results.

Each bullet comes from the same review-layer functions as the chapter's own text, so the box can
never disagree with the chapter it opens and changes when the data change.
"""

from __future__ import annotations

from helpers.evidence.load import Evidence
from helpers.report.prose import GlueMarkdown, fmt_int, join_words, upper_first
from helpers.review.grade import plain_statement, summary_of_findings


def _bullets(items: list[str]) -> GlueMarkdown:
    return GlueMarkdown("\n".join(f"- {upper_first(i)}" for i in items if i))


def _row(ev: Evidence, analysis: str):
    return next((r for r in summary_of_findings(ev) if r.analysis == analysis), None)


def search(ev: Evidence) -> GlueMarkdown:
    from helpers.review.search import search_summary

    s = search_summary(ev)
    known = ev.search["query"].notna().all()
    return _bullets(
        [
            f"The review searched {s['search_databases']} from {s['search_window']} and retrieved "
            f"{s['search_records']} records.",
            "its search strings are known, so the search can be rerun."
            if known
            else "its search strings are not reported, so the search cannot be rerun; this book takes the count as "
            "reported.",
        ]
    )


def prisma(ev: Evidence) -> GlueMarkdown:
    from helpers.review.scorecard import scorecard

    totals = {s.claim: s for s in scorecard(ev)}["Studies and patients"]
    return _bullets(
        [f"the review reports {totals.review_says}.", f"this book: {totals.book_finds}.", totals.reason + "."]
    )


def risk_of_bias(ev: Evidence) -> GlueMarkdown:
    from helpers.evidence.rob_tables import load_risk_of_bias
    from helpers.review import rob2
    from helpers.review.rob import glue_values as rob_values

    g = rob2.glue_values(ev)
    r = rob_values(load_risk_of_bias(ev))
    return _bullets(
        [
            f"RoB 2, for {g['rob2_n_results']} results of {g['rob2_n_trials']} randomised trials: "
            f"{g['rob2_n_low']} low, {g['rob2_n_some']} some concerns, {g['rob2_n_high']} high risk of bias.",
            f"{g['rob2_n_ni']} of {g['rob2_n_asked']} signalling questions ({g['rob2_pct_ni']}) have no information "
            "in the sources consulted.",
            f"the review's modified Downs and Black checklist: {r['rob_n_unable']} of {r['rob_n_ratings']} ratings "
            f"({r['rob_pct_unable']}) are unable to determine; its scores are shown, not used to choose analyses.",
        ]
    )


def efficacy(ev: Evidence) -> GlueMarkdown:
    from helpers.chapters.efficacy import robustness_values
    from helpers.evidence.protocol import load_protocol

    primary = next(p for p in load_protocol().analyses if p.role == "primary")
    row = _row(ev, primary.id)
    if row is None:
        return _bullets(["no randomised trial reports the primary outcome."])
    rob = robustness_values(ev)
    return _bullets(
        [
            plain_statement(row) + ".",
            f"fragility index {rob['sri4_fragility_index']}; with non-responder imputation the risk ratio is "
            f"{rob['sri4_nri_estimate']}.",
            f"{row.k} {'trial' if row.k == 1 else 'trials'} ({row.studies}), {fmt_int(row.n_il2 + row.n_control)} "
            "patients"
            + (
                ": too few to estimate between-trial heterogeneity."
                if row.k < load_protocol().minimum_k("prediction_interval")
                else "."
            ),
        ]
    )


def treg(ev: Evidence) -> GlueMarkdown:
    row = next((r for r in summary_of_findings(ev) if r.outcome == "treg"), None)
    if row is None:
        return _bullets(["no included study reports a Treg finding."])
    return _bullets([plain_statement(row) + ".", f"studies: {row.studies}."])


def safety(ev: Evidence) -> GlueMarkdown:
    from helpers.review.safety import coverage_totals

    t = coverage_totals(ev)
    rows = [r for r in summary_of_findings(ev) if r.outcome.startswith("ae_")]
    return _bullets(
        [
            f"adverse-event counts for {fmt_int(t['il2_counted'])} of {fmt_int(t['il2_known'])} IL-2 patients; "
            f"a comparison with placebo for {fmt_int(t['il2_compared'])} "
            f"({join_words(t['trials_compared']) or 'none'}).",
            *[plain_statement(r) + "." for r in rows],
        ]
    )


def responder_indices(ev: Evidence) -> GlueMarkdown:
    from helpers.report.prose import parenthetical
    from helpers.review import responder

    m = responder.index_matrix(ev)
    reported = m[m["category"] != responder.NOT_REPORTED]
    excludes = m[m["category"] == responder.EXCLUDES]
    flagged = m[m["p_reproduced"].map(lambda v: v is False)]
    where = "; ".join(f"{i} {parenthetical(c)}" for i, c in zip(excludes["index"], excludes["column"]))
    return _bullets(
        [
            f"{fmt_int(len(reported))} of {fmt_int(len(m))} combinations of index and study time point have data.",
            f"the risk ratio's interval excludes no difference in {fmt_int(len(excludes))}"
            + (f": {where}." if len(excludes) else "."),
            f"{fmt_int(len(flagged))} reported p-values are reproduced by no test of the counts."
            if len(flagged)
            else "every reported p-value is reproduced by a test of the counts.",
        ]
    )
