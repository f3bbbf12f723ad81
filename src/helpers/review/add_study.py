"""Add a new study to the evidence tables: the rows it needs, with every value left to fill from a source.

``python -m helpers add-study ID`` appends to ``data/`` (or the ``IL2_DATA_DIR`` folder):

* a row of ``studies.csv`` (id, design, label if given, ``inclusion_status`` ``included``);
* a row of ``arms.csv`` per arm (role from the arm's name, or ``--role ARM=ROLE``; population
  ``randomised`` for a randomised trial, else ``enrolled``);
* for a design the protocol pools (``rct``), a row of ``outcomes.csv`` per arm for the
  outcome, time point and population the protocol's primary analysis needs (the first of its
  ``population_preference``), statistic ``count``;
* for an included study, a row of ``risk_of_bias.csv`` per Downs and Black item, not yet rated;
* for an included study, a row of ``study_context.csv`` per study-context fact (setting, entry
  criteria, ..., injections per cycle; :data:`helpers.evidence.clinical_tables.FACTS`), not yet given.

Baseline characteristics (``baseline.csv``) are added row by row as the source reports them: a
study has no fixed set of them, so none is written here.

Nothing is invented: every value (label, citation, regimen, sizes, counts, answers) and every
provenance field (source, locator, evidence_ref, na_reason) is left empty, and ``status`` is
preset to ``reported``, so validation refuses each row until it is filled. The validation
problems, each naming file, line and column, are the to-do list (:func:`todo`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.evidence import clinical_tables, schemas
from helpers.evidence.load import WINDOW_RULES, DataValidationError, Problem, bib_keys, load_table, read_csv
from helpers.evidence.protocol import Protocol, load_protocol
from helpers.paths import data_dir

__all__ = [
    "AddStudyError",
    "NewStudy",
    "StudyRows",
    "Written",
    "add_study",
    "check_new_id",
    "describe_written",
    "format_rows",
    "format_todo",
    "new_study",
    "role_of",
    "study_rows",
    "todo",
    "write_rows",
]

STUDIES = "studies.csv"
ARMS = "arms.csv"
OUTCOMES = "outcomes.csv"
ITEMS = "downs_black_items.csv"
RATINGS = "risk_of_bias.csv"
CONTEXT = clinical_tables.CONTEXT_FILE
#: The files a new study's rows go to, in the order they are written and listed.
FILES = (STUDIES, ARMS, OUTCOMES, RATINGS, CONTEXT)
#: Files keyed by study whose ids a new study may not reuse (those it writes, and baseline.csv).
ID_FILES = (*FILES, clinical_tables.BASELINE_FILE)

#: Preset status of every new row: a value is read in a source unless the author says otherwise
#: (``derived`` with its derivation, ``not_reported`` with its reason).
PRESET_STATUS = "reported"
#: Arms a new study gets when ``--arms`` is not given.
DEFAULT_ARMS = {"rct": ("il2", "placebo")}
DEFAULT_ARMS_OTHER = ("il2",)


class AddStudyError(ValueError):
    """The study cannot be added as asked (the message says why)."""


@dataclass(frozen=True)
class NewStudy:
    study_id: str
    design: str
    #: (arm, role) in the order given
    arms: tuple[tuple[str, str], ...]
    label: str = ""
    inclusion_status: str = "included"

    @property
    def arm_population(self) -> str:
        return "randomised" if self.design == "rct" else "enrolled"


#: file name -> the rows to append (column -> text; a missing column is an empty cell)
StudyRows = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class Written:
    """Where the rows went: file name -> CSV line numbers (the header is line 1)."""

    folder: Path
    lines: dict[str, range]


# ---------------------------------------------------------------------------
# The study as asked
# ---------------------------------------------------------------------------
def role_of(arm: str, roles: Mapping[str, str] | None = None) -> str:
    """The arm's role: given in ``roles``, else read from its name (``il2``, ``il2_0_5miu``, ``placebo``...)."""
    if roles and arm in roles:
        return roles[arm]
    for role in schemas.ROLES:
        if arm == role or arm.startswith(role + "_"):
            return role
    raise AddStudyError(
        f"arm '{arm}': its role cannot be read from its name (one of {', '.join(schemas.ROLES)}, "
        f"alone or followed by '_...'); give it with --role {arm}=ROLE"
    )


