"""Risk of bias as evidence: the modified Downs and Black instrument and the ratings, their schemas and loading.

The review assessed its studies with "a modified version of the Downs and Black"
checklist but does not report the modification or the scores, so this book makes
its own assessment:

* ``data/downs_black_items.csv`` encodes the instrument: the 27 items of Downs and
  Black (1998) in their five domains, a short paraphrase of each, the answers it
  allows and the points of each answer. The adopted modification is the one shown
  in Latter et al. (2016, Table 3): the power item scores 0 or 1, so the maximum is
  28, and totals fall in the quality levels excellent (26-28), good (20-25), fair
  (15-19) and poor (14 or less).
* ``data/risk_of_bias.csv`` rates every included study on every item, with a
  one-line rationale that names its evidence (``S22``...), a source and a locator.
  An item the consulted sources cannot answer is ``unable_to_determine`` (0 points,
  status ``not_reported``); it is never guessed.

Both tables are validated like every other evidence table (pandera, through
:func:`helpers.evidence.load.validate_table`), plus cross-table rules: the study exists and
is included, the item exists, the answer is one the item allows, and every
included study is rated on every item exactly once. Scores, domain scores and
bands are computed in :mod:`helpers.review.rob` from the items and are never stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from helpers.evidence.load import (
    DataValidationError,
    Evidence,
    Problem,
    bib_keys,
    load_evidence,
    read_csv,
    validate_table,
)
from helpers.evidence.schemas import RowRule, TableSpec, _provenance_columns, _provenance_rules, _required_text

__all__ = [
    "ANSWERS",
    "BANDS",
    "DOMAINS",
    "ITEMS_FILE",
    "MAX_SCORE",
    "N_ITEMS",
    "RATINGS_FILE",
    "RiskOfBias",
    "items_spec",
    "load_risk_of_bias",
    "parse_points",
    "ratings_spec",
]

ITEMS_FILE = "downs_black_items.csv"
RATINGS_FILE = "risk_of_bias.csv"

# ---------------------------------------------------------------------------
# The instrument's fixed structure (Downs and Black 1998) and the adopted modification
# ---------------------------------------------------------------------------
#: Domains in checklist order: (id, label, first item, last item).
DOMAINS: tuple[tuple[str, str, int, int], ...] = (
    ("reporting", "Reporting", 1, 10),
    ("external_validity", "External validity", 11, 13),
    ("internal_validity_bias", "Internal validity: bias", 14, 20),
    ("internal_validity_confounding", "Internal validity: confounding", 21, 26),
    ("power", "Power", 27, 27),
)
DOMAIN_LABELS = {d: label for d, label, _, _ in DOMAINS}
#: Short domain names for table headers.
DOMAIN_SHORT = {
    "reporting": "Reporting",
    "external_validity": "External validity",
    "internal_validity_bias": "Bias",
    "internal_validity_confounding": "Confounding",
    "power": "Power",
}
N_ITEMS = DOMAINS[-1][3]

#: Answers, in display order (best first).
ANSWERS = ("yes", "partially", "no", "unable_to_determine")
ANSWER_LABELS = {"yes": "Yes", "partially": "Partially", "no": "No", "unable_to_determine": "Unable to determine"}
#: robvis-style symbols: the answer reads without colour.
ANSWER_SYMBOLS = {"yes": "+", "partially": "−", "no": "×", "unable_to_determine": "?"}

#: Maximum total of the adopted modification (power item scored 0 or 1).
MAX_SCORE = 28


@dataclass(frozen=True)
class Band:
    name: str
    low: int
    high: int

    @property
    def text(self) -> str:
        return f"{self.name} ({self.low}–{self.high})"


#: Quality levels of the adopted modification, best first (Latter et al. 2016, Table 3).
BANDS: tuple[Band, ...] = (Band("excellent", 26, 28), Band("good", 20, 25), Band("fair", 15, 19), Band("poor", 0, 14))

SHORT_LABEL_MAX = 32
_ANSWER_RE = "|".join(ANSWERS)
POINTS_PATTERN = rf"^({_ANSWER_RE})=\d+(; ({_ANSWER_RE})=\d+)*$"


def canonical_domain(item: int) -> str | None:
    """The Downs and Black domain of an item number (None outside 1-27)."""
    return next((d for d, _, lo, hi in DOMAINS if lo <= item <= hi), None)


def parse_points(text: str) -> dict[str, int]:
    """'yes=1; no=0; unable_to_determine=0' -> {'yes': 1, 'no': 0, 'unable_to_determine': 0}."""
    if not isinstance(text, str) or not re.fullmatch(POINTS_PATTERN, text.strip()):
        raise ValueError(f"points {text!r}: expected 'answer=points; ...' with answers among {', '.join(ANSWERS)}")
    pairs = [part.strip().split("=") for part in text.split(";")]
    answers = [a for a, _ in pairs]
    if len(set(answers)) != len(answers):
        raise ValueError(f"points {text!r}: an answer is listed twice")
    return {a: int(p) for a, p in pairs}


# ---------------------------------------------------------------------------
# Table specs (built with the blocks of helpers.evidence.schemas)
# ---------------------------------------------------------------------------
def _points_ok(check: Callable[[dict[str, int]], bool]) -> Callable[[pd.DataFrame], pd.Series]:
    """Apply ``check(points dict)`` to each row's points; unparseable rows pass (the pattern check reports them)."""

    def rule(d: pd.DataFrame) -> pd.Series:
        out = []
        for text in d["points"]:
            try:
                out.append(bool(check(parse_points(str(text)))))
            except ValueError:
                out.append(True)
        return pd.Series(out, index=d.index)

    return rule


