"""helpers.stats.effects against metafor's escalc() and hand-worked formulas.

Reference values: tests/reference/metafor/effect_sizes.csv (metafor 3.8-1),
one test per study x measure. Tolerance: relative 1e-6 (abs 1e-12 for exact 0).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.stats import effects
from helpers.stats.effects import escalc, mean_sd_from_median, proportion_ci
from tests.metafor_reference import ATOL, RTOL, approx, reference


@cache
def _escalc_for(dataset: str, measure: str) -> pd.DataFrame:
    """Our escalc() on a reference dataset, with metafor's defaults."""
    family = {m: "binary" for m in effects.BINARY_MEASURES}
    family.update({m: "proportion" for m in effects.PROPORTION_MEASURES})
    if family.get(measure) == "binary":
        d = reference("inputs_binary.csv").query("dataset == @dataset")
        return escalc(measure, ai=d.ai, bi=d.bi, ci=d.ci, di=d.di)
    if family.get(measure) == "proportion":
        d = reference("inputs_proportion.csv").query("dataset == @dataset")
        return escalc(measure, xi=d.xi, ni=d.ni)
    d = reference("inputs_continuous.csv").query("dataset == @dataset")
    return escalc(measure, m1i=d.m1i, sd1i=d.sd1i, n1i=d.n1i, m2i=d.m2i, sd2i=d.sd2i, n2i=d.n2i)


_ES_ROWS = reference("effect_sizes.csv").to_dict("records")


@pytest.mark.parametrize("row", _ES_ROWS, ids=[f"{r['dataset']}-{r['measure']}-{r['study']}" for r in _ES_ROWS])
def test_escalc_matches_metafor(row):
    ours = _escalc_for(row["dataset"], row["measure"]).iloc[row["study"] - 1]
    assert ours["yi"] == approx(row["yi"])
    assert ours["vi"] == approx(row["vi"])
    assert ours["sei"] == approx(row["sei"])
    assert bool(ours["zero_cell_adjusted"]) == bool(row["zero_cell_adjusted"])
    assert not ours["dropped"]  # metafor's default drop00 = FALSE


def test_binary_accepts_group_sizes_instead_of_non_events():
    d = reference("inputs_binary.csv")
    for measure in effects.BINARY_MEASURES:
        by_cells = escalc(measure, ai=d.ai, bi=d.bi, ci=d.ci, di=d.di)
        by_sizes = escalc(measure, ai=d.ai, n1i=d.n1i, ci=d.ci, n2i=d.n2i)
        pd.testing.assert_frame_equal(by_cells, by_sizes)


def test_drop00_removes_only_double_zero_studies():
    d = reference("inputs_binary.csv").query("dataset == 'sparse_demo'")
    kept = escalc("RR", ai=d.ai, bi=d.bi, ci=d.ci, di=d.di)
    dropped = escalc("RR", ai=d.ai, bi=d.bi, ci=d.ci, di=d.di, drop00=True)
    assert dropped["dropped"].tolist() == [False, True, False, False]
    assert np.isnan(dropped.loc[1, ["yi", "vi", "sei"]].astype(float)).all()
    assert not dropped.loc[1, "zero_cell_adjusted"]
    pd.testing.assert_frame_equal(dropped.drop(index=1), kept.drop(index=1).assign(dropped=False))


def test_double_zero_kept_by_default_with_half_added():
    # README: the double-zero study gets yi = log((0.5/16)/(0.5/17)).
    res = escalc("RR", ai=[0], bi=[15], ci=[0], di=[16])
    assert res.loc[0, "yi"] == approx(math.log((0.5 / 16) / (0.5 / 17)))
    assert res.loc[0, "zero_cell_adjusted"]


@pytest.mark.parametrize("measure", effects.BINARY_MEASURES)
def test_continuity_correction_options(measure):
    cells = dict(ai=[0, 3], bi=[10, 7], ci=[2, 4], di=[8, 6])
    none = escalc(measure, **cells, to="none")
    assert none["zero_cell_adjusted"].tolist() == [False, False]
    every = escalc(measure, **cells, to="all")
    assert every["zero_cell_adjusted"].tolist() == [True, True]
    manual = escalc(measure, ai=[3.5], bi=[7.5], ci=[4.5], di=[6.5], to="none")
    assert every.loc[1, "yi"] == approx(manual.loc[0, "yi"])
    if0all = escalc(measure, **cells, to="if0all")
    pd.testing.assert_frame_equal(if0all, every)
    no_zero = escalc(measure, ai=[3], bi=[7], ci=[4], di=[6], to="if0all")
    assert not no_zero.loc[0, "zero_cell_adjusted"]


