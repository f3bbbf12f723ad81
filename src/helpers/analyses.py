"""Two-arm analyses: data selection -> effect sizes -> pooled estimates, as tidy rows.

An :class:`Analysis` says which outcome, time point and analysis population of which
studies it pools. :func:`run_binary` fits every model of :data:`BINARY_MODELS` to it on
every measure; :func:`efficacy_results` runs the book's efficacy analyses.
:mod:`helpers.results` collects every chapter's results into one table. Estimates are
on the reporting scale: ratios for RR and OR, differences for RD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import effects, pooling
from .data import Evidence

#: Columns of the results table, in order.
RESULT_COLUMNS = [
    "analysis",
    "label",
    "outcome",
    "timepoint",
    "population",
    "measure",
    "model",
    "method",
    "test",
    "k",
    "n_il2",
    "n_control",
    "estimate",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "pi_note",
    "tau2",
    "i2",
    "q",
    "q_p",
    "p",
    "studies",
    "inputs_derived",
]

#: (method, test) pairs fitted to every two-arm binary analysis: Mantel-Haenszel common
#: effect, and REML and DerSimonian-Laird random effects with z and Hartung-Knapp tests.
BINARY_MODELS = (("MH", "z"), ("REML", "z"), ("REML", "knha"), ("DL", "z"), ("DL", "knha"))
#: A single trial is not pooled: its own estimate (inverse-variance, i.e. escalc's yi and vi).
SINGLE_STUDY_MODELS = (("FE", "z"),)
BINARY_MEASURES = ("RR", "OR", "RD")

METHOD_LABELS = {
    "MH": "Fixed effect (Mantel-Haenszel)",
    "Peto": "Fixed effect (Peto)",
    "FE": "Inverse variance (single trial: no pooling)",
    "REML": "Random effects (REML)",
    "DL": "Random effects (DerSimonian-Laird)",
    "PM": "Random effects (Paule-Mandel)",
}


@dataclass(frozen=True)
class Analysis:
    """One pooled comparison of IL-2 with control."""

    id: str
    label: str
    outcome: str
    timepoint: str
    #: study_id -> analysis population used for that study
    populations: tuple[tuple[str, str], ...]
    population_label: str
    #: count patients *free* of the outcome (total - events), so that RR > 1 favours IL-2
    #: for an outcome where fewer is better (e.g. still having a BILAG A or 2 B score)
    invert: bool = False
    measures: tuple[str, ...] = BINARY_MEASURES

    @property
    def models(self) -> tuple[tuple[str, str], ...]:
        return BINARY_MODELS if len(self.populations) > 1 else SINGLE_STUDY_MODELS


#: Every two-arm analysis of the book.
TWO_ARM_ANALYSES = (
    Analysis(
        id="sri4_week12_rct",
        label="SRI-4 at week 12, randomised trials",
        outcome="sri4",
        timepoint="week_12",
        populations=(("he2020", "analysed_efficacy"), ("lupil2", "itt")),
        population_label="primary (He 2020 efficacy set; LUPIL-2 ITT)",
    ),
    Analysis(
        id="sri4_week12_rct_pp",
        label="SRI-4 at week 12, randomised trials, LUPIL-2 per-protocol (post hoc)",
        outcome="sri4",
        timepoint="week_12",
        populations=(("he2020", "analysed_efficacy"), ("lupil2", "per_protocol")),
        population_label="sensitivity (He 2020 efficacy set; LUPIL-2 post hoc per-protocol)",
    ),
    Analysis(
        id="sri4_week24_rct",
        label="SRI-4 at week 24, randomised trials (He 2020 only)",
        outcome="sri4",
        timepoint="week_24",
        populations=(("he2020", "analysed_efficacy"),),
        population_label="He 2020 efficacy set",
    ),
    Analysis(
        id="ln_complete_remission_rct",
        label="Lupus nephritis complete remission, randomised trials (He 2020 only)",
        outcome="ln_complete_remission",
        timepoint="end_of_study",
        populations=(("he2020", "subgroup"),),
        population_label="He 2020 patients with lupus nephritis",
    ),
)


def analysis(analysis_id: str) -> Analysis:
    return next(a for a in TWO_ARM_ANALYSES if a.id == analysis_id)


def two_arm_counts(ev: Evidence, a: Analysis) -> pd.DataFrame:
    """One row per study: events and totals in the IL-2 and control arms, with provenance flags.

    Raises ValueError naming the study when an arm's count is missing, so an analysis
    never silently drops a study.
    """
    o = ev.outcomes
    labels = ev.studies.set_index("study_id")["label"]
    rows = []
    for study_id, population in a.populations:
        sel = o[
            (o["study_id"] == study_id)
            & (o["outcome"] == a.outcome)
            & (o["timepoint"] == a.timepoint)
            & (o["population"] == population)
            & (o["statistic"] == "count")
        ]
        arms = {arm: sel[sel["arm"] == arm] for arm in ("il2", "placebo")}
        for arm, rows_arm in arms.items():
            if len(rows_arm) != 1 or rows_arm[["events", "total"]].isna().any(axis=None):
                raise ValueError(
                    f"{a.id}: no single count of {a.outcome} at {a.timepoint} for "
                    f"{study_id}, arm {arm}, population {population}"
                )
        il2, ctl = arms["il2"].iloc[0], arms["placebo"].iloc[0]
        e_il2, e_ctl = int(il2["events"]), int(ctl["events"])
        if a.invert:
            e_il2, e_ctl = int(il2["total"]) - e_il2, int(ctl["total"]) - e_ctl
        rows.append(
            {
                "study_id": study_id,
                "label": labels[study_id],
                "population": population,
                "events_il2": e_il2,
                "total_il2": int(il2["total"]),
                "events_control": e_ctl,
                "total_control": int(ctl["total"]),
                "derived": bool(il2["status"] == "derived" or ctl["status"] == "derived" or a.invert),
            }
        )
    return pd.DataFrame(rows)


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
    a, n1 = counts["events_il2"].to_numpy(), counts["total_il2"].to_numpy()
    c, n2 = counts["events_control"].to_numpy(), counts["total_control"].to_numpy()
    if method == "MH":
        return pooling.rma_mh(a, n1 - a, c, n2 - c, measure=measure)
    if method == "Peto":
        return pooling.rma_peto(a, n1 - a, c, n2 - c)
    es = effects.escalc(measure, ai=a, n1i=n1, ci=c, n2i=n2)
    return pooling.rma(es["yi"], es["vi"], method=method, test=test, measure=measure)


def result_row(a: Analysis, counts: pd.DataFrame, measure: str, result: pooling.RmaResult) -> dict:
    bt = pooling.back_transform(result, measure)
    return {
        "analysis": a.id,
        "label": a.label,
        "outcome": a.outcome,
        "timepoint": a.timepoint,
        "population": a.population_label,
        "measure": measure,
        "model": result.model,
        "method": result.method,
        "test": result.test,
        "k": result.k,
        "n_il2": int(counts["total_il2"].sum()),
        "n_control": int(counts["total_control"].sum()),
        "estimate": bt["estimate"],
        "ci_low": bt["ci_low"],
        "ci_high": bt["ci_high"],
        "pi_low": bt["pi_low"],
        "pi_high": bt["pi_high"],
        "pi_note": result.pi_note or "",
        "tau2": result.tau2,
        "i2": result.i2,
        "q": result.q,
        "q_p": result.q_p,
        "p": result.pval,
        "studies": "; ".join(counts["label"]),
        "inputs_derived": bool(counts["derived"].any()),
    }


def run_binary(ev: Evidence, a: Analysis) -> pd.DataFrame:
    """Every model (pooled, or the single trial's own estimate) on every measure of one analysis."""
    counts = two_arm_counts(ev, a)
    rows = [result_row(a, counts, m, fit(counts, m, method, test)) for m in a.measures for method, test in a.models]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def efficacy_results(ev: Evidence) -> pd.DataFrame:
    """The two-arm efficacy analyses, one row per analysis x measure x model."""
    return pd.concat([run_binary(ev, a) for a in TWO_ARM_ANALYSES], ignore_index=True)


def model_label(method: str, test: str) -> str:
    label = METHOD_LABELS[method]
    return label + (", Hartung-Knapp" if test == "knha" else "")


def forest_inputs(
    ev: Evidence, a: Analysis, measure: str, models=(("MH", "z"), ("REML", "z"), ("REML", "knha"))
) -> dict:
    """Data for :func:`helpers.forest.forest_plot`: study rows, pooled rows, heterogeneity and notes."""
    counts = two_arm_counts(ev, a)
    studies = study_effects(counts, measure)
    reml = fit(counts, measure, "REML", "z")
    studies["weight"] = reml.weights
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
