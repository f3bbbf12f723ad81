"""How robust the primary analysis is to its derived and incomplete inputs (``protocol.yml`` ``robustness``).

No study is named here: every scenario follows from the protocol and the data.

* :func:`non_responder_counts` - intention to treat with non-responder imputation: a trial arm
  whose randomised patients (``arms.csv``, population "randomised") outnumber those analysed gets
  the difference added to its total, with no event (the unanalysed patients count as
  non-responders);
* :func:`split_candidates` / :func:`arm_splits` - where a trial's arm sizes are derived (every
  ``arms.csv`` row giving that size is ``derived``, e.g. from a total and a 1:1 ratio), every
  split of the trial's total whose IL-2 share lies within the protocol's ``max_share_deviation`` of
  the derived share and whose counts reproduce the reported percentages (``percent`` of the
  derived outcome rows) at their reported precision; the primary estimate for each combination;
* :func:`fragility` - the fragility index of the pooled estimate (:func:`helpers.stats.fragility.
  fragility_index`: the fewest patients, in any arms, whose outcome must change for the interval
  to change side of the null) and :func:`trial_fragility` - each trial's own index (Walsh et al.
  2014, Fisher's exact test);
* :func:`robustness_table` - one tidy table (scenario, description, estimate, ci_low, ci_high,
  crosses_1) to report beside the primary estimate.

Estimates use the primary analysis's own model (the protocol's first model: Mantel-Haenszel for
several trials) on the protocol's ``robustness.measure``, on the reporting scale. ``crosses_1``
is True when the interval includes the null (1 for a ratio, 0 for a risk difference).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import Protocol, load_protocol
from helpers.report.prose import lower_first
from helpers.review.analyses import fit, model_label
from helpers.review.selection import Analysis, count_rows, planned_analyses, two_arm_counts
from helpers.stats import fragility as fragility_stats
from helpers.stats import pooling
from helpers.stats.single_trial import fisher_p

MEASURE_WORDS = {"RR": "risk ratio", "OR": "odds ratio", "RD": "risk difference"}
ROBUSTNESS_COLUMNS = ["scenario", "description", "estimate", "ci_low", "ci_high", "crosses_1"]
#: Most combinations of arm splits evaluated before :func:`arm_splits` refuses.
MAX_SPLIT_COMBINATIONS = 100_000


def primary_analysis(ev: Evidence, protocol: Protocol | None = None) -> Analysis | None:
    """The protocol's ``role: primary`` analysis with the trials the data give it (None if none)."""
    return next((a for a in planned_analyses(ev, protocol) if a.role == "primary"), None)


def _settings(a: Analysis, protocol: Protocol | None) -> tuple[str, str, str, float]:
    """(measure, method, test, level) of the robustness estimates: the analysis's own first model."""
    protocol = protocol or load_protocol()
    method, test = a.models[0]
    return protocol.robustness["measure"], method, test, 1 - protocol.robustness["fragility"]["alpha"]


def _null(measure: str) -> float:
    return 0.0 if measure == "RD" else 1.0


def estimate(counts: pd.DataFrame, measure: str, method: str, test: str) -> tuple[float, float, float]:
    """(estimate, ci_low, ci_high) of a counts table on the reporting scale."""
    bt = pooling.back_transform(fit(counts, measure, method, test), measure)
    return bt["estimate"], bt["ci_low"], bt["ci_high"]


def _row(scenario: str, description: str, values: tuple[float, float, float], measure: str) -> dict:
    est, low, high = values
    null = _null(measure)
    crosses = bool(not (math.isfinite(low) and math.isfinite(high)) or low <= null <= high)
    return dict(zip(ROBUSTNESS_COLUMNS, (scenario, description, est, low, high, crosses), strict=True))


# ---------------------------------------------------------------------------
# Intention to treat with non-responder imputation
# ---------------------------------------------------------------------------
def _randomised(ev: Evidence, study_id: str, roles: tuple[str, ...]) -> int | None:
    """Patients randomised to the trial's arms of these roles (arms.csv), or None if not known for every arm."""
    arms = ev.arms[(ev.arms["study_id"] == study_id) & ev.arms["role"].isin(roles)]
    rand = arms[arms["population"] == "randomised"]
    if rand.empty or rand["n"].isna().any() or set(rand["arm"]) != set(arms["arm"]):
        return None
    return int(rand["n"].sum())


