"""Load every evidence table from ``data/``, validate it, and fail early and precisely.

Each CSV is read as text and handed to the pandera schemas of
:mod:`helpers.evidence.schemas`, which coerce the types and check values, keys and
row rules. Any failure raises :class:`DataValidationError`, whose message names
the file, the CSV line, the row's key, the column, the bad value and what was
expected. Notebooks call :func:`load_evidence` first, so a bad file stops the
book's build before any number is rendered.
"""

from __future__ import annotations

import csv
import dataclasses
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pandas as pd
import pandera.pandas as pa

from helpers.evidence import schemas, validated_cache
from helpers.evidence.windows import OUTSIDE, SPANS, window_of, window_text, windows_text
from helpers.paths import bib_file, data_dir


def _import_pandera_checks_without_hypothesis() -> None:
    """Import pandera's pandas checks without hypothesis, which validation never uses.

    At the first validation pandera imports its pandas checks, and with them its data-synthesis
    strategies, which import hypothesis when it is installed (it is, for the tests), and hypothesis
    its plugins (trio, pytest): about 0.3 s of a ``python -m helpers results`` run and of every
    chapter's kernel. Importing the checks here with hypothesis hidden takes pandera's own path
    for an installation without hypothesis (``pandera.strategies.base_strategies.HAS_HYPOTHESIS``
    false); validation is the same. Then only pandera's data synthesis (``schema.strategy()``,
    ``schema.example()``), which this project does not use, is unavailable in the process.
    Nothing changes when hypothesis is already imported (the tests import it first) or the checks
    already are; hypothesis itself stays importable afterwards.
    """
    if "hypothesis" in sys.modules or "pandera.backends.pandas.builtin_checks" in sys.modules:
        return
    sys.modules["hypothesis"] = None  # type: ignore[assignment]  # makes `import hypothesis` fail here
    try:
        import pandera.backends.pandas.builtin_checks  # noqa: F401
    finally:
        del sys.modules["hypothesis"]


_import_pandera_checks_without_hypothesis()


#: Problems shown in one error message (the rest are counted).
MAX_PROBLEMS_SHOWN = 25


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # CSV line number (the header is line 1); None for the whole file
    key: str  # the row's key, e.g. "study_id=he2020, arm=il2"
    column: str | None
    value: object
    expected: str
    rule: str = ""  # the schema check that failed (a RowRule name, or pandera's check name)

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line is not None else self.file
        if self.key:
            where += f" ({self.key})"
        col = f", column '{self.column}'" if self.column else ""
        found = (
            "an empty cell"
            if self.value is None
            else repr(self.value.item() if hasattr(self.value, "item") else self.value)
        )
        return f"{where}{col}: found {found}; expected {self.expected}"


@dataclass(frozen=True)
class EmptyTable(Problem):
    """A table with a header and no rows (pandera accepts it: every check holds for no rows)."""

    def __str__(self) -> str:
        return f"{self.file}: found no rows; expected {self.expected}"


class DataValidationError(ValueError):
    """Raised when an evidence table breaks its schema."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(problems)} problem(s) in the evidence data:\n{shown}{tail}")


@dataclass(frozen=True)
class Evidence:
    """All evidence tables, validated and typed, and the protocol windows that place their dated rows.

    The review's analyses see the studies of the review window only: :meth:`included_studies`
    keeps the included studies whose publication date (studies.csv ``published``) falls in one of
    ``analysis_windows`` (by default the review window). :meth:`with_windows` gives the same
    evidence seen through other windows, which is how the update analyses of the protocol are run
    (review and update windows), without any analysis code knowing about windows.
    """

    studies: pd.DataFrame
    arms: pd.DataFrame
    outcomes: pd.DataFrame
    outcome_definitions: pd.DataFrame
    search: pd.DataFrame
    prisma: pd.DataFrame
    review_reported: pd.DataFrame
    later_trials: pd.DataFrame
    later_reviews: pd.DataFrame
    folder: Path
    #: The protocol's windows: (name, first month, last month or None for an open window).
    windows: tuple[tuple[str, str, str | None], ...] = ()
    #: The windows whose studies the analyses of this view use.
    analysis_windows: tuple[str, ...] = ("review",)
    #: What every analysis asks for, computed at the first call (the tables are never changed after loading).
    _derived: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def window_bounds(self) -> dict[str, tuple[str, str | None]]:
        return {name: (start, end) for name, start, end in self.windows}

    def window_of(self, date: object) -> str | None:
        """The protocol window a date falls in ('review', 'update'), 'spans', 'outside', or None if missing."""
        return window_of(date, self.window_bounds)

    def study_windows(self) -> pd.Series:
        """Each study's window (by its publication date), indexed like studies."""
        return self.studies["published"].map(self.window_of)

    def included_studies(self) -> pd.DataFrame:
        """The included studies of this view's windows (the review window, unless :meth:`with_windows` says so)."""
        s = self.studies
        if "included" not in self._derived:
            self._derived["included"] = (s["inclusion_status"] == "included") & self.study_windows().isin(
                self.analysis_windows
            )
        return s[self._derived["included"]]

    @property
    def study_labels(self) -> Mapping[str, str]:
        """Each study's display label by study id (read only)."""
        if "labels" not in self._derived:
            self._derived["labels"] = MappingProxyType(dict(zip(self.studies["study_id"], self.studies["label"])))
        return self._derived["labels"]

    def with_windows(self, *names: str) -> Evidence:
        """The same evidence, its analyses using the studies of these windows (e.g. 'review', 'update')."""
        unknown = [n for n in names if n not in self.window_bounds]
        if unknown or not names:
            raise ValueError(f"windows {names}: expected some of {', '.join(self.window_bounds)}")
        return dataclasses.replace(self, analysis_windows=tuple(names))

    def review_value(self, quantity: str) -> int:
        """A figure the review reports (see review_reported.csv)."""
        row = self.review_reported.set_index("quantity").loc[quantity]
        return int(row["value"])


