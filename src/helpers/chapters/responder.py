"""What the responder-index chapter says, written from the data for any number of trials."""

from __future__ import annotations

import pandas as pd

from helpers.chapters.efficacy import citations
from helpers.evidence.load import Evidence
from helpers.report.labels import POPULATION_PHRASES
from helpers.report.prose import (
    GlueMarkdown,
    fmt_ci,
    fmt_int,
    fmt_pct,
    fmt_share,
    is_missing,
    join_words,
    lower_first,
    plural,
)
from helpers.review.efficacy import median_range_trials
from helpers.review.responder import SEPARATED, placebo_response


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
    """Which binary indices separated IL-2 from placebo where, and where disease activity fell in both arms."""
    trials = median_range_trials(ev)
    labels = ev.studies.set_index("study_id")["label"]
    parts = []
    if trials:
        parts.append(
            f"disease-activity scores fell in both arms of {join_words([labels[s] for s in trials])}, so within-arm "
            "change says little about IL-2"
        )
    rcts = set(ev.included_studies().query("design == 'rct'")["study_id"])
    m = matrix[matrix["study_id"].isin(rcts)]
    phrases = {"sri4": "the SRI-4", "bilag_a_or_2b": "the BILAG-based count (free of BILAG A or 2 B)"}
    for outcome in phrases:
        cells = m[(m["outcome"] == outcome) & (m["category"] != "not reported")]
        if cells.empty:
            continue
        separated = list(cells.loc[cells["category"] == SEPARATED, "column"])
        parts.append(
            f"{phrases[outcome]} separated the arms only in {join_words(separated)}"
            if separated and len(separated) < len(cells)
            else f"{phrases[outcome]} separated the arms in every trial and time point reported"
            if separated
            else f"{phrases[outcome]} did not separate them"
        )
    return "In short: " + "; ".join(parts) + "." if parts else ""


def index_values(ev: Evidence, matrix: pd.DataFrame) -> dict[str, object]:
    """How many index-by-time-point cells have data, and where an index separated IL-2 from placebo."""
    from helpers.review.responder import ALPHA, NOT_REPORTED

    separated = matrix[matrix["category"] == SEPARATED]
    return {
        "alpha": str(ALPHA),
        "index_pattern": pattern_text(ev, matrix),
        "n_cells": fmt_int(len(matrix)),
        "n_cells_reported": fmt_int((matrix["category"] != NOT_REPORTED).sum()),
        "n_columns": fmt_int(matrix["column"].nunique()),
        "n_separated": fmt_int(len(separated)),
        "separated_list": "; ".join(f"{i} in {c}" for i, c in zip(separated["index"], separated["column"])) or "none",
        "separated_text": (
            f"Separation was seen in {plural(len(separated), 'cell')}: "
            + "; ".join(f"{i} in {c}" for i, c in zip(separated["index"], separated["column"]))
            + "."
            if len(separated)
            else "No cell shows separation."
        ),
    }


def largest_values(effects_rr: pd.DataFrame) -> dict[str, str]:
    """The binary index with the largest risk ratio of responding."""
    if effects_rr.empty:
        return {"largest_index": "no index", "largest_rr": "not applicable"}
    largest = effects_rr.loc[effects_rr["estimate"].idxmax()]
    return {
        "largest_index": largest["label"],
        "largest_rr": fmt_ci(largest["estimate"], largest["ci_low"], largest["ci_high"]),
    }
