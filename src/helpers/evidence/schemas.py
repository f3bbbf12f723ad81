"""Declared schemas of the evidence tables in ``data/``.

Each table is validated in two stages with pandera:

1. *columns*: presence, type (coerced from the CSV text), allowed values, ranges,
   uniqueness and keys into other tables;
2. *rows*: rules that relate several columns of one row (events <= total, a
   derived value needs its derivation, ...) or several rows (PRISMA arithmetic).

Stage 2 runs only on a table that passed stage 1, so every failure is reported
once, against typed values. A row rule is a :class:`RowRule`: the column it
blames and what was expected, so :mod:`helpers.evidence.load` can name file, line, column,
value and expectation in its error message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from helpers.evidence.windows import DATE_PATTERN

# ---------------------------------------------------------------------------
# Vocabulary shared by the CSVs, the helpers and the chapters
# ---------------------------------------------------------------------------
STATUS = ("reported", "derived", "not_reported")
DESIGNS = ("rct", "open_label", "controlled_nonrandomised", "observational", "case_report", "not_reported")
REGIMEN_GROUPS = ("every_other_day", "daily_5day_induction", "not_reported")
INCLUSION = ("included", "candidate", "excluded")
#: What an arm receives. Arm ids are free (``il2``, ``il2_0_5miu``, ``placebo``); the role says
#: what the arm is, so a dose-ranging trial can have several IL-2 arms sharing one placebo arm.
ROLES = ("il2", "placebo", "conventional")
POPULATIONS = (
    "enrolled",
    "treated",
    "randomised",
    "registered_target",
    "analysed_efficacy",
    "analysed_safety",
    "itt",
    "per_protocol",
    "subgroup",
)
STATISTICS = ("count", "median_range", "median_iqr", "mean_sd", "qualitative", "not_reported")
DOMAINS = ("efficacy", "disease_activity", "organ", "serology", "medication", "treg", "safety", "baseline")
KINDS = ("binary", "continuous")
DIRECTIONS = ("increase", "decrease", "no_change", "between_arm_difference", "none_observed")
P_COMPARISONS = ("between_arms", "vs_baseline")

TIMEPOINT_PATTERN = r"^(baseline|week_\d+|end_of_study|trial_period|during_treatment)$"
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
EVIDENCE_REF_PATTERN = r"^[SN]\d+(; [SN]\d+)*$"  # S: evidence dossier; N: new sources (data/new_sources.md)
P_VALUE_PATTERN = r"^[<>]?(0(\.\d+)?|1(\.0+)?|\.\d+)$"
YEAR_MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"

#: Later trials and reviews (the chapter "After the review"): what results are available to this book.
RESULTS_AVAILABLE = ("no", "qualitative", "with_numbers")
#: What a later review's figure compares, and on which measure.
LATER_COMPARISONS = ("single_arm", "between_arms", "pre_post", "across_studies")
LATER_MEASURES = ("proportion", "SMD", "MD", "RR", "OR", "RD", "range")
LATER_UNITS = ("fraction", "percent", "sd_units", "points", "ratio")
LATER_POPULATIONS = ("sle", "autoimmune_rheumatic_diseases")
#: Which direction of a figure means improvement with IL-2 (not_applicable: a rate, or a cell count).
IMPROVEMENT = ("higher", "lower", "not_applicable")
INTERVALS = ("ci95", "range")

#: PRISMA 2020 rows (names of the PRISMA2020 R package's CSV template).
PRISMA_ROWS = (
    "database_results",
    "register_results",
    "website_results",
    "organisation_results",
    "citations_results",
    "duplicates",
    "excluded_automatic",
    "excluded_other",
    "records_screened",
    "records_excluded",
    "dbr_sought_reports",
    "dbr_notretrieved_reports",
    "other_sought_reports",
    "other_notretrieved_reports",
    "dbr_assessed",
    "dbr_excluded",
    "other_assessed",
    "other_excluded",
    "new_studies",
    "new_reports",
)

#: PRISMA 2020 arithmetic: result = sum(sign * term). Checked wherever every
#: count in an equation is known.
PRISMA_EQUATIONS: tuple[tuple[str, tuple[tuple[int, str], ...]], ...] = (
    (
        "records_screened",
        (
            (1, "database_results"),
            (1, "register_results"),
            (-1, "duplicates"),
            (-1, "excluded_automatic"),
            (-1, "excluded_other"),
        ),
    ),
    ("dbr_sought_reports", ((1, "records_screened"), (-1, "records_excluded"))),
    ("dbr_assessed", ((1, "dbr_sought_reports"), (-1, "dbr_notretrieved_reports"))),
    ("other_assessed", ((1, "other_sought_reports"), (-1, "other_notretrieved_reports"))),
    ("new_reports", ((1, "dbr_assessed"), (-1, "dbr_excluded"), (1, "other_assessed"), (-1, "other_excluded"))),
)

#: PRISMA 2020 bounds (smaller <= larger), checked where both are known; they catch
#: inconsistencies even when an equation has an unknown term.
PRISMA_BOUNDS = (
    ("duplicates", "database_results"),
    ("records_excluded", "records_screened"),
    ("dbr_sought_reports", "records_screened"),
    ("dbr_notretrieved_reports", "dbr_sought_reports"),
    ("dbr_assessed", "dbr_sought_reports"),
    ("dbr_excluded", "dbr_assessed"),
    ("other_excluded", "other_assessed"),
    ("new_studies", "new_reports"),
)

PROVENANCE_COLUMNS = ("status", "source", "locator", "evidence_ref", "derivation", "na_reason")


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RowRule:
    """A rule over one row (or the whole table) that blames one column.

    ``check`` returns a boolean Series aligned with the table: True where the
    row satisfies the rule.
    """

    name: str
    column: str
    expected: str
    check: Callable[[pd.DataFrame], pd.Series]

    def to_pandera(self) -> pa.Check:
        return pa.Check(self.check, name=self.name, error=self.expected)


@dataclass(frozen=True)
class TableSpec:
    """Everything that defines one evidence table."""

    name: str
    filename: str
    key: tuple[str, ...]
    columns: dict[str, pa.Column]
    #: What a header-only file lacks, and why the book needs it (every table needs rows).
    rows_expected: str
    rules: tuple[RowRule, ...] = ()
    unique: tuple[str, ...] | None = None
    value_columns: tuple[str, ...] = field(default=())

    def column_schema(self) -> pa.DataFrameSchema:
        return pa.DataFrameSchema(
            self.columns,
            strict=True,
            ordered=False,
            unique=list(self.unique) if self.unique else None,
            report_duplicates="all",
            name=self.filename,
        )

    def row_schema(self) -> pa.DataFrameSchema:
        return pa.DataFrameSchema(checks=[r.to_pandera() for r in self.rules], name=self.filename)

    def rule(self, name: str) -> RowRule:
        return next(r for r in self.rules if r.name == name)


def _text(*checks: pa.Check, nullable: bool = True) -> pa.Column:
    return pa.Column("string", list(checks), nullable=nullable, coerce=True)


def _required_text(*checks: pa.Check) -> pa.Column:
    return pa.Column("string", [pa.Check.str_length(min_value=1), *checks], nullable=False, coerce=True)


def _count(min_value: int = 0, nullable: bool = True) -> pa.Column:
    return pa.Column("Int64", pa.Check.ge(min_value), nullable=nullable, coerce=True)


def _number(*checks: pa.Check, nullable: bool = True) -> pa.Column:
    return pa.Column("Float64", list(checks), nullable=nullable, coerce=True)


def _filled(s: pd.Series) -> pd.Series:
    return s.notna() & (s.astype("string").str.strip().fillna("") != "")


def _keys_known(known: set[str]) -> pa.Check:
    def check(s: pd.Series) -> pd.Series:
        return s.fillna("").map(lambda v: all(k.strip() in known for k in str(v).split(";") if k.strip()))

    return pa.Check(
        check, name="known_source_keys", error="every key (separated by '; ') must be an entry of book/references.bib"
    )


def _provenance_columns(bib_keys: set[str]) -> dict[str, pa.Column]:
    return {
        "status": _required_text(pa.Check.isin(STATUS)),
        "source": _required_text(_keys_known(bib_keys)),
        "locator": _required_text(),
        "evidence_ref": _required_text(pa.Check.str_matches(EVIDENCE_REF_PATTERN)),
        "derivation": _text(),
        "na_reason": _text(),
    }


def _provenance_rules(value_columns: tuple[str, ...]) -> tuple[RowRule, ...]:
    """Rules every table with provenance obeys (the value rules only where a table names its value columns)."""

    def any_value_missing(d: pd.DataFrame) -> pd.Series:
        return d[list(value_columns)].isna().any(axis=1)

    def all_values_missing(d: pd.DataFrame) -> pd.Series:
        return d[list(value_columns)].isna().all(axis=1)

    return (
        RowRule(
            "derived_needs_derivation",
            "derivation",
            "a derived value needs its derivation written out in 'derivation'",
            lambda d: (d["status"] != "derived") | _filled(d["derivation"]),
        ),
        RowRule(
            "not_reported_needs_reason",
            "na_reason",
            "a not_reported row needs the reason in 'na_reason'",
            lambda d: (d["status"] != "not_reported") | _filled(d["na_reason"]),
        ),
    ) + (
        (
            RowRule(
                "missing_value_needs_reason",
                "na_reason",
                f"an empty value in {', '.join(value_columns)} needs the reason in 'na_reason'",
                lambda d: ~any_value_missing(d) | _filled(d["na_reason"]),
            ),
            RowRule(
                "not_reported_has_no_values",
                "status",
                f"status 'not_reported' only where {', '.join(value_columns)} are all empty",
                lambda d: (d["status"] != "not_reported") | all_values_missing(d),
            ),
        )
        if value_columns
        else ()
    )


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------
def outcome_definitions_spec() -> TableSpec:
    return TableSpec(
        name="outcome_definitions",
        filename="outcome_definitions.csv",
        rows_expected="at least one outcome definition (every row of outcomes.csv names its outcome here)",
        key=("outcome",),
        columns={
            "outcome": _required_text(pa.Check.str_matches(ID_PATTERN)),
            "label": _required_text(),
            "domain": _required_text(pa.Check.isin(DOMAINS)),
            "kind": _required_text(pa.Check.isin(KINDS)),
            "unit": _required_text(),
            "higher_is_better": _text(pa.Check.isin(("true", "false"))),
            "definition": _required_text(),
        },
        unique=("outcome",),
    )


def studies_spec(bib_keys: set[str]) -> TableSpec:
    value_columns = ("registration", "dose_miu", "frequency", "cycles", "published", "duration")
    return TableSpec(
        name="studies",
        filename="studies.csv",
        rows_expected="at least one study (the studies are what the review is about)",
        key=("study_id",),
        columns={
            "study_id": _required_text(pa.Check.str_matches(ID_PATTERN)),
            "label": _required_text(),
            "citation_key": _required_text(_keys_known(bib_keys)),
            "design": _required_text(pa.Check.isin(DESIGNS)),
            "design_detail": _text(),
            "registration": _text(),
            "population": _text(),
            "agent": _text(),
            # "Low dose" means under 6 MIU a day (the usual definition in this field).
            "dose_miu": _number(pa.Check.gt(0), pa.Check.lt(6)),
            # Where patients of one study received different doses (one IL-2 arm, several dose levels),
            # the lowest and highest dose per injection; dose_miu is then empty, with the reason.
            "dose_miu_low": _number(pa.Check.gt(0), pa.Check.lt(6)),
            "dose_miu_high": _number(pa.Check.gt(0), pa.Check.lt(6)),
            "frequency": _text(),
            "cycles": _count(1),
            "duration": _text(),
            "regimen_group": _required_text(pa.Check.isin(REGIMEN_GROUPS)),
            "inclusion_status": _required_text(pa.Check.isin(INCLUSION)),
            "inclusion_reason": _required_text(),
            # When the study's main report was published: it places the study in a protocol window
            # (helpers.evidence.windows), so it decides whether the study enters the review's analyses.
            "published": _text(pa.Check.str_matches(DATE_PATTERN)),
            **_provenance_columns(bib_keys),
        },
        rules=_provenance_rules(value_columns)
        + _dose_range_rules()
        + (
            RowRule(
                "included_study_is_dated",
                "published",
                "the publication date (YYYY, YYYY-MM or YYYY-MM-DD) of an included study's main report: it decides "
                "the protocol window, and so the analyses, the study enters",
                lambda d: (d["inclusion_status"] != "included") | _filled(d["published"]),
            ),
        ),
        unique=("study_id",),
        value_columns=value_columns,
    )


def _dose_range_rules() -> tuple[RowRule, ...]:
    """A study's dose range (dose_miu_low to dose_miu_high): both ends, in order, and never beside one dose."""
    low, high = "dose_miu_low", "dose_miu_high"
    return (
        RowRule(
            "dose_range_has_both_ends",
            high,
            "dose_miu_low and dose_miu_high both given (a dose range) or both empty",
            lambda d: d[low].isna() == d[high].isna(),
        ),
        RowRule(
            "dose_range_ordered",
            high,
            "dose_miu_high above dose_miu_low (otherwise it is one dose: use dose_miu)",
            lambda d: ~((d[high] <= d[low]).fillna(False).astype(bool)),
        ),
        RowRule(
            "one_dose_or_a_range",
            "dose_miu",
            "an empty dose_miu where dose_miu_low and dose_miu_high give a range of doses",
            lambda d: d["dose_miu"].isna() | (d[low].isna() & d[high].isna()),
        ),
    )


