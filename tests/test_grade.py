"""GRADE judgements (helpers.review.grade): each domain rule on SYNTHETIC inputs, the optimal
information size against an independent computation, and the real summary of findings."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from helpers.review import grade
from helpers.review.grade import Judgement


def test_optimal_information_size_matches_the_two_proportion_formula():
    # Independent: scipy.stats quantiles, written out; control risk 0.475 (the real primary
    # analysis' placebo arms, 38/80), +25%: 274 per arm.
    p0, p1 = 0.475, 0.475 * 1.25
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    per_arm = math.ceil(z**2 * (p1 * (1 - p1) + p0 * (1 - p0)) / (p1 - p0) ** 2)
    assert per_arm == 274
    assert grade.optimal_information_size(p0, 0.25, 0.05, 0.8) == 2 * per_arm
    # A harm: the risk falls by 25%.
    assert grade.optimal_information_size(0.1, -0.25, 0.05, 0.8) == 2 * math.ceil(
        z**2 * (0.075 * 0.925 + 0.1 * 0.9) / 0.025**2
    )
    assert math.isnan(grade.optimal_information_size(0.0, 0.25, 0.05, 0.8))
    assert math.isnan(grade.optimal_information_size(0.9, 0.25, 0.05, 0.8))  # 1.125 is no risk


def test_certainty_is_lowered_by_the_sum_and_stops_at_very_low():
    j = [Judgement("risk_of_bias", 1, "x"), Judgement("imprecision", 2, "y")]
    assert grade.certainty("high", tuple(j[:1])) == "moderate"
    assert grade.certainty("high", tuple(j)) == "very low"
    assert grade.certainty("low", tuple(j)) == "very low"
    assert grade.certainty("high", ()) == "high"


@pytest.mark.parametrize(
    ("overall", "downgrade"),
    [
        ({"Synthetic A": "low", "Synthetic B": "low"}, 0),
        ({"Synthetic A": "low", "Synthetic B": "some concerns"}, 1),
        ({"Synthetic A": "high", "Synthetic B": "some concerns"}, 1),
        ({"Synthetic A": "high", "Synthetic B": "high"}, 2),
    ],
)
def test_risk_of_bias_rule(overall, downgrade):
    j = grade.judge_risk_of_bias(overall, {"very_serious_if_all_high": True})
    assert j.downgrade == downgrade
    assert all(name in j.reason for name in overall)


def _studies(estimates, lows, highs):
    return pd.DataFrame({"estimate": estimates, "ci_low": lows, "ci_high": highs})


def test_inconsistency_rules():
    same = _studies([1.5, 1.2], [1.0, 0.8], [2.2, 1.8])
    assert grade.judge_inconsistency(2, 39.5, same, 1.0, 50).downgrade == 0
    assert grade.judge_inconsistency(2, 50.0, same, 1.0, 50).downgrade == 1  # at the threshold
    opposite_disjoint = _studies([2.0, 0.5], [1.5, 0.3], [2.7, 0.8])
    j = grade.judge_inconsistency(2, 10.0, opposite_disjoint, 1.0, 50)
    assert j.downgrade == 1 and "opposite sides" in j.reason
    one = grade.judge_inconsistency(1, 0.0, same.iloc[:1], 1.0, 50)
    assert (one.downgrade, one.assessable, one.verdict) == (0, False, "not assessable")


def test_imprecision_rules():
    # Excludes 1 but short of the information size: lowered once.
    j = grade.judge_imprecision((1.33, 1.004, 1.757), 1.0, (0.75, 1.25), 159, 548)
    assert j.downgrade == 1 and "159 patients against an optimal information size of 548" in j.reason
    # Excludes 1 and enough patients: not lowered.
    assert grade.judge_imprecision((1.33, 1.1, 1.6), 1.0, (0.75, 1.25), 600, 548).downgrade == 0
    # Includes 1 only: once; includes 0.75 and 1.25: twice.
    assert grade.judge_imprecision((1.1, 0.9, 1.3), 1.0, (0.75, 1.25), 600, 548).downgrade == 1
    assert grade.judge_imprecision((0.15, 0.01, 2.74), 1.0, (0.75, 1.25), 59, 5008).downgrade == 2
    # A risk difference has no appreciable-ratio rule.
    assert grade.judge_imprecision((0.14, -0.003, 0.31), 0.0, None, 59, math.nan).downgrade == 1


def test_publication_bias_is_not_assessable_below_the_minimum():
    j = grade.judge_publication_bias(2, 10)
    assert (j.downgrade, j.assessable) == (0, False)
    assert "2 studies" in j.reason and "at least 10" in j.reason
    assert grade.judge_publication_bias(12, 10).assessable


def test_absolute_effects_per_1000():
    a = grade.per_1000(0.475, "RR", 1.328, 1.004, 1.757)
    assert a["control_per_1000"] == pytest.approx(475)
    assert a["difference_per_1000"] == pytest.approx(475 * 0.328)
    assert (a["difference_low"], a["difference_high"]) == pytest.approx((475 * 0.004, 475 * 0.757))
    d = grade.per_1000(0.0, "RD", 0.138, -0.003, 0.306)
    assert (d["difference_per_1000"], d["difference_low"]) == pytest.approx((138, 0))  # a risk cannot fall below 0


def test_absolute_risk_is_capped_at_1000_per_1000():
    # He 2020's lupus nephritis remission: control 2/12, RR up to 12.61: 2,102 per 1,000 uncapped.
    a = grade.per_1000(2 / 12, "RR", 3.23, 0.83, 12.61)
    assert a["difference_high"] == pytest.approx(1000 - 1000 * 2 / 12)
    assert a["difference_low"] == pytest.approx(1000 * 2 / 12 * (0.83 - 1))
    d = grade.per_1000(0.1, "RD", -0.1, -0.256, 0.034)
    assert d["difference_low"] == pytest.approx(-100)  # the risk cannot fall below 0
