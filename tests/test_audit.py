"""The audit of derived counts (helpers.review.derived_audit): real verdicts on data/, and SYNTHETIC trials.

The SYNTHETIC trial of these tests is appended to a copy of data/ (never to data/ itself) and
cites the synthetic bibliography entry of tests/synthetic.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.__main__ import main
from helpers.chapters.data_appendix import audit_table, audit_values
from helpers.evidence.load import DataValidationError, load_evidence
from helpers.paths import BIB_ENV_VAR
from helpers.review.add_study import todo
from helpers.review.derived_audit import (
    audit_derived_counts,
    check_derived_counts,
    derived_count_problems,
    reported_p_checks,
)
from tests import synthetic


@pytest.fixture(scope="module")
def audit():
    return {(d.file, d.line): d for d in audit_derived_counts(load_evidence())}


# ---------------------------------------------------------------------------
# The real data
# ---------------------------------------------------------------------------
def test_every_derived_count_of_the_data_is_audited(audit):
    """15 derived counts: 11 in outcomes.csv, 4 arm sizes; 11 reproduce all their figures, 4 some, none fails."""
    found = [
        (f, line, d.column, d.count_text, d.verdict, d.n_reproduced, len(d.checks)) for (f, line), d in audit.items()
    ]
    assert found == [
        ("outcomes.csv", 2, "events", "16/29", "all", 2, 2),
        ("outcomes.csv", 3, "events", "9/30", "all", 2, 2),
        ("outcomes.csv", 4, "events", "19/29", "all", 2, 2),
        ("outcomes.csv", 5, "events", "11/30", "all", 2, 2),
        ("outcomes.csv", 20, "total", "21/30", "all", 3, 3),
        ("outcomes.csv", 21, "total", "2/30", "all", 2, 2),
        ("outcomes.csv", 22, "total", "1/30", "all", 2, 2),
        ("outcomes.csv", 136, "events", "34/50", "some", 1, 2),
        ("outcomes.csv", 137, "events", "29/50", "some", 1, 2),
        ("outcomes.csv", 138, "events", "20/24", "some", 1, 2),
        ("outcomes.csv", 139, "events", "15/29", "some", 1, 2),
        ("arms.csv", 17, "n", "n = 50", "all", 1, 1),
        ("arms.csv", 18, "n", "n = 50", "all", 1, 1),
        ("arms.csv", 19, "n", "n = 24", "all", 1, 1),
        ("arms.csv", 20, "n", "n = 29", "all", 1, 1),
    ]
    assert derived_count_problems(load_evidence()) == []
    assert check_derived_counts(load_evidence()) == 15


def test_week_12_primary_p_is_the_n_minus_1_chi_square(audit):
    """16/29 vs 9/30, reported p = 0.052: Pearson gives 0.0504 (rounds to 0.050), only the N - 1 chi-square 0.0524."""
    percent, p = audit[("outcomes.csv", 2)].checks
    assert (percent.figure, percent.reported, percent.reproduced, percent.pins) == ("percent", "55.17", True, True)
    assert percent.input_of_derivation  # the derivation quotes 55.17%: the percentage was its input
    assert (p.figure, p.reported, p.compared_with, p.compared_line) == ("p_between_arms", "0.052", "9/30", 3)
    values = dict(p.recomputed)
    assert values["pearson"] == pytest.approx(0.050448081970384605, rel=1e-9)  # R chisq.test(correct = FALSE)
    assert values["n_minus_1"] == pytest.approx(0.052440898214590144, rel=1e-9)
    assert values["fisher"] == pytest.approx(0.067278508255884328, rel=1e-9)
    assert p.reproduced_by == ("n_minus_1",) and p.pins and not p.input_of_derivation
    # the placebo row is checked by the same p-value, carried on the IL-2 row
    assert audit[("outcomes.csv", 3)].checks[1].reproduced_by == ("n_minus_1",)


def test_week_24_p_is_the_pearson_chi_square(audit):
    """19/29 vs 11/30, reported p = 0.027: Pearson 0.0267; it pins 19/29 but not 11/30 (a neighbour fits too)."""
    il2, placebo = audit[("outcomes.csv", 4)].checks[1], audit[("outcomes.csv", 5)].checks[1]
    assert il2.reproduced_by == placebo.reproduced_by == ("pearson",)
    assert dict(il2.recomputed)["pearson"] == pytest.approx(0.026687756656293606, rel=1e-9)
    assert il2.pins and not placebo.pins


def test_lupil2_p_values_are_reproduced_by_no_test(audit):
    """34/50 vs 29/50 (p 0.3439) and 20/24 vs 15/29 (p 0.0168): no 2x2 test gives either; percentages fit."""
    for line, reported, pearson in ((136, "0.3439", 0.30038119539986108), (138, "0.0168", 0.015575194127094743)):
        percent, p = audit[("outcomes.csv", line)].checks
        assert percent.reproduced and percent.pins
        assert (p.reported, p.reproduced_by) == (reported, ())
        assert dict(p.recomputed)["pearson"] == pytest.approx(pearson, rel=1e-9)


def test_derived_totals_are_checked_against_baseline_p_values(audit):
    """BILAG A or 2B, IL-2 arm, total 30 (not the row label's 29): 70.00%, 6.67%, 3.33% pin it; '<0.001' does not."""
    baseline = audit[("outcomes.csv", 20)]
    assert [c.figure for c in baseline.checks] == ["percent", "p_vs_baseline", "p_vs_baseline"]
    assert [c.compared_with for c in baseline.checks[1:]] == ["2/30", "1/30"]
    for check in baseline.checks[1:]:
        assert check.reported == "<0.001" and check.reproduced_by == ("pearson", "yates", "n_minus_1", "fisher")
        assert not check.pins
    assert baseline.checks[0].pins


def test_derived_arm_sizes_are_checked_by_the_percentages_they_are_the_denominator_of(audit):
    itt = audit[("arms.csv", 17)].checks[0]
    assert (itt.figure, itt.reported, itt.compared_line, itt.reproduced, itt.pins) == (
        "percent_attainable",
        "68",
        136,
        True,
        True,
    )
    assert not itt.input_of_derivation  # '100 × 1/2 = 50': the percentage is an independent check
    assert audit[("arms.csv", 19)].checks[0].input_of_derivation


def test_the_trials_own_reported_p_values_calibrate_the_check():
    """Reported count pairs with a p-value: 26 of 36 reproduced, every one of them by Fisher's exact test."""
    checks = reported_p_checks(load_evidence())
    assert len(checks) == 36
    assert sum(k.reproduced for _, k in checks) == 26
    assert all("fisher" in k.reproduced_by for _, k in checks if k.reproduced)
    by_line = {row.line: k for row, k in checks}
    assert by_line[6].reported == "0.036" and by_line[6].reproduced_by == ()  # 7/13 vs 2/12: no test
    assert by_line[100].reproduced_by == ("fisher",)  # 27/30 vs 29/30, p = 0.612


def test_appendix_table_and_glued_counts():
    ev = load_evidence()
    table = audit_table(ev)
    assert list(table.columns) == [
        "Study",
        "Derived count (file, line)",
        "Count",
        "Reported percentage",
        "Reported p-value",
        "Verdict",
    ]
    assert len(table) == 15
    assert table["Verdict"].value_counts().to_dict() == {
        "All (2 of 2)": 6,
        "Some (1 of 2)": 4,
        "All (1 of 1)": 4,
        "All (3 of 3)": 1,
    }
    first = table.iloc[0]
    assert first["Count"] == "16/29 (events)"
    assert first["Reported p-value"].startswith("p = 0.052 vs placebo 9/30: reproduced by N − 1 χ² (0.0524); not by")
    assert table.iloc[7]["Reported p-value"].startswith("p = 0.3439 vs placebo 29/50: reproduced by no test")
    assert audit_values(ev) == {
        "audit_rule_example": "a p-value reported as 0.052 is reproduced by any value between 0.0515 and 0.0525",
        "audit_n_derived": "15",
        "audit_n_outcome_counts": "11",
        "audit_n_arm_sizes": "4",
        "audit_n_all": "11",
        "audit_n_some": "4",
        "audit_n_none": "0",
        "audit_n_no_figure": "0",
        "audit_n_with_p": "11",
        "audit_n_p_reproduced": "7",
        "audit_n_pinned_independently": "5",
        "audit_reported_p_n": "36",
        "audit_reported_p_reproduced": "26",
        "audit_reported_p_fisher": "26",
    }


# ---------------------------------------------------------------------------
# SYNTHETIC trials
# ---------------------------------------------------------------------------
SID = "synthetic_audit"


@pytest.fixture
def synthetic_data(data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(BIB_ENV_VAR, str(synthetic.synthetic_bib(data_copy.parent)))
    return data_copy


def _row(arm: str, events: str, total: str, percent: str, p: str = "", derivation: str = "") -> dict:
    return {
        "study_id": SID,
        "arm": arm,
        "outcome": "sri4",
        "timepoint": "week_12",
        "population": "itt",
        "statistic": "count",
        "events": events,
        "total": total,
        "percent": percent,
        "p_value": p,
        "p_comparison": "between_arms" if p else "",
        **synthetic.PROVENANCE,
        "status": "derived" if derivation else "reported",
        "derivation": derivation,
        "note": "SYNTHETIC",
    }


def add_trial(folder: Path, il2: dict, placebo: dict, arm_derivation: str = "") -> tuple[int, int]:
    """A SYNTHETIC two-arm trial, 40 per arm; returns the CSV lines of its IL-2 outcome row and IL-2 arm row."""
    synthetic._append(folder / "studies.csv", [synthetic._study(SID, "Synthetic audit", "1.0", "SYNTHETIC")])
    arm_status = {"status": "derived", "derivation": arm_derivation} if arm_derivation else {}
    synthetic._append(
        folder / "arms.csv",
        [
            {"study_id": SID, "arm": a, "role": a, "population": "randomised", "n": "40", **synthetic.PROVENANCE}
            | arm_status
            for a in ("il2", "placebo")
        ],
    )
    synthetic._append(folder / "outcomes.csv", [il2, placebo])
    synthetic._ratings(folder, SID)
    synthetic._context(folder, SID)
    lines = lambda name: len((folder / name).read_text(encoding="utf-8").splitlines())  # noqa: E731
    return lines("outcomes.csv") - 1, lines("arms.csv") - 1


def _ours(line: int, file: str = "outcomes.csv"):
    return next(d for d in audit_derived_counts(load_evidence()) if (d.file, d.line) == (file, line))


@pytest.mark.parametrize(
    "p, tests",
    [("0.18", ("pearson", "n_minus_1")), ("0.263", ("yates", "fisher")), ("0.1792", ("pearson",))],
)
def test_synthetic_derived_count_reproducing_everything(synthetic_data, p, tests):
    """SYNTHETIC: 22/40 vs 16/40 (Pearson 0.1792, N - 1 0.1819, Yates 0.2630, Fisher 0.2629)."""
    line, _ = add_trial(
        synthetic_data,
        _row("il2", "22", "40", "55.00", p, derivation="SYNTHETIC: events = 55.00% × 40 = 22"),
        _row("placebo", "16", "40", "40.00"),
    )
    d = _ours(line)
    assert d.verdict == "all" and [c.reproduced_by for c in d.checks] == [("percent",), tests]


def test_synthetic_derived_count_reproducing_some(synthetic_data):
    line, _ = add_trial(
        synthetic_data,
        _row("il2", "22", "40", "55.00", "0.050", derivation="SYNTHETIC: events = 55.00% × 40 = 22"),
        _row("placebo", "16", "40", "40.00"),
    )
    d = _ours(line)
    assert (d.verdict, d.n_reproduced, len(d.checks)) == ("some", 1, 2)
    assert derived_count_problems(load_evidence()) == []


def test_synthetic_derived_count_reproducing_nothing_fails_validation(synthetic_data, capsys):
    """SYNTHETIC: 22/40 = 55.00%, reported 55.04 (within the schema's 0.051 points, not at two decimals), p 0.900."""
    line, _ = add_trial(
        synthetic_data,
        _row("il2", "22", "40", "55.04", "0.900", derivation="SYNTHETIC: events = 55.04% × 40 = 22.0 → 22"),
        _row("placebo", "16", "40", "40.00"),
    )
    ev = load_evidence()  # the tables themselves are valid
    assert _ours(line).verdict == "none"
    with pytest.raises(DataValidationError) as info:
        check_derived_counts(ev)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.column, problem.value) == ("outcomes.csv", line, "events", 22)
    assert problem.rule == "derived_count_reproduces_a_reported_figure"
    assert problem.key == f"study_id={SID}, arm=il2, outcome=sri4, timepoint=week_12, population=itt"
    assert "percent 55.04 (55.000; needs between 55.035 and 55.045)" in problem.expected
    assert "p = 0.900 between arms vs 16/40 (line" in problem.expected
    assert "Pearson χ² 0.1792" in problem.expected and "needs between 0.8995 and 0.9005" in problem.expected
    message = str(info.value)
    assert f"outcomes.csv, line {line} (study_id={SID}" in message and "column 'events': found 22; expected" in message

    assert main(["validate"]) == 1
    assert f"outcomes.csv, line {line}" in capsys.readouterr().err
    assert [(p.file, p.line, p.column) for p in todo() if p.rule == problem.rule] == [("outcomes.csv", line, "events")]


def test_synthetic_derived_total_is_blamed_on_the_total(synthetic_data):
    line, _ = add_trial(
        synthetic_data,
        _row("il2", "22", "40", "55.04", "0.900", derivation="total = 40: SYNTHETIC"),
        _row("placebo", "16", "40", "40.00"),
    )
    (problem,) = derived_count_problems(load_evidence())
    assert (problem.line, problem.column, problem.value) == (line, "total", 40)


def test_synthetic_derived_count_without_a_figure_is_not_a_failure(synthetic_data):
    line, _ = add_trial(
        synthetic_data,
        _row("il2", "22", "40", "", derivation="SYNTHETIC: events from a figure not in the data"),
        _row("placebo", "16", "40", ""),
    )
    d = _ours(line)
    assert (d.verdict, d.checks) == ("no figure", ())
    assert derived_count_problems(load_evidence()) == []


def test_synthetic_derived_arm_size_whose_percentage_is_not_attainable_fails(synthetic_data):
    """SYNTHETIC: arm size 40 derived; its outcome row reports 55.04%, which no count of 40 gives at two decimals."""
    _, arm_line = add_trial(
        synthetic_data,
        _row("il2", "22", "40", "55.04"),
        _row("placebo", "16", "40", "40.00"),
        arm_derivation="SYNTHETIC: 80 randomised 1:1 → 40 per arm",
    )
    arm = _ours(arm_line, "arms.csv")
    assert arm.verdict == "none" and arm.checks[0].figure == "percent_attainable"
    placebo = _ours(arm_line + 1, "arms.csv")
    assert placebo.verdict == "all" and placebo.checks[0].pins  # 40.00% needs a multiple of 5: not 39 or 41
    (problem,) = derived_count_problems(load_evidence())
    assert (problem.file, problem.line, problem.column, problem.value) == ("arms.csv", arm_line, "n", 40)
    assert "percent 55.04 of line" in problem.expected and "nearest attainable 55.000" in problem.expected