def arms_spec(bib_keys: set[str], study_ids: set[str]) -> TableSpec:
    return TableSpec(
        name="arms",
        filename="arms.csv",
        rows_expected="at least one arm (the arms give each study's patients)",
        key=("study_id", "arm", "population"),
        columns={
            "study_id": _required_text(
                pa.Check.isin(sorted(study_ids), error="study_id must be a study_id of studies.csv")
            ),
            "arm": _required_text(pa.Check.str_matches(ID_PATTERN)),
            "role": _required_text(pa.Check.isin(ROLES)),
            # An arm's own dose, given only where a trial's IL-2 arms differ in dose; otherwise the
            # study's dose (studies.csv) applies to its IL-2 arm.
            "dose_miu": _number(pa.Check.gt(0), pa.Check.lt(6)),
            "population": _required_text(pa.Check.isin(POPULATIONS)),
            "n": _count(1),
            **_provenance_columns(bib_keys),
        },
        rules=_provenance_rules(("n",)) + _arm_rules(),
        unique=("study_id", "arm", "population"),
        value_columns=("n",),
    )


def _arm_rules() -> tuple[RowRule, ...]:
    def one_role_per_arm(d: pd.DataFrame) -> pd.Series:
        return d.groupby(["study_id", "arm"])["role"].transform("nunique") == 1

    def one_dose_per_arm(d: pd.DataFrame) -> pd.Series:
        # a missing dose counts as a value of its own (no real dose is negative); one pass, not a lambda per arm
        return d.assign(dose=d["dose_miu"].fillna(-1.0)).groupby(["study_id", "arm"])["dose"].transform("nunique") == 1

    def dose_where_doses_differ(d: pd.DataFrame) -> pd.Series:
        il2 = d["role"] == "il2"
        n_il2_arms = d[il2].groupby("study_id")["arm"].nunique().reindex(d["study_id"]).fillna(0).to_numpy()
        several = pd.Series(n_il2_arms > 1, index=d.index)
        return ~(il2 & several) | d["dose_miu"].notna()

    return (
        RowRule(
            "one_role_per_arm",
            "role",
            "one role for every row of the same (study_id, arm)",
            one_role_per_arm,
        ),
        RowRule(
            "dose_only_on_il2_arms",
            "dose_miu",
            "an empty dose_miu on placebo and conventional arms (they receive no IL-2)",
            lambda d: (d["role"] == "il2") | d["dose_miu"].isna(),
        ),
        RowRule(
            "one_dose_per_arm",
            "dose_miu",
            "the same dose_miu on every row of the same (study_id, arm)",
            one_dose_per_arm,
        ),
        RowRule(
            "dose_of_each_il2_arm",
            "dose_miu",
            "the arm's dose in dose_miu, since the study has several IL-2 arms",
            dose_where_doses_differ,
        ),
    )


