"""Two-arm analyses: data selection -> effect sizes -> pooled estimates, as tidy rows.

An :class:`Analysis` says which outcome, time point and analysis population of which
studies it pools. :func:`run_binary` fits every model of :data:`BINARY_MODELS` to it on
every measure; :func:`efficacy_results` runs the book's efficacy analyses.
:mod:`helpers.review.results` collects every chapter's results into one table. Estimates are
on the reporting scale: ratios for RR and OR, differences for RD.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import Protocol
from helpers.review.result_row import RESULT_COLUMNS, ResultRow, bayes_scale, results_frame
from helpers.review.selection import Analysis, planned_analyses, two_arm_counts
from helpers.stats import effects, pooling

__all__ = ["RESULT_COLUMNS", "Analysis", "ResultRow", "analysis", "results_frame", "two_arm_counts"]


METHOD_LABELS = {
    "MH": "Fixed effect (Mantel-Haenszel)",
    "Peto": "Fixed effect (Peto)",
    "FE": "Inverse variance (single trial: no pooling)",
    "REML": "Random effects (REML)",
    "DL": "Random effects (DerSimonian-Laird)",
    "PM": "Random effects (Paule-Mandel)",
    "Katz": "Single trial, not pooled (log interval)",
    "Newcombe": "Single trial, not pooled (Newcombe score interval)",
    "Wald": "Single trial, not pooled (Wald interval)",
}
TEST_LABELS = {"knha": ", Hartung-Knapp", "fisher": ", Fisher's exact p", "z": ""}

#: Roles of the declared analyses whose rows the efficacy chapter reports (the responder
#: indices are reported by their own chapter).
EFFICACY_ROLES = ("primary", "secondary", "sensitivity")


def study_effects(counts: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Per-study effect on the reporting scale, with its 95% CI (metafor's escalc defaults)."""
    es = effects.escalc(
        measure,
        ai=counts["events_il2"],
        n1i=counts["total_il2"],
        ci=counts["events_control"],
        n2i=counts["total_control"],
    )
    half = 1.959963984540054 * es["sei"].to_numpy()
    y = es["yi"].to_numpy()
    back = effects.transf_exp if measure in ("RR", "OR") else (lambda x: np.asarray(x, dtype=float))
    return pd.DataFrame(
        {
            "label": counts["label"].to_numpy(),
            "yi": y,
            "vi": es["vi"].to_numpy(),
            "estimate": back(y),
            "ci_low": back(y - half),
            "ci_high": back(y + half),
            "zero_cell_adjusted": es["zero_cell_adjusted"].to_numpy(),
        }
    )


def fit(counts: pd.DataFrame, measure: str, method: str, test: str) -> pooling.RmaResult:
    """The fit of one model to a trial-level counts table; it carries its inputs and the trials' labels."""
    a, n1 = counts["events_il2"].to_numpy(), counts["total_il2"].to_numpy()
    c, n2 = counts["events_control"].to_numpy(), counts["total_control"].to_numpy()
    labels = tuple(counts["label"])
    if method == "MH":
        return pooling.rma_mh(a, n1 - a, c, n2 - c, measure=measure, labels=labels)
    if method == "Peto":
        return pooling.rma_peto(a, n1 - a, c, n2 - c, labels=labels)
    es = effects.escalc(measure, ai=a, n1i=n1, ci=c, n2i=n2)
    return pooling.rma(es["yi"], es["vi"], method=method, test=test, measure=measure, labels=labels)


def result_row(a: Analysis, counts: pd.DataFrame, measure: str, result: pooling.RmaResult) -> ResultRow:
    return ResultRow.from_fit(
        result,
        measure=measure,
        analysis=a.id,
        label=a.label,
        outcome=a.outcome,
        timepoint=a.timepoint,
        population=a.population_label,
        n_il2=int(counts["total_il2"].sum()),
        n_control=int(counts["total_control"].sum()),
        studies="; ".join(counts["label"]),
        inputs_derived=bool(counts["derived"].any()),
    )


def run_binary(ev: Evidence, a: Analysis) -> pd.DataFrame:
    """Every model (pooled, or the single trial's own estimate) on every measure of one analysis."""
    counts = two_arm_counts(ev, a)
    return results_frame(
        [result_row(a, counts, m, fit(counts, m, method, test)) for m in a.measures for method, test in a.models]
    )


def analysis(ev: Evidence, analysis_id: str, protocol: Protocol | None = None) -> Analysis | None:
    """A declared analysis with the trials the data give it (None if no trial qualifies)."""
    from helpers.review.selection import analysis as planned

    return planned(ev, analysis_id, protocol)


def results_of(ev: Evidence, roles: tuple[str, ...], protocol: Protocol | None = None) -> pd.DataFrame:
    """Every declared analysis of these roles, one row per analysis x measure x model."""
    parts = [run_binary(ev, a) for a in planned_analyses(ev, protocol, roles)]
    return pd.concat(parts, ignore_index=True) if parts else results_frame([])


def efficacy_results(ev: Evidence) -> pd.DataFrame:
    """The declared two-arm efficacy analyses, one row per analysis x measure x model."""
    return results_of(ev, EFFICACY_ROLES)


def primary_model(k: int, protocol: Protocol | None = None) -> tuple[str, str, str]:
    """(measure, method, test) of the one estimate an analysis of k trials reports in the text, the figures and
    the summary of findings: the protocol's ``models.primary`` when trials are pooled, its single-study model
    (the trial's own estimate, on the same measure) for one trial."""
    from helpers.evidence.protocol import load_protocol

    protocol = protocol or load_protocol()
    measure, method, test = protocol.primary_model
    return (measure, method, test) if k > 1 else (measure, *protocol.single_study_models[0])


