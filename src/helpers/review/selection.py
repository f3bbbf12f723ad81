"""Which trials, arms and populations enter an analysis: computed from the protocol and the data.

No study is named here. A trial enters a between-arm analysis when it is included, of a
design the protocol pools, not excluded by the protocol, and reports counts of the outcome
at the time point in an IL-2 arm and a comparator arm, in the first population of the
analysis's preference order that it reports. A trial with several IL-2 arms enters once:
its IL-2 arms are summed (events and totals; Cochrane Handbook 23.3.4). Dose subgroups
instead split the shared comparator arm evenly among the IL-2 arms, so that no comparator
patient is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import PlannedAnalysis, Protocol, load_protocol
from helpers.report.labels import POPULATION_LABELS


@dataclass(frozen=True)
class Analysis:
    """One comparison of IL-2 with a comparator, with the trials and populations the data give it."""

    id: str
    label: str
    outcome: str
    timepoint: str
    #: study_id -> analysis population used for that study
    populations: tuple[tuple[str, str], ...]
    population_label: str
    #: count patients *free* of the outcome (total - events), so that RR > 1 favours IL-2
    #: for an outcome where fewer is better (e.g. still having a BILAG A or 2 B score)
    invert: bool = False
    measures: tuple[str, ...] = ("RR", "OR", "RD")
    role: str = "primary"
    pooled_models: tuple[tuple[str, str], ...] = (
        ("MH", "z"),
        ("REML", "z"),
        ("REML", "knha"),
        ("DL", "z"),
        ("DL", "knha"),
    )
    single_study_models: tuple[tuple[str, str], ...] = (("FE", "z"),)
    sensitivity: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        return len(self.populations)

    @property
    def study_ids(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.populations)

    @property
    def models(self) -> tuple[tuple[str, str], ...]:
        return self.pooled_models if self.k > 1 else self.single_study_models


# ---------------------------------------------------------------------------
# Per-evidence memo: the same selections are asked for by every analysis of a build
# ---------------------------------------------------------------------------
_MEMO: dict[tuple[int, object], tuple[Evidence, object]] = {}


def memo(ev: Evidence, key: object, compute):
    """``compute()`` once per evidence object and key (the evidence is immutable, so its derived
    tables are too); holding the object keeps its id from being reused while it is memoised."""
    hit = _MEMO.get((id(ev), key))
    if hit is not None and hit[0] is ev:
        return hit[1]
    if len(_MEMO) > 512:
        _MEMO.clear()
    value = compute()
    _MEMO[(id(ev), key)] = (ev, value)
    return value


# ---------------------------------------------------------------------------
# Arms and their regimens
# ---------------------------------------------------------------------------
def arm_regimens(ev: Evidence) -> pd.DataFrame:
    """One row per (study_id, arm): role, agent, dose (the arm's own, else the study's), frequency, regimen group."""
    return memo(ev, "arm_regimens", lambda: _arm_regimens(ev)).copy()


def _arm_regimens(ev: Evidence) -> pd.DataFrame:
    """One row per (study_id, arm): role, agent, dose (the arm's own, else the study's), frequency, regimen group."""
    arms = ev.arms.drop_duplicates(["study_id", "arm"])[["study_id", "arm", "role", "dose_miu"]]
    studies = ev.studies.set_index("study_id")
    out = arms.join(studies[["agent", "frequency", "regimen_group", "label"]], on="study_id")
    study_dose = arms["study_id"].map(studies["dose_miu"])
    out["dose_miu"] = out["dose_miu"].fillna(study_dose.where(out["role"] == "il2"))
    return out.reset_index(drop=True)


def eligible_trials(ev: Evidence, protocol: Protocol) -> pd.DataFrame:
    """Included studies of a pooled design that the protocol does not exclude."""
    s = ev.included_studies()
    s = s[s["design"].isin(protocol.designs_pooled) & ~s["study_id"].isin(list(protocol.exclusions))]
    return s.reset_index(drop=True)


def _eligible_ids(ev: Evidence, protocol: Protocol) -> tuple[str, ...]:
    """:func:`eligible_trials`' study ids, once per evidence and protocol content."""
    key = ("eligible", tuple(protocol.designs_pooled), tuple(protocol.exclusions))
    return memo(ev, key, lambda: tuple(eligible_trials(ev, protocol)["study_id"]))