def outcomes_spec(
    bib_keys: set[str],
    study_ids: set[str],
    study_arms: set[tuple[str, str]],
    outcome_kinds: dict[str, str],
) -> TableSpec:
    numeric = ("events", "total", "percent", "mean", "sd", "median", "lower", "upper")
    stat = lambda d: d["statistic"]  # noqa: E731 - a short accessor keeps the rules readable
    is_count = lambda d: stat(d) == "count"  # noqa: E731
    is_median = lambda d: stat(d).isin(["median_range", "median_iqr"])  # noqa: E731
    is_mean = lambda d: stat(d) == "mean_sd"  # noqa: E731

    def missing_needs_reason(cols: tuple[str, ...], applies: Callable[[pd.DataFrame], pd.Series]):
        return lambda d: ~(applies(d) & d[list(cols)].isna().any(axis=1)) | _filled(d["na_reason"])

    def percent_matches(d: pd.DataFrame) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            computed = 100 * d["events"].astype("Float64") / d["total"].astype("Float64")
        # Percentages are reported rounded to 0-2 decimals: 0.051 points covers rounding to one decimal.
        bad = (computed - d["percent"]).abs() > 0.051
        return ~bad.fillna(False).astype(bool)

    def kind_fits(d: pd.DataFrame) -> pd.Series:
        kind = d["outcome"].map(outcome_kinds)
        binary_ok = stat(d).isin(["count", "qualitative", "not_reported"])
        continuous_ok = stat(d).isin(["median_range", "median_iqr", "mean_sd", "qualitative", "not_reported"])
        return ((kind == "binary") & binary_ok) | ((kind == "continuous") & continuous_ok)

    def le(a: str, b: str) -> Callable[[pd.DataFrame], pd.Series]:
        return lambda d: ~((d[a] > d[b]).fillna(False).astype(bool))

    rules = _provenance_rules(()) + (
        RowRule(
            "arm_exists",
            "arm",
            "the (study_id, arm) pair must appear in arms.csv",
            lambda d: pd.Series([(s, a) in study_arms for s, a in zip(d["study_id"], d["arm"])], index=d.index),
        ),
        RowRule(
            "statistic_fits_outcome_kind",
            "statistic",
            "a statistic that fits the outcome's kind in outcome_definitions.csv "
            "(binary: count; continuous: median_range, median_iqr or mean_sd)",
            kind_fits,
        ),
        RowRule("events_le_total", "events", "events <= total", le("events", "total")),
        RowRule(
            "count_has_numbers",
            "events",
            "a 'count' row gives events and total, or a percent",
            lambda d: ~is_count(d) | (d["events"].notna() & d["total"].notna()) | d["percent"].notna(),
        ),
        RowRule(
            "count_missing_needs_reason",
            "na_reason",
            "an empty events or total in a 'count' row needs the reason in 'na_reason'",
            missing_needs_reason(("events", "total"), is_count),
        ),
        RowRule(
            "percent_matches_counts",
            "percent",
            "percent equal to 100 × events / total (within rounding, 0.051 points)",
            percent_matches,
        ),
        RowRule(
            "median_given",
            "median",
            "a median for a median_range or median_iqr row",
            lambda d: ~is_median(d) | d["median"].notna(),
        ),
        RowRule(
            "median_spread_missing_needs_reason",
            "na_reason",
            "an empty lower or upper bound needs the reason in 'na_reason'",
            missing_needs_reason(("lower", "upper"), is_median),
        ),
        RowRule("lower_le_median", "lower", "lower <= median", le("lower", "median")),
        RowRule("median_le_upper", "upper", "median <= upper", le("median", "upper")),
        RowRule(
            "mean_sd_given",
            "mean",
            "a mean and an SD for a mean_sd row",
            lambda d: ~is_mean(d) | (d["mean"].notna() & d["sd"].notna()),
        ),
        RowRule(
            "qualitative_has_note",
            "note",
            "a qualitative row states the finding in 'note'",
            lambda d: (stat(d) != "qualitative") | _filled(d["note"]),
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
            "p_value_has_comparison",
            "p_comparison",
            "a p_value says what it compares in 'p_comparison'",
            lambda d: d["p_value"].isna() | d["p_comparison"].notna(),
        ),
    )
    return TableSpec(
        name="outcomes",
        filename="outcomes.csv",
        rows_expected="at least one outcome row (every included study reports outcomes)",
        key=("study_id", "arm", "outcome", "timepoint", "population"),
        columns={
            "study_id": _required_text(
                pa.Check.isin(sorted(study_ids), error="study_id must be a study_id of studies.csv")
            ),
            "arm": _required_text(pa.Check.str_matches(ID_PATTERN)),
            "outcome": _required_text(
                pa.Check.isin(sorted(outcome_kinds), error="outcome must be an outcome of outcome_definitions.csv")
            ),
            "timepoint": _required_text(pa.Check.str_matches(TIMEPOINT_PATTERN)),
            "population": _required_text(pa.Check.isin(POPULATIONS)),
            "statistic": _required_text(pa.Check.isin(STATISTICS)),
            "events": _count(0),
            "total": _count(1),
            "percent": _number(pa.Check.in_range(0, 100)),
            "mean": _number(),
            "sd": _number(pa.Check.ge(0)),
            "median": _number(),
            "lower": _number(),
            "upper": _number(),
            "p_value": _text(pa.Check.str_matches(P_VALUE_PATTERN)),
            "p_comparison": _text(pa.Check.isin(P_COMPARISONS)),
            "direction": _text(pa.Check.isin(DIRECTIONS)),
            **_provenance_columns(bib_keys),
            "note": _text(),
            "measure": _text(),
        },
        rules=rules,
        unique=("study_id", "arm", "outcome", "timepoint", "population", "locator"),
    )


