"""Baseline characteristics and study context (helpers.evidence.clinical_tables, helpers.review.study_tables):
the real values load, bad input is named precisely, and the tables, the cumulative dose and the sentences built
from them give the values worked out by hand from data/ and the evidence dossier."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.chapters import prisma as prisma_chapter
from helpers.chapters import treg as treg_chapter
from helpers.evidence import clinical_tables as C
from helpers.evidence.load import DataValidationError, load_evidence
from helpers.report.prose import NOT_REPORTED
from helpers.review import study_tables as T
from helpers.review import treg
from tests.conftest import edit_file


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


# ---------------------------------------------------------------------------
# The real values (He 2020 Table 1, S23; He 2016 Suppl. Tables S1-S2, S6; dossier trials.md)
# ---------------------------------------------------------------------------
def test_real_baseline_values(ev):
    b = C.load_baseline(ev).set_index(["study_id", "arm", "population", "characteristic"])
    hcq = b.loc[("he2020", "il2", "randomised", "hydroxychloroquine")]
    assert (hcq["events"], hcq["total"], hcq["percent"], hcq["p_value"]) == (29, 30, 96.67, "1.000")
    assert (hcq["source"], hcq["locator"], hcq["evidence_ref"], hcq["status"]) == (
        "he2020",
        "Table 1",
        "S23",
        "reported",
    )
    csa = b.loc[("he2020", "placebo", "randomised", "cyclosporine")]
    assert (csa["events"], csa["total"]) == (5, 30)
    assert b.loc[("he2020", "il2", "randomised", "cyclosporine"), "p_value"] == "0.052"
    sledai = b.loc[("he2020", "il2", "randomised", "selena_sledai")]
    assert (sledai["median"], sledai["lower"], sledai["upper"], sledai["p_value"]) == (12, 8, 27, "0.351")
    pga = b.loc[("he2020", "placebo", "randomised", "pga")]
    assert (pga["median"], pga["lower"], pga["upper"]) == (2.2, 1, 2.3)
    ln = b.loc[("he2020", "il2", "subgroup", "lupus_nephritis")]
    assert ln["events"] == 13 and pd.isna(ln["total"]) and "30 randomised, 29 analysed" in ln["na_reason"]
    assert b.loc[("he2020", "placebo", "subgroup", "lupus_nephritis"), "events"] == 12
    assert (b.loc[("he2016", "il2", "enrolled", "mycophenolate_mofetil"), ["events", "total"]].tolist()) == [14, 40]
    weight = b.loc[("he2016", "il2", "enrolled", "weight_kg")]
    assert (weight["median"], weight["lower"], weight["upper"], weight["evidence_ref"]) == (54, 42, 80, "S6")
    age = b.loc[("he2016", "conventional", "enrolled", "age_years")]
    assert (age["median"], age["lower"], age["upper"], age["total"], age["locator"]) == (
        30,
        18,
        62,
        15,
        "Suppl. Table S2",
    )
    assert len(b) == 38


def test_real_study_context(ev):
    c = C.load_study_context(ev).set_index(["study_id", "fact"])
    assert len(c) == 40  # 5 included studies x 8 facts
    assert (c.loc[("lupil2", "sponsor"), "value"], c.loc[("lupil2", "sponsor"), "evidence_ref"]) == (
        "Iltoo Pharma",
        "S32",
    )
    assert c.loc[("proimmun", "entry_criteria"), ["value", "evidence_ref"]].tolist() == [
        "Active SLE with SLEDAI ≥6",
        "N2",
    ]
    assert c.loc[("he2016", "entry_criteria"), "value"].startswith("Active SLE with SLEDAI ≥8")
    seven = c.loc[("he2020", "injections_per_cycle")]
    assert (seven["value"], seven["status"]) == ("7", "derived") and "days 1, 3, 5, 7, 9, 11 and 13" in seven[
        "derivation"
    ]
    assert c.loc[("vonspeemayer2016", "injections_per_cycle"), ["value", "status"]].tolist() == ["5", "reported"]
    assert c.loc[("lupil2", "injections_per_cycle"), "status"] == "not_reported"
    assert c.loc[("he2020", "sponsor"), "evidence_ref"] == "N12"
    assert (c.xs("glucocorticoid_taper", level="fact")["status"] == "not_reported").all()


# ---------------------------------------------------------------------------
# Display tables
# ---------------------------------------------------------------------------
def test_clinical_table_patients(ev):
    t = T.clinical_table(ev, "patients").set_index("Characteristic")
    assert list(t.columns) == [
        "Domain",
        "He 2016, IL-2",
        "He 2016, conventional therapy",
        "He 2020, IL-2",
        "He 2020, placebo",
        "He 2020, p between arms",
        "Source",
    ]
    assert t.loc["Age, years", "He 2020, IL-2"] == "mean 31.58 (SD 9.25)"
    assert t.loc["Age, years", "He 2016, IL-2"] == "median 31 (range 18–60)"
    assert t.loc["Age, years", "He 2016, conventional therapy"] == "median 30 (range 18–62)"
    assert (
        t.loc["Female", "He 2020, placebo"] == "29/30 (96.7%)" and t.loc["Female", "He 2020, p between arms"] == "0.612"
    )
    # Table 1 and Table 2 agree on SELENA-SLEDAI (one value) and differ on prednisone (both shown; dossier D1)
    assert t.loc["SELENA-SLEDAI, points", "He 2020, IL-2"] == "median 12 (range 8–27)"
    assert t.loc["SELENA-SLEDAI, points", "Source"] == "He 2020: S23 Table 1, S24 Table 2"
    assert t.loc["Age, years", "Source"] == "He 2016: S6 Suppl. Table S1, S6 Suppl. Table S2; He 2020: S23 Table 1"
    assert t.loc["Prednisone dose, mg/day", "He 2020, IL-2"] == (
        "Table 1: median 12.5 (range 0–50); Table 2: median 15 (range 0–50)"
    )
    assert t.loc["Prednisone dose, mg/day", "He 2020, placebo"] == (
        "Table 1: median 15 (range 5–50); Table 2: median 15 (range 7.5–60)"
    )
    assert t.loc["Prednisone dose, mg/day", "He 2016, IL-2"] == "median 30 (range 0–60)"
    assert t.loc["Prednisone dose, mg/day", "He 2020, p between arms"] == "0.331"
    assert t.loc["Disease duration, months", "He 2016, IL-2"] == NOT_REPORTED
    assert list(t["Domain"].loc[t["Domain"] != ""]) == ["Demographics", "Disease activity", "Glucocorticoid"]


def test_clinical_table_manifestations(ev):
    t = T.clinical_table(ev, "manifestations").set_index("Characteristic")
    # He 2016 reports no organ manifestation or serology: its columns are left out, and so is p (none reported)
    assert list(t.columns) == ["Domain", "He 2020, IL-2", "He 2020, placebo", "Source"]
    assert t.loc["Arthritis", "He 2020, IL-2"] == "14/29 (48.3%)"
    assert t.loc["Rash", "He 2020, placebo"] == "16/30 (53.3%)"
    assert t.loc["Alopecia", "He 2020, IL-2"] == "12/29 (41.4%)"
    assert t.loc["Oral ulceration", "He 2020, IL-2"] == "4/29 (13.8%)"
    assert t.loc["Vasculitis", "He 2020, placebo"] == "2/30 (6.7%)"
    assert t.loc["Lupus nephritis", "He 2020, IL-2"] == "13 (denominator not reported)"
    assert t.loc["Anti-dsDNA, IU/mL", "He 2020, IL-2"] == "median 34.8 (range 1–1,783.15)"
    assert t.loc["Anti-dsDNA, IU/mL", "He 2020, placebo"] == "median 73.3 (range 1–2,525.53)"
    assert "ANA decreased" not in t.index  # a change, not a baseline value


def test_background_table(ev):
    t = T.background_table(ev).set_index("Characteristic")
    assert t.loc["Hydroxychloroquine", "He 2016, IL-2"] == "37/40 (92.5%)"
    assert t.loc["Cyclosporine", "He 2020, placebo"] == "5/30 (16.7%)"
    assert t.loc["Cyclosporine", "He 2020, p between arms"] == "0.052"
    assert t.loc["Tacrolimus", "He 2016, IL-2"] == NOT_REPORTED  # no such row in Suppl. Table S1
    assert len(t) == 9


def test_discrepancy_sentence(ev):
    text = prisma_chapter.discrepancy_text(ev)
    assert text.startswith(
        "He 2020's baseline prednisone dose (mg/day) differs between its report's Table 1 (randomised) and Table 2"
    )
    assert "IL-2 arm median 12.5 (range 0–50) vs median 15 (range 0–50)" in text
    assert "The placebo arm counts the same 30 patients in both" in text
    assert "IL-2 arm counts the same" not in text  # 30 randomised, 29 analysed


def test_applicability_tables(ev):
    patients, treatment = T.applicability_tables(ev)
    p, t = patients.set_index("Study"), treatment.set_index("Study")
    assert list(p.index) == ["He 2016", "von Spee-Mayer 2016", "PRO-IMMUN", "He 2020", "LUPIL-2"]
    assert p.loc["PRO-IMMUN", "Entry criteria"] == "Active SLE with SLEDAI ≥6 [N2]"
    assert p.loc["He 2020", "Refractory disease required"] == NOT_REPORTED
    assert p.loc["He 2016", "Prednisone at baseline, IL-2 arm (mg/day)"] == "median 30 (range 0–60)"
    assert p.loc["He 2020", "Lupus nephritis at baseline"] == (
        "IL-2 13 (denominator not reported); placebo 12 (denominator not reported)"
    )
    assert t.loc["LUPIL-2", "Sponsor"] == "Iltoo Pharma [S32]"
    assert t.loc["PRO-IMMUN", "IL-2 product"] == "Aldesleukin (Proleukin) [S14; N2]"
    assert t.loc["He 2020", "Cumulative IL-2 dose per patient"] == "21 MIU (1 MIU × 7 injections × 3 cycles; derived)"
    assert t.loc["PRO-IMMUN", "Cumulative IL-2 dose per patient"] == (
        "15–60 MIU (0.75–3 MIU × 5 injections × 4 cycles; derived)"
    )
    assert t.loc["LUPIL-2", "Cumulative IL-2 dose per patient"].startswith("not computable: injections per cycle (")
    assert (t["Glucocorticoid taper rule"] == NOT_REPORTED).all()


def test_cumulative_doses_by_hand(ev):
    d = T.cumulative_doses(ev).set_index("study_id")
    assert d.loc["he2016", ["low", "high"]].tolist() == [21.0, 21.0]  # 1 × 7 × 3
    assert d.loc["vonspeemayer2016", ["low", "high"]].tolist() == [7.5, 7.5]  # 1.5 × 5 × 1
    assert d.loc["proimmun", ["low", "high"]].tolist() == [15.0, 60.0]  # 0.75 × 5 × 4 to 3.0 × 5 × 4
    assert d.loc["he2020", "derived"] and not d.loc["vonspeemayer2016", "derived"]
    assert d["low"].isna().sum() == 1 and "not a cyclic regimen" in d.loc["lupil2", "reason"]


def test_cumulative_dose_follows_the_data(data_copy):
    edit_file(
        data_copy / "studies.csv",
        "rhIL-2,1.0,,,every other day,3,12 weeks of treatment",
        "rhIL-2,1.0,,,every other day,2,12 weeks of treatment",
    )
    edit_file(
        data_copy / "study_context.csv",
        "lupil2,injections_per_cycle,,not_reported",
        "lupil2,injections_per_cycle,5,reported",
    )
    edit_file(
        data_copy / "studies.csv",
        'ILT-101 (IL-2),1.5,,,"daily for 5 days, then weekly",,',
        'ILT-101 (IL-2),1.5,,,"daily for 5 days, then weekly",1,',
    )
    d = T.cumulative_doses(load_evidence()).set_index("study_id")
    assert d.loc["he2020", "low"] == 14.0  # 1 × 7 × 2
    assert d.loc["lupil2", ["low", "high"]].tolist() == [7.5, 7.5] and d.loc["lupil2", "reason"] == ""
    text = prisma_chapter.cumulative_sentences(load_evidence())
    assert "14 MIU in He 2020" in text and "cannot be computed" not in text


def test_applicability_sentences(ev):
    values = prisma_chapter.applicability_values(ev)
    assert values["ctx_refractory_text"] == (
        "Refractory disease was an entry requirement in He 2016, von Spee-Mayer 2016 and PRO-IMMUN. "
        "The consulted sources of He 2020 and LUPIL-2 do not say."
    )
    assert values["ctx_taper_text"] == (
        "None of the 5 included studies states a glucocorticoid taper rule in the sources consulted."
    )
    assert values["ctx_cumulative_text"].startswith(
        "It is 21 MIU in He 2016 and He 2020; 7.5 MIU in von Spee-Mayer 2016; 15–60 MIU in PRO-IMMUN. "
        "For PRO-IMMUN it is a range"
    )
    injections = values["ctx_injections_text"].text  # glued as markdown: it carries citations
    assert injections.startswith("The injections per treatment cycle of He 2016 and He 2020 are derived")
    assert "zhang2018acr" in injections and injections.endswith("are therefore derived too.")
    assert prisma_chapter.baseline_values(ev)["baseline_with"] == "He 2016 and He 2020"
    assert prisma_chapter.baseline_values(ev)["baseline_prednisone"] == "He 2016 and He 2020"


# ---------------------------------------------------------------------------
# Treg magnitude and its caveats (review.treg, chapters.treg)
# ---------------------------------------------------------------------------
def test_treg_magnitude_levels(ev):
    levels = treg.magnitude_table(ev).set_index("label")["level"].to_dict()
    assert levels == {
        "He 2016": "direction",
        "von Spee-Mayer 2016": "direction",
        "PRO-IMMUN": "patients",
        "He 2020": "direction",
        "LUPIL-2": "none",
        "TRANSREG (SLE subgroup)": "none",
        "JICR 2019 (lupus nephritis)": "direction",
    }
    text = treg_chapter.magnitude_text(ev).text
    assert text.startswith("No study gives the size of the Treg response: none of the 7 studies")
    assert "PRO-IMMUN counts the patients with a rise, 12/12 (100.0%), p <0.001 against baseline" in text
    assert "a rise of at least 100% after the fourth cycle" in text
    assert "LUPIL-2 and TRANSREG (SLE subgroup) report no Treg finding." in text


def test_treg_caveats_from_the_data(ev):
    primary = treg.primary_endpoints(ev).set_index("label")
    assert primary.loc["He 2020", "p"] == ["0.052"] and primary.loc["He 2020", "verdict"] == "missed"
    assert primary.loc["LUPIL-2", "p"] == ["0.3439"] and primary.loc["LUPIL-2", "treg_level"] == "none"
    text = treg_chapter.caveats_text(ev).text
    assert "None of the 5 studies that report a rise compares Treg between randomised arms." in text
    assert "regression to the mean" in text
    assert "in He 2020 the median prednisone dose fell in both arms, from 15 to 10 mg/day by week 24" in text
    assert (
        "In He 2020, the randomised trial that reports a Treg rise, that rise came with a missed primary endpoint, "
        "SRI-4 at week 12 (efficacy set): 16/29 (55.2%) with IL-2 vs 9/30 (30.0%) with placebo, p = 0.052"
    ) in text
    assert text.endswith("on the trial's own primary endpoint.")


def test_treg_caveat_changes_when_the_endpoint_is_met(data_copy):
    """If He 2020's primary p were 0.030 (edited copy), the sentence says it was met, and the closing one goes."""
    edit_file(data_copy / "outcomes.csv", "55.17,,,,,,0.052,between_arms", "55.17,,,,,,0.030,between_arms")
    ev = load_evidence()
    assert treg.primary_endpoints(ev).set_index("label").loc["He 2020", "verdict"] == "met"
    text = treg_chapter.caveats_text(ev).text
    assert "He 2020 reports a Treg rise and met its primary endpoint" in text
    assert "missed primary endpoint, SRI-4" not in text and "So where a randomised trial" not in text


