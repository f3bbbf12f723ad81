"""The reproduction scorecard: each checkable statement of the review's abstracts against this book's finding.

The review's abstracts (v1 and v2) make six statements a reader can check. For each, the
verdict (reproduced, partly, not reproducible, contradicted) and its reason are computed from
the data by a rule written here, so a new trial or a corrected number changes the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import load_protocol
from helpers.report.prose import fmt_int, join_words
from helpers.review.selection import memo

VERDICTS = ("reproduced", "partly reproduced", "not reproducible", "contradicted")


@dataclass(frozen=True)
class Score:
    claim: str
    review_says: str
    book_finds: str
    verdict: str
    reason: str


def _search(ev: Evidence) -> Score:
    """Records retrieved: reproducible only if every database's search string is known."""
    s = ev.search
    missing = s.loc[s["query"].isna(), "database"].tolist()
    n = ev.review_value("records_retrieved")
    if missing:
        return Score(
            "Records retrieved",
            f"{fmt_int(n)} records from {join_words(s['database'].tolist())}",
            f"no search strings for {join_words(missing)} in the sources consulted",
            "not reproducible",
            "without the search strings the search cannot be rerun; the count is taken as reported",
        )
    return Score(
        "Records retrieved",
        f"{fmt_int(n)} records",
        "every search string is known",
        "reproduced",
        "the search can be rerun",
    )


def _totals(ev: Evidence) -> Score:
    """Studies and patients: reproduced if every total matches, partly if some do."""
    from helpers.review.reconciliation import book_totals

    t = book_totals(ev)
    pairs = {
        "studies": (ev.review_value("studies_total"), t["studies_included"]),
        "patients on IL-2": (ev.review_value("patients_il2"), t["patients_il2_known"]),
        "patients on placebo": (ev.review_value("patients_placebo"), t["patients_placebo_known"]),
        "patients in all": (ev.review_value("patients_total"), t["patients_known"]),
    }
    same = [k for k, (a, b) in pairs.items() if a == b]
    differ = [f"{k} ({fmt_int(a)} against {fmt_int(b)})" for k, (a, b) in pairs.items() if a != b]
    verdict = "reproduced" if not differ else "partly reproduced" if same else "not reproducible"
    matched = (
        f"the total of {same[0]} matches"
        if len(same) == 1
        else f"the totals of {join_words(same)} match"
        if same
        else "no total matches"
    )
    reason = matched + (
        f"; {join_words(differ)} differ{'s' if len(differ) == 1 else ''}: the review's study table is not "
        "available, so the studies are reconstructed, not confirmed"
        if differ
        else ""
    )
    return Score(
        "Studies and patients",
        f"{fmt_int(pairs['studies'][0])} studies, {fmt_int(pairs['patients in all'][0])} patients "
        f"({fmt_int(pairs['patients on IL-2'][0])} on IL-2, {fmt_int(pairs['patients on placebo'][0])} on placebo)",
        f"{fmt_int(t['studies_included'])} studies reconstructed, {fmt_int(t['patients_known'])} patients of known "
        f"number ({fmt_int(t['patients_il2_known'])} on IL-2, {fmt_int(t['patients_placebo_known'])} on placebo)",
        verdict,
        reason,
    )


def _treg_response(ev: Evidence) -> Score:
    """Treg expansion with clinical response in the open-label studies: partly, where both are reported
    but only as two statements (no Treg values to relate to response)."""
    from helpers.review import treg

    pairs = treg.clinical_pairs(ev)
    designs = ev.studies.set_index("study_id")["design"]
    open_label = pairs[(pairs["inclusion_status"] == "included") & pairs["study_id"].map(designs).eq("open_label")]
    both = open_label.loc[open_label["both_reported"].astype(bool), "label"].tolist()
    rows = treg.treg_rows(ev)
    values = rows["statistic"].isin(["mean_sd", "median_range", "median_iqr"]).any()
    review = "Treg expansion that coincided with a clinical response (open-label studies)"
    if not both:
        return Score(
            "Treg and response",
            review,
            "no open-label study reports both",
            "not reproducible",
            "no included open-label study reports a Treg finding and a clinical response",
        )
    found = (
        f"both reported in {fmt_int(len(both))} of {fmt_int(len(open_label))} open-label studies ({join_words(both)})"
    )
    if values:
        return Score(
            "Treg and response",
            review,
            found,
            "partly reproduced",
            "Treg values are reported, so the association can be examined (see the Treg chapter)",
        )
    return Score(
        "Treg and response",
        review,
        found,
        "partly reproduced",
        "they coincide only as two statements about the same study: no study gives Treg values, so Treg change "
        "cannot be related to response",
    )


