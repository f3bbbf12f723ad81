"""``python -m helpers add-study``: the rows a new study needs, empty until filled from a source.

Every test works on a copy of data/ (the ``data_copy`` fixture). The trial filled in at the end
is SYNTHETIC and cites the synthetic bibliography entry of tests/synthetic.py.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.__main__ import main
from helpers.evidence.clinical_tables import load_study_context
from helpers.evidence.load import DataValidationError, load_evidence
from helpers.evidence.rob_tables import load_risk_of_bias
from helpers.evidence.validate import validate_all
from helpers.paths import BIB_ENV_VAR
from helpers.review.add_study import AddStudyError, add_study, format_todo, new_study, role_of, todo
from helpers.review.analyses import analysis
from helpers.review.selection import two_arm_counts
from tests import synthetic

NEW = "synthetic_added2026"
LABEL = "SYNTHETIC Added 2026"
FILES = ("studies.csv", "arms.csv", "outcomes.csv", "risk_of_bias.csv", "study_context.csv")


@pytest.fixture
def synthetic_data(data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of data/ whose bibliography also holds the synthetic entry the filled-in rows cite."""
    monkeypatch.setenv(BIB_ENV_VAR, str(synthetic.synthetic_bib(data_copy.parent)))
    return data_copy


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def counts(folder: Path) -> dict[str, int]:
    return {name: len(rows(folder, name)) for name in FILES}


def fill(folder: Path, name: str, values: Callable[[dict[str, str]], dict[str, str]]) -> None:
    """Rewrite the new study's rows of one file with ``values(row)`` (as an author filling the cells would)."""
    with (folder / name).open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    table = rows(folder, name)
    for row in table:
        if row["study_id"] == NEW:
            row.update(values(row))
    with (folder / name).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def provenance(**extra: str) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda row: {**synthetic.PROVENANCE, **extra}


STUDY = provenance(
    citation_key=synthetic.SYNTHETIC_KEY,
    design_detail="SYNTHETIC test fixture",
    registration="SYNTHETIC-0001",
    population="SYNTHETIC",
    agent="aldesleukin",
    dose_miu="1.0",
    frequency="every other day",
    cycles="3",
    duration="12 weeks",
    regimen_group="every_other_day",
    inclusion_reason="SYNTHETIC test fixture: not a real trial",
    published=synthetic.REVIEW_WINDOW_DATE,
)
ARMS = provenance(n="40")
#: SYNTHETIC SRI-4 responders at week 12, of 40 per arm
RESPONDERS = {"il2": 22, "placebo": 16}
OUTCOMES = lambda row: {**synthetic.PROVENANCE, "events": str(RESPONDERS[row["arm"]]), "total": "40"}  # noqa: E731
RATINGS = provenance(answer="yes", rationale="SYNTHETIC test fixture (S1): not a real trial")
#: SYNTHETIC study-context facts: a whole number of injections per cycle, a Yes/No answer for refractory disease
CONTEXT = lambda row: {  # noqa: E731
    **synthetic.PROVENANCE,
    "value": {"injections_per_cycle": "7", "refractory": "No: SYNTHETIC"}.get(row["fact"], "SYNTHETIC"),
}


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def new_lines(folder: Path, name: str) -> set[int]:
    """CSV line numbers (header = 1) of the new study's rows in one file."""
    return {i for i, row in enumerate(rows(folder, name), start=2) if row["study_id"] == NEW}


