"""Meta-analysis models, the Python counterpart of metafor's ``rma()`` family.

* :func:`rma` - inverse-variance common-effect ("FE") and random-effects models
  (DL, PM, REML, HS, SJ), z or Hartung-Knapp-Sidik-Jonkman ("knha") inference,
  like ``metafor::rma.uni(yi, vi, method=, test=)``.
* :func:`rma_mh` / :func:`rma_peto` - Mantel-Haenszel and Peto common-effect
  models from 2x2 tables, like ``rma.mh()`` / ``rma.peto()``.
* :func:`predict` - prediction intervals, :func:`leave1out`, :func:`subgroup`
  and :func:`back_transform`.

Like a metafor ``rma`` object, a fit (:class:`RmaResult`) carries its inputs
(``yi``, ``vi``, ``labels``, ``ni``), so ``leave1out(fit)``, ``subgroup(fit,
groups)`` and ``back_transform(fit)`` need nothing else.

REML uses metafor's Fisher scoring; where that does not converge or stops at a
lower local maximum, the global maximiser of the restricted likelihood is found
on a bounded interval instead (``RmaResult.tau2_algorithm`` says which).

Every number is checked against metafor 3.8-1 in ``tests/test_pooling.py``
(reference values in ``tests/reference/metafor``), to a relative tolerance of
1e-6.

Cochran's Q and the DerSimonian-Laird estimator follow statsmodels
(``statsmodels.stats.meta_analysis.combine_effects``; written out, with the binary effect
sizes of :mod:`helpers.stats.effects`, because importing statsmodels costs a quarter of the
results command's time budget; the tests check both against statsmodels). statsmodels
has no REML, HS or SJ estimator, no prediction interval and no leave-one-out; its DL tau²
is not truncated at 0, its I² can be negative, and its random-effects weights use the
untruncated tau², so the model fit at a given tau² is done here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np
import pandas as pd

from helpers.stats import distributions, effects

__all__ = [
    "METHODS",
    "TESTS",
    "RmaResult",
    "PredictionInterval",
    "rma",
    "predict",
    "rma_mh",
    "mh_estimate",
    "rma_peto",
    "leave1out",
    "subgroup",
    "back_transform",
    "PI_NOTE_FIXED",
    "PI_NOTE_FEW_STUDIES",
    "DEFAULT_CONTROL",
    "METAFOR_DEFAULT_CONTROL",
    "TAU2_ALGORITHMS",
]

METHODS = ("FE", "DL", "PM", "REML", "HS", "SJ")
TESTS = ("z", "knha")

PI_NOTE_FIXED = "not applicable to a fixed-effect model"
PI_NOTE_FEW_STUDIES = "not estimable: a prediction interval needs at least 3 studies (t on k-2 df)"

#: Convergence settings (metafor's ``control`` names), tight by default: REML
#: stops when tau² changes by <= ``threshold``; ``tol`` is the PM root tolerance
#: and the REML "ll0check" margin.
DEFAULT_CONTROL = MappingProxyType({"threshold": 1e-12, "maxiter": 1000, "tol": 1e-12})

#: metafor's own defaults. With these, REML reproduces metafor's printed
#: output (its Fisher scoring stops early); PM still uses Brent's method.
METAFOR_DEFAULT_CONTROL = MappingProxyType(
    {"threshold": 1e-5, "maxiter": 100, "tol": float(np.finfo(float).eps) ** 0.25}
)

#: How ``RmaResult.tau2`` was obtained (``RmaResult.tau2_algorithm``).
TAU2_ALGORITHMS = MappingProxyType(
    {
        "common": "none: common-effect model (tau² = 0)",
        "one_study": "none: one study (tau² = 0)",
        "closed_form": "closed form",
        "fisher": "Fisher scoring",
        "fallback": "bounded maximisation (Fisher scoring did not converge)",
        "local": "bounded maximisation (Fisher scoring reached a lower local maximum)",
        "pm_root": "Brent root of Q(tau²) = k - 1",
        "pm_zero": "Q(0) <= k - 1: tau² = 0",
    }
)

_TIDY_COLUMNS = [
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


# ---------------------------------------------------------------------------
# Result containers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictionInterval:
    """A prediction interval for the effect in a new study."""

    low: float
    high: float
    df: float  # t degrees of freedom; inf for a normal quantile; nan if none
    note: str | None = None


@dataclass(frozen=True, eq=False)
class RmaResult:
    """A fitted meta-analysis (the fields of metafor's ``rma`` object we use).

    ``se`` is the model's standard error (the Knapp-Hartung one for
    ``test="knha"``); ``stat`` is z or t; ``df`` is k - 1 for knha and NaN for z.
    ``weights`` are percentages summing to 100. ``pi_*`` is the
    Higgins-Thompson-Spiegelhalter prediction interval (see :func:`predict`).
    ``tau2_algorithm`` says how tau² was obtained (a value of
    :data:`TAU2_ALGORITHMS`; not a column of :meth:`tidy`). ``dropped`` holds
    the indices of double-zero studies that a Mantel-Haenszel or Peto fit left
    out of the heterogeneity statistics.

    The fit carries its inputs, as metafor's does (none of them is a column of
    :meth:`tidy`): ``yi`` and ``vi`` are the study effects and sampling
    variances (read-only arrays, one entry per study; for :func:`rma` the
    inputs themselves, for :func:`rma_mh` / :func:`rma_peto` the per-study
    values behind Q, NaN for the ``dropped`` studies), ``labels`` a tuple of
    study labels (or None), ``ni`` the study sizes (or None; the arm totals
    n1 + n2 for MH and Peto), and ``control`` the convergence settings of an
    :func:`rma` fit (None for MH and Peto). :func:`leave1out`,
    :func:`subgroup` and :func:`back_transform` accept the fit alone.
    """

    measure: str | None
    method: str
    test: str
    k: int
    estimate: float
    se: float
    stat: float
    df: float
    pval: float
    ci_low: float
    ci_high: float
    tau2: float
    tau: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    vt: float
    kh_s2w: float
    weights: np.ndarray = field(repr=False)
    pi_low: float
    pi_high: float
    pi_note: str | None
    tau2_algorithm: str
    level: float = 0.95
    dropped: tuple[int, ...] = ()
    yi: np.ndarray | None = field(default=None, repr=False)
    vi: np.ndarray | None = field(default=None, repr=False)
    labels: tuple | None = None
    ni: np.ndarray | None = field(default=None, repr=False)
    control: Mapping | None = field(default=None, repr=False)

    @property
    def model(self) -> str:
        """Model type: "fixed" for common-effect models (FE, MH, Peto), else "random"."""
        return "fixed" if self.method in ("FE", "MH", "Peto") else "random"

    def to_dict(self) -> dict:
        """One-row summary with the book's column names (see ``tidy()``)."""
        d = {name: getattr(self, name) for name in _TIDY_COLUMNS if name not in ("model", "p")}
        d["model"] = self.model
        d["p"] = self.pval
        return {name: d[name] for name in _TIDY_COLUMNS}

    def tidy(self) -> pd.DataFrame:
        """The summary as a one-row DataFrame."""
        return pd.DataFrame([self.to_dict()], columns=_TIDY_COLUMNS)