def new_study(
    study_id: str,
    design: str = "rct",
    arms: Sequence[str] | None = None,
    roles: Mapping[str, str] | None = None,
    label: str = "",
    inclusion_status: str = "included",
) -> NewStudy:
    """Check what was asked (id pattern, design, arm names and roles) and return the study."""
    if not re.fullmatch(schemas.ID_PATTERN, study_id):
        raise AddStudyError(
            f"study id '{study_id}': expected lowercase letters, digits and '_', starting with a letter "
            f"(pattern {schemas.ID_PATTERN}), e.g. smith2026"
        )
    if design not in schemas.DESIGNS:
        raise AddStudyError(f"design '{design}': expected one of {', '.join(schemas.DESIGNS)}")
    if inclusion_status not in schemas.INCLUSION:
        raise AddStudyError(f"inclusion status '{inclusion_status}': expected one of {', '.join(schemas.INCLUSION)}")
    names = list(arms) if arms else list(DEFAULT_ARMS.get(design, DEFAULT_ARMS_OTHER))
    roles = dict(roles or {})
    for name in names:
        if not re.fullmatch(schemas.ID_PATTERN, name):
            raise AddStudyError(f"arm '{name}': expected an id matching {schemas.ID_PATTERN}, e.g. il2_0_5miu")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise AddStudyError(f"arm(s) given twice: {', '.join(duplicated)}")
    for name, role in roles.items():
        if name not in names:
            raise AddStudyError(f"--role {name}={role}: '{name}' is not one of the arms ({', '.join(names)})")
        if role not in schemas.ROLES:
            raise AddStudyError(f"--role {name}={role}: expected a role among {', '.join(schemas.ROLES)}")
    return NewStudy(
        study_id=study_id,
        design=design,
        arms=tuple((n, role_of(n, roles)) for n in names),
        label=label.strip(),
        inclusion_status=inclusion_status,
    )


def _column(folder: Path, filename: str, column: str) -> list[str]:
    path = folder / filename
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        return [row.get(column) or "" for row in csv.DictReader(fh)]


def check_new_id(study_id: str, folder: Path | None = None) -> None:
    """Refuse an id that a table keyed by study (studies.csv, arms.csv, ..., baseline.csv) already uses."""
    folder = Path(folder) if folder else data_dir()
    used = [f for f in ID_FILES if study_id in _column(folder, f, "study_id")]
    if used:
        raise AddStudyError(
            f"study id '{study_id}' already exists (in {', '.join(used)} of {folder}); "
            "correct its rows there, or choose another id"
        )


# ---------------------------------------------------------------------------
# The rows
# ---------------------------------------------------------------------------
def _provenance() -> dict[str, str]:
    # source, locator, evidence_ref, derivation and na_reason stay empty: only the author can give them
    return {"status": PRESET_STATUS}


