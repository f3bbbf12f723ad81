"""RoB 2 judgements: each domain's judgement from its signalling answers, and the overall judgement, per result.

The algorithms are the decision diagrams of the RoB 2 guidance (Sterne et al. 2019; full guidance
document of 22 August 2019 at riskofbias.info, version for individually randomised parallel-group
trials and the effect of assignment), as they map answers to a *proposed* judgement:

* D1, randomisation: 1.2 (concealment) N/PN -> high; 1.2 NI -> high if 1.3 (baseline imbalance)
  is Y/PY, otherwise some concerns; 1.2 Y/PY -> some concerns if 1.1 (random sequence) is N/PN,
  otherwise low unless 1.3 is Y/PY (some concerns).
* D2, deviations (effect of assignment), the worse of two parts. Part 1: 2.1 and 2.2 both N/PN ->
  low; otherwise 2.3 N/PN -> low, NI -> some concerns, Y/PY -> 2.4: N/PN -> some concerns,
  otherwise 2.5 Y/PY -> some concerns, N/PN/NI -> high. Part 2: 2.6 Y/PY -> low; otherwise 2.7
  N/PN -> some concerns, Y/PY/NI -> high.
* D3, missing outcome data: low if 3.1 or 3.2 is Y/PY or 3.3 is N/PN; otherwise 3.4 N/PN -> some
  concerns, Y/PY/NI -> high.
* D4, measurement: 4.1 or 4.2 Y/PY -> high; otherwise 4.3 N/PN, or 4.4 N/PN, -> low (some
  concerns when 4.2 is NI); otherwise 4.5 N/PN -> some concerns, Y/PY/NI -> high.
* D5, selection of the reported result: 5.2 or 5.3 Y/PY -> high; either NI -> some concerns; both
  N/PN -> low if 5.1 is Y/PY, otherwise some concerns.
* Overall: high if any domain is high; some concerns if any domain has some concerns; low if all
  are low. The tool also allows "high" when some concerns in several domains substantially lower
  confidence in the result; the protocol decides whether that escalation applies
  (``risk_of_bias.escalate_some_concerns_from``, null: not applied).

Nothing here is stored: the answers are evidence (``data/rob2.csv``, :mod:`helpers.evidence.rob2_tables`),
the judgements are computed from them. A judgement "rests on no information" when answering
every NI of its domain in the favourable direction would give a better judgement: the concern
comes from what the consulted sources do not say, and a fuller report could remove it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import Protocol, load_protocol
from helpers.evidence.rob2_tables import (
    ANSWER_LABELS,
    DOMAIN_LABELS,
    DOMAIN_SHORT,
    DOMAINS,
    NO,
    QUESTION_BY_ID,
    QUESTIONS,
    RESULT_KEY,
    YES,
    load_rob2,
)
from helpers.report.labels import POPULATION_LABELS, timepoint_text
from helpers.report.prose import fmt_int, fmt_pct, join_words

LOW, SOME, HIGH = "low", "some_concerns", "high"
JUDGEMENTS = (LOW, SOME, HIGH)
RANK = {LOW: 0, SOME: 1, HIGH: 2}
JUDGEMENT_LABELS = {LOW: "low", SOME: "some concerns", HIGH: "high"}
#: robvis-style symbols, so a judgement reads without colour.
JUDGEMENT_SYMBOLS = {LOW: "+", SOME: "−", HIGH: "×"}
#: Marks a judgement that rests on no information (see the module docstring).
NO_INFORMATION_MARK = "†"
OVERALL = "overall"

#: The answer to each question that points to the lower risk of bias (used to replace NI).
FAVOURABLE = {
    "1.1": "Y",
    "1.2": "Y",
    "1.3": "N",
    "2.1": "N",
    "2.2": "N",
    "2.3": "N",
    "2.4": "N",
    "2.5": "Y",
    "2.6": "Y",
    "2.7": "N",
    "3.1": "Y",
    "3.2": "Y",
    "3.3": "N",
    "3.4": "N",
    "4.1": "N",
    "4.2": "N",
    "4.3": "N",
    "4.4": "N",
    "4.5": "N",
    "5.1": "Y",
    "5.2": "N",
    "5.3": "N",
}


# ---------------------------------------------------------------------------
# The algorithms
# ---------------------------------------------------------------------------
def _reader(answers: Mapping[str, str]) -> Callable[[str], str]:
    """``read(q)``: the answer to a question the algorithm reaches, checked (never NA, always allowed)."""

    def read(question: str) -> str:
        answer = answers.get(question)
        q = QUESTION_BY_ID[question]
        if answer is None or answer == "NA":
            raise ValueError(f"question {question} is reached by the algorithm but answered {answer!r}")
        if answer not in q.allowed:
            raise ValueError(f"question {question}: answer {answer!r} not allowed (allowed: {', '.join(q.allowed)})")
        return answer

    return read


def _worse(*judgements: str) -> str:
    return max(judgements, key=RANK.__getitem__)


def d1_randomisation(answers: Mapping[str, str]) -> str:
    a = _reader(answers)
    concealed = a("1.2")
    if concealed in NO:
        return HIGH
    if concealed == "NI":
        return HIGH if a("1.3") in YES else SOME
    if a("1.1") in NO:
        return SOME
    return SOME if a("1.3") in YES else LOW


def d2_part1(answers: Mapping[str, str]) -> str:
    """Questions 2.1-2.5: awareness of the assignment and deviations because of the trial context."""
    a = _reader(answers)
    if a("2.1") in NO and a("2.2") in NO:
        return LOW
    deviations = a("2.3")
    if deviations in NO:
        return LOW
    if deviations == "NI":
        return SOME
    if a("2.4") in NO:
        return SOME
    return SOME if a("2.5") in YES else HIGH


def d2_part2(answers: Mapping[str, str]) -> str:
    """Questions 2.6-2.7: was the analysis appropriate for the effect of assignment."""
    a = _reader(answers)
    if a("2.6") in YES:
        return LOW
    return SOME if a("2.7") in NO else HIGH


def d2_deviations(answers: Mapping[str, str]) -> str:
    return _worse(d2_part1(answers), d2_part2(answers))


def d3_missing_data(answers: Mapping[str, str]) -> str:
    a = _reader(answers)
    if a("3.1") in YES or a("3.2") in YES or a("3.3") in NO:
        return LOW
    return SOME if a("3.4") in NO else HIGH


def d4_measurement(answers: Mapping[str, str]) -> str:
    a = _reader(answers)
    if a("4.1") in YES or a("4.2") in YES:
        return HIGH
    best = SOME if a("4.2") == "NI" else LOW
    if a("4.3") in NO or a("4.4") in NO:
        return best
    return SOME if a("4.5") in NO else HIGH


def d5_reporting(answers: Mapping[str, str]) -> str:
    a = _reader(answers)
    measurements, analyses = a("5.2"), a("5.3")
    if measurements in YES or analyses in YES:
        return HIGH
    if "NI" in (measurements, analyses):
        return SOME
    return LOW if a("5.1") in YES else SOME


ALGORITHMS: dict[str, Callable[[Mapping[str, str]], str]] = {
    "D1": d1_randomisation,
    "D2": d2_deviations,
    "D3": d3_missing_data,
    "D4": d4_measurement,
    "D5": d5_reporting,
}


def domain_judgement(domain: str, answers: Mapping[str, str]) -> str:
    """The proposed judgement of one domain from the answers of one result (question id -> answer)."""
    if domain not in ALGORITHMS:
        raise ValueError(f"domain {domain!r}: expected one of {', '.join(ALGORITHMS)}")
    return ALGORITHMS[domain](answers)


def overall_judgement(domains: Mapping[str, str], escalate_from: int | None = None) -> str:
    """Overall: high if any domain is high; some concerns if any has some concerns; low if all are low.

    ``escalate_from``: the tool's optional rule, a protocol choice: 'high' when at least this many
    domains have some concerns (None: not applied).
    """
    missing = [d for d, _ in DOMAINS if d not in domains]
    if missing:
        raise ValueError(f"no judgement for domain(s) {', '.join(missing)}")
    bad = {d: j for d, j in domains.items() if j not in RANK}
    if bad:
        raise ValueError(f"not a judgement: {bad}; expected one of {', '.join(JUDGEMENTS)}")
    values = [domains[d] for d, _ in DOMAINS]
    if HIGH in values:
        return HIGH
    n_some = values.count(SOME)
    if escalate_from is not None and n_some >= escalate_from:
        return HIGH
    return SOME if n_some else LOW


def favourable(answers: Mapping[str, str]) -> dict[str, str]:
    """The answers with every NI replaced by the answer pointing to the lower risk of bias."""
    return {q: (FAVOURABLE[q] if a == "NI" else a) for q, a in answers.items()}


def rests_on_no_information(domain: str, answers: Mapping[str, str]) -> bool:
    """Whether the domain's judgement would be better if every NI of the domain were answered favourably."""
    return RANK[domain_judgement(domain, favourable(answers))] < RANK[domain_judgement(domain, answers)]


