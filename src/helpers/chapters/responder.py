"""What the responder-index chapter says, written from the data for any number of trials."""

from __future__ import annotations

import pandas as pd

from helpers.chapters.efficacy import citations
from helpers.evidence.load import Evidence
from helpers.report.labels import ARM_LABELS, POPULATION_PHRASES, timepoint_text
from helpers.report.prose import (
    GlueMarkdown,
    fmt_ci,
    fmt_int,
    fmt_pct,
    fmt_share,
    is_missing,
    join_words,
    lower_first,
    parenthetical,
    plural,
)
from helpers.review.claims import p_below
from helpers.review.efficacy import median_range_trials
from helpers.review.responder import (
    ALPHA,
    EXCLUDES,
    INCLUDES,
    NOT_REPRODUCED_MARK,
    STATE_OUTCOMES,
    placebo_response,
    state_counts,
)


def placebo_text(ev: Evidence) -> GlueMarkdown:
    """Placebo response per trial in its primary population, and what each trial reports beyond it."""
    pr = placebo_response(ev)
    primary = pr[pr["primary"]]
    outcome = ev.outcome_definitions.set_index("outcome").loc["sri4", "label"].removesuffix(" response")
    shares = [f"{fmt_share(r.events, r.total)} in {r.label}" for r in primary.itertuples()]
    text = [f"On placebo, the {outcome} response was " + join_words(shares) + f" {citations(ev, primary['study_id'])}."]
    notes = ev.outcomes.set_index(["study_id", "arm", "outcome", "population", "timepoint"])["note"]
    for study_id, g in pr[~pr["primary"]].groupby("study_id", sort=False):
        label = g["label"].iloc[0]
        parts = []
        for r in g.itertuples():
            note = notes.get((study_id, "placebo", "sri4", r.population, "week_12"), pd.NA)
            about = f" ({lower_first(note)})" if not is_missing(note) else ""
            if is_missing(r.events):
                parts.append(
                    f"{fmt_pct(r.percent, 0)} of placebo patients responded in a {POPULATION_PHRASES.get(r.population)}"
                    f"{about}; {r.na_reason}"
                )
            else:
                p = f", with a reported between-arm p-value of {r.p_between}" if not is_missing(r.p_between) else ""
                parts.append(
                    f"in its {POPULATION_PHRASES.get(r.population, r.population)} population{about} the placebo "
                    f"response was {fmt_share(r.events, r.total)}{p}"
                )
        text.append(f"In {label}, " + "; ".join(parts) + ".")
    return GlueMarkdown(" ".join(text))


def pattern_text(ev: Evidence, matrix: pd.DataFrame) -> str:
    """Where disease activity fell in both arms, and where the SRI-4's recomputed interval excludes no difference."""
    trials = median_range_trials(ev)
    labels = ev.study_labels
    parts = []
    if trials:
        parts.append(
            f"disease-activity scores fell in both arms of {join_words([labels[s] for s in trials])}, so within-arm "
            "change says little about IL-2"
        )
    rcts = set(ev.included_studies().query("design == 'rct'")["study_id"])
    m = matrix[matrix["study_id"].isin(rcts)]
    cells = m[(m["outcome"] == "sri4") & m["category"].isin([EXCLUDES, INCLUDES])]
    if not cells.empty:
        excludes = list(cells.loc[cells["category"] == EXCLUDES, "column"])
        includes = list(cells.loc[cells["category"] == INCLUDES, "column"])
        parts.append(
            f"the SRI-4's interval excludes no difference in {join_words(excludes)} and includes it in "
            f"{join_words(includes)}"
            if excludes and includes
            else "the SRI-4's interval excludes no difference in every trial and time point reported"
            if excludes
            else "the SRI-4's interval includes no difference in every trial and time point reported"
        )
    return "In short: " + "; ".join(parts) + "." if parts else ""


def p_check_text(ev: Evidence, effects: pd.DataFrame) -> GlueMarkdown:
    """Which reported between-arm p-values the counts reproduce, and which they do not, from the data."""
    from helpers.report.labels import TEST_LABELS
    from helpers.review.responder import fmt_p

    checked = [r for r in effects.itertuples(index=False) if r.p_check is not None]
    if not checked:
        return GlueMarkdown("No randomised trial reports a between-arm p-value beside its counts.")
    reproduced = [r for r in checked if r.p_check.reproduced]
    not_reproduced = [r for r in checked if not r.p_check.reproduced]
    parts = []
    if reproduced:
        parts.append(
            "The counts reproduce the reported p of "
            + join_words(
                [
                    f"{r.label} ({r.p_check.reported}, by {join_words([TEST_LABELS[t] for t in by])})"
                    for r, by in ((r, r.p_check.reproduced_by) for r in reproduced)
                ]
            )
            + "."
        )
    if not_reproduced:
        parts.append(
            f"No test of a 2×2 table on the counts gives the reported p of the following "
            f"{'comparison' if len(not_reproduced) == 1 else 'comparisons'}, flagged {NOT_REPRODUCED_MARK}; the "
            "report may have used another test (adjusted for stratification, say) or other counts, so the flag "
            "says the counts shown here do not give it, not that the report is wrong:"
        )
        lines = []
        for r in not_reproduced:
            values = dict(r.p_check.recomputed)
            side = "excludes" if r.category == EXCLUDES else "includes"
            derived = " (counts derived)" if r.derived else ""
            lines.append(
                f"- **{r.label}**: {r.il2_text} vs {r.control_text}{derived}; reported p {r.p_check.reported}, "
                f"recomputed {TEST_LABELS['pearson']} {fmt_p(values['pearson'])} and {TEST_LABELS['fisher']} "
                f"{fmt_p(values['fisher'])}; risk ratio {fmt_ci(r.estimate, r.ci_low, r.ci_high)}, whose interval "
                f"{side} no difference."
            )
        parts = [" ".join(parts), "\n".join(lines)]
        contrary = [
            r
            for r in not_reproduced
            if (p_below(r.p_check.reported) is True and r.category == INCLUDES)
            or (p_below(r.p_check.reported) is False and r.category == EXCLUDES)
        ]
        if contrary:
            parts.append(
                f"For {join_words([r.label for r in contrary])} the reported p and the recomputed interval fall on "
                f"opposite sides of {ALPHA}; the chapter follows the interval."
            )
        return GlueMarkdown("\n\n".join(parts))
    return GlueMarkdown(" ".join(parts))


