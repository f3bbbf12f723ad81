"""Fragility indices (helpers.stats.fragility) against base R and metafor.

Reference values: ``tests/reference/single_trial`` (``two_by_two.csv``: Walsh's index with ``fisher.test``;
``pooled_fragility.csv``: the Mantel-Haenszel risk ratio's index by exhaustive search with ``rma.mh``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.stats import fragility, pooling

FOLDER = Path(__file__).parent / "reference" / "single_trial"
TABLES = [r._asdict() for r in pd.read_csv(FOLDER / "two_by_two.csv").itertuples(index=False)]
POOLED = [r._asdict() for r in pd.read_csv(FOLDER / "pooled_fragility.csv").itertuples(index=False)]


@pytest.mark.parametrize("row", TABLES, ids=[r["label"] for r in TABLES])
def test_walsh_index_matches_r(row):
    f = fragility.walsh_fragility_index(row["a"], row["n1"], row["c"], row["n2"])
    if math.isnan(row["walsh_fi"]):
        assert f.index is None and not f.significant and f.p == pytest.approx(row["fisher_p"], rel=1e-9)
    else:
        assert f.index == int(row["walsh_fi"]) and f.significant
        assert f.p >= 0.05
        ((i, arm, delta),) = f.changes
        assert delta == f.index and arm == ("treatment" if row["a"] <= row["c"] else "control")


def _ints(text: str) -> list[int]:
    return [int(x) for x in str(text).split(";")]


@pytest.mark.parametrize("row", POOLED, ids=[r["label"] for r in POOLED])
def test_pooled_index_matches_r(row):
    ai, n1, ci, n2 = (_ints(row[k]) for k in ("ai", "n1i", "ci", "n2i"))
    f = fragility.fragility_index(ai, n1, ci, n2)
    assert f.significant == bool(row["significant"]) and f.reverse == (not row["significant"])
    assert f.index == row["fi"]
    assert list(f.ai) == _ints(row["ai_after"]) and list(f.ci) == _ints(row["ci_after"])
    assert (f.estimate, f.ci_low, f.ci_high) == pytest.approx(
        (row["estimate_after"], row["ci_lb_after"], row["ci_ub_after"]), rel=1e-9, abs=1e-12
    )
    assert sum(abs(d) for _, _, d in f.changes) == f.index


def test_primary_sri4_index_is_one():
    """Issue 16: one LUPIL-2 IL-2 responder fewer (33/50) turns the MH RR 1.33 (1.004 to 1.76) into 1.30 (0.98 to 1.73)."""
    f = fragility.fragility_index([16, 34], [29, 50], [9, 29], [30, 50])
    assert f.index == 1 and f.changes == ((1, "treatment", -1),)
    assert [round(math.exp(x), 2) for x in (f.estimate, f.ci_low, f.ci_high)] == [1.30, 0.98, 1.73]


def test_vectorised_interval_equals_rma_mh():
    """mh_interval evaluates many candidate tables at once with the same numbers as rma_mh one at a time."""
    rng = np.random.default_rng(1)
    n1, n2 = rng.integers(10, 60, size=(50, 3)), rng.integers(10, 60, size=(50, 3))
    a, c = rng.integers(1, 10, size=(50, 3)), rng.integers(1, 10, size=(50, 3))
    for measure in ("RR", "OR", "RD"):
        est, low, high = fragility.mh_interval(measure)(a, n1, c, n2)
        for i in range(50):
            fit = pooling.rma_mh(a[i], n1[i] - a[i], c[i], n2[i] - c[i], measure=measure)
            assert (est[i], low[i], high[i]) == pytest.approx((fit.estimate, fit.ci_low, fit.ci_high), rel=1e-12)


def test_row_by_row_interval_gives_the_same_index():
    def scalar(a, n1, c, n2):
        fit = pooling.rma_mh(a, n1 - a, c, n2 - c, measure="RR")
        return fit.estimate, fit.ci_low, fit.ci_high

    f = fragility.fragility_index([16, 34], [29, 50], [9, 29], [30, 50], fragility.row_by_row(scalar))
    assert f.index == 1 and f.ai == (16, 33)


def test_search_is_exhaustive_not_greedy():
    """SYNTHETIC: the fewest changes may need several arms at once; the index is the minimum over all of them."""
    f = fragility.fragility_index([20, 25], [40, 45], [8, 10], [40, 45])
    assert f.index == 14
    for fewer in range(1, 14):  # no set of 13 changes (any arms) loses significance: checked by brute force
        parts = np.array(list(fragility._compositions(fewer, [20, 25, 32, 35])))
        a = np.array([20, 25]) - parts[:, :2]
        c = np.array([8, 10]) + parts[:, 2:]
        _, low, _ = fragility.mh_interval("RR")(a, np.tile([40, 45], (len(a), 1)), c, np.tile([40, 45], (len(a), 1)))
        assert (low > 0).all()


def test_no_change_can_cross():
    """SYNTHETIC: a single tiny trial whose interval always includes 1, even with every patient moved."""
    f = fragility.fragility_index([1], [2], [1], [2])
    assert f.index is None and not f.significant


@pytest.mark.parametrize("row", POOLED, ids=[r["label"] for r in POOLED])
def test_greedy_search_beyond_the_budget(row):
    """Past the evaluation budget, Atal et al.'s one-change-at-a-time search: an upper bound of the minimum (on
    these sets it finds the minimum too), with changes that do cross."""
    ai, n1, ci, n2 = (_ints(row[k]) for k in ("ai", "n1i", "ci", "n2i"))
    f = fragility.fragility_index(ai, n1, ci, n2, max_evaluations=1)
    assert f.definition == "greedy" and f.index >= row["fi"] and f.index == row["fi"]
    assert sum(abs(d) for _, _, d in f.changes) == f.index
    est, low, high = fragility.mh_interval()(np.array([f.ai]), np.array([n1]), np.array([f.ci]), np.array([n2]))
    assert (low[0] > 0 or high[0] < 0) != bool(row["significant"])
