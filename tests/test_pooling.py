"""helpers.stats.pooling against metafor 3.8-1 (tests/reference/metafor).

Every row of pooled.csv, mh_peto.csv and leave1out.csv is a test case.
Tolerance: relative 1e-6, absolute 1e-12 (for values that are exactly 0).

About metafor's "default" vs "tight" rows (see the reference README): with its
default control, metafor stops REML Fisher scoring when tau² changes by less
than 1e-5 and solves PM with uniroot(tol = 1.2e-4), so those rows are only
accurate to ~1e-4 on the tau² scale. Our fits are exact by default and are
compared with the "tight" rows. With ``METAFOR_DEFAULT_CONTROL`` our REML runs
metafor's algorithm with its early stop, so the default REML rows are matched
at 1e-6 too. For PM the default rows are checked only to the uniroot tolerance
on tau² (R's uniroot and scipy's brentq take different last steps).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from helpers.stats import effects
from helpers.stats.pooling import (
    DEFAULT_CONTROL,
    METAFOR_DEFAULT_CONTROL,
    PI_NOTE_FEW_STUDIES,
    PI_NOTE_FIXED,
    back_transform,
    leave1out,
    predict,
    rma,
    rma_mh,
    rma_peto,
    subgroup,
)
from tests.metafor_reference import approx, reference

UNIROOT_TOL = np.finfo(float).eps ** 0.25  # metafor's default PM tolerance on tau²


@cache
def _yi_vi(dataset: str, measure: str) -> tuple[np.ndarray, np.ndarray]:
    es = reference("effect_sizes.csv").query("dataset == @dataset and measure == @measure")
    return es["yi"].to_numpy(), es["vi"].to_numpy()


def _ni(dataset: str):
    return reference("inputs_proportion.csv").query("dataset == @dataset")["ni"].to_numpy()


def _tables(dataset: str):
    d = reference("inputs_binary.csv").query("dataset == @dataset")
    return d.ai, d.bi, d.ci, d.di


def _check(ours: float, ref: float, what: str) -> None:
    if pd.isna(ref):
        assert math.isnan(ours), f"{what}: metafor gives NA, we give {ours}"
    else:
        assert ours == approx(ref), what


# ---------------------------------------------------------------------------
# pooled.csv: rma.uni fits
# ---------------------------------------------------------------------------

_POOLED = reference("pooled.csv").to_dict("records")


def _pooled_id(r) -> str:
    return f"{r['dataset']}-{r['measure']}-{r['method']}-{r['test']}-{r['control']}"


def _exact_rows(rows):
    """Rows we match at 1e-6: tight rows, closed-form methods, and default REML
    (reproduced with metafor's own convergence settings)."""
    return [r for r in rows if r["control"] == "tight" or r["method"] != "PM"]


@pytest.mark.parametrize("row", _exact_rows(_POOLED), ids=_pooled_id)
def test_rma_matches_metafor(row):
    yi, vi = _yi_vi(row["dataset"], row["measure"])
    control = METAFOR_DEFAULT_CONTROL if row["control"] == "default" else None
    fit = rma(yi, vi, method=row["method"], test=row["test"], measure=row["measure"], control=control)

    assert fit.k == row["k"]
    assert fit.q_df == row["QE_df"]
    for ours, ref in [
        ("estimate", "estimate"),
        ("se", "se"),
        ("stat", "stat"),
        ("pval", "pval"),
        ("ci_low", "ci_lb"),
        ("ci_high", "ci_ub"),
        ("tau2", "tau2"),
        ("tau", "tau"),
        ("i2", "I2"),
        ("h2", "H2"),
        ("q", "QE"),
        ("q_p", "QEp"),
        ("vt", "vt"),
        ("kh_s2w", "kh_s2w"),
        ("df", "df"),
    ]:
        _check(getattr(fit, ours), row[ref], ref)

    # metafor's default predict(): NA for FE models.
    pi = predict(fit, pi_type="metafor")
    _check(pi.low, row["pi_lb"], "pi_lb")
    _check(pi.high, row["pi_ub"], "pi_ub")

    # The book's interval (HTS) is predict(pi.type = "riley"), used when k >= 3.
    if fit.model == "fixed":
        assert math.isnan(fit.pi_low) and fit.pi_note == PI_NOTE_FIXED
    elif fit.k >= 3:
        assert fit.pi_low == approx(row["pi_riley_lb"])
        assert fit.pi_high == approx(row["pi_riley_ub"])
        assert fit.pi_note is None
    else:
        assert math.isnan(fit.pi_low) and math.isnan(fit.pi_high)
        assert fit.pi_note == PI_NOTE_FEW_STUDIES

    if row["bt_transf"] != "none":
        ni = _ni(row["dataset"]) if row["measure"] == "PFT" else None
        bt = back_transform(fit, ni=ni, pi_type="metafor")
        for ours, ref in [
            ("estimate", "bt_estimate"),
            ("ci_low", "bt_ci_lb"),
            ("ci_high", "bt_ci_ub"),
            ("pi_low", "bt_pi_lb"),
            ("pi_high", "bt_pi_ub"),
        ]:
            _check(bt[ours], row[ref], ref)


_PM_DEFAULT = [r for r in _POOLED if r["control"] == "default" and r["method"] == "PM"]


@pytest.mark.parametrize("row", _PM_DEFAULT, ids=_pooled_id)
def test_pm_default_rows_within_uniroot_tolerance(row):
    # metafor's default PM stops uniroot at tol = eps^0.25 ~ 1.2e-4 on tau²
    # (README: "accurate only to about 1e-4 in absolute terms on the tau2
    # scale"), so an absolute tau² tolerance of that size is the honest check;
    # everything else about PM is checked against the tight rows above.
    yi, vi = _yi_vi(row["dataset"], row["measure"])
    fit = rma(yi, vi, method="PM", test=row["test"])
    assert abs(fit.tau2 - row["tau2"]) <= UNIROOT_TOL


def test_pm_matches_tight_metafor():
    # Why pooling.py solves PM with brentq rather than statsmodels' iteration:
    # statsmodels stops at |Q - (k-1)| < 1e-5 (and combine_effects discards the
    # convergence flag), which leaves tau² ~4e-7 off for extreme_demo PFT.
    yi, vi = _yi_vi("extreme_demo", "PFT")
    tight = (
        reference("pooled.csv")
        .query(
            "dataset == 'extreme_demo' and measure == 'PFT' and method == 'PM' and test == 'z' and control == 'tight'"
        )["tau2"]
        .item()
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        sm = combine_effects(yi, vi, method_re="pm").tau2
    assert abs(sm - tight) / tight > 1e-7
    assert rma(yi, vi, method="PM").tau2 == pytest.approx(tight, rel=1e-10)


def test_statsmodels_dl_is_not_truncated():
    # Why pooling.py floors statsmodels' DL tau² at 0: for homogeneous data
    # statsmodels returns a negative tau² (and RE weights built from it).
    yi, vi = _yi_vi("sparse_demo", "RR")
    with np.errstate(divide="ignore", invalid="ignore"):
        sm = combine_effects(yi, vi, method_re="dl")
    assert sm.tau2 < 0 and sm.i2 < 0
    fit = rma(yi, vi, method="DL")
    assert fit.tau2 == 0 and fit.i2 == 0
    assert fit.estimate == approx(rma(yi, vi, method="FE").estimate)


def test_default_control_is_tight_and_metafor_default_is_not():
    # REML with metafor's defaults stops early: on dat.bcg RD the two differ by
    # ~1e-4 relative on tau², and only the tight fit matches the tight row.
    yi, vi = _yi_vi("dat.bcg", "RD")
    exact = rma(yi, vi, method="REML").tau2
    early = rma(yi, vi, method="REML", control=METAFOR_DEFAULT_CONTROL).tau2
    assert abs(exact - early) / exact > 1e-5
    assert DEFAULT_CONTROL["threshold"] < METAFOR_DEFAULT_CONTROL["threshold"]
    with pytest.raises(ValueError, match="unknown control"):
        rma(yi, vi, control={"stepadj": 1})


# ---------------------------------------------------------------------------
# mh_peto.csv
# ---------------------------------------------------------------------------

_MH = reference("mh_peto.csv").to_dict("records")


@pytest.mark.parametrize("row", _MH, ids=[f"{r['dataset']}-{r['method']}-{r['measure']}" for r in _MH])
def test_mh_and_peto_match_metafor(row):
    tables = _tables(row["dataset"])
    if row["method"] == "MH":
        fit = rma_mh(*tables, measure=row["measure"])
    else:
        fit = rma_peto(*tables)
    assert fit.k == row["k"]
    assert fit.q_df == row["k_yi"] - 1
    assert len(fit.dropped) == row["k"] - row["k_yi"]
    for ours, ref in [
        ("estimate", "estimate"),
        ("se", "se"),
        ("stat", "zval"),
        ("pval", "pval"),
        ("ci_low", "ci_lb"),
        ("ci_high", "ci_ub"),
        ("q", "QE"),
        ("q_p", "QEp"),
        ("i2", "I2"),
        ("h2", "H2"),
        ("tau2", "tau2"),
    ]:
        _check(getattr(fit, ours), row[ref], ref)
    if row["bt_transf"] == "exp":
        bt = back_transform(fit, "OR" if row["method"] == "Peto" else row["measure"])
        assert bt["estimate"] == approx(row["bt_estimate"])
        assert bt["ci_low"] == approx(row["bt_ci_lb"])
        assert bt["ci_high"] == approx(row["bt_ci_ub"])
        assert math.isnan(bt["pi_low"])
    assert fit.pi_note == PI_NOTE_FIXED
    assert fit.weights.sum() == approx(100)


def test_mh_reports_double_zero_study_as_dropped():
    fit = rma_mh(*_tables("sparse_demo"), measure="RR")
    assert fit.dropped == (1,)
    assert fit.k == 4
    assert fit.weights[1] == 0  # contributes nothing to the MH RR


# ---------------------------------------------------------------------------
# leave1out.csv
# ---------------------------------------------------------------------------

_L1O = reference("leave1out.csv").to_dict("records")


@cache
def _leave1out(dataset: str, method: str, control: str) -> pd.DataFrame:
    yi, vi = _yi_vi(dataset, "RR")
    labels = reference("effect_sizes.csv").query("dataset == @dataset and measure == 'RR'")["label"]
    # Default REML rows: metafor's early-stopping REML, reproduced exactly with
    # its own control settings (so 1e-6 holds; without it the README's 1e-4
    # tau² accuracy would be the bound). Tight rows: our default (exact) fit.
    con = METAFOR_DEFAULT_CONTROL if (method == "REML" and control == "default") else None
    return leave1out(yi, vi, method=method, test="z", labels=list(labels), control=con)


@pytest.mark.parametrize(
    "row",
    _L1O,
    ids=[f"{r['dataset']}-{r['method']}-{r['control']}-{r['dropped_study']}" for r in _L1O],
)
def test_leave1out_matches_metafor(row):
    table = _leave1out(row["dataset"], row["method"], row["control"])
    ours = table.iloc[row["dropped_study"] - 1]
    assert ours["left_out"] == row["dropped_label"]
    assert ours["k"] == row["k"]
    for mine, ref in [
        ("estimate", "estimate"),
        ("se", "se"),
        ("stat", "zval"),
        ("p", "pval"),
        ("ci_low", "ci_lb"),
        ("ci_high", "ci_ub"),
        ("tau2", "tau2"),
        ("i2", "I2"),
        ("h2", "H2"),
        ("q", "QE"),
        ("q_p", "QEp"),
    ]:
        assert ours[mine] == approx(row[ref]), ref


def test_leave1out_default_labels_are_indices():
    yi, vi = _yi_vi("dat.bcg", "RR")
    table = leave1out(yi, vi, method="DL")
    assert table["left_out"].tolist() == list(range(len(yi)))
    assert list(table.columns) == ["left_out", *rma(yi, vi).tidy().columns]


# ---------------------------------------------------------------------------
# Result object, special cases and the remaining API
# ---------------------------------------------------------------------------


def test_tidy_columns_and_values():
    yi, vi = _yi_vi("dat.bcg", "RR")
    fit = rma(yi, vi, method="REML", measure="RR")
    tidy = fit.tidy()
    assert list(tidy.columns) == [
        "measure",
        "model",
        "method",
        "test",
        "k",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "pi_low",
        "pi_high",
        "pi_note",
        "tau2",
        "i2",
        "h2",
        "q",
        "q_df",
        "q_p",
        "stat",
        "df",
        "p",
    ]
    assert len(tidy) == 1
    row = tidy.iloc[0]
    assert row["model"] == "random" and row["measure"] == "RR" and row["p"] == fit.pval
    assert list(fit.to_dict()) == list(tidy.columns)
    assert fit.to_dict()["estimate"] == row["estimate"] == fit.estimate
    assert rma(yi, vi, method="FE").to_dict()["model"] == "fixed"


def test_result_is_frozen_and_weights_read_only():
    fit = rma([0.1, 0.3, 0.2], [0.01, 0.02, 0.03])
    with pytest.raises(AttributeError):
        fit.tau2 = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        fit.weights[0] = 50.0
    assert fit.weights.sum() == approx(100)


@pytest.mark.parametrize("method", ["FE", "DL", "PM", "REML", "HS", "SJ"])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_single_study_pools_to_itself(method, test):
    # metafor with k = 1: tau² = 0, test set to "z", QE = 0, QEp = 1, I² = 0, H² = 1.
    fit = rma([0.4], [0.09], method=method, test=test)
    assert (fit.estimate, fit.se, fit.tau2, fit.test) == (0.4, approx(0.3), 0.0, "z")
    assert (fit.q, fit.q_p, fit.i2, fit.h2, fit.q_df) == (0.0, 1.0, 0.0, 1.0, 0)
    assert math.isnan(fit.pi_low)


def test_knha_scale_is_zero_for_identical_effects_like_metafor():
    fit = rma([0.2, 0.2, 0.2], [0.01, 0.02, 0.03], method="REML", test="knha")
    assert fit.kh_s2w == 0 and fit.se == 0 and fit.ci_low == fit.ci_high == 0.2


def test_predict_rejects_unknown_type():
    with pytest.raises(ValueError):
        predict(rma([0.1, 0.2, 0.3], [0.1, 0.1, 0.1]), pi_type="riley")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"yi": [0.1, 0.2], "vi": [0.1]}, "same length"),
        ({"yi": [0.1, np.nan], "vi": [0.1, 0.1]}, "finite"),
        ({"yi": [0.1, 0.2], "vi": [0.1, 0.0]}, "positive"),
        ({"yi": [], "vi": []}, "at least one"),
        ({"yi": [0.1], "vi": [0.1], "method": "ML"}, "method"),
        ({"yi": [0.1], "vi": [0.1], "test": "t"}, "test"),
    ],
)
def test_rma_input_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rma(**kwargs)


