"""GRADE certainty of evidence and the summary of findings, by the rules the protocol declares.

Each outcome of ``protocol.yml`` ``grade.outcomes`` is one row: the trials and patients that
enter it, the relative effect of the protocol's primary model, the absolute effect per 1,000
(control risk from the comparator arms of the contributing trials) and a certainty that starts
at the protocol's level for the design (randomised: high) and is lowered in five domains
(Cochrane Handbook, chapter 14; Guyatt et al. 2011, J Clin Epidemiol 64:383 onwards). Every
judgement carries its reason in words built from the numbers it rests on, so a new trial
changes the judgement and the sentence together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import Protocol, load_protocol
from helpers.report.prose import fmt_ci, fmt_num, join_words, lower_first
from helpers.review.selection import memo
from helpers.stats import distributions

LEVELS = ("very low", "low", "moderate", "high")
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_LABELS = {
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
}
SEVERITY = {0: "not serious", 1: "serious", 2: "very serious"}


@dataclass(frozen=True)
class Judgement:
    """One GRADE domain for one outcome: how many levels it lowers the certainty, and why."""

    domain: str
    downgrade: int
    reason: str
    #: False where the domain cannot be judged (e.g. small-study effects with few trials)
    assessable: bool = True

    @property
    def verdict(self) -> str:
        return SEVERITY[self.downgrade] if self.assessable else "not assessable"


def certainty(start: str, judgements: tuple[Judgement, ...]) -> str:
    """The starting level lowered by the sum of the downgrades, never below 'very low'."""
    level = LEVELS.index(start) - sum(j.downgrade for j in judgements)
    return LEVELS[max(0, level)]


# ---------------------------------------------------------------------------
# Optimal information size (two proportions, two-sided test, equal arms)
# ---------------------------------------------------------------------------
def optimal_information_size(control_risk: float, relative_change: float, alpha: float, power: float) -> float:
    """Total patients a single trial would need to detect a relative change of the control risk.

    n per arm = (z_{1-alpha/2} + z_{power})² (p1 q1 + p0 q0) / (p1 - p0)², with p1 = p0 (1 + change);
    GRADE's optimal information size (Guyatt et al. 2011, J Clin Epidemiol 64:1283). NaN where the
    control risk is 0 or the changed risk leaves (0, 1).
    """
    p0 = control_risk
    p1 = p0 * (1 + relative_change)
    if not (0 < p0 < 1 and 0 < p1 < 1):
        return math.nan
    z = float(distributions.norm_ppf(1 - alpha / 2) + distributions.norm_ppf(power))
    return 2 * math.ceil(z**2 * (p1 * (1 - p1) + p0 * (1 - p0)) / (p1 - p0) ** 2)


# ---------------------------------------------------------------------------
# The five domains
# ---------------------------------------------------------------------------
def judge_risk_of_bias(overall: Mapping[str, str], rules: Mapping) -> Judgement:
    """Lowered once if any contributing result is at some concerns or high risk, twice if all are high.

    ``overall`` maps each contributing trial's label to its overall RoB 2 judgement for the result.
    """
    if not overall:
        return Judgement("risk_of_bias", 0, "no randomised result to judge", assessable=False)
    level = {s: j.split(",")[0] for s, j in overall.items()}
    concerns = [s for s, j in level.items() if j != "low"]  # 'not assessed' counts as a concern
    high = [s for s, j in level.items() if j == "high"]
    listed = "; ".join(f"{s}: {j}" for s, j in overall.items())
    if high and len(high) == len(overall) and rules.get("very_serious_if_all_high", True):
        return Judgement("risk_of_bias", 2, f"every contributing result is at high risk of bias (RoB 2: {listed})")
    if concerns:
        return Judgement(
            "risk_of_bias",
            1,
            f"overall RoB 2 judgement below low for {len(concerns)} of {len(overall)} contributing results ({listed})",
        )
    return Judgement("risk_of_bias", 0, f"every contributing result at low risk of bias (RoB 2: {listed})")


def judge_inconsistency(k: int, i2: float, study_estimates: pd.DataFrame, null: float, i2_serious: float) -> Judgement:
    """Lowered once if I² reaches the protocol's threshold, or if trials point in opposite
    directions with confidence intervals that do not overlap. One trial: not assessable."""
    if k < 2:
        return Judgement("inconsistency", 0, "one trial: consistency cannot be assessed", assessable=False)
    above = study_estimates["estimate"] > null
    opposite = bool(above.any() and (~above).any())
    disjoint = bool(study_estimates["ci_low"].max() > study_estimates["ci_high"].min())
    i2_text = f"I² = {fmt_num(i2, 0)}%"
    if i2 >= i2_serious or (opposite and disjoint):
        why = [f"{i2_text} (threshold {fmt_num(i2_serious, 0)}%)"] if i2 >= i2_serious else []
        if opposite and disjoint:
            why.append("the trials' estimates lie on opposite sides of no effect with intervals that do not overlap")
        return Judgement("inconsistency", 1, "; ".join(why))
    direction = "on opposite sides of" if opposite else "on the same side of"
    overlap = "do not overlap" if disjoint else "overlap"
    return Judgement(
        "inconsistency",
        0,
        f"{i2_text}, below the threshold of {fmt_num(i2_serious, 0)}%; the {k} trials' estimates lie {direction} "
        f"no effect and their intervals {overlap}",
    )


def judge_indirectness(outcome: str, outcome_label: str, surrogates: Mapping[str, str]) -> Judgement:
    """Lowered once for an outcome the protocol declares a surrogate (with its reason)."""
    if outcome in surrogates:
        return Judgement("indirectness", 1, f"{outcome_label} is a surrogate outcome: {surrogates[outcome]}")
    return Judgement(
        "indirectness", 0, "patients, intervention, comparator and outcome are those of the review question"
    )


def judge_imprecision(
    effect: tuple[float, float, float],
    null: float,
    appreciable: tuple[float, float] | None,
    n_total: int,
    ois: float,
    scale: float = 1.0,
    unit: str = "",
) -> Judgement:
    """Lowered once if the interval includes no effect or the patients fall short of the optimal
    information size; twice if the interval includes both appreciable benefit and appreciable harm.

    ``effect`` is (estimate, low, high); ``scale`` and ``unit`` say how to write it (a risk
    difference per 1,000, for example)."""
    estimate, low, high = effect
    shown = fmt_ci(estimate, low, high, scale=scale, unit=unit, digits=2 if scale == 1 else 0)
    crosses = low <= null <= high
    both = appreciable is not None and low < appreciable[0] and high > appreciable[1]
    ois_text = (
        f"{n_total} patients against an optimal information size of {ois:.0f}"
        if math.isfinite(ois)
        else f"{n_total} patients; no optimal information size (no events in the comparator arms)"
    )
    if both:
        lo, hi = appreciable
        return Judgement(
            "imprecision",
            2,
            f"the interval {shown} includes both an appreciable decrease (below {fmt_num(lo)}) and an "
            f"appreciable increase (above {fmt_num(hi)}); {ois_text}",
        )
    if crosses:
        return Judgement("imprecision", 1, f"the interval {shown} includes no effect; {ois_text}")
    if math.isfinite(ois) and n_total < ois:
        return Judgement("imprecision", 1, f"the interval {shown} excludes no effect, but {ois_text}")
    return Judgement("imprecision", 0, f"the interval {shown} excludes no effect; {ois_text}")


def judge_publication_bias(k: int, minimum_k: int) -> Judgement:
    """With fewer trials than the protocol's minimum for small-study tests: not assessable, said so."""
    if k < minimum_k:
        return Judgement(
            "publication_bias",
            0,
            f"not assessable with {k} {'study' if k == 1 else 'studies'} "
            f"(small-study tests need at least {minimum_k}); not downgraded, "
            "but unpublished trials cannot be ruled out",
            assessable=False,
        )
    return Judgement("publication_bias", 0, f"{k} trials: see the small-study test")


