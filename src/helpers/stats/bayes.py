"""Bayesian random-effects meta-analysis, the Python counterpart of R's ``bayesmeta()``.

The normal-normal hierarchical model: study effects ``yi`` (log risk ratios, say) with known
sampling variances ``vi``, ``yi | theta_i ~ N(theta_i, vi)``, ``theta_i | mu, tau ~ N(mu, tau²)``,
a uniform (improper) prior on the mean ``mu`` and a half-normal prior on the heterogeneity
``tau`` with a given scale. As in bayesmeta (Röver 2020, J Stat Softw 93(6)) the posterior is
computed by direct numerical integration, without MCMC:

* ``mu`` is integrated out analytically, so the marginal posterior of ``tau`` is known up to
  its normalising constant: p(tau | y) ∝ HN(tau; scale) · L(tau), with
  log L(tau) = -½ [Σ log(vi + tau²) + Σ w_i (yi - m)² + log Σ w_i], w_i = 1/(vi + tau²);
* given ``tau``, ``mu`` is normal with mean m(tau) = Σ w_i yi / Σ w_i and variance 1/Σ w_i,
  and the effect ``theta`` of a new trial is normal with the same mean and variance
  1/Σ w_i + tau²;
* so the marginal posterior of ``mu`` (and the predictive distribution of ``theta``) is a
  mixture of these conditional normals over the posterior of ``tau``. A discretisation of
  ``tau`` (support points and their weights) turns it into a finite normal mixture whose
  CDF is a vectorised sum; quantiles are roots of that CDF (Newton's method inside a bracket).

Two discretisations (``algorithm``):

* ``"quadrature"`` (the default): composite Gauss-Legendre quadrature over the region where the
  posterior density of ``tau`` is within e^-46 of its maximum. This is the posterior itself, to
  about 1e-9 (tests/test_bayes.py compares it with nested adaptive quadrature in R).
* ``"direct"``: bayesmeta's own "DIRECT" grid (Röver & Friede 2017, J Comput Graph Stat
  26(1):217-222): support points chosen so that neighbouring conditional distributions
  (of mu, of theta and of each study's theta_i) differ by a symmetrised KL divergence of
  ``delta`` = 0.01, each weighted by the posterior probability of its bin, up to the
  1 - ``epsilon`` (1e-4) quantile of tau. It reproduces bayesmeta's numbers to about 1e-8.
  The grid is coarse (typically 10-30 points): its quantiles of ``mu`` differ from the
  exact posterior's by up to about 3e-3 relative (more where a quantile is near 0, or where
  the prior dominates tau, so that the grid has 2 or 3 points).

Quantities of ``tau`` (median, quantiles, mean) are exact under both discretisations, as in
bayesmeta. With a proper prior on tau the posterior is proper for any k >= 1; with k = 1 the
data say nothing about tau (L is constant), so its posterior is its prior.

Use :func:`bayes_rma` on a fit (``bayes_rma(fit, scale=0.5)``: a fit carries its ``yi``,
``vi`` and ``labels``) or on arrays (``bayes_rma(yi, vi, scale=0.5)``). Checked against
bayesmeta 3.4 in tests/test_bayes.py (reference values in tests/reference/bayesmeta).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from helpers.stats.pooling import RmaResult

__all__ = ["TAU_PRIORS", "ALGORITHMS", "BayesResult", "bayes_rma", "halfnormal_logpdf"]

TAU_PRIORS = ("halfnormal",)
ALGORITHMS = ("quadrature", "direct")

#: Composite Gauss-Legendre rule of the "quadrature" algorithm: panels equally spaced in tau, panels
#: holding equal posterior mass (from a first scan), points per panel.
_PANELS, _PANELS_BY_MASS, _POINTS = 12, 16, 12
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_POINTS)
#: Points of the rule that integrates inside one panel (for the CDF of tau between panel edges).
_GL_X_FINE, _GL_W_FINE = np.polynomial.legendre.leggauss(20)
#: The region of tau integrated over: where the log posterior density is within this of its maximum.
_LOG_RANGE = 46.0
#: Points of the scan that finds that region.
_SCAN = 257
#: Root-finding tolerances (absolute, relative) for quantiles.
_XTOL, _RTOL = 1e-13, 4 * np.finfo(float).eps
#: bayesmeta's uniroot tolerance (``tol.uniroot = rel.tol.integrate = 2^16 * .Machine$double.eps``).
_BAYESMETA_TOL = 2.0**16 * np.finfo(float).eps


def halfnormal_logpdf(tau, scale: float) -> np.ndarray:
    """Log density of the half-normal distribution with the given scale (-inf below 0)."""
    t = np.asarray(tau, dtype=float)
    with np.errstate(divide="ignore"):
        out = math.log(2.0) - math.log(scale) - 0.5 * math.log(2 * math.pi) - 0.5 * (t / scale) ** 2
    return np.where(t >= 0, out, -np.inf)


def _invert(cdf, pdf, p: float, lo: float, hi: float, x: float, xtol: float = _XTOL) -> float:
    """The x in [lo, hi] with cdf(x) = p (cdf(lo) <= p <= cdf(hi)): Newton's method from ``x``, kept
    inside a shrinking bracket (a bisection step where Newton would leave it); Brent's method on the
    bracket if that has not converged after 60 steps (scipy.optimize is imported only then: its import is slow)."""
    for _ in range(60):
        if not lo <= x <= hi:
            x = 0.5 * (lo + hi)
        diff = cdf(x) - p
        if diff == 0:
            return x
        if diff < 0:
            lo = x
        else:
            hi = x
        dens = pdf(x)
        step = diff / dens if dens > 0 else math.inf
        new = x - step
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        if abs(new - x) <= xtol + _RTOL * abs(new) or hi - lo <= xtol + _RTOL * abs(lo):
            return new
        x = new
    from scipy import optimize

    return optimize.brentq(lambda t: cdf(t) - p, lo, hi, xtol=xtol, rtol=_RTOL)


# ---------------------------------------------------------------------------
# The model given tau (vectorised over an array of tau values)
# ---------------------------------------------------------------------------


def _conditional(tau: np.ndarray, y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At each tau: the log marginal likelihood L(tau) (mu integrated out, up to a constant), and the
    conditional posterior mean and variance of mu."""
    var = tau[:, None] ** 2 + v
    w = 1.0 / var
    sw = w.sum(axis=1)
    m = (w * y).sum(axis=1) / sw
    loglik = -0.5 * (np.log(var).sum(axis=1) + (w * (y - m[:, None]) ** 2).sum(axis=1) + np.log(sw))
    return loglik, m, 1.0 / sw