def non_responder_counts(ev: Evidence, a: Analysis, protocol: Protocol | None = None) -> pd.DataFrame:
    """The analysis's counts with every randomised but unanalysed patient counted, as a non-responder.

    Adds ``randomised_il2``, ``randomised_control`` (NA when not reported) and ``unanalysed_il2``,
    ``unanalysed_control`` (patients added to the totals; events are unchanged).
    """
    protocol = protocol or load_protocol()
    counts = two_arm_counts(ev, a, protocol).copy()
    for side, roles in (("il2", ("il2",)), ("control", protocol.comparators)):
        randomised = [_randomised(ev, s, roles) for s in counts["study_id"]]
        counts[f"randomised_{side}"] = pd.array(randomised, dtype="Int64")
        missing = [max(0, r - t) if r is not None else 0 for r, t in zip(randomised, counts[f"total_{side}"])]
        counts[f"unanalysed_{side}"] = missing
        counts[f"total_{side}"] = counts[f"total_{side}"] + np.array(missing, dtype=int)
    return counts


# ---------------------------------------------------------------------------
# Arm splits consistent with the reported percentages
# ---------------------------------------------------------------------------
def reported_decimals(percent: float, max_decimals: int = 4) -> int:
    """The decimals a reported percentage shows (68.0 -> 0, 83.3 -> 1, 55.17 -> 2).

    Trailing zeros are lost when the data are read ("30.00" reads as 30.0 -> 0), which only widens
    the tolerance, so more splits count as consistent, never fewer.
    """
    for d in range(max_decimals + 1):
        if abs(round(percent, d) - percent) < 1e-9:
            return d
    return max_decimals


def consistent_events(total: int, percent: float) -> list[int]:
    """Event counts e with 100 e / total equal to ``percent`` at its reported precision (half a unit either way)."""
    tolerance = 0.5 * 10 ** -reported_decimals(percent) + 1e-9
    centre = percent * total / 100
    low, high = max(0, math.floor(centre) - 1), min(total, math.ceil(centre) + 1)
    return [e for e in range(low, high + 1) if abs(100 * e / total - percent) <= tolerance]


def _size_derived(ev: Evidence, study_id: str, arm: str, total: int) -> bool:
    """Every arms.csv row of this arm that gives this size is derived (and there is one)."""
    rows = ev.arms[(ev.arms["study_id"] == study_id) & (ev.arms["arm"] == arm) & (ev.arms["n"] == total)]
    return bool(len(rows)) and bool((rows["status"] == "derived").all())


def split_candidates(ev: Evidence, a: Analysis, protocol: Protocol | None = None) -> pd.DataFrame:
    """Per trial of the analysis, every (events, total) of its IL-2 and comparator arm the data allow.

    A trial with one IL-2 and one comparator arm whose sizes are both derived gets every split of
    its total with the IL-2 share within ``max_share_deviation`` of the derived share; an arm
    whose count is derived from a reported percentage gets every event count reproducing it.
    Reported sizes and counts stay as they are. Columns: study_id, label, events_il2, total_il2,
    events_control, total_control, varied (the trial has more than one candidate), as_analysed
    (the candidate equal to the analysed counts).
    """
    protocol = protocol or load_protocol()
    deviation = protocol.robustness["arm_split"]["max_share_deviation"]
    counts = two_arm_counts(ev, a, protocol)
    rows_all = count_rows(ev, a.outcome, a.timepoint)
    out = []
    for c in counts.itertuples(index=False):
        cell = rows_all[(rows_all["study_id"] == c.study_id) & (rows_all["population"] == c.population)]
        il2 = cell[cell["role"] == "il2"]
        ctl = cell[cell["role"].isin(protocol.comparators)]
        analysed = (c.events_il2, c.total_il2, c.events_control, c.total_control)
        if len(il2) != 1 or len(ctl) != 1:  # combined arms: kept as analysed
            candidates = [analysed]
        else:
            arms = [il2.iloc[0], ctl.iloc[0]]
            derived_size = all(_size_derived(ev, c.study_id, r["arm"], int(r["total"])) for r in arms)
            n_total = int(arms[0]["total"]) + int(arms[1]["total"])
            if derived_size:
                share = int(arms[0]["total"]) / n_total
                low = max(1, math.ceil(n_total * (share - deviation) - 1e-9))
                high = min(n_total - 1, math.floor(n_total * (share + deviation) + 1e-9))
                sizes = [(n1, n_total - n1) for n1 in range(low, high + 1)]
            else:
                sizes = [(int(arms[0]["total"]), int(arms[1]["total"]))]

            def events(r: pd.Series, n: int) -> list[int]:
                from_percent = r["status"] == "derived" and pd.notna(r["percent"])
                e = consistent_events(n, float(r["percent"])) if from_percent else [int(r["events"])]
                return [n - x for x in e] if a.invert else e

            candidates = [
                (e1, n1, e2, n2)
                for n1, n2 in sizes
                for e1 in events(arms[0], n1)
                for e2 in events(arms[1], n2)
                if 0 <= e1 <= n1 and 0 <= e2 <= n2
            ]
        varied = len(candidates) > 1
        for e1, n1, e2, n2 in candidates:
            out.append(
                {
                    "study_id": c.study_id,
                    "label": c.label,
                    "events_il2": e1,
                    "total_il2": n1,
                    "events_control": e2,
                    "total_control": n2,
                    "varied": varied,
                    "as_analysed": (e1, n1, e2, n2) == analysed,
                }
            )
    return pd.DataFrame(out)


