"""This book's totals and their reconciliation with the review's reported ones."""

from __future__ import annotations

import pandas as pd

from helpers.data import load_evidence
from helpers.reconciliation import book_totals, counted_patients, open_label_arithmetic, reconciliation_table
from tests.conftest import edit_file


def test_counted_patients_prefer_randomised_then_treated_then_enrolled():
    counted = counted_patients(load_evidence()).set_index(["study_id", "arm"])
    assert counted.loc[("he2020", "il2"), "n"] == 30  # randomised, not the 29 analysed
    assert counted.loc[("he2020", "il2"), "population"] == "randomised"
    assert counted.loc[("he2016", "il2"), "n"] == 40  # enrolled, not the 38 analysed
    assert counted.loc[("vonspeemayer2016", "il2"), "population"] == "treated"
    assert counted.loc[("lupil2", "placebo"), "status"] == "derived"
    assert pd.isna(counted.loc[("proimmun", "il2"), "n"])  # the registered target of 12 is not a count of patients
    assert "registered_target: 12" in counted.loc[("proimmun", "il2"), "note"]


def test_book_totals():
    t = book_totals(load_evidence())
    assert (t["studies_included"], t["studies_rct"], t["studies_open_label"]) == (5, 2, 3)
    assert (t["patients_il2_known"], t["patients_placebo_known"], t["patients_known"]) == (30 + 50 + 40 + 5, 30 + 50, 205)
    assert t["il2_unknown_studies"] == ["PRO-IMMUN"]


def test_reconciliation_shows_the_difference_not_a_forced_agreement():
    table = reconciliation_table(load_evidence()).set_index("Quantity")
    assert table.loc["Patients on placebo", ["Review", "This book", "Review minus this book"]].tolist() == [80, 80, 0]
    assert table.loc["Patients on low-dose IL-2", ["Review", "This book", "Review minus this book"]].tolist() == [150, 125, 25]
    assert table.loc["Studies", "Review minus this book"] == 1
    assert "PRO-IMMUN" in table.loc["Patients on low-dose IL-2", "Note"]


def test_open_label_arithmetic():
    steps = open_label_arithmetic(load_evidence())
    assert steps["Patients"].tolist()[:3] == [150, -80, 70]
    assert steps["Patients"].iloc[-1] == 70 - 40 - 5
    assert steps["Patients"].isna().sum() == 1  # PRO-IMMUN: size not reported, shown as such


def test_totals_follow_the_data(data_copy):
    edit_file(data_copy / "arms.csv", "vonspeemayer2016,il2,treated,5,", "vonspeemayer2016,il2,treated,6,")
    t = book_totals(load_evidence())
    assert t["patients_il2_known"] == 126