def test_subgroup_q_between_is_fixed_effect_test_of_group_estimates():
    yi, vi = _yi_vi("dat.bcg", "RR")
    groups = ["early"] * 6 + ["late"] * 7
    table = subgroup(yi, vi, groups, method="DL")
    assert table["group"].tolist() == ["early", "late"]
    early = rma(yi[:6], vi[:6], method="DL")
    late = rma(yi[6:], vi[6:], method="DL")
    assert table.loc[0, "estimate"] == approx(early.estimate)
    assert table.loc[1, "tau2"] == approx(late.tau2)
    w = np.array([1 / early.se**2, 1 / late.se**2])
    est = np.array([early.estimate, late.estimate])
    q_between = np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2)
    assert table["q_between"].tolist() == approx([q_between] * 2)
    assert table["q_between_df"].tolist() == [1, 1]
    assert table.loc[0, "q_between_p"] == approx(stats.chi2.sf(q_between, 1))


def test_subgroup_single_group_has_no_test():
    table = subgroup([0.1, 0.2, 0.4], [0.01, 0.02, 0.03], ["a", "a", "a"])
    assert len(table) == 1 and math.isnan(table.loc[0, "q_between"])


def test_back_transform_identity_and_pft_needs_ni():
    fit = rma([1.0, 2.0, 4.0], [0.5, 0.5, 0.5], measure="MD")
    bt = back_transform(fit)
    assert bt["estimate"] == fit.estimate and bt["pi_low"] == fit.pi_low
    with pytest.raises(ValueError, match="ni"):
        back_transform(rma([0.5, 0.6], [0.01, 0.01], measure="PFT"))