# ---------------------------------------------------------------------------
# Input handling and small helpers
# ---------------------------------------------------------------------------


def _as_arrays(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    y = np.atleast_1d(np.asarray(yi, dtype=float))
    v = np.atleast_1d(np.asarray(vi, dtype=float))
    if y.ndim != 1 or y.shape != v.shape:
        raise ValueError("yi and vi must be 1-d and of the same length")
    if y.size == 0:
        raise ValueError("need at least one study")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise ValueError("yi and vi must be finite (drop missing studies first)")
    if np.any(v <= 0):
        raise ValueError("sampling variances vi must be positive")
    return y, v


def _read_only(x: np.ndarray) -> np.ndarray:
    out = np.array(x, dtype=float)  # a copy: later changes to the caller's array do not reach the fit
    out.setflags(write=False)
    return out


def _inputs(y: np.ndarray, v: np.ndarray, labels, ni) -> dict:
    """The fields of :class:`RmaResult` that carry a fit's inputs (checked: one entry per study)."""
    k = y.size
    if labels is not None:
        labels = tuple(labels)
        if len(labels) != k:
            raise ValueError(f"labels must have one entry per study ({k}), got {len(labels)}")
    if ni is not None:
        ni = np.atleast_1d(np.asarray(ni, dtype=float))
        if ni.shape != (k,):
            raise ValueError(f"ni must have one entry per study ({k})")
        ni = _read_only(ni)
    return {"yi": _read_only(y), "vi": _read_only(v), "labels": labels, "ni": ni}


def _crit(level: float, df: float) -> float:
    """Two-sided critical value: normal for df = inf, else t on df."""
    upper = 1 - (1 - level) / 2
    return float(distributions.t_ppf(upper, df))


def _pvalue(stat: float, df: float) -> float:
    if math.isnan(stat):
        return math.nan
    return float(2 * distributions.t_sf(abs(stat), df))


def _wmean(y: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * y) / np.sum(w))


