"""helpers.stats.two_by_two against base R, and helpers.stats.reported's precision rule."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.stats.reported import parse_reported, percent_attainable, percent_reproduces
from helpers.stats.two_by_two import TESTS, n_minus_1_chi2, p_values, pearson_chi2, table

REF = pd.read_csv(Path(__file__).parent / "reference" / "two_by_two" / "two_by_two.csv")
CASES = [tuple(int(v) for v in r) for r in REF[["e1", "n1", "e2", "n2"]].itertuples(index=False)]


def _close(value: float, reference: float) -> bool:
    if math.isnan(reference):
        return math.isnan(value)
    return value == pytest.approx(reference, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("case", CASES, ids=[f"{e1}/{n1} vs {e2}/{n2}" for e1, n1, e2, n2 in CASES])
def test_every_p_value_matches_r(case):
    ref = REF.set_index(["e1", "n1", "e2", "n2"]).loc[case]
    p = p_values(*case)
    assert list(p) == list(TESTS)
    for test in TESTS:
        assert _close(p[test], float(ref[f"{test}_p"])), (test, p[test], ref[f"{test}_p"])
    x = table(*case)
    assert _close(pearson_chi2(x)[0], float(ref["pearson_stat"]))
    assert _close(pearson_chi2(x, correction=True)[0], float(ref["yates_stat"]))
    assert _close(n_minus_1_chi2(x)[0], float(ref["n_minus_1_stat"]))


def test_known_values_of_the_issue():
    """16/29 vs 9/30 (data/outcomes.csv): Pearson 0.0504, not 0.0497; the N - 1 chi-square gives 0.0524."""
    p = p_values(16, 29, 9, 30)
    assert round(p["pearson"], 4) == 0.0504
    assert round(p["yates"], 4) == 0.0905
    assert round(p["n_minus_1"], 4) == 0.0524
    assert round(p["fisher"], 4) == 0.0673
    assert {t: round(v, 4) for t, v in p_values(34, 50, 29, 50).items()} == {
        "pearson": 0.3004,
        "yates": 0.4074,
        "n_minus_1": 0.3028,
        "fisher": 0.4076,
    }


def test_empty_margin_has_no_chi_square_and_fisher_one():
    p = p_values(0, 30, 0, 30)
    assert math.isnan(p["pearson"]) and math.isnan(p["yates"]) and math.isnan(p["n_minus_1"])
    assert p["fisher"] == 1.0


@pytest.mark.parametrize("bad", [(-1, 10, 2, 10), (11, 10, 2, 10), (1, 0, 0, 5), (1.5, 10, 2, 10)])
def test_impossible_counts_are_refused(bad):
    with pytest.raises(ValueError, match="2x2 counts"):
        p_values(*bad)


def test_reported_figures_keep_their_decimals():
    assert parse_reported("0.052") == parse_reported(" 0.052 ")
    r = parse_reported("0.052")
    assert (r.relation, r.value, r.decimals, r.half_unit) == ("=", Fraction(52, 1000), 3, Fraction(1, 2000))
    assert parse_reported("68").decimals == 0 and parse_reported("30.00").decimals == 2
    assert (parse_reported("<0.001").relation, parse_reported("<0.001").value) == ("<", Fraction(1, 1000))
    assert parse_reported(">0.05").relation == ">"
    assert parse_reported("1.000").value == 1
    for bad in ("", "<", "p=0.05", "0.05a", "NS"):
        with pytest.raises(ValueError, match="not a reported number"):
            parse_reported(bad)


def test_half_a_unit_of_the_last_digit_reproduces():
    r = parse_reported("0.052")
    assert r.reproduced_by(0.0524409) and r.reproduced_by(0.0515) and r.reproduced_by(Fraction(525, 10000))
    assert r.reproduced_by(np.float64(0.0515)) and r.reproduced_by(np.float64(0.0524409))
    assert not r.reproduced_by(0.0504481) and not r.reproduced_by(0.05256) and not r.reproduced_by(math.nan)
    assert r.rule() == "between 0.0515 and 0.0525"
    less = parse_reported("<0.001")
    assert less.reproduced_by(4.5e-7) and not less.reproduced_by(0.001)
    assert less.rule() == "below 0.001"
    assert parse_reported(">0.05").reproduced_by(0.2) and not parse_reported(">0.05").reproduced_by(0.05)


def test_percentages_at_their_reported_precision():
    assert percent_reproduces(16, 29, parse_reported("55.17"))  # 55.1724...
    assert not percent_reproduces(16, 30, parse_reported("55.17"))  # 53.33
    assert percent_reproduces(34, 50, parse_reported("68")) and percent_reproduces(20, 24, parse_reported("83.3"))
    assert not percent_reproduces(22, 40, parse_reported("55.04"))  # 55.00: within 0.051 points, not at 2 decimals
    assert percent_reproduces(1, 8, parse_reported("12.5")) and percent_reproduces(1, 8, parse_reported("13"))
    assert percent_reproduces(1, 8, parse_reported("12"))  # 12.5 exactly: a tie reproduces under either rounding
    assert percent_attainable(50, parse_reported("58")) and not percent_attainable(49, parse_reported("58"))
    assert not percent_attainable(40, parse_reported("55.04"))