# ---------------------------------------------------------------------------
# The fit carries its inputs; leave1out / subgroup / back_transform take the fit
# ---------------------------------------------------------------------------


def _labels(dataset: str, measure: str) -> list[str]:
    return reference("effect_sizes.csv").query("dataset == @dataset and measure == @measure")["label"].tolist()


def test_fit_carries_its_inputs():
    yi, vi = _yi_vi("dat.pritz1997", "PFT")
    labels, ni = _labels("dat.pritz1997", "PFT"), _ni("dat.pritz1997")
    fit = rma(yi, vi, method="REML", measure="PFT", labels=labels, ni=ni)
    assert np.array_equal(fit.yi, yi) and np.array_equal(fit.vi, vi) and np.array_equal(fit.ni, ni)
    assert fit.labels == tuple(labels)
    # copies, read-only, like weights: the caller's arrays can change without reaching the fit
    assert not fit.yi.flags.writeable and not fit.vi.flags.writeable and not fit.ni.flags.writeable
    changed = yi.copy()
    fit2 = rma(changed, vi)
    changed[0] = 99.0
    assert fit2.yi[0] == yi[0] and fit2.labels is None and fit2.ni is None
    assert dict(fit.control) == dict(DEFAULT_CONTROL)
    # the inputs are not columns of the tidy row
    assert list(fit.tidy().columns) == list(rma(yi, vi).tidy().columns)
    assert not {"yi", "vi", "labels", "ni", "control"} & set(fit.to_dict())


