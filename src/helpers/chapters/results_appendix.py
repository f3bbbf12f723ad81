"""The results appendix: the results table for reading, every model of every analysis, and the medians converted
to means (shown with their caveats, never a row of the results table)."""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.labels import timepoint_label
from helpers.report.prose import GlueMarkdown, fmt_ci, fmt_int, fmt_num, is_missing, join_words
from helpers.review.analyses import METHOD_NAMES, Q_AROUND_TEXT, heterogeneity_q, model_label, primary_model
from helpers.review.selection import planned_analyses, two_arm_counts

#: How a heterogeneity statistic reads where it does not apply.
NOT_APPLICABLE = "not applicable"


def _interval(lo: object, hi: object, digits: int) -> str:
    return "–" if is_missing(lo) else f"{fmt_num(lo, digits)} to {fmt_num(hi, digits)}"


def _heterogeneity(value: object, places: int, k: int, test: str) -> str:
    """One study has no heterogeneity ('not applicable'); a Bayesian row has no I² or Q ('–')."""
    if k == 1 and test != "posterior":
        return NOT_APPLICABLE
    return "–" if is_missing(value) else fmt_num(value, places)


def results_display(results: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """The results table for reading (the CSV keeps full precision). Heterogeneity of a single study reads 'not
    applicable'; a Bayesian row's p, I² and Q, which it has not, read '–'."""
    k = results["k"].astype(int)
    return pd.DataFrame(
        {
            "Analysis": results["label"] + " [" + results["analysis"] + "]",
            "Measure": results["measure"],
            "Model": [model_label(m, t) for m, t in zip(results["method"], results["test"])],
            "k": results["k"],
            "n IL-2 / control": [
                f"{'–' if is_missing(a) else a} / {'–' if is_missing(b) else b}"
                for a, b in zip(results["n_il2"], results["n_control"])
            ],
            "Estimate (95% CI)": [
                f"{fmt_num(e, digits)} ({_interval(lo, hi, digits)})"
                for e, lo, hi in zip(results["estimate"], results["ci_low"], results["ci_high"])
            ],
            "PI": [_interval(lo, hi, digits) for lo, hi in zip(results["pi_low"], results["pi_high"])],
            "τ²": [_heterogeneity(v, 3, n, t) for v, n, t in zip(results["tau2"], k, results["test"])],
            "I² (%)": [_heterogeneity(v, 0, n, t) for v, n, t in zip(results["i2"], k, results["test"])],
            "Q p": [_heterogeneity(v, 2, n, t) for v, n, t in zip(results["q_p"], k, results["test"])],
            "Counts derived": ["yes" if d else "no" for d in results["inputs_derived"]],
        }
    )


def all_models_table(ev: Evidence, results: pd.DataFrame) -> pd.DataFrame:
    """Every measure under every model of every declared two-arm analysis (the variant grid), the protocol's
    primary estimate of each analysis marked; ``results`` is the results table (not indexed)."""
    rows = []
    for a in planned_analyses(ev):
        primary = primary_model(a.k)
        r = results[results["analysis"] == a.id]
        for x in r.itertuples(index=False):
            is_primary = (x.measure, x.method, x.test) == primary
            rows.append(
                {
                    "Analysis": f"{a.label} [{a.id}]",
                    "Measure": x.measure,
                    "Model": model_label(x.method, x.test),
                    "Primary": "primary" if is_primary else "sensitivity",
                    "k": x.k,
                    "Estimate (95% CI)": fmt_ci(x.estimate, x.ci_low, x.ci_high, label=False),
                    "p": "–" if x.test == "posterior" else fmt_num(x.p, 3),
                    "I² (%)": _heterogeneity(x.i2, 0, x.k, x.test),
                    "Q p": _heterogeneity(x.q_p, 2, x.k, x.test),
                }
            )
    columns = ["Analysis", "Measure", "Model", "Primary", "k", "Estimate (95% CI)", "p", "I² (%)", "Q p"]
    return pd.DataFrame(rows, columns=columns)


def q_explanation(ev: Evidence, results: pd.DataFrame) -> str:
    """Why one analysis shows two values of Q and I², with the numbers of the first pooled analysis."""
    pooled = [a for a in planned_analyses(ev) if a.k > 1]
    if not pooled:
        return "No analysis pools trials, so no row reports a heterogeneity statistic."
    a = pooled[0]
    measure, method, test = primary_model(a.k)
    if method != "MH":
        return Q_AROUND_TEXT
    counts = two_arm_counts(ev, a)
    r = results.set_index(["analysis", "measure", "method", "test"])
    mh, reml = r.loc[(a.id, measure, "MH", "z")], r.loc[(a.id, measure, "REML", "z")]
    around_mh, around_iv = heterogeneity_q(counts, measure, "MH"), heterogeneity_q(counts, measure, "REML")
    return (
        f"{Q_AROUND_TEXT} In the primary analysis ({a.label.lower()}, {measure}), Q is {fmt_num(around_mh)} around "
        f"the {METHOD_NAMES['MH']} estimate (I² = {fmt_num(mh['i2'], 0)}%) and {fmt_num(around_iv)} around the "
        f"inverse-variance one (I² = {fmt_num(reml['i2'], 0)}%)."
    )


# ---------------------------------------------------------------------------
# Medians and ranges converted to means: not a result
# ---------------------------------------------------------------------------
def estimated_md_table(ev: Evidence) -> pd.DataFrame:
    """SELENA-SLEDAI mean differences estimated from medians and ranges, with the estimated means and SDs."""
    from helpers.review.efficacy import estimated_md_results, estimated_mean_difference

    rows = estimated_md_results(ev)
    columns = [
        "Trial",
        "Time point",
        "IL-2: estimated mean (SD), n",
        "Placebo: estimated mean (SD), n",
        "Estimated mean difference (95% CI)",
    ]
    if rows.empty:
        return pd.DataFrame([["no trial reports medians and ranges"] + ["–"] * 4], columns=columns)
    ids = ev.studies.set_index("label")["study_id"]
    out = []
    for r in rows.itertuples(index=False):
        e = estimated_mean_difference(ev, study_id=ids[r.studies], timepoint=r.timepoint)
        out.append(
            [
                r.studies,
                timepoint_label(r.timepoint),
                f"{fmt_num(e['mean_il2'], 1)} ({fmt_num(e['sd_il2'], 1)}), {fmt_int(e['n_il2'])}",
                f"{fmt_num(e['mean_placebo'], 1)} ({fmt_num(e['sd_placebo'], 1)}), {fmt_int(e['n_placebo'])}",
                fmt_ci(r.estimate, r.ci_low, r.ci_high, 1, label=False),
            ]
        )
    return pd.DataFrame(out, columns=columns)


def estimated_md_text(ev: Evidence) -> GlueMarkdown:
    """What the conversion does, which method, and why it is not a result."""
    from helpers.review.efficacy import estimated_md_results, estimated_mean_difference, median_range_trials

    rows = estimated_md_results(ev)
    if rows.empty:
        return GlueMarkdown(
            "No randomised trial reports SELENA-SLEDAI as medians and ranges, so no mean difference is estimated."
        )
    trials = median_range_trials(ev)
    method = estimated_mean_difference(ev, study_id=trials[0])["method"]
    labels = ev.study_labels
    return GlueMarkdown(
        f"{join_words([labels[s] for s in trials])} report{'s' if len(trials) == 1 else ''} SELENA-SLEDAI per arm as "
        f"medians with ranges. Converting each to an estimated mean and standard deviation ({method}: "
        "{cite:p}`luo2018,wan2014`) and taking the difference gives the values below. They are not results of this "
        "review and are not in the results table: both methods assume roughly normally distributed scores, which "
        "bounded, skewed disease-activity scores in small arms are not, and the range, which drives the standard "
        "deviation, rests on the two most extreme patients of each arm. The table shows how far such an assumption "
        "would take the data, nothing more."
    )


def primary_rule_text() -> str:
    """The protocol's primary estimate of an analysis, in words (``models.primary``)."""
    from helpers.evidence.protocol import load_protocol

    measure, method, _ = load_protocol().primary_model
    word = {"RR": "risk ratio", "OR": "odds ratio", "RD": "risk difference"}[measure]
    kind = "common-effect" if method in ("MH", "Peto", "FE") else "random-effects"
    return f"for pooled trials the {METHOD_NAMES.get(method, method)} {kind} {word}, for a single trial its own {word}"


def glue_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """Counts of the results table, the protocol's primary estimate in words and the heterogeneity explanation."""
    single = results[(results["k"] == 1) & (results["test"] != "posterior")]
    return {
        "results_primary_rule": primary_rule_text(),
        "results_n_rows": fmt_int(len(results)),
        "results_n_analyses": fmt_int(results["analysis"].nunique()),
        "results_q_text": q_explanation(ev, results),
        "results_n_single": fmt_int(len(single)),
        "estimated_md_text": estimated_md_text(ev),
    }
