"""Safety chapter logic, checked by hand on He 2020's adverse-event table (Table 3) and He 2016's ISR count."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import optimize, stats

from helpers.evidence.load import load_evidence
from helpers.report.prose import NOT_REPORTED
from helpers.review import safety
from helpers.review.analyses import RESULT_COLUMNS
from tests.conftest import edit_file

Z = stats.norm.ppf(0.975)

#: He 2020, Table 3 (IL-2 n=29, placebo n=30), as recorded in data/outcomes.csv.
HE2020_TABLE3 = {
    "ae_injection_site_reaction": (9, 2),
    "ae_fever": (4, 0),
    "ae_flu_like": (3, 0),
    "ae_infection": (2, 6),
    "ae_upper_respiratory_infection": (2, 4),
    "ae_severe_infection": (0, 2),
    "ae_severe": (0, 3),
}


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


@pytest.fixture(scope="module")
def counts(ev):
    return safety.event_counts(ev).set_index(["study_id", "arm", "outcome"])


@pytest.fixture(scope="module")
def comparisons(ev):
    return safety.rct_comparisons(ev).set_index("outcome")


def clopper_pearson(x: int, n: int) -> tuple[float, float]:
    """Exact 95% CI from the beta distribution, written out independently of statsmodels."""
    low = 0.0 if x == 0 else stats.beta.ppf(0.025, x, n - x + 1)
    high = 1.0 if x == n else stats.beta.ppf(0.975, x + 1, n - x)
    return low, high


# ---------------------------------------------------------------------------
# Per-arm incidence and exact CIs
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", sorted(HE2020_TABLE3))
def test_he2020_counts_come_from_table3(counts, outcome):
    il2, placebo = HE2020_TABLE3[outcome]
    assert counts.loc[("he2020", "il2", outcome), ["events", "total"]].tolist() == [il2, 29]
    assert counts.loc[("he2020", "placebo", outcome), ["events", "total"]].tolist() == [placebo, 30]


@pytest.mark.parametrize(
    "study, arm, outcome, x, n",
    [
        ("he2020", "il2", "ae_injection_site_reaction", 9, 29),
        ("he2020", "placebo", "ae_injection_site_reaction", 2, 30),
        ("he2020", "il2", "ae_fever", 4, 29),
        ("he2020", "placebo", "ae_fever", 0, 30),
        ("he2020", "placebo", "ae_severe", 3, 30),
        ("he2016", "il2", "ae_injection_site_reaction", 5, 40),
        ("he2016", "il2", "ae_high_grade", 0, 40),
    ],
)
def test_incidence_and_exact_ci(counts, study, arm, outcome, x, n):
    row = counts.loc[(study, arm, outcome)]
    low, high = clopper_pearson(x, n)
    assert row["incidence"] == pytest.approx(x / n, rel=1e-12)
    assert row["ci_low"] == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert row["ci_high"] == pytest.approx(high, rel=1e-9)


def test_zero_events_upper_bound_is_the_rule_of_the_exact_interval(counts):
    """0/30: the exact upper bound solves (1 - p)^30 = 0.025."""
    assert counts.loc[("he2020", "placebo", "ae_fever"), "ci_high"] == pytest.approx(1 - 0.025 ** (1 / 30), rel=1e-9)
    assert counts.loc[("he2020", "placebo", "ae_fever"), "ci_low"] == 0


def test_incidence_table_cells_and_not_reported(ev):
    table = safety.incidence_table(ev).set_index("Event")
    assert table.loc["Injection-site reaction", "He 2020, IL-2"] == "9/29, 31.0% (15.3 to 50.8%)"
    assert table.loc["Injection-site reaction", "He 2020, Placebo"] == "2/30, 6.7% (0.8 to 22.1%)"
    assert table.loc["Injection-site reaction", "He 2016, IL-2"] == "5/40, 12.5% (4.2 to 26.8%)"
    assert table.loc["Fever (adverse event)", "He 2020, Placebo"] == "0/30, 0.0% (0.0 to 11.6%)"
    # Unknown values are "not reported", never 0.
    assert table.loc["Death", "He 2020, IL-2"] == NOT_REPORTED
    assert table.loc["Serious adverse event", "He 2020, Placebo"] == NOT_REPORTED
    assert table.loc["Fever (adverse event)", "He 2016, IL-2"] == NOT_REPORTED
    assert table.loc["Injection-site reaction", "LUPIL-2, IL-2"] == NOT_REPORTED
    assert table.loc["Anti-drug antibodies", "LUPIL-2, IL-2"].startswith("none observed")


def test_studies_without_any_safety_data_are_named(ev):
    assert safety.studies_without_safety_data(ev) == ["von Spee-Mayer 2016", "PRO-IMMUN"]


def test_he2020_sae_means_severe(ev):
    wording = safety.wording_table(ev)
    severe = wording[(wording["Study"] == "He 2020") & (wording["Event"] == "Severe adverse event")]
    assert "severe, not serious" in severe["What the source says"].iloc[0]
    assert severe["Arm"].iloc[0] == "IL-2 and Placebo"


# ---------------------------------------------------------------------------
# RR and RD (Mantel-Haenszel), Peto's OR, zero cells
# ---------------------------------------------------------------------------
def test_injection_site_reaction_rr_by_hand(comparisons):
    """9/29 vs 2/30. With one table the MH RR is the crude RR and the Greenland-Robins variance
    reduces to 1/a - 1/n1 + 1/c - 1/n2."""
    r = comparisons.loc["ae_injection_site_reaction"]
    rr = (9 / 29) / (2 / 30)
    se = math.sqrt(1 / 9 - 1 / 29 + 1 / 2 - 1 / 30)
    assert r["rr"] == pytest.approx(rr, rel=1e-12)
    assert r["rr_low"] == pytest.approx(rr * math.exp(-Z * se), rel=1e-9)
    assert r["rr_high"] == pytest.approx(rr * math.exp(Z * se), rel=1e-9)
    assert r["rr"] == pytest.approx(4.655, abs=5e-4)
    assert not r["zero_cell"] and math.isnan(r["peto_or"])


def test_injection_site_reaction_rd_by_hand(comparisons):
    """With one table the Sato variance of the MH RD equals p1(1-p1)/n1 + p2(1-p2)/n2."""
    r = comparisons.loc["ae_injection_site_reaction"]
    p1, p2 = 9 / 29, 2 / 30
    se = math.sqrt(p1 * (1 - p1) / 29 + p2 * (1 - p2) / 30)
    assert r["rd"] == pytest.approx(p1 - p2, rel=1e-12)
    assert r["rd_low"] == pytest.approx(p1 - p2 - Z * se, rel=1e-9)
    assert r["rd_high"] == pytest.approx(p1 - p2 + Z * se, rel=1e-9)


def test_infection_rr_below_one_by_hand(comparisons):
    r = comparisons.loc["ae_infection"]
    assert r["rr"] == pytest.approx((2 / 29) / (6 / 30), rel=1e-12)
    se = math.sqrt(1 / 2 - 1 / 29 + 1 / 6 - 1 / 30)
    assert r["rr_high"] == pytest.approx((2 / 29) / (6 / 30) * math.exp(Z * se), rel=1e-9)


def peto_by_hand(a: int, n1: int, c: int, n2: int) -> tuple[float, float]:
    n = n1 + n2
    events = a + c
    e = events * n1 / n
    v = events * (n - events) * n1 * n2 / (n**2 * (n - 1))
    return (a - e) / v, 1 / math.sqrt(v)


def test_fever_zero_cell_handling(ev, comparisons):
    """Fever 4/29 vs 0/30: MH RR not estimable (raw counts, no placebo events); MH RD and Peto's OR are;
    the study-level RR adds 1/2 to every cell (metafor's escalc default)."""
    r = comparisons.loc["ae_fever"]
    assert r["zero_cell"]
    assert math.isnan(r["rr"]) and "no events in the placebo arms" in r["rr_note"]
    # RD: 4/29 - 0, variance p1(1-p1)/n1 + 0.
    p1 = 4 / 29
    se = math.sqrt(p1 * (1 - p1) / 29)
    assert r["rd"] == pytest.approx(p1, rel=1e-12)
    assert r["rd_low"] == pytest.approx(p1 - Z * se, rel=1e-9)
    # Peto: log OR = (O - E)/V, SE = 1/sqrt(V).
    log_or, se_or = peto_by_hand(4, 29, 0, 30)
    assert r["peto_or"] == pytest.approx(math.exp(log_or), rel=1e-9)
    assert r["peto_low"] == pytest.approx(math.exp(log_or - Z * se_or), rel=1e-9)
    assert r["peto_high"] == pytest.approx(math.exp(log_or + Z * se_or), rel=1e-9)
    # Study-level RR with 1/2 added to each of the four cells.
    rr_cc = (4.5 / 30) / (0.5 / 31)
    se_cc = math.sqrt(1 / 4.5 - 1 / 30 + 1 / 0.5 - 1 / 31)
    assert r["study_rr"] == pytest.approx(rr_cc, rel=1e-12)
    assert r["study_rr_high"] == pytest.approx(rr_cc * math.exp(Z * se_cc), rel=1e-9)
    assert r["zero_cell_adjusted"] == "He 2020"
    assert r["double_zero"] == ""
    assert r["not_reported_in"] == "LUPIL-2"
    shown = safety.comparison_table(ev).set_index("Event").loc["Fever (adverse event)"]
    assert shown["RR, Mantel-Haenszel (95% CI)"].startswith("not estimable")
    assert shown["RR, study (1/2 added to zero cells)"].endswith(", corrected")


def test_severe_adverse_events_zero_in_the_il2_arm(comparisons):
    r = comparisons.loc["ae_severe"]
    assert math.isnan(r["rr"]) and "no events in the IL-2 arms" in r["rr_note"]
    assert r["rd"] == pytest.approx(0 - 3 / 30, rel=1e-12)
    log_or, _ = peto_by_hand(0, 29, 3, 30)
    assert r["peto_or"] == pytest.approx(math.exp(log_or), rel=1e-9)


def test_components_of_severe_events_are_not_separate_comparisons(comparisons):
    assert not {"ae_npsle", "ae_herpes_zoster", "ae_pneumonia"} & set(comparisons.index)


def test_double_zero_study_is_reported_and_adds_nothing(data_copy):
    """A study with no events in either arm is listed; the MH RD still counts its weight."""
    edit_file(
        data_copy / "outcomes.csv",
        "he2020,il2,ae_fever,trial_period,analysed_safety,count,4,29,13.8",
        "he2020,il2,ae_fever,trial_period,analysed_safety,count,0,29,0",
    )
    r = safety.rct_comparisons(load_evidence()).set_index("outcome").loc["ae_fever"]
    assert r["double_zero"] == "He 2020"
    assert r["rd"] == 0 and math.isnan(r["rr"]) and math.isnan(r["peto_or"])
    assert "IL-2 and placebo" in r["rr_note"]


# ---------------------------------------------------------------------------
# Results rows
# ---------------------------------------------------------------------------
def test_safety_results_rows(ev):
    res = safety.safety_results(ev)
    assert list(res.columns) == RESULT_COLUMNS
    keyed = res.set_index(["analysis", "measure", "method", "test"])
    isr = keyed.loc[("ae_injection_site_reaction_rct", "RR", "MH", "z")]
    assert isr["estimate"] == pytest.approx((9 / 29) / (2 / 30), rel=1e-12)
    assert (isr["k"], isr["n_il2"], isr["n_control"]) == (1, 29, 30)
    assert not isr["inputs_derived"]
    # Not estimable MH RRs are left out; Peto appears only for events with a zero cell.
    assert ("ae_fever_rct", "RR", "MH", "z") not in keyed.index
    assert ("ae_fever_rct", "OR", "Peto", "z") in keyed.index
    assert ("ae_injection_site_reaction_rct", "OR", "Peto", "z") not in keyed.index
    assert res["estimate"].notna().all()


# ---------------------------------------------------------------------------
# Pooled incidence across the IL-2 arms
# ---------------------------------------------------------------------------
def reml_by_hand(y: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """Maximise the restricted likelihood over tau² numerically (independent of helpers.stats.pooling)."""

    def neg_loglik(t2):
        w = 1 / (v + t2)
        mu = np.sum(w * y) / np.sum(w)
        return 0.5 * (np.sum(np.log(v + t2)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))

    t2 = optimize.minimize_scalar(neg_loglik, bounds=(0, 10), method="bounded", options={"xatol": 1e-12}).x
    w = 1 / (v + t2)
    return float(np.sum(w * y) / np.sum(w)), float(math.sqrt(1 / np.sum(w)))


def test_only_injection_site_reactions_are_poolable(ev):
    assert safety.poolable_events(ev) == ["ae_injection_site_reaction"]


def test_pooled_isr_incidence_logit_by_hand(ev):
    """He 2016 5/40 and He 2020 9/29 on the logit scale, REML, back-transformed."""
    x, n = np.array([5, 9]), np.array([40, 29])
    p = x / n
    y, v = np.log(p / (1 - p)), 1 / (n * p * (1 - p))
    mu, se = reml_by_hand(y, v)
    res, bt, _ = safety.pooled_incidence(ev, "ae_injection_site_reaction", "PLO", "REML", "z")
    assert res.estimate == pytest.approx(mu, rel=1e-6)
    assert bt["estimate"] == pytest.approx(1 / (1 + math.exp(-mu)), rel=1e-6)
    assert bt["ci_low"] == pytest.approx(1 / (1 + math.exp(-(mu - Z * se))), rel=1e-5)
    assert 5 / 40 < bt["estimate"] < 9 / 29


def test_pooled_isr_incidence_freeman_tukey_inputs(ev):
    x, n = np.array([5, 9]), np.array([40, 29])
    y = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    v = 1 / (4 * n + 2)
    mu, _ = reml_by_hand(y, v)
    res, bt, _ = safety.pooled_incidence(ev, "ae_injection_site_reaction", "PFT", "REML", "z")
    assert res.estimate == pytest.approx(mu, rel=1e-6)
    assert 5 / 40 < bt["estimate"] < 9 / 29


def test_pooled_incidence_rows_in_results(ev):
    res = safety.safety_results(ev)
    pooled = res[res["analysis"] == "ae_injection_site_reaction_il2_arms"]
    assert len(pooled) == len(safety.INCIDENCE_MODELS)
    assert set(pooled["measure"]) == {"PLO", "PFT"}
    assert (pooled["k"] == 2).all() and (pooled["n_il2"] == 69).all() and (pooled["n_control"] == 0).all()


def test_one_study_cannot_be_pooled(ev):
    with pytest.raises(ValueError, match="pooling needs 2"):
        safety.pooled_incidence(ev, "ae_fever")


# ---------------------------------------------------------------------------
# Figure
# ---------------------------------------------------------------------------
def test_safety_figure_and_description(ev):
    fig = safety.safety_figure(ev)
    assert isinstance(fig, Figure)
    rows = safety.figure_rows(ev)
    groups = rows[["outcome", "study_id"]].drop_duplicates()
    assert len(fig.axes[0].get_yticklabels()) == len(groups) == 8
    text = safety.safety_figure_description(ev)
    assert (
        "Injection-site reaction, He 2020: IL-2 9/29, 31.0% (15.3 to 50.8%); Placebo 2/30, 6.7% (0.8 to 22.1%)." in text
    )
    assert "High-grade adverse event, He 2016: IL-2 0/40" in text


def test_incidence_forest_inputs(ev):
    inputs = safety.incidence_forest_inputs(ev, "ae_injection_site_reaction")
    assert inputs["studies"]["il2_text"].tolist() == ["5/40", "9/29"]
    assert inputs["studies"]["weight"].sum() == pytest.approx(100)
    assert list(inputs["pooled"]["label"]) == ["Random effects (REML), logit", "Random effects (REML), Freeman-Tukey"]
    assert isinstance(inputs["studies"], pd.DataFrame)