def arm_splits(ev: Evidence, a: Analysis, protocol: Protocol | None = None) -> pd.DataFrame:
    """The primary estimate for every combination of the trials' candidate counts (:func:`split_candidates`).

    One row per combination: ``description`` (the varied trials' counts), ``as_analysed``, and
    estimate, ci_low, ci_high, crosses_1 of the analysis's model. Empty when no trial has an
    alternative.
    """
    measure, method, test, _ = _settings(a, protocol)
    cand = split_candidates(ev, a, protocol)
    if cand.empty or not cand["varied"].any():
        return pd.DataFrame(columns=["description", "as_analysed", *ROBUSTNESS_COLUMNS[2:]])
    per_trial = [g for _, g in cand.groupby("study_id", sort=False)]
    n = math.prod(len(g) for g in per_trial)
    if n > MAX_SPLIT_COMBINATIONS:
        raise ValueError(f"{a.id}: {n} combinations of arm splits; at most {MAX_SPLIT_COMBINATIONS} are evaluated")
    base = two_arm_counts(ev, a, protocol).set_index("study_id")
    rows = []
    for combo in itertools.product(*(g.to_dict("records") for g in per_trial)):
        counts = base.copy()
        for r in combo:
            for col in ("events_il2", "total_il2", "events_control", "total_control"):
                counts.loc[r["study_id"], col] = r[col]
        described = "; ".join(
            f"{r['label']} {r['events_il2']}/{r['total_il2']} vs {r['events_control']}/{r['total_control']}"
            for r in combo
            if r["varied"]
        )
        row = _row("arm_split", described, estimate(counts.reset_index(), measure, method, test), measure)
        rows.append({**row, "as_analysed": all(r["as_analysed"] for r in combo)})
    out = pd.DataFrame(rows)
    return out[["description", "as_analysed", *ROBUSTNESS_COLUMNS[2:]]]


# ---------------------------------------------------------------------------
# Fragility
# ---------------------------------------------------------------------------
def fragility(ev: Evidence, a: Analysis, protocol: Protocol | None = None) -> fragility_stats.Fragility:
    """The fragility index of the analysis's estimate (its own model; exhaustive over every arm)."""
    measure, method, test, level = _settings(a, protocol)
    counts = two_arm_counts(ev, a, protocol)
    if method == "MH":
        interval = fragility_stats.mh_interval(measure, level)
    else:

        def one(e1, n1, e2, n2):
            table = counts.assign(events_il2=e1, total_il2=n1, events_control=e2, total_control=n2)
            r = fit(table, measure, method, test)
            return r.estimate, r.ci_low, r.ci_high

        interval = fragility_stats.row_by_row(one)
    return fragility_stats.fragility_index(
        counts["events_il2"], counts["total_il2"], counts["events_control"], counts["total_control"], interval
    )