# ---------------------------------------------------------------------------
# Judgements of the assessed results
# ---------------------------------------------------------------------------
def result_label(ev: Evidence, outcome: str, timepoint: str, population: str) -> str:
    """'SRI-4 response, week 12, efficacy set'."""
    labels = dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["label"]))
    return (
        f"{labels.get(outcome, outcome)}, {timepoint_text(timepoint)}, {POPULATION_LABELS.get(population, population)}"
    )


def _answers_by_result(ev: Evidence) -> list[tuple[tuple[str, ...], dict[str, str]]]:
    table = load_rob2(ev)
    return [
        (tuple(str(k) for k in key), dict(zip(part["question"], part["answer"])))
        for key, part in table.groupby(list(RESULT_KEY), sort=False)
    ]


def domain_table(ev: Evidence, protocol: Protocol | None = None) -> pd.DataFrame:
    """One row per result and domain (and 'overall'): the judgement, the judgement if every NI were
    favourable, whether it rests on no information, and the domain's answers."""
    escalate = (protocol or load_protocol()).rob2_escalation
    labels = dict(zip(ev.studies["study_id"], ev.studies["label"]))
    rows = []
    for key, answers in _answers_by_result(ev):
        study, outcome, timepoint, population = key
        base = {
            "study_id": study,
            "label": labels.get(study, study),
            "outcome": outcome,
            "timepoint": timepoint,
            "population": population,
            "result": result_label(ev, outcome, timepoint, population),
        }
        judged, best = {}, {}
        for domain, _ in DOMAINS:
            mine = {q.id: answers[q.id] for q in QUESTIONS if q.domain == domain}
            judged[domain] = domain_judgement(domain, mine)
            best[domain] = domain_judgement(domain, favourable(mine))
            rows.append(
                {
                    **base,
                    "domain": domain,
                    "judgement": judged[domain],
                    "if_no_information_favourable": best[domain],
                    "rests_on_no_information": RANK[best[domain]] < RANK[judged[domain]],
                    "answers": " · ".join(f"{q} {a}" for q, a in mine.items()),
                    "n_no_information": sum(a == "NI" for a in mine.values()),
                }
            )
        overall, overall_best = overall_judgement(judged, escalate), overall_judgement(best, escalate)
        rows.append(
            {
                **base,
                "domain": OVERALL,
                "judgement": overall,
                "if_no_information_favourable": overall_best,
                "rests_on_no_information": RANK[overall_best] < RANK[overall],
                "answers": "",
                "n_no_information": sum(a == "NI" for a in answers.values()),
            }
        )
    return pd.DataFrame(rows)