def search_spec(bib_keys: set[str]) -> TableSpec:
    value_columns = ("query", "records")
    return TableSpec(
        name="search",
        filename="search.csv",
        rows_expected="at least one database (the search chapter reports the search database by database)",
        key=("database",),
        columns={
            "database": _required_text(),
            "date_from": _required_text(pa.Check.str_matches(YEAR_MONTH_PATTERN)),
            "date_to": _required_text(pa.Check.str_matches(YEAR_MONTH_PATTERN)),
            "query": _text(),
            "records": _count(0),
            **_provenance_columns(bib_keys),
        },
        rules=_provenance_rules(value_columns)
        + (
            RowRule(
                "window_ordered", "date_to", "date_to on or after date_from", lambda d: d["date_to"] >= d["date_from"]
            ),
        ),
        unique=("database",),
        value_columns=value_columns,
    )


REVIEW_QUANTITIES = (
    "records_retrieved",
    "studies_total",
    "studies_open_label",
    "studies_rct",
    "patients_total",
    "patients_il2",
    "patients_placebo",
)


def review_reported_spec(bib_keys: set[str]) -> TableSpec:
    """What the review itself reports (the figures this book reconciles with)."""
    return TableSpec(
        name="review_reported",
        filename="review_reported.csv",
        rows_expected="the figures the review reports (the book reconciles its counts with them)",
        key=("quantity",),
        columns={
            "quantity": _required_text(pa.Check.isin(REVIEW_QUANTITIES)),
            "label": _required_text(),
            "value": _count(0),
            **_provenance_columns(bib_keys),
        },
        rules=_provenance_rules(("value",)),
        unique=("quantity",),
        value_columns=("value",),
    )


