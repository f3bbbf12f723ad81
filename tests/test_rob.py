"""Risk of bias (helpers.review.rob): the instrument and ratings load, bad input is named precisely,
scores and bands match hand-worked examples, and both figures render."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.colors import to_hex

from helpers.evidence import rob_tables as E
from helpers.evidence.load import DataValidationError, load_evidence
from helpers.report.style import as_svg
from helpers.review import rob as R

INCLUDED = ["he2016", "vonspeemayer2016", "proimmun", "he2020", "lupil2"]

#: Totals worked out by hand from data/risk_of_bias.csv (answers x points of data/downs_black_items.csv):
#: He 2016: items 1-4 yes (4) + item 5 partially (1) = 5 (item 17 unable to determine: 40 enrolled, 38 analysed)
#: von Spee-Mayer 2016: items 1 and 4 yes = 2
#: PRO-IMMUN: items 1-4, 6, 9, 10 yes (7) + items 17, 26 yes (2) = 9 (items 3, 6, 9, 10, 17, 26 from N2; 4 from N1/N2)
#: He 2020: items 1-4, 6, 8, 10 yes (7) + item 5 yes (2) + items 14, 15, 20 (3) + items 21-23 (3) = 15
#: (item 17 unable to determine: 30 randomised to IL-2, 29 analysed)
#: LUPIL-2: items 1-4, 6, 10 (6) + items 14-17, 20 (5) + items 21-23 (3) = 14
HAND_TOTALS = {
    "he2016": 5,
    "vonspeemayer2016": 2,
    "proimmun": 9,
    "he2020": 15,
    "lupil2": 14,
}
HAND_BANDS = {"he2016": "poor", "vonspeemayer2016": "poor", "proimmun": "poor", "he2020": "fair", "lupil2": "poor"}


@pytest.fixture(scope="module")
def rob() -> E.RiskOfBias:
    return E.load_risk_of_bias()


# ---------------------------------------------------------------------------
# The real data
# ---------------------------------------------------------------------------
def test_instrument_has_27_items_in_five_domains_with_maximum_28(rob):
    items = rob.items
    assert items["item"].tolist() == list(range(1, 28))
    counts = items.groupby("domain", sort=False).size().to_dict()
    assert counts == {
        "reporting": 10,
        "external_validity": 3,
        "internal_validity_bias": 7,
        "internal_validity_confounding": 6,
        "power": 1,
    }
    assert rob.points[5] == {"yes": 2, "partially": 1, "no": 0, "unable_to_determine": 0}
    assert rob.points[27] == {"yes": 1, "no": 0, "unable_to_determine": 0}
    assert sum(max(p.values()) for p in rob.points.values()) == E.MAX_SCORE == 28


def test_every_included_study_is_rated_on_every_item_once(rob):
    r = rob.ratings
    assert len(r) == len(INCLUDED) * 27
    assert rob.studies["study_id"].tolist() == INCLUDED
    assert (r.groupby("study_id").size() == 27).all()
    assert not r.duplicated(["study_id", "item"]).any()


def test_unable_to_determine_is_never_a_guess(rob):
    r = rob.ratings
    unable = r[r["answer"] == "unable_to_determine"]
    assert (unable["status"] == "not_reported").all() and unable["na_reason"].notna().all()
    assert (r.loc[r["status"] == "derived", "derivation"].notna()).all()


def test_no_score_is_stored(rob):
    stored = set(rob.ratings.columns) | set(rob.items.columns)
    assert not stored & {"score", "total", "band", "max_score", "domain_score"}


# ---------------------------------------------------------------------------
# Scoring and banding against hand-worked examples
# ---------------------------------------------------------------------------
def test_totals_and_bands_match_the_hand_worked_values(rob):
    scores = R.study_scores(rob).set_index("study_id")
    assert scores["score"].to_dict() == HAND_TOTALS
    assert scores["band"].to_dict() == HAND_BANDS
    assert (scores["max_score"] == 28).all()
    assert scores.loc["he2016", ["n_yes", "n_partially", "n_no", "n_unable_to_determine"]].tolist() == [4, 1, 4, 18]


def test_follow_up_item_reflects_patients_not_analysed(rob):
    """Issue 16: He 2016 enrolled 40 and a commentary analysed 38 (S7, S10); He 2020 analysed 29 of its 30 IL-2
    patients (S23, S25). Neither source says why, so 'same follow-up for everyone' cannot be determined."""
    r = rob.ratings.set_index(["study_id", "item"])
    for study, codes in (("he2016", ("S7", "S10")), ("he2020", ("S23", "S25"))):
        row = r.loc[(study, 17)]
        assert row["answer"] == "unable_to_determine" and row["status"] == "not_reported"
        assert all(code in row["evidence_ref"] for code in codes) and "not reported" in row["na_reason"]
    assert "40 enrolled versus 38 analysed" in r.loc[("he2016", 17), "na_reason"]


def test_domain_scores_of_he2020_by_hand(rob):
    ds = R.domain_scores(rob)
    he = ds[ds["study_id"] == "he2020"].set_index("domain")
    # reporting: items 1-4, 6, 8, 10 yes (7) + item 5 yes (2) = 9 of 11;
    # bias: 14, 15, 20 = 3 of 7 (17 unable to determine); confounding: 21-23 = 3 of 6
    assert he["score"].to_dict() == {
        "reporting": 9,
        "external_validity": 0,
        "internal_validity_bias": 3,
        "internal_validity_confounding": 3,
        "power": 0,
    }
    assert he["max_score"].to_dict() == {
        "reporting": 11,
        "external_validity": 3,
        "internal_validity_bias": 7,
        "internal_validity_confounding": 6,
        "power": 1,
    }
    assert ds.groupby("study_id")["score"].sum().to_dict() == HAND_TOTALS


def _answers(default: str, **by_item: str) -> dict[int, str]:
    out = {i: default for i in range(1, 28)}
    out.update({int(k.removeprefix("i")): v for k, v in by_item.items()})
    return out


def test_total_score_hand_worked_examples(rob):
    pts = rob.points
    assert R.total_score(_answers("yes"), pts) == 28  # 26 items x 1 + item 5 x 2
    assert R.total_score(_answers("unable_to_determine"), pts) == 0
    assert R.total_score(_answers("no"), pts) == 0
    assert R.total_score(_answers("yes", i5="partially"), pts) == 27
    assert R.total_score(_answers("yes", i27="no", i14="unable_to_determine"), pts) == 26
    # He 2016 by hand: 1-4 yes, 5 partially, 14/15/23/24 no, the rest unable to determine = 5
    he2016 = _answers(
        "unable_to_determine",
        i1="yes",
        i2="yes",
        i3="yes",
        i4="yes",
        i5="partially",
        i14="no",
        i15="no",
        i23="no",
        i24="no",
    )
    assert R.total_score(he2016, pts) == 5


def test_total_score_rejects_bad_answers(rob):
    pts = rob.points
    with pytest.raises(ValueError, match="item 3: answer 'partially' not allowed"):
        R.total_score(_answers("yes", i3="partially"), pts)
    incomplete = _answers("yes")
    del incomplete[12]
    with pytest.raises(ValueError, match=r"no answer for item\(s\) \[12\]"):
        R.total_score(incomplete, pts)
    with pytest.raises(ValueError, match="item 28 is not an item"):
        R.total_score({**_answers("yes"), 28: "yes"}, pts)


@pytest.mark.parametrize(
    "score, band",
    [
        (0, "poor"),
        (6, "poor"),
        (14, "poor"),
        (15, "fair"),
        (16, "fair"),
        (19, "fair"),
        (20, "good"),
        (25, "good"),
        (26, "excellent"),
        (28, "excellent"),
    ],
)
def test_quality_band_edges(score, band):
    assert R.quality_band(score) == band


@pytest.mark.parametrize("bad", [-1, 29, 14.5, True, "15"])
def test_quality_band_rejects_bad_scores(bad):
    with pytest.raises((ValueError, TypeError)):
        R.quality_band(bad)


def test_quality_band_only_for_the_adopted_maximum():
    with pytest.raises(ValueError, match="maximum of 28"):
        R.quality_band(20, max_score=32)


def test_bands_cover_every_score_once():
    covered = [s for b in E.BANDS for s in range(b.low, b.high + 1)]
    assert sorted(covered) == list(range(0, 29))


def test_parse_points():
    assert E.parse_points("yes=2; partially=1; no=0; unable_to_determine=0") == {
        "yes": 2,
        "partially": 1,
        "no": 0,
        "unable_to_determine": 0,
    }
    for bad in ("yes:1", "maybe=1", "yes=1;; no=0", "yes=1; yes=0", ""):
        with pytest.raises(ValueError):
            E.parse_points(bad)


# ---------------------------------------------------------------------------
# The bands reproduce the review's tool and restrict nothing (issue 16)
# ---------------------------------------------------------------------------
def test_quality_bands_restrict_no_analysis():
    """No helper selects studies by band any more, and the protocol records that none may."""
    from helpers.evidence.protocol import load_protocol

    assert not hasattr(R, "studies_meeting") and not hasattr(R, "restrict_to_quality")
    assert load_protocol().raw["risk_of_bias"]["restrict_by_quality_score"] is False


# ---------------------------------------------------------------------------
# Bad input: every rule rejects it and names file, line, column, value and expectation
# ---------------------------------------------------------------------------
def _rows(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype="string", keep_default_na=False)


def _set(path: Path, where: dict[str, str], **values: str) -> int:
    """Set cells of the one row matching ``where``; return its CSV line number."""
    df = _rows(path)
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1, where
    for k, v in values.items():
        df.loc[mask, k] = v
    df.to_csv(path, index=False)
    return int(mask.idxmax()) + 2


def _drop(path: Path, where: dict[str, str]) -> None:
    df = _rows(path)
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1
    df[~mask].to_csv(path, index=False)


def _problems(filename: str):
    with pytest.raises(DataValidationError) as info:
        E.load_risk_of_bias(load_evidence())
    message = str(info.value)
    assert filename in message
    return info.value.problems, message


ITEM = {"item": "11"}
BAD_ITEMS = [
    # (row, changes, column, words of the expectation, rule)
    (ITEM, {"domain": "reporting"}, "domain", "Downs and Black domain of the item", "domain_matches_item"),
    (ITEM, {"domain": "selection"}, "domain", "one of", None),
    (
        ITEM,
        {"points": "yes=1; yes=0; unable_to_determine=0"},
        "points",
        "each answer listed once",
        "points_answers_unique",
    ),
    (
        ITEM,
        {"points": "yes=1; no=0"},
        "points",
        "at least yes, no and unable_to_determine",
        "points_allow_yes_no_unable",
    ),
    (
        ITEM,
        {"points": "yes=1; no=0; unable_to_determine=1"},
        "points",
        "unable_to_determine worth 0",
        "unable_to_determine_scores_zero",
    ),
    (ITEM, {"points": "yes=1; no=1; unable_to_determine=0"}, "points", "no worth 0", "no_scores_zero"),
    (ITEM, {"points": "yes=0; no=0; unable_to_determine=0"}, "points", "yes worth the most", "yes_scores_most"),
    (ITEM, {"points": "yes:1, no:0"}, "points", "pattern", None),
    (ITEM, {"item": "28"}, "item", "a value from 1 to 27", None),
    (ITEM, {"item": "eleven"}, "item", "a whole number", None),
    (ITEM, {"label": ""}, "label", "may not be empty", None),
    (ITEM, {"short_label": "A much too long short label for a plot row"}, "short_label", "at most 32 characters", None),
    (ITEM, {"source": "downs1999"}, "source", "references.bib", None),
    (ITEM, {"evidence_ref": "S3,S4"}, "evidence_ref", "pattern", None),
    ({"item": "1"}, {"derivation": ""}, "derivation", "derivation written out", "derived_needs_derivation"),
    (ITEM, {"status": "verified"}, "status", "one of", None),
]


def _assert_rejected(data_copy, filename, where, changes, column, expected, rule) -> str:
    """Apply one bad edit; the problem must name the file, line, column, expectation (and rule)."""
    line = _set(data_copy / filename, where, **changes)
    problems, message = _problems(filename)
    matches = [p for p in problems if p.file == filename and p.column == column and expected in p.expected]
    assert matches, message
    assert any(p.line == line for p in matches), message
    if rule:
        assert any(p.rule == rule for p in matches), [p.rule for p in matches]
    return message


@pytest.mark.parametrize(
    "where, changes, column, expected, rule", BAD_ITEMS, ids=[f"items:{c[2]}:{c[3][:30]}" for c in BAD_ITEMS]
)
def test_bad_instrument_is_rejected(data_copy, where, changes, column, expected, rule):
    message = _assert_rejected(data_copy, E.ITEMS_FILE, where, changes, column, expected, rule)
    value = next(iter(changes.values()))
    if value:
        assert repr(value) in message or value in message


def test_instrument_missing_an_item(data_copy):
    _drop(data_copy / E.ITEMS_FILE, {"item": "27"})
    problems, message = _problems(E.ITEMS_FILE)
    assert message.endswith(
        "downs_black_items.csv (item=27): found no row; expected a row for item 27 (the instrument has items 1 to 27)"
    )


def test_instrument_duplicate_item(data_copy):
    path = data_copy / E.ITEMS_FILE
    df = _rows(path)
    pd.concat([df, df[df["item"] == "3"]]).to_csv(path, index=False)
    problems, message = _problems(E.ITEMS_FILE)
    assert any(p.column == "item" and "unique key" in p.expected for p in problems), message


def test_instrument_maximum_must_be_28(data_copy):
    _set(data_copy / E.ITEMS_FILE, {"item": "27"}, points="yes=5; no=0; unable_to_determine=0")
    problems, message = _problems(E.ITEMS_FILE)
    (problem,) = problems
    assert problem.value == 32 and "adding up to 28" in problem.expected and problem.column == "points"


def RATING(study: str = "he2020", item: str = "24") -> dict[str, str]:
    return {"study_id": study, "item": item}


BAD_RATINGS = [
    (RATING(), {"study_id": "he2021"}, "study_id", "study_id of studies.csv", None),
    (RATING(), {"study_id": "transreg"}, "study_id", "inclusion_status is 'included'", "study_is_included"),
    (RATING(), {"item": "28"}, "item", "item of downs_black_items.csv", None),
    (RATING(), {"item": "x"}, "item", "a whole number", None),
    (RATING(), {"answer": "maybe"}, "answer", "one of", None),
    (
        RATING(),
        {"answer": "partially", "status": "reported", "na_reason": ""},
        "answer",
        "allows for the item (item 5: yes, partially, no, unable_to_determine; every other item: yes, no, unable_to_determine)",
        "answer_allowed_for_item",
    ),
    (
        RATING(),
        {"status": "reported"},
        "status",
        "exactly when the answer is 'unable_to_determine'",
        "unable_to_determine_is_not_reported",
    ),
    (
        RATING(item="23"),
        {"status": "not_reported", "na_reason": "not read"},
        "status",
        "exactly when the answer is 'unable_to_determine'",
        "unable_to_determine_is_not_reported",
    ),
    (RATING(), {"na_reason": ""}, "na_reason", "reason in 'na_reason'", "not_reported_needs_reason"),
    (RATING(item="22"), {"derivation": ""}, "derivation", "derivation written out", "derived_needs_derivation"),
    (
        RATING(),
        {"rationale": "Concealment is not described in the abstract."},
        "rationale",
        "names at least one of the row's evidence_ref codes",
        "rationale_cites_its_evidence",
    ),
    (
        RATING(),
        {"rationale": "Concealment is not described (S2)."},
        "rationale",
        "names at least one of the row's evidence_ref codes",
        "rationale_cites_its_evidence",
    ),
    (RATING(), {"rationale": ""}, "rationale", "may not be empty", None),
    (RATING(), {"source": "he2021"}, "source", "references.bib", None),
    (RATING(), {"evidence_ref": "S22;S23"}, "evidence_ref", "pattern", None),
]


@pytest.mark.parametrize(
    "where, changes, column, expected, rule", BAD_RATINGS, ids=[f"ratings:{c[2]}:{c[3][:30]}" for c in BAD_RATINGS]
)
def test_bad_rating_is_rejected(data_copy, where, changes, column, expected, rule):
    _assert_rejected(data_copy, E.RATINGS_FILE, where, changes, column, expected, rule)


def test_rating_message_is_precise(data_copy):
    line = _set(data_copy / E.RATINGS_FILE, RATING(item="3"), answer="partially")
    problems, message = _problems(E.RATINGS_FILE)
    assert message == (
        "1 problem(s) in the evidence data:\n"
        f"  - risk_of_bias.csv, line {line} (study_id=he2020, item=3), column 'answer': found 'partially'; "
        "expected an answer that downs_black_items.csv allows for the item (item 5: yes, partially, no, "
        "unable_to_determine; every other item: yes, no, unable_to_determine)"
    )


def test_missing_rating_is_named(data_copy):
    _drop(data_copy / E.RATINGS_FILE, RATING(study="lupil2", item="27"))
    problems, message = _problems(E.RATINGS_FILE)
    (problem,) = problems
    assert str(problem) == (
        "risk_of_bias.csv (study_id=lupil2, item=27): found no row; expected a rating of this "
        "item for this included study (every included study is rated on every item)"
    )


def test_unrated_included_study_is_named(data_copy):
    path = data_copy / E.RATINGS_FILE
    df = _rows(path)
    df[df["study_id"] != "proimmun"].to_csv(path, index=False)
    problems, _ = _problems(E.RATINGS_FILE)
    assert len(problems) == 27 and all("study_id=proimmun" in p.key for p in problems)


def test_duplicate_rating_is_named(data_copy):
    path = data_copy / E.RATINGS_FILE
    df = _rows(path)
    pd.concat([df, df[(df["study_id"] == "he2016") & (df["item"] == "9")]]).to_csv(path, index=False)
    problems, message = _problems(E.RATINGS_FILE)
    assert any("unique key (study_id, item)" in p.expected for p in problems), message


def test_missing_file_is_named(data_copy):
    (data_copy / E.RATINGS_FILE).unlink()
    with pytest.raises(DataValidationError, match="risk_of_bias.csv: found an empty cell; expected the file to exist"):
        E.load_risk_of_bias(load_evidence())


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------
def test_display_tables(rob):
    matrix = R.rating_matrix(rob)
    assert matrix.shape == (27, 1 + len(INCLUDED))
    assert matrix.loc[4, "He 2016"] == "− partially" and matrix.loc[0, "He 2020"] == "+ yes"
    assert matrix.loc[22, "PRO-IMMUN"] == "× no" and matrix.loc[26, "LUPIL-2"] == "? unable to determine"
    scores = R.scores_table(rob)
    assert scores["Total (of 28)"].tolist() == list(HAND_TOTALS.values())
    assert scores.loc[3, "Reporting"] == "9 of 11" and scores.loc[0, "Unable to determine"] == "18 of 27 (67%)"
    assert len(R.rationale_table(rob)) == 135
    instrument = R.instrument_table(rob)
    assert (
        len(instrument) == 27
        and instrument.loc[4, "Answers and points"] == "yes 2; partially 1; no 0; unable to determine 0"
    )


def test_glue_values(rob):
    g = R.glue_values(rob)
    assert g["rob_n_ratings"] == "135" and g["rob_max_score"] == "28"
    assert g["rob_score_he2020"] == "15" and g["rob_band_of_lupil2"] == "poor"
    assert g["rob_n_poor"] == "4" and g["rob_n_unable"] == "75" and g["rob_pct_unable"] == "55.6%"
    assert g["rob_rcts_poor"] == "LUPIL-2, a randomised trial, falls in the poor band"
    assert g["rob_unable_by_study"].startswith("He 2016 18 of 27 (67%), von Spee-Mayer 2016 19 of 27 (70%)")
    assert not any("meeting" in k or "fair_consequence" in k for k in g)
    assert g["rob_band_good"] == "20 to 25" and g["rob_max_reporting"] == "11"
    assert all(isinstance(v, str) for v in g.values())


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------
def test_traffic_light_has_one_cell_per_rating(rob):
    fig = R.traffic_light_figure(rob)
    ax = fig.axes[0]
    cells = {c.get_gid(): c for c in ax.collections}
    counts = rob.ratings["answer"].value_counts().to_dict()
    assert sum(len(c.get_offsets()) for c in cells.values()) == 135
    for answer in E.ANSWERS:
        coll = cells[f"rob-cells-{answer}"]
        assert len(coll.get_offsets()) == counts.get(answer, 0)
        if len(coll.get_offsets()):
            assert to_hex(coll.get_facecolor()[0]) == R.ANSWER_COLOURS[answer].lower()
    texts = [t.get_text() for t in ax.texts]
    symbols = [t for t in texts if t in E.ANSWER_SYMBOLS.values()]
    assert len(symbols) == 135  # the answer reads without colour
    for label in ("He 2016", "LUPIL-2", "PRO-IMMUN", "He 2020"):
        assert label in texts
    assert "von Spee-Mayer\n2016" in texts
    assert {"5", "2", "15", "14"} <= set(texts) and "fair" in texts
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Yes", "Partially", "No", "Unable to determine"]


def test_traffic_light_circles_are_distinct_colours_and_symbols():
    assert len(set(R.ANSWER_COLOURS.values())) == len(E.ANSWERS)
    assert len(set(E.ANSWER_SYMBOLS.values())) == len(E.ANSWERS)


def test_summary_has_one_bar_per_domain_and_answer(rob):
    fig = R.summary_figure(rob)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if (p.get_gid() or "").startswith("rob-bar-")]
    assert len(bars) == len(E.DOMAINS) * len(E.ANSWERS) == 20
    for domain, *_ in E.DOMAINS:
        widths = [p.get_width() for p in bars if p.get_gid().startswith(f"rob-bar-{domain}-")]
        assert sum(widths) == pytest.approx(100)
    reporting_unable = next(p for p in bars if p.get_gid() == "rob-bar-reporting-unable_to_determine")
    # 22 of the 50 reporting ratings (26 before N2 answered PRO-IMMUN's items 3, 6, 9 and 10)
    assert reporting_unable.get_width() == pytest.approx(100 * 22 / 50)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("Reporting") and "10 items × 5 studies" in labels[0]
    assert "? 100%" in [t.get_text() for t in ax.texts]


def test_figures_are_deterministic_svg(rob):
    a = as_svg(R.traffic_light_figure(rob)).data
    b = as_svg(R.traffic_light_figure(rob)).data
    assert a == b and "<svg" in a
    assert as_svg(R.summary_figure(rob)).data == as_svg(R.summary_figure(rob)).data


def test_text_descriptions(rob):
    for alt in (R.traffic_light_alt_text(), R.summary_alt_text()):
        assert not any(ch.isdigit() for ch in alt)
    long = R.traffic_light_description(rob)
    assert "He 2016: yes on items 1–4; partially on item 5; no on items 14, 15, 23 and 24" in long
    assert "total 15 of 28, fair" in long
    summary = R.summary_description(rob)
    assert "Reporting (50 ratings)" in summary and "Power (5 ratings)" in summary