def rob2_judgements(ev: Evidence, protocol: Protocol | None = None) -> pd.DataFrame:
    """The RoB 2 judgements of every assessed result, for other chapters (e.g. GRADE's risk-of-bias domain).

    One row per result and domain ('D1' ... 'D5', and 'overall'): study_id, outcome, timepoint,
    population (the keys of outcomes.csv), result (a label), domain, judgement ('low',
    'some_concerns', 'high') and rests_on_no_information.
    """
    table = domain_table(ev, protocol)
    return table[[*RESULT_KEY, "result", "domain", "judgement", "rests_on_no_information"]].reset_index(drop=True)


# ---------------------------------------------------------------------------
# Display tables
# ---------------------------------------------------------------------------
def judgement_text(judgement: str, no_information: bool = False) -> str:
    """'− some concerns', with the † mark when the judgement rests on no information."""
    text = f"{JUDGEMENT_SYMBOLS[judgement]} {JUDGEMENT_LABELS[judgement]}"
    return f"{text} {NO_INFORMATION_MARK}" if no_information else text


def traffic_light_table(ev: Evidence, protocol: Protocol | None = None) -> pd.DataFrame:
    """One row per result: the five domain judgements and the overall one, each as symbol and words."""
    t = domain_table(ev, protocol)
    rows = []
    for _, part in t.groupby(list(RESULT_KEY), sort=False):
        first = part.iloc[0]
        row = {"Study": first["label"], "Result": first["result"]}
        for r in part.itertuples(index=False):
            header = "Overall" if r.domain == OVERALL else f"{r.domain} {DOMAIN_SHORT[r.domain]}"
            row[header] = judgement_text(r.judgement, r.rests_on_no_information)
        overall = part[part["domain"] == OVERALL].iloc[0]
        row["Overall if every NI were favourable"] = judgement_text(overall["if_no_information_favourable"])
        rows.append(row)
    return pd.DataFrame(rows)