def _q_gen(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Generalized Q: Σ w (y - μ̂_w)² with w = 1/(v + tau2)."""
    w = 1.0 / (v + tau2)
    return float(np.sum(w * (y - _wmean(y, w)) ** 2))


def _control(control: Mapping | None) -> dict:
    con = dict(DEFAULT_CONTROL)
    if control:
        unknown = set(control) - set(con)
        if unknown:
            raise ValueError(f"unknown control settings {sorted(unknown)}")
        con.update(control)
    return con


# ---------------------------------------------------------------------------
# tau² estimators (intercept-only model)
# ---------------------------------------------------------------------------


def _fe_q_dl(y: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """Cochran's Q and the DerSimonian-Laird tau², truncated at 0.

    The formulas of statsmodels' ``combine_effects(method_re="dl")``, which returns the
    untruncated (q - df)/c (test_pooling.py::test_statsmodels_dl_is_not_truncated); written out
    because importing statsmodels costs 0.5 s of the results command's budget (see
    :mod:`helpers.stats.distributions`). test_pooling.py checks both against statsmodels.
    """
    w = 1.0 / v
    q = _q_gen(0.0, y, v)
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, q), max(0.0, (q - (y.size - 1)) / c)


def _tau2_hs(y: np.ndarray, v: np.ndarray, q: float) -> float:
    """Hunter-Schmidt: (Q - k) / Σw, truncated at 0 (metafor's "HS")."""
    return max(0.0, (q - y.size) / np.sum(1.0 / v))


def _tau2_sj(y: np.ndarray, v: np.ndarray) -> float:
    """Sidik-Jonkman, one step from tau0² = Σ(y - ȳ)²/k (metafor's "SJ")."""
    k = y.size
    tau0 = float(np.sum((y - y.mean()) ** 2) / k)
    return tau0 * _q_gen(tau0, y, v) / (k - 1)


def _tau2_pm(y: np.ndarray, v: np.ndarray, tol: float) -> tuple[float, str]:
    """Paule-Mandel: the root of Q_gen(tau²) = k - 1, 0 if Q(0) <= k - 1.

    Solved with Brent's method to ``tol`` on tau², like metafor's uniroot
    (statsmodels' PM stops at |Q - (k-1)| < 1e-5 and combine_effects drops
    its convergence flag; test_pooling.py::test_pm_matches_tight_metafor).
    """
    target = y.size - 1
    if _q_gen(0.0, y, v) <= target:
        return 0.0, TAU2_ALGORITHMS["pm_zero"]
    # Always a bracket, no search needed: Q_gen decreases in tau² and
    # Q_gen(t) <= Σ(y - ȳ)²/(min v + t) < k/10 <= k - 1 for t >= 10 var(y) = 10 Σ(y - ȳ)²/k.
    upper = max(1.0, 10 * float(np.var(y)))
    from scipy import optimize  # only here and in the REML fallback: its import is slow

    root = optimize.brentq(lambda t2: _q_gen(t2, y, v) - target, 0.0, upper, xtol=tol, rtol=4 * np.finfo(float).eps)
    return root, TAU2_ALGORITHMS["pm_root"]


def _reml_loglik(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Restricted log-likelihood of the intercept-only model, up to a constant."""
    w = 1.0 / (v + tau2)
    mu = _wmean(y, w)
    return float(-0.5 * np.sum(np.log(v + tau2)) - 0.5 * np.log(np.sum(w)) - 0.5 * np.sum(w * (y - mu) ** 2))


def _reml_score(tau2, y: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Twice the derivative of :func:`_reml_loglik`, y'PPy - tr P, at each tau² given (vectorised)."""
    w = 1.0 / (v + np.asarray(tau2, dtype=float)[..., None])
    sw, w2 = w.sum(axis=-1), w**2
    mu = (w * y).sum(axis=-1) / sw
    return (w2 * (y - mu[..., None]) ** 2).sum(axis=-1) - (sw - w2.sum(axis=-1) / sw)


def _reml_fisher(y: np.ndarray, v: np.ndarray, con: dict) -> float | None:
    """REML by Fisher scoring, exactly metafor's algorithm; None if it does not converge.

    Starts from the Hedges estimate max(0, var(y) - mean(v)), takes steps
    (y'PPy - tr P) / tr(PP) with step halving to stay >= 0, and stops when the
    change is <= ``threshold`` within ``maxiter`` steps. Like metafor it then
    falls back to tau² = 0 when the restricted likelihood is higher there. With
    the default (tight) control this is the exact REML solution
    (test_pooling.py, "tight" rows); with metafor's defaults it reproduces
    metafor's printed output.
    """
    k = y.size
    tau2 = max(0.0, float(np.sum((y - y.mean()) ** 2) / (k - 1) - v.mean()))
    for _ in range(int(con["maxiter"]) + 1):
        w = 1.0 / (v + tau2)
        sw, sw2, sw3 = w.sum(), np.sum(w**2), np.sum(w**3)
        py = w * (y - np.sum(w * y) / sw)  # P y
        tr_p = sw - sw2 / sw
        tr_pp = sw2 - 2 * sw3 / sw + (sw2 / sw) ** 2
        if not tr_pp > 0:
            return None  # lost to cancellation (e.g. vi from 1e-7 to 1e3): no step to take
        adj = (np.sum(py**2) - tr_p) / tr_pp
        halvings = 0
        while tau2 + adj < 0 and halvings < 2000:  # metafor's step halving
            adj /= 2
            halvings += 1
        if tau2 + adj < 0:
            adj = -tau2
        new = tau2 + adj
        change = abs(new - tau2)
        tau2 = new
        if change <= con["threshold"]:
            break
    else:
        return None  # e.g. alternating between two values (test_reml_fallback.py)
    if tau2 > con["threshold"] and _reml_loglik(0.0, y, v) - _reml_loglik(tau2, y, v) > con["tol"]:
        tau2 = 0.0  # metafor's ll0check: stuck at a local maximum
    return max(0.0, tau2)


def _reml_upper(y: np.ndarray, v: np.ndarray) -> float:
    """A tau² (>= max v) above which the REML score is negative, so the maximum lies below it.

    y'PPy <= k R² / (min v + t)² (R = range of y) and tr P >= k / (max v + t) - 1 / (min v + t),
    so the score is negative where k R² (min v + t)^-2 < k / (max v + t) - 1 / (min v + t); for
    t >= max v that margin grows with t (its derivative is >= k/2 - 1 >= 0), so it stays negative.
    """
    k, r2, lo, hi = y.size, float(np.ptp(y)) ** 2, float(v.min()), float(v.max())
    upper = hi
    while k * r2 >= k * (lo + upper) ** 2 / (hi + upper) - (lo + upper):  # RHS ~ (k-1) t: ends
        upper *= 2
    return upper


def _reml_bounded(y: np.ndarray, v: np.ndarray, known: float | None = None) -> float:
    """The REML estimate as the global maximiser of the restricted likelihood on [0, upper].

    The maximum is at tau² = 0 or where the score turns from + to -. A grid over
    [0, upper] (geometric, so small tau² are resolved too) brackets each such
    turn; brentq solves the score there to machine precision (maximising the
    flat likelihood itself, as minimize_scalar does, is only good to ~1e-8
    relative); the candidate with the highest likelihood wins. A root already
    known (Fisher scoring's, inside its bracket) is taken as it is, so scipy.optimize
    (a slow import) is loaded only when the likelihood has another local maximum or
    Fisher scoring failed.
    """
    grid = np.concatenate(([0.0], np.geomspace(v.min() * 1e-6, _reml_upper(y, v), 1000)))
    score = _reml_score(grid, y, v)
    candidates = [0.0]
    for i in np.flatnonzero((score[:-1] > 0) & (score[1:] <= 0)):
        if known is not None and grid[i] <= known <= grid[i + 1]:
            candidates.append(known)
            continue
        from scipy import optimize

        candidates.append(
            optimize.brentq(
                lambda t: float(_reml_score(t, y, v)),
                grid[i],
                grid[i + 1],
                xtol=np.finfo(float).tiny,
                rtol=4 * np.finfo(float).eps,
            )
        )
    return max(candidates, key=lambda t: _reml_loglik(t, y, v))


def _tau2_reml(y: np.ndarray, v: np.ndarray, con: dict) -> tuple[float, str]:
    """REML: metafor's Fisher scoring, unless it fails to find the global maximum.

    Fisher scoring can oscillate without converging, or converge to a lower
    local maximum (the restricted likelihood can have two; metafor's ll0check
    only compares with tau² = 0). The bounded maximisation is then used. A
    Fisher result within ``tol`` of the maximum likelihood is kept, so
    metafor's numbers are reproduced wherever its answer is the maximum.
    """
    tau2 = _reml_fisher(y, v, con)
    best = _reml_bounded(y, v, known=tau2)
    if tau2 is None:
        return best, TAU2_ALGORITHMS["fallback"]
    if _reml_loglik(best, y, v) - _reml_loglik(tau2, y, v) > con["tol"]:
        return best, TAU2_ALGORITHMS["local"]
    return tau2, TAU2_ALGORITHMS["fisher"]


def _tau2(method: str, y: np.ndarray, v: np.ndarray, q: float, tau2_dl: float, con: dict) -> tuple[float, str]:
    """tau² and how it was obtained (k >= 2)."""
    if method == "FE":
        return 0.0, TAU2_ALGORITHMS["common"]
    if method == "PM":
        return _tau2_pm(y, v, con["tol"])
    if method == "REML":
        return _tau2_reml(y, v, con)
    if method == "DL":
        tau2 = tau2_dl
    elif method == "HS":
        tau2 = _tau2_hs(y, v, q)
    else:
        tau2 = _tau2_sj(y, v)
    return tau2, TAU2_ALGORITHMS["closed_form"]


# ---------------------------------------------------------------------------
# rma and predict
# ---------------------------------------------------------------------------


def rma(
    yi: Sequence[float] | np.ndarray | pd.Series,
    vi: Sequence[float] | np.ndarray | pd.Series,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    measure: str | None = None,
    control: Mapping | None = None,
    labels: Sequence | None = None,
    ni=None,
) -> RmaResult:
    """Fit a common-effect or random-effects model, like ``metafor::rma.uni``.

    Parameters
    ----------
    yi, vi : effect sizes and their sampling variances (all finite, vi > 0).
    method : "FE" (common effect) or a tau² estimator: "DL", "PM", "REML",
        "HS", "SJ" (metafor's definitions; all truncated at 0).
    test : "z" (normal) or "knha" (Hartung-Knapp-Sidik-Jonkman: the variance
        is multiplied by s²w = Σ w*(y - μ̂)²/(k-1), not truncated at 1, and t on
        k - 1 df is used; metafor's ``test="knha"``).
    level : confidence level of the CI and PI.
    measure : optional label carried into the result (e.g. "RR").
    control : convergence settings ``threshold`` (REML), ``tol`` (PM root and
        REML ll0 check) and ``maxiter`` (REML Fisher scoring steps, after
        which the bounded maximisation is used); default tight (see
        DEFAULT_CONTROL).
    labels, ni : optional study labels and study sizes, one per study,
        carried in the result (``labels`` name the rows of ``leave1out(fit)``;
        ``ni`` is used by ``back_transform(fit)`` for PFT).

    The result carries ``yi``, ``vi``, ``labels``, ``ni`` and ``control``.
    For k = 1, tau² = 0, the estimate is yi with SE √vi, test is set to "z"
    and Q = 0, p = 1, I² = 0, H² = 1 (as metafor does).
    """
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    test = test.lower()
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    y, v = _as_arrays(yi, vi)
    inputs = _inputs(y, v, labels, ni)
    con = _control(control)
    k = y.size

    if k == 1:
        test = "z"  # metafor: 'Setting argument test="z" since k=1.'
        q, tau2, vt = 0.0, 0.0, 0.0
        algorithm = TAU2_ALGORITHMS["common" if method == "FE" else "one_study"]
    else:
        q, tau2_dl = _fe_q_dl(y, v)
        tau2, algorithm = _tau2(method, y, v, q, tau2_dl, con)
        tau2 = float(tau2)
        w_fe = 1.0 / v
        vt = float((k - 1) / (w_fe.sum() - np.sum(w_fe**2) / w_fe.sum()))

    w = 1.0 / (v + tau2)
    estimate = _wmean(y, w) if k > 1 else float(y[0])  # k = 1: exactly yi
    se = math.sqrt(1.0 / w.sum())
    s2w = 1.0
    df = math.inf
    if test == "knha":
        rss = float(np.sum(w * (y - estimate) ** 2))
        # metafor sets s2w = 0 when RSS is at machine precision (identical yi).
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)
        se *= math.sqrt(s2w)
        df = float(k - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.float64(estimate) / np.float64(se))
    crit = _crit(level, df)

    i2, h2 = _i2_h2(method, q, k, tau2, vt)
    result = RmaResult(
        measure=measure,
        method=method,
        test=test,
        k=k,
        estimate=estimate,
        se=se,
        stat=stat,
        df=df if test == "knha" else math.nan,
        pval=_pvalue(stat, df),
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        tau2=tau2,
        tau=math.sqrt(tau2),
        i2=i2,
        h2=h2,
        q=q,
        q_df=k - 1,
        q_p=float(distributions.chi2_sf(q, k - 1)) if k > 1 else 1.0,
        vt=float(vt),
        kh_s2w=s2w,
        weights=_percent(w),
        pi_low=math.nan,
        pi_high=math.nan,
        pi_note=None,
        tau2_algorithm=algorithm,
        level=level,
        control=MappingProxyType(con),
        **inputs,
    )
    pi = predict(result, pi_type="hts")
    return replace(result, pi_low=pi.low, pi_high=pi.high, pi_note=pi.note)


def _i2_h2(method: str, q: float, k: int, tau2: float, vt: float) -> tuple[float, float]:
    """metafor's I² (%) and H²: Q-based for FE, tau²-based for RE models."""
    if k == 1:
        return 0.0, 1.0
    if method == "FE":
        i2 = 0.0 if q <= 0 else max(0.0, 100 * (q - (k - 1)) / q)
        return i2, q / (k - 1)
    return 100 * tau2 / (vt + tau2), tau2 / vt + 1


def _percent(w: np.ndarray) -> np.ndarray:
    total = w.sum()
    pct = 100 * (w / total) if total > 0 else np.full(w.shape, math.nan)
    pct.setflags(write=False)
    return pct


def predict(result: RmaResult, pi_type: str = "hts") -> PredictionInterval:
    """Prediction interval for a new study's effect: μ̂ ± crit √(se² + tau²).

    * ``pi_type="hts"`` (the book's): Higgins-Thompson-Spiegelhalter,
      crit = t_{k-2}; NaN for k < 3. This is metafor's
      ``predict(pi.type = "riley")`` (which is HTS when test = "z"); se is the
      model's se, so with knha it is the Knapp-Hartung se, as in metafor.
    * ``pi_type="metafor"``: metafor's default ``predict()``: crit = z for
      test "z" and t_{k-1} for "knha".

    Common-effect models (FE, MH, Peto) give NaN with a note.
    """
    if pi_type not in ("hts", "metafor"):
        raise ValueError("pi_type must be 'hts' or 'metafor'")
    if result.model == "fixed":
        return PredictionInterval(math.nan, math.nan, math.nan, PI_NOTE_FIXED)
    if pi_type == "hts":
        if result.k < 3:
            return PredictionInterval(math.nan, math.nan, math.nan, PI_NOTE_FEW_STUDIES)
        df = float(result.k - 2)
    else:
        df = float(result.k - 1) if result.test == "knha" else math.inf
    half = _crit(result.level, df) * math.sqrt(result.se**2 + result.tau2)
    return PredictionInterval(result.estimate - half, result.estimate + half, df)


# ---------------------------------------------------------------------------
# Mantel-Haenszel and Peto
# ---------------------------------------------------------------------------


def _tables(ai, bi, ci, di) -> tuple[np.ndarray, ...]:
    a, b, c, d = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (ai, bi, ci, di))
    if not (a.shape == b.shape == c.shape == d.shape) or a.ndim != 1 or a.size == 0:
        raise ValueError("ai, bi, ci, di must be 1-d of the same (non-zero) length")
    if np.any(np.concatenate([a, b, c, d]) < 0) or not np.all(np.isfinite(a + b + c + d)):
        raise ValueError("cell counts must be finite and non-negative")
    if np.any(a + b == 0) or np.any(c + d == 0):
        raise ValueError("every arm needs at least one participant")
    return a, b, c, d


