"""The claims registry: every qualitative statement whose truth depends on the data, with its check.

A chapter states such a claim in its prose only after :func:`verify` has checked it; the
first code cell of the chapter calls ``verify(evidence, "<chapter>")``, so a build on data
that no longer supports a sentence fails, naming the claim, its wording and the data that
contradict it. The methods appendix shows the whole registry for audit
(:func:`registry_table`). Sentences that can be written from the data are generated
instead (see :mod:`helpers.chapters`), and need no entry here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.review.selection import Analysis, count_rows, planned_analyses

ALPHA = 0.05


@dataclass(frozen=True)
class Claim:
    id: str
    chapter: str
    wording: str
    #: returns the facts in the data that contradict the claim (empty when it holds)
    check: Callable[[Evidence], list[str]]

    @property
    def how_checked(self) -> str:
        return " ".join((self.check.__doc__ or "").split())


class ClaimFailed(AssertionError):
    """Raised when the data no longer support a sentence of the book."""


REGISTRY: dict[str, Claim] = {}


def claim(claim_id: str, chapter: str, wording: str):
    """Register the decorated function as the check of a claim."""

    def register(check: Callable[[Evidence], list[str]]):
        if claim_id in REGISTRY:
            raise ValueError(f"claim {claim_id!r} registered twice")
        REGISTRY[claim_id] = Claim(claim_id, chapter, wording, check)
        return check

    return register


def failures(ev: Evidence, chapter: str | None = None) -> dict[str, list[str]]:
    """Claim id -> contradicting facts, for every claim (of one chapter) that the data do not support."""
    out = {}
    for c in REGISTRY.values():
        if chapter is None or c.chapter == chapter:
            found = c.check(ev)
            if found:
                out[c.id] = found
    return out


def verify(ev: Evidence, chapter: str) -> int:
    """Raise :class:`ClaimFailed` naming every claim of the chapter the data contradict; return the count checked."""
    if not any(c.chapter == chapter for c in REGISTRY.values()):
        raise KeyError(f"no claims registered for chapter {chapter!r}")
    failed = failures(ev, chapter)
    if failed:
        lines = [
            f'  - {cid}: "{REGISTRY[cid].wording}" is contradicted by: {"; ".join(facts)}'
            for cid, facts in failed.items()
        ]
        raise ClaimFailed(f"{len(failed)} claim(s) of chapter '{chapter}' no longer hold:\n" + "\n".join(lines))
    return sum(c.chapter == chapter for c in REGISTRY.values())


def wording(claim_id: str) -> str:
    """A registered claim's sentence, for a chapter to glue after :func:`verify` has checked it."""
    return REGISTRY[claim_id].wording


def registry_table() -> pd.DataFrame:
    """Every claim for audit: chapter, id, wording, how it is checked."""
    return pd.DataFrame(
        [(c.chapter, c.id, c.wording, c.how_checked) for c in REGISTRY.values()],
        columns=["Chapter", "Claim", "Wording", "Checked by"],
    )


# ---------------------------------------------------------------------------
# Facts the checks share
# ---------------------------------------------------------------------------
def p_below(p_text: object, alpha: float = ALPHA) -> bool | None:
    """'<0.001' -> True, '0.052' -> False, missing -> None."""
    if not isinstance(p_text, str) or not p_text:
        return None
    m = re.fullmatch(r"([<>]?)([0-9.]+)", p_text)
    if m is None:
        raise ValueError(f"not a p-value: {p_text!r}")
    sign, value = m.group(1), float(m.group(2))
    return value <= alpha if sign == "<" else (False if sign == ">" else value < alpha)


def reported_rows(ev: Evidence, a: Analysis) -> pd.DataFrame:
    """The outcome rows of the IL-2 arms an analysis uses (they carry the trials' between-arm p-values)."""
    rows = count_rows(ev, a.outcome, a.timepoint)
    keep = [(s, p) for s, p in a.populations]
    mask = [(s, p) in keep for s, p in zip(rows["study_id"], rows["population"])]
    return rows[pd.Series(mask, index=rows.index) & (rows["role"] == "il2")]