# ---------------------------------------------------------------------------
# Reading and validating one table
# ---------------------------------------------------------------------------
def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV as text; only an empty cell is missing (so 'NA' typed into a number column is caught)."""
    if not path.exists():
        raise DataValidationError([Problem(path.name, None, "", None, None, "the file to exist in the data folder")])
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    width = len(rows[0]) if rows else 0
    ragged = [
        Problem(path.name, i, "", None, f"{len(r)} fields", f"{width} fields, like the header")
        for i, r in enumerate(rows[1:], start=2)
        if len(r) != width
    ]
    if not rows or ragged:
        raise DataValidationError(ragged or [Problem(path.name, 1, "header", None, None, "a header line")])
    return pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""], index_col=False)


def _key_text(row: pd.Series | None, key: tuple[str, ...]) -> str:
    if row is None:
        return ""
    return ", ".join(f"{k}={row[k]}" for k in key if k in row.index and pd.notna(row[k]))


def _column_problems(spec: schemas.TableSpec, raw: pd.DataFrame, err: pa.errors.SchemaErrors) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for fc in err.failure_cases.itertuples(index=False):
        index = fc.index if pd.notna(fc.index) else None
        column = fc.column if isinstance(fc.column, str) else None
        check = str(fc.check)
        if str(fc.failure_case).startswith("TypeError("):
            continue  # a consequence of a value that failed coercion, which is reported itself
        if check.startswith("column_in_dataframe"):
            problems.append(Problem(spec.filename, 1, "header", None, None, f"a column named '{fc.failure_case}'"))
            continue
        if check.startswith("column_in_schema"):
            problems.append(
                Problem(
                    spec.filename,
                    1,
                    "header",
                    None,
                    fc.failure_case,
                    "only the declared columns: " + ", ".join(spec.columns),
                )
            )
            continue
        if index is None:
            if column is not None and check.startswith("dtype("):
                continue  # reported cell by cell by the coerce_dtype failure of the same column
            problems.append(Problem(spec.filename, None, "", column, fc.failure_case, check))
            continue
        if (index, column) in seen:
            continue  # one message per cell (coercion also fails the dtype check)
        seen.add((index, column))
        row = raw.loc[index] if index in raw.index else None
        problems.append(
            Problem(
                spec.filename,
                int(index) + 2,
                _key_text(row, spec.key),
                column,
                fc.failure_case,
                _describe_column_check(spec, column, check),
                check,
            )
        )
    return problems


def _describe_column_check(spec: schemas.TableSpec, column: str | None, check: str) -> str:
    col = spec.columns.get(column) if column else None
    if check.startswith("coerce_dtype") or check.startswith("dtype("):
        kind = schemas.type_text(col) if col is not None else "a valid value"
        return f"{'a ' if kind != 'text' else ''}{kind} (or an empty cell, with its reason in 'na_reason')"
    if check.startswith("not_nullable"):
        return "a value (this column may not be empty)"
    if check.startswith("field_uniqueness") or check.startswith("multiple_fields_uniqueness"):
        return "a unique key (" + ", ".join(spec.unique or spec.key) + ")"
    if col is not None:
        for c in col.checks:
            if c.error == check and c.name not in _BUILTIN_TEXT:
                return c.error  # a custom check says what it expects
            if c.name and check.startswith(c.name):
                return _check_text(c)
    return check


#: Plain-language text for pandera's built-in checks.
_BUILTIN_TEXT = {
    "isin": lambda s: "one of: " + ", ".join(map(str, s["allowed_values"])),
    "in_range": lambda s: f"a value from {s['min_value']} to {s['max_value']}",
    "greater_than_or_equal_to": lambda s: f"a value >= {s['min_value']}",
    "greater_than": lambda s: f"a value > {s['min_value']}",
    "less_than": lambda s: f"a value < {s['max_value']}",
    "less_than_or_equal_to": lambda s: f"a value <= {s['max_value']}",
    "str_matches": lambda s: f"text matching the pattern {s['pattern']}",
    "str_length": lambda s: "non-empty text",
}


def _check_text(check: pa.Check) -> str:
    describe = _BUILTIN_TEXT.get(check.name)
    return describe(check.statistics or {}) if describe else (check.error or str(check.name))


def _row_problems(spec: schemas.TableSpec, typed: pd.DataFrame, err: pa.errors.SchemaErrors) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for fc in err.failure_cases.itertuples(index=False):
        if pd.isna(fc.index):
            continue
        rule = next((r for r in spec.rules if str(fc.check) in (r.name, r.expected)), None)
        if rule is None:
            continue
        key = (int(fc.index), rule.name)
        if key in seen:
            continue
        seen.add(key)
        row = typed.loc[fc.index]
        value = row[rule.column]
        problems.append(
            Problem(
                spec.filename,
                int(fc.index) + 2,
                _key_text(row, spec.key),
                rule.column,
                None if pd.isna(value) else value,
                rule.expected,
                rule.name,
            )
        )
    return sorted(problems, key=lambda p: (p.line or 0, p.column or ""))


def validate_table(spec: schemas.TableSpec, raw: pd.DataFrame) -> pd.DataFrame:
    """Validate one table in two stages; return it typed, or raise DataValidationError."""
    if raw.empty:
        raise DataValidationError([EmptyTable(spec.filename, None, "", None, None, spec.rows_expected, "has_rows")])
    try:
        typed = spec.column_schema().validate(raw.copy(), lazy=True)
    except pa.errors.SchemaErrors as err:
        raise DataValidationError(_column_problems(spec, raw, err)) from None
    if spec.rules:
        try:
            spec.row_schema().validate(typed, lazy=True)
        except pa.errors.SchemaErrors as err:
            raise DataValidationError(_row_problems(spec, typed, err)) from None
    return typed


# ---------------------------------------------------------------------------
# Loading everything
# ---------------------------------------------------------------------------
def bib_keys(path: Path | None = None) -> set[str]:
    path = path or bib_file()
    return schemas.bib_keys_from_text(path.read_text(encoding="utf-8"))


#: Validated tables by (spec function, file content, the spec's inputs). Validation is a pure
#: function of these, and it dominates loading (pandera), which every chapter and many tests do.
_VALIDATED: dict[tuple, pd.DataFrame] = {}


def _frozen(value) -> object:
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(value, key=repr))
    if isinstance(value, dict):
        return tuple(sorted(value.items(), key=repr))
    return value


def load_table(folder: Path, make_spec, *inputs) -> pd.DataFrame:
    """``make_spec(*inputs)``'s table from ``folder``, validated (a copy of a cached result for the same content)."""
    spec = make_spec(*inputs)
    path = folder / spec.filename
    content = path.read_bytes() if path.exists() else None
    key = (make_spec.__qualname__, content, tuple(_frozen(i) for i in inputs))
    if content is None:  # read_csv names the missing file
        return validate_table(spec, read_csv(path))
    if key not in _VALIDATED:
        if len(_VALIDATED) > 512:  # a long test session edits many copies; keep memory bounded
            _VALIDATED.clear()
        _VALIDATED[key] = validated_cache.validated(
            make_spec.__qualname__, content, inputs, lambda: validate_table(spec, read_csv(path))
        )
    return _VALIDATED[key].copy()


