"""Treg chapter logic: qualitative table, regimen view, Treg-clinical pairs, and the SMC gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from helpers.evidence.load import load_evidence
from helpers.report.prose import NOT_REPORTED
from helpers.review import treg
from helpers.review.analyses import RESULT_COLUMNS


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


def test_scope_is_the_included_studies_then_candidates_with_a_treg_row(ev):
    labels = treg.scope_studies(ev)["label"].tolist()
    assert labels[:5] == ["He 2016", "von Spee-Mayer 2016", "PRO-IMMUN", "He 2020", "LUPIL-2"]
    assert set(labels[5:]) == {"TRANSREG (SLE subgroup)", "JICR 2019 (lupus nephritis)"}
    assert treg.pairs_table(ev)["Study"].iloc[-1] == "JICR 2019 (lupus nephritis), candidate"


def test_no_treg_value_is_invented(ev):
    """No source gives Treg values: every value cell reads 'not reported'."""
    table = treg.treg_table(ev)
    assert (table["Values (baseline; follow-up; fold change)"] == NOT_REPORTED).all()
    assert (treg.regimen_table(ev)["Treg values"] == NOT_REPORTED).all()
    he2020 = table.set_index("Study").loc["He 2020"]
    assert he2020["Finding (IL-2 arm)"].startswith("Increase.")
    assert he2020["Treg measure (as the source names it)"] == treg.MEASURE_NOT_STATED
    proimmun = table.set_index("Study").loc["PRO-IMMUN"]
    assert proimmun["Treg measure (as the source names it)"].startswith(
        "Share of CD25-high cells among CD3+CD4+Foxp3+CD127lo Treg"
    ) and proimmun["Treg measure (as the source names it)"].endswith("[N2; S13]")
    # a count of patients with a rise (N2), not a value: the values column still reads 'not reported'
    assert proimmun["Finding (IL-2 arm)"].startswith("Increase in 12/12 (100.0%) patients; p <0.001 against baseline.")


def test_regimen_view_groups_studies_by_schedule(ev):
    view = treg.regimen_table(ev)
    groups = view.groupby("Regimen group", sort=False)["Study"].apply(list).to_dict()
    assert groups["Every other day, in cycles"] == ["He 2016", "He 2020"]
    assert "LUPIL-2" in groups["Daily for 5 days (then maintenance or repeat courses)"]
    lupil = view.set_index("Study").loc["LUPIL-2"]
    assert (lupil["Dose per injection"], lupil["Treg response"]) == ("1.5 MIU", "Not reported")
    assert view.set_index("Study").loc["He 2016", "Treg response"] == "Increase reported"
    assert view.set_index("Study").loc["PRO-IMMUN", "Dose per injection"] == "0.75–3 MIU"  # a range, not one dose


def test_treg_clinical_pairs(ev):
    pairs = treg.clinical_pairs(ev).set_index("study_id")
    assert pairs["both_reported"].to_dict() == {
        "he2016": True,
        "vonspeemayer2016": False,
        "proimmun": True,
        "he2020": True,
        "lupil2": False,
        "transreg": False,
        "jicr2019": True,
    }
    assert pairs.loc["he2020", "clinical_text"].startswith(
        "SRI-4 response at week 12: 16/29 (55.2%) with IL-2 vs 9/30 (30.0%) with placebo"
    )
    assert pairs.loc["he2016", "clinical_outcome"] == "sri_unspecified"  # its SRI-4 at week 12 is not reported
    assert pairs.loc["jicr2019", "clinical_text"].endswith("55.6% (n not reported) with IL-2")
    assert pairs.loc["lupil2", "treg_direction"] == NOT_REPORTED
    # PRO-IMMUN has no SRI: its preferred clinical response is the fall in SLEDAI (N2), not the undefined response
    assert pairs.loc["proimmun", "clinical_text"] == "SLEDAI reduction (any) over the trial: 10/12 (83.3%) with IL-2"


def test_no_pooled_smc_without_two_studies_with_numbers(ev):
    status = treg.smc_status(ev)
    assert status["k"] == 0 and not status["possible"]
    assert status["reason"].startswith("no study gives") and "at least 2" in status["reason"]
    results = treg.treg_results(ev)
    assert list(results.columns) == RESULT_COLUMNS and results.empty


def test_pooled_smc_by_hand_when_numbers_exist():
    """SMCR = c(n-1)(m_post - m_pre)/sd_pre, vi = 2(1-r)/n + yi²/(2n); common-effect pooling by hand."""
    inputs = pd.DataFrame({"m_pre": [4.0, 5.0], "sd_pre": [1.5, 2.0], "m_post": [7.0, 6.5], "n": [20, 30]})
    r = 0.5
    n = inputs["n"].to_numpy(float)
    c = np.exp(special.gammaln((n - 1) / 2) - np.log(np.sqrt((n - 1) / 2)) - special.gammaln((n - 2) / 2))
    y = c * (inputs["m_post"] - inputs["m_pre"]).to_numpy() / inputs["sd_pre"].to_numpy()
    v = 2 * (1 - r) / n + y**2 / (2 * n)
    w = 1 / v
    res = treg.pooled_smc(inputs, ri=r, method="FE")
    assert res.estimate == pytest.approx(np.sum(w * y) / np.sum(w), rel=1e-10)
    assert res.se == pytest.approx(np.sqrt(1 / np.sum(w)), rel=1e-10)
    with pytest.raises(ValueError, match="at least 2"):
        treg.pooled_smc(inputs.iloc[:1])


def test_smc_inputs_read_mean_sd_rows(data_copy, edit):
    """Two studies with baseline and week-12 Treg means and SDs make a pooled SMC possible."""
    extra = "".join(
        f"{s},il2,treg_pct_cd4,{tp},{pop},mean_sd,,{n},,{m},{sd},,,,,,,reported,{key},test row,S1,,,,\n"
        for s, pop, key, n, rows in [
            ("he2016", "enrolled", "he2016", 40, [("baseline", 5.0, 1.0), ("week_12", 8.0, 2.0)]),
            ("he2020", "analysed_efficacy", "he2020", 29, [("baseline", 4.0, 1.5), ("week_12", 6.0, 2.0)]),
        ]
        for tp, m, sd in rows
    )
    with (data_copy / "outcomes.csv").open("a", encoding="utf-8") as fh:
        fh.write(extra)
    ev = load_evidence()
    inputs = treg.smc_inputs(ev)
    assert sorted(inputs["study_id"]) == ["he2016", "he2020"]
    # the chapter's sentence that no study gives Treg values now fails the build, by name
    from helpers.review.claims import failures

    assert set(failures(ev, "treg")) == {"treg_no_values"}
    results = treg.treg_results(ev)
    assert len(results) == 2 and (results["k"] == 2).all() and (results["measure"] == "SMCR").all()
    values = treg.treg_table(ev).set_index("Study").loc["He 2016", "Values (baseline; follow-up; fold change)"]
    assert values.startswith("baseline: 5") and "; week 12: 8" in values
    assert "fold change 1.60 (derived" in values


def test_treg_definitions_claim_fails_when_a_journal_article_states_a_measure(data_copy, edit):
    """The chapter says each stated Treg measure comes from a registry record or a congress abstract; a measure
    read in a journal article's abstract makes that sentence fail by name."""
    from helpers.review.claims import failures

    assert "treg_definitions_differ" not in failures(load_evidence(), "treg")
    edit(
        data_copy / "outcomes.csv",
        "Abstract mentions expansion of regulatory T cells; values are in figures that were not read,\n",
        "Abstract mentions expansion of regulatory T cells; values are in figures that were not read,"
        "CD4+CD25+Foxp3+ (a measure named for the test)\n",
    )
    found = failures(load_evidence(), "treg")
    assert list(found) == ["treg_definitions_differ"]
    assert found["treg_definitions_differ"] == ["he2020: measure stated in 'abstract'"]