def test_p_not_below():
    assert treg.p_not_below("0.052") is True and treg.p_not_below("0.05") is True
    assert treg.p_not_below("0.049") is False and treg.p_not_below("<0.001") is False
    assert treg.p_not_below("<0.10") is True and treg.p_not_below(None) is None


# ---------------------------------------------------------------------------
# Bad input: (file, text to replace, replacement, column blamed, words of the expectation, rule)
# ---------------------------------------------------------------------------
SLEDAI = "he2020,il2,randomised,selena_sledai,median_range,,30,,,,12,8,27,0.351"
HCQ = "he2020,il2,randomised,hydroxychloroquine,count,29,30,96.67"
HE2016_HCQ = "he2016,il2,enrolled,hydroxychloroquine,count,37,40"
BAD_BASELINE = [
    (
        "baseline.csv",
        "he2016,conventional,enrolled,age_years",
        "he2016,placebo,enrolled,age_years",
        "arm",
        "arms.csv",
        "arm_exists",
    ),
    (
        "baseline.csv",
        HCQ,
        HCQ.replace(",count,", ",median_range,"),
        "statistic",
        "fits the characteristic's kind",
        "statistic_fits_characteristic_kind",
    ),
    (
        "baseline.csv",
        HCQ,
        HCQ.replace(",29,30,", ",,30,"),
        "events",
        "number of patients in 'events'",
        "count_has_events",
    ),
    (
        "baseline.csv",
        HE2016_HCQ,
        HE2016_HCQ.replace(",37,40", ",37,"),
        "na_reason",
        "empty total",
        "count_total_missing_needs_reason",
    ),
    (
        "baseline.csv",
        HE2016_HCQ,
        HE2016_HCQ.replace(",37,40", ",41,40"),
        "events",
        "events <= total",
        "events_le_total",
    ),
    ("baseline.csv", HCQ, HCQ.replace("96.67", "86.67"), "percent", "100 × events / total", "percent_matches_counts"),
    (
        "baseline.csv",
        SLEDAI,
        SLEDAI.replace(",12,8,27,", ",12,,27,"),
        "median",
        "both bounds",
        "median_and_bounds_given",
    ),
    ("baseline.csv", SLEDAI, SLEDAI.replace(",12,8,27,", ",12,13,27,"), "lower", "lower <= median", "lower_le_median"),
    ("baseline.csv", SLEDAI, SLEDAI.replace(",12,8,27,", ",12,8,11,"), "upper", "median <= upper", "median_le_upper"),
    (
        "baseline.csv",
        "age_years,median_range,,15,,,,30,18,62",
        "age_years,mean_sd,,15,,30,,,,",
        "mean",
        "a mean and an SD",
        "mean_sd_given",
    ),
    (
        "baseline.csv",
        "he2020,placebo,randomised,selena_sledai,median_range,,30,,,,11,8,22,,reported,he2020,Table 1,S23,,,",
        "he2020,placebo,randomised,selena_sledai,not_reported,,30,,,,11,8,22,,not_reported,he2020,Table 1,S23,,x,",
        "statistic",
        "with no numbers",
        "not_reported_is_empty",
    ),
    # he2016's IL-2 age at enrolment is in outcomes.csv already: one fact, one place
    (
        "baseline.csv",
        "he2016,conventional,enrolled,age_years",
        "he2016,il2,enrolled,age_years",
        "characteristic",
        "one fact, one place",
        "recorded_once",
    ),
    (
        "baseline.csv",
        SLEDAI,
        SLEDAI.replace("selena_sledai", "sledai"),
        "characteristic",
        "outcome_definitions.csv",
        None,
    ),
    ("baseline.csv", SLEDAI, SLEDAI.replace("0.351", "0.35x"), "p_value", "pattern", None),
    ("baseline.csv", SLEDAI, SLEDAI.replace("randomised", "randomized"), "population", "one of", None),
    ("baseline.csv", SLEDAI, SLEDAI.replace("he2020", "he2021"), "study_id", "study_id of studies.csv", None),
    ("baseline.csv", HCQ, HCQ.replace(",29,30,", ",-1,30,"), "events", "a value >= 0", None),
]
BAD_CONTEXT = [
    (
        "study_context.csv",
        "he2020,injections_per_cycle,7,derived",
        "he2020,injections_per_cycle,seven,derived",
        "value",
        "a whole number",
        "whole_number_fact",
    ),
    (
        "study_context.csv",
        "proimmun,refractory,Yes: at least",
        "proimmun,refractory,Required: at least",
        "value",
        "'Yes' or 'No'",
        "refractory_answer",
    ),
    ("study_context.csv", "lupil2,sponsor,Iltoo Pharma", "lupil2,funder,Iltoo Pharma", "fact", "one of", None),
    (
        "study_context.csv",
        "lupil2,sponsor,Iltoo Pharma",
        "lupil3,sponsor,Iltoo Pharma",
        "study_id",
        "studies.csv",
        None,
    ),
    (
        "study_context.csv",
        "lupil2,sponsor,Iltoo Pharma,reported,nct02955615,registry record (sponsor),S32",
        "lupil2,sponsor,Iltoo Pharma,reported,nct02955615,registry record (sponsor),S-32",
        "evidence_ref",
        "pattern",
        None,
    ),
]