def test_fit_inputs_are_checked():
    with pytest.raises(ValueError, match="labels"):
        rma([0.1, 0.2], [0.1, 0.1], labels=["a"])
    with pytest.raises(ValueError, match="ni"):
        rma([0.1, 0.2], [0.1, 0.1], ni=[10, 20, 30])
    with pytest.raises(ValueError, match="labels"):
        rma_mh([3, 5], [7, 5], [2, 4], [8, 6], labels=["a", "b", "c"])


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_mh_fit_carries_the_study_effects_behind_q(measure):
    a, b, c, d = (x.to_numpy() for x in _tables("sparse_demo"))
    labels = [f"s{i}" for i in range(len(a))]
    fit = rma_mh(a, b, c, d, measure=measure, labels=labels)
    es = effects.escalc(measure, ai=a, bi=b, ci=c, di=d, add=0.5, to="only0", drop00=True)
    np.testing.assert_array_equal(fit.yi, es["yi"].to_numpy())  # NaN for the double-zero study
    np.testing.assert_array_equal(fit.vi, es["vi"].to_numpy())
    assert fit.dropped == tuple(np.flatnonzero(np.isnan(fit.yi)))
    assert fit.labels == tuple(labels) and np.array_equal(fit.ni, a + b + c + d)
    keep = np.isfinite(fit.yi)
    assert fit.q == approx(max(0.0, np.sum((fit.yi[keep] - fit.estimate) ** 2 / fit.vi[keep])))