# ---------------------------------------------------------------------------
# Absolute effects
# ---------------------------------------------------------------------------
def per_1000(control_risk: float, measure: str, estimate: float, low: float, high: float) -> dict[str, float]:
    """Risk per 1,000 with the comparator, with IL-2, and the difference with its interval.

    From a risk ratio: IL-2 risk = control risk x RR (GRADE's assumed-risk method), at most 1,000
    per 1,000; from a risk difference: control risk + RD, kept within 0 and 1,000.
    """
    cr = 1000 * control_risk
    if measure == "RR":
        # A risk cannot exceed 1,000 per 1,000: a wide interval times the control risk is capped there.
        risk, lo, hi = (min(1000.0, cr * x) for x in (estimate, low, high))
    elif measure == "RD":
        risk, lo, hi = (min(1000.0, max(0.0, cr + 1000 * x)) for x in (estimate, low, high))
    else:
        raise ValueError(f"absolute effects come from RR or RD, not {measure!r}")
    return {
        "control_per_1000": cr,
        "il2_per_1000": risk,
        "difference_per_1000": risk - cr,
        "difference_low": lo - cr,
        "difference_high": hi - cr,
    }


def grade_rules(protocol: Protocol | None = None) -> dict:
    """The protocol's ``grade`` section."""
    return (protocol or load_protocol()).raw["grade"]