def _analyses(ev: Evidence, role: str) -> list[Analysis]:
    return [a for a in planned_analyses(ev) if a.role == role]


# ---------------------------------------------------------------------------
# Efficacy
# ---------------------------------------------------------------------------
@claim(
    "rct_primary_endpoint_is_sri4",
    "efficacy",
    "The randomised trials of the primary analysis chose this outcome and time point as their primary endpoint.",
)
def _primary_endpoint(ev: Evidence) -> list[str]:
    """Each trial's IL-2 row of the primary analysis has a note starting 'Primary endpoint' in outcomes.csv."""
    facts = []
    for a in _analyses(ev, "primary"):
        for _, r in reported_rows(ev, a).iterrows():
            if not str(r["note"] if pd.notna(r["note"]) else "").startswith("Primary endpoint"):
                facts.append(f"{r['study_id']} {a.outcome} {a.timepoint}: note is {r['note']!r}")
    return facts


@claim(
    "disease_activity_within_arm_tests_only",
    "efficacy",
    "The randomised trials report disease activity as medians with p-values against each arm's own baseline, "
    "not between arms; both arms improved.",
)
def _activity(ev: Evidence) -> list[str]:
    """Every SELENA-SLEDAI median row of an included RCT has p_comparison vs_baseline (or none), and each arm's
    median after baseline is below its baseline median."""
    o = ev.outcomes.merge(ev.included_studies()[["study_id", "design"]], on="study_id")
    o = o[(o["design"] == "rct") & (o["outcome"] == "selena_sledai")]
    o = o[o["statistic"].isin(["median_range", "median_iqr"])]
    facts = [
        f"{r.study_id} {r.arm} {r.timepoint}: p compares {r.p_comparison}"
        for r in o.itertuples()
        if pd.notna(r.p_comparison) and r.p_comparison != "vs_baseline"
    ]
    for (study, arm), g in o.groupby(["study_id", "arm"]):
        base = g.loc[g["timepoint"] == "baseline", "median"]
        later = g[g["timepoint"] != "baseline"]
        facts += [
            f"{study} {arm} {r.timepoint}: median {r.median} is not below baseline {base.iloc[0]}"
            for r in later.itertuples()
            if len(base) and not r.median < base.iloc[0]
        ]
    return facts


# ---------------------------------------------------------------------------
# Responder indices
# ---------------------------------------------------------------------------
claim(
    "disease_activity_fell_in_both_arms",
    "responder_indices",
    "Disease-activity scores fell in both arms of the trials that report them as medians.",
)(_activity)


# ---------------------------------------------------------------------------
# Safety: the wording paragraph names sources; each statement is checked against their rows
# ---------------------------------------------------------------------------
def _rows(ev: Evidence, outcome: str) -> pd.DataFrame:
    o = ev.outcomes.merge(ev.included_studies()[["study_id", "label"]], on="study_id")
    return o[o["outcome"] == outcome]


def _labels_with_note(ev: Evidence, outcome: str, text: str) -> set[str]:
    r = _rows(ev, outcome)
    return set(r.loc[r["note"].fillna("").str.contains(text, case=False, regex=False), "label"])


@claim(
    "severe_not_serious",
    "safety",
    "He 2020's table groups neuropsychiatric lupus, herpes zoster and pneumonia under 'SAEs', which its footnote "
    "expands as severe (not serious) adverse events.",
)
def _severe_not_serious(ev: Evidence) -> list[str]:
    """The ae_severe rows noting 'severe, not serious' are He 2020's, and its NPSLE, herpes zoster and pneumonia
    rows are each 'Listed under severe adverse events'."""
    facts = []
    if _labels_with_note(ev, "ae_severe", "severe, not serious") != {"He 2020"}:
        facts.append(f"ae_severe 'severe, not serious' notes: {_labels_with_note(ev, 'ae_severe', 'not serious')}")
    for outcome in ("ae_npsle", "ae_herpes_zoster", "ae_pneumonia"):
        if _labels_with_note(ev, outcome, "Listed under severe adverse events") != {"He 2020"}:
            facts.append(f"{outcome}: not listed under severe adverse events by He 2020 only")
    return facts