@pytest.mark.parametrize("dataset", ["dat.bcg", "sparse_demo", "two_rct_demo"])
def test_peto_fit_carries_the_study_effects_behind_q(dataset):
    a, b, c, d = (x.to_numpy() for x in _tables(dataset))
    fit = rma_peto(a, b, c, d, labels=[str(i) for i in range(len(a))])
    keep = np.isfinite(fit.yi)
    assert fit.dropped == tuple(np.flatnonzero(~keep))
    w = 1 / fit.vi[keep]
    assert fit.estimate == approx(np.sum(w * fit.yi[keep]) / w.sum())  # one-step estimate from them
    assert fit.q == approx(np.sum((fit.yi[keep] - fit.estimate) ** 2 * w))
    assert fit.labels == tuple(str(i) for i in range(len(a))) and np.array_equal(fit.ni, a + b + c + d)


_L1O_FITS = sorted({(r["dataset"], r["method"], r["control"]) for r in _L1O})


@pytest.mark.parametrize(("dataset", "method", "control"), _L1O_FITS)
@pytest.mark.parametrize("test", ["z", "knha"])
def test_leave1out_of_a_fit_equals_the_old_form(dataset, method, control, test):
    yi, vi = _yi_vi(dataset, "RR")
    labels = _labels(dataset, "RR")
    con = METAFOR_DEFAULT_CONTROL if (method == "REML" and control == "default") else None
    fit = rma(yi, vi, method=method, test=test, measure="RR", labels=labels, control=con, level=0.9)
    old = leave1out(yi, vi, method=method, test=test, labels=labels, level=0.9, measure="RR", control=con)
    pd.testing.assert_frame_equal(leave1out(fit), old)
    if test == "z":  # the same table as the old form checked against metafor's leave1out.csv above
        fit0 = rma(yi, vi, method=method, labels=labels, control=con)
        pd.testing.assert_frame_equal(leave1out(fit0), _leave1out(dataset, method, control), check_exact=True)


