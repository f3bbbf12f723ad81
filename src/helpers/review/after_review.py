"""After the review: later trials and later reviews, set beside this book's estimates, and the update analyses.

Everything here lies outside the review's search window. Which rows of ``data/later_trials.csv``
and ``data/later_reviews.csv`` are shown follows from their dates and the protocol's windows
(:meth:`helpers.evidence.load.Evidence.window_of`): only evidence of the update window is listed,
and a row without a date is named apart, never placed by guess.

A later review's figure is set beside this book's estimate of the same quantity on the same
scale, where the results table (:func:`helpers.review.results.results_table`, review window
only) has one: the same outcome, and the same kind of comparison and measure
(:data:`BOOK_SCALES`). Why the two differ is written by rules from the two rows (scale,
population, study sets, outcome definitions and time points, sign convention, intervals),
never by hand per row (:func:`differences`).

The update analyses (``protocol.yml``, section ``update``) are the declared analyses run again
on the studies of the review and update windows together; a trial published in the update
window enters them and never the review's analyses (:func:`update_analyses`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import Protocol, load_protocol
from helpers.report.labels import (
    COMPARISON_LABELS,
    LATER_POPULATION_LABELS,
    MEASURE_LABELS,
    RESULTS_AVAILABLE_LABELS,
    WINDOW_LABELS,
    date_text,
    month_text,
    timepoint_text,
)
from helpers.report.prose import (
    NOT_REPORTED,
    cite,
    fmt_ci,
    fmt_int,
    fmt_num,
    fmt_reported,
    is_missing,
    join_words,
    lower_first,
    parenthetical,
)
from helpers.review.analyses import Analysis, model_label, run_binary
from helpers.review.results import results_table
from helpers.review.selection import plan

UPDATE = "update"
REVIEW = "review"

#: This book's measures (results table) as the (comparison, measure) of later_reviews.csv: a result's scale.
BOOK_SCALES = {
    "PLO": ("single_arm", "proportion"),
    "PFT": ("single_arm", "proportion"),
    "PR": ("single_arm", "proportion"),
    "PAS": ("single_arm", "proportion"),
    "PRAW": ("single_arm", "proportion"),
    "RR": ("between_arms", "RR"),
    "OR": ("between_arms", "OR"),
    "RD": ("between_arms", "RD"),
    "MD": ("between_arms", "MD"),
    "SMCR": ("pre_post", "SMD"),
}
#: Of an analysis's fits, the one set beside a later figure: the protocol's primary model (``models.primary``)
#: where the analysis has it, else the first of these (method, test) present.
PREFERRED_FITS = (("REML", "z"), ("MH", "z"), ("FE", "z"), ("DL", "z"))
#: The measures on which a later value in percent is shown as a proportion of 1 (and back).
PERCENT_SCALE = {"percent": 100.0}
#: Difference measures, whose sign says which arm did better.
DIFFERENCES = ("MD", "RD", "SMD")


# ---------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------
def window_words(ev: Evidence, name: str) -> str:
    """'January 2010 to September 2022', 'from October 2022' (an open window)."""
    start, end = ev.window_bounds[name]
    return f"{month_text(start)} to {month_text(end)}" if end else f"from {month_text(start)}"


def window_cell(ev: Evidence, name: str | None) -> str:
    """'update window (from October 2022)'; a row that no window holds says so."""
    if name is None:
        return "not dated (no window)"
    if name in ev.window_bounds:
        return f"{WINDOW_LABELS[name]} ({window_words(ev, name)})"
    return WINDOW_LABELS.get(name, name)


def trial_date(row: pd.Series) -> object:
    """What places a later trial in a window: its results' publication date, else the trial's end date."""
    return row["published"] if not is_missing(row["published"]) else row["trial_end"]


def later_trials(ev: Evidence, window: str | None = UPDATE) -> pd.DataFrame:
    """Rows of later_trials.csv in a window (None: the undated rows), with their window."""
    t = ev.later_trials.copy()
    t["window"] = [ev.window_of(trial_date(r)) for _, r in t.iterrows()]
    keep = t["window"].isna() if window is None else (t["window"] == window)
    return t[keep].reset_index(drop=True)


def later_figures(ev: Evidence, window: str = UPDATE) -> pd.DataFrame:
    """Rows of later_reviews.csv whose review was published in a window, with that window."""
    r = ev.later_reviews.copy()
    r["window"] = r["published"].map(ev.window_of)
    return r[r["window"] == window].reset_index(drop=True)


# ---------------------------------------------------------------------------
# Later trials
# ---------------------------------------------------------------------------
def _text(value: object) -> str:
    return NOT_REPORTED if is_missing(value) else str(value)


def _patients(row: pd.Series) -> str:
    parts = []
    if not is_missing(row["n_planned"]):
        parts.append(f"{fmt_int(row['n_planned'])} planned")
    if not is_missing(row["n_enrolled"]):
        parts.append(f"{fmt_int(row['n_enrolled'])} enrolled" + (" (derived)" if row["status"] == "derived" else ""))
    return "; ".join(parts) or NOT_REPORTED


def _dated(row: pd.Series) -> str:
    if not is_missing(row["published"]):
        return f"published {date_text(row['published'])}"
    if not is_missing(row["trial_end"]):
        return f"no results publication; trial end {date_text(row['trial_end'])}"
    return "no date"


def _results(row: pd.Series) -> str:
    words = RESULTS_AVAILABLE_LABELS[row["results_available"]]
    return f"{words}: {row['finding']}" if not is_missing(row["finding"]) else words


def _source(row: pd.Series) -> str:
    return f"{row['evidence_ref']}: {row['locator']} {cite([row['source']])}"


def trials_table(ev: Evidence, window: str | None = UPDATE) -> pd.DataFrame:
    """The later trials and trial reports of a window: what is known of them, with provenance."""
    t = later_trials(ev, window)
    return pd.DataFrame(
        {
            "Trial or report": t["label"],
            "Registration": t["registration"].map(_text),
            "Design": t["design"].map(_text),
            "Arms (doses)": t["arms"].map(_text),
            "Patients": [_patients(r) for _, r in t.iterrows()],
            "Status": t["trial_status"].map(_text),
            "Results available to this book": [_results(r) for _, r in t.iterrows()],
            "Dated by": [_dated(r) for _, r in t.iterrows()],
            "Window": t["window"].map(lambda w: window_cell(ev, w)),
            "Note": t["note"].map(lambda n: "" if is_missing(n) else str(n)),
            "Source": [_source(r) for _, r in t.iterrows()],
        }
    )


# ---------------------------------------------------------------------------
# Later reviews beside this book's estimates
# ---------------------------------------------------------------------------
def _decimals(values) -> int:
    """The most decimals among reported numbers (0.250 is typed as 0.25, so the CI's other bounds decide)."""
    out = 0
    for v in values:
        if is_missing(v):
            continue
        text = f"{float(v):.6f}".rstrip("0").rstrip(".")
        out = max(out, len(text.split(".")[1]) if "." in text else 0)
    return out


def _number(value: float, digits: int, unit: str) -> str:
    return fmt_num(value, digits) + ("%" if unit == "percent" else "")


def figure_value(f: pd.Series) -> str:
    """A later figure exactly as reported: '0.819 (95% CI 0.745 to 0.894)', '54.8%', '43% to 65.5% (range)'."""
    if f["interval"] == "range":
        unit = "%" if f["unit"] == "percent" else ""
        return f"{fmt_reported(f['lower'])}{unit} to {fmt_reported(f['upper'])}{unit} (range across studies)"
    digits = _decimals([f["estimate"], f["lower"], f["upper"]])
    value = _number(f["estimate"], digits, f["unit"])
    if f["interval"] == "ci95":
        value += f" (95% CI {_number(f['lower'], digits, f['unit'])} to {_number(f['upper'], digits, f['unit'])})"
    if not is_missing(f["p_value"]):
        p = str(f["p_value"])
        value += f"; p {p[0]} {p[1:]}" if p[0] in "<>" else f"; p = {p}"
    return value


def book_results(ev: Evidence) -> pd.DataFrame:
    """This book's results table (review window), each row with its scale and the outcomes it pools."""
    table = results_table(ev.with_windows(REVIEW)).copy()
    scales = table["measure"].map(BOOK_SCALES)
    table["comparison"] = [s[0] if isinstance(s, tuple) else None for s in scales]
    table["scale_measure"] = [s[1] if isinstance(s, tuple) else None for s in scales]
    table["outcomes"] = table["outcome"].map(lambda o: tuple(x.strip() for x in str(o).split("/")))
    table["il2_only"] = table["n_il2"].notna() & table["n_control"].isna()
    return table


def preferred_fits(protocol: Protocol | None = None) -> tuple[tuple[str, str], ...]:
    """The fits in order of preference: the protocol's primary pooled model first, then :data:`PREFERRED_FITS`."""
    protocol = protocol or load_protocol()
    primary = tuple(protocol.raw["models"]["primary"]["pooled"])
    return (primary, *(f for f in PREFERRED_FITS if f != primary))


def _preferred(rows: pd.DataFrame, fits: tuple[tuple[str, str], ...] = PREFERRED_FITS) -> pd.DataFrame:
    """One row per analysis: the first measure of :data:`BOOK_SCALES` and the first fit of ``fits`` present."""
    if rows.empty:
        return rows
    measure_rank = {m: i for i, m in enumerate(BOOK_SCALES)}
    fit_rank = {f: i for i, f in enumerate(fits)}
    ranked = rows.assign(
        _m=rows["measure"].map(measure_rank),
        _f=[fit_rank.get((m, t), len(fit_rank)) for m, t in zip(rows["method"], rows["test"])],
    )
    ranked = ranked.sort_values(["_m", "_f"], kind="stable")
    return ranked.drop_duplicates("analysis").drop(columns=["_m", "_f"]).sort_index()


def rows_of_outcome(book: pd.DataFrame, outcome: object) -> pd.DataFrame:
    """This book's result rows that pool an outcome (alone or with others)."""
    if is_missing(outcome):
        return book.iloc[:0]
    return book[book["outcomes"].map(lambda outs: outcome in outs)]


def counterparts(book: pd.DataFrame, f: pd.Series, fits: tuple[tuple[str, str], ...] = PREFERRED_FITS) -> pd.DataFrame:
    """This book's estimates of the same quantity on the same scale as a later figure (one row per analysis).

    Same outcome, same comparison and measure; a single-arm proportion of IL-2-treated patients is set
    beside this book's pooled proportion of IL-2 arms (never of placebo arms).
    """
    rows = rows_of_outcome(book, f["outcome"])
    rows = rows[(rows["comparison"] == f["comparison"]) & (rows["scale_measure"] == f["measure"])]
    if f["comparison"] == "single_arm":
        rows = rows[rows["il2_only"]]
    return _preferred(rows, fits)


def _book_improvement(ev: Evidence, outcome: str, measure: str) -> str | None:
    """Which direction of this book's difference favours IL-2 (IL-2 minus control): from the outcome's definition."""
    if measure not in DIFFERENCES:
        return None
    better = dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["higher_is_better"])).get(outcome)
    return {"true": "higher", "false": "lower"}.get(str(better))