def trial_fragility(ev: Evidence, a: Analysis, protocol: Protocol | None = None) -> pd.DataFrame:
    """Each trial's Fisher p and Walsh fragility index (None where the trial is not significant on its own)."""
    alpha = (protocol or load_protocol()).robustness["fragility"]["alpha"]
    rows = []
    for c in two_arm_counts(ev, a, protocol).itertuples(index=False):
        f = fragility_stats.walsh_fragility_index(c.events_il2, c.total_il2, c.events_control, c.total_control, alpha)
        p = fisher_p(c.events_il2, c.total_il2, c.events_control, c.total_control)
        rows.append({"label": c.label, "fisher_p": p, "fragility_index": f.index})
    return pd.DataFrame(rows, columns=["label", "fisher_p", "fragility_index"])


def changes_text(counts: pd.DataFrame, f: fragility_stats.Fragility, number=str) -> str:
    """'1 responder fewer in the IL-2 arm of LUPIL-2' for the changes of a fragility index (``number``
    writes the count, e.g. as a word)."""
    labels = list(counts["label"])
    parts = []
    for i, arm, delta in f.changes:
        who = "IL-2" if arm == "treatment" else "comparator"
        n = abs(delta)
        parts.append(
            f"{number(n)} responder{'s' if n != 1 else ''} {'fewer' if delta < 0 else 'more'} in the {who} arm of "
            f"{labels[i]}"
        )
    return "; ".join(parts)


# ---------------------------------------------------------------------------
# The table reported beside the primary estimate
# ---------------------------------------------------------------------------
def robustness_table(ev: Evidence, a: Analysis | None = None, protocol: Protocol | None = None) -> pd.DataFrame:
    """Scenarios for the primary analysis: as analysed, non-responder imputation, the fragility index's
    changes, and the arm splits with the lowest and the highest lower limit. Columns: scenario,
    description, estimate, ci_low, ci_high, crosses_1 (see the module docstring)."""
    protocol = protocol or load_protocol()
    a = a or primary_analysis(ev, protocol)
    if a is None:
        return pd.DataFrame(columns=ROBUSTNESS_COLUMNS)
    measure, method, test, _ = _settings(a, protocol)
    counts = two_arm_counts(ev, a, protocol)
    model = f"{model_label(method, test)}, {MEASURE_WORDS.get(measure, measure)}"
    rows = [_row("as_analysed", f"As analysed: {lower_first(model)}", estimate(counts, measure, method, test), measure)]

    nri = non_responder_counts(ev, a, protocol)
    added = [
        f"{r.label}: {n} {who} patient{'s' if n != 1 else ''}"
        for r in nri.itertuples(index=False)
        for who, n in (("IL-2", r.unanalysed_il2), ("comparator", r.unanalysed_control))
        if n
    ]
    rows.append(
        _row(
            "non_responders",
            "Randomised but not analysed patients counted as non-responders ("
            + ("; ".join(added) if added else "none: every randomised patient is analysed")
            + ")",
            estimate(nri, measure, method, test),
            measure,
        )
    )

    f = fragility(ev, a, protocol)
    if f.index is not None:
        transform = math.exp if measure in ("RR", "OR") else (lambda x: x)
        kind = "reverse fragility index" if f.reverse else "fragility index"
        bound = " at most" if f.definition == "greedy" else ""
        rows.append(
            _row(
                "fragility",
                f"{kind.capitalize()}{bound} {f.index}: {changes_text(counts, f)}",
                (transform(f.estimate), transform(f.ci_low), transform(f.ci_high)),
                measure,
            )
        )

    splits = arm_splits(ev, a, protocol)
    if len(splits) > 1:
        for scenario, pick in (
            ("arm_split_lowest", splits["ci_low"].idxmin()),
            ("arm_split_highest", splits["ci_low"].idxmax()),
        ):
            r = splits.loc[pick]
            which = "lowest" if scenario.endswith("lowest") else "highest"
            rows.append(
                _row(
                    scenario,
                    f"Arm split with the {which} lower limit of the {len(splits)} consistent with the reported "
                    f"percentages (the analysed one included): {r['description']}",
                    (r["estimate"], r["ci_low"], r["ci_high"]),
                    measure,
                )
            )
    return pd.DataFrame(rows, columns=ROBUSTNESS_COLUMNS)