def study_rows(study: NewStudy, folder: Path | None = None, protocol: Protocol | None = None) -> StudyRows:
    """The rows the study needs, file by file (empty cells wherever a source must supply the value)."""
    folder = Path(folder) if folder else data_dir()
    protocol = protocol or load_protocol()
    sid = study.study_id
    rows: StudyRows = {
        STUDIES: [
            {
                "study_id": sid,
                "label": study.label,
                "design": study.design,
                "inclusion_status": study.inclusion_status,
                **_provenance(),
            }
        ],
        ARMS: [
            {"study_id": sid, "arm": arm, "role": role, "population": study.arm_population, **_provenance()}
            for arm, role in study.arms
        ],
        OUTCOMES: [],
        RATINGS: [],
        CONTEXT: [],
    }
    if study.design in protocol.designs_pooled:
        primary = _primary_analysis(protocol)
        rows[OUTCOMES] = [
            {
                "study_id": sid,
                "arm": arm,
                "outcome": primary.outcome,
                "timepoint": primary.timepoint,
                "population": primary.population_preference[0],
                "statistic": "count",
                **_provenance(),
            }
            for arm, _ in study.arms
        ]
    if study.inclusion_status == "included":  # only included studies are rated (and every one must be)
        items = [i for i in _column(folder, ITEMS, "item") if i]
        if not items:
            raise AddStudyError(f"{ITEMS} in {folder} lists no items to rate")
        rows[RATINGS] = [{"study_id": sid, "item": item, **_provenance()} for item in items]
        rows[CONTEXT] = [{"study_id": sid, "fact": fact, **_provenance()} for fact in clinical_tables.FACT_IDS]
    return rows


def _primary_analysis(protocol: Protocol):
    primary = [a for a in protocol.analyses if a.role == "primary"]
    if not primary:
        raise AddStudyError(f"{protocol.path.name} declares no analysis with role 'primary'")
    return primary[0]


def _header(path: Path) -> list[str]:
    if not path.exists():
        raise AddStudyError(f"{path}: the file does not exist")
    with path.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise AddStudyError(f"{path}: no header line")
    return header


def _csv_text(header: list[str], rows: list[dict[str, str]], with_header: bool = False) -> str:
    unknown = sorted({k for r in rows for k in r} - set(header))
    if unknown:
        raise AddStudyError(f"columns {', '.join(unknown)} are not in the file's header ({', '.join(header)})")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    if with_header:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    return out.getvalue()


def format_rows(rows: StudyRows, folder: Path | None = None) -> str:
    """The rows as CSV, file by file, each under its file's header (what --dry-run prints)."""
    folder = Path(folder) if folder else data_dir()
    parts = []
    for name in FILES:
        if rows.get(name):
            parts.append(f"# {name}\n" + _csv_text(_header(folder / name), rows[name], with_header=True))
    return "\n".join(parts)


def _records(path: Path) -> int:
    """CSV records in a file, header included (a record's number is its 'line' in validation messages)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh))


def write_rows(rows: StudyRows, folder: Path | None = None) -> Written:
    """Append the rows to their files; return the line numbers they got."""
    folder = Path(folder) if folder else data_dir()
    texts = {name: _csv_text(_header(folder / name), rows[name]) for name in FILES if rows.get(name)}
    lines = {}
    for name, text in texts.items():
        path = folder / name
        first = _records(path) + 1
        ends_with_newline = path.read_bytes().endswith(b"\n")
        with path.open("a", newline="", encoding="utf-8") as fh:
            fh.write(("" if ends_with_newline else "\n") + text)
        lines[name] = range(first, first + len(rows[name]))
    return Written(folder, lines)


def add_study(study: NewStudy, folder: Path | None = None, protocol: Protocol | None = None) -> Written:
    """Refuse an id in use, then append the study's rows; return where they went."""
    folder = Path(folder) if folder else data_dir()
    check_new_id(study.study_id, folder)
    return write_rows(study_rows(study, folder, protocol), folder)


# ---------------------------------------------------------------------------
# The to-do list: every table validated on its own
# ---------------------------------------------------------------------------
def _raw(folder: Path, filename: str, problems: list[Problem]) -> pd.DataFrame | None:
    try:
        return read_csv(folder / filename)
    except DataValidationError as err:
        problems.extend(err.problems)
        return None


def _ids(frame: pd.DataFrame | None, *columns: str) -> set:
    if frame is None or not set(columns) <= set(frame.columns):
        return set()
    values = frame[list(columns)].dropna()
    return set(values[columns[0]]) if len(columns) == 1 else set(map(tuple, values.to_numpy().tolist()))