def count_rows(ev: Evidence, outcome: str, timepoint: str) -> pd.DataFrame:
    """Count rows (events and total known) of one outcome and time point, with each arm's role."""
    return _shared_count_rows(ev, outcome, timepoint).copy()


def _shared_count_rows(ev: Evidence, outcome: str, timepoint: str) -> pd.DataFrame:
    """:func:`count_rows`, computed once per evidence; callers must not modify it."""
    return memo(ev, ("count_rows", outcome, timepoint), lambda: _count_rows(ev, outcome, timepoint))


def _cells(ev: Evidence, outcome: str, timepoint: str) -> dict[tuple[str, str], pd.DataFrame]:
    """The count rows of one outcome and time point, by (study_id, population)."""

    def group():
        rows = _shared_count_rows(ev, outcome, timepoint)
        return {key: g for key, g in rows.groupby(["study_id", "population"], sort=False)}

    return memo(ev, ("cells", outcome, timepoint), group)


def _count_rows(ev: Evidence, outcome: str, timepoint: str) -> pd.DataFrame:
    groups, empty = memo(ev, "count_rows_by_outcome", lambda: _count_rows_by_outcome(ev))
    rows = groups.get((outcome, timepoint))
    return empty.copy() if rows is None else rows.reset_index(drop=True)


def _count_rows_by_outcome(ev: Evidence) -> tuple[dict[tuple[str, str], pd.DataFrame], pd.DataFrame]:
    """Every count row with its arm's role, by (outcome, timepoint), and an empty frame of the same columns.

    Selected and merged once for all outcomes: filtering the outcomes table per outcome and time point
    was a large share of the results command's time with many trials."""
    o = ev.outcomes
    o = o[(o["statistic"] == "count") & o["events"].notna() & o["total"].notna()]
    roles = arm_regimens(ev)[["study_id", "arm", "role", "dose_miu"]]
    rows = o.merge(roles, on=["study_id", "arm"], how="left")
    return dict(tuple(rows.groupby(["outcome", "timepoint"], sort=False))), rows.iloc[:0]


def choose_population(
    roles: dict[str, set[str]], preference: tuple[str, ...], comparators: tuple[str, ...]
) -> str | None:
    """The first population in the preference order in which a trial counts an IL-2 and a comparator arm.

    ``roles`` maps each population the trial reports to the roles of the arms it counts there.
    """
    for population in preference:
        have = roles.get(population, set())
        if "il2" in have and have & set(comparators):
            return population
    return None


def populations_text(ev: Evidence, populations, short: dict[str, str] | None = None) -> str:
    """'He 2020 efficacy set; LUPIL-2 ITT': each study with its analysis population, in words."""
    labels = ev.study_labels
    short = {**POPULATION_LABELS, **(short or {})}
    return "; ".join(f"{labels[s]} {short.get(p, p.replace('_', ' '))}" for s, p in populations)


def _population_label(ev: Evidence, planned: PlannedAnalysis, populations: tuple[tuple[str, str], ...]) -> str:
    role = planned.role
    inner = populations_text(ev, populations, {"subgroup": planned.subgroup_label})
    return f"{role} ({inner})" if role in ("primary", "sensitivity") and len(populations) > 1 else inner


def plan(ev: Evidence, planned: PlannedAnalysis, protocol: Protocol) -> Analysis | None:
    """The analysis the protocol declares, with the trials the data give it (None if no trial qualifies)."""
    roles: dict[str, dict[str, set[str]]] = {}
    for (study_id, population), records in _records(ev, planned.outcome, planned.timepoint).items():
        roles.setdefault(study_id, {})[population] = {r["role"] for r in records}
    populations = []
    for study_id in _eligible_ids(ev, protocol):
        population = choose_population(roles.get(study_id, {}), planned.population_preference, protocol.comparators)
        if population is not None:
            populations.append((study_id, population))
    if not populations:
        return None
    populations = tuple(populations)
    labels = ev.study_labels
    label = planned.label + (f" ({labels[populations[0][0]]} only)" if len(populations) == 1 else "")
    return Analysis(
        id=planned.id,
        label=label,
        outcome=planned.outcome,
        timepoint=planned.timepoint,
        populations=populations,
        population_label=_population_label(ev, planned, populations),
        invert=planned.invert,
        measures=protocol.measures,
        role=planned.role,
        pooled_models=protocol.pooled_models,
        single_study_models=protocol.single_study_models,
        sensitivity=planned.sensitivity,
    )