def answers_table(ev: Evidence, protocol: Protocol | None = None) -> pd.DataFrame:
    """One row per result and domain: the signalling answers and the judgement the algorithm gives them."""
    t = domain_table(ev, protocol)
    t = t[t["domain"] != OVERALL]
    return pd.DataFrame(
        {
            "Study": t["label"],
            "Result": t["result"],
            "Domain": [f"{d} {DOMAIN_LABELS[d]}" for d in t["domain"]],
            "Answers": t["answers"],
            "Judgement": [judgement_text(j, n) for j, n in zip(t["judgement"], t["rests_on_no_information"])],
        }
    ).reset_index(drop=True)


def rationale_table(ev: Evidence) -> pd.DataFrame:
    """Every signalling answer with its rationale and source."""
    r = load_rob2(ev)
    labels = dict(zip(ev.studies["study_id"], ev.studies["label"]))
    return pd.DataFrame(
        {
            "Study": r["study_id"].map(labels),
            "Result": [result_label(ev, o, t, p) for o, t, p in zip(r["outcome"], r["timepoint"], r["population"])],
            "Question": [f"{q} {QUESTION_BY_ID[q].text}" for q in r["question"]],
            "Answer": [f"{a} ({ANSWER_LABELS[a]})" for a in r["answer"]],
            "Rationale": r["rationale"],
            "Source": [f"{loc}; {ref}" for loc, ref in zip(r["locator"], r["evidence_ref"])],
        }
    )


def questions_table() -> pd.DataFrame:
    """The signalling questions as this book encodes them: domain, paraphrase, answers allowed, when asked."""
    return pd.DataFrame(
        {
            "Question": [q.id for q in QUESTIONS],
            "Domain": [f"{q.domain} {DOMAIN_SHORT[q.domain]}" for q in QUESTIONS],
            "What it asks (paraphrase)": [q.text for q in QUESTIONS],
            "Answers": [", ".join(q.allowed) for q in QUESTIONS],
            "Asked when": [q.condition_text for q in QUESTIONS],
        }
    )