def _collect(problems: list[Problem], load, *args) -> object | None:
    try:
        return load(*args)
    except DataValidationError as err:
        problems.extend(err.problems)
        return None


def todo(folder: Path | None = None) -> list[Problem]:
    """Every validation problem of every evidence table, each table checked on its own.

    :func:`helpers.evidence.load.load_evidence` (and ``python -m helpers validate``) stop at the first
    table that fails; here the keys a table is checked against (study ids, arms, outcomes) are
    read from the other tables as they stand, so one list names what is missing everywhere.
    Within a table the columns are checked before the rules that relate them (pandera's two
    stages), so filling one round of cells can reveal the next (e.g. an empty value's reason).
    Once the tables load, derived counts that reproduce none of their reported figures are
    listed too. An empty list means the tables validate.
    """
    from helpers.evidence import rob_tables as rob

    folder = Path(folder) if folder else data_dir()
    keys = bib_keys()
    problems: list[Problem] = []
    raw = {name: _raw(folder, name, problems) for name in (STUDIES, ARMS, "outcome_definitions.csv")}
    definitions = raw["outcome_definitions.csv"]
    kinds = {}
    if definitions is not None and {"outcome", "kind"} <= set(definitions.columns):
        kinds = dict(definitions[["outcome", "kind"]].dropna().itertuples(index=False, name=None))
    study_ids = _ids(raw[STUDIES], "study_id")
    arm_keys = _ids(raw[ARMS], "study_id", "arm")
    for make_spec, inputs in (
        (schemas.studies_spec, (keys,)),
        (schemas.arms_spec, (keys, study_ids)),
        (schemas.outcomes_spec, (keys, study_ids, arm_keys, kinds)),
        (schemas.outcome_definitions_spec, ()),
        (schemas.search_spec, (keys,)),
        (schemas.prisma_spec, (keys,)),
        (schemas.review_reported_spec, (keys,)),
        (schemas.later_trials_spec, (keys, study_ids)),
        (schemas.later_reviews_spec, (keys, set(kinds))),
    ):
        _collect(problems, load_table, folder, make_spec, *inputs)
    items_raw = _raw(folder, rob.ITEMS_FILE, problems)
    items = None if items_raw is None else _collect(problems, rob.validate_items, items_raw, keys)
    ratings_raw = _raw(folder, rob.RATINGS_FILE, problems)
    studies = raw[STUDIES]
    if items is not None and ratings_raw is not None and studies is not None:
        if {"study_id", "inclusion_status"} <= set(studies.columns):
            known = studies.dropna(subset=["study_id"]).fillna({"inclusion_status": ""})
            _collect(problems, rob.validate_ratings, ratings_raw, items, known, keys)
    context_raw = _raw(folder, CONTEXT, problems)
    if context_raw is not None and studies is not None and {"study_id", "inclusion_status"} <= set(studies.columns):
        known = studies.dropna(subset=["study_id"]).fillna({"inclusion_status": ""})
        _collect(problems, clinical_tables.validate_study_context, context_raw, known, keys)
    problems += _baseline_problems(folder)
    problems += _derived_count_problems(folder)
    return _in_order(problems, folder)


def _baseline_problems(folder: Path) -> list[Problem]:
    """baseline.csv's problems, once the tables it is checked against (arms, outcomes, definitions) load."""
    from helpers.evidence.load import load_evidence

    try:
        ev = load_evidence(folder)
    except DataValidationError:
        return []  # the tables' own problems are listed; baseline.csv is checked when they are fixed
    problems: list[Problem] = []
    _collect(problems, clinical_tables.load_baseline, ev)
    return problems


def _derived_count_problems(folder: Path) -> list[Problem]:
    """The audit of derived counts (:mod:`helpers.review.derived_audit`), once the tables it reads validate."""
    from helpers.evidence.load import load_evidence
    from helpers.review.derived_audit import derived_count_problems

    try:
        ev = load_evidence(folder)
    except DataValidationError as err:
        # the tables' own problems are listed already; what remains are the dates no protocol window
        # holds (a check across the tables and protocol.yml). The audit follows when they are fixed.
        return [p for p in err.problems if p.rule in WINDOW_RULES]
    return derived_count_problems(ev)


