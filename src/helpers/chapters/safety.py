"""What the safety chapter says, written from the data for any number of trials and studies."""

from __future__ import annotations

import pandas as pd

from helpers.chapters.efficacy import count_word
from helpers.evidence.load import Evidence
from helpers.report.prose import (
    NOT_REPORTED,
    GlueMarkdown,
    cite,
    fmt_ci,
    fmt_int,
    fmt_num,
    fmt_pct,
    is_missing,
    join_words,
    lower_first,
)
from helpers.review import safety


def overview_text(ev: Evidence) -> GlueMarkdown:
    """Which trial gives adverse-event counts in both arms, what the uncontrolled studies count, who counts nothing."""
    rows = safety.safety_rows(ev)
    counts = safety.event_counts(ev)
    sources = ev.outcomes.set_index(["study_id", "outcome"])["source"]
    parts = []
    rct = counts[counts["design"] == "rct"]
    both = [s for s, g in rct.groupby("study_id", sort=False) if {"il2", "placebo"} <= set(g["arm"])]
    labels = ev.study_labels
    if both:
        names = join_words([labels[s] for s in both])
        lead = f"{names} is the only trial" if len(both) == 1 else f"{names} are the {count_word(len(both))} trials"
        cites = ev.studies.set_index("study_id").loc[both, "citation_key"]
        parts.append(f"{lead} with adverse-event counts in both arms {cite(cites)}.")
    for study_id, g in counts[counts["design"] != "rct"].groupby("study_id", sort=False):
        events = [
            f"{lower_first(r.event)} in {safety.incidence_prose(ev, study_id, r.arm, r.outcome)}"
            + (f", with the note “{lower_first(str(r.note).strip(chr(39)))}”" if not is_missing(r.note) else "")
            for r in g.itertuples()
        ]
        citation = cite(sources.loc[[(study_id, o) for o in g["outcome"]]])
        parts.append(f"{labels[study_id]} reports {'; '.join(events)} {citation}.")
    counted = set(counts["study_id"])
    for study_id, g in rows[~rows["study_id"].isin(counted)].groupby("study_id", sort=False):
        said = [str(r.note) for r in g.itertuples() if r.statistic == "qualitative" and not is_missing(r.note)]
        if said:
            citation = cite(sources.loc[[(study_id, o) for o in g["outcome"]]])
            parts.append(f"{labels[study_id]} gives no count; it reports: {lower_first('; '.join(said))} {citation}.")
    return GlueMarkdown(" ".join(parts))


MH_CITE = "{cite:p}`mantel1959`"


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
        test = "Fisher's exact p" if r.test == "fisher" else "p"
        effects.append(f"{test} = {fmt_num(r.rd_p, 3)}")
        if not is_missing(r.peto_or):
            effects.append(f"Peto odds ratio {_ci(r.peto_or, r.peto_low, r.peto_high)}")
        includes_none = r.rd_low <= 0 <= r.rd_high
        lines.append(
            f"- **{r.event}**: {il2} with IL-2 against {ctl} with placebo, {where}; {'; '.join(effects)}"
            + ("; the interval includes no difference." if includes_none else ".")
        )
    return GlueMarkdown("\n".join(lines))