def book_value(f: pd.Series, row: pd.Series) -> str:
    """This book's estimate in the later figure's unit and precision."""
    scale = PERCENT_SCALE.get(f["unit"], 1.0)
    digits = max(_decimals([f["estimate"], f["lower"], f["upper"]]), 2 if scale == 1.0 else 1)
    low, high = row["ci_low"], row["ci_high"]
    value = _number(scale * row["estimate"], digits, f["unit"])
    if not (is_missing(low) or is_missing(high)):
        value += f" (95% CI {_number(scale * low, digits, f['unit'])} to {_number(scale * high, digits, f['unit'])})"
    return value


def _outcome_label(ev: Evidence, outcome: str) -> str:
    return dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["label"])).get(outcome, outcome)


def _scale_words(comparison: str, measure: str) -> str:
    return f"{COMPARISON_LABELS[comparison]}, {MEASURE_LABELS[measure]}"


def _overlap(f: pd.Series, row: pd.Series) -> bool:
    scale = PERCENT_SCALE.get(f["unit"], 1.0)
    lo, hi = f["lower"] / scale, f["upper"] / scale
    return not (hi < row["ci_low"] or row["ci_high"] < lo)


def _main_effect(
    same_outcome: pd.DataFrame, primary: tuple[str, ...], fits: tuple[tuple[str, str], ...]
) -> pd.Series | None:
    """This book's between-arm estimate of an outcome: the protocol's primary analysis if on it, else the first."""
    between = same_outcome[same_outcome["comparison"] == "between_arms"]
    if between.empty:
        return None
    first = between[between["analysis"].isin(primary)]
    rows = first if len(first) else between[between["analysis"] == between["analysis"].iloc[0]]
    return _preferred(rows, fits).iloc[0]


