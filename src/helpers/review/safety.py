"""Safety: adverse events by study and arm, comparisons in the RCTs, pooled incidence, one figure.

Everything starts from the safety rows of ``data/outcomes.csv`` (outcomes whose domain is
"safety" in ``outcome_definitions.csv``) of the included studies:

* :func:`event_counts` - one row per study, arm and event with a count: incidence and its
  exact (Clopper-Pearson) 95% CI from :func:`helpers.stats.effects.proportion_ci`;
* :func:`incidence_table` and :func:`wording_table` - the display tables (unknown cells read
  "not reported", never 0; how each source words its events, e.g. He 2020's "SAE" = severe);
* :func:`rct_comparisons` - IL-2 vs placebo per event in the randomised trials. Pooled over
  several trials: Mantel-Haenszel RR and RD (:mod:`helpers.stats.pooling`). Counted in one trial
  only: that trial's own result with the protocol's single-trial methods
  (:mod:`helpers.stats.single_trial`: Newcombe's score interval for the RD, Fisher's exact p, the
  log interval for the RR), labelled as a single trial, never as pooled. Peto's OR only where the
  protocol's rule allows it (events rare in every arm, arms balanced). Each study's RR from
  :func:`helpers.stats.effects.escalc` (1/2 added to every cell of a table with a zero);
* :func:`harm_coverage` and :func:`coverage_totals` - how many IL-2 (and placebo) patients each
  harm, and any harm, rests on: counted at all, and compared with placebo;
* :func:`pooled_incidence` - incidence across the IL-2 arms (logit "PLO" and Freeman-Tukey "PFT"
  random-effects models) for events that at least two studies report;
* :func:`safety_results` - the pooled estimates as rows of :data:`helpers.review.analyses.RESULT_COLUMNS`;
* :func:`safety_figure` / :func:`safety_figure_description` - incidence by event, study and arm.

Zero cells are handled as the statistics layer does: the MH estimate (and the single trial's log
interval) uses the raw counts, so an RR whose placebo (or IL-2) arms have no events at all is not
estimable (NaN) and is reported as such; the RD is estimable; studies with no events in either
arm are listed (``double_zero``) and add nothing to RR or OR.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import Protocol, load_protocol
from helpers.report.labels import ARM_LABELS
from helpers.report.prose import NOT_REPORTED, fmt_ci, fmt_num, fmt_pct, is_missing
from helpers.report.style import ROLE_COLOURS, use_book_style
from helpers.review.analyses import Analysis, ResultRow, fit, result_row, results_frame, two_arm_counts
from helpers.review.selection import memo, populations_text
from helpers.stats import effects, pooling, single_trial

if TYPE_CHECKING:  # matplotlib is imported where the figure is drawn
    from matplotlib.figure import Figure

#: Safety outcomes in display order (ids of outcome_definitions.csv). Components of a
#: composite (He 2020 lists NPSLE, herpes zoster and pneumonia under its severe events)
#: follow the composite.
EVENT_ORDER = (
    "ae_injection_site_reaction",
    "ae_fever",
    "ae_flu_like",
    "ae_infection",
    "ae_upper_respiratory_infection",
    "ae_severe_infection",
    "ae_serious",
    "ae_severe",
    "ae_npsle",
    "ae_herpes_zoster",
    "ae_pneumonia",
    "ae_high_grade",
    "ae_discontinuation",
    "death",
    "ada",
)

#: Single events that He 2020 lists under a composite: shown in the tables, not compared separately.
COMPONENT_EVENTS = ("ae_npsle", "ae_herpes_zoster", "ae_pneumonia")

#: Events drawn in the compact figure (the composites, not their components).
FIGURE_EVENTS = (
    "ae_injection_site_reaction",
    "ae_fever",
    "ae_flu_like",
    "ae_infection",
    "ae_severe_infection",
    "ae_severe",
    "ae_high_grade",
)

#: Which analysis population a study's safety counts come from, in order of preference.
SAFETY_POPULATIONS = ("analysed_safety", "itt", "treated", "enrolled", "randomised")

DIRECTION_TEXT = {
    "none_observed": "none observed (no count given)",
    "increase": "increase (no count given)",
    "decrease": "decrease (no count given)",
    "no_change": "no change (no count given)",
}

#: Minimum number of IL-2 arms for a pooled single-arm incidence.
MIN_STUDIES_POOLED = 2


# ---------------------------------------------------------------------------
# Selecting the safety rows
# ---------------------------------------------------------------------------
def safety_outcomes(ev: Evidence) -> list[str]:
    """Safety outcome ids in display order (any not in EVENT_ORDER follow, alphabetically)."""
    defs = ev.outcome_definitions
    safety = set(defs.loc[defs["domain"] == "safety", "outcome"])
    return [o for o in EVENT_ORDER if o in safety] + sorted(safety - set(EVENT_ORDER))


def event_labels(ev: Evidence) -> dict[str, str]:
    return dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["label"]))


def safety_rows(ev: Evidence) -> pd.DataFrame:
    """Safety rows of the included studies (see :func:`_safety_rows`), computed once per evidence object."""
    return memo(ev, "safety_rows", lambda: _safety_rows(ev)).copy()


def _safety_rows(ev: Evidence) -> pd.DataFrame:
    """Safety rows of the included studies, one per study, arm role and event (best population first).

    ``arm`` is the arm's role: a trial's IL-2 dose arms are combined (helpers.review.selection.rows_by_role).
    Adds ``label`` (the study's), ``design`` and ``event`` (the outcome's label).
    """
    from helpers.review.selection import rows_by_role

    o = ev.outcomes
    included = ev.included_studies().set_index("study_id")
    rows = rows_by_role(ev, o[o["outcome"].isin(safety_outcomes(ev)) & o["study_id"].isin(included.index)])
    rank = {p: i for i, p in enumerate(SAFETY_POPULATIONS)}
    rows["_rank"] = rows["population"].map(rank).fillna(len(rank))
    rows["_order"] = rows["outcome"].map({k: i for i, k in enumerate(safety_outcomes(ev))})
    rows = rows.sort_values(["_order", "study_id", "arm", "_rank"], kind="stable")
    rows = rows.drop_duplicates(["study_id", "arm", "outcome"], keep="first")
    rows["label"] = rows["study_id"].map(included["label"])
    rows["design"] = rows["study_id"].map(included["design"])
    rows["event"] = rows["outcome"].map(event_labels(ev))
    return rows.drop(columns=["_rank"]).reset_index(drop=True)


def _has_count(r) -> bool:
    return r["statistic"] == "count" and not is_missing(r["events"]) and not is_missing(r["total"])


# ---------------------------------------------------------------------------
# Per-arm incidence with exact confidence intervals
# ---------------------------------------------------------------------------
def event_counts(ev: Evidence) -> pd.DataFrame:
    """Per study, arm and event with a count: see :func:`_event_counts` (computed once per evidence object)."""
    return memo(ev, "event_counts", lambda: _event_counts(ev)).copy()


def _event_counts(ev: Evidence) -> pd.DataFrame:
    """One row per study, arm and event with a count: events, total, incidence and exact 95% CI.

    ``incidence``, ``ci_low`` and ``ci_high`` are proportions (0 to 1); the CI is
    Clopper-Pearson (:func:`helpers.stats.effects.proportion_ci`, method "exact").
    """
    rows = safety_rows(ev)
    rows = rows[rows.apply(_has_count, axis=1)].copy()
    rows["events"] = rows["events"].astype(int)
    rows["total"] = rows["total"].astype(int)
    low, high = effects.proportion_ci(rows["events"], rows["total"], method="exact")
    rows["incidence"] = rows["events"] / rows["total"]
    rows["ci_low"], rows["ci_high"] = low, high
    cols = [
        "study_id",
        "label",
        "design",
        "arm",
        "outcome",
        "event",
        "population",
        "events",
        "total",
        "incidence",
        "ci_low",
        "ci_high",
        "status",
        "evidence_ref",
        "locator",
        "note",
        "_order",
    ]
    return rows[cols].reset_index(drop=True)


def incidence_text(events: int, total: int, low: float, high: float, digits: int = 1) -> str:
    """'9/29, 31.0% (15.3 to 50.8)': count, incidence and exact 95% CI in percent."""
    return f"{events}/{total}, " + fmt_ci(events / total, low, high, digits, scale=100, unit="%", label=False)


def _cell_text(r: pd.Series) -> str:
    if _has_count(r):
        low, high = effects.proportion_ci([r["events"]], [r["total"]], method="exact")
        return incidence_text(int(r["events"]), int(r["total"]), float(low[0]), float(high[0]))
    if r["statistic"] == "qualitative":
        return DIRECTION_TEXT.get(str(r["direction"]), str(r["note"]))
    return NOT_REPORTED


def incidence_table(ev: Evidence) -> pd.DataFrame:
    """Events (rows) by study and arm (columns): 'n/N, % (exact 95% CI)' or 'not reported'.

    Columns are the arms of the included studies that have any safety row; rows are the
    events any of them mentions. A study or arm without a row for an event reads
    "not reported".
    """
    rows = safety_rows(ev)
    columns = (
        rows[["study_id", "label", "arm"]]
        .drop_duplicates()
        .assign(_arm=lambda d: d["arm"].map({"il2": 0, "placebo": 1, "conventional": 2}))
        .sort_values(["study_id", "_arm"])
    )
    # Study order: as in studies.csv.
    study_order = {s: i for i, s in enumerate(ev.studies["study_id"])}
    columns = columns.assign(_s=columns["study_id"].map(study_order)).sort_values(["_s", "_arm"])
    table = []
    for outcome in [o for o in safety_outcomes(ev) if o in set(rows["outcome"])]:
        line = {"Event": event_labels(ev)[outcome]}
        for c in columns.itertuples(index=False):
            match = rows[(rows["study_id"] == c.study_id) & (rows["arm"] == c.arm) & (rows["outcome"] == outcome)]
            line[f"{c.label}, {ARM_LABELS[c.arm]}"] = _cell_text(match.iloc[0]) if len(match) else NOT_REPORTED
        table.append(line)
    return pd.DataFrame(table)


def studies_without_safety_data(ev: Evidence) -> list[str]:
    """Labels of included studies with no safety row at all."""
    with_rows = set(safety_rows(ev)["study_id"])
    inc = ev.included_studies()
    return inc.loc[~inc["study_id"].isin(with_rows), "label"].tolist()


def wording_table(ev: Evidence) -> pd.DataFrame:
    """How each source words or qualifies its events (notes and reasons of the safety rows).

    One row per study, event and text; arms sharing a text are joined.
    """
    rows = safety_rows(ev)
    out = []
    for _, grp in rows.groupby(["study_id", "outcome"], sort=False):
        texts: dict[str, list[str]] = {}
        for r in grp.itertuples(index=False):
            for text in (r.note, r.na_reason):
                if not is_missing(text) and str(text).strip():
                    texts.setdefault(str(text).strip(), []).append(ARM_LABELS[r.arm])
        for text, arms in texts.items():
            out.append(
                {
                    "Study": grp["label"].iloc[0],
                    "Event": grp["event"].iloc[0],
                    "Arm": " and ".join(dict.fromkeys(arms)),
                    "What the source says": text,
                    "Source": f"{grp['evidence_ref'].iloc[0]}, {grp['locator'].iloc[0]}",
                }
            )
    return pd.DataFrame(out, columns=["Study", "Event", "Arm", "What the source says", "Source"])


# ---------------------------------------------------------------------------
# Randomised comparisons
# ---------------------------------------------------------------------------
def rct_analysis(ev: Evidence, outcome: str) -> tuple[Analysis | None, list[str]]:
    """The two-arm analysis of one event over the included RCTs that count it in both arms.

    Returns the :class:`helpers.review.analyses.Analysis` (None if no RCT counts the event) and the
    labels of the included RCTs that do not report it.
    """
    populations, missing = [], []
    by_study = memo(ev, "safety_records", lambda: _safety_records(ev)).get(outcome, {})
    for study_id, trial in memo(ev, "included_rcts", lambda: _included_rcts(ev)):
        arms = by_study.get(study_id, {})
        il2, ctl = arms.get("il2"), arms.get("placebo")
        if (
            il2 is not None
            and ctl is not None
            and _has_count(il2)
            and _has_count(ctl)
            and il2["population"] == ctl["population"]
        ):
            populations.append((study_id, il2["population"]))
        else:
            missing.append(trial)
    if not populations:
        return None, missing
    label = event_labels(ev)[outcome]
    pops = populations_text(ev, populations)
    trials = ev.study_labels
    label = (
        f"{label}, randomised trials"
        if len(populations) > 1
        else f"{label}, single randomised trial ({trials[populations[0][0]]}; not pooled)"
    )
    analysis = Analysis(
        id=f"{outcome}_rct",
        label=label,
        outcome=outcome,
        timepoint="trial_period",
        populations=tuple(populations),
        population_label=f"safety ({pops})",
    )
    return analysis, missing


def _included_rcts(ev: Evidence) -> list[tuple[str, str]]:
    """(study_id, label) of the included randomised trials, in study order."""
    s = ev.included_studies()
    s = s[s["design"] == "rct"]
    return list(zip(s["study_id"], s["label"]))


def _safety_records(ev: Evidence) -> dict[str, dict[str, dict[str, dict]]]:
    """The safety rows as plain records, by outcome, study and arm role (built once: read by every event)."""
    rows = memo(ev, "safety_rows", lambda: _safety_rows(ev))  # read only: not copied
    out: dict[str, dict[str, dict[str, dict]]] = {}
    columns = ["outcome", "study_id", "arm", "population", "statistic", "events", "total"]
    for r in rows[columns].to_dict("records"):
        out.setdefault(r["outcome"], {}).setdefault(r["study_id"], {})[r["arm"]] = r
    return out


def has_zero_cell(counts: pd.DataFrame) -> bool:
    """True if any arm of any study has no events (or only events)."""
    a, n1 = counts["events_il2"], counts["total_il2"]
    c, n2 = counts["events_control"], counts["total_control"]
    return bool(((a == 0) | (a == n1) | (c == 0) | (c == n2)).any())


def double_zero_studies(counts: pd.DataFrame) -> list[str]:
    a, n1 = counts["events_il2"], counts["total_il2"]
    c, n2 = counts["events_control"], counts["total_control"]
    dz = ((a == 0) & (c == 0)) | ((a == n1) & (c == n2))
    return counts.loc[dz, "label"].tolist()


def comparison_events(ev: Evidence) -> list[str]:
    """Safety outcomes compared between arms (composites, not their components)."""
    return [o for o in safety_outcomes(ev) if o not in COMPONENT_EVENTS]


def peto_fit(counts: pd.DataFrame) -> pooling.RmaResult | None:
    """Peto's OR, or None when no study has an event (and a non-event) at all."""
    try:
        return fit(counts, "OR", "Peto", "z")
    except ValueError:
        return None