def _common_effect_result(
    measure, method, k, estimate, se, weights, q, k_q, dropped, level, inputs, k_pos=None
) -> RmaResult:
    """Assemble an MH/Peto result: z inference, tau² = 0, Q-based I²/H².

    ``k_q`` is the number of studies in the Q test (double zeros removed);
    ``k_pos`` (Peto) is the number of tables with positive variance;
    ``inputs`` are the fields from :func:`_inputs`.
    """
    crit = _crit(level, math.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.float64(estimate) / np.float64(se))
    enough = (k_q if k_pos is None else k_pos) > 1
    if enough:
        q_p = float(distributions.chi2_sf(q, k_q - 1))
        i2 = 0.0 if q <= 0 else max(0.0, 100 * (q - (k_q - 1)) / q)
        i2 = math.nan if math.isnan(q) else i2
        h2 = q / (k_q - 1)
    else:
        q, q_p, i2, h2 = 0.0, 1.0, 0.0, 1.0
    return RmaResult(
        measure=measure,
        method=method,
        test="z",
        k=k,
        estimate=estimate,
        se=se,
        stat=stat,
        df=math.nan,
        pval=_pvalue(stat, math.inf),
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        tau2=0.0,
        tau=0.0,
        i2=i2,
        h2=h2,
        q=q,
        q_df=max(k_q - 1, 0),
        q_p=q_p,
        vt=math.nan,
        kh_s2w=1.0,
        weights=_percent(weights),
        pi_low=math.nan,
        pi_high=math.nan,
        pi_note=PI_NOTE_FIXED,
        tau2_algorithm=TAU2_ALGORITHMS["common"],
        level=level,
        dropped=tuple(int(i) for i in dropped),
        **inputs,
    )