def _in_order(problems: list[Problem], folder: Path) -> list[Problem]:
    """Table by table (as validated), then line by line, then in the order of the file's columns.

    An empty cell is shown as empty (pandera reports it as NaN).
    """
    tables = list(dict.fromkeys(p.file for p in problems))
    headers = {f: _columns_of(folder / f) for f in tables}

    def position(p: Problem) -> tuple:
        header = headers[p.file]
        column = header.index(p.column) if p.column in header else len(header)
        return (tables.index(p.file), p.line or 0, column)

    out = [dataclasses.replace(p, value=None) if _is_empty(p.value) else p for p in problems]
    return sorted(out, key=position)


def _columns_of(path: Path) -> list[str]:
    try:
        return _header(path)
    except AddStudyError:  # no file or no header: validation reports it
        return []


def _is_empty(value: object) -> bool:
    try:
        return value is not None and not isinstance(value, str) and bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_todo(problems: Sequence[Problem]) -> str:
    """The to-do list: one line per row and expectation, naming file, line, key, columns, value and expectation.

    Problems of one row that expect the same thing of the same value (e.g. five empty cells
    that may not be empty) share a line.
    """
    groups: dict[tuple, list[str]] = {}
    for p in problems:
        if p.line is None or p.column is None or type(p) is not Problem:
            groups.setdefault((str(p),), [])
            continue
        groups.setdefault((p.file, p.line, p.key, repr(p.value), p.expected), []).append(p.column)
    lines = []
    for key, columns in groups.items():
        if len(key) == 1:
            lines.append(f"  - {key[0]}")
            continue
        file, line, row_key, _, expected = key
        first = next(p for p in problems if (p.file, p.line, p.column) == (file, line, columns[0]))
        text = str(first)
        if len(columns) > 1:
            cols = ", ".join(f"'{c}'" for c in columns)
            text = text.replace(f"column '{columns[0]}'", f"columns {cols}", 1)
            text = text.replace("found an empty cell", "found empty cells", 1)
        lines.append(f"  - {text}")
    return "\n".join(lines)


def describe_written(study: NewStudy, written: Written, rows: StudyRows) -> str:
    """What was written where, one line per file."""
    out = [f"add-study: wrote the rows of '{study.study_id}' (design {study.design}) to {written.folder}:"]
    for name in FILES:
        lines = written.lines.get(name)
        if not lines:
            continue
        where = f"line {lines[0]}" if len(lines) == 1 else f"lines {lines[0]}-{lines[-1]}"
        out.append(f"  {name:<17} {where:<15} {_what(name, rows[name])}")
    out.append(
        "Values and their sources are left empty (nothing is guessed); status is preset to "
        f"'{PRESET_STATUS}' (use 'derived' with the computation in 'derivation', or 'not_reported' "
        "with the reason in 'na_reason')."
    )
    return "\n".join(out)


def _what(name: str, rows: list[dict[str, str]]) -> str:
    n = f"{len(rows)} row{'s' if len(rows) > 1 else ''}"
    if name == STUDIES:
        return f"{n} (inclusion_status {rows[0]['inclusion_status']})"
    if name == ARMS:
        return f"{n}: " + ", ".join(f"{r['arm']} ({r['role']})" for r in rows) + f"; population {rows[0]['population']}"
    if name == OUTCOMES:
        r = rows[0]
        return f"{n}: {r['outcome']} at {r['timepoint']}, population {r['population']}, statistic count (per arm)"
    if name == CONTEXT:
        return f"{n}: study-context facts {rows[0]['fact']} to {rows[-1]['fact']}, not yet given"
    return f"{n}: Downs and Black items {rows[0]['item']}-{rows[-1]['item']}, not yet rated"