class _TauPosterior:
    """The marginal posterior of tau: log density, CDF and quantiles, by composite Gauss-Legendre quadrature."""

    def __init__(self, y: np.ndarray, v: np.ndarray, scale: float):
        self.y, self.v, self.scale = y, v, scale
        # The region that holds the posterior: scan [0, upper], widening while the density at the
        # upper end is still within _LOG_RANGE of the maximum (data that want a tau far beyond the prior).
        upper = 12.0 * scale + 2.0 * float(np.ptp(y))
        while True:
            grid = np.linspace(0.0, upper, _SCAN)
            lp = self.log_unnormalised(grid)
            top = lp.max()
            if lp[-1] < top - _LOG_RANGE:
                break
            upper *= 2.0
        inside = np.flatnonzero(lp >= top - _LOG_RANGE)
        first, last = max(inside[0] - 1, 0), min(inside[-1] + 1, _SCAN - 1)
        self.low, self.high = float(grid[first]), float(grid[last])
        self.log_top = float(top)
        # Panels: equally spaced in tau, and equally spaced in the scan's (trapezoid) CDF, so that a
        # posterior concentrated in a small part of the region still gets panels of its own width.
        g, dens = grid[first : last + 1], np.exp(lp[first : last + 1] - top)
        scan_cdf = np.concatenate([[0.0], np.cumsum(np.diff(g) * (dens[1:] + dens[:-1]) / 2)])
        by_mass = np.interp(np.linspace(0, scan_cdf[-1], _PANELS_BY_MASS + 1)[1:-1], scan_cdf, g)
        edges = np.unique(np.concatenate([np.linspace(self.low, self.high, _PANELS + 1), by_mass]))
        self.edges = edges[np.concatenate([[True], np.diff(edges) > 1e-9 * (self.high - self.low)])]
        self.edges[-1] = self.high
        panels = self.edges.size - 1
        half = np.diff(self.edges) / 2
        mid = self.edges[:-1] + half
        self.nodes = (mid[:, None] + half[:, None] * _GL_X).ravel()
        loglik, self.node_mean, self.node_var = _conditional(self.nodes, y, v)
        dens = np.exp(halfnormal_logpdf(self.nodes, scale) + loglik - self.log_top)
        mass = (half[:, None] * _GL_W * dens.reshape(panels, _POINTS)).ravel()
        self.norm = float(mass.sum())
        self.weights = mass / self.norm
        self.panel_cdf = np.concatenate([[0.0], np.cumsum(mass.reshape(panels, _POINTS).sum(axis=1))]) / self.norm

    def log_unnormalised(self, tau: np.ndarray) -> np.ndarray:
        return halfnormal_logpdf(tau, self.scale) + _conditional(np.asarray(tau, dtype=float), self.y, self.v)[0]

    def pdf(self, tau) -> np.ndarray:
        t = np.atleast_1d(np.asarray(tau, dtype=float))
        out = np.zeros_like(t)
        ok = t >= 0
        out[ok] = np.exp(self.log_unnormalised(t[ok]) - self.log_top) / self.norm
        return out

    def cdf(self, x: float) -> float:
        if x <= self.low:
            return 0.0
        if x >= self.high:
            return 1.0
        panel = min(int(np.searchsorted(self.edges, x, side="right")) - 1, self.edges.size - 2)
        start = self.edges[panel]
        half = (x - start) / 2
        t = start + half * (1 + _GL_X_FINE)
        part = half * float(np.dot(_GL_W_FINE, self.pdf(t)))
        return min(1.0, float(self.panel_cdf[panel]) + part)

    def quantile(self, p: float, xtol: float = _XTOL) -> float:
        if p <= 0:
            return 0.0
        if p >= 1:
            return math.inf
        panel = min(int(np.searchsorted(self.panel_cdf, p)) - 1, self.edges.size - 2)
        lo, hi = float(self.edges[max(panel, 0)]), float(self.edges[max(panel, 0) + 1])
        return _invert(self.cdf, lambda x: float(self.pdf(x)[0]), p, lo, hi, 0.5 * (lo + hi), xtol)

    def moments(self) -> tuple[float, float]:
        mean = float(np.dot(self.weights, self.nodes))
        return mean, math.sqrt(max(0.0, float(np.dot(self.weights, (self.nodes - mean) ** 2))))