@claim(
    "abstract_calls_infections_serious",
    "safety",
    "He 2020's abstract calls the two placebo-arm infections serious; its table lists them as severe infections.",
)
def _serious_infections(ev: Evidence) -> list[str]:
    """He 2020's placebo ae_severe_infection row counts 2 and its note says the abstract calls them serious."""
    r = _rows(ev, "ae_severe_infection")
    r = r[(r["label"] == "He 2020") & (r["arm"] == "placebo")]
    ok = len(r) == 1 and r["events"].iloc[0] == 2 and "serious" in str(r["note"].iloc[0])
    return [] if ok else ["He 2020 placebo ae_severe_infection: not 2 events noted as called serious"]


@claim("high_grade_third_term", "safety", "He 2016 reports 'high-grade' adverse events, a third term.")
def _high_grade(ev: Evidence) -> list[str]:
    """The only included study with ae_high_grade rows is He 2016."""
    found = set(_rows(ev, "ae_high_grade")["label"])
    return [] if found == {"He 2016"} else [f"ae_high_grade reported by {sorted(found)}"]


@claim(
    "no_discontinuations_deaths_serious",
    "safety",
    "No source reports discontinuations because of adverse events, deaths or serious adverse events.",
)
def _nothing_counted(ev: Evidence) -> list[str]:
    """No included study has a count for ae_discontinuation, death or ae_serious."""
    facts = []
    for outcome in ("ae_discontinuation", "death", "ae_serious"):
        r = _rows(ev, outcome)
        r = r[r["events"].notna() | (r["statistic"] == "qualitative")]
        facts += [f"{x.label} reports {outcome} ({x.statistic})" for x in r.itertuples()]
    return facts


@claim(
    "pooled_event_definitions_differ",
    "safety",
    "The event pooled across IL-2 arms is counted differently by its studies (population and definition differ).",
)
def _pooled_definitions(ev: Evidence) -> list[str]:
    """The IL-2 arms pooled for the first poolable event do not all share one analysis population."""
    from helpers.review import safety

    poolable = safety.poolable_events(ev)
    if not poolable:
        return []
    counts = safety.il2_arm_counts(ev, poolable[0])
    return [] if counts["population"].nunique() > 1 else [f"all pooled arms use {counts['population'].iloc[0]}"]


@claim(
    "review_safety_statement_rests_on_part",
    "safety",
    "That statement rests on adverse-event counts for only part of the IL-2 patients, and on a comparison with "
    "placebo for fewer still; for the other IL-2 patients the sources give no count, and a harm that is not "
    "reported is not shown to be absent.",
)
def _safety_coverage(ev: Evidence) -> list[str]:
    """Fewer IL-2 patients of the included studies are in an arm with any adverse-event count than are known,
    and fewer are in a randomised comparison of an event with placebo than have any count."""
    from helpers.review import safety

    t = safety.coverage_totals(ev)
    facts = []
    if not t["il2_counted"] < t["il2_known"]:
        facts.append(f"all {t['il2_known']} IL-2 patients of known number have an adverse-event count")
    if not t["il2_compared"] < t["il2_counted"]:
        facts.append(f"every IL-2 patient with a count ({t['il2_counted']}) is in a comparison with placebo")
    return facts


@claim(
    "harms_follow_up_under_a_year",
    "safety",
    "No included study that counts adverse events follows its patients for as long as a year, so harms that are "
    "late or cumulative could not have been seen.",
)
def _harms_follow_up(ev: Evidence) -> list[str]:
    """Every included study with an adverse-event count has its latest visit with a week number before week 52
    (a study counting harms whose latest visit has no week number contradicts the claim: its length is unknown)."""
    from helpers.review import safety

    info = safety.harms_information(ev)
    counting = info[info["counted"].map(bool)]
    return [
        f"{r.label}: latest visit {r.last_timepoint}"
        for r in counting.itertuples()
        if r.last_week is None or pd.isna(r.last_week) or r.last_week >= 52
    ]


