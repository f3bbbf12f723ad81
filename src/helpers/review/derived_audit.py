"""Consistency audit of derived counts: which reported figures does each derived count reproduce?

A count with status ``derived`` was computed from reported figures (a percentage times an arm
size, a total that fits the percentages, an even split of a randomised total). The audit
recomputes what each such count implies and compares it with every figure the sources report
for it, at the precision they were reported with (:mod:`helpers.stats.reported`: a recomputed
value reproduces '0.052' when it lies within half a unit of the last digit, 0.0515 to 0.0525;
'<0.001' when it is below 0.001). Nothing here names a study: the figures come from the columns
of ``data/outcomes.csv`` and ``data/arms.csv``.

The figures a derived outcome count (``events`` of ``total``) is checked against:

* ``percent``: the row's reported percentage; 100 × events / total must reproduce it.
* ``p_between_arms``: a between-arm p-value of the row or of the other arm's row of the same
  outcome, time point and population (a two-arm comparison: exactly one row per arm, two arms).
  It is reproduced by each test of :data:`helpers.stats.two_by_two.TESTS` whose p-value on the
  two counts reproduces it (Pearson chi-square, with Yates's correction, the 'N − 1' chi-square,
  Fisher's exact test).
* ``p_vs_baseline``: a p-value against baseline of the row, or of a later row of the same arm,
  outcome and population when the row is the baseline one. The paired data a within-arm test
  needs are not reported, so the two time points are tested as two independent samples (the
  same four tests); a report that used a paired test will not be reproduced.

A derived arm size ``n`` (``data/arms.csv``) is checked against the reported percentage of every
count row of the same study and arm whose total is ``n``, in the same population (an ITT row for
a randomised arm): some whole number of patients out of ``n`` must give that percentage
(``percent_attainable``).

Verdict of a derived count: ``all``, ``some`` or ``none`` of its figures reproduced, or
``no figure`` when the data hold no reported figure to check it by. A count that reproduces none
fails validation (:func:`derived_count_problems`).

For every reproduced figure the audit also asks whether it *pins* the count: whether no
neighbouring count (this count's events and total each moved by at most one, the other count of
a p-value's table kept; for an arm size, n ± 1) would reproduce it as well. A percentage given to
two decimals pins a count; '<0.001' seldom does. And it marks a percentage the row's derivation
quotes ('55.17%') as the derivation's input: the count was computed from it, so reproducing it
checks the arithmetic, not the reconstruction; the p-values are then the independent checks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from helpers.evidence.load import DataValidationError, Evidence, Problem, read_csv
from helpers.report.labels import TEST_LABELS
from helpers.review.selection import memo
from helpers.stats.reported import Reported, parse_reported, percent_attainable, percent_reproduces
from helpers.stats.two_by_two import TESTS, p_values

#: The kinds of reported figure, in the order tables show them.
FIGURES = ("percent", "p_between_arms", "p_vs_baseline", "percent_attainable")
#: Verdicts, in the order tables count them.
VERDICTS = ("all", "some", "none", "no figure")
#: An arm population and the outcome populations whose totals it is (everyone randomised is the ITT set).
SAME_POPULATION = {"randomised": ("randomised", "itt")}


@dataclass(frozen=True)
class FigureCheck:
    """One reported figure, what the derived count gives for it, and whether that reproduces it."""

    figure: str  # one of FIGURES
    reported: str  # as reported: '55.17', '0.052', '<0.001'
    rule: str  # what reproduces it: 'between 0.0515 and 0.0525'
    #: the other count of a p-value's 2x2 table ('9/30') and its CSV line; for an arm size, the
    #: outcome row whose percentage it is checked by; empty for a row's own percentage
    compared_with: str = ""
    compared_line: int | None = None
    #: (name, value) recomputed: ('percent', 55.17…) or one (test, p) per test; for an arm size,
    #: ('percent', the nearest attainable percentage)
    recomputed: tuple[tuple[str, float], ...] = ()
    reproduced_by: tuple[str, ...] = ()
    #: reproduced, and by no neighbouring count (see the module docstring)
    pins: bool = False
    #: the row's derivation quotes the figure ('55.17%'): the count was computed from it, so
    #: reproducing it checks the arithmetic, not the reconstruction
    input_of_derivation: bool = False

    @property
    def reproduced(self) -> bool:
        return bool(self.reproduced_by)


@dataclass(frozen=True)
class DerivedCount:
    """One derived count, where it is, and the figures it is checked against."""

    file: str
    line: int  # CSV line (the header is line 1)
    column: str  # the derived column: 'events' or 'total' (outcomes.csv), 'n' (arms.csv)
    study_id: str
    arm: str
    outcome: str  # '' for an arm size
    timepoint: str  # '' for an arm size
    population: str
    events: int | None  # None for an arm size
    total: int
    derivation: str
    checks: tuple[FigureCheck, ...]

    @property
    def n_reproduced(self) -> int:
        return sum(c.reproduced for c in self.checks)

    @property
    def verdict(self) -> str:
        if not self.checks:
            return "no figure"
        if self.n_reproduced == len(self.checks):
            return "all"
        return "some" if self.n_reproduced else "none"

    @property
    def count_text(self) -> str:
        return f"{self.events}/{self.total}" if self.events is not None else f"n = {self.total}"

    @property
    def key(self) -> str:
        parts = [("study_id", self.study_id), ("arm", self.arm)]
        if self.file == "outcomes.csv":
            parts += [("outcome", self.outcome), ("timepoint", self.timepoint)]
        parts.append(("population", self.population))
        return ", ".join(f"{k}={v}" for k, v in parts)


# ---------------------------------------------------------------------------
# The rows the audit reads
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CountRow:
    """A count row of outcomes.csv (events and total given), its percentage as the text in the file."""

    line: int
    study_id: str
    arm: str
    outcome: str
    timepoint: str
    population: str
    events: int
    total: int
    percent: str | None  # the text as reported (its decimals count)
    p_value: str | None
    p_comparison: str | None
    status: str
    derivation: str

    @property
    def text(self) -> str:
        return f"{self.events}/{self.total}"


def _text(value: object) -> str:
    return "" if pd.isna(value) else str(value)


def _counts(ev: Evidence) -> list[CountRow]:
    """The count rows of outcomes.csv with events and total, their percent as the text in the file."""
    typed = ev.outcomes
    raw = read_csv(ev.folder / "outcomes.csv")  # the same rows in the same order, as text
    rows = typed[(typed["statistic"] == "count") & typed["events"].notna() & typed["total"].notna()]
    return [
        CountRow(
            line=int(i) + 2,
            study_id=r["study_id"],
            arm=r["arm"],
            outcome=r["outcome"],
            timepoint=r["timepoint"],
            population=r["population"],
            events=int(r["events"]),
            total=int(r["total"]),
            percent=_text(raw.at[i, "percent"]) or None,
            p_value=_text(r["p_value"]) or None,
            p_comparison=_text(r["p_comparison"]) or None,
            status=r["status"],
            derivation=_text(r["derivation"]),
        )
        for i, r in rows.iterrows()
    ]


def _neighbours(events: int, total: int) -> list[tuple[int, int]]:
    """Counts with events and total each moved by at most one (0 <= events <= total, total >= 1)."""
    return [
        (e, n)
        for n in (total - 1, total, total + 1)
        for e in (events - 1, events, events + 1)
        if (e, n) != (events, total) and n >= 1 and 0 <= e <= n
    ]


# ---------------------------------------------------------------------------
# Checks of one figure
# ---------------------------------------------------------------------------
def _percent_check(count: CountRow) -> FigureCheck:
    reported = parse_reported(count.percent)
    ok = percent_reproduces(count.events, count.total, reported)
    pins = ok and not any(percent_reproduces(e, n, reported) for e, n in _neighbours(count.events, count.total))
    return FigureCheck(
        figure="percent",
        reported=reported.text,
        rule=reported.rule(),
        recomputed=(("percent", float(Fraction(100 * count.events, count.total))),),
        reproduced_by=("percent",) if ok else (),
        pins=pins,
    )


def _reproducing(p: dict[str, float], reported: Reported) -> tuple[str, ...]:
    """The tests whose p-value reproduces the reported one, in the order of TESTS."""
    return tuple(t for t in TESTS if reported.reproduced_by(p[t]))


def _p_check(figure: str, count: CountRow, other: CountRow, p_text: str) -> FigureCheck:
    reported = parse_reported(p_text)
    p = p_values(count.events, count.total, other.events, other.total)
    by = _reproducing(p, reported)
    pins = bool(by) and not any(
        _reproducing(p_values(e, n, other.events, other.total), reported)
        for e, n in _neighbours(count.events, count.total)
    )
    return FigureCheck(
        figure=figure,
        reported=reported.text,
        rule=reported.rule(),
        compared_with=other.text,
        compared_line=other.line,
        recomputed=tuple((t, p[t]) for t in TESTS),
        reproduced_by=by,
        pins=pins,
    )


def _between_arm_checks(count: CountRow, counts: list[CountRow]) -> list[FigureCheck]:
    same = [
        c
        for c in counts
        if (c.study_id, c.outcome, c.timepoint, c.population)
        == (count.study_id, count.outcome, count.timepoint, count.population)
    ]
    arms = {c.arm for c in same}
    if len(same) != 2 or len(arms) != 2:
        return []  # not a two-arm comparison of one row per arm: which arms a p-value compares is unknown
    (other,) = [c for c in same if c is not count]
    texts = [c.p_value for c in (count, other) if c.p_comparison == "between_arms" and c.p_value]
    return [_p_check("p_between_arms", count, other, text) for text in dict.fromkeys(texts)]


def _baseline_checks(count: CountRow, counts: list[CountRow]) -> list[FigureCheck]:
    def same_series(c: CountRow) -> bool:
        return (c.study_id, c.arm, c.outcome, c.population) == (
            count.study_id,
            count.arm,
            count.outcome,
            count.population,
        )

    series = [c for c in counts if same_series(c) and c is not count]
    if count.timepoint != "baseline":
        baseline = [c for c in series if c.timepoint == "baseline"]
        if count.p_comparison != "vs_baseline" or not count.p_value or len(baseline) != 1:
            return []
        return [_p_check("p_vs_baseline", count, baseline[0], count.p_value)]
    return [
        _p_check("p_vs_baseline", count, later, later.p_value)
        for later in series
        if later.timepoint != "baseline" and later.p_comparison == "vs_baseline" and later.p_value
    ]


def _derived_column(derivation: str) -> str:
    """The column a derivation computes: 'total' when it says so first ('total = 30: …'), else 'events'."""
    return "total" if derivation.strip().lower().startswith("total") else "events"


def _quoted(check: FigureCheck, derivation: str) -> FigureCheck:
    """The check, marked when the derivation quotes its figure (a percentage as '55.17%')."""
    quoted = check.figure in ("percent", "percent_attainable") and f"{check.reported}%" in derivation
    return dataclasses.replace(check, input_of_derivation=quoted)


def _outcome_audit(count: CountRow, counts: list[CountRow]) -> DerivedCount:
    checks = [_percent_check(count)] if count.percent else []
    checks += _between_arm_checks(count, counts)
    checks += _baseline_checks(count, counts)
    checks = [_quoted(c, count.derivation) for c in checks]
    return DerivedCount(
        file="outcomes.csv",
        line=count.line,
        column=_derived_column(count.derivation),
        study_id=count.study_id,
        arm=count.arm,
        outcome=count.outcome,
        timepoint=count.timepoint,
        population=count.population,
        events=count.events,
        total=count.total,
        derivation=count.derivation,
        checks=tuple(checks),
    )


def _arm_checks(study_id: str, arm: str, population: str, n: int, counts: list[CountRow]) -> list[FigureCheck]:
    populations = SAME_POPULATION.get(population, (population,))
    checks = []
    for c in counts:
        if (c.study_id, c.arm, c.total) != (study_id, arm, n) or c.population not in populations or not c.percent:
            continue
        reported = parse_reported(c.percent)
        ok = percent_attainable(n, reported)
        nearest = min(range(n + 1), key=lambda e: abs(Fraction(100 * e, n) - reported.value))
        pins = ok and not any(percent_attainable(m, reported) for m in (n - 1, n + 1) if m >= 1)
        checks.append(
            FigureCheck(
                figure="percent_attainable",
                reported=reported.text,
                rule=reported.rule(),
                compared_with=f"{c.outcome}, {c.timepoint}, {c.population}",
                compared_line=c.line,
                recomputed=(("percent", float(Fraction(100 * nearest, n))),),
                reproduced_by=("percent",) if ok else (),
                pins=pins,
            )
        )
    return checks


# ---------------------------------------------------------------------------
# The audit
# ---------------------------------------------------------------------------
def audit_derived_counts(ev: Evidence) -> list[DerivedCount]:
    """Every derived count of outcomes.csv (count rows) and arms.csv, with its checks, in file and line order."""
    return list(memo(ev, "derived_audit", lambda: tuple(_audit(ev))))


def _audit(ev: Evidence) -> list[DerivedCount]:
    counts = _counts(ev)
    out = [_outcome_audit(c, counts) for c in counts if c.status == "derived"]
    arms = ev.arms
    for i, r in arms[(arms["status"] == "derived") & arms["n"].notna()].iterrows():
        n = int(r["n"])
        out.append(
            DerivedCount(
                file="arms.csv",
                line=int(i) + 2,
                column="n",
                study_id=r["study_id"],
                arm=r["arm"],
                outcome="",
                timepoint="",
                population=r["population"],
                events=None,
                total=n,
                derivation=_text(r["derivation"]),
                checks=tuple(
                    _quoted(c, _text(r["derivation"]))
                    for c in _arm_checks(r["study_id"], r["arm"], r["population"], n, counts)
                ),
            )
        )
    return out


def reported_p_checks(ev: Evidence) -> list[tuple[CountRow, FigureCheck]]:
    """The same p-value checks on counts that are both *reported* (the trials' own arithmetic, for calibration).

    Each comparison once: a between-arm p-value from the row that carries it, a p-value against
    baseline from the later row.
    """
    counts = _counts(ev)
    by_line = {c.line: c for c in counts}
    out = []
    for c in counts:
        if c.status != "reported" or not c.p_value:
            continue
        if c.p_comparison == "between_arms":
            checks = _between_arm_checks(c, counts)
        elif c.p_comparison == "vs_baseline" and c.timepoint != "baseline":
            checks = _baseline_checks(c, counts)
        else:
            continue
        out += [(c, k) for k in checks if by_line[k.compared_line].status == "reported" and k.reported == c.p_value]
    return out


# ---------------------------------------------------------------------------
# Validation: a derived count that reproduces none of its reported figures
# ---------------------------------------------------------------------------
def _fmt(value: float, digits: int) -> str:
    return "not defined" if value != value else f"{value:.{digits}f}"


def describe_check(check: FigureCheck) -> str:
    """One figure and what the count gives for it, e.g. 'p = 0.052 between arms vs 9/30 (Pearson χ² 0.0504, …)'."""
    digits = parse_reported(check.reported).decimals + 1
    if check.figure == "percent":
        return f"percent {check.reported} ({_fmt(check.recomputed[0][1], digits)}; needs {check.rule})"
    if check.figure == "percent_attainable":
        return (
            f"percent {check.reported} of line {check.compared_line} (nearest attainable "
            f"{_fmt(check.recomputed[0][1], digits)}; needs {check.rule})"
        )
    where = "between arms" if check.figure == "p_between_arms" else "against baseline"
    tests = ", ".join(f"{TEST_LABELS[t]} {_fmt(p, digits)}" for t, p in check.recomputed)
    against = f"{check.compared_with} (line {check.compared_line}: {tests}; needs {check.rule})"
    return f"p = {check.reported} {where} vs {against}"


def derived_count_problems(ev: Evidence, audit: list[DerivedCount] | None = None) -> list[Problem]:
    """A validation problem for every derived count that reproduces none of its reported figures."""
    return [
        Problem(
            d.file,
            d.line,
            d.key,
            d.column,
            d.total if d.column in ("total", "n") else d.events,
            f"a derived count ({d.count_text}) that reproduces at least one reported figure; it reproduces none of: "
            + "; ".join(describe_check(c) for c in d.checks),
            "derived_count_reproduces_a_reported_figure",
        )
        for d in (audit_derived_counts(ev) if audit is None else audit)
        if d.verdict == "none"
    ]


def check_derived_counts(ev: Evidence) -> int:
    """Raise DataValidationError when a derived count reproduces none of its figures; else how many were audited."""
    audit = audit_derived_counts(ev)
    problems = derived_count_problems(ev, audit)
    if problems:
        raise DataValidationError(problems)
    return len(audit)


def validate_with_audit() -> dict[str, int]:
    """Every table and the protocol (:func:`helpers.evidence.validate.validate_all`), then the derived counts.

    What ``python -m helpers validate`` and the book build run: row counts by name, or the first error.
    The audit needs the statistics layer, so it runs here, above the evidence layer.
    """
    from helpers.evidence.load import load_evidence
    from helpers.evidence.validate import validate_all

    counts = validate_all()
    counts["derived counts (audited)"] = check_derived_counts(load_evidence())
    return counts


__all__ = [
    "FIGURES",
    "VERDICTS",
    "DerivedCount",
    "CountRow",
    "FigureCheck",
    "audit_derived_counts",
    "check_derived_counts",
    "derived_count_problems",
    "describe_check",
    "reported_p_checks",
    "validate_with_audit",
]
