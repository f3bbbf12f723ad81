"""One trial's comparison (helpers.stats.single_trial) against base R and Newcombe's published examples.

Reference values: ``tests/reference/single_trial/two_by_two.csv``, written by ``make_reference.R`` there
(the Wilson score interval written out, Newcombe's method 10, the log RR interval, ``fisher.test``).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from helpers.stats import single_trial

REFERENCE = pd.read_csv(Path(__file__).parent / "reference" / "single_trial" / "two_by_two.csv")
ROWS = [r._asdict() for r in REFERENCE.itertuples(index=False)]

#: Newcombe (1998), Table II, method 10 (score, no continuity correction), to the 4 decimals printed there.
NEWCOMBE_TABLE_II = {
    (56, 70, 48, 80): (0.0524, 0.3339),
    (9, 10, 3, 10): (0.1705, 0.8090),
    (6, 7, 2, 7): (0.0582, 0.8062),
    (5, 56, 0, 29): (-0.0381, 0.1926),
    (0, 10, 0, 20): (-0.1611, 0.2775),
    (0, 10, 0, 10): (-0.2775, 0.2775),
    (10, 10, 0, 20): (0.6791, 1.0000),
    (10, 10, 0, 10): (0.6075, 1.0000),
}


@pytest.mark.parametrize("row", ROWS, ids=[r["label"] for r in ROWS])
def test_matches_base_r(row):
    a, n1, c, n2 = row["a"], row["n1"], row["c"], row["n2"]
    cmp = single_trial.compare(a, n1, c, n2)
    assert cmp.rd == pytest.approx(row["rd"], rel=1e-12, abs=1e-15)
    assert (cmp.rd_low, cmp.rd_high) == pytest.approx((row["newcombe_low"], row["newcombe_high"]), rel=1e-9, abs=1e-12)
    assert cmp.p_rd == cmp.p_rr == pytest.approx(row["fisher_p"], rel=1e-9)
    if math.isnan(row["rr"]):
        assert math.isnan(cmp.rr) and math.isnan(cmp.rr_low) and math.isnan(cmp.rr_high)
    else:
        assert (cmp.rr, cmp.rr_low, cmp.rr_high) == pytest.approx((row["rr"], row["rr_low"], row["rr_high"]), rel=1e-9)
    rd, low, high, _ = single_trial.risk_difference(a, n1, c, n2, method="wald")
    if math.isnan(row["wald_low"]):
        assert math.isnan(low) and math.isnan(high)
    else:
        assert (low, high) == pytest.approx((row["wald_low"], row["wald_high"]), rel=1e-9)


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II.items())
def test_newcombe_1998_table_ii(counts, published):
    _, low, high, _ = single_trial.risk_difference(*counts, method="newcombe")
    assert (round(low, 4), round(high, 4)) == published


def test_fever_from_the_issue():
    """Issue 16: fever 4/29 vs 0/30, Wald RD 13.8 points (1.2 to 26.3); Newcombe -0.3 to 30.6; Fisher p 0.052."""
    wald = single_trial.risk_difference(4, 29, 0, 30, method="wald")
    newcombe = single_trial.compare(4, 29, 0, 30)
    assert [round(100 * x, 1) for x in wald[:3]] == [13.8, 1.2, 26.3]
    assert [round(100 * x, 1) for x in (newcombe.rd, newcombe.rd_low, newcombe.rd_high)] == [13.8, -0.3, 30.6]
    assert round(newcombe.p_rd, 3) == 0.052 and math.isnan(newcombe.rr)


def test_z_test_gives_each_measure_its_wald_p():
    cmp = single_trial.compare(9, 29, 2, 30, test="z")
    log_rr, se = math.log((9 / 29) / (2 / 30)), math.sqrt(1 / 9 - 1 / 29 + 1 / 2 - 1 / 30)
    assert cmp.p_rr == pytest.approx(math.erfc(abs(log_rr / se) / math.sqrt(2)), rel=1e-9)
    assert cmp.p_rr != cmp.p_rd


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((5, 4, 0, 10), {}, "events <= total"),
        ((1, 0, 0, 10), {}, "total >= 1"),
        ((1.5, 10, 0, 10), {}, "whole numbers"),
        ((1, 10, 0, 10), {"test": "chisq"}, "test must be"),
        ((1, 10, 0, 10), {"risk_difference_method": "exact"}, "method must be"),
    ],
)
def test_bad_input_is_refused(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        single_trial.compare(*args, **kwargs)