def differences(
    ev: Evidence,
    book: pd.DataFrame,
    f: pd.Series,
    row: pd.Series | None,
    primary: tuple[str, ...] = (),
    fits: tuple[tuple[str, str], ...] = PREFERRED_FITS,
) -> list[str]:
    """Why a later figure and this book's estimate differ (or why there is none to set beside it), by rules.

    ``primary``: the ids of the protocol's primary analyses, whose between-arm effect a single-arm figure is
    contrasted with.
    """
    reasons: list[str] = []
    same_outcome = rows_of_outcome(book, f["outcome"])
    if row is not None:
        reasons.append(f"Same quantity on the same scale: {_scale_words(f['comparison'], f['measure'])}.")
    elif f["comparison"] == "across_studies":
        reasons.append(
            "A range of the studies' own results, not a pooled estimate: there is no pooled figure to set beside it."
        )
    elif is_missing(f["outcome"]):
        reasons.append("No outcome of this book measures this quantity, so there is no estimate to set beside it.")
    elif f["comparison"] == "pre_post" and not (book["comparison"] == "pre_post").any():
        reasons.append(
            "A change within patients from before to after treatment: this book pools no such change for any outcome "
            "(its estimates compare IL-2 with placebo, or pool the share of treated patients with a response or an "
            "event), so it has no counterpart."
        )
    elif len(same_outcome):
        scales = dict.fromkeys(
            _scale_words(c, m) for c, m in zip(same_outcome["comparison"], same_outcome["scale_measure"])
        )
        reasons.append(
            f"This book has {_outcome_label(ev, f['outcome'])} only on another scale ({'; '.join(scales)}), "
            "so there is no estimate of the same quantity to set beside it."
        )
    else:
        reasons.append(f"This book pools no estimate of {_outcome_label(ev, f['outcome'])}.")
    if f["comparison"] == "single_arm":
        effect = _main_effect(same_outcome, primary, fits)
        reasons.append(
            "A single-arm proportion is uncontrolled: it counts responses or events among patients given IL-2, "
            "whatever placebo would have done"
            + (
                "; this book's effect of IL-2 against placebo on the same outcome is a between-arm estimate, a "
                f"different quantity, which a single-arm proportion cannot give: {effect['label']}, "
                f"{effect['measure']} {fmt_ci(effect['estimate'], effect['ci_low'], effect['ci_high'])}."
                if effect is not None
                else "."
            )
        )
    if f["population"] != "sle":
        reasons.append(f"The review pools {LATER_POPULATION_LABELS[f['population']]} together, not SLE alone.")
    if row is None:
        return reasons
    reasons.append(_study_sets(f, row))
    outcomes = row["outcomes"]
    if len(outcomes) > 1:
        labels = join_words([_outcome_label(ev, o) for o in outcomes])
        reasons.append(f"This book's estimate pools {fmt_int(len(outcomes))} outcome definitions: {labels}.")
    if is_missing(f["timepoint"]):
        times = join_words([timepoint_text(t.strip(), short=True) for t in str(row["timepoint"]).split(";")])
        reasons.append(f"The review gives no time point (this book's: {times}).")
    if "estimated" in str(row["label"]):
        reasons.append("This book's estimate is itself estimated from medians and ranges (a sensitivity analysis).")
    elif row["inputs_derived"]:
        reasons.append("Some of this book's counts are derived from reported percentages (data appendix).")
    theirs, ours = f["improvement"], _book_improvement(ev, f["outcome"], f["measure"])
    if theirs in ("higher", "lower") and ours in ("higher", "lower") and theirs != ours:
        digits = _decimals([f["estimate"]])
        reasons.append(
            f"Opposite signs for the same direction: the review's positive value means improvement with IL-2, "
            f"this book's difference (IL-2 minus control) is negative when IL-2 does better; on this book's "
            f"scale the review's {fmt_num(f['estimate'], digits)} reads {fmt_num(-f['estimate'], digits)}."
        )
    if f["interval"] != "ci95":
        reasons.append("The review gives no confidence interval, so the two cannot be compared for overlap.")
    else:
        reasons.append(
            "The two 95% confidence intervals overlap."
            if _overlap(f, row)
            else "The two 95% confidence intervals do not overlap."
        )
    return reasons


