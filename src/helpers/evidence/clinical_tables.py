"""Baseline characteristics and study context as evidence: ``data/baseline.csv`` and ``data/study_context.csv``.

* ``data/baseline.csv``: baseline characteristics of each arm (demographics, disease activity,
  background therapy, lupus nephritis), one observation per row, in the tidy form of
  ``outcomes.csv``: study, arm, analysis population, ``characteristic`` (an id of
  ``outcome_definitions.csv``, which gives its label, domain, kind and unit), the statistic and its
  numbers, the between-arm p-value where the source gives one, and the provenance. Baseline values
  that were already recorded in ``outcomes.csv`` (the baseline visit of an outcome followed over
  time, and the first baseline rows of He 2020 and He 2016) stay there: a characteristic of an arm
  and population is recorded in one table only, which a rule checks.
* ``data/study_context.csv``: the facts that say to whom and how a study's result applies, one row
  per study and fact (:data:`FACTS`), each with its own source and locator: setting, entry criteria,
  whether refractory disease was required, background therapy, glucocorticoid taper rule, IL-2
  product, sponsor, and the injections per treatment cycle (which the cumulative dose needs, with
  the dose and the cycles of ``studies.csv``). A fact the sources do not give is ``not_reported``
  with the reason. Every included study has a row for every fact (the rows ``add-study`` writes).

Both are validated like every evidence table (pandera, through
:func:`helpers.evidence.load.validate_table`), with rules across tables: the arm exists in
``arms.csv``, the characteristic in ``outcome_definitions.csv``, and a baseline value is not
recorded in ``outcomes.csv`` too. What is computed from them (the cumulative dose, the display
tables) is computed in :mod:`helpers.review.study_tables`, never stored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa

from helpers.evidence.load import (
    DataValidationError,
    Evidence,
    bib_keys,
    load_evidence,
    load_table,
    validate_table,
)
from helpers.evidence.rob_tables import MissingRow
from helpers.evidence.schemas import (
    ID_PATTERN,
    P_VALUE_PATTERN,
    POPULATIONS,
    RowRule,
    TableSpec,
    _count,
    _filled,
    _number,
    _provenance_columns,
    _provenance_rules,
    _required_text,
    _text,
)

__all__ = [
    "BASELINE_FILE",
    "BASELINE_STATISTICS",
    "CONTEXT_FILE",
    "FACTS",
    "FACT_LABELS",
    "WHOLE_NUMBER_FACTS",
    "baseline_spec",
    "context_spec",
    "load_baseline",
    "load_study_context",
]

BASELINE_FILE = "baseline.csv"
CONTEXT_FILE = "study_context.csv"

BASELINE_STATISTICS = ("count", "median_range", "median_iqr", "mean_sd", "not_reported")

#: The study-context facts, in display order: (id, label).
FACTS: tuple[tuple[str, str], ...] = (
    ("setting", "Setting"),
    ("entry_criteria", "Entry criteria"),
    ("refractory", "Refractory disease required"),
    ("background_therapy", "Background therapy"),
    ("glucocorticoid_taper", "Glucocorticoid taper rule"),
    ("product", "IL-2 product"),
    ("sponsor", "Sponsor"),
    ("injections_per_cycle", "Injections per treatment cycle"),
)
FACT_LABELS = dict(FACTS)
FACT_IDS = tuple(f for f, _ in FACTS)
#: Facts whose value is a whole number (the cumulative dose multiplies by it).
WHOLE_NUMBER_FACTS = ("injections_per_cycle",)
#: A reported answer to 'refractory' starts with Yes or No, so the book can count the studies that required it.
REFRACTORY_PATTERN = r"^(Yes|No)(: .+)?$"


# ---------------------------------------------------------------------------
# baseline.csv
# ---------------------------------------------------------------------------
def baseline_spec(
    bib_keys: set[str],
    study_ids: set[str],
    study_arms: set[tuple[str, str]],
    characteristic_kinds: dict[str, str],
    outcome_baseline_keys: set[tuple[str, str, str, str]],
) -> TableSpec:
    """``baseline.csv``: one baseline characteristic of one arm and population per row.

    ``outcome_baseline_keys`` are the (study_id, arm, outcome, population) of the baseline rows of
    ``outcomes.csv``: none may be recorded here as well.
    """
    numeric = ("events", "total", "percent", "mean", "sd", "median", "lower", "upper")
    stat = lambda d: d["statistic"]  # noqa: E731 - a short accessor keeps the rules readable
    is_count = lambda d: stat(d) == "count"  # noqa: E731
    is_median = lambda d: stat(d).isin(["median_range", "median_iqr"])  # noqa: E731

    def le(a: str, b: str) -> Callable[[pd.DataFrame], pd.Series]:
        return lambda d: ~((d[a] > d[b]).fillna(False).astype(bool))

    def kind_fits(d: pd.DataFrame) -> pd.Series:
        kind = d["characteristic"].map(characteristic_kinds)
        binary_ok = stat(d).isin(["count", "not_reported"])
        continuous_ok = stat(d).isin(["median_range", "median_iqr", "mean_sd", "not_reported"])
        return ((kind == "binary") & binary_ok) | ((kind == "continuous") & continuous_ok)

    def percent_matches(d: pd.DataFrame) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            computed = 100 * d["events"].astype("Float64") / d["total"].astype("Float64")
        return ~((computed - d["percent"]).abs() > 0.051).fillna(False).astype(bool)

    def not_in_outcomes(d: pd.DataFrame) -> pd.Series:
        keys = zip(d["study_id"], d["arm"], d["characteristic"], d["population"])
        return pd.Series([k not in outcome_baseline_keys for k in keys], index=d.index)

    rules = _provenance_rules(()) + (
        RowRule(
            "arm_exists",
            "arm",
            "the (study_id, arm) pair must appear in arms.csv",
            lambda d: pd.Series([(s, a) in study_arms for s, a in zip(d["study_id"], d["arm"])], index=d.index),
        ),
        RowRule(
            "statistic_fits_characteristic_kind",
            "statistic",
            "a statistic that fits the characteristic's kind in outcome_definitions.csv "
            "(binary: count; continuous: median_range, median_iqr or mean_sd)",
            kind_fits,
        ),
        RowRule(
            "count_has_events",
            "events",
            "a 'count' row gives the number of patients in 'events'",
            lambda d: ~is_count(d) | d["events"].notna(),
        ),
        RowRule(
            "count_total_missing_needs_reason",
            "na_reason",
            "an empty total in a 'count' row needs the reason in 'na_reason'",
            lambda d: ~(is_count(d) & d["total"].isna()) | _filled(d["na_reason"]),
        ),
        RowRule("events_le_total", "events", "events <= total", lambda d: ~((d["events"] > d["total"]).fillna(False))),
        RowRule(
            "percent_matches_counts",
            "percent",
            "percent equal to 100 × events / total (within rounding, 0.051 points)",
            percent_matches,
        ),
        RowRule(
            "median_and_bounds_given",
            "median",
            "a median with both bounds for a median_range or median_iqr row",
            lambda d: ~is_median(d) | d[["median", "lower", "upper"]].notna().all(axis=1),
        ),
        RowRule("lower_le_median", "lower", "lower <= median", le("lower", "median")),
        RowRule("median_le_upper", "upper", "median <= upper", le("median", "upper")),
        RowRule(
            "mean_sd_given",
            "mean",
            "a mean and an SD for a mean_sd row",
            lambda d: (stat(d) != "mean_sd") | (d["mean"].notna() & d["sd"].notna()),
        ),
        RowRule(
            "not_reported_is_empty",
            "statistic",
            "statistic 'not_reported' exactly when status is 'not_reported', with no numbers",
            lambda d: (
                ((stat(d) == "not_reported") == (d["status"] == "not_reported"))
                & ((stat(d) != "not_reported") | d[list(numeric)].isna().all(axis=1))
            ),
        ),
        RowRule(
            "recorded_once",
            "characteristic",
            "a characteristic not already recorded at baseline in outcomes.csv for the same study, arm and "
            "population (one fact, one place)",
            not_in_outcomes,
        ),
    )
    return TableSpec(
        name="baseline",
        filename=BASELINE_FILE,
        rows_expected="the baseline characteristics the sources report (the clinical table is drawn from them)",
        key=("study_id", "arm", "population", "characteristic"),
        columns={
            "study_id": _required_text(
                pa.Check.isin(sorted(study_ids), error="study_id must be a study_id of studies.csv")
            ),
            "arm": _required_text(pa.Check.str_matches(ID_PATTERN)),
            "population": _required_text(pa.Check.isin(POPULATIONS)),
            "characteristic": _required_text(
                pa.Check.isin(
                    sorted(characteristic_kinds), error="characteristic must be an outcome of outcome_definitions.csv"
                )
            ),
            "statistic": _required_text(pa.Check.isin(BASELINE_STATISTICS)),
            "events": _count(0),
            "total": _count(1),
            "percent": _number(pa.Check.in_range(0, 100)),
            "mean": _number(),
            "sd": _number(pa.Check.ge(0)),
            "median": _number(),
            "lower": _number(),
            "upper": _number(),
            "p_value": _text(pa.Check.str_matches(P_VALUE_PATTERN)),
            **_provenance_columns(bib_keys),
            "note": _text(),
        },
        rules=rules,
        unique=("study_id", "arm", "population", "characteristic"),
    )


def _baseline_inputs(ev: Evidence, keys: set[str]) -> tuple:
    o = ev.outcomes[ev.outcomes["timepoint"] == "baseline"]
    in_outcomes = set(zip(o["study_id"], o["arm"], o["outcome"], o["population"]))
    kinds = dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["kind"]))
    arms = set(zip(ev.arms["study_id"], ev.arms["arm"]))
    return keys, set(ev.studies["study_id"]), arms, kinds, in_outcomes


def load_baseline(ev: Evidence | None = None) -> pd.DataFrame:
    """The baseline characteristics, validated (raises DataValidationError on bad input), in file order."""
    ev = ev or load_evidence()
    return load_table(ev.folder, baseline_spec, *_baseline_inputs(ev, bib_keys())).reset_index(drop=True)


# ---------------------------------------------------------------------------
# study_context.csv
# ---------------------------------------------------------------------------
def context_spec(bib_keys: set[str], study_ids: set[str]) -> TableSpec:
    """``study_context.csv``: one fact about one study per row, each with its own provenance."""

    def whole_number(d: pd.DataFrame) -> pd.Series:
        numeric = d["fact"].isin(WHOLE_NUMBER_FACTS) & d["value"].notna()
        return ~numeric | d["value"].astype("string").str.fullmatch(r"[1-9]\d*").fillna(False).astype(bool)

    def refractory_answer(d: pd.DataFrame) -> pd.Series:
        applies = (d["fact"] == "refractory") & d["value"].notna()
        return ~applies | d["value"].astype("string").str.fullmatch(REFRACTORY_PATTERN).fillna(False).astype(bool)

    rules = _provenance_rules(("value",)) + (
        RowRule(
            "whole_number_fact",
            "value",
            "a whole number of at least 1 for " + ", ".join(WHOLE_NUMBER_FACTS),
            whole_number,
        ),
        RowRule(
            "refractory_answer",
            "value",
            "'Yes' or 'No', optionally followed by ': ' and the criterion (e.g. 'Yes: refractory SLE')",
            refractory_answer,
        ),
    )
    return TableSpec(
        name="study_context",
        filename=CONTEXT_FILE,
        rows_expected="the setting, eligibility, background therapy, product and sponsor of every included study",
        key=("study_id", "fact"),
        columns={
            "study_id": _required_text(
                pa.Check.isin(sorted(study_ids), error="study_id must be a study_id of studies.csv")
            ),
            "fact": _required_text(pa.Check.isin(FACT_IDS)),
            "value": _text(),
            **_provenance_columns(bib_keys),
        },
        rules=rules,
        unique=("study_id", "fact"),
        value_columns=("value",),
    )


def _check_complete(table: pd.DataFrame, included: list[str]) -> None:
    have = set(zip(table["study_id"], table["fact"]))
    missing = [
        MissingRow(
            CONTEXT_FILE,
            None,
            f"study_id={sid}, fact={fact}",
            "fact",
            None,
            f"a row for the fact '{fact}' of the included study '{sid}' (every included study gives every fact, "
            "or says with not_reported why it cannot)",
        )
        for sid in included
        for fact in FACT_IDS
        if (sid, fact) not in have
    ]
    if missing:
        raise DataValidationError(missing)


def validate_study_context(raw: pd.DataFrame, studies: pd.DataFrame, keys: set[str]) -> pd.DataFrame:
    """Validate a raw study_context table against the studies (ids and which are included)."""
    table = validate_table(context_spec(keys, set(studies["study_id"])), raw)
    included = studies.loc[studies["inclusion_status"] == "included", "study_id"].tolist()
    _check_complete(table, included)
    return table


def load_study_context(ev: Evidence | None = None) -> pd.DataFrame:
    """The study-context facts, validated and complete for every included study, in file order."""
    ev = ev or load_evidence()
    table = load_table(ev.folder, context_spec, bib_keys(), set(ev.studies["study_id"]))
    _check_complete(table, ev.included_studies()["study_id"].tolist())
    return table.reset_index(drop=True)