def _study_effects_for_q(measure, a, b, c, d) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """yi/vi for the heterogeneity test: add 1/2 "only0", drop00 = TRUE (NaN for the dropped)."""
    es = effects.escalc(measure, ai=a, bi=b, ci=c, di=d, add=0.5, to="only0", drop00=True)
    return es["yi"].to_numpy(float), es["vi"].to_numpy(float), np.flatnonzero(es["dropped"].to_numpy())


def mh_estimate(ai, bi, ci, di, measure: str = "OR") -> tuple:
    """The Mantel-Haenszel estimate, its SE and the study weights, over the last axis of the counts.

    With 1-d counts (one row per study): floats and the weight array, as :func:`rma_mh` uses them.
    With 2-d counts (one row per set of studies, e.g. the candidate tables of a fragility search):
    one estimate and SE per row. log RR / log OR / RD; NaN where the estimate is not estimable (no
    events in one group for RR, R or S = 0 for OR). No input checks: :func:`rma_mh` makes them.
    """
    measure = measure.upper()
    a, b, c, d = (np.asarray(x, dtype=float) for x in (ai, bi, ci, di))
    n1, n2 = a + b, c + d
    n = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            p_, q_ = (a + d) / n, (b + c) / n
            r_, s_ = a * d / n, b * c / n
            big_r, big_s = r_.sum(axis=-1), s_.sum(axis=-1)
            ok = (big_r != 0) & (big_s != 0)
            estimate = np.where(ok, np.log(big_r / big_s), np.nan)
            se = np.where(
                ok,
                np.sqrt(
                    0.5
                    * (
                        np.sum(p_ * r_, axis=-1) / big_r**2
                        + np.sum(p_ * s_ + q_ * r_, axis=-1) / (big_r * big_s)
                        + np.sum(q_ * s_, axis=-1) / big_s**2
                    )
                ),
                np.nan,
            )
            weights = s_
        elif measure == "RR":
            r_, s_ = a * n2 / n, c * n1 / n
            big_r, big_s = r_.sum(axis=-1), s_.sum(axis=-1)
            ok = (a.sum(axis=-1) != 0) & (c.sum(axis=-1) != 0)
            estimate = np.where(ok, np.log(big_r / big_s), np.nan)
            se = np.where(ok, np.sqrt(np.sum(n1 * n2 * (a + c) / n**2 - a * c / n, axis=-1) / (big_r * big_s)), np.nan)
            weights = s_
        elif measure == "RD":
            w = n1 * n2 / n
            estimate = np.sum((a * n2 - c * n1) / n, axis=-1) / w.sum(axis=-1)
            p_sum = np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2, axis=-1)
            q_sum = np.sum(a * (n2 - c) / n + c * (n1 - a) / n, axis=-1) / 2
            # Exactly 0 when every arm is 0% or 100% (rounding can make it -1e-17).
            se = np.sqrt(np.maximum(0.0, (estimate * p_sum + q_sum) / w.sum(axis=-1) ** 2))
            weights = w
        else:
            raise ValueError("measure must be 'RR', 'OR' or 'RD'")
    if np.ndim(estimate) == 0:
        return float(estimate), float(se), weights
    return estimate, se, weights