#: How the single-trial methods of the protocol are named in the results table.
RESULT_METHOD_NAMES = {"log": "Katz", "newcombe": "Newcombe", "wald": "Wald"}
#: ... and in words.
METHOD_WORDS = {
    "log": "log (Katz) interval",
    "newcombe": "Newcombe's hybrid score interval",
    "wald": "Wald interval",
    "fisher": "Fisher's exact test",
    "z": "Wald z test",
}


def single_trial_rules(protocol: Protocol | None = None) -> dict[str, str]:
    """The protocol's methods for an event compared in one trial: risk_ratio, risk_difference, test."""
    return dict((protocol or load_protocol()).safety["single_trial"])


def peto_rule(protocol: Protocol | None = None) -> dict[str, float]:
    """The protocol's conditions for Peto's OR: max_event_risk (every arm) and max_arm_ratio (every trial)."""
    return dict((protocol or load_protocol()).safety["peto"])


def peto_not_used_because(counts: pd.DataFrame, rule: dict[str, float] | None = None) -> str:
    """Why Peto's OR is not used for these counts under the protocol's rule; empty when it is.

    Events must be rare in every arm (risk below ``max_event_risk``) and every trial's arms of
    similar size (larger / smaller at most ``max_arm_ratio``): Bradburn et al. 2007 found Peto's
    method least biased only then.
    """
    rule = rule or peto_rule()
    risks = pd.concat([counts["events_il2"] / counts["total_il2"], counts["events_control"] / counts["total_control"]])
    if float(risks.max()) >= rule["max_event_risk"]:
        return (
            f"events not rare: up to {fmt_pct(100 * float(risks.max()))} of an arm "
            f"(the rule asks for below {fmt_pct(100 * rule['max_event_risk'], 0)})"
        )
    sizes = counts[["total_il2", "total_control"]]
    ratio = float((sizes.max(axis=1) / sizes.min(axis=1)).max())
    if ratio > rule["max_arm_ratio"]:
        return f"arms unbalanced: {fmt_num(ratio, 1)} to 1 (the rule allows {fmt_num(rule['max_arm_ratio'], 1)})"
    return ""