# ---------------------------------------------------------------------------
# bayesmeta's DIRECT discretisation
# ---------------------------------------------------------------------------


def _all_moments(tau: float, y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means and SDs, at one tau, of the conditional posteriors bayesmeta's divergence compares: mu,
    the predicted theta of a new trial, and each study's own theta_i (bayesmeta's ``conditionalmoment``)."""
    w = 1.0 / (tau * tau + v)
    var_mu = 1.0 / w.sum()
    m = float((w * y).sum()) * var_mu
    if tau == 0:
        ind_mean, ind_sd = np.full(y.size, m), np.full(y.size, math.sqrt(var_mu))
    else:
        prec = 1.0 / v + 1.0 / tau**2
        ind_mean = (y / v + m / tau**2) / prec
        ind_sd = np.sqrt(1.0 / prec + (math.sqrt(var_mu) * (1.0 / tau**2) / prec) ** 2)
    means = np.concatenate([[m, m], ind_mean])
    sds = np.concatenate([[math.sqrt(var_mu), math.sqrt(var_mu + tau * tau)], ind_sd])
    return means, sds


def _direct_support(
    y: np.ndarray, v: np.ndarray, tau_post: _TauPosterior, delta: float, epsilon: float
) -> tuple[np.ndarray, np.ndarray]:
    """bayesmeta's ``discretize(delta, epsilon, alldivs = TRUE)``: tau support points and their weights."""
    from scipy import optimize  # only for this algorithm: its import is slow

    tol = _BAYESMETA_TOL

    def divergence(t1: float, m1: np.ndarray, s1: np.ndarray, t2: float) -> float:
        m2, s2 = _all_moments(t2, y, v)
        kl = (m1 - m2) ** 2 * 0.5 * (1 / s1**2 + 1 / s2**2) + (s1**2 - s2**2) ** 2 / (2 * s1**2 * s2**2)
        return float(kl.max())

    state = {"upper": 1.0}

    def step(tau: float) -> float:
        """The tau beyond ``tau`` whose conditionals differ from those at ``tau`` by ``delta``."""
        m1, s1 = _all_moments(tau, y, v)
        diverg = divergence(tau, m1, s1, state["upper"])
        while diverg <= delta:
            state["upper"] *= 2
            diverg = divergence(tau, m1, s1, state["upper"])
        return optimize.brentq(
            lambda t: divergence(tau, m1, s1, t) - delta, tau, state["upper"], xtol=tol, rtol=4 * np.finfo(float).eps
        )

    maxtau = tau_post.quantile(1 - min(epsilon, 1 - epsilon), xtol=tol)
    bound = step(0.0)
    prob2 = tau_post.cdf(bound)
    points, weights = [0.0], [prob2]
    while bound <= maxtau or len(points) < 2:
        ref = step(bound)
        bound = step(ref)
        prob1, prob2 = prob2, tau_post.cdf(bound)
        points.append(ref)
        weights.append(max(0.0, prob2 - prob1))
    w = np.asarray(weights)
    total = w.sum()
    w = np.full(w.size, 1.0 / w.size) if total <= 0 else w / total
    return np.asarray(points), w


