"""Efficacy helpers: values from the data, checked by hand or against metafor (responder indices: test_responder.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
    assert not set(efficacy.UNPOOLED_OUTCOMES) & set(efficacy.RATE_OUTCOMES)


def test_single_arm_rates_pool_only_within_one_role_index_and_time_point(ev):
    """Protocol 1.5: He 2016's interim SRI of unstated threshold at week 6 is shown per arm, never pooled with the
    SRI-4 at week 12 of the trials' IL-2 arms; each pool holds one role, outcome and time point."""
    groups = efficacy.rate_groups(ev)
    he2016 = groups[groups["study_id"] == "he2016"].iloc[0]
    assert (he2016["outcome"], he2016["timepoint"], he2016["pool"], he2016["arms_in_group"]) == (
        "sri_unspecified",
        "week_6",
        "",
        1,
    )
    rates = efficacy.single_arm_results(ev)
    assert set(rates["analysis"]) == {
        "response_rate_il2_arms_sri4_week_12",
        "response_rate_placebo_arms_sri4_week_12",
    }
    assert rates.groupby("analysis")[["outcome", "timepoint"]].nunique().eq(1).all().all()
    il2 = rates.set_index(["analysis", "measure"]).loc[("response_rate_il2_arms_sri4_week_12", "PLO")]
    assert (il2["k"], il2["n_il2"], il2["studies"], il2["outcome"]) == (2, 79, "He 2020; LUPIL-2", "sri4")
    assert pd.isna(il2["n_control"])
    assert "uncontrolled" in il2["label"] and "all included studies" not in il2["label"]


def test_rates_chapter_scope_and_no_comparison_of_pools(ev):
    """'3 of 5 included studies' reports the scope; the per-arm table has exact intervals and a pooled row only
    under the arms it pools; the text never sets the IL-2 pool against the placebo pool."""
    from helpers.chapters import efficacy as chapter
    from helpers.review.results import results_table

    results = results_table(ev).set_index(["analysis", "measure", "method", "test"])
    values = chapter.rate_values(ev, results)
    scope = values["rate_scope_text"].text
    assert scope.startswith("Three of the five included studies report an SLE Responder Index (SRI) response rate")
    assert "von Spee-Mayer 2016 and PRO-IMMUN do not" in scope
    table = chapter.rate_table(ev, results)
    he2016 = table[table["Study"].str.startswith("He 2016")].iloc[0]
    assert (he2016["Study"], he2016["Index, time point"], he2016["Rate (95% CI)"]) == (
        "He 2016 (interim)",
        "SRI response (threshold not stated), week 6",
        "90% (76 to 97%)",
    )
    pooled = table[table["Study"].str.startswith("Pooled")]
    assert list(pooled["Index, time point"]) == ["SRI-4 response, week 12"] * 2
    assert list(pooled["Arm"]) == ["IL-2", "Placebo"]
    text = values["rate_pooled_text"].text
    assert "not compared with another role's pooled rate" in text
    assert "He 2016's IL-2 arm, with the SRI response (threshold not stated) at week 6" in text


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
    rates = efficacy.single_arm_results(ev).set_index(["analysis", "measure"])
    res = rates.loc[("response_rate_placebo_arms_sri4_week_12", "PLO")]
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


def test_estimated_mean_differences_are_an_appendix_table_not_results(ev):
    """Protocol 1.5 / issue 16: the median-to-mean conversion leaves the results table for an appendix table
    whose text names the methods and their caveats."""
    from helpers.chapters import results_appendix
    from helpers.review.results import results_table

    assert not results_table(ev)["analysis"].str.contains("md_estimated").any()
    table = results_appendix.estimated_md_table(ev)
    assert list(table["Trial"]) == ["He 2020", "He 2020"]
    assert table["Estimated mean difference (95% CI)"].iloc[0] == "−1.1 (−3.7 to 1.6)"
    text = results_appendix.estimated_md_text(ev).text
    assert "Luo 2018" in text and "Wan 2014" in text and "not results of this review" in text
    assert "normally distributed" in text and "skewed" in text


