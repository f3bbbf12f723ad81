"""Treg outcomes: what each study reports, regimen against Treg response, Treg against clinical response.

The Treg rows of ``data/outcomes.csv`` (outcomes whose domain is "treg") are read for the
included studies and for any candidate study that has a Treg row. No consulted source gives
Treg values with a spread (they sit in figures that were not read), so the tables here are
mostly qualitative: a direction, the source's words, or "not reported". Nothing is read off a
figure.

A pooled standardized mean change (metafor's "SMCR": change over the baseline SD, with a
pre-post correlation that must be assumed) is computed only when at least
:data:`MIN_STUDIES_SMC` studies give a baseline and a follow-up mean with SDs
(:func:`smc_inputs`); otherwise :func:`treg_results` returns no rows and
:func:`smc_status` says why.
"""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.labels import dose_text, timepoint_phrase, timepoint_text, value_text
from helpers.report.prose import NOT_REPORTED, fmt_num, is_missing
from helpers.review.result_row import ResultRow, results_frame
from helpers.stats import effects, pooling

MEASURE_NOT_STATED = "not stated in the consulted sources"

REGIMEN_LABELS = {
    "every_other_day": "Every other day, in cycles",
    "daily_5day_induction": "Daily for 5 days (then maintenance or repeat courses)",
    "not_reported": "Regimen not reported",
}
INCLUSION_LABELS = {"included": "included", "candidate": "candidate (not included)", "excluded": "excluded"}
DIRECTION_LABELS = {
    "increase": "Increase reported",
    "decrease": "Decrease reported",
    "no_change": "No change reported",
    "none_observed": "None observed",
    "between_arm_difference": "Difference between arms reported",
}
DIRECTION_WORDS = {
    "increase": "Increase",
    "decrease": "Decrease",
    "no_change": "No change",
    "none_observed": "None observed",
    "between_arm_difference": "Difference between arms",
}

#: Clinical outcomes paired with Treg findings, in order of preference: (outcome, timepoints or None for any).
CLINICAL_PREFERENCE = (
    ("sri4", ("week_12",)),
    ("sri4", None),
    ("sri_unspecified", None),
    ("ln_complete_remission", None),
    ("ln_remission", None),
    ("sledai_reduction_any", None),
    ("clinical_response_unspecified", None),
)
CLINICAL_POPULATIONS = ("analysed_efficacy", "itt", "enrolled", "treated", "randomised", "subgroup", "per_protocol")

MIN_STUDIES_SMC = 2
#: Pre-post correlation used for SMCR if it is ever computed: no source reports one.
ASSUMED_PRE_POST_R = 0.5


def treg_outcomes(ev: Evidence) -> list[str]:
    d = ev.outcome_definitions
    return d.loc[d["domain"] == "treg", "outcome"].tolist()


def treg_rows(ev: Evidence) -> pd.DataFrame:
    """Treg rows of the included studies and of candidate studies with a Treg row (IL-2 arms first)."""
    from helpers.review.selection import rows_by_role

    o = ev.outcomes
    rows = rows_by_role(ev, o[o["outcome"].isin(treg_outcomes(ev))])  # arm is the arm's role
    return (
        rows.assign(_arm=rows["arm"].map({"il2": 0, "placebo": 1, "conventional": 2}))
        .sort_values(["study_id", "_arm"], kind="stable")
        .drop(columns="_arm")
    )


def scope_studies(ev: Evidence) -> pd.DataFrame:
    """Included studies, then candidate studies that have a Treg row, in the order of studies.csv."""
    s = ev.studies
    with_rows = set(treg_rows(ev)["study_id"])
    keep = s["study_id"].isin(ev.included_studies()["study_id"]) | (
        (s["inclusion_status"] == "candidate") & s["study_id"].isin(with_rows)
    )
    out = s[keep].copy()
    out["_inc"] = (out["inclusion_status"] != "included").astype(int)
    return out.sort_values("_inc", kind="stable").drop(columns="_inc").reset_index(drop=True)


def _numeric(r: pd.Series) -> bool:
    return r["statistic"] in ("mean_sd", "median_range", "median_iqr")