#: Why the heterogeneity of one analysis differs between its Mantel-Haenszel and its other rows.
Q_AROUND_TEXT = (
    "Cochran's Q (and the I² computed from it) measures how far the trials' estimates lie from a centre: in the "
    "Mantel-Haenszel rows that centre is the Mantel-Haenszel estimate, as in metafor's rma.mh, and in the "
    "inverse-variance rows (REML, DerSimonian-Laird) it is the inverse-variance common-effect estimate, the centre "
    "at which Q is smallest; so an analysis's Mantel-Haenszel Q and I² are at least those of its other rows, and "
    "equal only when the two estimates coincide."
)


def heterogeneity_q(counts: pd.DataFrame, measure: str, method: str) -> float:
    """Cochran's Q of a fit recomputed from its trials: Σ (yi - centre)² / vi, with the Mantel-Haenszel estimate as
    centre for ``method="MH"`` and the inverse-variance common-effect estimate otherwise (yi, vi: escalc, 1/2
    added to the cells of a trial with a zero cell)."""
    es = effects.escalc(
        measure,
        ai=counts["events_il2"],
        n1i=counts["total_il2"],
        ci=counts["events_control"],
        n2i=counts["total_control"],
    )
    y, v = es["yi"].to_numpy(float), es["vi"].to_numpy(float)
    if method == "MH":
        centre = fit(counts, measure, "MH", "z").estimate
    else:
        centre = float(np.sum(y / v) / np.sum(1 / v))
    return float(np.sum((y - centre) ** 2 / v))


def model_label(method: str, test: str) -> str:
    scale = bayes_scale(method)
    if scale is not None:
        return f"Bayesian random effects (half-normal prior on τ, scale {scale:g})"
    return METHOD_LABELS[method] + TEST_LABELS[test]


def primary_forest_inputs(ev: Evidence, a: Analysis, protocol: Protocol | None = None) -> dict:
    """Forest-plot data of an analysis under its primary model alone: the study rows weighted as that model
    weights them, one pooled row labelled as the primary analysis (none for a single trial, whose own row is
    the estimate), its heterogeneity line, and the notes (the common-effect caveat, derived counts)."""
    counts = two_arm_counts(ev, a, protocol)
    from helpers.report import forest

    measure, method, test = primary_model(a.k, protocol)
    res = fit(counts, measure, method, test)
    studies = forest.study_rows(res)
    studies["il2_text"] = [f"{e}/{n}" for e, n in zip(counts["events_il2"], counts["total_il2"])]
    studies["control_text"] = [f"{e}/{n}" for e, n in zip(counts["events_control"], counts["total_control"])]
    notes, pooled_rows, heterogeneity = [], [], None
    if a.k > 1:
        bt = pooling.back_transform(res, measure)
        pooled_rows.append({"label": f"Primary: {model_label(method, test)}", "model": res.model, **bt})
        heterogeneity = (
            f"Heterogeneity around the {METHOD_NAMES.get(method, method)} estimate: Q = {res.q:.2f} on {res.q_df} "
            f"df, p = {res.q_p:.2f}, I² = {res.i2:.0f}%"
        )
        if res.model == "fixed":
            notes.append(
                "A common-effect model: it assumes one true effect shared by the trials. Random-effects and "
                "Bayesian fits are sensitivity analyses (text and results appendix)."
            )
    else:
        studies["weight"] = np.nan  # nothing is pooled
    if counts["derived"].any():
        notes.append("Counts marked derived in the data are computed from reported percentages.")
    return {
        "studies": studies,
        "pooled": pd.DataFrame(pooled_rows) if pooled_rows else None,
        "heterogeneity": heterogeneity,
        "notes": notes,
        "counts": counts,
    }


#: Short names of the methods, for sentences.
METHOD_NAMES = {"MH": "Mantel-Haenszel", "REML": "REML", "DL": "DerSimonian-Laird", "FE": "inverse-variance"}


def forest_inputs(
    ev: Evidence, a: Analysis, measure: str, models=(("MH", "z"), ("REML", "z"), ("REML", "knha"))
) -> dict:
    """Data for :func:`helpers.report.forest.forest_plot`: study rows, pooled rows, heterogeneity and notes."""
    counts = two_arm_counts(ev, a)
    from helpers.report import forest  # matplotlib: only the pages that draw need it

    reml = fit(counts, measure, "REML", "z")
    studies = forest.study_rows(reml)  # the fit carries the study effects, labels and weights
    studies["il2_text"] = [f"{e}/{n}" for e, n in zip(counts["events_il2"], counts["total_il2"])]
    studies["control_text"] = [f"{e}/{n}" for e, n in zip(counts["events_control"], counts["total_control"])]
    pooled_rows, notes = [], []
    for method, test in models:
        res = fit(counts, measure, method, test)
        bt = pooling.back_transform(res, measure)
        pooled_rows.append({"label": model_label(method, test), "model": res.model, **bt})
        note = f"No prediction interval: {res.pi_note}."
        if res.model == "random" and res.pi_note and note not in notes:
            notes.append(note)
    heterogeneity = (
        f"Heterogeneity (REML): I² = {reml.i2:.0f}%, τ² = {reml.tau2:.3f}, "
        f"Q = {reml.q:.2f} on {reml.q_df} df, p = {reml.q_p:.2f}"
    )
    if counts["derived"].any():
        notes.append("Counts marked derived in the data are computed from reported percentages.")
    return {
        "studies": studies,
        "pooled": pd.DataFrame(pooled_rows),
        "heterogeneity": heterogeneity,
        "notes": notes,
        "counts": counts,
    }