def test_leave_one_out_and_regimen_subgroups_with_two_trials(ev):
    loo = efficacy.leave_one_out(ev, analysis(ev, "sri4_week12_rct")).set_index("left_out")
    assert loo.loc["He 2020", "estimate"] == pytest.approx((34 / 50) / (29 / 50), rel=1e-12)
    sub = efficacy.regimen_subgroups(ev, analysis(ev, "sri4_week12_rct")).set_index("group")
    assert sub.loc["every_other_day", "studies"] == "He 2020"
    assert sub.loc["every_other_day", "estimate"] == pytest.approx((16 / 29) / (9 / 30), rel=1e-12)
    # with one trial per group, the subgroup test equals Cochran's Q between the two trials (metafor two_rct_demo RR)
    assert sub["q_between"].iloc[0] == pytest.approx(1.5628163870710246, rel=1e-6)


def test_with_two_trials_no_refit_is_run_and_the_chapter_says_why(ev):
    """Protocol 1.5: leave-one-out and subgroups need three trials; with two, each refit is the other trial alone,
    so no refit row is in the results table and the chapter says, from the data, why none is run."""
    from helpers.chapters import efficacy as chapter
    from helpers.review.results import results_table

    r = results_table(ev)
    assert not r["analysis"].str.contains("_without_|_regimen_", regex=True).any()
    assert efficacy.refits_run(ev, analysis(ev, "sri4_week12_rct")) == {"leave_one_out": False, "regimen_group": False}
    loo, subgroups = chapter.refit_tables(ev)
    assert loo.empty and subgroups.empty
    text = chapter.refit_values(ev, loo, subgroups)["sri4_refit_text"].text
    assert (
        "Leave-one-out needs at least three trials under the protocol; with two trials it is not run: each refit "
        "would be the other trial alone." in text
    )
    assert "Regimen subgroups need at least three trials under the protocol; with two trials they are not run" in text
    assert "|" not in text  # no table


def test_per_protocol_result_is_one_trials_own_and_never_pooled(ev):
    """LUPIL-2's post hoc per-protocol set keeps 24 of 50 IL-2 and 29 of 50 placebo patients (53 of 100; arm sizes
    derived, humrich2022 S28); its own risk ratio (20/24 vs 15/29, log interval, Fisher's p) is reported once."""
    pp = efficacy.per_protocol_results(ev)
    assert len(pp) == 1
    r = pp.iloc[0]
    assert (r["label"], r["analysis"], r["population"]) == ("LUPIL-2", "sri4_week12_rct", "per_protocol")
    assert (r["total_il2"], r["randomised_il2"], r["total_control"], r["randomised_control"]) == (24, 50, 29, 50)
    assert r["randomised_derived"] and r["counts_derived"] and r["post_hoc"]
    assert r["rob2_overall"] == "high" and "D2" in r["rob2_high_domains"] and "D5" in r["rob2_high_domains"]
    rr, se = (20 / 24) / (15 / 29), np.sqrt(1 / 20 - 1 / 24 + 1 / 15 - 1 / 29)
    assert r["rr"] == pytest.approx(rr, rel=1e-12)
    assert (r["rr_low"], r["rr_high"]) == pytest.approx(
        (rr * np.exp(-1.959963984540054 * se), rr * np.exp(1.959963984540054 * se)), rel=1e-9
    )
    assert r["p"] == pytest.approx(stats.fisher_exact([[20, 4], [15, 14]]).pvalue, rel=1e-9)
    # no pooled analysis uses a per-protocol population
    from helpers.review.analyses import planned_analyses

    assert all(p != "per_protocol" for a in planned_analyses(ev) for _, p in a.populations)
    # the results table holds it as that trial's own result
    from helpers.review.results import results_table

    rows = results_table(ev)
    rows = rows[rows["analysis"].str.contains("per_protocol")]
    assert list(rows["analysis"]) == ["sri4_week12_rct_per_protocol_lupil2"]
    row = rows.iloc[0]
    assert (row["model"], row["k"], row["method"], row["test"]) == ("single_trial", 1, "Katz", "fisher")
    assert "post hoc" in row["label"] and "never pooled" in row["label"] and "RoB 2 high" in row["label"]