def later_trials_spec(bib_keys: set[str], study_ids: set[str]) -> TableSpec:
    """Trials and trial reports after the review's window (the chapter "After the review"), one row each."""
    value_columns = (
        "registration",
        "design",
        "arms",
        "trial_status",
        "published",
        "trial_end",
        "n_planned",
        "n_enrolled",
    )
    return TableSpec(
        name="later_trials",
        filename="later_trials.csv",
        rows_expected="at least one later trial or trial report (the chapter 'After the review' lists them)",
        key=("trial_id",),
        columns={
            "trial_id": _required_text(pa.Check.str_matches(ID_PATTERN)),
            "label": _required_text(),
            "study_id": _text(pa.Check.isin(sorted(study_ids), error="study_id must be a study_id of studies.csv")),
            "registration": _text(),
            "design": _text(),
            "arms": _text(),
            "n_planned": _count(1),
            "n_enrolled": _count(1),
            "trial_status": _text(),
            "results_available": _required_text(pa.Check.isin(RESULTS_AVAILABLE)),
            "finding": _text(),
            "published": _text(pa.Check.str_matches(DATE_PATTERN)),
            "trial_end": _text(pa.Check.str_matches(DATE_PATTERN)),
            **_provenance_columns(bib_keys),
            "note": _text(),
        },
        rules=_provenance_rules(value_columns)
        + (
            RowRule(
                "results_state_the_finding",
                "finding",
                "the finding in 'finding' where results are available (qualitative or with_numbers)",
                lambda d: (d["results_available"] == "no") | _filled(d["finding"]),
            ),
            RowRule(
                "results_with_numbers_are_dated",
                "published",
                "the publication date of results with numbers (it places them in a protocol window)",
                lambda d: (d["results_available"] != "with_numbers") | _filled(d["published"]),
            ),
        ),
        unique=("trial_id",),
        value_columns=value_columns,
    )