# ---------------------------------------------------------------------------
# Treg
# ---------------------------------------------------------------------------
@claim(
    "treg_no_values",
    "treg",
    "No study gives Treg values (a mean or median with its spread) at baseline and follow-up, so no magnitude, "
    "correlation with response or pooled change can be computed.",
)
def _treg_no_values(ev: Evidence) -> list[str]:
    """No Treg row of an included or candidate study has a numeric statistic (mean_sd, median_range, median_iqr)."""
    from helpers.review import treg

    rows = treg.treg_rows(ev)
    numeric = rows[rows["statistic"].isin(["mean_sd", "median_range", "median_iqr"])]
    return [f"{r.study_id} {r.arm} {r.timepoint}: {r.statistic}" for r in numeric.itertuples()]


@claim(
    "treg_definitions_differ",
    "treg",
    "The studies that state a Treg measure name different ones, each in a registry record or a congress abstract; "
    "the journal articles consulted state none.",
)
def _treg_definitions(ev: Evidence) -> list[str]:
    """At least two studies' IL-2 Treg rows name a measure; no two studies name the same one; every row naming a
    measure has a locator mentioning a registry record or a congress abstract."""
    from helpers.review import treg

    rows = treg.treg_rows(ev)
    named = rows[(rows["arm"] == "il2") & rows["measure"].notna()]
    facts = [
        f"{r.study_id}: measure stated in {r.locator!r}"
        for r in named.itertuples()
        if "registry" not in r.locator and "congress abstract" not in r.locator
    ]
    measures = named.drop_duplicates(["study_id", "measure"])
    if measures["study_id"].nunique() < 2:
        facts.append(f"only {measures['study_id'].nunique()} study states a Treg measure")
    if measures["measure"].duplicated().any():
        facts.append("two studies state the same Treg measure")
    return facts


@claim(
    "treg_increase_wherever_reported",
    "treg",
    "Every study that reports a Treg finding reports an increase, so there is no contrast to relate to response.",
)
def _treg_increase(ev: Evidence) -> list[str]:
    """Every IL-2 Treg row with a direction has direction 'increase'."""
    from helpers.review import treg

    rows = treg.treg_rows(ev)
    rows = rows[(rows["arm"] == "il2") & rows["direction"].notna()]
    return [f"{r.study_id}: {r.direction}" for r in rows.itertuples() if r.direction != "increase"]


@claim(
    "treg_nephritis_report_remission",
    "treg",
    "The lupus nephritis report (a candidate study) states that Treg rose most in the patients whose nephritis "
    "remitted.",
)
def _treg_ln(ev: Evidence) -> list[str]:
    """The study cited as jicr2019 is a candidate whose Treg row's note mentions remission."""
    s = ev.studies[ev.studies["citation_key"] == "jicr2019"]
    if len(s) != 1 or s["inclusion_status"].iloc[0] != "candidate":
        return ["jicr2019 is not one candidate study"]
    o = ev.outcomes[(ev.outcomes["study_id"] == s["study_id"].iloc[0]) & (ev.outcomes["outcome"] == "treg_pct_cd4")]
    return [] if o["note"].fillna("").str.contains("remission").any() else ["its Treg note does not mention remission"]


@claim(
    "treg_reanalysis_excluded",
    "treg",
    "A later congress abstract from the He 2020 group is excluded as a probable re-analysis of that trial.",
)
def _treg_reanalysis(ev: Evidence) -> list[str]:
    """The study cited as he2023congress is excluded with a reason naming a re-analysis of He 2020."""
    s = ev.studies[ev.studies["citation_key"] == "he2023congress"]
    ok = len(s) == 1 and s["inclusion_status"].iloc[0] == "excluded" and "re-analysis" in s["inclusion_reason"].iloc[0]
    return [] if ok else ["he2023congress is not excluded as a re-analysis"]


