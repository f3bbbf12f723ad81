"""This book's totals and their reconciliation with the review's reported ones."""

from __future__ import annotations

from helpers.evidence.load import load_evidence
from helpers.review.claims import failures
from helpers.review.reconciliation import book_totals, counted_patients, open_label_arithmetic, reconciliation_table
from tests.conftest import edit_file


def test_counted_patients_prefer_randomised_then_treated_then_enrolled():
    counted = counted_patients(load_evidence()).set_index(["study_id", "arm"])
    assert counted.loc[("he2020", "il2"), "n"] == 30  # randomised, not the 29 analysed
    assert counted.loc[("he2020", "il2"), "population"] == "randomised"
    assert counted.loc[("he2016", "il2"), "n"] == 40  # enrolled, not the 38 analysed
    assert counted.loc[("vonspeemayer2016", "il2"), "population"] == "treated"
    assert counted.loc[("lupil2", "placebo"), "status"] == "derived"
    assert counted.loc[("proimmun", "il2"), "n"] == 12  # treated (N1; N2: 10 enrolled + 2 off-label), not the target
    assert counted.loc[("proimmun", "il2"), "population"] == "treated"


def test_book_totals():
    t = book_totals(load_evidence())
    assert (t["studies_included"], t["studies_rct"], t["studies_open_label"]) == (5, 2, 3)
    assert (t["patients_il2_known"], t["patients_placebo_known"], t["patients_known"]) == (
        30 + 50 + 40 + 5 + 12,
        30 + 50,
        217,
    )
    assert t["il2_unknown_studies"] == []


def test_reconciliation_shows_the_difference_not_a_forced_agreement():
    table = reconciliation_table(load_evidence()).set_index("Quantity")
    assert table.loc["Patients on placebo", ["Review", "This book", "Review minus this book"]].tolist() == [80, 80, 0]
    assert table.loc["Patients on low-dose IL-2", ["Review", "This book", "Review minus this book"]].tolist() == [
        150,
        137,
        13,
    ]
    assert table.loc["Studies", "Review minus this book"] == 1


def test_open_label_arithmetic():
    steps = open_label_arithmetic(load_evidence())
    assert steps["Patients"].tolist()[:3] == [150, -80, 70]
    assert steps["Patients"].iloc[-1] == 70 - 40 - 5 - 12  # 13: the size the review's unidentified study would need
    assert steps["Patients"].notna().all()


def test_unknown_size_is_shown_not_counted_as_zero(data_copy):
    edit_file(
        data_copy / "arms.csv",
        "vonspeemayer2016,il2,il2,,treated,5,reported,vonspeemayer2016,abstract,S12,,",
        "vonspeemayer2016,il2,il2,,treated,,not_reported,vonspeemayer2016,abstract,S12,,size withheld for the test",
    )
    ev = load_evidence()
    assert book_totals(ev)["il2_unknown_studies"] == ["von Spee-Mayer 2016"]
    steps = open_label_arithmetic(ev)
    assert steps["Patients"].isna().sum() == 1
    assert (
        "von Spee-Mayer 2016 (size not reported)"
        in reconciliation_table(ev).set_index("Quantity").loc["Patients on low-dose IL-2", "Note"]
    )


def test_proimmun_counts_its_treated_patients_else_those_enrolled(data_copy):
    """PRO-IMMUN treated 12: 10 enrolled in the trial and 2 off-label (N2). The book counts the 12; without the
    treated size it would fall back to the 10 enrolled, and the prisma chapter's sentence saying it counts all the
    treated patients would then fail by name."""
    counted = counted_patients(load_evidence()).set_index(["study_id", "arm"])
    assert (counted.loc[("proimmun", "il2"), "n"], counted.loc[("proimmun", "il2"), "population"]) == (12, "treated")
    edit_file(
        data_copy / "arms.csv",
        "proimmun,il2,il2,,treated,12,reported,humrich2020congress; humrich2016acr,",
        "proimmun,il2,il2,,treated,,not_reported,humrich2020congress; humrich2016acr,",
    )
    edit_file(
        data_copy / "arms.csv", 'same regimen)",N1; N2,,\n', 'same regimen)",N1; N2,,size withheld for the test\n'
    )
    ev = load_evidence()
    counted = counted_patients(ev).set_index(["study_id", "arm"])
    assert (counted.loc[("proimmun", "il2"), "n"], counted.loc[("proimmun", "il2"), "population"]) == (10, "enrolled")
    assert "proimmun_attribution" in failures(ev, "prisma")


def test_totals_follow_the_data(data_copy):
    edit_file(data_copy / "arms.csv", "vonspeemayer2016,il2,il2,,treated,5,", "vonspeemayer2016,il2,il2,,treated,6,")
    t = book_totals(load_evidence())
    assert t["patients_il2_known"] == 138


def test_reconstruction_scenarios_enumerate_every_count_and_the_overlap():
    from helpers.review.reconciliation import reconstruction_scenarios

    t = reconstruction_scenarios(load_evidence())
    assert t.attrs == {"target": 70, "missing_studies": 1}  # 150 - (30 + 50); 4 open-label in the review, 3 here
    # He 2016 40 or 38; PRO-IMMUN 12 treated or 10 enrolled; von Spee-Mayer 5 or left out (its reason says overlap)
    assert len(t) == 8
    assert t["Left for the review's other open-label studies"].tolist() == [13, 15, 15, 17, 18, 20, 20, 22]
    first = t.iloc[0]
    assert first["Open-label studies counted"] == (
        "He 2016 40 (enrolled); von Spee-Mayer 2016 5 (treated); PRO-IMMUN 12 (treated)"
    )
    assert first["Sum"] == 57
    # Charact-IL-2 enrolled 16: no scenario leaves exactly 16
    assert set(t["Candidate studies of exactly that size"]) == {"none"}


def test_selection_flow_groups_every_study_once():
    from helpers.report.selection_flow import flow_layout, selection_flow_alt, selection_flow_figure
    from helpers.review.reconciliation import selection_groups

    ev = load_evidence()
    groups, considered = selection_groups(ev)
    assert considered == len(ev.studies) == sum(len(v) for v in groups.values())
    assert groups["Included (reconstructed)"] == ["He 2016", "von Spee-Mayer 2016", "PRO-IMMUN", "He 2020", "LUPIL-2"]
    boxes = flow_layout(groups, considered)
    assert [b.title for b in boxes] == [
        "Studies considered (n = 18)",
        "Included (reconstructed) (n = 5)",
        "Candidates, not included (n = 6)",
        "Excluded (n = 7)",
    ]
    assert [round(b.centre, 3) for b in boxes] == [0.5, 0.175, 0.51, 0.845]  # three columns under a centred box
    assert boxes[1].lines == ("He 2016", "von Spee-Mayer 2016", "PRO-IMMUN", "He 2020", "LUPIL-2")
    fig = selection_flow_figure(groups, considered)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("LUPIL-2" in t for t in texts) and any("NCT04077684" in t for t in texts)
    assert selection_flow_alt(groups, considered).startswith(
        "Flow diagram: 18 studies considered, divided into three groups. Included (reconstructed), 5: He 2016"
    )