def _finding(rows: pd.DataFrame) -> str:
    """The IL-2 arm's Treg finding in words (direction and the source's note, or why it is missing)."""
    il2 = rows[rows["arm"] == "il2"]
    if il2.empty:
        return "no Treg outcome in the consulted sources"
    texts = []
    for _, r in il2.iterrows():
        if r["statistic"] == "qualitative":
            direction = DIRECTION_WORDS.get(str(r["direction"]), "Finding")
            texts.append(f"{direction}. {r['note']}")
        elif r["statistic"] == "count" and not is_missing(r["events"]):
            texts.append(_count_finding(r))
        elif r["status"] == "not_reported":
            texts.append(f"Not reported: {r['na_reason']}")
        elif _numeric(r):
            texts.append(f"{timepoint_text(r['timepoint'])}: {value_text(r)}")
    return "; ".join(dict.fromkeys(texts))


def _count_finding(r: pd.Series) -> str:
    """A count of patients with a Treg change: 'Increase in 12/12 (100.0%) patients; p <0.001 against baseline.
    <note>' (the time point has its own column)."""
    direction = DIRECTION_WORDS.get(str(r["direction"]), "Change")
    compared = {"vs_baseline": " against baseline", "between_arms": " between arms"}.get(str(r["p_comparison"]), "")
    p = f"; p {r['p_value']}{compared}" if not is_missing(r["p_value"]) else ""
    note = f" {r['note']}" if not is_missing(r["note"]) else ""
    return f"{direction} in {value_text(r)} patients{p}.{note}"


def finding_text(r: pd.Series) -> str:
    """What one Treg row states, in words: a count of patients, or a qualitative row's note ('' if none)."""
    if r["statistic"] == "count" and not is_missing(r["events"]):
        return _count_finding(r)
    return "" if is_missing(r["note"]) else str(r["note"])


def _values(rows: pd.DataFrame, baseline: bool) -> str:
    il2 = rows[(rows["arm"] == "il2") & rows.apply(_numeric, axis=1)]
    il2 = il2[(il2["timepoint"] == "baseline") == baseline]
    if il2.empty:
        return NOT_REPORTED
    return "; ".join(f"{timepoint_text(r['timepoint'])}: {value_text(r)}" for _, r in il2.iterrows())


def _fold(rows: pd.DataFrame) -> str:
    inputs = _study_smc_row(rows)
    if inputs is None:
        return NOT_REPORTED
    return f"{fmt_num(inputs['m_post'] / inputs['m_pre'], 2)} (derived: follow-up mean / baseline mean)"


def _timepoints(rows: pd.DataFrame) -> str:
    il2 = rows[rows["arm"] == "il2"]
    return ", ".join(dict.fromkeys(timepoint_text(t) for t in il2["timepoint"])) or NOT_REPORTED


def _source(rows: pd.DataFrame) -> str:
    return "; ".join(dict.fromkeys(f"{r['evidence_ref']}: {r['locator']}" for _, r in rows.iterrows())) or "–"


def measure_text(rows: pd.DataFrame) -> str:
    """The Treg measure as the study's rows name it (outcomes.csv ``measure``), with the evidence code."""
    named = rows[rows["measure"].notna() & (rows["arm"] == "il2")]
    if named.empty:
        return MEASURE_NOT_STATED
    return "; ".join(dict.fromkeys(f"{r.measure} [{r.evidence_ref}]" for r in named.itertuples()))


def values_text(rows: pd.DataFrame) -> str:
    """'baseline: ...; follow-up: ...; fold change: ...', or 'not reported' when none is given."""
    base, follow, fold = _values(rows, baseline=True), _values(rows, baseline=False), _fold(rows)
    if base == follow == fold == NOT_REPORTED:
        return NOT_REPORTED
    return "; ".join(
        [
            base if base != NOT_REPORTED else f"baseline {NOT_REPORTED}",
            follow if follow != NOT_REPORTED else f"follow-up {NOT_REPORTED}",
            f"fold change {fold}",
        ]
    )


def study_label(s) -> str:
    return s.label if s.inclusion_status == "included" else f"{s.label}, {s.inclusion_status}"


def treg_table(ev: Evidence) -> pd.DataFrame:
    """Per study: Treg measure, time of measurement, values (baseline, follow-up, fold change), finding, source."""
    rows = treg_rows(ev)
    out = []
    for s in scope_studies(ev).itertuples(index=False):
        r = rows[rows["study_id"] == s.study_id]
        out.append(
            {
                "Study": study_label(s),
                "Treg measure (as the source names it)": measure_text(r),
                "Time of measurement": _timepoints(r),
                "Values (baseline; follow-up; fold change)": values_text(r),
                "Finding (IL-2 arm)": _finding(r),
                "Source": _source(r),
            }
        )
    return pd.DataFrame(out)