# ---------------------------------------------------------------------------
# Risk of bias
# ---------------------------------------------------------------------------
@claim(
    "rob_rct_difference_is_reporting",
    "risk_of_bias",
    "The difference between He 2020 and LUPIL-2 comes from reporting: He 2020's baseline and adverse-event "
    "tables could be read, LUPIL-2's could not.",
)
def _rob_rct_difference(ev: Evidence) -> list[str]:
    """He 2020 scores above LUPIL-2, and its points on items LUPIL-2 could not be rated on (unable to determine)
    at least make up the difference; He 2020 has count rows for baseline and safety outcomes, LUPIL-2 none."""
    from helpers.evidence.rob_tables import load_risk_of_bias
    from helpers.review.rob import item_points, study_scores

    rob = load_risk_of_bias(ev)
    ss = study_scores(rob).set_index("label")
    if not {"He 2020", "LUPIL-2"} <= set(ss.index):
        return ["He 2020 or LUPIL-2 is not rated"]
    facts = []
    gap = ss.loc["He 2020", "score"] - ss.loc["LUPIL-2", "score"]
    if gap <= 0:
        facts.append("He 2020 does not score above LUPIL-2")
    ip = item_points(rob)
    he = ip[ip["label"] == "He 2020"].set_index("item")
    lu = ip[ip["label"] == "LUPIL-2"].set_index("item")
    unanswerable = lu.index[lu["answer"] == "unable_to_determine"]
    gained = int(he.loc[he.index.isin(unanswerable), "points"].sum())
    if gained < gap:
        facts.append(
            f"He 2020 gains {gained} points on items LUPIL-2 could not be rated on, less than the gap of {gap}"
        )
    o = ev.outcomes.merge(ev.outcome_definitions[["outcome", "domain"]], on="outcome")
    counted = o[(o["statistic"] == "count") & o["events"].notna() & o["domain"].isin(["baseline", "safety"])]
    by_study = counted.groupby("study_id")["domain"].agg(set)
    if by_study.get("he2020", set()) != {"baseline", "safety"}:
        facts.append("He 2020 lacks baseline or safety counts")
    if by_study.get("lupil2", set()):
        facts.append("LUPIL-2 now has baseline or safety counts")
    return facts


@claim(
    "rob_rcts_gain_design_points",
    "risk_of_bias",
    "The randomised trials gain their points mostly from randomisation and blinding; the uncontrolled studies "
    "lose those points by design.",
)
def _rob_design(ev: Evidence) -> list[str]:
    """Every included RCT scores above every included uncontrolled study."""
    from helpers.evidence.rob_tables import load_risk_of_bias
    from helpers.review.rob import study_scores

    ss = study_scores(load_risk_of_bias(ev))
    rct, other = ss[ss["design"] == "rct"], ss[ss["design"] != "rct"]
    if rct.empty or other.empty or rct["score"].min() > other["score"].max():
        return []
    return [f"an uncontrolled study scores {other['score'].max()} >= the lowest RCT {rct['score'].min()}"]


def _rob2_overall(ev: Evidence) -> pd.DataFrame:
    from helpers.review.rob2 import domain_table

    return domain_table(ev)


@claim(
    "rob2_per_protocol_high",
    "risk_of_bias",
    "The post hoc per-protocol result is at high risk of bias: the analysis leaves out randomised patients (D2) "
    "and was chosen after the results were known (D5).",
)
def _rob2_per_protocol(ev: Evidence) -> list[str]:
    """Every assessed per-protocol result is high overall, high in D2 and high in D5, neither resting on no
    information; at least one per-protocol result is assessed."""
    t = _rob2_overall(ev)
    pp = t[t["population"] == "per_protocol"]
    if pp.empty:
        return ["no per-protocol result is assessed with RoB 2"]
    facts = []
    for r in pp[pp["domain"].isin(["overall", "D2", "D5"])].itertuples(index=False):
        if r.judgement != "high":
            facts.append(f"{r.study_id} {r.result}: {r.domain} is {r.judgement}")
        elif r.domain != "overall" and r.rests_on_no_information:
            facts.append(f"{r.study_id} {r.result}: {r.domain} is high only for want of information")
    return facts