def planned_analyses(ev: Evidence, protocol: Protocol | None = None, roles: tuple[str, ...] | None = None):
    """Every declared analysis that at least one trial enters, in the protocol's order.

    A sensitivity analysis whose trials and populations are those of the analysis it tests
    is dropped: it would repeat that analysis.
    """
    protocol = protocol or load_protocol()
    return memo(ev, ("planned", protocol.content_key, roles), lambda: _planned(ev, protocol, roles))


def _planned(ev: Evidence, protocol: Protocol, roles: tuple[str, ...] | None) -> tuple[Analysis, ...]:
    planned = {p.id: plan(ev, p, protocol) for p in protocol.analyses if roles is None or p.role in roles}
    out = []
    for p in protocol.analyses:
        a = planned.get(p.id)
        if a is None:
            continue
        base = planned.get(p.sensitivity_of) if p.sensitivity_of else None
        if base is not None and base.populations == a.populations:
            continue
        out.append(a)
    return tuple(out)


def analysis(ev: Evidence, analysis_id: str, protocol: Protocol | None = None) -> Analysis | None:
    """One declared analysis with its trials (None when no trial reports what it needs)."""
    protocol = protocol or load_protocol()
    return plan(ev, protocol.analysis(analysis_id), protocol)


# ---------------------------------------------------------------------------
# Counts per trial: IL-2 arms combined, or per dose with the comparator split
# ---------------------------------------------------------------------------
def _arm_rows(ev: Evidence, a: Analysis, study_id: str, population: str, comparators: tuple[str, ...]):
    rows = _cells(ev, a.outcome, a.timepoint).get((study_id, population))
    if rows is None:
        rows = count_rows(ev, a.outcome, a.timepoint).iloc[:0]
    il2 = rows[rows["role"] == "il2"]
    control = rows[rows["role"].isin(comparators)]
    if il2.empty or control.empty:
        raise ValueError(
            f"{a.id}: no count of {a.outcome} at {a.timepoint} for {study_id}, population {population}, "
            f"in {'an IL-2 arm' if il2.empty else 'a comparator arm (' + ', '.join(comparators) + ')'}"
        )
    return il2, control


#: What the per-trial count records need (converting every text column of the outcomes table
#: into Python objects was a tenth of the results command's time with 50 trials).
_RECORD_COLUMNS = ["study_id", "arm", "population", "role", "dose_miu", "events", "total", "status"]


def _records(ev: Evidence, outcome: str, timepoint: str) -> dict[tuple[str, str], list[dict]]:
    """The count rows of one outcome and time point as plain records, by (study_id, population)."""

    def group() -> dict[tuple[str, str], list[dict]]:
        out: dict[tuple[str, str], list[dict]] = {}
        rows = _shared_count_rows(ev, outcome, timepoint)[_RECORD_COLUMNS]
        for r in rows.to_dict("records"):
            out.setdefault((r["study_id"], r["population"]), []).append(r)
        return out

    return memo(ev, ("records", outcome, timepoint), group)


def _trial_arms(ev: Evidence, a: Analysis, study_id: str, population: str, comparators) -> tuple[list, list]:
    """A trial's IL-2 and comparator count records in one population; a ValueError naming them if either is missing."""
    cell = _records(ev, a.outcome, a.timepoint).get((study_id, population), [])
    il2 = [r for r in cell if r["role"] == "il2"]
    ctl = [r for r in cell if r["role"] in comparators]
    if not il2 or not ctl:
        _arm_rows(ev, a, study_id, population, comparators)  # raises, naming the study and the arm
    return il2, ctl


def single_trial(outcome: str, timepoint: str, study_id: str, population: str, invert: bool = False) -> Analysis:
    """An unpooled look at one trial's counts (the responder-index views), outside the protocol's analyses."""
    return Analysis(
        id="single_trial",
        label="",
        outcome=outcome,
        timepoint=timepoint,
        populations=((study_id, population),),
        population_label="",
        invert=invert,
    )