def load_evidence(folder: Path | None = None) -> Evidence:
    """Load and validate every table; raise DataValidationError on the first bad file."""
    folder = Path(folder) if folder else data_dir()
    keys = bib_keys()
    definitions = load_table(folder, schemas.outcome_definitions_spec)
    studies = load_table(folder, schemas.studies_spec, keys)
    study_ids = set(studies["study_id"])
    arms = load_table(folder, schemas.arms_spec, keys, study_ids)
    outcome_kinds = dict(zip(definitions["outcome"], definitions["kind"]))
    arm_keys = set(zip(arms["study_id"], arms["arm"]))
    outcomes = load_table(folder, schemas.outcomes_spec, keys, study_ids, arm_keys, outcome_kinds)
    search = load_table(folder, schemas.search_spec, keys)
    prisma = load_table(folder, schemas.prisma_spec, keys)
    review_reported = load_table(folder, schemas.review_reported_spec, keys)
    later_trials = load_table(folder, schemas.later_trials_spec, keys, study_ids)
    later_reviews = load_table(folder, schemas.later_reviews_spec, keys, set(outcome_kinds))
    windows = protocol_windows()
    problems = window_problems(studies, later_trials, later_reviews, windows)
    if problems:
        raise DataValidationError(problems)
    return Evidence(
        studies=studies,
        arms=arms,
        outcomes=outcomes,
        outcome_definitions=definitions,
        search=search,
        prisma=prisma,
        review_reported=review_reported,
        later_trials=later_trials,
        later_reviews=later_reviews,
        folder=folder,
        windows=tuple((name, start, end) for name, (start, end) in windows.items()),
    )