def _primary_endpoints(ev: Evidence) -> Score:
    """Both RCTs missed their primary endpoints: reproduced if every primary-endpoint p-value of the
    primary analysis' trials is 0.05 or more, contradicted if any is below."""
    from helpers.review.claims import p_below, reported_rows
    from helpers.review.selection import planned_analyses

    primary = [a for a in planned_analyses(ev) if a.role == "primary"]
    labels = ev.study_labels
    rows = pd.concat([reported_rows(ev, a) for a in primary]) if primary else pd.DataFrame()
    rows = rows[rows["note"].fillna("").str.startswith("Primary endpoint")] if len(rows) else rows
    if rows.empty:
        return Score(
            "Primary endpoints of the RCTs",
            "not achieved",
            "no primary-endpoint row",
            "not reproducible",
            "no randomised trial's primary endpoint is in the data",
        )
    ps = [(labels[r.study_id], r.p_value) for r in rows.itertuples()]
    met = [lab for lab, p in ps if p_below(p)]
    found = "; ".join(f"{lab}: p = {p}" for lab, p in ps) + " (as reported)"
    if met:
        return Score(
            "Primary endpoints of the RCTs",
            "not achieved",
            found,
            "contradicted",
            f"{join_words(met)} reports p below 0.05 for its primary endpoint",
        )
    return Score(
        "Primary endpoints of the RCTs",
        "not achieved",
        found,
        "reproduced",
        f"every reported primary-endpoint p-value ({fmt_int(len(ps))} trials) is 0.05 or more",
    )


def _safety(ev: Evidence) -> Score:
    """Safe and well tolerated: a judgement the book cannot reproduce in full; partly where at least one
    trial compares adverse events with placebo, not reproducible where none does."""
    from helpers.review.claims import REGISTRY
    from helpers.review.safety import coverage_totals

    t = coverage_totals(ev)
    # The registry's check of "no source reports discontinuations, deaths or serious adverse events".
    none_fatal = not REGISTRY["no_discontinuations_deaths_serious"].check(ev)
    lead = "no study reports a death or a discontinuation for adverse events, but " if none_fatal else ""
    found = (
        f"adverse-event counts for {fmt_int(t['il2_counted'])} of {fmt_int(t['il2_known'])} IL-2 patients of known "
        f"number; a comparison with placebo for {fmt_int(t['il2_compared'])}"
        + (f" ({join_words(t['trials_compared'])})" if t["trials_compared"] else "")
    )
    review = "low-dose IL-2 appeared safe and well tolerated"
    if not t["il2_compared"]:
        return Score("Safety", review, found, "not reproducible", "no trial compares adverse events with placebo")
    return Score(
        "Safety",
        review,
        found,
        "partly reproduced",
        f"{lead}the counts cover only part of the patients and a harm that is not reported is not shown to be "
        "absent; see the summary of findings for the certainty"
        if t["il2_counted"] < t["il2_known"]
        else "the counts cover every IL-2 patient; see the summary of findings for the certainty",
    )


def _responder_indices(ev: Evidence) -> Score:
    """Responder indices differ in sensitivity: the abstracts give the aim, not the result, so the
    review's answer cannot be checked; the book can only lay the indices side by side."""
    from helpers.review import responder

    m = responder.index_matrix(ev)
    reported = m[m["category"] != "not reported"]
    per_trial = reported.groupby("study_id")["index"].nunique()
    designs = ev.studies.set_index("study_id")["design"]
    rcts = [s for s, n in per_trial.items() if n > 1 and designs.get(s) == "rct"]
    labels = ev.study_labels
    return Score(
        "Responder indices",
        "the indices differ in how sensitive they are to IL-2-induced improvement (the aim; no result is given)",
        f"{fmt_int(len(rcts))} randomised {'trial reports' if len(rcts) == 1 else 'trials report'} more than one "
        f"index{' (' + join_words([labels[s] for s in rcts]) + ')' if rcts else ''}; see the responder-index chapter",
        "not reproducible",
        "the abstracts state the question but report no responder-index result to compare with",
    )


def scorecard(ev: Evidence) -> list[Score]:
    """The six statements in the order of the abstract (computed once per evidence object and protocol
    content: the abstract, key findings, discussion and scorecard pages all ask for them)."""
    return list(memo(ev, ("scorecard", load_protocol().content_key), lambda: tuple(_scores(ev))))


def _scores(ev: Evidence) -> list[Score]:
    return [_search(ev), _totals(ev), _treg_response(ev), _primary_endpoints(ev), _safety(ev), _responder_indices(ev)]


def scorecard_table(scores: list[Score]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Statement": [s.claim for s in scores],
            "The review's abstract": [s.review_says for s in scores],
            "This book": [s.book_finds for s in scores],
            "Verdict": [s.verdict for s in scores],
            "Why": [s.reason[:1].upper() + s.reason[1:] + "." for s in scores],
        }
    )