# ---------------------------------------------------------------------------
# What the command writes
# ---------------------------------------------------------------------------
def test_writes_the_rows_a_randomised_trial_needs(data_copy, capsys):
    before = counts(data_copy)
    code, out, _ = run(capsys, "add-study", NEW, "--label", LABEL)
    assert code == 0
    after = counts(data_copy)
    assert {k: after[k] - before[k] for k in FILES} == {
        "studies.csv": 1,
        "arms.csv": 2,
        "outcomes.csv": 2,
        "risk_of_bias.csv": 27,
        "study_context.csv": 8,
    }
    study = rows(data_copy, "studies.csv")[-1]
    assert (study["study_id"], study["label"], study["design"], study["inclusion_status"]) == (
        NEW,
        LABEL,
        "rct",
        "included",
    )
    assert study["status"] == "reported" and not any(
        study[c] for c in ("citation_key", "regimen_group", "source", "locator", "evidence_ref", "na_reason")
    )
    arms = [(r["arm"], r["role"], r["population"], r["n"], r["na_reason"]) for r in rows(data_copy, "arms.csv")[-2:]]
    assert arms == [("il2", "il2", "randomised", "", ""), ("placebo", "placebo", "randomised", "", "")]
    # the primary analysis of protocol.yml: SRI-4 at week 12, first preferred population (itt), counts
    outcomes = rows(data_copy, "outcomes.csv")[-2:]
    assert [(r["arm"], r["outcome"], r["timepoint"], r["population"], r["statistic"]) for r in outcomes] == [
        ("il2", "sri4", "week_12", "itt", "count"),
        ("placebo", "sri4", "week_12", "itt", "count"),
    ]
    assert all(r["events"] == r["total"] == r["na_reason"] == "" for r in outcomes)
    ratings = rows(data_copy, "risk_of_bias.csv")[-27:]
    assert [r["item"] for r in ratings] == [str(i) for i in range(1, 28)]
    assert all(r["study_id"] == NEW and r["answer"] == r["rationale"] == r["source"] == "" for r in ratings)
    context = rows(data_copy, "study_context.csv")[-8:]
    assert [r["fact"] for r in context] == [
        "setting",
        "entry_criteria",
        "refractory",
        "background_therapy",
        "glucocorticoid_taper",
        "product",
        "sponsor",
        "injections_per_cycle",
    ]
    assert all(r["study_id"] == NEW and r["value"] == r["source"] == "" and r["status"] == "reported" for r in context)
    # it says what it wrote, then the to-do list
    lines = {name: sorted(new_lines(data_copy, name)) for name in FILES}
    assert f"studies.csv       line {lines['studies.csv'][0]} " in out
    assert f"risk_of_bias.csv  lines {lines['risk_of_bias.csv'][0]}-{lines['risk_of_bias.csv'][-1]} " in out
    assert "To do: " in out and f"studies.csv, line {lines['studies.csv'][0]} (study_id={NEW})" in out


def test_other_designs_arms_and_roles(data_copy, capsys):
    code, _, _ = run(capsys, "add-study", "newsingle", "--design", "open_label", "--label", "SYNTHETIC single arm")
    assert code == 0
    arms = [r for r in rows(data_copy, "arms.csv") if r["study_id"] == "newsingle"]
    assert [(r["arm"], r["role"], r["population"]) for r in arms] == [("il2", "il2", "enrolled")]
    assert not [r for r in rows(data_copy, "outcomes.csv") if r["study_id"] == "newsingle"]  # not a pooled design
    assert len([r for r in rows(data_copy, "risk_of_bias.csv") if r["study_id"] == "newsingle"]) == 27
    assert len([r for r in rows(data_copy, "study_context.csv") if r["study_id"] == "newsingle"]) == 8

    code, _, _ = run(capsys, "add-study", "newdoses", "--arms", "il2_low,il2_high,soc", "--role", "soc=conventional")
    assert code == 0
    arms = [(r["arm"], r["role"]) for r in rows(data_copy, "arms.csv") if r["study_id"] == "newdoses"]
    assert arms == [("il2_low", "il2"), ("il2_high", "il2"), ("soc", "conventional")]
    assert len([r for r in rows(data_copy, "outcomes.csv") if r["study_id"] == "newdoses"]) == 3

    code, _, _ = run(capsys, "add-study", "newcandidate", "--inclusion", "candidate")
    assert code == 0  # only included studies are rated
    assert not [r for r in rows(data_copy, "risk_of_bias.csv") if r["study_id"] == "newcandidate"]