# ---------------------------------------------------------------------------
# One row of the summary of findings
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FindingRow:
    """One outcome of the summary of findings."""

    outcome: str
    label: str
    importance: str
    #: the protocol analysis (or safety comparison) behind the row; '' for a narrative row
    analysis: str
    k: int
    n_il2: int
    n_control: int
    studies: str
    measure: str
    method: str
    estimate: float
    ci_low: float
    ci_high: float
    control_per_1000: float
    il2_per_1000: float
    difference_per_1000: float
    difference_low: float
    difference_high: float
    start: str
    judgements: tuple[Judgement, ...]
    #: for a row without a comparison: what the studies found, in words
    narrative: str = ""

    @property
    def certainty(self) -> str:
        return certainty(self.start, self.judgements)

    @property
    def downgrade_words(self) -> str:
        """'serious risk of bias and very serious imprecision', or '' when nothing lowered the certainty."""
        return (
            join_words([f"{j.verdict} {DOMAIN_LABELS[j.domain].lower()}" for j in self.judgements if j.downgrade])
            if any(j.downgrade for j in self.judgements)
            else ""
        )

    @property
    def downgrades(self) -> str:
        """'risk of bias (serious); imprecision (very serious)', or 'none'."""
        lowered = [f"{DOMAIN_LABELS[j.domain].lower()} ({j.verdict})" for j in self.judgements if j.downgrade]
        return "; ".join(lowered) or "none"


def _rob_overall(ev: Evidence, analysis, counts: pd.DataFrame) -> dict[str, str]:
    """Overall RoB 2 judgement of each contributing trial's result, by trial label (with a note when
    the result itself was not assessed and the trial's assessed result stands in for it)."""
    from helpers.review.rob2 import rob2_judgements

    overall = rob2_judgements(ev)
    overall = overall[overall["domain"] == "overall"]
    out = {}
    for lab, study_id, population in zip(counts["label"], counts["study_id"], counts["population"]):
        mine = overall[overall["study_id"] == study_id]
        exact = mine[
            (mine["outcome"] == analysis.outcome)
            & (mine["timepoint"] == analysis.timepoint)
            & (mine["population"] == population)
        ]
        if len(exact):
            out[lab] = exact["judgement"].iloc[0].replace("_", " ")
        elif len(mine):
            worst = max(mine["judgement"], key=["low", "some_concerns", "high"].index)
            stand_in = mine.loc[mine["judgement"] == worst, "result"].iloc[0]
            out[lab] = f"{worst.replace('_', ' ')}, judged for {stand_in}, as this result was not assessed"
        else:
            out[lab] = "not assessed"
    return out


def _comparison(ev: Evidence, entry: Mapping, protocol: Protocol):
    """The Analysis of a grade outcome: a declared analysis, or the between-arm comparison of a safety event."""
    from helpers.review import safety, selection

    if "analysis" in entry:
        return selection.analysis(ev, entry["analysis"], protocol)
    analysis, _ = safety.rct_analysis(ev, entry["safety_outcome"])
    return analysis