def test_per_protocol_paragraph(ev):
    from helpers.chapters import efficacy as chapter

    text = chapter.per_protocol_values(ev)["sri4_pp_text"].text
    assert (
        "It keeps 24 of the 50 patients randomised to IL-2 (48%) and 29 of the 50 randomised to placebo (58%)" in text
    )
    assert "53 of 100 in all (derived values:" in text
    assert "post hoc" in text and "{cite:p}`humrich2022`" in text
    assert "the trial's own risk ratio is 1.61 (95% CI 1.09 to 2.39; Fisher's exact p = 0.021)" in text
    assert "RoB 2 {cite:p}`sterne2019` judges this result at high risk of bias, high in D2, D3 and D5" in text
    assert "separated" not in text
    assert "not pooled" in text


def test_the_primary_estimate_leads_with_its_caveat_and_robustness(ev):
    """Issue 16, item 1: the protocol's primary model (MH RR) first, with its interval to three decimals near 1,
    its p, the common-effect caveat for k >= 2, then its fragility; the variant grid lives in the appendix."""
    from helpers.chapters import efficacy as chapter
    from helpers.review.results import results_table

    results = results_table(ev).set_index(["analysis", "measure", "method", "test"])
    values = chapter.primary_values(ev, results)
    text = values["sri4_primary_text"].text
    assert text.startswith(
        "**Primary result.** The protocol's primary analysis ({ref}`sec-protocol`), the Mantel-Haenszel "
        "{cite:p}`mantel1959` common-effect risk ratio of the two trials, is 1.33 (95% CI 1.004 to 1.757; p = 0.047)."
    )
    assert "assumes that the two trials estimate one true effect" in text and "I² = 39% (Q = 1.65 on 1 df" in text
    assert "{ref}`sec-all-models`" in values["sri4_other_text"].text
    brief = chapter.robustness_values(ev)["sri4_robustness_brief"].text
    assert "its fragility index is 1" in brief and "1.32 (95% CI 0.99 to 1.74)" in brief
    assert "0.997 to 1.014" in brief


def test_the_chapter_shows_the_primary_estimate_first_and_no_variant_table():
    """In the notebook the primary estimate and its robustness come before the forest plot and every sensitivity
    model; no table of every model, no pooled per-protocol forest and no response-rate forest remain."""
    import nbformat

    from helpers.paths import ROOT

    nb = nbformat.read(ROOT / "chapters" / "efficacy.ipynb", as_version=4)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    order = [
        "sri4_counts_text",
        "sri4_primary_text",
        "sri4_robustness_brief",
        "fig-forest-sri4-primary",
        "sri4_other_text",
        "sri4_few_trials_text",
    ]
    positions = [prose.index(key) for key in order]
    assert positions == sorted(positions)
    for gone in ("tbl-sri4-primary", "fig-forest-sri4-pp", "fig-forest-rates", "tbl-sri4-loo", "tbl-sri4-regimen"):
        assert gone not in prose


def test_the_forest_plot_shows_the_primary_model_alone(ev):
    from helpers.review.analyses import primary_forest_inputs

    inputs = primary_forest_inputs(ev, analysis(ev, "sri4_week12_rct"))
    assert list(inputs["pooled"]["label"]) == ["Primary: Fixed effect (Mantel-Haenszel)"]
    assert inputs["pooled"]["estimate"].iloc[0] == pytest.approx(1.328257948947604, rel=1e-12)
    assert inputs["studies"]["weight"].sum() == pytest.approx(100)
    assert inputs["heterogeneity"].startswith("Heterogeneity around the Mantel-Haenszel estimate: Q = 1.65 on 1 df")
    assert any("common-effect model" in n for n in inputs["notes"])
    one = primary_forest_inputs(ev, analysis(ev, "sri4_week24_rct"))
    assert one["pooled"] is None and one["heterogeneity"] is None
