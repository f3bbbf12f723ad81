"""Display tables built from the evidence (characteristics, inclusion, outcome values).

Tables here are for reading: cells are formatted text, unknown values read
"not reported", and derived numbers are marked so the reader can look up the
derivation in the data appendix.
"""

from __future__ import annotations

import pandas as pd

from .data import Evidence
from .prose import NOT_REPORTED, fmt_int, fmt_num, fmt_pct, fmt_reported, is_missing
from .reconciliation import counted_patients

DESIGN_LABELS = {
    "rct": "Randomised, placebo-controlled",
    "open_label": "Open-label",
    "controlled_nonrandomised": "Controlled, not randomised",
    "observational": "Observational",
    "case_report": "Case report",
    "not_reported": NOT_REPORTED,
}

ARM_LABELS = {"il2": "IL-2", "placebo": "Placebo", "conventional": "Conventional therapy"}
TIMEPOINT_LABELS = {
    "baseline": "Baseline",
    "end_of_study": "End of study",
    "trial_period": "Trial period",
    "during_treatment": "During treatment",
}
POPULATION_LABELS = {
    "analysed_efficacy": "efficacy set",
    "itt": "ITT",
    "per_protocol": "per-protocol",
    "subgroup": "subgroup",
    "enrolled": "enrolled",
    "treated": "treated",
    "randomised": "randomised",
}


def timepoint_label(tp: str) -> str:
    """'week_12' -> 'Week 12'; named time points by TIMEPOINT_LABELS."""
    return TIMEPOINT_LABELS.get(tp, tp.replace("week_", "Week "))


def text_or_nr(value: object) -> str:
    return NOT_REPORTED if is_missing(value) else str(value)


def regimen_text(study: pd.Series) -> str:
    """'rhIL-2 1 MIU, every other day, 3 cycles (12 weeks)'; unknown parts read 'not reported'."""
    dose = (
        f"{fmt_num(study['dose_miu'], 1).removesuffix('.0')} MIU"
        if not is_missing(study["dose_miu"])
        else f"dose {NOT_REPORTED}"
    )
    parts = [f"{text_or_nr(study['agent'])} {dose}", text_or_nr(study["frequency"])]
    if not is_missing(study["cycles"]):
        parts.append(f"{int(study['cycles'])} cycles")
    text = ", ".join(parts)
    return f"{text} ({study['duration']})" if not is_missing(study["duration"]) else text


def value_text(row: pd.Series, digits: int = 1) -> str:
    """One outcome row as text: '16/29 (55.2%)', '12 (8–27)', '31.58 ± 9.25', or 'not reported'.

    Medians, ranges, means and SDs keep the decimals they were reported with.
    """
    stat = row["statistic"]
    if stat == "count":
        if not is_missing(row["events"]) and not is_missing(row["total"]):
            return f"{int(row['events'])}/{int(row['total'])} ({fmt_pct(100 * row['events'] / row['total'], digits)})"
        return f"{fmt_pct(row['percent'], digits)} (n {NOT_REPORTED})"
    if stat in ("median_range", "median_iqr"):
        return f"{fmt_reported(row['median'])} ({fmt_reported(row['lower'])}–{fmt_reported(row['upper'])})"
    if stat == "mean_sd":
        return f"{fmt_reported(row['mean'])} ± {fmt_reported(row['sd'])}"
    if stat == "qualitative":
        return str(row["note"])
    return NOT_REPORTED


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
    from .analyses import model_label

    def interval(lo: object, hi: object) -> str:
        return "–" if is_missing(lo) else f"{fmt_num(lo, digits)} to {fmt_num(hi, digits)}"

    return pd.DataFrame(
        {
            "Analysis": results["label"] + " [" + results["analysis"] + "]",
            "Measure": results["measure"],
            "Model": [model_label(m, t) for m, t in zip(results["method"], results["test"])],
            "k": results["k"],
            "n IL-2 / control": [f"{a} / {b}" for a, b in zip(results["n_il2"], results["n_control"])],
            "Estimate (95% CI)": [
                f"{fmt_num(e, digits)} ({interval(lo, hi)})"
                for e, lo, hi in zip(results["estimate"], results["ci_low"], results["ci_high"])
            ],
            "PI": [interval(lo, hi) for lo, hi in zip(results["pi_low"], results["pi_high"])],
            "τ²": [fmt_num(v, 3) for v in results["tau2"]],
            "I² (%)": [fmt_num(v, 0) for v in results["i2"]],
            "Q p": [fmt_num(v, 2) for v in results["q_p"]],
            "Counts derived": ["yes" if d else "no" for d in results["inputs_derived"]],
        }
    )
