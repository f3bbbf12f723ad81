"""RoB 2 (helpers.evidence.rob2_tables, helpers.review.rob2): the answers load and bad input is named precisely,
every branch of every domain's algorithm and of the overall rule gives the tool's judgement on SYNTHETIC answer
sets, and the real judgements are the ones worked out by hand from data/rob2.csv."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.evidence import rob2_tables as E
from helpers.evidence.load import DataValidationError, load_evidence
from helpers.evidence.protocol import ProtocolError, load_protocol
from helpers.review import rob2 as R
from helpers.review.claims import failures

L, S, H = R.LOW, R.SOME, R.HIGH
RESULTS = [
    ("he2020", "sri4", "week_12", "analysed_efficacy"),
    ("he2020", "sri4", "week_24", "analysed_efficacy"),
    ("lupil2", "sri4", "week_12", "itt"),
    ("lupil2", "sri4", "week_12", "per_protocol"),
]


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


@pytest.fixture(scope="module")
def table(ev):
    return R.domain_table(ev)


# ---------------------------------------------------------------------------
# The instrument
# ---------------------------------------------------------------------------
def test_the_tool_has_22_questions_in_five_domains():
    counts = pd.Series([q.domain for q in E.QUESTIONS]).value_counts().to_dict()
    assert counts == {"D1": 3, "D2": 7, "D3": 4, "D4": 5, "D5": 3}
    conditional = [q.id for q in E.QUESTIONS if q.conditional]
    assert conditional == ["2.3", "2.4", "2.5", "2.7", "3.2", "3.3", "3.4", "4.3", "4.4", "4.5"]
    assert E.QUESTION_BY_ID["3.2"].allowed == ("Y", "PY", "PN", "N", "NA")  # the tool allows no NI here
    assert E.QUESTION_BY_ID["1.1"].allowed == ("Y", "PY", "PN", "N", "NI")
    assert E.QUESTION_BY_ID["2.3"].condition_text == "2.1 or 2.2 is Y, PY or NI"
    assert E.QUESTION_BY_ID["4.3"].condition_text == "4.1 and 4.2 are PN, N or NI"
    assert E.QUESTION_BY_ID["2.4"].condition_text == "2.3 is Y or PY"


@pytest.mark.parametrize(
    "question, answers, expected",
    [
        ("2.3", {"2.1": "PN", "2.2": "N"}, False),
        ("2.3", {"2.1": "PN", "2.2": "NI"}, True),
        ("2.4", {"2.3": "NI"}, False),
        ("2.5", {"2.4": "NI"}, True),
        ("2.7", {"2.6": "PY"}, False),
        ("3.2", {"3.1": "NI"}, True),
        ("3.3", {"3.2": "PY"}, False),
        ("4.3", {"4.1": "N", "4.2": "NI"}, True),
        ("4.3", {"4.1": "PY", "4.2": "N"}, False),
        ("1.1", {}, True),
    ],
)
def test_when_a_question_is_asked(question, answers, expected):
    assert E.asked(question, answers) is expected


# ---------------------------------------------------------------------------
# The algorithms, branch by branch (SYNTHETIC answer sets)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "a11, a12, a13, expected",
    [
        ("Y", "N", "N", H),  # not concealed
        ("Y", "PN", "NI", H),
        ("Y", "NI", "Y", H),  # no information on concealment and a baseline problem
        ("Y", "NI", "PN", S),
        ("NI", "NI", "NI", S),
        ("N", "Y", "N", S),  # concealed but not random
        ("Y", "Y", "PY", S),  # baseline problem
        ("NI", "PY", "NI", L),
        ("Y", "Y", "N", L),
    ],
)
def test_d1_randomisation(a11, a12, a13, expected):
    assert R.d1_randomisation({"1.1": a11, "1.2": a12, "1.3": a13}) == expected


def _d2(a21="N", a22="N", a23="NA", a24="NA", a25="NA", a26="Y", a27="NA") -> dict[str, str]:
    return {"2.1": a21, "2.2": a22, "2.3": a23, "2.4": a24, "2.5": a25, "2.6": a26, "2.7": a27}


@pytest.mark.parametrize(
    "answers, part1",
    [
        (_d2(), L),  # nobody aware
        (_d2(a21="Y", a23="N"), L),  # aware, but no deviations from the trial context
        (_d2(a22="NI", a23="NI"), S),
        (_d2(a21="PY", a23="Y", a24="PN"), S),  # deviations not likely to affect the outcome
        (_d2(a21="Y", a23="PY", a24="Y", a25="PY"), S),  # balanced
        (_d2(a21="Y", a23="Y", a24="Y", a25="N"), H),  # unbalanced
        (_d2(a21="Y", a23="Y", a24="NI", a25="NI"), H),
    ],
)
def test_d2_part1(answers, part1):
    assert R.d2_part1(answers) == part1


@pytest.mark.parametrize(
    "a26, a27, part2",
    [("Y", "NA", L), ("PY", "NA", L), ("N", "N", S), ("NI", "PN", S), ("PN", "PY", H), ("NI", "NI", H), ("N", "Y", H)],
)
def test_d2_part2(a26, a27, part2):
    assert R.d2_part2(_d2(a26=a26, a27=a27)) == part2


def test_d2_is_the_worse_of_its_parts():
    assert R.d2_deviations(_d2()) == L
    assert R.d2_deviations(_d2(a22="NI", a23="NI")) == S  # part 1 some concerns, part 2 low
    assert R.d2_deviations(_d2(a26="N", a27="N")) == S  # part 1 low, part 2 some concerns
    assert R.d2_deviations(_d2(a22="NI", a23="NI", a26="N", a27="Y")) == H


@pytest.mark.parametrize(
    "a31, a32, a33, a34, expected",
    [
        ("Y", "NA", "NA", "NA", L),
        ("PY", "NA", "NA", "NA", L),
        ("N", "PY", "NA", "NA", L),  # evidence that missing data did not bias the result
        ("NI", "N", "PN", "NA", L),  # missingness could not depend on the true value
        ("PN", "N", "Y", "N", S),
        ("N", "PN", "NI", "PN", S),
        ("NI", "N", "NI", "NI", H),  # no information at all: the tool proposes high
        ("N", "N", "PY", "Y", H),
    ],
)
def test_d3_missing_data(a31, a32, a33, a34, expected):
    assert R.d3_missing_data({"3.1": a31, "3.2": a32, "3.3": a33, "3.4": a34}) == expected


@pytest.mark.parametrize(
    "answers, expected",
    [
        (("Y", "N", "NA", "NA", "NA"), H),  # inappropriate method
        (("N", "PY", "NA", "NA", "NA"), H),  # measurement differed between groups
        (("N", "N", "N", "NA", "NA"), L),  # assessors blinded
        (("PN", "PN", "Y", "N", "NA"), L),  # aware, but the outcome could not be influenced
        (("N", "N", "Y", "Y", "N"), S),
        (("N", "N", "PY", "PY", "NI"), H),
        (("N", "N", "NI", "NI", "Y"), H),
        (("N", "NI", "N", "NA", "NA"), S),  # 4.2 unknown: blinded assessors only lower it to some concerns
        (("NI", "NI", "PY", "PN", "NA"), S),
        (("N", "NI", "Y", "Y", "PN"), S),
        (("N", "NI", "Y", "Y", "PY"), H),
    ],
)
def test_d4_measurement(answers, expected):
    assert R.d4_measurement(dict(zip(("4.1", "4.2", "4.3", "4.4", "4.5"), answers))) == expected


@pytest.mark.parametrize(
    "a51, a52, a53, expected",
    [
        ("Y", "Y", "N", H),
        ("Y", "N", "PY", H),
        ("NI", "NI", "N", S),
        ("Y", "PN", "NI", S),
        ("Y", "N", "PN", L),
        ("PY", "PN", "N", L),
        ("NI", "N", "N", S),
        ("N", "PN", "PN", S),
    ],
)
def test_d5_reporting(a51, a52, a53, expected):
    assert R.d5_reporting({"5.1": a51, "5.2": a52, "5.3": a53}) == expected


def _domains(*judgements: str) -> dict[str, str]:
    return dict(zip(("D1", "D2", "D3", "D4", "D5"), judgements))


@pytest.mark.parametrize(
    "domains, escalate, expected",
    [
        (_domains(L, L, L, L, L), None, L),
        (_domains(L, S, L, L, L), None, S),
        (_domains(S, S, S, S, S), None, S),  # the standard rule never escalates
        (_domains(L, L, H, L, L), None, H),
        (_domains(S, L, H, L, S), None, H),
        (_domains(S, S, L, L, L), 2, H),  # the optional escalation, a protocol choice
        (_domains(S, L, L, L, L), 2, S),
        (_domains(S, S, L, L, S), 4, S),
        (_domains(L, L, L, L, L), 2, L),
    ],
)
def test_overall_judgement(domains, escalate, expected):
    assert R.overall_judgement(domains, escalate) == expected


def test_algorithms_reject_answers_they_cannot_use():
    with pytest.raises(ValueError, match=r"question 2\.7 is reached by the algorithm but answered 'NA'"):
        R.d2_deviations(_d2(a26="NI", a27="NA"))
    with pytest.raises(ValueError, match=r"question 3\.2: answer 'NI' not allowed"):
        R.d3_missing_data({"3.1": "N", "3.2": "NI", "3.3": "NA", "3.4": "NA"})
    with pytest.raises(ValueError, match=r"question 1\.3 is reached by the algorithm but answered None"):
        R.d1_randomisation({"1.1": "Y", "1.2": "Y"})
    with pytest.raises(ValueError, match="domain 'D6'"):
        R.domain_judgement("D6", {})
    with pytest.raises(ValueError, match="no judgement for domain"):
        R.overall_judgement({"D1": L})
    with pytest.raises(ValueError, match="not a judgement"):
        R.overall_judgement(_domains(L, L, L, L, "unclear"))


def test_rests_on_no_information():
    assert R.favourable({"1.1": "NI", "1.2": "NI", "1.3": "N"}) == {"1.1": "Y", "1.2": "Y", "1.3": "N"}
    assert R.rests_on_no_information("D1", {"1.1": "NI", "1.2": "NI", "1.3": "N"})  # some concerns -> low
    assert not R.rests_on_no_information("D1", {"1.1": "Y", "1.2": "N", "1.3": "NI"})  # high on a reported 'no'
    assert R.rests_on_no_information("D3", {"3.1": "NI", "3.2": "N", "3.3": "NI", "3.4": "NI"})  # high -> low
    assert not R.rests_on_no_information("D5", {"5.1": "PN", "5.2": "PN", "5.3": "PY"})


def test_every_no_information_has_a_favourable_answer_that_the_algorithm_can_use():
    """Replacing NI never leads an algorithm to a question the earlier answers skipped (NA)."""
    for q in E.QUESTIONS:
        assert R.FAVOURABLE[q.id] in q.allowed and R.FAVOURABLE[q.id] != "NA"
    assert set(R.FAVOURABLE) == set(E.QUESTION_IDS)


# ---------------------------------------------------------------------------
# The real answers and judgements
# ---------------------------------------------------------------------------
def test_real_answers_are_complete(ev):
    r = E.load_rob2(ev)
    assert len(r) == len(RESULTS) * len(E.QUESTIONS) == 88
    assert list(dict.fromkeys(r[list(E.RESULT_KEY)].itertuples(index=False, name=None))) == RESULTS
    ni = r[r["answer"] == "NI"]
    assert (ni["status"] == "not_reported").all() and ni["na_reason"].notna().all()
    assert r.loc[r["answer"].isin(["PY", "PN", "NA"]), "derivation"].notna().all()


#: Worked out by hand from data/rob2.csv with the algorithms of the RoB 2 guidance:
#: He 2020 (both time points): D1 1.2 NI, 1.3 N -> some concerns; D2 2.1/2.2 PN (part 1 low), 2.6 NI, 2.7 PN
#: (part 2 some concerns); D3 3.1 PY -> low; D4 4.3 PN -> low; D5 5.1 NI with 5.2/5.3 PN (week 12) or 5.3 NI
#: (week 24) -> some concerns.
#: LUPIL-2 ITT: D1 1.2 NI, 1.3 NI -> some concerns; D2 2.6 Y -> low; D3 3.1 NI, 3.2 N, 3.3 NI, 3.4 NI -> high;
#: D4 low; D5 5.1 NI -> some concerns. LUPIL-2 per-protocol: D2 2.6 N, 2.7 Y -> high; D5 5.3 PY -> high.
EXPECTED = {
    RESULTS[0]: {"D1": S, "D2": S, "D3": L, "D4": L, "D5": S, "overall": S},
    RESULTS[1]: {"D1": S, "D2": S, "D3": L, "D4": L, "D5": S, "overall": S},
    RESULTS[2]: {"D1": S, "D2": L, "D3": H, "D4": L, "D5": S, "overall": H},
    RESULTS[3]: {"D1": S, "D2": H, "D3": H, "D4": L, "D5": H, "overall": H},
}
#: Judgements that would be better with every NI answered favourably.
NO_INFORMATION = {
    RESULTS[0]: {"D1", "D2", "D5", "overall"},
    RESULTS[1]: {"D1", "D2", "D5", "overall"},
    RESULTS[2]: {"D1", "D3", "D5", "overall"},
    RESULTS[3]: {"D1", "D3"},
}


def test_real_judgements_match_the_hand_worked_ones(ev):
    j = R.rob2_judgements(ev)
    assert list(j.columns) == ["study_id", "outcome", "timepoint", "population", "result", "domain", "judgement"] + [
        "rests_on_no_information"
    ]
    for key, expected in EXPECTED.items():
        mine = j[(j[list(E.RESULT_KEY)].apply(tuple, axis=1)) == key]
        assert dict(zip(mine["domain"], mine["judgement"])) == expected, key
        assert set(mine.loc[mine["rests_on_no_information"], "domain"]) == NO_INFORMATION[key], key
    assert set(j["judgement"]) <= set(R.JUDGEMENTS)
    assert j.loc[0, "result"] == "SRI-4 response, week 12, efficacy set"


def test_per_protocol_stays_high_whatever_the_missing_information(table):
    pp = table[table["population"] == "per_protocol"].set_index("domain")
    assert pp.loc["overall", "if_no_information_favourable"] == H
    assert pp.loc["D2", "answers"].endswith("2.6 N · 2.7 Y")


def test_display_tables(ev):
    traffic = R.traffic_light_table(ev)
    assert traffic.shape == (4, 9)
    assert list(traffic.columns[2:]) == [
        "D1 Randomisation",
        "D2 Deviations",
        "D3 Missing data",
        "D4 Measurement",
        "D5 Reporting",
        "Overall",
        "Overall if every NI were favourable",
    ]
    assert traffic.loc[3, "D2 Deviations"] == "× high" and traffic.loc[2, "D3 Missing data"] == "× high †"
    assert traffic.loc[0, "Overall"] == "− some concerns †" and traffic.loc[0, "D4 Measurement"] == "+ low"
    assert len(R.answers_table(ev)) == 20
    rationale = R.rationale_table(ev)
    assert len(rationale) == 88 and rationale.loc[0, "Answer"] == "NI (no information)"
    assert rationale.loc[0, "Source"] == "abstract (Methods); S22"
    assert len(R.questions_table()) == 22


def test_glue_values(ev):
    g = R.glue_values(ev)
    assert g["rob2_n_results"] == "4" and g["rob2_n_trials"] == "2" and g["rob2_trials"] == "He 2020 and LUPIL-2"
    assert g["rob2_n_answers"] == "88" and g["rob2_n_asked"] == "61" and g["rob2_n_ni"] == "22"
    assert g["rob2_pct_ni"] == "36.1%"
    assert (g["rob2_n_low"], g["rob2_n_some"], g["rob2_n_high"]) == ("0", "2", "2")
    assert (
        "LUPIL-2, SRI-4 response, week 12, per-protocol: high overall (high in D2, D3 and D5; some concerns in D1)"
        in (g["rob2_result_sentences"])
    )
    assert "LUPIL-2, SRI-4 response, week 12, ITT, would move from high to low" in g["rob2_no_information_sentence"]
    assert g["rob2_escalation"] == "not applied (the protocol leaves it off)"
    assert all(isinstance(v, str) for v in g.values())


def test_the_chapter_claims_hold(ev):
    assert not failures(ev, "risk_of_bias")


# ---------------------------------------------------------------------------
# The protocol's escalation choice
# ---------------------------------------------------------------------------
def _protocol_with(tmp_path: Path, value: str):
    text = load_protocol().path.read_text(encoding="utf-8")
    edited = text.replace("escalate_some_concerns_from: null", f"escalate_some_concerns_from: {value}")
    assert edited != text
    path = tmp_path / "protocol.yml"
    path.write_text(edited, encoding="utf-8")
    return load_protocol(path)


def test_escalation_is_a_protocol_choice(ev, tmp_path):
    protocol = _protocol_with(tmp_path, "3")
    assert protocol.rob2_escalation == 3
    j = R.rob2_judgements(ev, protocol)
    overall = j[j["domain"] == "overall"].set_index("timepoint")
    he = overall[overall.index.isin(["week_12", "week_24"]) & (overall["study_id"] == "he2020")]
    assert (he["judgement"] == H).all()  # three domains with some concerns
    assert "some concerns in 3 or more domains" in R.glue_values(ev, protocol)["rob2_escalation"]


@pytest.mark.parametrize("value", ["1", "6", "yes"])
def test_escalation_outside_the_tool_is_rejected(tmp_path, value):
    with pytest.raises(ProtocolError, match="risk_of_bias.escalate_some_concerns_from"):
        _protocol_with(tmp_path, value)


def test_quality_score_restriction_cannot_be_switched_on(tmp_path):
    text = (
        load_protocol()
        .path.read_text(encoding="utf-8")
        .replace("restrict_by_quality_score: false", "restrict_by_quality_score: true")
    )
    (tmp_path / "protocol.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError, match="restrict_by_quality_score: found True; expected False"):
        load_protocol(tmp_path / "protocol.yml")


# ---------------------------------------------------------------------------
# Bad input: named by file, line, column, value and expectation
# ---------------------------------------------------------------------------
def _rows(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype="string", keep_default_na=False)


def _where(df: pd.DataFrame, where: dict[str, str]) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1, where
    return mask


def _set(path: Path, where: dict[str, str], **values: str) -> int:
    df = _rows(path)
    mask = _where(df, where)
    for k, v in values.items():
        df.loc[mask, k] = v
    df.to_csv(path, index=False)
    return int(mask.idxmax()) + 2


def _problems():
    with pytest.raises(DataValidationError) as info:
        E.load_rob2(load_evidence())
    assert E.FILE in str(info.value)
    return info.value.problems, str(info.value)


def ROW(question: str, population: str = "analysed_efficacy", timepoint: str = "week_12") -> dict[str, str]:
    study = "he2020" if population == "analysed_efficacy" else "lupil2"
    return {"study_id": study, "timepoint": timepoint, "population": population, "question": question}


BAD = [
    # (row, changes, column, words of the expectation, rule)
    (ROW("1.1"), {"study_id": "he2021"}, "study_id", "study_id of studies.csv", None),
    (ROW("1.1"), {"study_id": "he2016"}, "study_id", "design is 'rct'", "study_is_included_rct"),
    (ROW("1.1"), {"population": "itt"}, "population", "a result of outcomes.csv", "result_in_outcomes"),
    (ROW("1.1"), {"timepoint": "week twelve"}, "timepoint", "pattern", None),
    (ROW("2.6"), {"domain": "D3"}, "domain", "the domain of the question", "domain_matches_question"),
    (ROW("2.6"), {"domain": "D6"}, "domain", "one of", None),
    (ROW("2.6"), {"question": "6.1"}, "question", "one of", None),
    (ROW("2.6"), {"answer": "maybe"}, "answer", "one of", None),
    (
        ROW("1.1"),
        {"answer": "NA", "status": "derived", "derivation": "x"},
        "answer",
        "allows",
        "answer_allowed_for_question",
    ),
    (
        ROW("3.2", "itt"),
        {"answer": "NI", "status": "not_reported", "na_reason": "x"},
        "answer",
        "3.2: Y, PY, PN, N, NA",
        "answer_allowed_for_question",
    ),
    (ROW("1.1"), {"status": "reported"}, "status", "exactly when the answer is NI", "no_information_is_not_reported"),
    (
        ROW("1.3"),
        {"status": "not_reported", "na_reason": "x"},
        "status",
        "exactly when",
        "no_information_is_not_reported",
    ),
    (ROW("2.1"), {"status": "reported"}, "status", "'derived' for a PY, PN or NA answer", "inference_is_derived"),
    (ROW("2.1"), {"derivation": ""}, "derivation", "derivation written out", "derived_needs_derivation"),
    (ROW("1.1"), {"na_reason": ""}, "na_reason", "reason in 'na_reason'", "not_reported_needs_reason"),
    (
        ROW("1.1"),
        {"rationale": "Not described in the abstract."},
        "rationale",
        "names at least one of the row's evidence_ref codes",
        "rationale_cites_its_evidence",
    ),
    (ROW("1.1"), {"rationale": ""}, "rationale", "may not be empty", None),
    (ROW("1.1"), {"source": "he2021"}, "source", "references.bib", None),
    (ROW("1.1"), {"evidence_ref": "S22,S23"}, "evidence_ref", "pattern", None),
]


@pytest.mark.parametrize(
    "where, changes, column, expected, rule", BAD, ids=[f"{c[2]}:{c[4] or c[3][:25]}" for c in BAD]
)
def test_bad_answer_is_rejected(data_copy, where, changes, column, expected, rule):
    line = _set(data_copy / E.FILE, where, **changes)
    problems, message = _problems()
    matches = [p for p in problems if p.column == column and expected in p.expected]
    assert matches, message
    assert any(p.line == line for p in matches), message
    if rule:
        assert any(p.rule == rule for p in matches), [p.rule for p in matches]


def test_message_is_precise(data_copy):
    line = _set(data_copy / E.FILE, ROW("2.6"), domain="D3")
    _, message = _problems()
    assert message == (
        "1 problem(s) in the evidence data:\n"
        f"  - rob2.csv, line {line} (study_id=he2020, outcome=sri4, timepoint=week_12, population=analysed_efficacy, "
        "question=2.6), column 'domain': found 'D3'; expected the domain of the question (question 1.x is in D1, "
        "2.x in D2, ... 5.x in D5)"
    )


def test_na_where_the_tool_asks_is_named(data_copy):
    """He 2020's 2.6 is NI, so the tool asks 2.7: NA there is wrong."""
    line = _set(data_copy / E.FILE, ROW("2.7"), answer="NA")
    problems, message = _problems()
    (problem,) = problems
    assert problem.line == line and problem.column == "answer" and problem.rule == "na_exactly_where_skipped"
    assert problem.expected == "an answer other than NA: the tool asks 2.7 when 2.6 is PN, N or NI, as here", message