def methods_text(ev: Evidence) -> GlueMarkdown:
    """How the comparisons were computed, from the protocol's rules and how many trials each event has."""
    comp = safety.rct_comparisons(ev)
    if comp.empty:
        return GlueMarkdown("")
    parts = []
    single = comp[comp["single_trial"]]
    pooled = comp[~comp["single_trial"]]
    if len(single):
        r = single.iloc[0]
        which = (
            "Every event is"
            if len(pooled) == 0
            else f"{join_words(list(single['event']))} {'is' if len(single) == 1 else 'are'}"
        )
        parts.append(
            f"{which} compared in one trial only, so each such comparison is that trial's own result, not a pooled "
            f"estimate: the risk difference has {safety.METHOD_WORDS[r['rd_method']]}"
            + (
                " {cite:p}`newcombe1998`, which is defined with zero cells and performs well with small counts"
                if r["rd_method"] == "newcombe"
                else ""
            )
            + f"; p is from {safety.METHOD_WORDS[r['test']]}"
            + (" {cite:p}`fisher1922`" if r["test"] == "fisher" else "")
            + "; and the risk ratio has the "
            f"{safety.METHOD_WORDS[r['rr_method']]}, the Mantel-Haenszel interval of one table {MH_CITE}, which is "
            "not estimable where an arm has no events."
        )
    if len(pooled):
        parts.append(
            f"{join_words(list(pooled['event']))} {'is' if len(pooled) == 1 else 'are'} pooled over several trials "
            f"with the Mantel-Haenszel method {MH_CITE}."
        )
    rule = safety.peto_rule()
    used = comp[comp["peto_note"] == ""]
    condition = (
        f"events are rare (below {fmt_pct(100 * rule['max_event_risk'], 0)} of every arm) and every trial's arms are "
        f"of similar size (the larger at most {fmt_num(rule['max_arm_ratio'], 1)} times the smaller), where it is "
        "the least biased method {cite:p}`bradburn2007`"
    )
    if len(used):
        events = lower_first(join_words(list(used["event"])))
        parts.append(
            f"Peto's one-step odds ratio {{cite:p}}`yusuf1985` is given for {events}, as the protocol allows it "
            f"only where {condition}."
        )
    else:
        parts.append(
            f"The protocol allows Peto's one-step odds ratio {{cite:p}}`yusuf1985` only where {condition}; no event "
            "compared here qualifies, so none is given."
        )
    return GlueMarkdown(" ".join(parts))


def comparison_values(ev: Evidence) -> dict[str, object]:
    comp = safety.rct_comparisons(ev)
    trials = comp["studies"].iloc[0] if len(comp) else "no trial"
    k = int(comp["k"].max()) if len(comp) else 0
    missing = comp["not_reported_in"].iloc[0] if len(comp) else ""
    return {
        "safety_rct_trials": trials,
        "safety_rct_k_text": (
            "Every comparison below is therefore that one trial's own result, not a pooled estimate"
            if k == 1
            else f"The comparisons below pool up to {count_word(k)} trials"
            if k > 1
            else "No comparison is possible"
        ),
        "safety_rct_missing": (f"{missing} does not report them" if missing else "every trial reports them"),
        "safety_comparison_text": comparison_text(ev),
        "safety_methods_text": methods_text(ev),
    }


# ---------------------------------------------------------------------------
# How many patients the harms rest on
# ---------------------------------------------------------------------------
def coverage_table(ev: Evidence) -> pd.DataFrame:
    """Per event: the studies counting it and the IL-2 and placebo patients counted and compared."""
    cov = safety.harm_coverage(ev)
    known = safety.coverage_totals(ev)["il2_known"]
    return pd.DataFrame(
        {
            "Event": cov["event"],
            "Studies counting it": cov["studies"],
            "IL-2 patients counted": [f"{n} of {known} ({fmt_pct(100 * n / known, 0)})" for n in cov["il2_counted"]],
            "Placebo patients counted": cov["placebo_counted"].map(fmt_int),
            "IL-2 patients compared with placebo": [
                f"{n} ({'single trial' if k == 1 else f'{k} trials'})" if k else "0 (not compared)"
                for n, k in zip(cov["il2_compared"], cov["trials_compared"])
            ],
            "Placebo patients compared": cov["placebo_compared"].map(fmt_int),
        }
    )