def direction_of(ev: Evidence, study_id: str) -> str:
    """'increase', 'not reported' (no usable row) or another direction of the IL-2 arm's Treg rows."""
    r = treg_rows(ev)
    r = r[(r["study_id"] == study_id) & (r["arm"] == "il2") & (r["status"] != "not_reported")]
    directions = [d for d in r["direction"].dropna()]
    if directions:
        return str(directions[0])
    return "values" if len(r) else NOT_REPORTED


def regimen_table(ev: Evidence) -> pd.DataFrame:
    """Regimen (group, dose, schedule) against the Treg response each study reports."""
    out = []
    order = {k: i for i, k in enumerate(REGIMEN_LABELS)}
    scope = scope_studies(ev)
    scope = scope.assign(_g=scope["regimen_group"].map(order)).sort_values("_g", kind="stable")
    rows = treg_rows(ev)
    for s in scope.itertuples(index=False):
        r = rows[rows["study_id"] == s.study_id]
        direction = direction_of(ev, s.study_id)
        dose = dose_text(s.dose_miu, s.dose_miu_low, s.dose_miu_high)
        out.append(
            {
                "Regimen group": REGIMEN_LABELS[s.regimen_group],
                "Study": study_label(s),
                "Agent": s.agent if not is_missing(s.agent) else NOT_REPORTED,
                "Dose per injection": dose,
                "Schedule": "; ".join(str(v) for v in (s.frequency, s.duration) if not is_missing(v)) or NOT_REPORTED,
                "Treg response": DIRECTION_LABELS.get(
                    direction, "Not reported" if direction == NOT_REPORTED else direction
                ),
                "Treg values": values_text(r),
            }
        )
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------
# Treg against clinical response
# ---------------------------------------------------------------------------
def clinical_rows(ev: Evidence, study_id: str) -> pd.DataFrame:
    """The study's preferred clinical response rows (both arms), or an empty frame."""
    from helpers.review.selection import rows_by_role

    o = ev.outcomes
    o = rows_by_role(ev, o[(o["study_id"] == study_id) & (o["status"] != "not_reported")])  # dose arms combined
    rank = {p: i for i, p in enumerate(CLINICAL_POPULATIONS)}
    for outcome, timepoints in CLINICAL_PREFERENCE:
        sel = o[o["outcome"] == outcome]
        if timepoints is not None:
            sel = sel[sel["timepoint"].isin(timepoints)]
        if sel.empty:
            continue
        sel = sel.assign(_r=sel["population"].map(rank).fillna(len(rank)))
        best = sel.sort_values(["_r", "timepoint"]).iloc[0]
        return sel[(sel["population"] == best["population"]) & (sel["timepoint"] == best["timepoint"])].drop(
            columns="_r"
        )
    return o.iloc[0:0]


def _clinical_text(ev: Evidence, rows: pd.DataFrame) -> str:
    if rows.empty:
        return NOT_REPORTED
    label = dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["label"]))[rows["outcome"].iloc[0]]
    arms = {"il2": "IL-2", "placebo": "placebo", "conventional": "conventional therapy"}
    parts = [f"{value_text(r)} with {arms[r['arm']]}" for _, r in rows.iterrows()]
    derived = "; counts derived from reported percentages" if (rows["status"] == "derived").any() else ""
    return f"{label} {timepoint_phrase(rows['timepoint'].iloc[0])}: " + " vs ".join(parts) + derived