def rma_mh(ai, bi, ci, di, *, measure: str = "OR", level: float = 0.95, labels: Sequence | None = None) -> RmaResult:
    """Mantel-Haenszel common-effect model, like ``metafor::rma.mh()``.

    The pooled estimate uses the raw counts (no continuity correction; a
    double-zero study contributes nothing to OR and RR, but does add weight to
    RD). Variances: Robins-Breslow-Greenland (OR), Greenland-Robins (RR),
    Sato-Greenland-Robins (RD). Q, I² and H² use the study-level yi/vi with
    1/2 added to zero-cell studies and double-zero studies dropped
    (``dropped``), with Q = Σ w (yi - MH estimate)². Weights are the MH weights
    (OR: bc/N, RR: c n1/N, RD: n1 n2/N). Estimates are log RR / log OR / RD.

    The result's ``yi``/``vi`` are those study-level values (log RR / log OR /
    RD; NaN for the dropped studies, like metafor's ``yi``), ``ni`` the study
    sizes n1 + n2 and ``labels`` the optional study labels.
    """
    measure = measure.upper()
    if measure not in effects.BINARY_MEASURES:
        raise ValueError("measure must be 'RR', 'OR' or 'RD'")
    a, b, c, d = _tables(ai, bi, ci, di)
    estimate, se, weights = mh_estimate(a, b, c, d, measure)
    n = a + b + c + d

    yi, vi, dropped = _study_effects_for_q(measure, a, b, c, d)
    keep = np.isfinite(yi)
    yi_q, vi_q = yi[keep], vi[keep]
    q = float(np.sum((yi_q - estimate) ** 2 / vi_q))  # around the MH estimate, as metafor
    q = q if math.isnan(q) else max(0.0, q)
    inputs = _inputs(yi, vi, labels, n)
    return _common_effect_result(
        measure, "MH", a.size, float(estimate), float(se), weights, q, yi_q.size, dropped, level, inputs
    )