def two_arm_counts(ev: Evidence, a: Analysis, protocol: Protocol | None = None) -> pd.DataFrame:
    """One row per trial: events and totals of its IL-2 arms (summed) and its comparator arm(s).

    Raises ValueError naming the study when an arm's count is missing, so an analysis
    never silently drops a study it was planned with.
    """
    protocol = protocol or load_protocol()
    labels = ev.study_labels

    def events(arms: list[dict]) -> int:
        return sum(int(r["total"]) - int(r["events"]) if a.invert else int(r["events"]) for r in arms)

    rows = []
    for study_id, population in a.populations:
        il2, ctl = _trial_arms(ev, a, study_id, population, protocol.comparators)
        rows.append(
            {
                "study_id": study_id,
                "label": labels[study_id],
                "population": population,
                "events_il2": events(il2),
                "total_il2": sum(int(r["total"]) for r in il2),
                "events_control": events(ctl),
                "total_control": sum(int(r["total"]) for r in ctl),
                "il2_arms": len(il2),
                "derived": any(r["status"] == "derived" for r in il2 + ctl) or a.invert,
            }
        )
    return pd.DataFrame(rows)


def dose_arm_counts(ev: Evidence, a: Analysis, protocol: Protocol | None = None) -> pd.DataFrame:
    """One row per IL-2 arm with its dose; a comparator shared by m IL-2 arms is split into m equal parts.

    Events and total of the comparator are both divided by m (Cochrane Handbook 23.3.4), so
    the comparator patients of a trial are counted once across its dose subgroups.
    """
    protocol = protocol or load_protocol()
    labels = ev.study_labels

    def events(r: dict) -> int:
        return int(r["total"]) - int(r["events"]) if a.invert else int(r["events"])

    rows = []
    for study_id, population in a.populations:
        il2, ctl = _trial_arms(ev, a, study_id, population, protocol.comparators)
        m = len(il2)
        ctl_derived = any(r["status"] == "derived" for r in ctl)
        for arm in il2:
            rows.append(
                {
                    "study_id": study_id,
                    "label": labels[study_id] + (f", {arm['dose_miu']:g} MIU" if m > 1 else ""),
                    "arm": arm["arm"],
                    "dose_miu": arm["dose_miu"],
                    "population": population,
                    "events_il2": events(arm),
                    "total_il2": int(arm["total"]),
                    "events_control": sum(events(r) for r in ctl) / m,
                    "total_control": sum(int(r["total"]) for r in ctl) / m,
                    "control_shared_by": m,
                    "derived": bool(arm["status"] == "derived" or ctl_derived or a.invert),
                }
            )
    return pd.DataFrame(rows)


def rows_by_role(ev: Evidence, rows: pd.DataFrame) -> pd.DataFrame:
    """Outcome rows with ``arm`` replaced by the arm's role, several arms of one role combined.

    Count rows of a trial's IL-2 arms (same outcome, time point and population) are summed into
    one row (events and totals; Cochrane Handbook 23.3.4), marked derived, with ``arms_combined``
    giving how many arms it sums; every other row keeps its values. With one arm per role (every
    trial so far) the rows are unchanged apart from the column.
    """
    roles = ev.arms.drop_duplicates(["study_id", "arm"]).set_index(["study_id", "arm"])["role"]
    out = rows.assign(
        arm_id=rows["arm"],
        arm=[roles.get((s, a), a) for s, a in zip(rows["study_id"], rows["arm"])],
        arms_combined=1,
    )
    key = ["study_id", "arm", "outcome", "timepoint", "population", "statistic"]
    several = out.groupby(key, dropna=False)["arm_id"].transform("size") > 1
    counted = several & (out["statistic"] == "count") & out["events"].notna() & out["total"].notna()
    if not counted.any():
        return out
    # one row per group, kept at its first arm's place (vectorised: a loop over the groups was slow with many trials)
    summed = out[counted]
    groups = summed.groupby(key, dropna=False, sort=False)
    ids = groups["arm_id"].transform(lambda g: "+".join(g))
    first = ~summed.duplicated(key)
    combined = summed[first].assign(
        events=groups["events"].transform("sum")[first],
        total=groups["total"].transform("sum")[first],
        percent=pd.NA,
        p_value=pd.NA,
        p_comparison=pd.NA,
        status="derived",
        derivation="sum of the arms " + groups["arm_id"].transform(lambda g: ", ".join(g))[first],
        arm_id=ids[first],
        arms_combined=groups["arm_id"].transform("size")[first],
    )
    return pd.concat([out[~counted], combined], ignore_index=False).sort_index(kind="stable")