def test_proportion_adjustment_only_for_extremes_and_never_for_pft():
    x, n = [0, 5, 12], [12, 12, 12]
    plo = escalc("PLO", xi=x, ni=n)
    assert plo["zero_cell_adjusted"].tolist() == [True, False, True]
    # 0/12 becomes 0.5/13 (1/2 added to xi and to ni - xi).
    assert plo.loc[0, "yi"] == approx(math.log(0.5 / 12.5))
    assert plo.loc[0, "vi"] == approx(1 / 0.5 + 1 / 12.5)
    pft = escalc("PFT", xi=x, ni=n)
    assert not pft["zero_cell_adjusted"].any()
    assert pft.loc[0, "yi"] == approx(0.5 * (0 + math.asin(math.sqrt(1 / 13))))
    assert pft["vi"].tolist() == approx([1 / 50] * 3)


def test_smcr_hand_worked():
    # metafor's SMCR (raw-score standardization; Becker 1988, Morris 2008):
    #   yi = c(ni - 1) (m_post - m_pre) / sd_pre,
    #   c(m) = Γ(m/2) / (√(m/2) Γ((m - 1)/2)),
    #   vi = 2 (1 - ri) / ni + yi² / (2 ni).
    m_post, m_pre, sd_pre, n, r = 38.5, 30.6, 15.0, 20, 0.47
    m = n - 1
    c = math.exp(math.lgamma(m / 2) - math.log(math.sqrt(m / 2)) - math.lgamma((m - 1) / 2))
    assert c == pytest.approx(1 - 3 / (4 * m - 1), abs=1e-4)  # the usual approximation
    yi = c * (m_post - m_pre) / sd_pre
    vi = 2 * (1 - r) / n + yi**2 / (2 * n)
    res = escalc("SMCR", m1i=[m_post], m2i=[m_pre], sd1i=[sd_pre], ni=[n], ri=[r])
    assert res.loc[0, "yi"] == approx(yi)
    assert res.loc[0, "vi"] == approx(vi)


def test_smcr_matches_metafor_morris2008_example():
    # metafor's own test suite (test_analysis_example_morris2008.r), treatment
    # group, values printed to 4 decimals.
    res = escalc(
        "SMCR",
        m1i=[38.5, 26.8, 0.7, 75.9, 36.0],
        m2i=[30.6, 23.5, 0.5, 53.4, 35.6],
        sd1i=[15.0, 3.1, 0.1, 14.5, 4.7],
        ni=[20, 50, 9, 10, 14],
        ri=[0.47, 0.64, 0.77, 0.89, 0.44],
    )
    np.testing.assert_allclose(res["yi"], [0.5056, 1.0481, 1.8054, 1.4181, 0.0801], atol=5e-5)
    np.testing.assert_allclose(res["vi"], [0.0594, 0.0254, 0.2322, 0.1225, 0.0802], atol=5e-5)


def test_smcr_requires_ri():
    with pytest.raises(ValueError, match="ri"):
        escalc("SMCR", m1i=[1.0], m2i=[0.0], sd1i=[1.0], ni=[10])


def test_unknown_measure_and_bad_counts():
    with pytest.raises(ValueError, match="unknown measure"):
        escalc("HR", ai=[1], bi=[1], ci=[1], di=[1])
    with pytest.raises(ValueError, match="non-negative"):
        escalc("RR", ai=[5], n1i=[3], ci=[1], n2i=[4])
    with pytest.raises(ValueError, match="xi <= ni"):
        escalc("PLO", xi=[5], ni=[3])


# ---------------------------------------------------------------------------
# Back-transformations
# ---------------------------------------------------------------------------


def test_transf_exp_and_ilogit():
    assert effects.transf_exp([0.0, math.log(2)]).tolist() == approx([1.0, 2.0])
    assert effects.transf_ilogit([0.0, math.log(3)]).tolist() == approx([0.5, 0.75])


def test_transf_ipft_hm_inverts_pft_and_clamps():
    ni = np.array([10, 20, 40])
    n_hm = 3 / np.sum(1 / ni)
    p = np.array([0.1, 0.5, 0.9])
    assert effects.transf_ipft_hm(effects.transf_pft(p, n_hm), ni) == approx(p)
    lower, upper = effects.transf_pft(0.0, n_hm), effects.transf_pft(1.0, n_hm)
    assert effects.transf_ipft_hm([lower - 0.01, upper + 0.01, -1.0, 2.0], ni).tolist() == [0, 1, 0, 1]


# ---------------------------------------------------------------------------
# Per-study proportion CIs
# ---------------------------------------------------------------------------


