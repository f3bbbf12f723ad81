"""Fragility indices: how many patients' outcomes would have to differ for a result to change side.

* :func:`walsh_fragility_index` - one trial, Fisher's exact test (Walsh et al. 2014): events are
  added to the arm with fewer events (a non-event becoming an event, the arm's size fixed) until
  the two-sided p reaches alpha; defined only for a significant result (None otherwise).
* :func:`fragility_index` - any estimate with a confidence interval, e.g. a pooled
  Mantel-Haenszel risk ratio (Atal et al. 2019): the smallest number of patients, in any arms of
  any trials, whose outcome must change for the interval to change side of the null. The search
  is exhaustive (every way of distributing 1, 2, ... changes over the arms), so the index is the
  minimum; Atal et al.'s own one-change-at-a-time search, an upper bound, is used only beyond an
  evaluation budget (many trials and a large index). For a significant result the changes move the estimate
  towards the null (fewer events in the arm with the higher risk, more in the other); for a
  non-significant one away from it, in the direction of the estimate (a "reverse" index).

Arm 0 of a trial is the treatment arm (``ai`` events of ``n1i``), arm 1 the control arm (``ci`` of
``n2i``). ``tests/test_fragility.py`` checks both against base R and metafor
(``tests/reference/single_trial``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from helpers.stats import pooling
from helpers.stats.single_trial import fisher_p

__all__ = ["Fragility", "fragility_index", "mh_interval", "row_by_row", "walsh_fragility_index"]

#: An interval function: counts ai, n1i, ci, n2i as 2-d arrays (one row per candidate set of trials)
#: -> (estimate, low, high) arrays, one entry per row, on a scale with the null at 0 (log RR, log OR,
#: RD); NaN where not estimable. :func:`mh_interval` is one; :func:`row_by_row` makes one of a
#: function of one set of trials.
Interval = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Fragility:
    """A fragility index and the counts that realise it.

    ``index`` is None when no change within the arms' sizes reaches the other side (or, for
    Walsh's index, when the result is not significant). ``changes`` lists (trial, arm, change in
    events) with arm "treatment" or "control"; ``ai``/``ci`` are the events after the changes;
    ``estimate``, ``ci_low`` and ``ci_high`` the result after them (for Walsh's index, ``p`` is the
    Fisher p after them and the interval fields are NaN).
    """

    index: int | None
    significant: bool
    reverse: bool
    changes: tuple[tuple[int, str, int], ...]
    ai: tuple[int, ...]
    ci: tuple[int, ...]
    estimate: float
    ci_low: float
    ci_high: float
    p: float
    definition: str


def _counts(ai, n1i, ci, n2i) -> tuple[np.ndarray, ...]:
    arrays = [np.atleast_1d(np.asarray(x)) for x in (ai, n1i, ci, n2i)]
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1 or arrays[0].size == 0:
        raise ValueError("ai, n1i, ci, n2i must be 1-d of the same (non-zero) length")
    out = [a.astype(int) for a in arrays]
    if any(np.any(o != a) for o, a in zip(out, arrays)):
        raise ValueError("counts must be whole numbers")
    a, n1, c, n2 = out
    if np.any(a < 0) or np.any(c < 0) or np.any(a > n1) or np.any(c > n2):
        raise ValueError("need 0 <= events <= total in every arm")
    return a, n1, c, n2


# ---------------------------------------------------------------------------
# One trial, Fisher's exact test (Walsh et al. 2014)
# ---------------------------------------------------------------------------
def walsh_fragility_index(a: int, n1: int, c: int, n2: int, alpha: float = 0.05) -> Fragility:
    """Walsh's fragility index of one trial: events added to the arm with fewer events until p >= alpha.

    The arm with fewer events (the treatment arm on a tie) gains one event at a time, a non-event
    of the same arm becoming an event, and Fisher's two-sided p is recomputed; the index is the
    number of events added when p first reaches ``alpha``. Not significant (p >= alpha): None.
    """
    (a, n1, c, n2) = (int(x[0]) for x in _counts([a], [n1], [c], [n2]))
    p = fisher_p(a, n1, c, n2)
    nan = math.nan
    if p >= alpha:
        return Fragility(None, False, False, (), (a,), (c,), nan, nan, nan, p, "walsh")
    arm = "treatment" if a <= c else "control"
    added = 0
    while True:
        if (arm == "treatment" and a + added >= n1) or (arm == "control" and c + added >= n2):
            return Fragility(None, True, False, (), (a,), (c,), nan, nan, nan, p, "walsh")
        added += 1
        a2, c2 = (a + added, c) if arm == "treatment" else (a, c + added)
        p2 = fisher_p(a2, n1, c2, n2)
        if p2 >= alpha:
            return Fragility(added, True, False, ((0, arm, added),), (a2,), (c2,), nan, nan, nan, p2, "walsh")


# ---------------------------------------------------------------------------
# Any interval: exhaustive search over the arms (Atal et al. 2019)
# ---------------------------------------------------------------------------
def mh_interval(measure: str = "RR", level: float = 0.95) -> Interval:
    """The Mantel-Haenszel estimate and Wald interval (log RR, log OR or RD) of each row, as :func:`pooling.rma_mh`."""
    z = float(stats.norm.ppf(1 - (1 - level) / 2))

    def interval(a, n1, c, n2):
        est, se, _ = pooling.mh_estimate(a, n1 - a, c, n2 - c, measure)
        return est, est - z * se, est + z * se

    return interval


def row_by_row(fn: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[float, float, float]]) -> Interval:
    """An :data:`Interval` from a function of one set of trials (1-d counts), called once per row."""

    def interval(a, n1, c, n2):
        out = np.array([fn(*row) for row in zip(a, n1, c, n2)], dtype=float).reshape(-1, 3)
        return out[:, 0], out[:, 1], out[:, 2]

    return interval


def _excludes_null(low: float, high: float) -> bool:
    return bool(math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0))


def _compositions(total: int, capacity: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every way of writing ``total`` as a sum of len(capacity) non-negative parts, part i <= capacity[i]."""
    if len(capacity) == 1:
        if total <= capacity[0]:
            yield (total,)
        return
    rest = sum(capacity[1:])
    for first in range(min(total, capacity[0]), max(0, total - rest) - 1, -1):
        for tail in _compositions(total - first, capacity[1:]):
            yield (first, *tail)