def later_reviews_spec(bib_keys: set[str], outcomes: set[str]) -> TableSpec:
    """Pooled (or summary) figures of reviews published after the review's window, one row per figure."""
    value_columns = ("timepoint", "estimate", "lower", "upper", "p_value", "k_review", "n_review", "studies")

    def bounds_ordered(d: pd.DataFrame) -> pd.Series:
        bad = (d["lower"] > d["upper"]) | (d["estimate"] < d["lower"]) | (d["estimate"] > d["upper"])
        return ~bad.fillna(False).astype(bool)

    def proportion_on_scale(d: pd.DataFrame) -> pd.Series:
        top = d["unit"].map({"fraction": 1.0, "percent": 100.0})
        values = d[["estimate", "lower", "upper"]].astype("float64")
        outside = values.lt(0).any(axis=1) | values.gt(top.astype("float64"), axis=0).any(axis=1)
        return ~((d["measure"] == "proportion") & outside)

    def range_without_estimate(d: pd.DataFrame) -> pd.Series:
        return (d["measure"] != "range") | (d["estimate"].isna() & (d["interval"] == "range"))

    return TableSpec(
        name="later_reviews",
        filename="later_reviews.csv",
        rows_expected="at least one figure of a later review (the chapter 'After the review' sets them beside this "
        "book's estimates)",
        key=("review_id", "figure"),
        columns={
            "review_id": _required_text(pa.Check.str_matches(ID_PATTERN)),
            "figure": _required_text(pa.Check.str_matches(ID_PATTERN)),
            "review": _required_text(),
            "published": _required_text(pa.Check.str_matches(DATE_PATTERN)),
            "population": _required_text(pa.Check.isin(LATER_POPULATIONS)),
            "outcome_as_reported": _required_text(),
            "outcome": _text(
                pa.Check.isin(sorted(outcomes), error="outcome must be an outcome of outcome_definitions.csv")
            ),
            "subgroup": _text(),
            "timepoint": _text(),
            "comparison": _required_text(pa.Check.isin(LATER_COMPARISONS)),
            "measure": _required_text(pa.Check.isin(LATER_MEASURES)),
            "unit": _required_text(pa.Check.isin(LATER_UNITS)),
            "improvement": _required_text(pa.Check.isin(IMPROVEMENT)),
            "estimate": _number(),
            "lower": _number(),
            "upper": _number(),
            "interval": _text(pa.Check.isin(INTERVALS)),
            "p_value": _text(pa.Check.str_matches(P_VALUE_PATTERN)),
            "k_review": _count(1),
            "n_review": _count(1),
            "studies": _text(),
            **_provenance_columns(bib_keys),
            "note": _text(),
        },
        rules=_provenance_rules(value_columns)
        + (
            RowRule(
                "estimate_within_bounds",
                "estimate",
                "lower <= estimate <= upper",
                bounds_ordered,
            ),
            RowRule(
                "bounds_say_what_they_are",
                "interval",
                "'ci95' or 'range' in 'interval' exactly where lower and upper are given",
                lambda d: (d["lower"].isna() & d["upper"].isna()) == d["interval"].isna(),
            ),
            RowRule(
                "range_is_not_an_estimate",
                "measure",
                "a 'range' figure gives its bounds as a range (interval 'range') and no estimate",
                range_without_estimate,
            ),
            RowRule(
                "proportion_on_its_scale",
                "estimate",
                "a proportion (estimate and bounds) from 0 to 1 (unit 'fraction') or 0 to 100 (unit 'percent')",
                proportion_on_scale,
            ),
        ),
        unique=("review_id", "figure"),
        value_columns=value_columns,
    )


def _counts_or_nan(d: pd.DataFrame) -> dict[str, float]:
    """PRISMA ``data`` name -> count (NaN when not reported)."""
    return {k: (float(v) if pd.notna(v) else np.nan) for k, v in zip(d["data"], d["n"])}


def _equation_text(result: str, terms: tuple[tuple[int, str], ...]) -> str:
    rhs = " ".join(("+ " if sign > 0 else "- ") + name for sign, name in terms).removeprefix("+ ")
    return f"{result} = {rhs}"


def _prisma_equation_rule(result: str, terms: tuple[tuple[int, str], ...]) -> RowRule:
    def holds(d: pd.DataFrame) -> pd.Series:
        counts = _counts_or_nan(d)
        values = [counts.get(name, np.nan) for _, name in terms]
        ok = pd.Series(True, index=d.index)
        if np.isnan(counts.get(result, np.nan)) or any(np.isnan(values)):
            return ok  # an unknown count: nothing to check
        if sum(sign * v for (sign, _), v in zip(terms, values)) != counts[result]:
            ok[d["data"] == result] = False
        return ok

    return RowRule(f"prisma_{result}", "n", "PRISMA 2020 arithmetic: " + _equation_text(result, terms), holds)


def _prisma_bound_rule(small: str, large: str) -> RowRule:
    def holds(d: pd.DataFrame) -> pd.Series:
        counts = _counts_or_nan(d)
        a, b = counts.get(small, np.nan), counts.get(large, np.nan)
        ok = pd.Series(True, index=d.index)
        if not (np.isnan(a) or np.isnan(b)) and a > b:
            ok[d["data"] == small] = False
        return ok

    return RowRule(f"prisma_{small}_le_{large}", "n", f"PRISMA 2020 bound: {small} <= {large}", holds)