@claim(
    "rob2_primary_high_rests_on_no_information",
    "risk_of_bias",
    "Where an intention-to-treat or efficacy-set result is at high risk of bias, the judgement comes from what the "
    "consulted sources do not report, not from a reported flaw.",
)
def _rob2_primary_high(ev: Evidence) -> list[str]:
    """For every assessed ITT or efficacy-set result that is high overall, every domain judged high rests on no
    information (answering its NI favourably would lower it)."""
    t = _rob2_overall(ev)
    main = t[t["population"].isin(["itt", "analysed_efficacy"]) & (t["domain"] != "overall")]
    return [
        f"{r.study_id} {r.result}: {r.domain} is high on reported facts"
        for r in main.itertuples(index=False)
        if r.judgement == "high" and not r.rests_on_no_information
    ]


# ---------------------------------------------------------------------------
# PRISMA and reconciliation
# ---------------------------------------------------------------------------
def _gaps(ev: Evidence) -> dict[str, int]:
    from helpers.review.reconciliation import book_totals

    t = book_totals(ev)
    return {
        "il2": ev.review_value("patients_il2") - t["patients_il2_known"],
        "placebo": ev.review_value("patients_placebo") - t["patients_placebo_known"],
        "studies": ev.review_value("studies_total") - t["studies_included"],
    }


@claim("placebo_totals_agree", "prisma", "The placebo totals of the review and of this book agree.")
def _placebo_agree(ev: Evidence) -> list[str]:
    """The review's placebo patients equal this book's counted placebo patients."""
    gap = _gaps(ev)["placebo"]
    return [] if gap == 0 else [f"the review's placebo total differs by {gap}"]


@claim(
    "il2_short_one_study_fewer",
    "prisma",
    "The IL-2 total falls short of the review's, the book has one study fewer, and the review's remaining "
    "open-label study is not identified.",
)
def _il2_short(ev: Evidence) -> list[str]:
    """The review's IL-2 patients exceed this book's, and the review counts exactly one study more."""
    g = _gaps(ev)
    facts = [] if g["il2"] > 0 else [f"IL-2 gap is {g['il2']}"]
    return facts + ([] if g["studies"] == 1 else [f"study gap is {g['studies']}"])


@claim(
    "proimmun_attribution",
    "prisma",
    "PRO-IMMUN's patients, regimen and results come from two congress abstracts that do not name the trial "
    "(humrich2016acr, N2; humrich2020congress, N1); the 2016 abstract counts, besides the patients enrolled in "
    "the trial, patients treated off-label with the same regimen, and analyses them together; the book counts all "
    "the treated patients.",
)
def _proimmun(ev: Evidence) -> list[str]:
    """PRO-IMMUN's treated-arm size cites humrich2020congress (N1) and humrich2016acr (N2); its enrolled and
    analysed sizes cite humrich2016acr (N2); more patients were treated than enrolled, and as many analysed as
    treated; the reconciliation counts its treated patients; and its study row cites both abstracts."""
    from helpers.review.reconciliation import counted_patients

    a = ev.arms[ev.arms["study_id"] == "proimmun"].set_index("population")
    facts = []

    def cites(population: str, key: str, code: str) -> bool:
        if population not in a.index:
            return False
        keys, codes = (
            {k.strip() for k in str(a.loc[population, column]).split(";")} for column in ("source", "evidence_ref")
        )
        return key in keys and code in codes

    if not (cites("treated", "humrich2020congress", "N1") and cites("treated", "humrich2016acr", "N2")):
        facts.append("PRO-IMMUN's treated patients no longer cite both congress abstracts (N1, N2)")
    for population in ("enrolled", "analysed_efficacy"):
        if not cites(population, "humrich2016acr", "N2"):
            facts.append(f"PRO-IMMUN's {population} patients do not cite humrich2016acr (N2)")

    def size(population: str) -> int | None:
        n = a.loc[population, "n"] if population in a.index else pd.NA
        return None if pd.isna(n) else int(n)

    treated, enrolled, analysed = size("treated"), size("enrolled"), size("analysed_efficacy")
    if treated is None or enrolled is None or not treated > enrolled:
        facts.append(f"PRO-IMMUN treated {treated} and enrolled {enrolled}")
    if treated is None or analysed != treated:
        facts.append(f"PRO-IMMUN analysed {analysed} of {treated} treated")
    counted = counted_patients(ev).set_index(["study_id", "arm"])
    if ("proimmun", "il2") not in counted.index or counted.loc[("proimmun", "il2"), "population"] != "treated":
        facts.append("the reconciliation does not count PRO-IMMUN's treated patients")
    study = ev.studies.set_index("study_id").loc["proimmun"]
    if not {"humrich2016acr", "humrich2020congress"} <= {k.strip() for k in study["source"].split(";")}:
        facts.append("PRO-IMMUN's study row does not cite both congress abstracts")
    return facts