def _evaluate(interval: Interval, a2: np.ndarray, n1: np.ndarray, c2: np.ndarray, n2: np.ndarray):
    """The interval of each row of candidate counts (rows x trials), as float arrays."""
    rows = len(a2)
    out = interval(a2, np.tile(n1, (rows, 1)), c2, np.tile(n2, (rows, 1)))
    return tuple(np.asarray(x, dtype=float).reshape(rows) for x in out)


def fragility_index(
    ai,
    n1i,
    ci,
    n2i,
    interval: Interval | None = None,
    *,
    max_evaluations: int = 200_000,
) -> Fragility:
    """The smallest number of outcome changes, over all arms, that moves the interval to the other side of the null.

    ``interval`` gives (estimate, low, high) on a scale with the null at 0 (default: the
    Mantel-Haenszel log risk ratio, :func:`mh_interval`). A significant result (interval
    excluding 0) is moved towards the null: with a positive estimate, events are removed from
    treatment arms and added to control arms; with a negative one the reverse. A non-significant
    result is moved away from the null in the direction of its estimate (a reverse fragility
    index; with an estimate of exactly 0 both directions are searched). Changes of 1, 2, ...
    patients are tried in turn, each distributed over the arms in every possible way; among the
    smallest sets that succeed, the one moving the interval furthest across is returned
    (``definition`` "exhaustive"). An interval that cannot be computed (e.g. no events left in one
    group) counts as not significant.

    When the exhaustive search would need more than ``max_evaluations`` intervals (many trials and
    a large index), the iterative search of Atal et al. (2019) is used instead: one change at a
    time, each time the one moving the interval furthest towards the other side; its index
    (``definition`` "greedy") is an upper bound of the minimum.
    """
    a, n1, c, n2 = _counts(ai, n1i, ci, n2i)
    interval = interval or mh_interval()
    est, low, high = (float(x[0]) for x in _evaluate(interval, a[None], n1, c[None], n2))
    significant = _excludes_null(low, high)
    if significant:
        signs = [1 if est > 0 else -1]  # +1: lower the estimate (treatment events down, control events up)
    elif math.isfinite(est):
        signs = [-1] if est > 0 else [1] if est < 0 else [1, -1]
    else:
        signs = []

    def margin(l2: np.ndarray, h2: np.ndarray, sign: int) -> np.ndarray:
        """How far across the null the limit that is to cross it lies (positive: crossed)."""
        if significant:
            m = -l2 if est > 0 else h2
        else:
            m = l2 if sign == -1 else -h2
        return np.where(np.isfinite(m), m, -np.inf)

    def crossed(l2: np.ndarray, h2: np.ndarray) -> np.ndarray:
        return (np.isfinite(l2) & np.isfinite(h2) & ((l2 > 0) | (h2 < 0))) != significant

    def result(index, sign, dt, dc, values, definition) -> Fragility:
        changes = tuple(
            (i, arm, int(-sign * d if arm == "treatment" else sign * d))
            for arm, deltas in (("treatment", dt), ("control", dc))
            for i, d in enumerate(deltas)
            if d
        )
        a2, c2 = a - sign * dt, c + sign * dc
        e2, l2, h2 = (float(v) for v in values)
        return Fragility(
            index,
            significant,
            not significant,
            changes,
            tuple(int(x) for x in a2),
            tuple(int(x) for x in c2),
            e2,
            l2,
            h2,
            math.nan,
            definition,
        )

    def room(sign: int) -> np.ndarray:
        """How far each arm can move in this direction: treatment arms first, then control arms."""
        return np.concatenate([a if sign == 1 else n1 - a, n2 - c if sign == 1 else c])

    k = a.size
    try:
        found = _exhaustive(a, n1, c, n2, k, signs, room, interval, margin, crossed, max_evaluations)
    except _BudgetExceeded:
        found = _greedy(a, n1, c, n2, k, signs, room, interval, margin, crossed)
        if found is not None:
            return result(*found, "greedy")
        definition = "greedy"
    else:
        if found is not None:
            return result(*found, "exhaustive")
        definition = "exhaustive"
    return Fragility(
        None,
        significant,
        not significant,
        (),
        tuple(int(x) for x in a),
        tuple(int(x) for x in c),
        est,
        low,
        high,
        math.nan,
        definition,
    )