def _studies_word(k: object) -> str:
    return f"{fmt_int(k)} {'study' if int(k) == 1 else 'studies'}"


def _study_sets(f: pd.Series, row: pd.Series) -> str:
    ours = f"this book's estimate rests on {_studies_word(row['k'])} {parenthetical(row['studies'])}"
    if is_missing(f["studies"]):
        whole = f"{_studies_word(f['k_review'])} in the review as a whole" if not is_missing(f["k_review"]) else ""
        return (
            "Study sets not comparable: the review does not list the studies behind the figure in the sources "
            f"consulted{' (' + whole + ')' if whole else ''}; {ours}."
        )
    theirs = {s.strip() for s in str(f["studies"]).split(";")}
    same = theirs == {s.strip() for s in str(row["studies"]).split(";")}
    return f"{'Same' if same else 'Different'} study sets: the review pools {f['studies']}; {ours}."


def comparisons(ev: Evidence, protocol: Protocol | None = None) -> pd.DataFrame:
    """One row per later figure of the update window and per estimate of this book beside it (or none)."""
    protocol = protocol or load_protocol()
    primary = tuple(a.id for a in protocol.analyses if a.role == "primary")
    fits = preferred_fits(protocol)
    book = book_results(ev)
    rows = []
    for _, f in later_figures(ev).iterrows():
        matches = counterparts(book, f, fits)
        for row in [r for _, r in matches.iterrows()] or [None]:
            rows.append(
                {
                    "review_id": f["review_id"],
                    "figure": f["figure"],
                    "analysis": None if row is None else row["analysis"],
                    "same_scale": row is not None,
                    "later": f,
                    "book": row,
                    "reasons": differences(ev, book, f, row, primary, fits),
                }
            )
    return pd.DataFrame(rows)