def state_text(ev: Evidence, outcome: str = STATE_OUTCOMES[0]) -> GlueMarkdown:
    """Why a count of patients in a state after treatment is not a responder index here, from the data."""
    counts = state_counts(ev, outcome)
    label = ev.outcome_definitions.set_index("outcome").loc[outcome, "label"]
    if counts.empty:
        return GlueMarkdown(f"No randomised trial counts patients with {lower_first(label)} in both arms.")
    parts = []
    for _, g in counts.groupby("study_id", sort=False):
        study = g["label"].iloc[0]
        base = g[g["timepoint"] == "baseline"]
        if base.empty:
            continue
        free = [
            f"{fmt_share(r.total - r.events, r.total, 0)} in the {lower_first(ARM_LABELS[r.role])} arm"
            for r in base.itertuples(index=False)
        ]
        parts.append(
            f"{study} counts the patients with {lower_first(label)} at each visit. Before treatment "
            f"{join_words(free)} had none, so counting patients *free* of such scores after treatment credits "
            "both arms with patients who had nothing to resolve: it measures a state, not a response."
        )
        later = g[g["timepoint"] != "baseline"]
        first_tp = later["timepoint"].iloc[0] if len(later) else None
        if first_tp is not None:
            at = later[later["timepoint"] == first_tp]
            bounds = [
                f"between {int(r.resolved_low)} and {int(r.resolved_high)} of {int(r.baseline_events)} in the "
                f"{lower_first(ARM_LABELS[r.role])} arm"
                for r in at.itertuples(index=False)
            ]
            parts.append(
                "A response would be resolution among the patients affected at baseline, but counts per visit do "
                "not say which patients had the scores, so it cannot be computed; at "
                f"{timepoint_text(first_tp)} the counts allow anywhere {join_words(bounds)} to have resolved, "
                "ranges that overlap, so the arms cannot be compared on it."
            )
        odd = g[g["arm_n"].notna() & (g["total"] != g["arm_n"])].drop_duplicates("arm")
        for r in odd.itertuples(index=False):
            parts.append(
                f"The {lower_first(ARM_LABELS[r.role])} arm's count also rests on {fmt_int(r.total)} patients "
                f"({'derived from its percentages' if r.status == 'derived' else 'as reported'}), where the "
                f"same arm's efficacy set has {fmt_int(r.arm_n)}."
            )
    parts.append(
        "The book therefore drops it as a responder index (a protocol amendment, listed in the methods appendix); "
        "the counts stay in the data and in the efficacy chapter's disease-activity table."
    )
    return GlueMarkdown(" ".join(parts))


def index_values(ev: Evidence, matrix: pd.DataFrame) -> dict[str, object]:
    """How many index-by-time-point cells have data, and where an interval excludes no difference."""
    from helpers.review.responder import NOT_REPORTED

    excludes = matrix[matrix["category"] == EXCLUDES]
    flagged = matrix[matrix["p_reproduced"].map(lambda v: v is False)]
    return {
        "alpha": str(ALPHA),
        "index_pattern": pattern_text(ev, matrix),
        "n_cells": fmt_int(len(matrix)),
        "n_cells_reported": fmt_int((matrix["category"] != NOT_REPORTED).sum()),
        "n_columns": fmt_int(matrix["column"].nunique()),
        "n_excludes": fmt_int(len(excludes)),
        "n_excludes_cells": plural(len(excludes), "cell"),
        "excludes_list": "; ".join(f"{i} {parenthetical(c)}" for i, c in zip(excludes["index"], excludes["column"]))
        or "none",
        "n_p_not_reproduced": fmt_int(len(flagged)),
        "not_reproduced_mark": NOT_REPRODUCED_MARK,
    }


def largest_values(effects_rr: pd.DataFrame) -> dict[str, str]:
    """The binary index with the largest risk ratio of responding, its counts and which side of 1 its interval lies."""
    if effects_rr.empty:
        return {
            "largest_index": "no index",
            "largest_rr": "not applicable",
            "largest_counts": "not applicable",
            "largest_side": "not applicable",
        }
    largest = effects_rr.loc[effects_rr["estimate"].idxmax()]
    return {
        "largest_index": largest["label"],
        "largest_rr": fmt_ci(largest["estimate"], largest["ci_low"], largest["ci_high"]),
        "largest_counts": f"{largest['il2_text']} with IL-2 against {largest['control_text']} with placebo",
        "largest_side": "excludes" if largest["category"] == EXCLUDES else "includes",
    }