# ---------------------------------------------------------------------------
# A finite normal mixture: CDF, density, quantiles, intervals
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Mixture:
    weights: np.ndarray
    means: np.ndarray
    sds: np.ndarray

    def cdf(self, x: float) -> float:
        return float(np.dot(self.weights, special.ndtr((x - self.means) / self.sds)))

    def sf(self, x: float) -> float:
        return float(np.dot(self.weights, special.ndtr((self.means - x) / self.sds)))

    def pdf(self, x: float) -> float:
        z = (x - self.means) / self.sds
        return float(np.dot(self.weights, np.exp(-0.5 * z * z) / self.sds)) / math.sqrt(2 * math.pi)

    def quantile(self, p: float, xtol: float = _XTOL) -> float:
        if p <= 0:
            return -math.inf
        if p >= 1:
            return math.inf
        lo = float(np.min(self.means - 40 * self.sds))
        hi = float(np.max(self.means + 40 * self.sds))
        mean, sd = self.mean_sd()
        return _invert(self.cdf, self.pdf, p, lo, hi, mean + sd * float(special.ndtri(p)), xtol)

    def _terms(self, x: float) -> tuple[float, float, float]:
        """CDF, density and the density's derivative at x."""
        z = (x - self.means) / self.sds
        phi = self.weights * np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * self.sds)
        return float(np.dot(self.weights, special.ndtr(z))), float(phi.sum()), float(-np.dot(phi, z / self.sds))

    def shortest(self, level: float, start: tuple[float, float]) -> tuple[float, float]:
        """The shortest interval of probability ``level``: Newton's method on F(R) - F(L) = level,
        log f(L) = log f(R), from ``start`` (the central interval); :func:`_shortest` if that fails."""
        left, right = start
        for _ in range(50):
            cl, fl, dl = self._terms(left)
            cr, fr, dr = self._terms(right)
            if not (fl > 0 and fr > 0):
                break
            g1, g2 = cr - cl - level, math.log(fl) - math.log(fr)
            a, b, c, d = -fl, fr, dl / fl, -dr / fr
            det = a * d - b * c
            if det == 0 or not math.isfinite(det):
                break
            step_l, step_r = (d * g1 - b * g2) / det, (a * g2 - c * g1) / det
            left, right = left - step_l, right - step_r
            if not (math.isfinite(left) and math.isfinite(right) and left < right):
                break
            if max(abs(step_l), abs(step_r)) <= _XTOL + _RTOL * max(abs(left), abs(right)):
                return left, right
        return _shortest(self.cdf, self.quantile, self.pdf, level, None)

    def mean_sd(self) -> tuple[float, float]:
        mean = float(np.dot(self.weights, self.means))
        var = float(np.dot(self.weights, self.sds**2 + (self.means - mean) ** 2))
        return mean, math.sqrt(var)