def _figure_cell(f: pd.Series) -> str:
    parts = [str(f["outcome_as_reported"])]
    if not is_missing(f["subgroup"]):
        parts.append(f"subgroup: {f['subgroup']}")
    if f["population"] != "sle":
        parts.append(LATER_POPULATION_LABELS[f["population"]])
    return "; ".join(parts)


def _book_cell(row: pd.Series | None, f: pd.Series) -> str:
    if row is None:
        return "none on this scale"
    return f"{row['label']}: {book_value(f, row)}; {_studies_word(row['k'])}"


def comparison_table(ev: Evidence) -> pd.DataFrame:
    """Each later review's figure (update window) beside this book's estimate (review window), and why they differ."""
    c = comparisons(ev)
    return pd.DataFrame(
        {
            "Later review (update window)": [
                f"{f['review']} (published {date_text(f['published'])}) {cite([f['source']])}" for f in c["later"]
            ],
            "Figure as reported": [_figure_cell(f) for f in c["later"]],
            "Scale": [_scale_words(f["comparison"], f["measure"]) for f in c["later"]],
            "Value as reported": [figure_value(f) for f in c["later"]],
            "This book, review window (same scale)": [_book_cell(r, f) for r, f in zip(c["book"], c["later"])],
            "Why they differ": [" ".join(r) for r in c["reasons"]],
            "Source": [f"{f['evidence_ref']}: {f['locator']}" for f in c["later"]],
        }
    )


