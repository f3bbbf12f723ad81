"""Display tables of the studies: characteristics, inclusion decisions, the results table for reading."""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.labels import (
    DESIGN_LABELS,
    regimen_text,
    text_or_nr,
    value_text,
)
from helpers.report.prose import NOT_REPORTED, fmt_int, fmt_num, is_missing
from helpers.review.reconciliation import counted_patients


def _n_text(counted: pd.DataFrame, study_id: str, arm: str) -> str:
    row = counted[(counted["study_id"] == study_id) & (counted["arm"] == arm)]
    if row.empty:
        return "–"
    r = row.iloc[0]
    if is_missing(r["n"]):
        return NOT_REPORTED
    mark = " (derived)" if r["status"] == "derived" else ""
    return f"{fmt_int(r['n'])} {r['population']}{mark}"


def _baseline_text(ev: Evidence, study_id: str, outcome: str) -> str:
    o = ev.outcomes
    rows = o[
        (o["study_id"] == study_id) & (o["outcome"] == outcome) & (o["timepoint"] == "baseline") & (o["arm"] == "il2")
    ]
    if rows.empty:
        return NOT_REPORTED
    return value_text(rows.iloc[0])


def characteristics_table(ev: Evidence) -> pd.DataFrame:
    """Characteristics of the included studies (IL-2 arm for baseline values)."""
    counted = counted_patients(ev)
    rows = []
    for s in ev.included_studies().itertuples(index=False):
        study = pd.Series(s._asdict())
        rows.append(
            {
                "Study": s.label,
                "Design": DESIGN_LABELS[s.design],
                "Registration": text_or_nr(s.registration),
                "Population": text_or_nr(s.population),
                "Regimen": regimen_text(study),
                "n IL-2": _n_text(counted, s.study_id, "il2"),
                "n placebo": _n_text(counted, s.study_id, "placebo"),
                "Age, IL-2 arm (years)": _baseline_text(ev, s.study_id, "age_years"),
                "Female, IL-2 arm": _baseline_text(ev, s.study_id, "female"),
                "Baseline SELENA-SLEDAI, IL-2 arm": _baseline_text(ev, s.study_id, "selena_sledai"),
            }
        )
    return pd.DataFrame(rows)


def inclusion_table(ev: Evidence, statuses: tuple[str, ...] = ("candidate", "excluded")) -> pd.DataFrame:
    """Studies not included, with status and reason."""
    s = ev.studies[ev.studies["inclusion_status"].isin(statuses)]
    return pd.DataFrame(
        {
            "Study": s["label"],
            "Design": s["design"].map(DESIGN_LABELS),
            "Status": s["inclusion_status"],
            "Reason": s["inclusion_reason"],
        }
    ).reset_index(drop=True)


def results_display(results: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """The results table formatted for reading (the CSV keeps full precision)."""
    from helpers.review.analyses import model_label

    def interval(lo: object, hi: object) -> str:
        return "–" if is_missing(lo) else f"{fmt_num(lo, digits)} to {fmt_num(hi, digits)}"

    def heterogeneity(value: object, places: int) -> str:
        return "–" if is_missing(value) else fmt_num(value, places)

    return pd.DataFrame(
        {
            "Analysis": results["label"] + " [" + results["analysis"] + "]",
            "Measure": results["measure"],
            "Model": [model_label(m, t) for m, t in zip(results["method"], results["test"])],
            "k": results["k"],
            "n IL-2 / control": [
                f"{'–' if is_missing(a) else fmt_int(a)} / {'–' if is_missing(b) else fmt_int(b)}"
                for a, b in zip(results["n_il2"], results["n_control"])
            ],
            "Estimate (95% CI)": [
                f"{fmt_num(e, digits)} ({interval(lo, hi)})"
                for e, lo, hi in zip(results["estimate"], results["ci_low"], results["ci_high"])
            ],
            "PI": [interval(lo, hi) for lo, hi in zip(results["pi_low"], results["pi_high"])],
            # not applicable (NaN) to a single trial's own result, nor I² and Q to a Bayesian fit
            "τ²": [heterogeneity(v, 3) for v in results["tau2"]],
            "I² (%)": [heterogeneity(v, 0) for v in results["i2"]],
            "Q p": [heterogeneity(v, 2) for v in results["q_p"]],
            "Counts derived": ["yes" if d else "no" for d in results["inputs_derived"]],
        }
    )