def _shortest(cdf, quantile, pdf, level: float, lower_bound: float | None) -> tuple[float, float]:
    """The shortest interval of probability ``level`` of a unimodal distribution: the left end L where the
    density is equal at L and at R(L) = quantile(level + cdf(L)). ``lower_bound`` is the lower end of the
    support (0 for tau) or None; an interval that starts there is taken when it is the shortest."""
    from scipy import optimize  # only here (tau, or a mixture's Newton iteration failing): its import is slow

    def right(left: float) -> float:
        p = level + cdf(left)
        return math.inf if p >= 1 else quantile(p)

    def gap(left: float) -> float:
        r = right(left)
        return pdf(left) - (0.0 if math.isinf(r) else pdf(r))

    start = quantile(1e-9 * (1 - level)) if lower_bound is None else lower_bound
    stop = quantile((1 - level) * (1 - 1e-9))
    if lower_bound is not None and gap(start) >= 0:  # density falls from the boundary on: start there
        return lower_bound, quantile(level)
    left = optimize.brentq(gap, start, stop, xtol=_XTOL, rtol=_RTOL)
    return left, right(left)


# ---------------------------------------------------------------------------
# Result and entry point
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BayesResult:
    """The posterior of a Bayesian random-effects meta-analysis (the summaries of bayesmeta's ``$summary``).

    ``mu_*`` summarise the marginal posterior of the mean effect: median, central (equal-tailed)
    ``level`` credible interval, and ``mu_short_*`` the shortest ``level`` interval (bayesmeta's
    default interval type); ``tau_*`` summarise the posterior of the heterogeneity; ``theta_*`` the
    posterior predictive distribution of the effect in a new trial (``theta_low``/``theta_high`` is
    the central prediction interval). ``prob_positive`` is P(mu > 0 | y): for log risk ratios, the
    posterior probability that the risk ratio exceeds 1. Everything is on the analysis scale
    (log RR, log OR, ...).

    The discretised posterior is kept (``support_tau``, ``support_weight``): :meth:`cdf`,
    :meth:`quantile`, :meth:`prob_greater` and :meth:`interval` (central or shortest) evaluate any
    further summary, like bayesmeta's ``pposterior``, ``qposterior`` and ``post.interval``.
    """

    tau_prior: str
    scale: float
    algorithm: str
    k: int
    level: float
    mu_median: float
    mu_low: float
    mu_high: float
    mu_short_low: float
    mu_short_high: float
    mu_mean: float
    mu_sd: float
    tau_median: float
    tau_low: float
    tau_high: float
    tau_mean: float
    tau_sd: float
    theta_median: float
    theta_low: float
    theta_high: float
    prob_positive: float
    measure: str | None = None
    yi: np.ndarray | None = field(default=None, repr=False)
    vi: np.ndarray | None = field(default=None, repr=False)
    labels: tuple | None = None
    support_tau: np.ndarray | None = field(default=None, repr=False)
    support_weight: np.ndarray | None = field(default=None, repr=False)
    _mu: _Mixture | None = field(default=None, repr=False)
    _theta: _Mixture | None = field(default=None, repr=False)
    _tau: _TauPosterior | None = field(default=None, repr=False)

    @property
    def tau2_median(self) -> float:
        """Posterior median of tau² (the square of tau's median: the median is kept by monotone maps)."""
        return self.tau_median**2

    def _dist(self, parameter: str):
        if parameter not in ("mu", "theta", "tau"):
            raise ValueError("parameter must be 'mu', 'theta' (a new trial's effect) or 'tau'")
        return {"mu": self._mu, "theta": self._theta, "tau": self._tau}[parameter]

    def cdf(self, x: float, parameter: str = "mu") -> float:
        """Posterior CDF (predictive for ``theta``) at ``x``, like bayesmeta's ``pposterior``."""
        return self._dist(parameter).cdf(float(x))

    def pdf(self, x: float, parameter: str = "mu") -> float:
        """Posterior density (predictive for ``theta``) at ``x``, like bayesmeta's ``dposterior``."""
        return float(np.atleast_1d(self._dist(parameter).pdf(float(x)))[0])

    def quantile(self, p: float, parameter: str = "mu") -> float:
        """Posterior quantile, like bayesmeta's ``qposterior``."""
        return self._dist(parameter).quantile(float(p))

    def prob_greater(self, x: float = 0.0, parameter: str = "mu") -> float:
        """P(parameter > x | y); ``prob_greater(0)`` is :attr:`prob_positive`."""
        d = self._dist(parameter)
        return d.sf(float(x)) if isinstance(d, _Mixture) else 1.0 - d.cdf(float(x))

    def interval(self, level: float | None = None, method: str = "central", parameter: str = "mu"):
        """Credible (prediction, for ``theta``) interval: ``central`` (equal tails) or ``shortest``
        (highest posterior density for a unimodal posterior), like bayesmeta's ``post.interval``."""
        level = self.level if level is None else float(level)
        if not 0 < level < 1:
            raise ValueError("level must be in (0, 1)")
        d = self._dist(parameter)
        if method == "central":
            return d.quantile((1 - level) / 2), d.quantile(1 - (1 - level) / 2)
        if method != "shortest":
            raise ValueError("method must be 'central' or 'shortest'")
        if parameter == "tau":
            return _shortest(d.cdf, d.quantile, lambda x: float(d.pdf(x)[0]), level, 0.0)
        return d.shortest(level, self.interval(level, "central", parameter))