def items_spec(bib_keys: set[str]) -> TableSpec:
    """``downs_black_items.csv``: the instrument, one row per item."""
    rules = _provenance_rules(()) + (
        RowRule(
            "domain_matches_item",
            "domain",
            "the Downs and Black domain of the item (reporting 1-10, external_validity 11-13, "
            "internal_validity_bias 14-20, internal_validity_confounding 21-26, power 27)",
            lambda d: pd.Series(
                [canonical_domain(int(i)) == dom for i, dom in zip(d["item"], d["domain"])], index=d.index
            ),
        ),
        RowRule(
            "points_answers_unique",
            "points",
            "each answer listed once in 'points'",
            lambda d: pd.Series([_unique_answers(str(t)) for t in d["points"]], index=d.index),
        ),
        RowRule(
            "points_allow_yes_no_unable",
            "points",
            "points for at least yes, no and unable_to_determine",
            _points_ok(lambda p: {"yes", "no", "unable_to_determine"} <= set(p)),
        ),
        RowRule(
            "unable_to_determine_scores_zero",
            "points",
            "unable_to_determine worth 0 points (the instrument's rule)",
            _points_ok(lambda p: p.get("unable_to_determine", 0) == 0),
        ),
        RowRule("no_scores_zero", "points", "no worth 0 points", _points_ok(lambda p: p.get("no", 0) == 0)),
        RowRule(
            "yes_scores_most",
            "points",
            "yes worth the most points of the item",
            _points_ok(lambda p: p.get("yes", 0) == max(p.values()) and p.get("yes", 0) > 0),
        ),
    )
    return TableSpec(
        name="downs_black_items",
        filename=ITEMS_FILE,
        rows_expected=f"a row for each item of the checklist (the instrument has items 1 to {N_ITEMS})",
        key=("item",),
        columns={
            "item": pa.Column("Int64", pa.Check.in_range(1, N_ITEMS), nullable=False, coerce=True),
            "domain": _required_text(pa.Check.isin([d for d, *_ in DOMAINS])),
            "short_label": _required_text(
                pa.Check(
                    lambda s: s.str.len() <= SHORT_LABEL_MAX,
                    name="short_label_fits",
                    error=f"at most {SHORT_LABEL_MAX} characters (it labels a row of the plot)",
                )
            ),
            "label": _required_text(),
            "points": _required_text(pa.Check.str_matches(POINTS_PATTERN)),
            "guidance": _required_text(),
            **_provenance_columns(bib_keys),
        },
        rules=rules,
        unique=("item",),
    )