# ---------------------------------------------------------------------------
# Dates against the protocol's windows (a check across the data and protocol.yml)
# ---------------------------------------------------------------------------
#: The checks across the data and the protocol's windows (:func:`window_problems`): name -> (tables, column, expected).
WINDOW_RULE_TEXT = {
    "published_in_one_window": (
        "studies.csv",
        "published",
        "a date within one protocol window: a year that spans two must give the month",
    ),
    "included_study_in_a_window": ("studies.csv", "published", "an included study dated within a protocol window"),
    "later_in_update_window": (
        "later_trials.csv, later_reviews.csv",
        "published (later_trials.csv: else trial_end)",
        "a date in the update window: evidence of the review window belongs in studies.csv",
    ),
    "same_date_as_study": (
        "later_trials.csv",
        "published",
        "the publication date of the same study in studies.csv",
    ),
}
WINDOW_RULES = tuple(WINDOW_RULE_TEXT)


def protocol_windows() -> dict[str, tuple[str, str | None]]:
    """The protocol's windows by name: (first month, last month or None)."""
    from helpers.evidence.protocol import load_protocol

    return load_protocol().windows


def _date_problem(
    spec: schemas.TableSpec, table: pd.DataFrame, index, column: str, expected: str, rule: str
) -> Problem:
    row = table.loc[index]
    return Problem(spec.filename, int(index) + 2, _key_text(row, spec.key), column, row[column], expected, rule)


def window_problems(
    studies: pd.DataFrame,
    later_trials: pd.DataFrame,
    later_reviews: pd.DataFrame,
    windows: dict[str, tuple[str, str | None]],
) -> list[Problem]:
    """Every dated row that no single protocol window holds, and every later row dated in the review window.

    * a study's ``published`` must fall in one window (a bare year across a boundary must give the month);
      an included study's in a window at all;
    * a later trial (by ``published``, else ``trial_end``) and a later review (``published``) must fall in the
      update window: a report of the review window belongs in studies.csv, not among the later evidence;
    * a later trial that is also a study of studies.csv carries the same publication date there.
    """
    all_windows = windows_text(windows)
    update = f"a date in the update window ({window_text(windows, 'update')})"
    problems: list[Problem] = []
    spec = schemas.studies_spec(set())
    for index, row in studies.iterrows():
        where = window_of(row["published"], windows)
        if where == SPANS:
            problems.append(
                _date_problem(
                    spec,
                    studies,
                    index,
                    "published",
                    f"a date within one window ({all_windows}): give the month",
                    "published_in_one_window",
                )
            )
        elif where == OUTSIDE and row["inclusion_status"] == "included":
            problems.append(
                _date_problem(
                    spec,
                    studies,
                    index,
                    "published",
                    f"an included study dated within a window ({all_windows})",
                    "included_study_in_a_window",
                )
            )
    dates = dict(zip(studies["study_id"], studies["published"]))
    spec = schemas.later_trials_spec(set(), set())
    for index, row in later_trials.iterrows():
        column = "published" if pd.notna(row["published"]) else "trial_end"
        where = window_of(row[column], windows)
        if where is not None and where != "update":
            problems.append(
                _date_problem(
                    spec,
                    later_trials,
                    index,
                    column,
                    f"{update}: evidence of the review window belongs in studies.csv",
                    "later_in_update_window",
                )
            )
        study = row["study_id"]
        if pd.notna(study) and pd.notna(row["published"]) and str(dates.get(study)) != str(row["published"]):
            problems.append(
                _date_problem(
                    spec,
                    later_trials,
                    index,
                    "published",
                    f"the publication date of study {study} in studies.csv ({dates.get(study)})",
                    "same_date_as_study",
                )
            )
    spec = schemas.later_reviews_spec(set(), set())
    for index, row in later_reviews.iterrows():
        if window_of(row["published"], windows) != "update":
            problems.append(
                _date_problem(
                    spec,
                    later_reviews,
                    index,
                    "published",
                    f"{update}: a review of the review window is not a later review",
                    "later_in_update_window",
                )
            )
    return problems