class _BudgetExceeded(Exception):
    pass


def _exhaustive(a, n1, c, n2, k, signs, room, interval, margin, crossed, max_evaluations):
    """(index, sign, treatment changes, control changes, (estimate, low, high)) of the minimum, or None."""
    evaluations = 1
    for f in range(1, int(n1.sum() + n2.sum()) + 1):
        best = None
        any_room = False
        for sign in signs:
            capacity = room(sign)
            if capacity.sum() < f:
                continue
            any_room = True
            parts = list(_compositions(f, [int(x) for x in capacity]))
            evaluations += len(parts)
            if evaluations > max_evaluations:
                raise _BudgetExceeded
            parts = np.array(parts, dtype=int)
            dt, dc = parts[:, :k], parts[:, k:]
            e2, l2, h2 = _evaluate(interval, a - sign * dt, n1, c + sign * dc, n2)
            m = np.where(crossed(l2, h2), margin(l2, h2, sign), np.nan)
            if np.isnan(m).all():
                continue
            i = int(np.nanargmax(np.where(np.isneginf(m), -np.finfo(float).max, m)))
            if best is None or m[i] > best[0]:
                best = (m[i], (f, sign, dt[i], dc[i], (e2[i], l2[i], h2[i])))
        if best is not None:
            return best[1]
        if not any_room:
            return None
    return None


def _greedy(a, n1, c, n2, k, signs, room, interval, margin, crossed):
    """Atal et al.'s iterative search: one change at a time, the one that moves the limit furthest."""
    results = []
    for sign in signs:
        dt, dc = np.zeros(k, dtype=int), np.zeros(k, dtype=int)
        while True:
            capacity = room(sign) - np.concatenate([dt, dc])
            options = np.flatnonzero(capacity > 0)
            if options.size == 0:
                break
            steps = np.zeros((options.size, 2 * k), dtype=int)
            steps[np.arange(options.size), options] = 1
            t, cc = dt + steps[:, :k], dc + steps[:, k:]
            e2, l2, h2 = _evaluate(interval, a - sign * t, n1, c + sign * cc, n2)
            m = margin(l2, h2, sign)
            i = int(np.argmax(m))
            dt, dc = t[i], cc[i]
            if crossed(l2[i : i + 1], h2[i : i + 1])[0]:
                results.append((int(dt.sum() + dc.sum()), sign, dt, dc, (e2[i], l2[i], h2[i])))
                break
    return min(results, key=lambda r: r[0]) if results else None