def bayes_rma(
    yi,
    vi=None,
    *,
    tau_prior: str = "halfnormal",
    scale: float = 0.5,
    level: float = 0.95,
    algorithm: str = "quadrature",
    labels: Sequence | None = None,
    measure: str | None = None,
    delta: float = 0.01,
    epsilon: float = 1e-4,
) -> BayesResult:
    """Bayesian random-effects meta-analysis: uniform prior on mu, ``tau_prior`` on tau with ``scale``.

    Called as ``bayes_rma(fit)`` with a fit (:class:`~helpers.stats.pooling.RmaResult`), it uses the
    fit's ``yi``, ``vi``, ``labels`` and ``measure``; as ``bayes_rma(yi, vi)`` the arrays. ``level`` is
    that of the credible and prediction intervals. ``algorithm`` is ``"quadrature"`` (the posterior to
    about 1e-9) or ``"direct"`` (bayesmeta's DIRECT grid, with its ``delta`` and ``epsilon``; see the
    module docstring). Like ``bayesmeta(y, sigma = sqrt(vi), tau.prior = function(t)
    dhalfnormal(t, scale))``.
    """
    if isinstance(yi, RmaResult):
        if vi is not None:
            raise TypeError("bayes_rma(fit) takes no vi: the fit carries its own")
        fit = yi
        if fit.yi is None or fit.vi is None:
            raise ValueError("the fit carries no yi/vi")
        keep = np.isfinite(fit.yi) & np.isfinite(fit.vi)  # MH/Peto fits: NaN for the dropped studies
        yi, vi = fit.yi[keep], fit.vi[keep]
        labels = labels if labels is not None else (None if fit.labels is None else tuple(np.asarray(fit.labels)[keep]))
        measure = measure or fit.measure
    elif vi is None:
        raise TypeError("bayes_rma() needs vi (or an RmaResult as its only positional argument)")
    y = np.atleast_1d(np.asarray(yi, dtype=float))
    v = np.atleast_1d(np.asarray(vi, dtype=float))
    if y.ndim != 1 or y.shape != v.shape or y.size == 0:
        raise ValueError("yi and vi must be 1-d, of the same length and not empty")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError("yi must be finite and vi finite and positive")
    if tau_prior not in TAU_PRIORS:
        raise ValueError(f"tau_prior must be one of {TAU_PRIORS}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError("scale must be positive")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}")
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    if labels is not None and len(labels) != y.size:
        raise ValueError("labels must have one entry per study")

    tau_post = _TauPosterior(y, v, float(scale))
    if algorithm == "quadrature":
        support, weight = tau_post.nodes, tau_post.weights
        cond_mean, cond_var = tau_post.node_mean, tau_post.node_var
    else:
        support, weight = _direct_support(y, v, tau_post, delta, epsilon)
        _, cond_mean, cond_var = _conditional(support, y, v)
    keep = weight > 1e-18 * weight.max()  # the rest changes no CDF by more than ~1e-16
    mu = _Mixture(weight[keep], cond_mean[keep], np.sqrt(cond_var[keep]))
    theta = _Mixture(weight[keep], cond_mean[keep], np.sqrt(cond_var[keep] + support[keep] ** 2))

    tail = (1 - level) / 2
    mu_mean, mu_sd = mu.mean_sd()
    mu_low, mu_high = mu.quantile(tail), mu.quantile(1 - tail)
    mu_short = mu.shortest(level, (mu_low, mu_high))
    tau_mean, tau_sd = tau_post.moments()
    return BayesResult(
        tau_prior=tau_prior,
        scale=float(scale),
        algorithm=algorithm,
        k=int(y.size),
        level=float(level),
        mu_median=mu.quantile(0.5),
        mu_low=mu_low,
        mu_high=mu_high,
        mu_short_low=mu_short[0],
        mu_short_high=mu_short[1],
        mu_mean=mu_mean,
        mu_sd=mu_sd,
        tau_median=tau_post.quantile(0.5),
        tau_low=tau_post.quantile(tail),
        tau_high=tau_post.quantile(1 - tail),
        tau_mean=tau_mean,
        tau_sd=tau_sd,
        theta_median=theta.quantile(0.5),
        theta_low=theta.quantile(tail),
        theta_high=theta.quantile(1 - tail),
        prob_positive=mu.sf(0.0),
        measure=measure,
        yi=_read_only(y),
        vi=_read_only(v),
        labels=None if labels is None else tuple(labels),
        support_tau=_read_only(support),
        support_weight=_read_only(weight),
        _mu=mu,
        _theta=theta,
        _tau=tau_post,
    )


def _read_only(x: np.ndarray) -> np.ndarray:
    out = np.array(x, dtype=float)
    out.setflags(write=False)
    return out
