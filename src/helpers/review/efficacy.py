"""Efficacy: clinical responses as reported, single-arm response rates, and sensitivity analyses.

The between-arm analyses of the randomised trials live in :mod:`helpers.review.analyses`;
this module adds what the efficacy chapter shows beside them: study-level response
tables straight from ``data/``, response rates per arm with exact intervals (pooled only
within one arm role, outcome and time point, as the protocol's ``single_arm_rates`` says),
each trial's per-protocol result (never pooled; protocol ``per_protocol``), disease-activity
medians, a flagged conversion of medians to means (an appendix table, not a result), and
leave-one-out and dosing-regimen subgroups where the protocol's ``minimum_k`` allows them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import load_protocol
from helpers.report.labels import ARM_LABELS, POPULATION_LABELS, timepoint_label, value_text
from helpers.report.prose import NOT_REPORTED
from helpers.review.analyses import Analysis, ResultRow, fit, results_frame, study_effects, two_arm_counts
from helpers.review.selection import count_rows, eligible_trials, populations_text, single_trial
from helpers.stats import effects, pooling

RESPONSE_OUTCOMES = (
    "sri4",
    "sri_unspecified",
    "sledai_reduction_any",
    "clinical_response_unspecified",
    "ln_complete_remission",
)
ACTIVITY_OUTCOMES = ("selena_sledai", "bilag", "bilag_a_or_2b", "pga")


def _included(ev: Evidence) -> pd.DataFrame:
    """Outcome rows of the included studies (of the review window), with each study's label."""
    o = ev.outcomes.merge(ev.included_studies()[["study_id", "label", "inclusion_status"]], on="study_id")
    return o


def clinical_response_table(ev: Evidence) -> pd.DataFrame:
    """Responder outcomes by study, time point and arm, exactly as reported (or 'not reported')."""
    o = _included(ev)
    o = o[o["outcome"].isin(RESPONSE_OUTCOMES)]
    names = ev.outcome_definitions.set_index("outcome")["label"]
    rows = []
    for (label, outcome, tp, pop), g in o.groupby(["label", "outcome", "timepoint", "population"], sort=False):
        by_arm = {r["arm"]: r for _, r in g.iterrows()}
        between = g["p_value"][g["p_comparison"] == "between_arms"].dropna()
        note = "; ".join(dict.fromkeys(n for n in g["note"].dropna()))
        rows.append(
            {
                "Study": label,
                "Outcome": names[outcome],
                "Time point": timepoint_label(tp),
                "Population": POPULATION_LABELS.get(pop, pop),
                "IL-2": value_text(by_arm["il2"]) if "il2" in by_arm else "–",
                "Placebo": value_text(by_arm["placebo"]) if "placebo" in by_arm else "–",
                "p (between arms, reported)": between.iloc[0] if len(between) else "–",
                "Counts": "derived"
                if (g["status"] == "derived").any()
                else ("not reported" if (g["status"] == "not_reported").all() else "reported"),
                "Note": note,
            }
        )
    return pd.DataFrame(rows)