def clinical_pairs(ev: Evidence) -> pd.DataFrame:
    """Study-level pairs: Treg finding and clinical response, with whether both are reported.

    ``both_reported`` is True where the IL-2 arm's Treg direction and a clinical response are
    both reported; ``same_time`` where they refer to the same stated time point.
    """
    out = []
    treg = treg_rows(ev)
    for s in scope_studies(ev).itertuples(index=False):
        t = treg[(treg["study_id"] == s.study_id) & (treg["arm"] == "il2") & (treg["status"] != "not_reported")]
        c = clinical_rows(ev, s.study_id)
        direction = direction_of(ev, s.study_id)
        treg_time = set(t["timepoint"])
        clin_time = set(c["timepoint"])
        stated = {tp for tp in treg_time | clin_time if tp.startswith("week_")}
        same = bool(treg_time and clin_time and treg_time == clin_time and treg_time <= stated)
        out.append(
            {
                "study_id": s.study_id,
                "label": s.label,
                "inclusion_status": s.inclusion_status,
                "treg_direction": direction,
                "treg_time": ", ".join(timepoint_text(x) for x in sorted(treg_time)),
                "treg_text": _finding(treg[treg["study_id"] == s.study_id]),
                "clinical_outcome": c["outcome"].iloc[0] if len(c) else "",
                "clinical_time": ", ".join(timepoint_text(x) for x in sorted(clin_time)),
                "clinical_text": _clinical_text(ev, c),
                "both_reported": bool(len(t) and len(c)),
                "same_time": same,
            }
        )
    return pd.DataFrame(out)


def pairs_table(ev: Evidence) -> pd.DataFrame:
    p = clinical_pairs(ev)
    return pd.DataFrame(
        {
            "Study": [study_label(r) for r in p[["label", "inclusion_status"]].itertuples(index=False)],
            "Treg (IL-2 arm)": p["treg_text"],
            "Clinical response": p["clinical_text"],
            "Both reported": p["both_reported"].map({True: "yes", False: "no"}),
            "Same time point (as recorded)": [
                ("yes" if s else "no or not stated") if b else "–" for b, s in zip(p["both_reported"], p["same_time"])
            ],
        }
    )


# ---------------------------------------------------------------------------
# Standardized mean change (only with usable numbers)
# ---------------------------------------------------------------------------
def _study_smc_row(rows: pd.DataFrame) -> dict | None:
    """Baseline and last follow-up mean (SD) of the IL-2 arm, if both are reported with n."""
    il2 = rows[(rows["arm"] == "il2") & (rows["statistic"] == "mean_sd")]
    pre = il2[il2["timepoint"] == "baseline"]
    post = il2[il2["timepoint"].str.startswith("week_")]
    if pre.empty or post.empty:
        return None
    post = post.assign(_w=post["timepoint"].str.removeprefix("week_").astype(int)).sort_values("_w").iloc[-1]
    pre = pre.iloc[0]
    n = post["total"] if not is_missing(post["total"]) else pre["total"]
    if is_missing(n) or is_missing(pre["sd"]):
        return None
    return {
        "m_pre": float(pre["mean"]),
        "sd_pre": float(pre["sd"]),
        "m_post": float(post["mean"]),
        "n": int(n),
        "timepoint": post["timepoint"],
        "derived": bool(pre["status"] == "derived" or post["status"] == "derived"),
    }


def smc_inputs(ev: Evidence) -> pd.DataFrame:
    """One row per study whose IL-2 arm gives baseline and follow-up Treg means with SDs."""
    rows = treg_rows(ev)
    rows = rows[(rows["arm"] == "il2") & (rows["statistic"] == "mean_sd")]  # all a row can come from
    labels = ev.study_labels
    out = []
    for study_id, r in rows.groupby("study_id", sort=False):
        for outcome, ro in r.groupby("outcome", sort=False):
            row = _study_smc_row(ro)
            if row is not None:
                out.append({"study_id": study_id, "label": labels[study_id], "outcome": outcome, **row})
    return pd.DataFrame(
        out, columns=["study_id", "label", "outcome", "m_pre", "sd_pre", "m_post", "n", "timepoint", "derived"]
    )


def pooled_smc(
    inputs: pd.DataFrame, ri: float = ASSUMED_PRE_POST_R, method: str = "REML", test: str = "z"
) -> pooling.RmaResult:
    """Pool SMCR (metafor's standardized mean change, baseline-SD standardised) across studies."""
    if len(inputs) < MIN_STUDIES_SMC:
        raise ValueError(
            f"a pooled standardized mean change needs at least {MIN_STUDIES_SMC} studies "
            f"with baseline and follow-up means and SDs; {len(inputs)} given"
        )
    es = effects.escalc(
        "SMCR", m1i=inputs["m_post"], m2i=inputs["m_pre"], sd1i=inputs["sd_pre"], ni=inputs["n"], ri=[ri] * len(inputs)
    )
    return pooling.rma(es["yi"], es["vi"], method=method, test=test, measure="SMCR")