def test_roles_from_names_or_given():
    assert [role_of(a) for a in ("il2", "il2_0_5miu", "placebo", "conventional_therapy")] == [
        "il2",
        "il2",
        "placebo",
        "conventional",
    ]
    assert role_of("soc", {"soc": "conventional"}) == "conventional"
    with pytest.raises(AddStudyError, match="--role soc=ROLE"):
        role_of("soc")
    with pytest.raises(AddStudyError, match="expected a role among"):
        new_study("x2026", arms=["il2", "soc"], roles={"soc": "standard_care"})
    with pytest.raises(AddStudyError, match="not one of the arms"):
        new_study("x2026", roles={"soc": "conventional"})
    with pytest.raises(AddStudyError, match="given twice"):
        new_study("x2026", arms=["il2", "il2"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["he2020"], "study id 'he2020' already exists (in studies.csv, arms.csv, outcomes.csv, risk_of_bias.csv"),
        (["Smith2026"], "study id 'Smith2026': expected lowercase letters"),
        (["2026smith"], "study id '2026smith': expected lowercase letters"),
        (["smith-2026"], "study id 'smith-2026': expected lowercase letters"),
        (["smith2026", "--arms", "il2,IL2 high"], "arm 'IL2 high': expected an id"),
        (["smith2026", "--arms", "il2,soc"], "arm 'soc': its role cannot be read from its name"),
        (["smith2026", "--role", "placebo"], "--role placebo: expected ARM=ROLE"),
    ],
)
def test_refuses_existing_and_bad_ids(data_copy, capsys, argv, message):
    before = {name: (data_copy / name).read_bytes() for name in FILES}
    code, out, err = run(capsys, "add-study", *argv)
    assert code == 1 and out == ""
    assert err.startswith("add-study: ") and message in err
    assert {name: (data_copy / name).read_bytes() for name in FILES} == before


def test_refuses_an_id_left_in_any_table(data_copy):
    with (data_copy / "risk_of_bias.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{NEW},1,yes,S1,reported,x,y,S1,,\n")
    with pytest.raises(AddStudyError, match=f"'{NEW}' already exists \\(in risk_of_bias.csv"):
        add_study(new_study(NEW), data_copy)


def test_dry_run_prints_the_rows_and_writes_nothing(data_copy, capsys):
    before = {name: (data_copy / name).read_bytes() for name in FILES}
    code, out, _ = run(capsys, "add-study", NEW, "--label", LABEL, "--dry-run")
    assert code == 0
    assert {name: (data_copy / name).read_bytes() for name in FILES} == before
    assert "nothing written" in out
    for name in FILES:
        assert f"# {name}\n" + (data_copy / name).read_text(encoding="utf-8").splitlines()[0] in out
    assert f"{NEW},{LABEL},,rct," in out
    assert f"{NEW},placebo,sri4,week_12,itt,count," in out
    assert out.count(f"\n{NEW},") == 1 + 2 + 2 + 27 + 8


