"""What the safety chapter says, written from the data for any number of trials and studies."""

from __future__ import annotations

import pandas as pd

from helpers.chapters.efficacy import count_word, join_names
from helpers.evidence.load import Evidence
from helpers.report.prose import GlueMarkdown, fmt_ci, is_missing
from helpers.review import safety


def _cite(keys) -> str:
    keys = [k.strip() for key in keys for k in str(key).split(";") if k.strip()]
    return "{cite:p}`" + ",".join(dict.fromkeys(keys)) + "`" if keys else ""


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if text else text


def overview_text(ev: Evidence) -> GlueMarkdown:
    """Which trial gives adverse-event counts in both arms, what the uncontrolled studies count, who counts nothing."""
    rows = safety.safety_rows(ev)
    counts = safety.event_counts(ev)
    sources = ev.outcomes.set_index(["study_id", "outcome"])["source"]
    parts = []
    rct = counts[counts["design"] == "rct"]
    both = [s for s, g in rct.groupby("study_id", sort=False) if {"il2", "placebo"} <= set(g["arm"])]
    labels = ev.studies.set_index("study_id")["label"]
    if both:
        names = join_names([labels[s] for s in both])
        lead = f"{names} is the only trial" if len(both) == 1 else f"{names} are the {count_word(len(both))} trials"
        cites = ev.studies.set_index("study_id").loc[both, "citation_key"]
        parts.append(f"{lead} with adverse-event counts in both arms {_cite(cites)}.")
    for study_id, g in counts[counts["design"] != "rct"].groupby("study_id", sort=False):
        events = [
            f"{_lower_first(r.event)} in {safety.incidence_prose(ev, study_id, r.arm, r.outcome)}"
            + (f" ({_lower_first(str(r.note)).strip(chr(39))})" if not is_missing(r.note) else "")
            for r in g.itertuples()
        ]
        cite = _cite(sources.loc[[(study_id, o) for o in g["outcome"]]])
        parts.append(f"{labels[study_id]} reports {'; '.join(events)} {cite}.")
    counted = set(counts["study_id"])
    for study_id, g in rows[~rows["study_id"].isin(counted)].groupby("study_id", sort=False):
        said = [str(r.note) for r in g.itertuples() if r.statistic == "qualitative" and not is_missing(r.note)]
        if said:
            cite = _cite(sources.loc[[(study_id, o) for o in g["outcome"]]])
            parts.append(f"{labels[study_id]} gives no count; it reports: {_lower_first('; '.join(said))} {cite}.")
    return GlueMarkdown(" ".join(parts))


def _ci(est, lo, hi, scale: float = 1.0, unit: str = "") -> str:
    return fmt_ci(est, lo, hi, 2 if scale == 1 else 1, scale=scale, unit=unit)


def comparison_text(ev: Evidence) -> GlueMarkdown:
    """One line per event compared between IL-2 and placebo: counts, direction and the estimable effects."""
    comp = safety.rct_comparisons(ev)
    if comp.empty:
        return GlueMarkdown("No randomised trial counts adverse events in both arms.")
    lines = []
    for r in comp.itertuples():
        il2, ctl = f"{r.events_il2}/{r.total_il2}", f"{r.events_control}/{r.total_control}"
        if r.events_control == 0 and r.events_il2 > 0:
            where = "only with IL-2"
        elif r.events_il2 == 0 and r.events_control > 0:
            where = "only with placebo"
        else:
            where = "more often with IL-2" if r.rd > 0 else "less often with IL-2" if r.rd < 0 else "equally often"
        effects = []
        if not is_missing(r.rr):
            effects.append(f"risk ratio {_ci(r.rr, r.rr_low, r.rr_high)}")
        else:
            effects.append("risk ratio not estimable (a zero arm)")
        effects.append(f"risk difference {_ci(r.rd, r.rd_low, r.rd_high, 100, ' percentage points')}")
        if not is_missing(r.peto_or):
            effects.append(f"Peto odds ratio {_ci(r.peto_or, r.peto_low, r.peto_high)}")
        includes_none = r.rd_low <= 0 <= r.rd_high
        lines.append(
            f"- **{r.event}**: {il2} with IL-2 against {ctl} with placebo, {where}; {'; '.join(effects)}"
            + ("; the interval includes no difference." if includes_none else ".")
        )
    return GlueMarkdown("\n".join(lines))


def comparison_values(ev: Evidence) -> dict[str, object]:
    comp = safety.rct_comparisons(ev)
    trials = comp["studies"].iloc[0] if len(comp) else "no trial"
    k = int(comp["k"].max()) if len(comp) else 0
    missing = comp["not_reported_in"].iloc[0] if len(comp) else ""
    return {
        "safety_rct_trials": trials,
        "safety_rct_k_text": (
            "Every comparison below is therefore that one trial's own estimate"
            if k == 1
            else f"The comparisons below pool up to {count_word(k)} trials"
            if k > 1
            else "No comparison is possible"
        ),
        "safety_rct_missing": (f"{missing} does not report them" if missing else "every trial reports them"),
        "safety_comparison_text": comparison_text(ev),
    }


def pooled_incidence_values(ev: Evidence) -> dict[str, object]:
    """The first event counted in enough IL-2 arms to pool, described from the data."""
    poolable = safety.poolable_events(ev)
    labels = dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["label"]))
    names = [labels[o].lower() for o in poolable]
    values: dict[str, object] = {
        "safety_poolable_text": (
            f"The only event counted in more than one IL-2 arm is {names[0]}"
            if len(names) == 1
            else f"The events counted in more than one IL-2 arm are {join_names(names)}; the first, "
            f"{names[0]}, is shown"
            if names
            else "No event is counted in more than one IL-2 arm"
        )
    }
    if not poolable:
        return values
    outcome = poolable[0]
    values["safety_pooled_event"] = labels[outcome]
    counts = safety.il2_arm_counts(ev, outcome)
    described = [
        f"{r.label} counts {'' if is_missing(r.note) else _lower_first(str(r.note)).lower() + ' '}"
        f"events among its {r.population.replace('analysed_safety', 'safety set').replace('_', ' ')} patients "
        f"({r.locator})"
        for r in counts.itertuples()
    ]
    values["safety_pooled_definitions"] = "; ".join(described)
    return values


def pooled_outcome(ev: Evidence) -> str | None:
    poolable = safety.poolable_events(ev)
    return poolable[0] if poolable else None


def outcome_label(ev: Evidence, outcome: str) -> str:
    return pd.Series(dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["label"])))[outcome]