# ---------------------------------------------------------------------------
# The update analyses
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class UpdateAnalysis:
    """One declared analysis on the review window and again on the update windows."""

    id: str
    label: str
    review: Analysis | None
    update: Analysis | None
    #: studies the update windows add (beyond the review window's)
    added: tuple[str, ...]
    #: the update analysis's fits (every measure and model), as result rows
    rows: pd.DataFrame


def update_analyses(ev: Evidence, protocol: Protocol | None = None) -> list[UpdateAnalysis]:
    """The protocol's update analyses: each run on the review window and on the update windows."""
    protocol = protocol or load_protocol()
    review_ev = ev.with_windows(REVIEW)
    update_ev = ev.with_windows(*protocol.update_windows)
    out = []
    for planned in protocol.update_analyses:
        review = plan(review_ev, planned, protocol)
        update = plan(update_ev, planned, protocol)
        before = set(review.study_ids) if review else set()
        added = tuple(s for s in (update.study_ids if update else ()) if s not in before)
        rows = run_binary(update_ev, update) if update else pd.DataFrame()
        out.append(UpdateAnalysis(planned.id, planned.label, review, update, added, rows))
    return out


def preferred_fit(
    rows: pd.DataFrame, measure: str, fits: tuple[tuple[str, str], ...] = PREFERRED_FITS
) -> pd.Series | None:
    """Of one analysis's fits, the one on ``measure`` listed first in ``fits``."""
    if rows.empty:
        return None
    picked = _preferred(rows[rows["measure"] == measure], fits)
    return None if picked.empty else picked.iloc[0]


def _fit_text(row: pd.Series | None) -> str:
    if row is None:
        return "no trial"
    model = "single trial" if row["k"] == 1 else lower_first(model_label(row["method"], row["test"]))
    return f"{row['measure']} {fmt_ci(row['estimate'], row['ci_low'], row['ci_high'])}, {model}"


def update_table(ev: Evidence, protocol: Protocol | None = None) -> pd.DataFrame:
    """Each update analysis: its trials in the review window, those the update window adds, and the estimate
    of the protocol's primary model (``models.primary``) on each."""
    protocol = protocol or load_protocol()
    labels = ev.study_labels
    measure, fits = protocol.raw["models"]["primary"]["measure"], preferred_fits(protocol)
    review_rows = book_results(ev)
    rows = []
    for u in update_analyses(ev, protocol):
        review_fit = preferred_fit(review_rows[review_rows["analysis"] == u.id], measure, fits)
        rows.append(
            {
                "Analysis": u.label,
                "Review window: trials": join_words([labels[s] for s in u.review.study_ids]) if u.review else "none",
                "Review window: estimate": _fit_text(review_fit),
                "Added by the update window": join_words([labels[s] for s in u.added]) if u.added else "none",
                "Review and update windows: estimate": _fit_text(preferred_fit(u.rows, measure, fits)),
            }
        )
    return pd.DataFrame(rows)