def prisma_equation_text() -> str:
    """The PRISMA equations as text, for the methods appendix."""
    return "; ".join(_equation_text(r, t) for r, t in PRISMA_EQUATIONS)


def prisma_spec(bib_keys: set[str]) -> TableSpec:
    # Equations and bounds are checked only where all their counts are known.
    rules = (
        _provenance_rules(("n",))
        + tuple(_prisma_equation_rule(r, t) for r, t in PRISMA_EQUATIONS)
        + tuple(_prisma_bound_rule(a, b) for a, b in PRISMA_BOUNDS)
    )
    return TableSpec(
        name="prisma",
        filename="prisma.csv",
        rows_expected="the PRISMA 2020 counts (the flow diagram is drawn from them)",
        key=("data",),
        columns={
            "data": _required_text(pa.Check.isin(PRISMA_ROWS)),
            "node": _text(),
            "box": _required_text(),
            "description": _required_text(),
            "boxtext": _required_text(),
            "n": _count(0),
            "reasons": _text(),
            **_provenance_columns(bib_keys),
        },
        rules=rules,
        unique=("data",),
        value_columns=("n",),
    )


def bib_keys_from_text(text: str) -> set[str]:
    """Entry keys of a BibTeX file (a light parse: the keys are all we need here)."""
    return set(re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", text))


# ---------------------------------------------------------------------------
# Data dictionary
# ---------------------------------------------------------------------------
#: What each column holds (shown in the data appendix next to its declared type and checks).
COLUMN_DESCRIPTIONS = {
    "study_id": "Study identifier; joins studies, arms and outcomes",
    "label": "Name shown in the book",
    "citation_key": "Key of the study's main report in book/references.bib",
    "design": "Study design",
    "design_detail": "Design as the source describes it",
    "registration": "Trial registration number(s)",
    "population": "Who was studied (studies.csv) or analysis population of a count (arms.csv, outcomes.csv)",
    "agent": "IL-2 product",
    "dose_miu": "Dose per injection, million international units",
    "dose_miu_low": "Lowest dose per injection (MIU) where a study's patients received different doses",
    "dose_miu_high": "Highest dose per injection (MIU) where a study's patients received different doses",
    "frequency": "How often IL-2 was given",
    "cycles": "Number of treatment cycles or courses",
    "duration": "Treatment (and follow-up) duration as reported",
    "regimen_group": "Dosing regimen group used for subgroup analyses",
    "inclusion_status": "This book's decision: included, candidate (possibly among the review's studies), excluded",
    "inclusion_reason": "Why",
    "arm": "Treatment arm identifier within the study (e.g. il2, placebo, or il2_0_5miu in a dose-ranging trial)",
    "role": "What the arm receives: il2, placebo or conventional (non-randomised conventional therapy)",
    "arms.csv:dose_miu": "The arm's own IL-2 dose per injection (MIU), only where a study's IL-2 arms differ in dose",
    "n": "Number of patients",
    "outcome": "Outcome identifier (outcome_definitions.csv)",
    "timepoint": "When measured: baseline, week_N, end_of_study, trial_period, during_treatment",
    "statistic": (
        "What the numbers are: count (events/total), median_range, median_iqr, mean_sd, qualitative, not_reported"
    ),
    "events": "Patients with the event or response",
    "total": "Patients in the denominator",
    "percent": "Percentage as reported",
    "mean": "Mean",
    "sd": "Standard deviation",
    "median": "Median",
    "lower": "Lower bound of the range or IQR",
    "upper": "Upper bound of the range or IQR",
    "p_value": "p-value as reported (text, e.g. <0.001)",
    "p_comparison": "What the p-value compares: between_arms or vs_baseline (within arm)",
    "direction": "Direction of a qualitative finding",
    "note": "Context, or the finding of a qualitative row",
    "measure": "How the source names or defines the measure (e.g. a registered endpoint), where it says",
    "domain": "Outcome domain",
    "kind": "binary or continuous",
    "unit": "Unit",
    "higher_is_better": "Whether a higher value is better",
    "definition": "Definition",
    "database": "Bibliographic database",
    "date_from": "Start of the search window (YYYY-MM)",
    "date_to": "End of the search window (YYYY-MM)",
    "query": "Search string",
    "records": "Records retrieved",
    "data": "PRISMA 2020 field (name from the PRISMA2020 R package template)",
    "node": "Node id in the PRISMA2020 template",
    "box": "Box id in the PRISMA2020 template",
    "description": "Box description (PRISMA2020 template)",
    "boxtext": "Box text (PRISMA2020 template)",
    "reasons": "Exclusion reasons as 'Reason, n; Reason, n'",
    "quantity": "Figure reported by the review",
    "value": "Its value",
    "published": (
        "Publication date of the main report (YYYY, YYYY-MM or YYYY-MM-DD, as precise as the source): places the "
        "row in a protocol window"
    ),
    "trial_id": "Identifier of a later trial or trial report",
    "later_trials.csv:study_id": "The study's row in studies.csv, where it has one",
    "later_trials.csv:label": "Name of the trial or report shown in the book",
    "later_trials.csv:design": "Design as the source describes it",
    "arms": "Arms with their doses and schedules, as the source gives them",
    "n_planned": "Planned number of patients (registry)",
    "n_enrolled": "Patients enrolled or randomised",
    "trial_status": "Recruitment status as the source gives it, with the date of the record where known",
    "results_available": "Results available to this book: no, qualitative (words only) or with_numbers",
    "finding": "What the available results say",
    "trial_end": "End date of the trial (registry): places a trial without results in a window",
    "review_id": "Identifier of a later review (its key in book/references.bib where possible)",
    "figure": "Identifier of one figure of the review",
    "review": "Name of the review shown in the book",
    "later_reviews.csv:population": "Who the figure pools: SLE, or all autoimmune rheumatic diseases",
    "outcome_as_reported": "The outcome in the review's words",
    "later_reviews.csv:outcome": "This book's outcome for the same quantity (outcome_definitions.csv), if it has one",
    "subgroup": "The review's subgroup (e.g. a regimen), where the figure is a subgroup's",
    "later_reviews.csv:timepoint": "Time point of the figure, as the review states it",
    "comparison": (
        "What the figure compares: single_arm (a proportion of treated patients), between_arms, pre_post (before "
        "against after treatment) or across_studies (a range of study results)"
    ),
    "later_reviews.csv:measure": "Effect measure: proportion, SMD, MD, RR, OR, RD or range",
    "later_reviews.csv:unit": "Unit of estimate, lower and upper: fraction, percent, sd_units, points, ratio",
    "improvement": "Which direction of the figure means improvement with IL-2 (not_applicable: a rate or a cell count)",
    "estimate": "The review's estimate, as reported",
    "later_reviews.csv:lower": "Lower bound (of the 95% CI, or of the range)",
    "later_reviews.csv:upper": "Upper bound (of the 95% CI, or of the range)",
    "interval": "What lower and upper are: ci95 or range",
    "k_review": "Studies in the review as a whole",
    "n_review": "Patients in the review as a whole",
    "studies": "The studies behind the figure, as the review lists them",
    "item": "Downs and Black checklist item number",
    "short_label": "Short name of the item",
    "points": "Answers the item allows and their points, as 'answer=points; ...'",
    "guidance": "How this book answers the item from the available reports",
    "downs_black_items.csv:domain": "Checklist domain (reporting, external validity, bias, confounding, power)",
    "downs_black_items.csv:label": "The item paraphrased in this book's words",
    "outcome_definitions.csv:label": "Outcome name shown in the book",
    "answer": "This book's answer for the study and item",
    "rob2.csv:domain": "RoB 2 domain: D1 randomisation, D2 deviations (effect of assignment), D3 missing outcome data, "
    "D4 measurement of the outcome, D5 selection of the reported result",
    "rob2.csv:question": "RoB 2 signalling question (1.1 ... 5.3)",
    "rob2.csv:answer": "This book's answer: Y, PY (probably yes), PN (probably no), N, NI (no information) or NA (not "
    "asked, given the earlier answers)",
    "rob2.csv:outcome": "Outcome of the assessed result (outcome_definitions.csv)",
    "rob2.csv:population": "Analysis population of the assessed result (as in outcomes.csv)",
    "characteristic": "Baseline characteristic (an outcome id of outcome_definitions.csv, which gives its label, "
    "domain, kind and unit)",
    "baseline.csv:population": "Analysis population the value describes (randomised, enrolled, ...; 'subgroup' for a "
    "count the source gives only within a subgroup)",
    "baseline.csv:statistic": "What the numbers are: count (events/total), median_range, median_iqr, mean_sd, "
    "not_reported",
    "baseline.csv:events": "Patients with the characteristic",
    "baseline.csv:p_value": "Between-arm p-value of the baseline comparison, as reported (on the IL-2 arm's row)",
    "baseline.csv:note": "Context: what the source's table calls the statistic, or another table's value",
    "fact": "Study-context fact: setting, entry_criteria, refractory, background_therapy, glucocorticoid_taper, "
    "product, sponsor, injections_per_cycle",
    "study_context.csv:value": "The fact as the source gives it (refractory: 'Yes' or 'No' first; "
    "injections_per_cycle: a whole number); empty when not reported, with the reason",
    "rationale": "Why, in one line, naming the source that shows it (or that it is not shown)",
    "status": "reported (read in the source), derived (computed; see derivation) or not_reported",
    "source": "Key(s) of the source in book/references.bib, separated by '; '",
    "locator": "Where in the source: abstract, table, figure, registry record",
    "evidence_ref": "Source code(s): S1-S71 in the evidence dossier, N1... in data/new_sources.md, separated by '; '",
    "later_trials.csv:note": "Context: conflicts between sources, links to other rows (inferences marked as such)",
    "later_reviews.csv:note": "Context: how this book reads the figure (e.g. what its SMD compares)",
    "derivation": "How a derived value was computed",
    "na_reason": "Why a value is not reported (required for every empty value)",
}


def type_text(col: pa.Column) -> str:
    """'whole number', 'number' or 'text' for a declared column."""
    dtype = str(col.dtype)
    return "whole number" if dtype == "Int64" else "number" if dtype == "Float64" else "text"
