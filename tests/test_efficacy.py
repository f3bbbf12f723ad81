"""Efficacy helpers: values from the data, checked by hand or against metafor (responder indices: test_responder.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from helpers.evidence.load import load_evidence
from helpers.review import efficacy
from helpers.review.analyses import analysis
from helpers.stats.effects import mean_sd_from_median


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


def test_clinical_response_table_shows_reported_and_missing_values(ev):
    t = efficacy.clinical_response_table(ev)
    he = t[(t["Study"] == "He 2020") & (t["Time point"] == "Week 12")].iloc[0]
    assert (he["IL-2"], he["Placebo"], he["p (between arms, reported)"], he["Counts"]) == (
        "16/29 (55.2%)",
        "9/30 (30.0%)",
        "0.052",
        "derived",
    )
    nr = t[(t["Study"] == "PRO-IMMUN")].iloc[0]
    assert nr["IL-2"] == "not reported" and nr["Counts"] == "not reported"
    assert "0" not in set(t["IL-2"])


def test_responses_that_are_not_sri_are_shown_flagged_and_never_pooled(ev):
    """PRO-IMMUN (N2): a fall in SLEDAI of any size (10/12) and a clinical response it does not define (8/12). Both
    are listed as reported, with a note saying they are not pooled, and neither enters the single-arm rates."""
    t = efficacy.clinical_response_table(ev).set_index(["Study", "Outcome"])
    for outcome, value in (
        ("SLEDAI reduction (any)", "10/12 (83.3%)"),
        ("Clinical response (definition not stated)", "8/12 (66.7%)"),
    ):
        row = t.loc[("PRO-IMMUN", outcome)]
        assert (row["IL-2"], row["Placebo"], row["Counts"]) == (value, "–", "reported")
        assert "not pooled with SRI-4" in row["Note"]
    unpooled = efficacy.unpooled_responses(ev)
    assert list(zip(unpooled["outcome"], unpooled["events"], unpooled["total"])) == [
        ("sledai_reduction_any", 10, 12),
        ("clinical_response_unspecified", 8, 12),
    ]
    responses = efficacy.arm_responses(ev)
    assert set(responses["outcome"]) <= set(efficacy.RATE_OUTCOMES)
    assert "proimmun" not in set(responses["study_id"])
    rates = efficacy.single_arm_results(ev).set_index(["analysis", "measure"])
    il2 = rates.loc[("response_rate_il2_arms", "PLO")]
    assert (il2["k"], il2["n_il2"], il2["studies"]) == (3, 119, "He 2016; He 2020; LUPIL-2")
    assert not set(efficacy.UNPOOLED_OUTCOMES) & set(efficacy.RATE_OUTCOMES)


def test_disease_activity_keeps_reported_precision(ev):
    t = efficacy.disease_activity_table(ev).set_index(["Measure", "Arm"])
    assert t.loc[("BILAG score", "Placebo"), "Baseline"] == "10.5 (8–13.75)"
    assert t.loc[("SELENA-SLEDAI", "IL-2"), "Week 12"] == "6 (0–16)"
    assert t.loc[("SELENA-SLEDAI", "Placebo"), "p week 24 vs baseline"] == "0.002"


def test_arm_responses_exact_ci_is_clopper_pearson(ev):
    r = efficacy.arm_responses(ev).set_index(["study_id", "arm"]).loc[("he2020", "il2")]
    assert (r["events"], r["total"]) == (16, 29)
    assert r["exact_low"] == pytest.approx(stats.beta.ppf(0.025, 16, 14), rel=1e-9)
    assert r["exact_high"] == pytest.approx(stats.beta.ppf(0.975, 17, 13), rel=1e-9)


def test_pooled_response_rate_logit_by_hand(ev):
    """Placebo arms 9/30 and 29/50: REML on the logit scale; with tau2 from the results, the estimate is the
    weighted mean of logits with weights 1/(vi + tau2), vi = 1/(n p (1-p))."""
    res = efficacy.single_arm_results(ev).set_index(["analysis", "measure"]).loc[("response_rate_placebo_arms", "PLO")]
    x, n = np.array([9, 29]), np.array([30, 50])
    p = x / n
    y, v = np.log(p / (1 - p)), 1 / (n * p * (1 - p))
    w = 1 / (v + res["tau2"])
    assert res["estimate"] == pytest.approx(1 / (1 + np.exp(-np.sum(w * y) / np.sum(w))), rel=1e-9)
    assert res["k"] == 2 and np.isnan(res["pi_low"])


def test_estimated_mean_difference_is_flagged_and_uses_luo_wan(ev):
    e = efficacy.estimated_mean_difference(ev, timepoint="week_12")
    il2 = mean_sd_from_median(6, minimum=0, maximum=16, n=29).iloc[0]
    assert e["mean_il2"] == pytest.approx(il2["mean"]) and e["sd_il2"] == pytest.approx(il2["sd"])
    assert e["result"].estimate == pytest.approx(e["mean_il2"] - e["mean_placebo"], rel=1e-12)
    rows = efficacy.estimated_md_results(ev)
    assert rows["inputs_derived"].all() and rows["label"].str.contains("estimated; sensitivity only").all()


def test_leave_one_out_and_regimen_subgroups_with_two_trials(ev):
    loo = efficacy.leave_one_out(ev, analysis(ev, "sri4_week12_rct")).set_index("left_out")
    assert loo.loc["He 2020", "estimate"] == pytest.approx((34 / 50) / (29 / 50), rel=1e-12)
    sub = efficacy.regimen_subgroups(ev, analysis(ev, "sri4_week12_rct")).set_index("group")
    assert sub.loc["every_other_day", "studies"] == "He 2020"
    assert sub.loc["every_other_day", "estimate"] == pytest.approx((16 / 29) / (9 / 30), rel=1e-12)
    # with one trial per group, the subgroup test equals Cochran's Q between the two trials (metafor two_rct_demo RR)
    assert sub["q_between"].iloc[0] == pytest.approx(1.5628163870710246, rel=1e-6)


def test_refits_appear_in_the_results_table(ev):
    from helpers.review.results import results_table

    r = results_table(ev).set_index("analysis")
    without_he = r.loc["sri4_week12_rct_without_he2020"]
    assert without_he["estimate"] == pytest.approx((34 / 50) / (29 / 50), rel=1e-12)
    assert (without_he["k"], without_he["n_il2"], without_he["n_control"], without_he["studies"]) == (
        1,
        50,
        50,
        "LUPIL-2",
    )
    assert r.loc["sri4_week12_rct_regimen_every_other_day", "studies"] == "He 2020"