def disease_activity_table(ev: Evidence) -> pd.DataFrame:
    """Disease-activity measures by arm and visit, as reported (medians and ranges; counts)."""
    o = _included(ev)
    o = o[o["outcome"].isin(ACTIVITY_OUTCOMES) & (o["timepoint"].isin(["baseline", "week_12", "week_24"]))]
    names = ev.outcome_definitions.set_index("outcome")["label"]
    rows = []
    for (label, outcome, arm), g in o.groupby(["label", "outcome", "arm"], sort=False):
        by_tp = g.set_index("timepoint")

        def cell(tp, by_tp=by_tp):
            return value_text(by_tp.loc[tp]) if tp in by_tp.index else NOT_REPORTED

        def pval(tp, by_tp=by_tp):
            return by_tp.loc[tp, "p_value"] if tp in by_tp.index and pd.notna(by_tp.loc[tp, "p_value"]) else "–"

        rows.append(
            {
                "Study": label,
                "Measure": names[outcome],
                "Arm": ARM_LABELS[arm],
                "Baseline": cell("baseline"),
                "Week 12": cell("week_12"),
                "Week 24": cell("week_24"),
                "p week 12 vs baseline": pval("week_12"),
                "p week 24 vs baseline": pval("week_24"),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Single-arm response rates (uncontrolled evidence)
# ---------------------------------------------------------------------------
#: Response outcomes of the uncontrolled studies, in order of preference (the SRI-4 first).
RATE_OUTCOMES = ("sri4", "sri_unspecified")
#: Responses that are not SRI responses (a fall in SLEDAI of any size; a "clinical response" the source does
#: not define): shown and flagged, never pooled with the SRI rates.
UNPOOLED_OUTCOMES = ("sledai_reduction_any", "clinical_response_unspecified")
#: Population of an uncontrolled study's response rate, in order of preference.
RATE_POPULATIONS = ("itt", "analysed_efficacy", "enrolled", "treated")


def response_arms(ev: Evidence) -> list[tuple[str, str, str, str, str]]:
    """(study_id, arm, outcome, timepoint, population) of every response rate the chapter shows, from the data.

    The arms of the trials in the primary analysis, in their primary populations; and for every
    other included study one IL-2 response rate: the SRI-4 if reported, else an SRI of unstated
    threshold, in the first population of RATE_POPULATIONS, at the latest time point.
    """
    from helpers.review.analyses import planned_analyses

    keys = []
    primary = next((a for a in planned_analyses(ev) if a.role == "primary"), None)
    if primary is not None:
        rows = count_rows(ev, primary.outcome, primary.timepoint)
        arms_of: dict[tuple[str, str], list[str]] = {}
        for study_id, population, arm in zip(rows["study_id"], rows["population"], rows["arm"]):
            arms_of.setdefault((study_id, population), []).append(arm)
        for study_id, population in primary.populations:
            keys += [
                (study_id, arm, primary.outcome, primary.timepoint, population)
                for arm in arms_of[(study_id, population)]
            ]
    others = ev.included_studies()
    others = others[~others["study_id"].isin(primary.study_ids if primary else ())]
    o = ev.outcomes.merge(ev.arms.drop_duplicates(["study_id", "arm"])[["study_id", "arm", "role"]])
    o = o[o["study_id"].isin(others["study_id"]) & (o["role"] == "il2") & (o["statistic"] == "count")]
    o = o[o["outcome"].isin(RATE_OUTCOMES) & o["population"].isin(RATE_POPULATIONS) & o["events"].notna()]
    o = o.assign(
        _outcome=o["outcome"].map(RATE_OUTCOMES.index),
        _population=o["population"].map(RATE_POPULATIONS.index),
        _week=-o["timepoint"].str.extract(r"week_(\d+)", expand=False).astype(float).fillna(1e6),
    ).sort_values(["study_id", "arm", "_outcome", "_population", "_week"])
    for r in o.drop_duplicates(["study_id", "arm"]).itertuples():
        keys.append((r.study_id, r.arm, r.outcome, r.timepoint, r.population))
    roles = dict(zip(zip(ev.arms["study_id"], ev.arms["arm"]), ev.arms["role"]))
    order = {s: i for i, s in enumerate(ev.studies["study_id"])}
    return sorted(keys, key=lambda k: (roles[(k[0], k[1])] != "il2", order[k[0]]))


def unpooled_responses(ev: Evidence) -> pd.DataFrame:
    """IL-2 counts of the included studies for responses that are not SRI responses (UNPOOLED_OUTCOMES).

    They are kept out of :func:`single_arm_results` by design: a fall in SLEDAI of any size, or a response the
    source does not define, is not the same event as an SRI response, and pooling them would mix definitions.
    Columns: study_id, label, outcome, outcome_label, timepoint, population, events, total, source.
    """
    o = ev.outcomes.merge(ev.arms.drop_duplicates(["study_id", "arm"])[["study_id", "arm", "role"]])
    o = o[o["study_id"].isin(ev.included_studies()["study_id"]) & (o["role"] == "il2")]
    o = o[o["outcome"].isin(UNPOOLED_OUTCOMES) & (o["statistic"] == "count") & o["events"].notna()]
    o = o.assign(_o=o["outcome"].map(UNPOOLED_OUTCOMES.index))
    order = {s: i for i, s in enumerate(ev.studies["study_id"])}
    o = o.assign(_s=o["study_id"].map(order)).sort_values(["_s", "_o"], kind="stable")
    labels = ev.study_labels
    names = ev.outcome_definitions.set_index("outcome")["label"]
    return pd.DataFrame(
        {
            "study_id": o["study_id"],
            "label": o["study_id"].map(labels),
            "outcome": o["outcome"],
            "outcome_label": o["outcome"].map(names),
            "timepoint": o["timepoint"],
            "population": o["population"],
            "events": o["events"].astype(int),
            "total": o["total"].astype(int),
            "source": o["source"],
        }
    ).reset_index(drop=True)


def arm_responses(ev: Evidence, arms=None) -> pd.DataFrame:
    """Responders per arm with exact (Clopper-Pearson) and Wilson 95% CIs (arms: :func:`response_arms`)."""
    arms = response_arms(ev) if arms is None else arms
    roles = dict(zip(zip(ev.arms["study_id"], ev.arms["arm"]), ev.arms["role"]))
    wanted = set(arms)
    key_cols = ["study_id", "arm", "outcome", "timepoint", "population"]
    # only the rows asked for, and only the columns used, become records
    outcomes = ev.outcomes
    asked = pd.Series(list(zip(*(outcomes[c] for c in key_cols))), index=outcomes.index).isin(wanted)
    o = {
        tuple(r[c] for c in key_cols): r
        for r in outcomes.loc[asked, [*key_cols, "events", "total", "status"]].to_dict("records")
    }
    labels = ev.study_labels
    designs = ev.studies.set_index("study_id")["design"]
    rows = []
    for key in arms:
        r = o[key]
        rows.append(
            {
                "study_id": key[0],
                "label": labels[key[0]],
                "arm": roles[(key[0], key[1])],
                "arm_id": key[1],
                "outcome": key[2],
                "timepoint": key[3],
                "population": key[4],
                "design": designs[key[0]],
                "events": int(r["events"]),
                "total": int(r["total"]),
                "derived": r["status"] == "derived",
            }
        )
    out = pd.DataFrame(rows)
    out["proportion"] = out["events"] / out["total"]
    out["exact_low"], out["exact_high"] = effects.proportion_ci(out["events"], out["total"], method="exact")
    out["wilson_low"], out["wilson_high"] = effects.proportion_ci(out["events"], out["total"], method="wilson")
    return out


def pool_proportions(responses: pd.DataFrame, measure: str) -> pooling.RmaResult:
    es = effects.escalc(measure, xi=responses["events"], ni=responses["total"])
    return pooling.rma(es["yi"], es["vi"], method="REML", test="z", measure=measure)


#: Arm roles in the order the rates are shown.
ROLE_ORDER = ("il2", "placebo", "conventional")


def rate_groups(ev: Evidence) -> pd.DataFrame:
    """Every arm's response rate (:func:`arm_responses`) with its pool: the protocol's ``single_arm_rates`` pools
    arms only within one role, outcome and time point (``pool_within``, the one grouping its schema allows), where
    at least ``min_arms`` arms share them.

    Columns of :func:`arm_responses` plus ``pool`` (the id of the pooled result row the arm enters, or empty) and
    ``arms_in_group`` (arms of its role, outcome and time point); ordered by outcome, time point, role, study.
    """
    plan = load_protocol().single_arm_rates
    r = arm_responses(ev)
    if r.empty:
        return r.assign(pool=pd.Series(dtype=str), arms_in_group=pd.Series(dtype=int))
    r["arms_in_group"] = r.groupby(["arm", "outcome", "timepoint"])["study_id"].transform("size")
    r["pool"] = [
        f"response_rate_{role}_arms_{outcome}_{timepoint}" if n >= plan["min_arms"] else ""
        for role, outcome, timepoint, n in zip(r["arm"], r["outcome"], r["timepoint"], r["arms_in_group"])
    ]
    order = {s: i for i, s in enumerate(ev.studies["study_id"])}
    r = r.assign(
        _outcome=r["outcome"].map(RATE_OUTCOMES.index),
        _week=r["timepoint"].str.extract(r"week_(\d+)", expand=False).astype(float).fillna(1e6),
        _role=r["arm"].map(lambda x: ROLE_ORDER.index(x) if x in ROLE_ORDER else len(ROLE_ORDER)),
        _study=r["study_id"].map(order),
    )
    return (
        r.sort_values(["_outcome", "_week", "_role", "_study"], kind="stable")
        .drop(columns=["_outcome", "_week", "_role", "_study"])
        .reset_index(drop=True)
    )


def single_arm_results(ev: Evidence) -> pd.DataFrame:
    """Response rates pooled across arms of one role, outcome and time point (protocol ``single_arm_rates``):
    logit (main) and Freeman-Tukey (sensitivity), REML. Uncontrolled: never compared across roles."""
    measures = load_protocol().single_arm_rates["measures"]
    groups = rate_groups(ev)
    names = ev.outcome_definitions.set_index("outcome")["label"]
    role_words = {"il2": "IL-2 arms", "placebo": "placebo arms", "conventional": "conventional-therapy arms"}
    rows = []
    for pool, r in groups[groups["pool"] != ""].groupby("pool", sort=False):
        role, outcome, timepoint = r["arm"].iloc[0], r["outcome"].iloc[0], r["timepoint"].iloc[0]
        total = int(r["total"].sum())
        label = (
            f"{names[outcome].removesuffix(' response')} response at {timepoint_label(timepoint).lower()}, "
            f"{role_words.get(role, role + ' arms')} (single-arm rate, uncontrolled)"
        )
        for measure in measures:
            rows.append(
                ResultRow.from_fit(
                    pool_proportions(r, measure),
                    measure=measure,
                    ni=r["total"].to_numpy(),
                    analysis=pool,
                    label=label,
                    outcome=outcome,
                    timepoint=timepoint,
                    population=populations_text(ev, zip(r["study_id"], r["population"])),
                    n_il2=total if role == "il2" else None,
                    n_control=total if role != "il2" else None,
                    studies="; ".join(r["label"]),
                    inputs_derived=bool(r["derived"].any()),
                )
            )
    return results_frame(rows)


# ---------------------------------------------------------------------------
# Disease activity: medians converted to means (a flagged sensitivity analysis)
# ---------------------------------------------------------------------------
def estimated_mean_difference(
    ev: Evidence,
    study_id: str | None = None,
    outcome: str = "selena_sledai",
    timepoint: str = "week_12",
    population: str = "analysed_efficacy",
) -> dict:
    """IL-2 minus placebo mean difference from medians and ranges (Luo 2018 mean, Wan 2014 SD).

    Estimated, never reported: the chapter shows it only as a sensitivity analysis.
    """
    if study_id is None:
        trials = median_range_trials(ev, outcome, timepoint, population)
        if len(trials) != 1:
            raise ValueError(f"{outcome} {timepoint}: {len(trials)} trials report medians and ranges; name one")
        study_id = trials[0]
    o = ev.outcomes.set_index(["study_id", "arm", "outcome", "timepoint", "population"])
    arms = {arm: o.loc[(study_id, arm, outcome, timepoint, population)] for arm in ("il2", "placebo")}
    for arm, r in arms.items():
        if r["statistic"] != "median_range":
            raise ValueError(f"{study_id} {arm} {outcome} {timepoint}: needs median and range, has {r['statistic']}")
    est = {
        arm: effects.mean_sd_from_median(r["median"], minimum=r["lower"], maximum=r["upper"], n=r["total"]).iloc[0]
        for arm, r in arms.items()
    }
    es = effects.escalc(
        "MD",
        m1i=[est["il2"]["mean"]],
        sd1i=[est["il2"]["sd"]],
        n1i=[arms["il2"]["total"]],
        m2i=[est["placebo"]["mean"]],
        sd2i=[est["placebo"]["sd"]],
        n2i=[arms["placebo"]["total"]],
    )
    res = pooling.rma(es["yi"], es["vi"], method="FE", measure="MD")
    return {
        "study_id": study_id,
        "outcome": outcome,
        "timepoint": timepoint,
        "result": res,
        "mean_il2": float(est["il2"]["mean"]),
        "sd_il2": float(est["il2"]["sd"]),
        "mean_placebo": float(est["placebo"]["mean"]),
        "sd_placebo": float(est["placebo"]["sd"]),
        "n_il2": int(arms["il2"]["total"]),
        "n_placebo": int(arms["placebo"]["total"]),
        "method": str(est["il2"]["method"]),
    }


def median_range_trials(
    ev: Evidence, outcome: str = "selena_sledai", timepoint: str = "week_12", population: str = "analysed_efficacy"
) -> list[str]:
    """Included randomised trials reporting the outcome as median and range in an IL-2 and a placebo arm."""
    o = ev.outcomes.merge(ev.arms.drop_duplicates(["study_id", "arm"])[["study_id", "arm", "role"]])
    o = o[
        (o["outcome"] == outcome)
        & (o["timepoint"] == timepoint)
        & (o["population"] == population)
        & (o["statistic"] == "median_range")
    ]
    rcts = ev.included_studies()
    rcts = rcts[rcts["design"] == "rct"]["study_id"]
    return [s for s in rcts if {"il2", "placebo"} <= set(o.loc[o["study_id"] == s, "role"])]


def estimated_md_results(ev: Evidence) -> pd.DataFrame:
    """SELENA-SLEDAI mean differences estimated from medians and ranges, per trial and time point after baseline."""
    labels = ev.study_labels
    o = ev.outcomes[(ev.outcomes["outcome"] == "selena_sledai") & ev.outcomes["timepoint"].str.startswith("week_")]
    timepoints = sorted(set(o["timepoint"]), key=lambda t: int(t.removeprefix("week_")))
    rows = []
    for tp in timepoints:
        trials = median_range_trials(ev, timepoint=tp)
        for study_id in trials:
            e = estimated_mean_difference(ev, study_id=study_id, timepoint=tp)
            rows.append(
                ResultRow.from_fit(
                    e["result"],
                    measure="MD",
                    analysis=f"selena_sledai_{tp}_md_estimated" + (f"_{study_id}" if len(trials) > 1 else ""),
                    label=f"SELENA-SLEDAI at {timepoint_label(tp).lower()}, {labels[study_id]}: mean difference "
                    "from medians and ranges (estimated; sensitivity only)",
                    outcome="selena_sledai",
                    timepoint=tp,
                    population=populations_text(ev, [(study_id, "analysed_efficacy")]),
                    n_il2=e["n_il2"],
                    n_control=e["n_placebo"],
                    studies=labels[study_id],
                    inputs_derived=True,
                )
            )
    return results_frame(rows)


# ---------------------------------------------------------------------------
# Leave-one-out and dosing-regimen subgroups
# ---------------------------------------------------------------------------
def leave_one_out(ev: Evidence, a: Analysis, measure: str = "RR") -> pd.DataFrame:
    """REML refits without each trial (with two trials, each refit is the other trial alone)."""
    counts = two_arm_counts(ev, a)
    es = study_effects(counts, measure)
    out = pooling.leave1out(es["yi"], es["vi"], method="REML", labels=counts["label"], measure=measure)
    back = effects.transf_exp if measure in ("RR", "OR") else (lambda x: np.asarray(x, dtype=float))
    out[["estimate", "ci_low", "ci_high"]] = np.column_stack([back(out[c]) for c in ("estimate", "ci_low", "ci_high")])
    return out


def regimen_subgroups(ev: Evidence, a: Analysis, measure: str = "RR") -> pd.DataFrame:
    """REML fit per dosing-regimen group (studies.csv regimen_group) and the test for a difference."""
    counts = two_arm_counts(ev, a)
    es = study_effects(counts, measure)
    groups = counts["study_id"].map(ev.studies.set_index("study_id")["regimen_group"])
    out = pooling.subgroup(es["yi"], es["vi"], groups, method="REML", measure=measure)
    back = effects.transf_exp if measure in ("RR", "OR") else (lambda x: np.asarray(x, dtype=float))
    out[["estimate", "ci_low", "ci_high"]] = np.column_stack([back(out[c]) for c in ("estimate", "ci_low", "ci_high")])
    out["studies"] = [", ".join(counts.loc[(groups == g).to_numpy(), "label"]) for g in out["group"]]
    return out


def refits_run(ev: Evidence, a: Analysis) -> dict[str, bool]:
    """Whether the protocol runs leave-one-out and the regimen subgroups for this analysis: each is declared
    among its sensitivity analyses and the analysis has at least ``minimum_k`` trials for it (with two trials,
    leaving one out leaves the other alone, and each regimen subgroup is one trial); the regimen subgroups also
    need two regimen groups."""
    protocol = load_protocol()
    regimens = ev.studies.set_index("study_id").loc[list(a.study_ids), "regimen_group"].nunique()
    return {
        "leave_one_out": "leave_one_out" in a.sensitivity and a.k >= protocol.minimum_k("leave_one_out"),
        "regimen_group": "regimen_group" in a.sensitivity and a.k >= protocol.minimum_k("subgroups") and regimens >= 2,
    }


def refit_results(ev: Evidence, a: Analysis, measure: str = "RR") -> pd.DataFrame:
    """Leave-one-out and dosing-regimen refits of one analysis as result rows (REML, z), each where
    :func:`refits_run` allows it."""
    counts = two_arm_counts(ev, a)
    regimen = counts["study_id"].map(ev.studies.set_index("study_id")["regimen_group"])
    run = refits_run(ev, a)
    subsets = []
    if run["leave_one_out"]:
        subsets += [
            (
                f"{a.id}_without_{lab.lower().replace(' ', '').replace('-', '')}",
                f"{a.label}, leaving out {lab}",
                counts["label"] != lab,
            )
            for lab in counts["label"]
        ]
    if run["regimen_group"]:
        subsets += [
            (f"{a.id}_regimen_{g}", f"{a.label}, regimen subgroup: {g.replace('_', ' ')}", regimen == g)
            for g in dict.fromkeys(regimen)
        ]
    if not subsets:
        return results_frame([])
    # Effect sizes once (escalc is per trial), each refit on its subset: as fit() would, without
    # recomputing them for every one of k refits.
    es = effects.escalc(
        measure,
        ai=counts["events_il2"],
        n1i=counts["total_il2"],
        ci=counts["events_control"],
        n2i=counts["total_control"],
    )
    yi, vi = es["yi"].to_numpy(), es["vi"].to_numpy()
    # plain arrays: slicing the counts frame for each of k refits was most of their time with many trials
    labels = counts["label"].to_numpy()
    n_il2, n_control = counts["total_il2"].to_numpy(), counts["total_control"].to_numpy()
    derived = counts["derived"].to_numpy(dtype=bool)
    rows = []
    for analysis_id, label, keep in subsets:
        k = keep.to_numpy()
        rows.append(
            ResultRow.from_fit(
                pooling.rma(yi[k], vi[k], method="REML", test="z", measure=measure, labels=tuple(labels[k])),
                measure=measure,
                analysis=analysis_id,
                label=label,
                outcome=a.outcome,
                timepoint=a.timepoint,
                population=a.population_label,
                n_il2=int(n_il2[k].sum()),
                n_control=int(n_control[k].sum()),
                studies="; ".join(labels[k]),
                inputs_derived=bool(derived[k].any()),
            )
        )
    return results_frame(rows)


# ---------------------------------------------------------------------------
# Per-protocol results: each trial's own, never pooled (protocol ``per_protocol``)
# ---------------------------------------------------------------------------
def per_protocol_results(ev: Evidence) -> pd.DataFrame:
    """Each eligible trial's result in a population the protocol never pools (``per_protocol.populations``), for
    the outcome and time point of every declared primary or secondary analysis.

    One row per trial and analysis: the counts; the randomised patients of each arm (arms.csv, population
    ``randomised``; IL-2 arms summed) and the share the population keeps, with whether the arm sizes are derived;
    ``post_hoc`` when the source's rows (outcomes.csv note, arms.csv locator) call the population post hoc; the
    RoB 2 overall judgement of the result and the domains judged high (empty when the result is not assessed);
    and the trial's own risk ratio with the protocol's single-trial methods (``safety.single_trial``).
    """
    from helpers.review.rob2 import rob2_judgements
    from helpers.stats import single_trial as one_trial

    protocol = load_protocol()
    never_pooled = protocol.per_protocol_populations
    rules = protocol.safety["single_trial"]
    rob = rob2_judgements(ev).set_index(["study_id", "outcome", "timepoint", "population"])
    labels = ev.study_labels
    # grouped once: filtering the frames inside the loops made this the slowest provider with many trials
    arms_by_study = dict(tuple(ev.arms.groupby("study_id", sort=False)))
    eligible = eligible_trials(ev, protocol)["study_id"]
    rows = []
    for planned in protocol.analyses:
        if planned.role not in ("primary", "secondary"):
            continue
        cells = count_rows(ev, planned.outcome, planned.timepoint)
        cells = dict(tuple(cells[cells["population"].isin(never_pooled)].groupby(["study_id", "population"])))
        for study_id in eligible:
            for population in never_pooled:
                cell = cells.get((study_id, population))
                if cell is None or "il2" not in set(cell["role"]) or not set(cell["role"]) & set(protocol.comparators):
                    continue
                a = single_trial(planned.outcome, planned.timepoint, study_id, population, planned.invert)
                c = two_arm_counts(ev, a).iloc[0]
                mine = arms_by_study[study_id]
                randomised = mine[mine["population"] == "randomised"]
                kept = mine[mine["population"] == population]
                il2_rand = randomised.loc[randomised["role"] == "il2", "n"].sum()
                ctl_rand = randomised.loc[randomised["role"].isin(protocol.comparators), "n"].sum()
                texts = " ".join(str(x) for x in [*cell["note"].dropna(), *kept["locator"].dropna()])
                comparison = one_trial.compare(
                    int(c["events_il2"]),
                    int(c["total_il2"]),
                    int(c["events_control"]),
                    int(c["total_control"]),
                    risk_ratio_method=rules["risk_ratio"],
                    risk_difference_method=rules["risk_difference"],
                    test=rules["test"],
                )
                key = (study_id, planned.outcome, planned.timepoint, population)
                judged = rob.loc[[key]] if key in rob.index else rob.iloc[:0]
                overall = judged.loc[judged["domain"] == "overall", "judgement"]
                rows.append(
                    {
                        "analysis": planned.id,
                        "study_id": study_id,
                        "label": labels[study_id],
                        "outcome": planned.outcome,
                        "timepoint": planned.timepoint,
                        "population": population,
                        "events_il2": int(c["events_il2"]),
                        "total_il2": int(c["total_il2"]),
                        "events_control": int(c["events_control"]),
                        "total_control": int(c["total_control"]),
                        "randomised_il2": int(il2_rand) if len(randomised) else None,
                        "randomised_control": int(ctl_rand) if len(randomised) else None,
                        "randomised_derived": bool((randomised["status"] == "derived").any()),
                        "counts_derived": bool(c["derived"]),
                        "post_hoc": "post hoc" in texts.lower(),
                        "rob2_overall": overall.iloc[0] if len(overall) else "",
                        "rob2_high_domains": tuple(
                            judged.loc[(judged["domain"] != "overall") & (judged["judgement"] == "high"), "domain"]
                        ),
                        "rr": comparison.rr,
                        "rr_low": comparison.rr_low,
                        "rr_high": comparison.rr_high,
                        "p": comparison.p_rr,
                        "rr_method": "Katz" if comparison.risk_ratio_method == "log" else comparison.risk_ratio_method,
                        "test": comparison.test,
                        "source": "; ".join(dict.fromkeys(cell["source"])),
                    }
                )
    return pd.DataFrame(rows)


def per_protocol_result_rows(ev: Evidence) -> pd.DataFrame:
    """:func:`per_protocol_results` as rows of the results table: one trial's own risk ratio each (model
    "single_trial"), labelled as a per-protocol result that is never pooled."""
    names = ev.outcome_definitions.set_index("outcome")["label"]
    rows = []
    for r in per_protocol_results(ev).itertuples(index=False):
        flags = [x for x in ("post hoc" if r.post_hoc else "", _rob2_words(r.rob2_overall)) if x]
        what = f"{names[r.outcome].removesuffix(' response')} at {timepoint_label(r.timepoint).lower()}"
        rows.append(
            ResultRow.from_single_trial(
                measure="RR",
                method=r.rr_method,
                test=r.test,
                estimate=r.rr,
                ci_low=r.rr_low,
                ci_high=r.rr_high,
                p=r.p,
                analysis=f"{r.analysis}_{r.population}_{r.label.lower().replace(' ', '').replace('-', '')}",
                label=f"{what}, {r.label} {POPULATION_LABELS.get(r.population, r.population)} set "
                f"({', '.join([*flags, 'one trial, never pooled'])})",
                outcome=r.outcome,
                timepoint=r.timepoint,
                population=populations_text(ev, [(r.study_id, r.population)]),
                n_il2=r.total_il2,
                n_control=r.total_control,
                studies=r.label,
                inputs_derived=r.counts_derived,
            )
        )
    return results_frame(rows)


def _rob2_words(judgement: str) -> str:
    return f"RoB 2 {judgement.replace('_', ' ')}" if judgement else ""


def efficacy_extra_results(ev: Evidence) -> pd.DataFrame:
    """Single-arm response rates, each trial's per-protocol result, and the refits of the primary analysis
    (the medians converted to means are not results: :func:`estimated_md_results`, shown in an appendix)."""
    from helpers.review.analyses import planned_analyses

    planned = planned_analyses(ev)
    refits = [refit_results(ev, a) for a in planned]
    doses = [dose_subgroup_results(ev, a) for a in planned if "dose" in a.sensitivity]
    return pd.concat([single_arm_results(ev), per_protocol_result_rows(ev), *refits, *doses], ignore_index=True)


def dose_subgroup_results(ev: Evidence, a: Analysis, measure: str = "RR") -> pd.DataFrame:
    """Random-effects (REML) estimate per IL-2 dose, from every trial arm at that dose.

    A trial with several dose arms contributes each arm to its dose, against an equal share of its
    comparator arm (events and patients divided by the number of dose arms; Cochrane Handbook
    23.3.4), so across the dose subgroups every comparator patient is counted once. Run only where
    some dose has at least the protocol's minimum number of trials for a subgroup (so never with a
    single trial per dose, which would repeat leave-one-out).
    """
    from helpers.review.selection import dose_arm_counts

    counts = dose_arm_counts(ev, a)
    if counts.empty or counts["dose_miu"].isna().any():
        return results_frame([])
    per_dose = counts.groupby("dose_miu")["study_id"].nunique()
    if per_dose.max() < load_protocol().minimum_k("subgroups") or len(per_dose) < 2:
        return results_frame([])
    rows = []
    for dose, c in counts.groupby("dose_miu", sort=True):
        shared = (c["control_shared_by"] > 1).any()
        rows.append(
            ResultRow.from_fit(
                fit(c, measure, "REML", "z"),
                measure=measure,
                analysis=f"{a.id}_dose_{dose:g}".replace(".", "_") + "miu",
                label=f"{a.label}, IL-2 dose {dose:g} MIU"
                + (" (a shared placebo arm split evenly among its trial's dose arms)" if shared else ""),
                outcome=a.outcome,
                timepoint=a.timepoint,
                population=a.population_label,
                n_il2=int(c["total_il2"].sum()),
                n_control=int(round(c["total_control"].sum())),
                studies="; ".join(c["label"]),
                inputs_derived=bool(c["derived"].any() or shared),
            )
        )
    return results_frame(rows)