def smc_status(ev: Evidence) -> dict[str, object]:
    """Whether a pooled SMC is possible, and why not."""
    inputs = smc_inputs(ev)
    k = len(inputs)
    possible = k >= MIN_STUDIES_SMC
    who = "no study gives" if k == 0 else "one study gives" if k == 1 else f"{k} studies give"
    reason = (
        ""
        if possible
        else f"{who} Treg means with standard deviations at baseline and at follow-up, "
        f"and pooling needs at least {MIN_STUDIES_SMC}"
    )
    return {"k": k, "possible": possible, "reason": reason, "inputs": inputs}


def treg_results(ev: Evidence, ri: float = ASSUMED_PRE_POST_R) -> pd.DataFrame:
    """Pooled SMC rows for the results table (no rows when fewer than two studies give numbers)."""
    status = smc_status(ev)
    if not status["possible"]:
        return results_frame([])
    inputs = status["inputs"]
    rows = [
        ResultRow.from_fit(
            pooled_smc(inputs, ri=ri, method=method, test=test),
            measure="SMCR",
            back_transform=False,
            analysis="treg_smc_il2_arms",
            label=f"Treg, standardized mean change in the IL-2 arms (r = {ri} assumed)",
            outcome="; ".join(dict.fromkeys(inputs["outcome"])),
            timepoint="; ".join(dict.fromkeys(inputs["timepoint"])),
            population="IL-2 arms only",
            n_il2=int(inputs["n"].sum()),
            n_control=None,
            studies="; ".join(inputs["label"]),
            inputs_derived=bool(inputs["derived"].any()),
        )
        for method, test in (("REML", "z"), ("REML", "knha"))
    ]
    return results_frame(rows)


# ---------------------------------------------------------------------------
# Magnitude of the Treg response, and what a reported rise can and cannot show
# ---------------------------------------------------------------------------
#: What a study's IL-2-arm Treg rows give, from most to least: values with spread (a magnitude: a
#: mean or median at baseline and follow-up, hence a fold change), the number of patients with a
#: rise (not its size), a direction only, or nothing.
MAGNITUDE_LEVELS = {
    "values": "Treg values with their spread (a magnitude)",
    "patients": "the number of patients with a rise, not its size",
    "direction": "the direction only",
    "none": "no Treg finding",
}
#: A primary endpoint is 'met' when its between-arm p is below this.
PRIMARY_ALPHA = 0.05


def magnitude_level(rows: pd.DataFrame) -> str:
    """The most a study's IL-2-arm Treg rows give: 'values', 'patients', 'direction' or 'none'."""
    il2 = rows[(rows["arm"] == "il2") & (rows["status"] != "not_reported")]
    if len(il2) and il2.apply(_numeric, axis=1).any():
        return "values"
    if ((il2["statistic"] == "count") & il2["events"].notna()).any():
        return "patients"
    if il2["direction"].notna().any():
        return "direction"
    return "none"


def magnitude_table(ev: Evidence) -> pd.DataFrame:
    """Per study in scope: what its Treg rows give (MAGNITUDE_LEVELS), the design, and whether any arm other
    than IL-2 has a Treg value (a comparison between arms).

    Columns: study_id, label, inclusion_status, design, level, compared (bool), placebo_reason (why a
    placebo arm's Treg row has no value, or '').
    """
    rows = treg_rows(ev)
    out = []
    for s in scope_studies(ev).itertuples(index=False):
        r = rows[rows["study_id"] == s.study_id]
        others = r[(r["arm"] != "il2")]
        given = others[others["status"] != "not_reported"]
        missing = others[others["status"] == "not_reported"]
        out.append(
            {
                "study_id": s.study_id,
                "label": s.label,
                "inclusion_status": s.inclusion_status,
                "design": s.design,
                "level": magnitude_level(r),
                "compared": bool(len(given)),
                "placebo_reason": "; ".join(dict.fromkeys(str(x) for x in missing["na_reason"] if not is_missing(x))),
            }
        )
    return pd.DataFrame(
        out, columns=["study_id", "label", "inclusion_status", "design", "level", "compared", "placebo_reason"]
    )