# ---------------------------------------------------------------------------
# Validation is the to-do list
# ---------------------------------------------------------------------------
def test_validation_names_every_new_row_until_filled(synthetic_data):
    folder = synthetic_data
    add_study(new_study(NEW, label=LABEL), folder)
    lines = {name: new_lines(folder, name) for name in FILES}

    # The whole to-do list at once: every new row of the four files, by file, line and column.
    problems = todo()
    assert {p.file for p in problems} == set(FILES)
    for name in FILES:
        assert {p.line for p in problems if p.file == name} == lines[name], name
    named = {(p.file, p.column) for p in problems}
    assert {("studies.csv", c) for c in ("citation_key", "regimen_group", "inclusion_reason", "source")} <= named
    assert {("arms.csv", c) for c in ("source", "locator", "evidence_ref")} <= named
    assert {("outcomes.csv", c) for c in ("source", "locator", "evidence_ref")} <= named
    assert {("risk_of_bias.csv", c) for c in ("answer", "rationale", "source", "locator", "evidence_ref")} <= named
    assert {("study_context.csv", c) for c in ("source", "locator", "evidence_ref")} <= named
    assert all(p.value is None for p in problems)  # empty cells, shown as such
    text = format_todo(problems)
    assert "columns 'answer', 'rationale', 'source', 'locator', 'evidence_ref': found empty cells" in text

    # The build's own validation names them too, one table at a time: filling each file moves it on.
    def failing(load) -> set[tuple[str, int | None, str | None]]:
        with pytest.raises(DataValidationError) as info:
            load()
        return {(p.file, p.line, p.column) for p in info.value.problems}

    assert {(f, line) for f, line, _ in failing(load_evidence)} == {("studies.csv", n) for n in lines["studies.csv"]}
    # the required cells and the provenance only: the empty values (dose, registration...) now need their reasons
    fill(
        folder,
        "studies.csv",
        provenance(
            citation_key=synthetic.SYNTHETIC_KEY,
            regimen_group="every_other_day",
            inclusion_reason="SYNTHETIC test fixture: not a real trial",
        ),
    )
    assert failing(load_evidence) == {
        ("studies.csv", line, column) for line in lines["studies.csv"] for column in ("na_reason", "published")
    }, "an empty value needs its reason, and an included study its publication date (its window)"
    fill(folder, "studies.csv", STUDY)
    assert {(f, line) for f, line, _ in failing(load_evidence)} == {("arms.csv", n) for n in lines["arms.csv"]}
    fill(folder, "arms.csv", provenance())
    assert failing(load_evidence) == {("arms.csv", line, "na_reason") for line in lines["arms.csv"]}
    fill(folder, "arms.csv", ARMS)
    assert {(f, line) for f, line, _ in failing(load_evidence)} == {("outcomes.csv", n) for n in lines["outcomes.csv"]}
    fill(folder, "outcomes.csv", provenance())
    assert failing(load_evidence) == {
        ("outcomes.csv", line, column) for line in lines["outcomes.csv"] for column in ("events", "na_reason")
    }
    fill(folder, "outcomes.csv", OUTCOMES)
    ev = load_evidence()
    assert failing(lambda: load_risk_of_bias(ev)) == {
        ("risk_of_bias.csv", line, column)
        for line in lines["risk_of_bias.csv"]
        for column in ("answer", "rationale", "source", "locator", "evidence_ref")
    }
    # the study-context facts: the provenance first, then each empty value needs its reason
    assert {(f, line) for f, line, _ in failing(lambda: load_study_context(ev))} == {
        ("study_context.csv", n) for n in lines["study_context.csv"]
    }
    fill(folder, "study_context.csv", provenance())
    assert failing(lambda: load_study_context(ev)) == {
        ("study_context.csv", line, "na_reason") for line in lines["study_context.csv"]
    }
    fill(folder, "study_context.csv", CONTEXT)
    assert len(load_study_context(ev)) == len(rows(folder, "study_context.csv"))


def test_several_il2_arms_need_their_doses(synthetic_data):
    add_study(new_study(NEW, arms=["il2_low", "il2_high", "placebo"], label=LABEL), synthetic_data)
    fill(synthetic_data, "studies.csv", STUDY)
    fill(synthetic_data, "arms.csv", ARMS)
    lines = sorted(new_lines(synthetic_data, "arms.csv"))
    problems = [p for p in todo() if p.file == "arms.csv"]
    assert {(p.line, p.column, p.rule) for p in problems} == {
        (lines[0], "dose_miu", "dose_of_each_il2_arm"),
        (lines[1], "dose_miu", "dose_of_each_il2_arm"),
    }


def test_filled_trial_validates_and_enters_the_primary_analysis(synthetic_data, capsys):
    code, _, _ = run(capsys, "add-study", NEW, "--label", LABEL)
    assert code == 0
    for name, values in zip(FILES, (STUDY, ARMS, OUTCOMES, RATINGS, CONTEXT)):
        fill(synthetic_data, name, values)

    assert todo() == []
    counts_valid = validate_all()
    assert counts_valid["risk_of_bias"] == len(rows(synthetic_data, "risk_of_bias.csv"))
    code, out, _ = run(capsys, "validate", "--all")
    assert code == 0 and "studies: " in out and "rows, valid" in out

    ev = load_evidence()
    primary = analysis(ev, "sri4_week12_rct")
    assert (NEW, "itt") in primary.populations
    assert primary.k == 3  # the two real randomised trials and the new one
    new = two_arm_counts(ev, primary).set_index("study_id").loc[NEW]
    assert (new["label"], new["events_il2"], new["total_il2"], new["events_control"], new["total_control"]) == (
        LABEL,
        22,
        40,
        16,
        40,
    )
