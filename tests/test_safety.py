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
# One trial's comparisons (protocol: log RR, Newcombe RD, Fisher's p), Peto's rule, zero cells
# ---------------------------------------------------------------------------
def wilson(x: int, n: int) -> tuple[float, float]:
    """Wilson score interval, written out independently of statsmodels."""
    p, z2 = x / n, Z**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n**2)) / (1 + z2 / n)
    return centre - half, centre + half


def newcombe_by_hand(a: int, n1: int, c: int, n2: int) -> tuple[float, float]:
    """Newcombe (1998) method 10: the two Wilson intervals combined."""
    p1, p2 = a / n1, c / n2
    (l1, u1), (l2, u2) = wilson(a, n1), wilson(c, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def test_every_comparison_is_a_single_trial(comparisons):
    """He 2020 is the only trial with counts in both arms: no row is pooled or labelled Mantel-Haenszel."""
    assert (comparisons["k"] == 1).all() and comparisons["single_trial"].all()
    assert set(comparisons["method"]) == {"single_trial"}
    assert set(comparisons["rd_method"]) == {"newcombe"} and set(comparisons["test"]) == {"fisher"}


def test_injection_site_reaction_rr_by_hand(comparisons):
    """9/29 vs 2/30: the log (Katz) interval, 1/a - 1/n1 + 1/c - 1/n2 (the MH interval of one table)."""
    r = comparisons.loc["ae_injection_site_reaction"]
    rr = (9 / 29) / (2 / 30)
    se = math.sqrt(1 / 9 - 1 / 29 + 1 / 2 - 1 / 30)
    assert r["rr"] == pytest.approx(rr, rel=1e-12)
    assert r["rr_low"] == pytest.approx(rr * math.exp(-Z * se), rel=1e-9)
    assert r["rr_high"] == pytest.approx(rr * math.exp(Z * se), rel=1e-9)
    assert r["rr"] == pytest.approx(4.655, abs=5e-4)
    assert not r["zero_cell"] and math.isnan(r["peto_or"])


def test_injection_site_reaction_rd_by_hand(comparisons):
    """The RD has Newcombe's hybrid score interval; p is Fisher's exact test."""
    r = comparisons.loc["ae_injection_site_reaction"]
    assert r["rd"] == pytest.approx(9 / 29 - 2 / 30, rel=1e-12)
    assert (r["rd_low"], r["rd_high"]) == pytest.approx(newcombe_by_hand(9, 29, 2, 30), rel=1e-9)
    assert r["rd_p"] == pytest.approx(stats.fisher_exact([[9, 20], [2, 28]]).pvalue, rel=1e-12)
    assert r["rr_p"] == r["rd_p"]


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


def test_fever_single_trial_methods(ev, comparisons):
    """Fever 4/29 vs 0/30 (issue 16): the Wald RD 13.8 points (1.2 to 26.3) excluded no difference; Newcombe's
    interval, -0.3 to 30.6, includes it, as Fisher's exact p = 0.052 says. The RR is not estimable (no placebo
    events); Peto's OR is not used (fever is not rare: 13.8% of the IL-2 arm)."""
    r = comparisons.loc["ae_fever"]
    assert r["zero_cell"]
    assert math.isnan(r["rr"]) and "no events in the placebo arm" in r["rr_note"]
    assert r["rd"] == pytest.approx(4 / 29, rel=1e-12)
    assert (r["rd_low"], r["rd_high"]) == pytest.approx(newcombe_by_hand(4, 29, 0, 30), rel=1e-9)
    assert round(100 * r["rd_low"], 1) == -0.3 and round(100 * r["rd_high"], 1) == 30.6
    assert r["rd_p"] == pytest.approx(0.052185548617306003, rel=1e-9)  # R fisher.test
    assert math.isnan(r["peto_or"]) and r["peto_note"].startswith("events not rare: up to 13.8%")
    # Study-level RR with 1/2 added to each of the four cells.
    rr_cc = (4.5 / 30) / (0.5 / 31)
    se_cc = math.sqrt(1 / 4.5 - 1 / 30 + 1 / 0.5 - 1 / 31)
    assert r["study_rr"] == pytest.approx(rr_cc, rel=1e-12)
    assert r["study_rr_high"] == pytest.approx(rr_cc * math.exp(Z * se_cc), rel=1e-9)
    assert r["zero_cell_adjusted"] == "He 2020"
    assert r["double_zero"] == ""
    assert r["not_reported_in"] == "LUPIL-2"
    shown = safety.comparison_table(ev).set_index("Event").loc["Fever (adverse event)"]
    assert shown["RR (95% CI)"].startswith("not estimable")
    assert shown["RR, study (1/2 added to zero cells)"].endswith(", corrected")
    assert shown["RD in percentage points (95% CI)"] == "13.8 (−0.3 to 30.6)"
    assert shown["p"] == "0.052"
    assert shown["Analysis"].startswith("single trial, not pooled")
    assert shown["OR, Peto (95% CI)"] == "not used: events not rare"


def test_severe_adverse_events_zero_in_the_il2_arm(comparisons):
    r = comparisons.loc["ae_severe"]
    assert math.isnan(r["rr"]) and "no events in the IL-2 arm" in r["rr_note"]
    assert r["rd"] == pytest.approx(0 - 3 / 30, rel=1e-12)
    assert (r["rd_low"], r["rd_high"]) == pytest.approx(newcombe_by_hand(0, 29, 3, 30), rel=1e-9)
    assert math.isnan(r["peto_or"])


@pytest.mark.parametrize(
    ("counts", "rule", "reason"),
    [
        ((0, 200, 1, 210), {"max_event_risk": 0.01, "max_arm_ratio": 1.5}, ""),
        ((0, 200, 3, 210), {"max_event_risk": 0.01, "max_arm_ratio": 1.5}, "events not rare: up to 1.4% of an arm"),
        ((0, 100, 1, 210), {"max_event_risk": 0.01, "max_arm_ratio": 1.5}, "arms unbalanced: 2.1 to 1"),
        ((0, 100, 1, 210), {"max_event_risk": 0.01, "max_arm_ratio": 3}, ""),
    ],
)
def test_peto_rule(counts, rule, reason):
    """SYNTHETIC tables: Peto only below the event risk in every arm and within the arm-size ratio."""
    a, n1, c, n2 = counts
    table = pd.DataFrame({"events_il2": [a], "total_il2": [n1], "events_control": [c], "total_control": [n2]})
    found = safety.peto_not_used_because(table, rule)
    assert found.startswith(reason) if reason else found == ""


def test_peto_where_the_protocol_allows_it(tmp_path, monkeypatch):
    """A protocol that allows Peto up to a 35% event risk gets Peto's OR for every event (He 2020's arms are
    balanced), by hand from O - E and V."""
    from helpers.evidence.protocol import load_protocol

    text = load_protocol().path.read_text(encoding="utf-8").replace("max_event_risk: 0.01", "max_event_risk: 0.35")
    (tmp_path / "protocol.yml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("IL2_PROTOCOL", str(tmp_path / "protocol.yml"))
    ev = load_evidence()
    comp = safety.rct_comparisons(ev).set_index("outcome")
    assert (comp["peto_note"] == "").all()
    r = comp.loc["ae_fever"]
    log_or, se_or = peto_by_hand(4, 29, 0, 30)
    assert r["peto_or"] == pytest.approx(math.exp(log_or), rel=1e-9)
    assert r["peto_low"] == pytest.approx(math.exp(log_or - Z * se_or), rel=1e-9)
    keyed = safety.safety_results(ev).set_index(["analysis", "measure", "method", "test"])
    assert ("ae_fever_rct", "OR", "Peto", "z") in keyed.index


def test_single_trial_rd_can_be_wald_by_protocol(tmp_path, monkeypatch):
    """The protocol's choice is what runs: 'wald' and 'z' give the Wald RD and its z-test p (the old MH values)."""
    from helpers.evidence.protocol import load_protocol

    text = load_protocol().path.read_text(encoding="utf-8")
    text = text.replace("risk_difference: newcombe", "risk_difference: wald").replace("test: fisher", "test: z")
    (tmp_path / "protocol.yml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("IL2_PROTOCOL", str(tmp_path / "protocol.yml"))
    r = safety.rct_comparisons(load_evidence()).set_index("outcome").loc["ae_fever"]
    p1 = 4 / 29
    se = math.sqrt(p1 * (1 - p1) / 29)
    assert (r["rd_low"], r["rd_high"]) == pytest.approx((p1 - Z * se, p1 + Z * se), rel=1e-9)
    assert r["rd_p"] == pytest.approx(2 * stats.norm.sf(p1 / se), rel=1e-9)


def test_components_of_severe_events_are_not_separate_comparisons(comparisons):
    assert not {"ae_npsle", "ae_herpes_zoster", "ae_pneumonia"} & set(comparisons.index)


def test_double_zero_study_is_reported_and_adds_nothing(data_copy):
    """A study with no events in either arm is listed; its RD is 0 with a Newcombe interval around it."""
    edit_file(
        data_copy / "outcomes.csv",
        "he2020,il2,ae_fever,trial_period,analysed_safety,count,4,29,13.8",
        "he2020,il2,ae_fever,trial_period,analysed_safety,count,0,29,0",
    )
    r = safety.rct_comparisons(load_evidence()).set_index("outcome").loc["ae_fever"]
    assert r["double_zero"] == "He 2020"
    assert r["rd"] == 0 and math.isnan(r["rr"]) and math.isnan(r["peto_or"])
    assert (r["rd_low"], r["rd_high"]) == pytest.approx(newcombe_by_hand(0, 29, 0, 30), rel=1e-9)
    assert r["rd_p"] == 1.0
    assert "IL-2 and placebo" in r["rr_note"]


# ---------------------------------------------------------------------------
# How many patients the harms rest on
# ---------------------------------------------------------------------------
def test_harm_coverage_per_event(ev):
    """Issue 16: injection-site reactions are counted in 69 IL-2 patients (He 2016 40, He 2020 29), every
    other event in He 2020's 29 only; 29 IL-2 and 30 placebo patients are in each comparison."""
    cov = safety.harm_coverage(ev).set_index("outcome")
    assert cov.loc["ae_injection_site_reaction", ["il2_counted", "placebo_counted"]].tolist() == [69, 30]
    assert cov.loc["ae_high_grade", ["il2_counted", "placebo_counted", "il2_compared"]].tolist() == [40, 0, 0]
    compared = cov[cov["trials_compared"] > 0]
    assert set(compared.index) == set(HE2020_TABLE3)
    assert (compared["il2_compared"] == 29).all() and (compared["placebo_compared"] == 30).all()
    assert (cov.loc[["ae_npsle", "ae_herpes_zoster", "ae_pneumonia"], "il2_compared"] == 0).all()


def test_coverage_totals(ev):
    """69 of the 137 IL-2 patients of known number contribute any adverse-event count, 29 a comparison."""
    t = safety.coverage_totals(ev)
    assert (t["il2_known"], t["il2_counted"], t["il2_compared"]) == (137, 69, 29)
    assert (t["placebo_known"], t["placebo_counted"], t["placebo_compared"]) == (80, 30, 30)
    assert t["studies_counted"] == ["He 2016", "He 2020"] and t["trials_compared"] == ["He 2020"]


def test_a_second_trial_with_counts_is_pooled_and_labelled_so(data_copy):
    """SYNTHETIC counts for LUPIL-2's injection-site reactions (10/50 vs 2/50): that event is pooled over two
    trials with Mantel-Haenszel, labelled so, and 79 IL-2 patients are in a comparison with placebo."""
    for arm, events in (("il2", 10), ("placebo", 2)):
        edit_file(
            data_copy / "outcomes.csv",
            f"lupil2,{arm},ae_injection_site_reaction,trial_period,itt,not_reported,,,,,,,,,,,,not_reported,",
            f"lupil2,{arm},ae_injection_site_reaction,trial_period,itt,count,{events},50,,,,,,,,,,reported,",
        )
    ev = load_evidence()
    assert safety.coverage_totals(ev)["il2_compared"] == 79
    comp = safety.rct_comparisons(ev).set_index("outcome")
    isr = comp.loc["ae_injection_site_reaction"]
    assert isr["k"] == 2 and not isr["single_trial"] and isr["method"] == "MH" and isr["test"] == "z"
    assert comp.loc["ae_fever", "single_trial"]
    rows = safety.safety_results(ev).set_index(["analysis", "measure", "method", "test"])
    assert rows.loc[("ae_injection_site_reaction_rct", "RD", "MH", "z"), "model"] == "fixed"
    assert "randomised trials" in rows.loc[("ae_injection_site_reaction_rct", "RD", "MH", "z"), "label"]
    assert (
        safety.comparison_table(ev)
        .set_index("Event")
        .loc["Injection-site reaction", "Analysis"]
        .startswith("pooled, 2 trials")
    )


def test_coverage_claim_fails_by_name(data_copy):
    """SYNTHETIC: without He 2016's counts every IL-2 patient with a count is also compared with placebo, so
    'a comparison with placebo for fewer still' no longer holds and the safety chapter would stop by name."""
    from helpers.review.claims import ClaimFailed, verify

    text = (data_copy / "outcomes.csv").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not line.startswith("he2016,il2,ae_")]
    (data_copy / "outcomes.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    ev = load_evidence()
    assert safety.coverage_totals(ev)["il2_counted"] == safety.coverage_totals(ev)["il2_compared"] == 29
    with pytest.raises(ClaimFailed, match="review_safety_statement_rests_on_part.*every IL-2 patient with a count"):
        verify(ev, "safety")


# ---------------------------------------------------------------------------
# Results rows
# ---------------------------------------------------------------------------
def test_safety_results_rows(ev):
    res = safety.safety_results(ev)
    assert list(res.columns) == RESULT_COLUMNS
    keyed = res.set_index(["analysis", "measure", "method", "test"])
    isr = keyed.loc[("ae_injection_site_reaction_rct", "RR", "Katz", "fisher")]
    assert isr["estimate"] == pytest.approx((9 / 29) / (2 / 30), rel=1e-12)
    assert (isr["k"], isr["n_il2"], isr["n_control"], isr["model"]) == (1, 29, 30, "single_trial")
    assert not isr["inputs_derived"]
    fever = keyed.loc[("ae_fever_rct", "RD", "Newcombe", "fisher")]
    assert (fever["ci_low"], fever["ci_high"]) == pytest.approx(newcombe_by_hand(4, 29, 0, 30), rel=1e-9)
    # Not estimable RRs are left out; no Peto row (no event is rare); nothing is labelled MH.
    assert ("ae_fever_rct", "RR", "Katz", "fisher") not in keyed.index
    assert not (res["method"] == "Peto").any()
    rct = res[res["analysis"].str.endswith("_rct")]
    assert (rct["model"] == "single_trial").all() and not (rct["method"] == "MH").any()
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


# ---------------------------------------------------------------------------
# The chapter's generated text
# ---------------------------------------------------------------------------
def test_chapter_says_single_trial_and_weighs_the_review(ev):
    from helpers.chapters import safety as chapter
    from helpers.review.claims import wording

    values = chapter.comparison_values(ev)
    assert values["safety_rct_k_text"].startswith("Every comparison below is therefore that one trial's own result")
    methods = values["safety_methods_text"].text
    assert methods.startswith("Every event is compared in one trial only")
    assert "Newcombe's hybrid score interval {cite:p}`newcombe1998`" in methods and "Fisher's exact test" in methods
    assert "no event compared here qualifies" in methods
    lines = values["safety_comparison_text"].text.splitlines()
    fever = next(line for line in lines if line.startswith("- **Fever"))
    assert "risk difference 13.8 percentage points (95% CI −0.3 to 30.6); Fisher's exact p = 0.052" in fever
    assert fever.endswith("the interval includes no difference.") and "Peto" not in fever
    coverage = chapter.coverage_values(ev)
    assert (coverage["safety_il2_counted"], coverage["safety_il2_known"], coverage["safety_il2_compared"]) == (
        "69",
        "137",
        "29",
    )
    assert coverage["safety_il2_counted_share"] == "50%" and coverage["safety_il2_compared_share"] == "21%"
    assert coverage["safety_coverage_claim"] == wording("review_safety_statement_rests_on_part")
    table = chapter.coverage_table(ev).set_index("Event")
    assert table.loc["Injection-site reaction", "IL-2 patients counted"] == "69 of 137 (50%)"
    assert table.loc["Fever (adverse event)", "IL-2 patients compared with placebo"] == "29 (single trial)"


# ---------------------------------------------------------------------------
# Information on harms and the appraisal of the review's claim
# ---------------------------------------------------------------------------
def test_information_on_harms_per_study(ev):
    info = safety.harms_information(ev).set_index("study_id")
    assert list(info.index) == ["he2016", "vonspeemayer2016", "proimmun", "he2020", "lupil2"]
    # the patients the counts rest on: He 2020's safety set (Table 3, 29 and 30), He 2016's 40 enrolled
    assert info.loc["he2020", "arms"] == [
        ("il2", 29, "analysed_safety", False, True),
        ("placebo", 30, "analysed_safety", False, True),
    ]
    assert info.loc["he2016", "arms"] == [("il2", 40, "enrolled", False, True)]
    # no count at all: LUPIL-2's arms are the derived 50 randomised to each
    assert info.loc["lupil2", "arms"] == [
        ("il2", 50, "randomised", True, False),
        ("placebo", 50, "randomised", True, False),
    ]
    assert info.loc["he2020", "counted"][:3] == [
        "Injection-site reaction",
        "Fever (adverse event)",
        "Flu-like symptoms",
    ]
    assert info.loc["he2020", "not_reported"] == [
        "Serious adverse event",
        "Discontinuation due to an adverse event",
        "Death",
    ]
    assert info.loc["lupil2", "described"] == ["Anti-drug antibodies"]
    assert info.loc["lupil2", "not_reported"] == ["Injection-site reaction", "Infection (any)"]
    assert info.loc["proimmun", "counted"] == info.loc["proimmun", "described"] == []
    assert (info.loc["he2020", "last_timepoint"], info.loc["he2020", "last_week"]) == ("week_24", 24)
    assert info.loc["vonspeemayer2016", "last_timepoint"] == "end_of_study"
    assert info.loc["he2016", "duration_derived"] and not info.loc["he2020", "duration_derived"]


def test_information_table_and_appraisal(ev):
    from helpers.chapters import safety as chapter
    from helpers.review.claims import wording

    t = chapter.information_table(ev).set_index("Study")
    col = "Patients the harms rest on (population)"
    assert t.loc["He 2020", col] == "IL-2 29, placebo 30 (safety set)"
    assert t.loc["LUPIL-2", col] == "IL-2 50, placebo 50 (randomised, derived); no harm counted"
    assert t.loc["PRO-IMMUN", col] == "IL-2 12 (treated); no harm counted"
    exposure = "IL-2 exposure (dose, schedule, cycles, duration)"
    assert t.loc["He 2016", exposure] == "1 MIU every other day; 3 cycles; 12 weeks (derived)"
    assert t.loc["von Spee-Mayer 2016", exposure] == "1.5 MIU daily; 1 cycle; 5 days"
    assert t.loc["PRO-IMMUN", exposure].startswith("0.75–3 MIU daily in 5-day cycles; 4 cycles;")
    assert t.loc["He 2020", "Latest visit named in the sources"] == "week 24"
    assert t.loc["PRO-IMMUN", "Harms recorded as not reported"] == "no harm is mentioned"
    assert t.loc["LUPIL-2", "Harms described without a count"] == "Anti-drug antibodies"
    values = chapter.appraisal_values(ev)
    assert values["safety_information_text"] == (
        "2 of the 5 included studies count any harm (He 2016 and He 2020); von Spee-Mayer 2016 and PRO-IMMUN count "
        "none; LUPIL-2 only describes anti-drug antibodies without a count."
    )
    assert values["safety_longest_followup"] == "week 24"
    # 9/29 vs 2/30: Newcombe's interval 4.3 to 43.2 points excludes 0; every other event's interval includes it
    assert values["safety_compared_text"].startswith(
        "In He 2020, the interval of the risk difference excludes no difference for injection-site reaction "
        "(more often with IL-2); for every other event it includes no difference"
    )
    assert values["safety_followup_claim"] == wording("harms_follow_up_under_a_year")
    assert values["safety_nothing_serious"] == wording("no_discontinuations_deaths_serious")


def test_follow_up_claim_fails_by_name(data_copy):
    """SYNTHETIC: a He 2020 outcome row at week 52 makes 'no study counting harms follows its patients for a
    year' false, and the safety chapter stops by name."""
    from helpers.review.claims import ClaimFailed, verify

    path = data_copy / "outcomes.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    row = next(line for line in lines if line.startswith("he2020,il2,sri4,week_24,"))
    lines.append(row.replace(",week_24,", ",week_52,", 1))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ev = load_evidence()
    assert safety.harms_information(ev).set_index("study_id").loc["he2020", "last_week"] == 52
    with pytest.raises(ClaimFailed, match="harms_follow_up_under_a_year.*He 2020: latest visit week_52"):
        verify(ev, "safety")