def p_not_below(p_text: object, alpha: float = PRIMARY_ALPHA) -> bool | None:
    """True when a reported p is not below alpha ('0.052'), False when it is ('<0.001', '0.03'), None if missing."""
    if is_missing(p_text):
        return None
    from fractions import Fraction

    from helpers.stats.reported import parse_reported

    p, limit = parse_reported(str(p_text)), Fraction(str(alpha))  # exact: '0.05' is not below 0.05
    if p.relation == "<":
        return not p.value <= limit
    return bool(p.value >= limit)


def primary_endpoints(ev: Evidence) -> pd.DataFrame:
    """The primary endpoint of every included randomised trial, as its outcome rows record it.

    A trial's primary endpoint is the result whose IL-2 row's note starts with 'Primary endpoint'
    (outcomes.csv). Columns: study_id, label, outcome, timepoint, population, il2 (row, IL-2 arms
    combined), control (row), p (the reported between-arm p-values), verdict ('met', 'missed', or
    'unknown' when no p is reported), treg_level (MAGNITUDE_LEVELS of the trial's Treg rows).
    """
    from helpers.review.selection import rows_by_role

    s = ev.studies
    rcts = s[(s["design"] == "rct") & (s["inclusion_status"] == "included")]
    levels = magnitude_table(ev).set_index("study_id")["level"]
    roles = ev.arms.drop_duplicates(["study_id", "arm"]).set_index(["study_id", "arm"])["role"]
    o = ev.outcomes
    out = []
    for trial in rcts.itertuples(index=False):
        rows = o[o["study_id"] == trial.study_id]
        il2_rows = rows[[roles.get((trial.study_id, a)) == "il2" for a in rows["arm"]]]
        primary = il2_rows[il2_rows["note"].fillna("").str.startswith("Primary endpoint")]
        for (outcome, timepoint, population), g in primary.groupby(["outcome", "timepoint", "population"], sort=False):
            same = rows[
                (rows["outcome"] == outcome) & (rows["timepoint"] == timepoint) & (rows["population"] == population)
            ]
            by_role = rows_by_role(ev, same)
            ps = [str(p) for p in g.loc[g["p_comparison"] == "between_arms", "p_value"].dropna()]
            not_below = [p_not_below(p) for p in ps]
            verdict = "unknown" if not not_below else "missed" if all(not_below) else "met"
            control = by_role[by_role["arm"] == "placebo"]
            out.append(
                {
                    "study_id": trial.study_id,
                    "label": trial.label,
                    "outcome": outcome,
                    "timepoint": timepoint,
                    "population": population,
                    "il2": by_role[by_role["arm"] == "il2"].iloc[0],
                    "control": control.iloc[0] if len(control) else None,
                    "p": ps,
                    "verdict": verdict,
                    "treg_level": levels.get(trial.study_id, "none"),
                }
            )
    return pd.DataFrame(
        out,
        columns=[
            "study_id",
            "label",
            "outcome",
            "timepoint",
            "population",
            "il2",
            "control",
            "p",
            "verdict",
            "treg_level",
        ],
    )


def glucocorticoid_course(ev: Evidence) -> pd.DataFrame:
    """Each included study arm whose prednisone dose is reported at baseline and later, in one population.

    Columns: study_id, label, arm (role), population, baseline (row), last (row at the latest week).
    Background therapy that changes during follow-up is one reason a rise from baseline is not the
    effect of IL-2 alone.
    """
    o = ev.outcomes
    o = o[(o["outcome"] == "prednisone_mg_day") & o["median"].notna()]
    o = o[o["study_id"].isin(ev.included_studies()["study_id"])]
    labels = ev.study_labels
    roles = ev.arms.drop_duplicates(["study_id", "arm"]).set_index(["study_id", "arm"])["role"]
    out = []
    for (sid, arm, population), g in o.groupby(["study_id", "arm", "population"], sort=False):
        base = g[g["timepoint"] == "baseline"]
        later = g[g["timepoint"].str.startswith("week_")]
        if base.empty or later.empty:
            continue
        last = later.assign(_w=later["timepoint"].str.removeprefix("week_").astype(int)).sort_values("_w").iloc[-1]
        out.append(
            {
                "study_id": sid,
                "label": labels[sid],
                "arm": roles.get((sid, arm), arm),
                "population": population,
                "baseline": base.iloc[0],
                "last": last,
            }
        )
    return pd.DataFrame(out, columns=["study_id", "label", "arm", "population", "baseline", "last"])