def _estimate_dict(result: pooling.RmaResult | None, measure: str) -> dict[str, float]:
    if result is None:
        return dict.fromkeys(("estimate", "ci_low", "ci_high", "p"), math.nan)
    bt = pooling.back_transform(result, measure)
    return {"estimate": bt["estimate"], "ci_low": bt["ci_low"], "ci_high": bt["ci_high"], "p": result.pval}


def single_trial_comparison(counts: pd.DataFrame, rules: dict[str, str] | None = None) -> single_trial.Comparison:
    """The protocol's single-trial comparison of a one-row counts table."""
    if len(counts) != 1:
        raise ValueError(f"a single-trial comparison needs one trial, got {len(counts)}")
    rules = rules or single_trial_rules()
    r = counts.iloc[0]
    return single_trial.compare(
        int(r["events_il2"]),
        int(r["total_il2"]),
        int(r["events_control"]),
        int(r["total_control"]),
        risk_ratio_method=rules["risk_ratio"],
        risk_difference_method=rules["risk_difference"],
        test=rules["test"],
    )


def _not_estimable_note(counts: pd.DataFrame, single: bool) -> str:
    empty = (
        "IL-2 and placebo"
        if counts["events_il2"].sum() == counts["events_control"].sum() == 0
        else "IL-2"
        if counts["events_il2"].sum() == 0
        else "placebo"
    )
    how = "the log interval needs events in both arms" if single else "the MH estimate uses the raw counts"
    return f"not estimable: no events in the {empty} arm{'' if single else 's'} ({how})"