def rma_peto(ai, bi, ci, di, *, level: float = 0.95, labels: Sequence | None = None) -> RmaResult:
    """Peto's one-step odds ratio, like ``metafor::rma.peto()``.

    log OR = Σ(O - E) / ΣV with SE 1/√ΣV, from the raw counts; Q is Peto's
    Σ(O-E)²/V - (Σ(O-E))²/ΣV over tables with V > 0, on k_yi - 1 df where k_yi
    counts the non-double-zero studies (``dropped`` lists the others). Weights
    are V / ΣV.

    The result's ``yi``/``vi`` are the per-study Peto log ORs (O - E)/V and
    their variances 1/V behind that Q (Q = Σ (yi - estimate)² / vi), from the
    raw counts, NaN where V = 0 (the ``dropped`` studies); metafor's ``yi``
    adds 1/2 to zero cells first, which the fit itself does not use. ``ni``
    is n1 + n2 and ``labels`` the optional study labels.
    """
    a, b, c, d = _tables(ai, bi, ci, di)
    n1, n2 = a + b, c + d
    n = n1 + n2
    events, non_events = a + c, b + d
    e = events * n1 / n  # expected events in the treatment arm
    var = events * non_events * (n1 / n) * (n2 / n) / (n - 1)  # n >= 2: both arms non-empty
    if var.sum() == 0:
        raise ValueError("one of the two outcomes never occurred: Peto's method cannot be used")
    estimate = float(np.sum(a - e) / var.sum())
    se = math.sqrt(1.0 / var.sum())

    pos = var > 0
    q = max(0.0, float(np.sum((a - e)[pos] ** 2 / var[pos]) - np.sum(a - e) ** 2 / var[pos].sum()))
    double_zero = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    yi, vi = np.full(a.size, math.nan), np.full(a.size, math.nan)
    yi[pos], vi[pos] = (a - e)[pos] / var[pos], 1.0 / var[pos]
    return _common_effect_result(
        "OR",
        "Peto",
        a.size,
        estimate,
        se,
        var,
        q,
        int((~double_zero).sum()),
        np.flatnonzero(double_zero),
        level,
        _inputs(yi, vi, labels, n),
        k_pos=int(pos.sum()),
    )


# ---------------------------------------------------------------------------
# Leave-one-out and subgroups
# ---------------------------------------------------------------------------


def _refit_settings(fit: RmaResult, what: str, **given) -> dict:
    """Data and settings for refitting ``fit`` (leave-one-out, subgroups): the fit's own unless given."""
    if fit.method not in METHODS or fit.yi is None or fit.vi is None:
        raise ValueError(
            f"{what}(fit) refits with rma(), so it needs an rma() fit; for a {fit.method} fit, "
            f"pass the study yi and vi (and method) to {what}(yi, vi, ...) instead"
        )
    defaults = {
        "method": fit.method,
        "test": fit.test,
        "level": fit.level,
        "measure": fit.measure,
        "control": fit.control,
        "labels": fit.labels,
    }
    settings = {key: given[key] if given.get(key) is not None else value for key, value in defaults.items()}
    return {"yi": fit.yi, "vi": fit.vi, **settings}


def leave1out(
    yi,
    vi=None,
    *,
    method: str | None = None,
    test: str | None = None,
    labels: Sequence | None = None,
    level: float | None = None,
    measure: str | None = None,
    control: Mapping | None = None,
) -> pd.DataFrame:
    """Refit without each study in turn, like ``metafor::leave1out()``.

    Called as ``leave1out(fit)`` with an :func:`rma` fit, it refits on the
    fit's own ``yi``, ``vi`` and ``labels`` with its method, test, level,
    measure and control (any of these given as keywords wins). Called as
    ``leave1out(yi, vi, ...)``, the defaults are method "REML", test "z",
    level 0.95, no labels and the default control.

    One row per left-out study: the columns of :meth:`RmaResult.tidy` plus
    ``left_out`` (the label, or the 0-based index when no labels are given).
    """
    if isinstance(yi, RmaResult):
        if vi is not None:
            raise TypeError("leave1out(fit) takes no vi: the fit carries its own")
        given = dict(method=method, test=test, level=level, measure=measure, control=control, labels=labels)
        args = _refit_settings(yi, "leave1out", **given)
        yi, vi, labels = args.pop("yi"), args.pop("vi"), args.pop("labels")
    else:
        if vi is None:
            raise TypeError("leave1out() needs vi (or an RmaResult as its only positional argument)")
        args = dict(method=method or "REML", test=test or "z", level=0.95 if level is None else level)
        args.update(measure=measure, control=control)
    return _leave1out(yi, vi, labels, args)