@claim(
    "lupil2_arms_from_allocation",
    "prisma",
    "LUPIL-2's per-arm sizes follow from the number randomised and the allocation ratio (derived).",
)
def _lupil2_arms(ev: Evidence) -> list[str]:
    """LUPIL-2's randomised arm rows are derived."""
    a = ev.arms[(ev.arms["study_id"] == "lupil2") & (ev.arms["population"] == "randomised")]
    return [] if len(a) and (a["status"] == "derived").all() else ["LUPIL-2's randomised arm sizes are not derived"]


@claim(
    "alternative_counts_exist",
    "prisma",
    "He 2016 reports analysed patients besides its enrolled ones, He 2020 analysed IL-2 patients besides its "
    "randomised ones, and PRO-IMMUN patients enrolled in the trial besides all those it treated.",
)
def _alternatives(ev: Evidence) -> list[str]:
    """He 2016's IL-2 arm has enrolled and analysed_efficacy sizes that differ; so do He 2020's randomised and
    analysed_efficacy IL-2 sizes, and PRO-IMMUN's treated and enrolled sizes."""
    a = ev.arms.set_index(["study_id", "arm", "population"])["n"]
    facts = []
    for study, first, second in (
        ("he2016", "enrolled", "analysed_efficacy"),
        ("he2020", "randomised", "analysed_efficacy"),
        ("proimmun", "treated", "enrolled"),
    ):
        x, y = a.get((study, "il2", first)), a.get((study, "il2", second))
        if x is None or y is None or pd.isna(x) or pd.isna(y) or x == y:
            facts.append(f"{study}: {first} {x} vs {second} {y}")
    return facts


# ---------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------
@claim(
    "review_authors_trial_unpublished",
    "declarations",
    "The review's authors' group runs Charact-IL-2 (NCT03312335), an open-label trial of low-dose IL-2 in SLE "
    "with no results published in the review's window; this book lists it as a candidate, not as included.",
)
def _review_authors_trial(ev: Evidence) -> list[str]:
    """studies.csv has charact_il2 with registration NCT03312335, design open_label and inclusion status other than
    included, and its inclusion reason says it is run by the review's own group with no publication before the review's
    search ended; outcomes.csv holds no result of it."""
    s = ev.studies.set_index("study_id")
    if "charact_il2" not in s.index:
        return ["charact_il2 is not in studies.csv"]
    r = s.loc["charact_il2"]
    note = str(r["inclusion_reason"]) if pd.notna(r["inclusion_reason"]) else ""
    facts = []
    if r["registration"] != "NCT03312335":
        facts.append(f"charact_il2 registration is {r['registration']!r}")
    if r["design"] != "open_label":
        facts.append(f"charact_il2 design is {r['design']!r}")
    if r["inclusion_status"] == "included":
        facts.append("charact_il2 is included")
    if "review's own group" not in note:
        facts.append(f"charact_il2's inclusion reason no longer says it is run by the review's own group: {note!r}")
    if "no publication before" not in note:
        facts.append(f"charact_il2's inclusion reason no longer says no publication is known in the window: {note!r}")
    results = ev.outcomes[ev.outcomes["study_id"] == "charact_il2"]
    if len(results):
        facts.append(f"outcomes.csv holds {len(results)} result row(s) of charact_il2")
    return facts