def rct_comparisons(ev: Evidence) -> pd.DataFrame:
    """IL-2 vs placebo per event in the randomised trials.

    One row per event that at least one included RCT counts in both arms, with the summed
    counts. Several trials: MH RR and RD with z-test p-values (``method`` "MH"). One trial
    (``single_trial`` True, ``method`` "single_trial"): that trial's own RR and RD with the
    protocol's single-trial intervals and test (``rr_method``, ``rd_method``, ``test``; p-values
    from Fisher's exact test by default). Peto's OR where the protocol's rule allows it
    (``peto_note`` says why not otherwise). Also the study-level RR of a single study (escalc; 1/2
    added to every cell of a table with a zero), which studies were adjusted, double-zero
    studies, and the RCTs that do not report the event. ``rr_note`` says why an RR is not
    estimable.
    """
    rules = single_trial_rules()
    peto = peto_rule()
    out = []
    for outcome in comparison_events(ev):
        analysis, missing = rct_analysis(ev, outcome)
        if analysis is None:
            continue
        counts = two_arm_counts(ev, analysis)
        zero = has_zero_cell(counts)
        single = len(counts) == 1
        if single:
            c = single_trial_comparison(counts, rules)
            rr = {"estimate": c.rr, "ci_low": c.rr_low, "ci_high": c.rr_high, "p": c.p_rr}
            rd = {"estimate": c.rd, "ci_low": c.rd_low, "ci_high": c.rd_high, "p": c.p_rd}
            methods = {"rr_method": rules["risk_ratio"], "rd_method": rules["risk_difference"], "test": rules["test"]}
        else:
            rr = _estimate_dict(fit(counts, "RR", "MH", "z"), "RR")
            rd = _estimate_dict(fit(counts, "RD", "MH", "z"), "RD")
            methods = {"rr_method": "MH", "rd_method": "MH", "test": "z"}
        peto_note = peto_not_used_because(counts, peto)
        peto_or = _estimate_dict(None if peto_note else peto_fit(counts), "OR")
        es = effects.escalc(
            "RR",
            ai=counts["events_il2"],
            n1i=counts["total_il2"],
            ci=counts["events_control"],
            n2i=counts["total_control"],
        )
        half = 1.959963984540054 * es["sei"].to_numpy()
        out.append(
            {
                "outcome": outcome,
                "event": event_labels(ev)[outcome],
                "analysis": analysis.id,
                "k": len(counts),
                "single_trial": single,
                "method": "single_trial" if single else "MH",
                **methods,
                "studies": "; ".join(counts["label"]),
                "events_il2": int(counts["events_il2"].sum()),
                "total_il2": int(counts["total_il2"].sum()),
                "events_control": int(counts["events_control"].sum()),
                "total_control": int(counts["total_control"].sum()),
                "rr": rr["estimate"],
                "rr_low": rr["ci_low"],
                "rr_high": rr["ci_high"],
                "rr_p": rr["p"],
                "rr_note": _not_estimable_note(counts, single) if math.isnan(rr["estimate"]) else "",
                "rd": rd["estimate"],
                "rd_low": rd["ci_low"],
                "rd_high": rd["ci_high"],
                "rd_p": rd["p"],
                "peto_or": peto_or["estimate"],
                "peto_low": peto_or["ci_low"],
                "peto_high": peto_or["ci_high"],
                "peto_p": peto_or["p"],
                "peto_note": peto_note,
                "study_rr": float(np.exp(es["yi"].iloc[0])) if single else math.nan,
                "study_rr_low": float(np.exp(es["yi"].iloc[0] - half[0])) if single else math.nan,
                "study_rr_high": float(np.exp(es["yi"].iloc[0] + half[0])) if single else math.nan,
                "zero_cell": zero,
                "zero_cell_adjusted": "; ".join(counts.loc[es["zero_cell_adjusted"].to_numpy(), "label"]),
                "double_zero": "; ".join(double_zero_studies(counts)),
                "not_reported_in": "; ".join(missing),
                "derived": bool(counts["derived"].any()),
            }
        )
    return pd.DataFrame(out)


#: Short names of the methods for table cells.
METHOD_SHORT = {"log": "log", "newcombe": "Newcombe score", "wald": "Wald", "fisher": "Fisher exact", "z": "z"}


def method_text(r) -> str:
    """How a row of :func:`rct_comparisons` was computed, for a table cell."""
    if r.single_trial:
        return f"single trial, not pooled (RD {METHOD_SHORT[r.rd_method]} interval; p {METHOD_SHORT[r.test]})"
    return f"pooled, {r.k} trials (Mantel-Haenszel; p z test)"