def _unique_answers(text: str) -> bool:
    answers = [part.split("=")[0].strip() for part in text.split(";")]
    return len(set(answers)) == len(answers)


def _allowed_text(allowed: Mapping[int, tuple[str, ...]]) -> str:
    """'item 5: yes, partially, no, unable_to_determine; every other item: yes, no, unable_to_determine'."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for item, answers in sorted(allowed.items()):
        groups.setdefault(tuple(answers), []).append(item)
    if not groups:
        return "as listed in downs_black_items.csv"
    if len(groups) == 1:
        return ", ".join(next(iter(groups)))
    common = max(groups, key=lambda k: len(groups[k]))
    parts = [
        f"item{'s' if len(v) > 1 else ''} {', '.join(map(str, v))}: {', '.join(k)}"
        for k, v in groups.items()
        if k != common
    ]
    return "; ".join(parts + [f"every other item: {', '.join(common)}"])


def _evidence_codes(ref: str) -> list[str]:
    return [c.strip() for c in str(ref).split(";") if c.strip()]


def _cites_its_evidence(d: pd.DataFrame) -> pd.Series:
    return pd.Series(
        [
            any(re.search(rf"\b{re.escape(code)}\b", str(r)) for code in _evidence_codes(e))
            for r, e in zip(d["rationale"], d["evidence_ref"])
        ],
        index=d.index,
    )


def ratings_spec(
    bib_keys: set[str],
    study_ids: set[str],
    included_ids: set[str],
    allowed: Mapping[int, tuple[str, ...]],
) -> TableSpec:
    """``risk_of_bias.csv``: one row per included study and item.

    ``allowed`` maps each item of the instrument to the answers it allows (from
    ``downs_black_items.csv``).
    """
    rules = _provenance_rules(()) + (
        RowRule(
            "study_is_included",
            "study_id",
            "a study whose inclusion_status is 'included' in studies.csv (only included studies are rated)",
            lambda d: d["study_id"].isin(sorted(included_ids)),
        ),
        RowRule(
            "answer_allowed_for_item",
            "answer",
            "an answer that downs_black_items.csv allows for the item (" + _allowed_text(allowed) + ")",
            lambda d: pd.Series([a in allowed.get(int(i), ()) for i, a in zip(d["item"], d["answer"])], index=d.index),
        ),
        RowRule(
            "unable_to_determine_is_not_reported",
            "status",
            "status 'not_reported' exactly when the answer is 'unable_to_determine'",
            lambda d: (d["answer"] == "unable_to_determine") == (d["status"] == "not_reported"),
        ),
        RowRule(
            "rationale_cites_its_evidence",
            "rationale",
            "a rationale that names at least one of the row's evidence_ref codes (e.g. 'S22')",
            _cites_its_evidence,
        ),
    )
    return TableSpec(
        name="risk_of_bias",
        filename=RATINGS_FILE,
        rows_expected="a rating of every item for every included study (each included study is assessed)",
        key=("study_id", "item"),
        columns={
            "study_id": _required_text(
                pa.Check.isin(sorted(study_ids), error="study_id must be a study_id of studies.csv")
            ),
            "item": pa.Column(
                "Int64",
                pa.Check.isin(sorted(allowed), error="item must be an item of downs_black_items.csv"),
                nullable=False,
                coerce=True,
            ),
            "answer": _required_text(pa.Check.isin(ANSWERS)),
            "rationale": _required_text(),
            **_provenance_columns(bib_keys),
        },
        rules=rules,
        unique=("study_id", "item"),
    )


# ---------------------------------------------------------------------------
# Loading and the table-level checks
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MissingRow(Problem):
    """A row the table should have but does not (no CSV line to point at)."""

    def __str__(self) -> str:
        return f"{self.file} ({self.key}): found no row; expected {self.expected}"


@dataclass(frozen=True)
class RiskOfBias:
    """The instrument, the ratings and the included studies, validated."""

    items: pd.DataFrame
    ratings: pd.DataFrame
    studies: pd.DataFrame  # included studies: study_id, label, design (in studies.csv order)
    folder: Path

    @property
    def points(self) -> dict[int, dict[str, int]]:
        return {int(i): parse_points(p) for i, p in zip(self.items["item"], self.items["points"])}

    def study_label(self, study_id: str) -> str:
        return str(self.studies.set_index("study_id").loc[study_id, "label"])


def _check_instrument(items: pd.DataFrame) -> None:
    problems: list[Problem] = []
    present = {int(i) for i in items["item"]}
    for item in range(1, N_ITEMS + 1):
        if item not in present:
            problems.append(
                MissingRow(
                    ITEMS_FILE,
                    None,
                    f"item={item}",
                    "item",
                    None,
                    f"a row for item {item} (the instrument has items 1 to {N_ITEMS})",
                )
            )
    total = sum(max(parse_points(p).values()) for p in items["points"])
    if not problems and total != MAX_SCORE:
        problems.append(
            Problem(
                ITEMS_FILE,
                None,
                "all items",
                "points",
                total,
                f"maximum points adding up to {MAX_SCORE}, the maximum of the adopted modification",
            )
        )
    if problems:
        raise DataValidationError(problems)


def _check_complete(ratings: pd.DataFrame, included: Iterable[str], items: Iterable[int]) -> None:
    rated = set(zip(ratings["study_id"], (int(i) for i in ratings["item"])))
    missing = [
        MissingRow(
            RATINGS_FILE,
            None,
            f"study_id={s}, item={i}",
            "item",
            None,
            "a rating of this item for this included study (every included study is rated on every item)",
        )
        for s in included
        for i in items
        if (s, i) not in rated
    ]
    if missing:
        raise DataValidationError(missing)


def validate_items(raw: pd.DataFrame, keys: set[str]) -> pd.DataFrame:
    items = validate_table(items_spec(keys), raw)
    _check_instrument(items)
    return items.sort_values("item").reset_index(drop=True)


def validate_ratings(raw: pd.DataFrame, items: pd.DataFrame, studies: pd.DataFrame, keys: set[str]) -> pd.DataFrame:
    allowed = {
        int(i): tuple(a for a in ANSWERS if a in parse_points(p)) for i, p in zip(items["item"], items["points"])
    }
    included = list(studies.loc[studies["inclusion_status"] == "included", "study_id"])
    spec = ratings_spec(keys, set(studies["study_id"]), set(included), allowed)
    ratings = validate_table(spec, raw)
    _check_complete(ratings, included, sorted(allowed))
    return ratings


def load_risk_of_bias(ev: Evidence | None = None) -> RiskOfBias:
    """Load and validate the instrument and the ratings (raises DataValidationError on bad input)."""
    ev = ev or load_evidence()
    keys = bib_keys()
    items = validate_items(read_csv(ev.folder / ITEMS_FILE), keys)
    ratings = validate_ratings(read_csv(ev.folder / RATINGS_FILE), items, ev.studies, keys)
    studies = ev.included_studies()[["study_id", "label", "design"]].reset_index(drop=True)
    order = {s: k for k, s in enumerate(studies["study_id"])}
    ratings = ratings.assign(_o=ratings["study_id"].map(order)).sort_values(["_o", "item"]).drop(columns="_o")
    return RiskOfBias(items=items, ratings=ratings.reset_index(drop=True), studies=studies, folder=ev.folder)