# ---------------------------------------------------------------------------
# Numbers and generated sentences for the chapter
# ---------------------------------------------------------------------------
def _domains_with(part: pd.DataFrame, judgement: str) -> list[str]:
    return [d for d, j in zip(part["domain"], part["judgement"]) if d != OVERALL and j == judgement]


def result_sentences(ev: Evidence, protocol: Protocol | None = None) -> str:
    """One sentence per result: its overall judgement and the domains behind it."""
    t = domain_table(ev, protocol)
    out = []
    for _, part in t.groupby(list(RESULT_KEY), sort=False):
        first = part.iloc[0]
        overall = part[part["domain"] == OVERALL].iloc[0]
        high, some = _domains_with(part, HIGH), _domains_with(part, SOME)
        why = []
        if high:
            why.append(f"high in {join_words(high)}")
        if some:
            why.append(f"some concerns in {join_words(some)}")
        reason = f" ({'; '.join(why)})" if why else " (every domain low)"
        out.append(f"{first['label']}, {first['result']}: {JUDGEMENT_LABELS[overall['judgement']]} overall{reason}.")
    return " ".join(out)


def no_information_sentence(ev: Evidence, protocol: Protocol | None = None) -> str:
    """Which overall judgements would be better if every NI were answered favourably, and to what."""
    t = domain_table(ev, protocol)
    overall = t[t["domain"] == OVERALL]
    moved = overall[overall["rests_on_no_information"]]
    if moved.empty:
        return "No overall judgement would change if every 'no information' answer were answered favourably."
    parts = [
        f"{r.label}, {r.result}, would move from {JUDGEMENT_LABELS[r.judgement]} to "
        f"{JUDGEMENT_LABELS[r.if_no_information_favourable]}"
        for r in moved.itertuples(index=False)
    ]
    kept = overall[~overall["rests_on_no_information"]]
    names = join_words([f"{r.label}, {r.result}" for r in kept.itertuples(index=False)])
    tail = (
        ""
        if kept.empty
        else f" The overall judgement of {names} would not move: it rests on what the sources report."
        if len(kept) == 1
        else f" The overall judgements of {names} would not move: they rest on what the sources report."
    )
    return "If every 'no information' answer were answered favourably, " + "; ".join(parts) + "." + tail


def glue_values(ev: Evidence, protocol: Protocol | None = None) -> dict[str, str]:
    """Formatted numbers and names for the chapter's RoB 2 section, keyed for glue (``rob2_*``)."""
    protocol = protocol or load_protocol()
    t = domain_table(ev, protocol)
    answers = load_rob2(ev)
    overall = t[t["domain"] == OVERALL]
    asked = answers[answers["answer"] != "NA"]
    n_ni = int((asked["answer"] == "NI").sum())
    escalate = protocol.rob2_escalation
    counts = {j: int((overall["judgement"] == j).sum()) for j in JUDGEMENTS}
    return {
        "rob2_n_results": fmt_int(len(overall)),
        "rob2_n_trials": fmt_int(overall["study_id"].nunique()),
        "rob2_trials": join_words(list(dict.fromkeys(overall["label"]))),
        "rob2_n_questions": fmt_int(len(QUESTIONS)),
        "rob2_n_answers": fmt_int(len(answers)),
        "rob2_n_asked": fmt_int(len(asked)),
        "rob2_n_ni": fmt_int(n_ni),
        "rob2_pct_ni": fmt_pct(100 * n_ni / len(asked)) if len(asked) else "not applicable",
        "rob2_n_low": fmt_int(counts[LOW]),
        "rob2_n_some": fmt_int(counts[SOME]),
        "rob2_n_high": fmt_int(counts[HIGH]),
        "rob2_result_sentences": result_sentences(ev, protocol),
        "rob2_no_information_sentence": no_information_sentence(ev, protocol),
        "rob2_escalation": (
            "not applied (the protocol leaves it off)"
            if escalate is None
            else f"applied: some concerns in {fmt_int(escalate)} or more domains make the result's overall "
            "judgement high"
        ),
    }