def comparison_row(ev: Evidence, entry: Mapping, protocol: Protocol) -> FindingRow | None:
    """The summary-of-findings row of a between-arm comparison (None when no trial counts the outcome)."""
    from helpers.review.analyses import fit, study_effects
    from helpers.review.safety import single_trial_comparison, single_trial_rules
    from helpers.review.selection import two_arm_counts
    from helpers.stats.pooling import back_transform

    rules = protocol.raw["grade"]
    primary = protocol.raw["models"]["primary"]
    a = _comparison(ev, entry, protocol)
    if a is None:
        return None
    counts = two_arm_counts(ev, a, protocol)
    k = len(counts)
    if k > 1:
        method, test = primary["pooled"]
        measure = primary["measure"]
        res = fit(counts, measure, method, test)
        if not math.isfinite(res.estimate):  # e.g. no events in the comparator arms
            measure = "RD"
            res = fit(counts, measure, method, test)
        bt = back_transform(res, measure)
        i2, method_text = res.i2, f"{method}, {test}"
    else:  # one trial: the protocol's single-trial methods (log RR; Newcombe RD when the RR is not estimable)
        one = single_trial_comparison(counts, single_trial_rules(protocol))
        measure = "RR" if math.isfinite(one.rr) else "RD"
        est = (one.rr, one.rr_low, one.rr_high) if measure == "RR" else (one.rd, one.rd_low, one.rd_high)
        bt = dict(zip(("estimate", "ci_low", "ci_high"), est))
        i2, method_text = math.nan, "single trial"
    control_risk = counts["events_control"].sum() / counts["total_control"].sum()
    absolute = per_1000(control_risk, measure, bt["estimate"], bt["ci_low"], bt["ci_high"])
    null = 1.0 if measure == "RR" else 0.0
    imprecision = rules["imprecision"]
    definitions = ev.outcome_definitions.set_index("outcome")
    label = entry.get("label") or str(definitions.loc[a.outcome, "label"])
    benefit = bool(definitions.loc[a.outcome, "higher_is_better"])
    change = imprecision["relative_change"] * (1 if benefit else -1)
    ois = optimal_information_size(control_risk, change, imprecision["alpha"], imprecision["power"])
    appreciable = (1 - imprecision["relative_change"], 1 + imprecision["relative_change"]) if measure == "RR" else None
    n_total = int(counts["total_il2"].sum() + counts["total_control"].sum())
    judgements = (
        judge_risk_of_bias(_rob_overall(ev, a, counts), rules["risk_of_bias"]),
        judge_inconsistency(k, i2, study_effects(counts, measure), null, rules["inconsistency"]["i2_serious"]),
        judge_indirectness(a.outcome, label, rules["indirectness"]["surrogate_outcomes"]),
        judge_imprecision(
            (bt["estimate"], bt["ci_low"], bt["ci_high"]),
            null,
            appreciable,
            n_total,
            ois,
            *((1000, " per 1,000") if measure == "RD" else ()),
        ),
        judge_publication_bias(k, protocol.minimum_k("small_study_tests")),
    )
    return FindingRow(
        outcome=a.outcome,
        label=label,
        importance=entry["importance"],
        analysis=a.id,
        k=k,
        n_il2=int(counts["total_il2"].sum()),
        n_control=int(counts["total_control"].sum()),
        studies="; ".join(counts["label"]),
        measure=measure,
        method=method_text,
        estimate=bt["estimate"],
        ci_low=bt["ci_low"],
        ci_high=bt["ci_high"],
        start=rules["starting_certainty"]["randomised"],
        judgements=judgements,
        **absolute,
    )