def test_an_answer_where_the_tool_skips_is_named(data_copy):
    """He 2020's 2.1 and 2.2 are PN, so the tool does not ask 2.3."""
    line = _set(data_copy / E.FILE, ROW("2.3"), answer="PN")
    problems, message = _problems()
    (problem,) = problems
    assert problem.line == line and problem.value == "PN"
    assert problem.expected == "NA: the tool asks 2.3 only when 2.1 or 2.2 is Y, PY or NI", message


def test_a_changed_answer_that_reopens_a_question_needs_its_answer(data_copy):
    """Answering 2.1 'NI' makes the tool ask 2.3, which is still NA: the build names 2.3."""
    _set(data_copy / E.FILE, ROW("2.1"), answer="NI", status="not_reported", na_reason="x")
    problems, _ = _problems()
    assert [(p.key.split("question=")[1], p.rule) for p in problems] == [("2.3", "na_exactly_where_skipped")]


def test_missing_answer_is_named(data_copy):
    path = data_copy / E.FILE
    df = _rows(path)
    df[~_where(df, ROW("4.2", "per_protocol"))].to_csv(path, index=False)
    problems, _ = _problems()
    (problem,) = problems
    assert str(problem).startswith(
        "rob2.csv (study_id=lupil2, outcome=sri4, timepoint=week_12, population=per_protocol, question=4.2): found no "
        "row; expected an answer to question 4.2"
    )