def _ratio_text(est: float, lo: float, hi: float, digits: int = 2) -> str:
    return fmt_ci(est, lo, hi, digits, label=False, missing="not estimable")


def comparison_table(ev: Evidence) -> pd.DataFrame:
    """:func:`rct_comparisons` formatted for reading; the "Analysis" column says single trial or pooled."""
    comp = rct_comparisons(ev)
    rows = []
    for r in comp.itertuples(index=False):
        rows.append(
            {
                "Event": r.event,
                "Trials": r.studies,
                "IL-2 n/N": f"{r.events_il2}/{r.total_il2}",
                "Placebo n/N": f"{r.events_control}/{r.total_control}",
                "Analysis": method_text(r),
                "RR (95% CI)": _ratio_text(r.rr, r.rr_low, r.rr_high)
                if not r.rr_note
                else "not estimable (no events in one group)",
                "RR, study (1/2 added to zero cells)": (
                    _ratio_text(r.study_rr, r.study_rr_low, r.study_rr_high)
                    + (", corrected" if r.zero_cell_adjusted else "")
                ),
                "RD in percentage points (95% CI)": _ratio_text(100 * r.rd, 100 * r.rd_low, 100 * r.rd_high, digits=1),
                "p": fmt_num(r.rd_p, 3),
                "OR, Peto (95% CI)": _ratio_text(r.peto_or, r.peto_low, r.peto_high)
                if not r.peto_note
                else f"not used: {r.peto_note.split(':')[0]}",
                "Not reported in": r.not_reported_in or "–",
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# How many patients each harm rests on
# ---------------------------------------------------------------------------
def harm_coverage(ev: Evidence) -> pd.DataFrame:
    """Per safety event with any count: how many IL-2 and placebo patients it rests on.

    ``studies`` counting it, ``il2_counted`` / ``placebo_counted`` (patients in the arms that
    count it, any design), ``il2_compared`` / ``placebo_compared`` (patients in the randomised
    comparison of :func:`rct_comparisons`, 0 when there is none) and ``trials_compared``.
    """
    counts = event_counts(ev)
    comp = rct_comparisons(ev)
    compared = comp.set_index("outcome") if len(comp) else pd.DataFrame()
    rows = []
    for outcome in [o for o in safety_outcomes(ev) if o in set(counts["outcome"])]:
        c = counts[counts["outcome"] == outcome]
        il2, placebo = c[c["arm"] == "il2"], c[c["arm"] == "placebo"]
        has = outcome in compared.index
        rows.append(
            {
                "outcome": outcome,
                "event": event_labels(ev)[outcome],
                "studies": "; ".join(dict.fromkeys(c["label"])),
                "il2_counted": int(il2["total"].sum()),
                "placebo_counted": int(placebo["total"].sum()),
                "trials_compared": int(compared.loc[outcome, "k"]) if has else 0,
                "il2_compared": int(compared.loc[outcome, "total_il2"]) if has else 0,
                "placebo_compared": int(compared.loc[outcome, "total_control"]) if has else 0,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "event",
            "studies",
            "il2_counted",
            "placebo_counted",
            "trials_compared",
            "il2_compared",
            "placebo_compared",
        ],
    )


def coverage_totals(ev: Evidence) -> dict[str, object]:
    """How many patients of the included studies any harm rests on.

    ``il2_known`` / ``placebo_known``: patients of known number in the included studies (the
    book's counted totals, :func:`helpers.review.reconciliation.book_totals`); ``il2_counted``:
    IL-2 patients in the arms that count at least one adverse event (a study's largest safety
    population, so a patient counts once however many events the study counts); ``il2_compared``:
    IL-2 patients in a randomised comparison of at least one event with placebo (likewise per
    trial); the same for placebo; and the studies and trials behind each.
    """
    from helpers.review.reconciliation import book_totals

    totals = book_totals(ev)
    counts = event_counts(ev)
    per_study = counts.groupby(["study_id", "arm"])["total"].max()
    comp = rct_comparisons(ev)
    compared_trials: dict[str, tuple[int, int]] = {}
    for outcome in comp["outcome"] if len(comp) else []:
        analysis, _ = rct_analysis(ev, outcome)
        for r in two_arm_counts(ev, analysis).itertuples(index=False):
            il2, ctl = compared_trials.get(r.study_id, (0, 0))
            compared_trials[r.study_id] = (max(il2, int(r.total_il2)), max(ctl, int(r.total_control)))
    labels = ev.study_labels
    counted_studies = list(dict.fromkeys(counts["study_id"]))
    return {
        "il2_known": int(totals["patients_il2_known"]),
        "placebo_known": int(totals["patients_placebo_known"]),
        "il2_counted": int(per_study.xs("il2", level="arm").sum()) if len(counts) else 0,
        "placebo_counted": int(per_study.xs("placebo", level="arm").sum()) if "placebo" in set(counts["arm"]) else 0,
        "il2_compared": sum(v[0] for v in compared_trials.values()),
        "placebo_compared": sum(v[1] for v in compared_trials.values()),
        "studies_counted": [labels[s] for s in counted_studies],
        "trials_compared": [labels[s] for s in compared_trials],
        "il2_unknown_studies": list(totals["il2_unknown_studies"]),
    }


# ---------------------------------------------------------------------------
# Information on harms, study by study
# ---------------------------------------------------------------------------
#: What a study gives for a harm: a count, words without a count, or a row saying it gives nothing.
HARM_REPORTING = ("counted", "described", "not_reported")


def _last_assessment(ev: Evidence, study_id: str) -> tuple[str | None, int | None]:
    """The latest time point with any outcome row of the study: (time point, week) - the week when it has one."""
    tps = set(ev.outcomes.loc[ev.outcomes["study_id"] == study_id, "timepoint"]) - {"baseline"}
    weeks = {tp: int(tp.removeprefix("week_")) for tp in tps if tp.startswith("week_")}
    if weeks:
        tp = max(weeks, key=weeks.get)
        return tp, weeks[tp]
    for named in ("end_of_study", "trial_period", "during_treatment"):
        if named in tps:
            return named, None
    return None, None


def derived_field(study: pd.Series, field: str) -> bool:
    """True when the study row's derivation computes this field ('duration = 3 courses × ...')."""
    derivation = "" if is_missing(study["derivation"]) else str(study["derivation"])
    return study["status"] == "derived" and derivation.strip().startswith(f"{field} =")


def harms_information(ev: Evidence) -> pd.DataFrame:
    """Per included study: the patients its harms rest on, IL-2 exposure, follow-up and which harms it reports.

    Columns: study_id, label, design; ``arms`` [(role, n, population, derived, counted)] - for an arm with any
    adverse-event count, the largest total it counts (its safety population), else the arm size this book
    counts (helpers.review.reconciliation), the last element saying which; ``duration_derived`` (the exposure
    itself is studies.csv's dose, frequency, cycles and duration); ``last_timepoint`` / ``last_week``: the
    latest time point with any outcome row; ``harm_timepoints``: the periods the safety rows cover; and
    ``counted``, ``described`` and ``not_reported``: the safety events (labels, display order) the study
    counts, describes without a count, or records as not reported.
    """
    from helpers.review.reconciliation import counted_patients

    rows = safety_rows(ev)
    counts = event_counts(ev)
    known = counted_patients(ev)
    out = []
    for study in ev.included_studies().to_dict("records"):
        sid = study["study_id"]
        mine, mine_counts = rows[rows["study_id"] == sid], counts[counts["study_id"] == sid]
        arms = []
        for role in ("il2", "placebo") if study["design"] == "rct" else ("il2",):
            c = mine_counts[mine_counts["arm"] == role]
            if len(c):
                top = c.loc[c["total"].idxmax()]
                arms.append((role, int(top["total"]), top["population"], top["status"] == "derived", True))
                continue
            k = known[(known["study_id"] == sid) & (known["arm"] == role)]
            if len(k) and not is_missing(k["n"].iloc[0]):
                r = k.iloc[0]
                arms.append((role, int(r["n"]), r["population"], r["status"] == "derived", False))
            else:
                arms.append((role, None, None, False, False))
        by_kind: dict[str, list[str]] = {kind: [] for kind in HARM_REPORTING}
        for _, g in mine.groupby("outcome", sort=False):
            label = g["event"].iloc[0]
            if g.apply(_has_count, axis=1).any():
                by_kind["counted"].append(label)
            elif (g["statistic"] == "qualitative").any():
                by_kind["described"].append(label)
            else:
                by_kind["not_reported"].append(label)
        last_tp, last_week = _last_assessment(ev, sid)
        out.append(
            {
                "study_id": sid,
                "label": study["label"],
                "design": study["design"],
                "arms": arms,
                "duration_derived": derived_field(pd.Series(study), "duration"),
                "last_timepoint": last_tp,
                "last_week": last_week,
                "harm_timepoints": list(dict.fromkeys(mine["timepoint"])),
                **by_kind,
            }
        )
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------
# Pooled incidence across the IL-2 arms
# ---------------------------------------------------------------------------
def il2_arm_counts(ev: Evidence, outcome: str) -> pd.DataFrame:
    """IL-2 arms of the included studies that count the event (one row per study)."""
    counts = event_counts(ev)
    return counts[(counts["outcome"] == outcome) & (counts["arm"] == "il2")].reset_index(drop=True)


def poolable_events(ev: Evidence, min_studies: int = MIN_STUDIES_POOLED) -> list[str]:
    """Events counted in at least ``min_studies`` IL-2 arms, with at least one event in all of them."""
    counts = event_counts(ev)
    il2 = counts[counts["arm"] == "il2"]
    n = il2.groupby("outcome")["study_id"].nunique()
    any_events = il2.groupby("outcome")["events"].sum() > 0
    return [o for o in safety_outcomes(ev) if n.get(o, 0) >= min_studies and bool(any_events.get(o, False))]


#: (measure, method, test) fitted to pooled single-arm incidence.
INCIDENCE_MODELS = (("PLO", "REML", "z"), ("PLO", "REML", "knha"), ("PFT", "REML", "z"), ("PFT", "REML", "knha"))


def pooled_incidence(
    ev: Evidence, outcome: str, measure: str = "PLO", method: str = "REML", test: str = "z"
) -> tuple[pooling.RmaResult, dict[str, float], pd.DataFrame]:
    """Random-effects incidence across the IL-2 arms: the fit, its back-transformed estimate, the inputs."""
    counts = il2_arm_counts(ev, outcome)
    if len(counts) < MIN_STUDIES_POOLED:
        raise ValueError(f"{outcome}: {len(counts)} IL-2 arm(s) with a count; pooling needs {MIN_STUDIES_POOLED}")
    es = effects.escalc(measure, xi=counts["events"], ni=counts["total"])
    res = pooling.rma(es["yi"], es["vi"], method=method, test=test, measure=measure)
    bt = pooling.back_transform(res, measure, ni=counts["total"] if measure == "PFT" else None)
    return res, bt, counts


def _incidence_row(ev: Evidence, outcome: str, measure: str, method: str, test: str) -> ResultRow:
    res, _, counts = pooled_incidence(ev, outcome, measure, method, test)
    pops = populations_text(ev, zip(counts["study_id"], counts["population"]))
    return ResultRow.from_fit(
        res,
        measure=measure,
        ni=counts["total"].to_numpy() if measure == "PFT" else None,
        analysis=f"{outcome}_il2_arms",
        label=f"{event_labels(ev)[outcome]}, incidence in the IL-2 arms (single-arm, pooled)",
        outcome=outcome,
        timepoint="trial_period",
        population=f"IL-2 arms only ({pops})",
        n_il2=int(counts["total"].sum()),
        n_control=None,
        studies="; ".join(counts["label"]),
        inputs_derived=bool((counts["status"] == "derived").any()),
    )


def incidence_forest_inputs(ev: Evidence, outcome: str) -> dict:
    """Study rows (exact CIs) and pooled rows (PLO and PFT, REML z) for :func:`helpers.report.forest.forest_plot`."""
    counts = il2_arm_counts(ev, outcome)
    fits = {m: pooled_incidence(ev, outcome, m, "REML", "z") for m in ("PLO", "PFT")}
    weights = fits["PLO"][0].weights
    studies = pd.DataFrame(
        {
            "label": counts["label"],
            "estimate": counts["incidence"],
            "ci_low": counts["ci_low"],
            "ci_high": counts["ci_high"],
            "weight": weights,
            "il2_text": [f"{e}/{n}" for e, n in zip(counts["events"], counts["total"])],
        }
    )
    names = {"PLO": "Random effects (REML), logit", "PFT": "Random effects (REML), Freeman-Tukey"}
    pooled = pd.DataFrame([{"label": names[m], "model": "random", **fits[m][1]} for m in ("PLO", "PFT")])
    res = fits["PLO"][0]
    heterogeneity = (
        f"Heterogeneity (logit, REML): I² = {res.i2:.0f}%, τ² = {res.tau2:.3f}, "
        f"Q = {res.q:.2f} on {res.q_df} df, p = {res.q_p:.2f}"
    )
    notes = [f"No prediction interval: {res.pi_note}."] if res.pi_note else []
    notes.append("Study intervals are exact (Clopper-Pearson); weights are those of the logit model.")
    return {
        "studies": studies,
        "pooled": pooled,
        "heterogeneity": heterogeneity,
        "notes": notes,
        "fits": fits,
        "counts": counts,
    }


# ---------------------------------------------------------------------------
# Results table rows
# ---------------------------------------------------------------------------
def safety_results(ev: Evidence) -> pd.DataFrame:
    """The safety chapter's estimates, one row per analysis x measure x model.

    Randomised comparisons pooled over several trials: MH RR (only where estimable) and MH RD.
    Compared in one trial: that trial's own RR (where estimable) and RD with the protocol's
    single-trial intervals and test, model "single_trial". Peto's OR wherever the protocol's rule
    allows it. Pooled incidence in the IL-2 arms: logit and Freeman-Tukey, REML with z and
    Hartung-Knapp, for events counted in at least two IL-2 arms.
    """
    rules, peto = single_trial_rules(), peto_rule()
    rows = []
    for outcome in comparison_events(ev):
        analysis, _ = rct_analysis(ev, outcome)
        if analysis is None:
            continue
        counts = two_arm_counts(ev, analysis)
        if len(counts) == 1:
            rows += _single_trial_rows(analysis, counts, rules)
        else:
            for measure in ("RR", "RD"):
                res = fit(counts, measure, "MH", "z")
                if math.isfinite(res.estimate):  # e.g. MH RR with no events in one group: not estimable
                    rows.append(result_row(analysis, counts, measure, res))
        if not peto_not_used_because(counts, peto):
            res = peto_fit(counts)
            if res is not None:
                rows.append(result_row(analysis, counts, "OR", res))
    for outcome in poolable_events(ev):
        for measure, method, test in INCIDENCE_MODELS:
            rows.append(_incidence_row(ev, outcome, measure, method, test))
    return results_frame(rows)


def _single_trial_rows(a: Analysis, counts: pd.DataFrame, rules: dict[str, str]) -> list[ResultRow]:
    """The RR (where estimable) and RD of one trial, as single-trial result rows."""
    c = single_trial_comparison(counts, rules)
    common = dict(
        analysis=a.id,
        label=a.label,
        outcome=a.outcome,
        timepoint=a.timepoint,
        population=a.population_label,
        n_il2=int(counts["total_il2"].sum()),
        n_control=int(counts["total_control"].sum()),
        studies="; ".join(counts["label"]),
        inputs_derived=bool(counts["derived"].any()),
        test=rules["test"],
    )
    rows = []
    if math.isfinite(c.rr):
        rows.append(
            ResultRow.from_single_trial(
                measure="RR",
                method=RESULT_METHOD_NAMES[rules["risk_ratio"]],
                estimate=c.rr,
                ci_low=c.rr_low,
                ci_high=c.rr_high,
                p=c.p_rr,
                **common,
            )
        )
    rows.append(
        ResultRow.from_single_trial(
            measure="RD",
            method=RESULT_METHOD_NAMES[rules["risk_difference"]],
            estimate=c.rd,
            ci_low=c.rd_low,
            ci_high=c.rd_high,
            p=c.p_rd,
            **common,
        )
    )
    return rows


# ---------------------------------------------------------------------------
# Figure
# ---------------------------------------------------------------------------
_MARKERS = {"il2": ("o", ROLE_COLOURS["il2"]), "placebo": ("s", ROLE_COLOURS["placebo"])}


def figure_rows(ev: Evidence) -> pd.DataFrame:
    """The (event, study) rows of the safety figure, with each arm's count and exact CI."""
    counts = event_counts(ev)
    counts = counts[counts["outcome"].isin(FIGURE_EVENTS)]
    study_order = {s: i for i, s in enumerate(ev.studies["study_id"])}
    counts = counts.assign(
        _s=counts["study_id"].map(study_order), _e=counts["outcome"].map({o: i for i, o in enumerate(FIGURE_EVENTS)})
    )
    return counts.sort_values(["_e", "_s", "arm"]).reset_index(drop=True)


def safety_figure(ev: Evidence) -> Figure:
    """Incidence (%) with exact 95% CI by event and study: IL-2 circles, placebo squares.

    One row per event and study; a right-hand column gives the counts, so no value depends
    on colour or on reading the axis.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    use_book_style()
    data = figure_rows(ev)
    groups = list(dict.fromkeys(zip(data["outcome"], data["study_id"])))
    n = len(groups)
    row_h = 0.36
    fig = Figure(figsize=(7.6, 0.9 + row_h * n + 0.5))
    ax = fig.add_axes((0.34, 0.9 / (0.9 + row_h * n + 0.5), 0.44, row_h * n / (0.9 + row_h * n + 0.5)))
    offsets = {"il2": 0.14, "placebo": -0.14}  # IL-2 above placebo within a row
    labels, right = [], []
    for i, (outcome, study) in enumerate(groups):
        sub = data[(data["outcome"] == outcome) & (data["study_id"] == study)]
        y = n - 1 - i
        for r in sub.itertuples(index=False):
            marker, colour = _MARKERS.get(r.arm, ("D", ROLE_COLOURS["not_reported"]))
            yy = y + offsets.get(r.arm, 0.0)
            ax.plot(
                [100 * r.ci_low, 100 * r.ci_high], [yy, yy], color=colour, lw=1.6, solid_capstyle="butt", clip_on=False
            )
            ax.plot(
                [100 * r.incidence],
                [yy],
                marker=marker,
                color=colour,
                markersize=6.5,
                clip_on=False,
                markeredgecolor="black",
                markeredgewidth=0.6,
                linestyle="none",
                zorder=3,
            )
        labels.append(f"{sub['event'].iloc[0]} · {sub['label'].iloc[0]}")
        texts = []
        for arm in ("il2", "placebo"):
            a = sub[sub["arm"] == arm]
            if len(a):
                texts.append(f"{ARM_LABELS[arm]} {int(a['events'].iloc[0])}/{int(a['total'].iloc[0])}")
            elif (sub["design"].iloc[0] == "rct") or arm == "il2":
                texts.append(f"{ARM_LABELS[arm]} {NOT_REPORTED}")
        right.append("   ".join(texts))
        if i:
            ax.axhline(y + 0.5, color="#dddddd", lw=0.6, zorder=0)
    ax.set_yticks(range(n))
    ax.set_yticklabels(labels[::-1])
    ax.set_ylim(-0.6, n - 0.4)
    upper = min(100.0, 10 * math.ceil(10 * float(data["ci_high"].max())) + 10) if len(data) else 100.0
    ax.set_xlim(-0.04 * upper, upper)  # a little room so markers at 0% stand clear of the labels
    ax.spines["left"].set_visible(False)
    ax.axvline(0, color="#888888", lw=0.8, zorder=0)
    ax.set_xlabel("Patients with the event, % (exact 95% CI)")
    ax.text(
        1.03,
        n - 0.4,
        "Events / patients",
        transform=ax.get_yaxis_transform(),
        va="bottom",
        ha="left",
        fontsize=9,
        fontweight="bold",
    )
    ax.tick_params(axis="y", length=0)
    for i, text in enumerate(right):
        ax.text(1.03, n - 1 - i, text, transform=ax.get_yaxis_transform(), va="center", ha="left", fontsize=9)
    handles = [
        Line2D(
            [],
            [],
            marker=m,
            color=c,
            markeredgecolor="black",
            markeredgewidth=0.6,
            lw=1.6,
            label=f"{ARM_LABELS[arm]} ({'circle' if m == 'o' else 'square'})",
        )
        for arm, (m, c) in _MARKERS.items()
    ]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=9)
    return fig


def safety_figure_description(ev: Evidence) -> str:
    """The figure's content as text (for the long description under the figure)."""
    data = figure_rows(ev)
    parts = [
        "Dot-and-whisker chart of the share of patients with each adverse event, by event and study; "
        "IL-2 arms are circles and placebo arms squares, each with its exact 95% confidence interval."
    ]
    for _, sub in data.groupby(["outcome", "study_id"], sort=False):
        arms = []
        for r in sub.itertuples(index=False):
            arms.append(f"{ARM_LABELS[r.arm]} {incidence_text(r.events, r.total, r.ci_low, r.ci_high)}")
        parts.append(f"{sub['event'].iloc[0]}, {sub['label'].iloc[0]}: " + "; ".join(arms) + ".")
    return " ".join(parts)


# ---------------------------------------------------------------------------
# Values for the prose
# ---------------------------------------------------------------------------
def _arm_count(ev: Evidence, study_id: str, arm: str, outcome: str) -> pd.Series | None:
    """One arm's event count with its exact CI (a row of event_counts), or None."""
    c = event_counts(ev)
    r = c[(c["study_id"] == study_id) & (c["arm"] == arm) & (c["outcome"] == outcome)]
    return None if r.empty else r.iloc[0]


def incidence_prose(ev: Evidence, study_id: str, arm: str, outcome: str) -> str:
    """'9 of 29 patients (31.0%; 95% CI 15.3 to 50.8%)', or 'not reported'."""
    r = _arm_count(ev, study_id, arm, outcome)
    if r is None:
        return NOT_REPORTED
    return (
        f"{int(r['events'])} of {int(r['total'])} patients ({fmt_num(100 * r['incidence'], 1)}%; "
        f"95% CI {fmt_num(100 * r['ci_low'], 1)} to {fmt_num(100 * r['ci_high'], 1)}%)"
    )


def pooled_incidence_text(ev: Evidence, outcome: str, measure: str = "PLO", test: str = "z") -> str:
    """'20.7% (95% CI 7.8 to 44.5%)' for a pooled single-arm incidence."""
    _, bt, _ = pooled_incidence(ev, outcome, measure, "REML", test)
    return fmt_ci(bt["estimate"], bt["ci_low"], bt["ci_high"], 1, scale=100, unit="%")