def coverage_values(ev: Evidence) -> dict[str, object]:
    """How many IL-2 and placebo patients any harm rests on, and the checked sentence that weighs it."""
    from helpers.review.claims import wording

    t = safety.coverage_totals(ev)
    known = t["il2_known"]
    return {
        "safety_il2_known": fmt_int(known),
        "safety_il2_counted": fmt_int(t["il2_counted"]),
        "safety_il2_counted_share": fmt_pct(100 * t["il2_counted"] / known, 0),
        "safety_il2_compared": fmt_int(t["il2_compared"]),
        "safety_il2_compared_share": fmt_pct(100 * t["il2_compared"] / known, 0),
        "safety_placebo_known": fmt_int(t["placebo_known"]),
        "safety_placebo_compared": fmt_int(t["placebo_compared"]),
        "safety_counted_studies": join_words(t["studies_counted"]) if t["studies_counted"] else "no study",
        "safety_compared_trials": join_words(t["trials_compared"]) if t["trials_compared"] else "no trial",
        "safety_coverage_claim": wording("review_safety_statement_rests_on_part"),
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
            else f"The events counted in more than one IL-2 arm are {join_words(names)}; the first, "
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
        f"{r.label} counts {'' if is_missing(r.note) else lower_first(str(r.note)).lower() + ' '}"
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


def overview_values(ev: Evidence) -> dict[str, object]:
    """How many included studies count adverse events, and which give none."""
    included = ev.included_studies()
    counts = safety.event_counts(ev)
    no_data = safety.studies_without_safety_data(ev)
    return {
        "safety_n_included": fmt_int(len(included)),
        "safety_n_with_counts": fmt_int(counts["study_id"].nunique()),
        "safety_with_counts": join_words(list(dict.fromkeys(counts["label"]))) if len(counts) else "none",
        "safety_n_no_data": fmt_int(len(no_data)),
        "safety_no_data": join_words(no_data) if no_data else "none",
        "safety_overview": overview_text(ev),
    }


def pooled_incidence_figure(ev: Evidence):
    """The forest plot of the first event counted in enough IL-2 arms, and every glue value its paragraph needs."""
    from helpers.report.forest import alt_text, forest_plot

    outcome = pooled_outcome(ev)
    values = pooled_incidence_values(ev)
    if outcome is None:
        from helpers.chapters.efficacy import no_data_figure

        nothing = "No adverse event is counted in more than one IL-2 arm."
        return no_data_figure(nothing), values | dict.fromkeys(
            (
                "safety_isr_pooled_k",
                "safety_isr_pooled_studies",
                "safety_isr_pooled_logit",
                "safety_isr_pooled_logit_hk",
                "safety_isr_pooled_ft",
                "safety_isr_pooled_i2",
                "safety_pooled_definitions",
                "safety_pooled_event",
            ),
            "not applicable",
        ) | {"safety_isr_forest_alt": nothing}
    inputs = safety.incidence_forest_inputs(ev, outcome)
    logit_fit = inputs["fits"]["PLO"][0]
    figure = forest_plot(
        inputs["studies"],
        inputs["pooled"],
        measure="PLO",
        heterogeneity=inputs["heterogeneity"],
        notes=inputs["notes"],
        left_labels={"il2_text": "IL-2 n/N"},
        xlabel=f"Patients with {outcome_label(ev, outcome).lower()} (proportion)",
    )
    return figure, values | {
        "safety_isr_pooled_k": fmt_int(logit_fit.k),
        "safety_isr_pooled_studies": join_words(list(inputs["counts"]["label"])),
        "safety_isr_pooled_logit": safety.pooled_incidence_text(ev, outcome, "PLO", "z"),
        "safety_isr_pooled_logit_hk": safety.pooled_incidence_text(ev, outcome, "PLO", "knha"),
        "safety_isr_pooled_ft": safety.pooled_incidence_text(ev, outcome, "PFT", "z"),
        "safety_isr_pooled_i2": f"{logit_fit.i2:.0f}%",
        "safety_isr_forest_alt": alt_text(inputs["studies"], inputs["pooled"], "PLO"),
    }


# ---------------------------------------------------------------------------
# Information on harms, and an appraisal of the review's claim
# ---------------------------------------------------------------------------
def exposure_text(study: pd.Series) -> str:
    """IL-2 exposure from studies.csv: '1 MIU every other day; 3 cycles; 12 weeks (derived)'."""
    from helpers.report.labels import dose_text

    dose = dose_text(study["dose_miu"], study.get("dose_miu_low"), study.get("dose_miu_high"))
    parts = [f"{dose} {study['frequency']}" if not is_missing(study["frequency"]) else f"{dose}, schedule not reported"]
    if not is_missing(study["cycles"]):
        n = int(study["cycles"])
        parts.append(f"{n} cycle{'' if n == 1 else 's'}")
    if not is_missing(study["duration"]):
        derived = safety.derived_field(study, "duration")
        parts.append(f"{study['duration']}{' (derived)' if derived else ''}")
    return "; ".join(parts)


def _patients_text(arms: list[tuple]) -> str:
    """'IL-2 29, placebo 30 (safety set)'; each arm's population where they differ; 'no harm counted' where none is."""
    from helpers.report.labels import ARM_LABELS, POPULATION_LABELS

    def where(population: str, derived: bool) -> str:
        return POPULATION_LABELS.get(population, population) + (", derived" if derived else "")

    known = [a for a in arms if a[1] is not None]
    places = {where(a[2], a[3]) for a in known}
    shown = []
    for i, (role, n, population, derived, _) in enumerate(arms):
        name = ARM_LABELS[role] if i == 0 else lower_first(ARM_LABELS[role])
        if n is None:
            shown.append(f"{name} {NOT_REPORTED}")
        else:
            shown.append(f"{name} {fmt_int(n)}" + ("" if len(places) == 1 else f" ({where(population, derived)})"))
    text = ", ".join(shown) + (f" ({places.pop()})" if len(places) == 1 else "")
    return text + ("" if any(a[4] for a in arms) else "; no harm counted")


def information_table(ev: Evidence) -> pd.DataFrame:
    """Information on harms per included study: patients, IL-2 exposure, follow-up, which harms it reports."""
    from helpers.report.labels import DESIGN_LABELS, timepoint_text

    info = safety.harms_information(ev)
    studies = ev.studies.set_index("study_id")
    nothing = "none in the sources consulted"
    return pd.DataFrame(
        {
            "Study": info["label"],
            "Design": info["design"].map(DESIGN_LABELS),
            "Patients the harms rest on (population)": info["arms"].map(_patients_text),
            "IL-2 exposure (dose, schedule, cycles, duration)": [
                exposure_text(studies.loc[s]) for s in info["study_id"]
            ],
            "Latest visit named in the sources": info["last_timepoint"].map(timepoint_text),
            "Harms counted": [", ".join(v) or nothing for v in info["counted"]],
            "Harms described without a count": [", ".join(v) or nothing for v in info["described"]],
            "Harms recorded as not reported": [
                ", ".join(v) or ("–" if c or d else "no harm is mentioned")
                for v, c, d in zip(info["not_reported"], info["counted"], info["described"])
            ],
        }
    )


def appraisal_values(ev: Evidence) -> dict[str, object]:
    """The data-dependent parts of the appraisal of the review's safety claim, generated or checked."""
    from helpers.review.claims import wording

    info = safety.harms_information(ev)
    counting = info[info["counted"].map(bool)]
    silent = info[~info["counted"].map(bool)]
    weeks = counting["last_week"].dropna()
    parts = [
        f"{fmt_int(len(counting))} of the {fmt_int(len(info))} included studies count any harm "
        f"({join_words(list(counting['label'])) if len(counting) else 'none'})"
    ]
    if len(silent):
        described = [
            f"{r.label} only describes {lower_first(join_words(r.described))} without a count"
            for r in silent.itertuples()
            if r.described
        ]
        quiet = [r.label for r in silent.itertuples() if not r.described]
        tail = []
        if quiet:
            tail.append(f"{join_words(quiet)} {'counts' if len(quiet) == 1 else 'count'} none")
        tail += described
        parts.append("; ".join(tail))
    comp = safety.rct_comparisons(ev)
    compared = ""
    if len(comp):
        clear = comp[(comp["rd_low"] > 0) | (comp["rd_high"] < 0)]
        more = [lower_first(r.event) for r in clear.itertuples() if r.rd > 0]
        less = [lower_first(r.event) for r in clear.itertuples() if r.rd < 0]
        trials = comp["studies"].iloc[0] if comp["k"].max() == 1 else "the trials that compare harms"
        said = []
        said += [f"{e} (more often with IL-2)" for e in more]
        said += [f"{e} (less often with IL-2)" for e in less]
        rest = "every other event" if said else "every event"
        compared = (
            f"In {trials}, the interval of the risk difference excludes no difference for "
            + (join_words(said) if said else "no event")
            + f"; for {rest} it includes no difference, and intervals this wide cannot rule out a harm that "
            "matters."
        )
    return {
        "safety_information_text": "; ".join(parts) + ".",
        "safety_longest_followup": f"week {int(weeks.max())}" if len(weeks) else NOT_REPORTED,
        "safety_compared_text": compared,
        "safety_nothing_serious": wording("no_discontinuations_deaths_serious"),
        "safety_followup_claim": wording("harms_follow_up_under_a_year"),
    }