def test_proportion_ci_exact_is_clopper_pearson():
    x, n = np.array([0, 3, 10]), np.array([10, 10, 10])
    low, high = proportion_ci(x, n, method="exact")
    # Clopper-Pearson from beta quantiles; 0 and 1 at the extremes.
    exp_low = np.where(x == 0, 0.0, stats.beta.ppf(0.025, x, n - x + 1))
    exp_high = np.where(x == n, 1.0, stats.beta.ppf(0.975, x + 1, n - x))
    np.testing.assert_allclose(low, exp_low, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(high, exp_high, rtol=RTOL, atol=ATOL)


def test_proportion_ci_wilson_hand_worked():
    x, n, z = 3, 10, stats.norm.ppf(0.975)
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low, high = proportion_ci([x], [n], method="wilson")
    assert low[0] == approx(centre - half)
    assert high[0] == approx(centre + half)


def test_proportion_ci_rejects_unknown_method():
    with pytest.raises(ValueError):
        proportion_ci([1], [2], method="wald")


# ---------------------------------------------------------------------------
# Mean/SD from median and range or IQR (Luo 2018, Wan 2014)
# ---------------------------------------------------------------------------
# Hand-worked with the papers' formulas:
#   Wan (2014) eq. 9:  ξ(n) = 2 Φ⁻¹((n - 0.375)/(n + 0.25)), SD = (b - a)/ξ(n)
#   Wan (2014) eq. 16: η(n) = 2 Φ⁻¹((0.75 n - 0.125)/(n + 0.25)), SD = (q3 - q1)/η(n)
#   Wan (2014) scenario C3: SD = ((b - a)/ξ(n) + (q3 - q1)/η(n)) / 2
#   Luo (2018) eq. 7, 11, 15 for the means (weights below).


def test_mean_sd_scenario_1_min_max():
    # n = 25: n^0.75 = 11.18034, w = 4/(4 + 11.18034) = 0.2634987,
    # mean = 0.2634987 * (10 + 50)/2 + 0.7365013 * 20 = 22.634987;
    # ξ(25) = 2 Φ⁻¹(24.625/25.25) = 2 * 1.9642168 = 3.9284337, SD = 40/3.9284337.
    res = mean_sd_from_median(20, minimum=10, maximum=50, n=25)
    assert res.loc[0, "mean"] == approx(22.634987114678516)
    assert res.loc[0, "sd"] == approx(10.182175192102886)
    assert res.loc[0, "estimated"]
    assert "Luo 2018" in res.loc[0, "method"] and "Wan 2014" in res.loc[0, "method"]


def test_mean_sd_scenario_2_iqr():
    # n = 40: w = 0.7 + 0.39/40 = 0.70975, mean = 0.70975 * 22.5 + 0.29025 * 20
    # = 21.774375; η(40) = 2 Φ⁻¹(29.875/40.25) = 1.3005087, SD = 15/1.3005087.
    res = mean_sd_from_median(20, q1=15, q3=30, n=40)
    assert res.loc[0, "mean"] == approx(21.774375)
    assert res.loc[0, "sd"] == approx(11.533948522191318)


def test_mean_sd_scenario_3_all_five():
    # n = 40: w1 = 2.2/(2.2 + 40^0.75) = 0.1215106, w2 = 0.7 - 0.72/40^0.55
    # = 0.6053328, mean = w1 * 30 + w2 * 22.5 + (1 - w1 - w2) * 20 = 22.728438;
    # ξ(40) = 4.3127114, SD = (40/4.3127114 + 15/1.3005087)/2 = 10.404428.
    res = mean_sd_from_median(20, minimum=10, q1=15, q3=30, maximum=50, n=40)
    assert res.loc[0, "mean"] == approx(22.728438133738358)
    assert res.loc[0, "sd"] == approx(10.404428080019477)


def test_mean_sd_vectorised_mixed_scenarios():
    res = mean_sd_from_median(
        [20, 20, 20],
        minimum=[10, np.nan, 10],
        maximum=[50, np.nan, 50],
        q1=[np.nan, 15, 15],
        q3=[np.nan, 30, 30],
        n=[25, 40, 40],
    )
    assert res["mean"].tolist() == approx([22.634987114678516, 21.774375, 22.728438133738358])
    assert res["method"].nunique() == 3
    assert res["estimated"].all()


def test_wan_xi_approximation_close_to_paper_table_1():
    # Wan (2014) Table 1 gives the exact expected range ξ(n) of n standard
    # normals; the closed-form approximation used here is within 1.5% of it.
    for n, xi_table in [(5, 2.326), (10, 3.078), (25, 3.931), (50, 4.498)]:
        res = mean_sd_from_median(0.0, minimum=-xi_table / 2, maximum=xi_table / 2, n=n)
        assert res.loc[0, "sd"] == pytest.approx(1.0, rel=0.015)


def test_mean_sd_input_errors():
    with pytest.raises(ValueError, match="min/max or q1/q3"):
        mean_sd_from_median(20, n=10)
    with pytest.raises(ValueError, match="min <= q1"):
        mean_sd_from_median(20, minimum=30, maximum=50, n=10)