def test_leave1out_of_a_fit_keywords_override_and_errors():
    yi, vi = _yi_vi("dat.bcg", "RR")
    fit = rma(yi, vi, method="REML", measure="RR")
    pd.testing.assert_frame_equal(leave1out(fit, method="DL"), leave1out(yi, vi, method="DL", measure="RR"))
    assert leave1out(fit)["left_out"].tolist() == list(range(len(yi)))  # no labels: indices
    with pytest.raises(TypeError, match="vi"):
        leave1out(fit, vi)
    with pytest.raises(TypeError, match="vi"):
        leave1out(yi)
    mh = rma_mh(*_tables("dat.bcg"), measure="RR")
    with pytest.raises(ValueError, match="rma"):
        leave1out(mh)
    with pytest.raises(ValueError, match="rma"):
        subgroup(mh, ["a"] * len(yi))


@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
def test_subgroup_of_a_fit_equals_the_old_form(method):
    yi, vi = _yi_vi("dat.bcg", "RR")
    groups = ["early"] * 6 + ["late"] * 7
    fit = rma(yi, vi, method=method, test="knha", measure="RR")
    old = subgroup(yi, vi, groups, method=method, test="knha", measure="RR")
    pd.testing.assert_frame_equal(subgroup(fit, groups), old)
    pd.testing.assert_frame_equal(subgroup(fit, groups=groups), old)
    with pytest.raises(TypeError, match="vi"):
        subgroup(fit, vi, groups)


_BT_ROWS = [r for r in _exact_rows(_POOLED) if r["bt_transf"] != "none"]


@pytest.mark.parametrize("row", _BT_ROWS, ids=_pooled_id)
def test_back_transform_of_a_fit_equals_the_explicit_form(row):
    yi, vi = _yi_vi(row["dataset"], row["measure"])
    ni = _ni(row["dataset"]) if row["measure"] == "PFT" else None
    control = METAFOR_DEFAULT_CONTROL if row["control"] == "default" else None
    fit = rma(yi, vi, method=row["method"], test=row["test"], measure=row["measure"], control=control, ni=ni)
    for pi_type in ("hts", "metafor"):  # assert_equal: NaN equals NaN
        np.testing.assert_equal(
            back_transform(fit, pi_type=pi_type), back_transform(fit, row["measure"], ni, pi_type=pi_type)
        )
    bt = back_transform(fit, pi_type="metafor")  # still metafor's numbers
    for ours, ref in [("estimate", "bt_estimate"), ("ci_low", "bt_ci_lb"), ("ci_high", "bt_ci_ub")]:
        _check(bt[ours], row[ref], ref)


@pytest.mark.parametrize("row", _MH, ids=[f"{r['dataset']}-{r['method']}-{r['measure']}" for r in _MH])
def test_back_transform_of_an_mh_or_peto_fit_equals_the_explicit_form(row):
    tables = _tables(row["dataset"])
    fit = rma_mh(*tables, measure=row["measure"]) if row["method"] == "MH" else rma_peto(*tables)
    measure = "OR" if row["method"] == "Peto" else row["measure"]
    np.testing.assert_equal(back_transform(fit), back_transform(fit, measure))  # NaN PI on both