def test_duplicate_answer_is_named(data_copy):
    path = data_copy / E.FILE
    df = _rows(path)
    pd.concat([df, df[_where(df, ROW("5.1"))]]).to_csv(path, index=False)
    problems, message = _problems()
    assert any("unique key" in p.expected for p in problems), message


def test_missing_and_empty_file_are_named(data_copy):
    path = data_copy / E.FILE
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    _, message = _problems()
    assert "found no rows; expected the RoB 2 signalling answers" in message
    path.unlink()
    with pytest.raises(DataValidationError, match="rob2.csv: found an empty cell; expected the file to exist"):
        E.load_rob2(load_evidence())


# ---------------------------------------------------------------------------
# The chapter's guarded sentences fail by name when the answers change
# ---------------------------------------------------------------------------
def test_claims_fail_when_the_answers_no_longer_support_them(data_copy):
    path = data_copy / E.FILE
    _set(path, ROW("5.3", "per_protocol"), answer="PN")
    for question in ("3.1", "3.3", "3.4"):  # SYNTHETIC: missing data and their reasons reported
        answer = "N" if question == "3.1" else "Y"
        _set(path, ROW(question, "itt"), answer=answer, status="derived", derivation="SYNTHETIC", na_reason="")
    found = failures(load_evidence(), "risk_of_bias")
    assert found["rob2_per_protocol_high"] == ["lupil2 SRI-4 response, week 12, per-protocol: D5 is some_concerns"]
    assert found["rob2_primary_high_rests_on_no_information"] == [
        "lupil2 SRI-4 response, week 12, ITT: D3 is high on reported facts"
    ]