def _line_of(path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if text in line)


@pytest.mark.parametrize(
    "filename, old, new, column, expected, rule",
    BAD_BASELINE + BAD_CONTEXT,
    ids=[f"{c[0]}:{c[3]}:{c[5] or c[4]}" for c in BAD_BASELINE + BAD_CONTEXT],
)
def test_bad_input_is_rejected_with_file_line_column(data_copy, filename, old, new, column, expected, rule):
    from tests.test_data import load_all

    path = data_copy / filename
    edit_file(path, old, new)
    line = _line_of(path, new)
    with pytest.raises(DataValidationError) as info:
        load_all()
    matches = [p for p in info.value.problems if p.file == filename and p.column == column and expected in p.expected]
    assert matches, f"no problem names {filename}/{column}/{expected!r}; got:\n{info.value}"
    assert any(p.line == line for p in matches), f"expected line {line}; got:\n{info.value}"
    if rule is not None:
        assert any(p.rule == rule for p in matches), [p.rule for p in matches]


def test_message_is_precise(data_copy):
    edit_file(data_copy / "baseline.csv", HE2016_HCQ, HE2016_HCQ.replace(",37,40", ",41,40"))
    with pytest.raises(DataValidationError) as info:
        C.load_baseline(load_evidence())
    line = _line_of(data_copy / "baseline.csv", "hydroxychloroquine,count,41,40")
    assert str(info.value) == (
        "1 problem(s) in the evidence data:\n"
        f"  - baseline.csv, line {line} (study_id=he2016, arm=il2, population=enrolled, "
        "characteristic=hydroxychloroquine), column 'events': found 41; expected events <= total"
    )


def test_every_included_study_gives_every_fact(data_copy):
    path = data_copy / "study_context.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if not x.startswith("lupil2,sponsor,")), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        C.load_study_context(load_evidence())
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.key) == ("study_context.csv", None, "study_id=lupil2, fact=sponsor")
    assert "found no row; expected a row for the fact 'sponsor' of the included study 'lupil2'" in str(info.value)


def test_cumulative_dose_by_regimen_group(ev):
    assert treg_chapter.cumulative_text(ev) == (
        "‘Every other day, in cycles’, 21 MIU in He 2016 and He 2020; "
        "‘Daily for 5 days (then maintenance or repeat courses)’, 7.5 MIU in von Spee-Mayer 2016, "
        "15–60 MIU in PRO-IMMUN and not computable for LUPIL-2"
    )