def _leave1out(yi, vi, labels, args: dict) -> pd.DataFrame:
    y, v = _as_arrays(yi, vi)
    if y.size < 2:
        raise ValueError("leave-one-out needs at least 2 studies")
    names = list(range(y.size)) if labels is None else list(labels)
    if len(names) != y.size:
        raise ValueError("labels must have one entry per study")
    rows = []
    for i in range(y.size):
        keep = np.arange(y.size) != i
        fit = rma(y[keep], v[keep], **args)
        rows.append({"left_out": names[i], **fit.to_dict()})
    return pd.DataFrame(rows, columns=["left_out", *_TIDY_COLUMNS])


def subgroup(
    yi,
    vi=None,
    groups=None,
    *,
    method: str | None = None,
    test: str | None = None,
    level: float | None = None,
    measure: str | None = None,
    control: Mapping | None = None,
) -> pd.DataFrame:
    """Separate fits per subgroup plus a test for subgroup differences.

    Called as ``subgroup(fit, groups)`` with an :func:`rma` fit, the groups
    are fitted on the fit's own ``yi``/``vi`` with its method, test, level,
    measure and control (any of these given as keywords wins). Called as
    ``subgroup(yi, vi, groups, ...)``, the defaults are method "REML", test
    "z", level 0.95 and the default control.

    Each group is fitted on its own (its own tau²). The test for subgroup
    differences is the fixed-effect Q between the subgroup estimates, as in
    RevMan / ``meta``'s ``test.subgroup`` with separate tau²:
    Q_between = Σ_g (μ̂_g - μ̄)² / se_g², μ̄ the inverse-se² weighted mean, on
    g - 1 df (chi-square). It is *not* metafor's
    ``rma(yi, vi, mods = ~ factor(group))`` QM, which assumes one common tau².

    Returns one row per group (in order of first appearance): the columns of
    :meth:`RmaResult.tidy`, ``group``, and the same ``q_between``,
    ``q_between_df`` and ``q_between_p`` on every row (NaN for one group).
    """
    if isinstance(yi, RmaResult):
        if vi is not None and groups is not None:
            raise TypeError("subgroup(fit, groups) takes no vi: the fit carries its own")
        groups = vi if groups is None else groups
        given = dict(method=method, test=test, level=level, measure=measure, control=control)
        args = _refit_settings(yi, "subgroup", **given)
        yi, vi = args.pop("yi"), args.pop("vi")
        del args["labels"]
    else:
        args = dict(method=method or "REML", test=test or "z", level=0.95 if level is None else level)
        args.update(measure=measure, control=control)
    if vi is None or groups is None:
        raise TypeError("subgroup() needs yi, vi and groups, or a fit and groups")
    return _subgroup(yi, vi, groups, args)


def _subgroup(yi, vi, groups, args: dict) -> pd.DataFrame:
    y, v = _as_arrays(yi, vi)
    g = pd.Series(np.asarray(groups, dtype=object))
    if len(g) != y.size:
        raise ValueError("groups must have one entry per study")
    if g.isna().any():
        raise ValueError("groups must not be missing")
    rows = []
    for name in pd.unique(g):
        mask = (g == name).to_numpy()
        fit = rma(y[mask], v[mask], **args)
        rows.append({"group": name, **fit.to_dict()})
    out = pd.DataFrame(rows, columns=["group", *_TIDY_COLUMNS])

    est, se = out["estimate"].to_numpy(float), out["se"].to_numpy(float)
    if len(out) > 1 and np.all(se > 0):
        w = 1.0 / se**2
        q_between = float(np.sum(w * (est - _wmean(est, w)) ** 2))
        q_df = len(out) - 1
        q_p = float(distributions.chi2_sf(q_between, q_df))
    else:
        q_between, q_df, q_p = math.nan, max(len(out) - 1, 0), math.nan
    out["q_between"] = q_between
    out["q_between_df"] = q_df
    out["q_between_p"] = q_p
    return out


# ---------------------------------------------------------------------------
# Back-transformation
# ---------------------------------------------------------------------------


def back_transform(result: RmaResult, measure: str | None = None, ni=None, *, pi_type: str = "hts") -> dict[str, float]:
    """Estimate, CI and PI on the natural scale.

    exp for RR/OR, inverse logit for PLO, metafor's ``transf.ipft.hm`` (with
    the harmonic mean of ``ni``, clamped to [0, 1]) for PFT, identity otherwise.
    ``measure`` defaults to ``result.measure`` and ``ni`` to ``result.ni``, so
    ``back_transform(fit)`` is enough for a fit that carries them. The PI is
    the one from :func:`predict` with ``pi_type`` ("hts" = the result's own PI).

    Returns a dict with ``estimate, ci_low, ci_high, pi_low, pi_high``.
    """
    measure = (measure or result.measure or "").upper()
    ni = result.ni if ni is None else ni
    pi = predict(result, pi_type=pi_type)
    values = np.array([result.estimate, result.ci_low, result.ci_high, pi.low, pi.high])
    if measure in ("RR", "OR"):
        out = effects.transf_exp(values)
    elif measure == "PLO":
        out = effects.transf_ilogit(values)
    elif measure == "PFT":
        if ni is None:
            raise ValueError("PFT back-transformation needs the study sizes ni")
        out = np.where(np.isnan(values), np.nan, effects.transf_ipft_hm(values, ni))
    else:
        out = values
    keys = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
    return {key: float(val) for key, val in zip(keys, out, strict=True)}
