"""What the chapter "After the review" glues: the windows, the later evidence in counts and words, its tables.

Every sentence with a number or a data-dependent statement is written here from the data and the
protocol (:mod:`helpers.review.after_review`); the notebook only places them.
"""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import Protocol, load_protocol
from helpers.report.labels import RESULTS_AVAILABLE_LABELS, timepoint_text
from helpers.report.prose import (
    GlueMarkdown,
    cite,
    fmt_ci,
    fmt_int,
    is_missing,
    join_words,
    lower_first,
    nested,
    parenthetical,
)
from helpers.review import after_review as later
from helpers.review.analyses import model_label

#: Bibliography keys of the pooling methods (``method``) and tests (``test``) a model label names.
METHOD_KEYS = {
    "MH": ("mantel1959",),
    "Peto": ("yusuf1985",),
    "REML": ("harville1977", "viechtbauer2010"),
    "DL": ("dersimonian1986",),
    "PM": ("paule1982",),
    "Newcombe": ("newcombe1998",),
}
TEST_KEYS = {"knha": ("hartung2001", "knapp2003"), "fisher": ("fisher1922",)}


def method_cite(method: str, test: str) -> str:
    """The citation of the methods a model label names, after a space ('' if none)."""
    keys = cite([*METHOD_KEYS.get(method, ()), *TEST_KEYS.get(test, ())])
    return f" {keys}" if keys else ""


def _count(n: int, one: str, many: str) -> str:
    return f"{fmt_int(n)} {one if n == 1 else many}"


def _labels(rows: pd.DataFrame) -> str:
    return join_words(list(rows["label"])) if len(rows) else "none"


def trials_text(ev: Evidence) -> str:
    """How many later trials and reports of the update window have results available to this book, and of what kind."""
    t = later.later_trials(ev)
    if t.empty:
        return "No later trial or trial report of the update window is recorded."
    parts = []
    for kind in ("with_numbers", "qualitative", "no"):
        rows = t[t["results_available"] == kind]
        words = RESULTS_AVAILABLE_LABELS[kind]
        parts.append(f"{words}: " + (f"{fmt_int(len(rows))} {parenthetical(_labels(rows))}" if len(rows) else "none"))
    return "Results available to this book, " + "; ".join(parts) + "."


def undated_text(ev: Evidence) -> GlueMarkdown:
    """The later rows no date places in a window, named apart with what is known of them (never placed by guess)."""
    t = later.later_trials(ev, window=None)
    if t.empty:
        return GlueMarkdown("Every later trial and report is dated, so each is placed in a window by its date.")
    items = []
    for _, r in t.iterrows():
        finding = str(r["finding"]) if not is_missing(r["finding"]) else "no results"
        note = f" {r['note']}." if not is_missing(r["note"]) else ""
        design = r["design"] if not is_missing(r["design"]) else "design not given"
        items.append(f"{r['label']}, {r['evidence_ref']} {cite([r['source']])}: {design}; {finding}.{note}")
    head = (
        f"{_count(len(t), 'report has', 'reports have')} no date, so no window can be computed for "
        f"{'it' if len(t) == 1 else 'them'}; {'it is' if len(t) == 1 else 'they are'} named here and left out of "
        "the table and of every analysis:"
    )
    return GlueMarkdown(head + " " + " ".join(items))


def primary_text(ev: Evidence, protocol: Protocol | None = None) -> str:
    """Whether a later review reports a between-arm effect of the primary outcome, beside this book's primary one."""
    protocol = protocol or load_protocol()
    primary = next(a for a in protocol.analyses if a.role == "primary")
    book = later.book_results(ev)
    measure = protocol.raw["models"]["primary"]["measure"]
    fit = later.preferred_fit(book[book["analysis"] == primary.id], measure, later.preferred_fits(protocol))
    figures = later.later_figures(ev)
    same = figures[(figures["outcome"] == primary.outcome) & (figures["comparison"] == "between_arms")]
    if fit is None:
        ours, stated = "this book's primary analysis (no trial enters it)", ""
    else:
        ours = "this book's primary estimate"
        stated = (
            f": {primary.label}, {fit['measure']} {fmt_ci(fit['estimate'], fit['ci_low'], fit['ci_high'])}, "
            f"{lower_first(model_label(fit['method'], fit['test']))}{method_cite(fit['method'], fit['test'])}, "
            "review window"
        )
    if same.empty:
        return (
            f"No later review reports a between-arm effect of {_outcome_label(ev, primary.outcome)} (IL-2 against "
            f"placebo), so {ours} has no later counterpart{stated}."
        )
    return (
        f"{_count(len(same), 'later figure compares', 'later figures compare')} the arms on the same outcome as "
        f"{ours}{stated}."
    )


def _outcome_label(ev: Evidence, outcome: str) -> str:
    return dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["label"])).get(outcome, outcome)


def update_text(ev: Evidence, protocol: Protocol | None = None) -> str:
    """What the update window adds to each update analysis, in words."""
    protocol = protocol or load_protocol()
    labels = ev.study_labels
    analyses = later.update_analyses(ev, protocol)
    added = [u for u in analyses if u.added]
    if not added:
        return (
            "No included study of the update window reports what these analyses need, so each update analysis "
            "gives the review's estimate again."
        )
    return " ".join(f"{u.label}: the update window adds {join_words([labels[s] for s in u.added])}." for u in added)


def glue_values(ev: Evidence, protocol: Protocol | None = None) -> dict[str, object]:
    """Every value the chapter's prose glues."""
    protocol = protocol or load_protocol()
    trials = later.later_trials(ev)
    figures = later.later_figures(ev)
    pairs = later.comparisons(ev, protocol)
    matched = pairs[pairs["same_scale"]]
    primary = next(a for a in protocol.analyses if a.role == "primary")
    return {
        "after_review_window": later.window_words(ev, later.REVIEW),
        "after_update_window": later.window_words(ev, later.UPDATE),
        "after_n_trials": fmt_int(len(trials)),
        "after_trials": nested(_labels(trials)),
        "after_trials_text": trials_text(ev),
        "after_undated_text": undated_text(ev),
        "after_n_figures": fmt_int(len(figures)),
        "after_n_reviews": fmt_int(figures["review_id"].nunique()),
        "after_reviews": nested(join_words(list(dict.fromkeys(figures["review"])))) if len(figures) else "none",
        "after_n_matched_figures": fmt_int(matched[["review_id", "figure"]].drop_duplicates().shape[0]),
        "after_n_unmatched_figures": fmt_int(len(pairs[~pairs["same_scale"]])),
        "after_primary_text": GlueMarkdown(primary_text(ev, protocol)),
        "after_update_analyses": join_words([a.label for a in protocol.update_analyses]),
        "after_update_windows": join_words(list(protocol.update_windows)),
        "after_update_text": update_text(ev, protocol),
        "after_primary_timepoint": timepoint_text(primary.timepoint),
    }


def tables(ev: Evidence, protocol: Protocol | None = None) -> dict[str, pd.DataFrame]:
    """The chapter's tables by glue key."""
    return {
        "after_trials_table": later.trials_table(ev),
        "after_reviews_table": later.comparison_table(ev),
        "after_update_table": later.update_table(ev, protocol),
    }