def treg_row(ev: Evidence, entry: Mapping, protocol: Protocol) -> FindingRow | None:
    """The Treg row: what the included studies report of Treg in their IL-2 arms, without a comparison.

    No study reports Treg in a comparator arm, so the evidence is before-after: it starts at the
    protocol's level for non-randomised evidence, and is judged on the direction and the values given.
    """
    from helpers.review import treg

    rules = protocol.raw["grade"]
    rows = treg.treg_rows(ev)
    included = ev.included_studies()
    il2 = rows[
        (rows["arm"] == "il2") & rows["study_id"].isin(included["study_id"]) & (rows["status"] != "not_reported")
    ]
    if il2.empty:
        return None
    labels = ev.study_labels
    studies = list(dict.fromkeys(il2["study_id"]))
    directions = il2.groupby("study_id", sort=False)["direction"].first()
    increase = [s for s in studies if directions.get(s) == "increase"]
    arms = ev.arms.set_index(["study_id", "arm", "population"])["n"]
    sizes = [
        arms.get((s, "il2", p))
        for s, p in il2.drop_duplicates("study_id")[["study_id", "population"]].itertuples(index=False)
    ]
    known = [int(n) for n in sizes if n is not None and not pd.isna(n)]
    numeric = il2["statistic"].isin(["mean_sd", "median_range", "median_iqr"]).any()
    label = entry.get("label", "Treg response")
    k = len(studies)
    direction_reason = (
        f"all {k} studies report a rise" if len(increase) == k else f"{len(increase)} of {k} studies report a rise"
    )
    judgements = (
        Judgement(
            "risk_of_bias",
            0,
            "before-after findings in IL-2 arms, without a comparator: "
            "reflected in the starting level, not lowered again",
        ),
        Judgement("inconsistency", 0 if len(increase) in (0, k) else 1, direction_reason),
        judge_indirectness("treg", label, rules["indirectness"]["surrogate_outcomes"]),
        Judgement(
            "imprecision",
            0 if numeric else 1,
            "values with their spread are reported"
            if numeric
            else "no study reports Treg values with their spread: the size of the change cannot be estimated",
        ),
        judge_publication_bias(k, protocol.minimum_k("small_study_tests")),
    )
    nan = math.nan
    return FindingRow(
        outcome="treg",
        label=label,
        importance=entry["importance"],
        analysis="",
        k=k,
        n_il2=sum(known),
        n_control=0,
        studies="; ".join(labels[s] for s in studies),
        measure="",
        method="narrative",
        estimate=nan,
        ci_low=nan,
        ci_high=nan,
        control_per_1000=nan,
        il2_per_1000=nan,
        difference_per_1000=nan,
        difference_low=nan,
        difference_high=nan,
        start=rules["starting_certainty"]["non_randomised"],
        judgements=judgements,
        narrative=f"Treg rose in the IL-2 arms: {direction_reason}; no comparator arm reports Treg",
    )


def summary_of_findings(ev: Evidence, protocol: Protocol | None = None) -> tuple[FindingRow, ...]:
    """One row per outcome of the protocol's ``grade.outcomes`` that the data can fill, in its order.

    Computed once per evidence object and protocol content: the abstract, key findings, discussion and
    summary-of-findings pages all ask for it."""
    protocol = protocol or load_protocol()
    return memo(ev, ("summary_of_findings", protocol.content_key), lambda: _summary_of_findings(ev, protocol))


def _summary_of_findings(ev: Evidence, protocol: Protocol) -> tuple[FindingRow, ...]:
    rows = []
    for entry in protocol.raw["grade"]["outcomes"]:
        row = treg_row(ev, entry, protocol) if entry.get("narrative") == "treg" else comparison_row(ev, entry, protocol)
        if row is not None:
            rows.append(row)
    return tuple(rows)


# ---------------------------------------------------------------------------
# Informative statements (GRADE's wording by certainty; Santesso et al. 2020)
# ---------------------------------------------------------------------------
HEDGES = {"high": "", "moderate": "probably ", "low": "may "}


def plain_statement(row: FindingRow, subject: str = "low-dose IL-2") -> str:
    """'low-dose IL-2 may increase SRI-4 response at week 12 (RR 1.33, 95% CI 1.00 to 1.76; low certainty)'.

    The verb follows the certainty (high: states; moderate: probably; low: may; very low: the
    evidence is very uncertain) and the direction of the point estimate; where the interval
    includes no effect the sentence says so.
    """
    outcome = lower_first(row.label)
    certainty = f"{row.certainty} certainty"
    if row.method == "narrative":
        return f"the evidence on {outcome} is very uncertain ({row.narrative}; {certainty})"
    null = 1.0 if row.measure == "RR" else 0.0
    if row.measure == "RR":
        effect = f"RR {fmt_num(row.estimate)}, 95% CI {fmt_num(row.ci_low)} to {fmt_num(row.ci_high)}"
    else:
        rd = [fmt_num(1000 * v, 0) for v in (row.estimate, row.ci_low, row.ci_high)]
        effect = f"risk difference {rd[0]} per 1,000, 95% CI {rd[1]} to {rd[2]}"
    if row.certainty == "very low":
        return f"the evidence is very uncertain about the effect of {subject} on {outcome} ({effect}; {certainty})"
    verb = "increase" if row.estimate > null else "reduce"
    verb = {"": verb + "s", "probably ": "probably " + verb + "s"}.get(
        HEDGES[row.certainty], HEDGES[row.certainty] + verb
    )
    includes = row.ci_low <= null <= row.ci_high
    caveat = ", although the interval includes no effect" if includes else ""
    return f"{subject} {verb} {outcome} ({effect}; {certainty}){caveat}"
