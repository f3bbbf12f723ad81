"""RoB 2 as evidence: the tool's signalling questions, the answers in ``data/rob2.csv``, their schema and loading.

RoB 2 (Sterne et al. 2019) judges the risk of bias of one *result* of a randomised trial, in five
domains, from answers to signalling questions. This module holds what the tool fixes and what the
book answered:

* :data:`QUESTIONS`: the signalling questions of the version for individually randomised,
  parallel-group trials with the effect of *assignment* as the effect of interest (the effect an
  intention-to-treat analysis estimates, which is what the review pools), each with its domain, a
  short paraphrase, the answers it allows and, for a conditional question, when it is asked (the
  "If Y/PY/NI to 2.1 or 2.2" prefixes of the tool).
* ``data/rob2.csv``: one row per result and signalling question, with the answer (Y, PY, PN, N,
  NI, or NA where the question is not asked), a rationale citing the dossier code of every fact it
  rests on (``S22``...), a source and a locator. The answers are this book's judgements from the
  consulted sources; NI ("no information") means those sources do not say, never a guess.

Status follows the conventions of ``risk_of_bias.csv``: ``reported`` when a source states what the
question asks; ``derived`` when the answer is this book's inference from reported facts (every
"probably" answer, and NA, which follows from earlier answers), with the reasoning in
``derivation``; ``not_reported`` exactly for NI, with the reason in ``na_reason``.

Validated like every evidence table (pandera, through :func:`helpers.evidence.load.validate_table`),
plus rules across rows: every assessed result answers every question once, and NA stands exactly
where the tool's conditions skip a question. Domain and overall judgements are computed from the
answers by the tool's algorithms (:mod:`helpers.review.rob2`), never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from helpers.evidence.load import DataValidationError, Evidence, Problem, bib_keys, load_evidence, load_table
from helpers.evidence.rob_tables import MissingRow, _cites_its_evidence
from helpers.evidence.schemas import (
    TIMEPOINT_PATTERN,
    RowRule,
    TableSpec,
    _provenance_columns,
    _provenance_rules,
    _required_text,
)

__all__ = [
    "ANSWERS",
    "ANSWER_LABELS",
    "DOMAINS",
    "FILE",
    "QUESTIONS",
    "RESULT_KEY",
    "Question",
    "asked",
    "load_rob2",
    "rob2_spec",
]

FILE = "rob2.csv"
#: The columns that name one result of one trial.
RESULT_KEY = ("study_id", "outcome", "timepoint", "population")

#: Answers to a signalling question (RoB 2): yes, probably yes, probably no, no, no information,
#: and not applicable (a conditional question that the earlier answers skip).
ANSWERS = ("Y", "PY", "PN", "N", "NI", "NA")
ANSWER_LABELS = {
    "Y": "yes",
    "PY": "probably yes",
    "PN": "probably no",
    "N": "no",
    "NI": "no information",
    "NA": "not applicable",
}
YES = frozenset({"Y", "PY"})
NO = frozenset({"N", "PN"})

#: The five domains: (id, label). Domain 2 is the variant for the effect of assignment.
DOMAINS: tuple[tuple[str, str], ...] = (
    ("D1", "Randomisation process"),
    ("D2", "Deviations from intended interventions (effect of assignment)"),
    ("D3", "Missing outcome data"),
    ("D4", "Measurement of the outcome"),
    ("D5", "Selection of the reported result"),
)
DOMAIN_LABELS = dict(DOMAINS)
#: Short domain names for table headers.
DOMAIN_SHORT = {
    "D1": "Randomisation",
    "D2": "Deviations",
    "D3": "Missing data",
    "D4": "Measurement",
    "D5": "Reporting",
}


@dataclass(frozen=True)
class Question:
    """One signalling question: its id ('2.3'), a paraphrase, and when it is asked.

    ``when`` lists (question, answers) pairs; the question is asked when ``mode`` of them hold
    ('any' or 'all'): 2.3 is asked if 2.1 *or* 2.2 is Y, PY or NI. No ``when``: always asked.
    ``no_ni``: the tool does not allow 'no information' (question 3.2).
    """

    id: str
    text: str
    when: tuple[tuple[str, frozenset[str]], ...] = ()
    mode: str = "any"
    no_ni: bool = False

    @property
    def domain(self) -> str:
        return f"D{self.id.split('.')[0]}"

    @property
    def conditional(self) -> bool:
        return bool(self.when)

    @property
    def allowed(self) -> tuple[str, ...]:
        out = ("Y", "PY", "PN", "N") + (() if self.no_ni else ("NI",))
        return out + (("NA",) if self.conditional else ())

    @property
    def condition_text(self) -> str:
        """'2.1 or 2.2 is Y, PY or NI', '4.1 and 4.2 are N, PN or NI', '2.3 is Y or PY'."""
        if not self.when:
            return "always asked"
        answers = _answer_list({a for _, ans in self.when for a in ans})
        names = [q for q, _ in self.when]
        if len(names) == 1:
            return f"{names[0]} is {answers}"
        if self.mode == "all":
            return f"{' and '.join(names)} are {answers}"
        return f"{' or '.join(names)} is {answers}"


def _answer_list(answers: set[str] | frozenset[str]) -> str:
    ordered = [a for a in ANSWERS if a in answers]
    return ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " or " + ordered[-1]


_YPYNI = frozenset({"Y", "PY", "NI"})
_NPNNI = frozenset({"N", "PN", "NI"})

#: The signalling questions (paraphrased; Sterne et al. 2019 and the tool's guidance give the wording).
QUESTIONS: tuple[Question, ...] = (
    Question("1.1", "Was the allocation sequence random?"),
    Question("1.2", "Was the allocation sequence concealed until participants were enrolled and assigned?"),
    Question("1.3", "Did baseline differences between the groups suggest a problem with the randomisation?"),
    Question("2.1", "Were participants aware of their assigned intervention during the trial?"),
    Question("2.2", "Were carers and those delivering the interventions aware of the assignment?"),
    Question(
        "2.3",
        "Were there deviations from the intended intervention that arose because of the trial context?",
        (("2.1", _YPYNI), ("2.2", _YPYNI)),
    ),
    Question("2.4", "Were these deviations likely to have affected the outcome?", (("2.3", YES),)),
    Question("2.5", "Were these deviations balanced between the groups?", (("2.4", _YPYNI),)),
    Question("2.6", "Was an appropriate analysis used to estimate the effect of assignment?"),
    Question(
        "2.7",
        "Could failing to analyse participants in their randomised group have had a substantial impact on the result?",
        (("2.6", _NPNNI),),
    ),
    Question("3.1", "Were outcome data available for all, or nearly all, randomised participants?"),
    Question(
        "3.2",
        "Is there evidence that the result was not biased by missing outcome data?",
        (("3.1", _NPNNI),),
        no_ni=True,
    ),
    Question("3.3", "Could missingness in the outcome depend on its true value?", (("3.2", NO),)),
    Question("3.4", "Is it likely that missingness in the outcome depended on its true value?", (("3.3", _YPYNI),)),
    Question("4.1", "Was the method of measuring the outcome inappropriate?"),
    Question("4.2", "Could measurement or ascertainment of the outcome have differed between the groups?"),
    Question(
        "4.3",
        "Were outcome assessors aware of the intervention received?",
        (("4.1", _NPNNI), ("4.2", _NPNNI)),
        mode="all",
    ),
    Question(
        "4.4",
        "Could assessment of the outcome have been influenced by knowledge of the intervention?",
        (("4.3", _YPYNI),),
    ),
    Question(
        "4.5",
        "Is it likely that assessment of the outcome was influenced by knowledge of the intervention?",
        (("4.4", _YPYNI),),
    ),
    Question(
        "5.1",
        "Was the result analysed by a pre-specified plan finalised before unblinded outcome data were available?",
    ),
    Question(
        "5.2",
        "Was the result likely selected, on the basis of the results, from several eligible outcome measurements?",
    ),
    Question(
        "5.3",
        "Was the result likely selected, on the basis of the results, from several eligible analyses of the data?",
    ),
)
QUESTION_BY_ID = {q.id: q for q in QUESTIONS}
QUESTION_IDS = tuple(q.id for q in QUESTIONS)


def asked(question: str, answers: Mapping[str, str]) -> bool:
    """Whether the tool asks ``question`` given the earlier ``answers`` of the same result."""
    q = QUESTION_BY_ID[question]
    if not q.when:
        return True
    hits = [answers.get(dep) in allowed for dep, allowed in q.when]
    return any(hits) if q.mode == "any" else all(hits)


# ---------------------------------------------------------------------------
# Table spec
# ---------------------------------------------------------------------------
def _allowed_text() -> str:
    groups: dict[tuple[str, ...], list[str]] = {}
    for q in QUESTIONS:
        groups.setdefault(q.allowed, []).append(q.id)
    return "; ".join(f"{', '.join(ids)}: {', '.join(a)}" for a, ids in groups.items())


def rob2_spec(
    bib_keys: set[str],
    study_ids: set[str],
    randomised_ids: set[str],
    results: set[tuple[str, str, str, str]],
) -> TableSpec:
    """``rob2.csv``: one row per assessed result and signalling question.

    ``randomised_ids``: the included randomised trials (RoB 2 is for randomised trials only);
    ``results``: the (study_id, outcome, timepoint, population) of the rows of ``outcomes.csv``.
    """
    rules = _provenance_rules(()) + (
        RowRule(
            "study_is_included_rct",
            "study_id",
            "a study whose design is 'rct' and inclusion_status 'included' in studies.csv (RoB 2 is for randomised "
            "trials)",
            lambda d: d["study_id"].isin(sorted(randomised_ids)),
        ),
        RowRule(
            "result_in_outcomes",
            "population",
            "a result of outcomes.csv: its study_id, outcome, timepoint and population name rows there",
            lambda d: pd.Series(
                [tuple(r) in results for r in d[list(RESULT_KEY)].itertuples(index=False, name=None)], index=d.index
            ),
        ),
        RowRule(
            "domain_matches_question",
            "domain",
            "the domain of the question (question 1.x is in D1, 2.x in D2, ... 5.x in D5)",
            lambda d: pd.Series(
                [q in QUESTION_BY_ID and QUESTION_BY_ID[q].domain == dom for q, dom in zip(d["question"], d["domain"])],
                index=d.index,
            ),
        ),
        RowRule(
            "answer_allowed_for_question",
            "answer",
            "an answer the tool allows for the question (" + _allowed_text() + ")",
            lambda d: pd.Series(
                [q in QUESTION_BY_ID and a in QUESTION_BY_ID[q].allowed for q, a in zip(d["question"], d["answer"])],
                index=d.index,
            ),
        ),
        RowRule(
            "no_information_is_not_reported",
            "status",
            "status 'not_reported' exactly when the answer is NI (no information)",
            lambda d: (d["answer"] == "NI") == (d["status"] == "not_reported"),
        ),
        RowRule(
            "inference_is_derived",
            "status",
            "status 'derived' for a PY, PN or NA answer (an inference, or a question the earlier answers skip)",
            lambda d: ~d["answer"].isin(["PY", "PN", "NA"]) | (d["status"] == "derived"),
        ),
        RowRule(
            "rationale_cites_its_evidence",
            "rationale",
            "a rationale that names at least one of the row's evidence_ref codes (e.g. 'S22')",
            _cites_its_evidence,
        ),
    )
    return TableSpec(
        name="rob2",
        filename=FILE,
        rows_expected="the RoB 2 signalling answers of at least one result of a randomised trial",
        key=(*RESULT_KEY, "question"),
        columns={
            "study_id": _required_text(
                pa.Check.isin(sorted(study_ids), error="study_id must be a study_id of studies.csv")
            ),
            "outcome": _required_text(),
            "timepoint": _required_text(pa.Check.str_matches(TIMEPOINT_PATTERN)),
            "population": _required_text(),
            "domain": _required_text(pa.Check.isin([d for d, _ in DOMAINS])),
            "question": _required_text(pa.Check.isin(list(QUESTION_IDS))),
            "answer": _required_text(pa.Check.isin(ANSWERS)),
            "rationale": _required_text(),
            **_provenance_columns(bib_keys),
        },
        rules=rules,
        unique=(*RESULT_KEY, "question"),
    )


# ---------------------------------------------------------------------------
# Rules across rows: complete, and NA exactly where the tool skips a question
# ---------------------------------------------------------------------------
def _key_text(key: tuple) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(RESULT_KEY, key))


def _check_complete_and_skips(table: pd.DataFrame) -> None:
    problems: list[Problem] = []
    for key, part in table.groupby(list(RESULT_KEY), sort=False):
        answers = dict(zip(part["question"], part["answer"]))
        lines = dict(zip(part["question"], part.index))
        for q in QUESTIONS:
            if q.id not in answers:
                problems.append(
                    MissingRow(
                        FILE,
                        None,
                        f"{_key_text(key)}, question={q.id}",
                        "question",
                        None,
                        f"an answer to question {q.id} (every assessed result answers every signalling question; "
                        "NA where the tool skips it)",
                    )
                )
                continue
            if any(dep not in answers for dep, _ in q.when):
                continue  # the missing answer it depends on is the problem named
            is_asked = asked(q.id, answers)
            if is_asked == (answers[q.id] == "NA"):
                expected = (
                    f"an answer other than NA: the tool asks {q.id} when {q.condition_text}, as here"
                    if is_asked
                    else f"NA: the tool asks {q.id} only when {q.condition_text}"
                )
                problems.append(
                    Problem(
                        FILE,
                        int(lines[q.id]) + 2,
                        f"{_key_text(key)}, question={q.id}",
                        "answer",
                        answers[q.id],
                        expected,
                        "na_exactly_where_skipped",
                    )
                )
    if problems:
        raise DataValidationError(problems)


def _spec_inputs(ev: Evidence, keys: set[str]) -> tuple:
    s = ev.studies
    randomised = set(s.loc[(s["design"] == "rct") & (s["inclusion_status"] == "included"), "study_id"])
    results = set(ev.outcomes[list(RESULT_KEY)].astype(str).itertuples(index=False, name=None))
    return keys, set(s["study_id"]), randomised, results


def load_rob2(ev: Evidence | None = None) -> pd.DataFrame:
    """The RoB 2 answers, validated (raises DataValidationError on bad input), in file order."""
    ev = ev or load_evidence()
    table = load_table(ev.folder, rob2_spec, *_spec_inputs(ev, bib_keys()))
    _check_complete_and_skips(table)
    return table.reset_index(drop=True)
