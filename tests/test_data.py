"""The data layer: the real evidence loads, and every rule rejects bad input precisely."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import schemas
from helpers.data import DataValidationError, load_evidence
from tests.conftest import edit_file


def test_real_evidence_is_valid_and_typed():
    ev = load_evidence()
    assert len(ev.studies) == 17
    assert list(ev.included_studies()["study_id"]) == ["he2016", "vonspeemayer2016", "proimmun", "he2020", "lupil2"]
    assert str(ev.outcomes["events"].dtype) == "Int64"
    assert str(ev.outcomes["percent"].dtype) == "Float64"
    sri = ev.outcomes.set_index(["study_id", "arm", "outcome", "timepoint", "population"])
    assert sri.loc[("he2020", "il2", "sri4", "week_12", "analysed_efficacy"), ["events", "total"]].tolist() == [16, 29]
    assert ev.review_value("patients_total") == 230


def test_every_unknown_value_has_a_reason():
    ev = load_evidence()
    for name in ("studies", "arms", "search", "prisma", "review_reported"):
        table = getattr(ev, name)
        spec = next(s for s in schemas.all_specs() if s.name == name)
        missing = table[list(spec.value_columns)].isna().any(axis=1)
        assert table.loc[missing, "na_reason"].notna().all(), name
    nr = ev.outcomes[ev.outcomes["status"] == "not_reported"]
    assert nr["na_reason"].notna().all() and len(nr) > 0


def test_every_derived_value_has_its_derivation():
    ev = load_evidence()
    for name in ("studies", "arms", "outcomes", "prisma", "search", "review_reported"):
        table = getattr(ev, name)
        derived = table[table["status"] == "derived"]
        assert derived["derivation"].notna().all(), name


# (file, text to replace, replacement, column blamed, words of the expectation)
BAD_INPUTS = [
    ("outcomes.csv", "analysed_efficacy,count,16,29,55.17", "analysed_efficacy,count,-16,29,55.17", "events", "a value >= 0"),
    ("outcomes.csv", "analysed_efficacy,count,16,29,55.17", "analysed_efficacy,count,40,29,", "events", "events <= total"),
    ("outcomes.csv", "he2020,il2,sri4,week_12", "he2021,il2,sri4,week_12", "study_id", "study_id of studies.csv"),
    ("outcomes.csv", "analysed_efficacy,count,16,29,55.17", "analysed_efficacy,count,sixteen,29,55.17", "events", "a whole number"),
    ("outcomes.csv", "analysed_efficacy,count,16,29,55.17", "analysed_efficacy,count,NA,29,55.17", "events", "a whole number"),
    ("outcomes.csv", "analysed_efficacy,count,16,29,55.17", "analysed_efficacy,count,16,29,65.17", "percent", "100 × events / total"),
    ("outcomes.csv", "S22; S24,events = 55.17% × 29 = 16.0 → 16,,", "S22; S24,,,", "derivation", "derivation written out"),
    ("outcomes.csv", "he2016,il2,sri_unspecified", "he2016,placebo,sri_unspecified", "arm", "arms.csv"),
    ("outcomes.csv", "he2020,il2,sri4,week_24,analysed_efficacy,count,19,29,65.52",
     "he2020,il2,sri4,week_24,analysed_efficacy,median_range,19,29,65.52", "statistic", "fits the outcome's kind"),
    ("outcomes.csv", "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,27",
     "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,13,27", "lower", "lower <= median"),
    ("outcomes.csv", "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,27",
     "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,11", "upper", "median <= upper"),
    ("outcomes.csv", "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,27",
     "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,,8,27", "median", "a median"),
    ("outcomes.csv", ",30,,31.58,9.25,", ",30,,31.58,,", "mean", "a mean and an SD"),
    ("outcomes.csv", "increase,reported,he2016; he2015eular,abstract,S4; S7,,,Significant Treg increase reported; values in Fig. 1 (not read)",
     "increase,reported,he2016; he2015eular,abstract,S4; S7,,,", "note", "states the finding"),
    ("outcomes.csv", "he2016,il2,sri4,week_12,enrolled,not_reported,,,", "he2016,il2,sri4,week_12,enrolled,not_reported,3,,",
     "statistic", "with no numbers"),
    ("outcomes.csv", "he2016,il2,sri4,week_12,enrolled,not_reported", "he2016,il2,sri4,week_12,enrolled,count", "statistic", "exactly when status"),
    ("outcomes.csv", "he2016,il2,ae_injection_site_reaction,trial_period,enrolled,count,5,40,12.5",
     "he2016,il2,ae_injection_site_reaction,trial_period,enrolled,count,,,", "events", "events and total, or a percent"),
    ("outcomes.csv", "0.052,between_arms", "0.052,", "p_comparison", "what it compares"),
    ("outcomes.csv", "0.052,between_arms", "0.05x,between_arms", "p_value", "pattern"),
    ("outcomes.csv", ",derived,he2020,abstract (percent; p)", ",derived,he2021,abstract (percent; p)", "source", "references.bib"),
    ("outcomes.csv", "abstract (percent; p); Table 2 row label (n=29),S22; S24,events = 55.17%",
     "abstract (percent; p); Table 2 row label (n=29),S22 S24,events = 55.17%", "evidence_ref", "pattern"),
    ("outcomes.csv", "he2020,il2,sri4,week_12,analysed_efficacy,count,16,29,55.17,,,,,,0.052,between_arms,,derived",
     "he2020,il2,sri4,week_12,analysed_efficacy,count,16,29,55.17,,,,,,0.052,between_arms,,confirmed", "status", "one of"),
    ("outcomes.csv", "he2020,il2,sri4,week_12", "he2020,il2,sri5,week_12", "outcome", "outcome_definitions.csv"),
    ("outcomes.csv", "he2020,il2,sri4,week_12", "he2020,il2,sri4,week twelve", "timepoint", "pattern"),
    ("outcomes.csv", "he2020,il2,sri4,week_24,analysed_efficacy,count,19,29,65.52,,,,,,0.027,between_arms,,derived,he2020,abstract (percent; p); Table 2 row label (n=29)",
     "he2020,il2,sri4,week_12,analysed_efficacy,count,19,29,65.52,,,,,,0.027,between_arms,,derived,he2020,abstract (percent; p); Table 2 row label (n=29)",
     None, "unique key"),
    ("arms.csv", "Treated and analysed numbers not available: the journal article was not consulted", "", "na_reason", "reason in 'na_reason'"),
    ("arms.csv", "he2020,il2,randomised,30,", "he2020,il2,randomised,0,", "n", "a value >= 1"),
    ("studies.csv", ",reported,vonspeemayer2016,abstract,S12,,registration: not reported in the consulted abstract",
     ",reported,vonspeemayer2016,abstract,S12,,", "na_reason", "empty value in registration"),
    ("studies.csv", "rhIL-2,1.0,every other day,3,12 weeks of treatment", "rhIL-2,10,every other day,3,12 weeks of treatment", "dose_miu", "a value < 6"),
    ("studies.csv", ",included,", ",maybe,", "inclusion_status", "one of"),
    ("search.csv", "Scopus,2010-01,2022-09", "Scopus,2010-01,2009-09", "date_to", "on or after date_from"),
    ("prisma.csv", "Duplicate records,Duplicate records,,,not_reported", "Duplicate records,Duplicate records,5000,,reported", "n",
     "duplicates <= database_results"),
    ("review_reported.csv", "patients_total,Patients,230", "patients_total,Patients,two hundred", "value", "a whole number"),
    ("outcome_definitions.csv", "sri4,SRI-4 response,efficacy,binary", "sri4,SRI-4 response,efficacy,binomial", "kind", "one of"),
]


def _line_of(path: Path, text: str) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text and text in line:
            return number
    return None


@pytest.mark.parametrize("filename, old, new, column, expected", BAD_INPUTS,
                         ids=[f"{c[0]}:{c[3]}:{c[4][:25]}" for c in BAD_INPUTS])
def test_bad_input_is_rejected_with_file_line_column(data_copy, filename, old, new, column, expected):
    path = data_copy / filename
    edit_file(path, old, new)
    line = _line_of(path, new) if new else None
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    matches = [p for p in info.value.problems if p.file == filename and (column is None or p.column == column)
               and expected in p.expected]
    assert matches, f"no problem names {filename}/{column}/{expected!r}; got:\n{info.value}"
    if line is not None and column is not None:
        assert any(p.line == line for p in matches), f"expected line {line}; got:\n{info.value}"
    message = str(info.value)
    assert filename in message and expected in message


def test_prisma_counts_that_do_not_add_up(data_copy):
    path = data_copy / "prisma.csv"
    for data_name, value in [("register_results", 0), ("duplicates", 18), ("excluded_automatic", 0),
                             ("excluded_other", 0), ("records_screened", 999)]:
        df = pd.read_csv(path, dtype="string", keep_default_na=False)
        df.loc[df["data"] == data_name, ["n", "status", "na_reason"]] = [str(value), "reported", ""]
        df.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    (problem,) = info.value.problems
    assert problem.column == "n" and problem.value == 999
    assert "records_screened = database_results + register_results - duplicates" in problem.expected
    assert problem.line == _line_of(path, "records_screened,")


def test_prisma_counts_that_add_up_pass(data_copy):
    path = data_copy / "prisma.csv"
    df = pd.read_csv(path, dtype="string", keep_default_na=False)
    for data_name, value in [("register_results", 0), ("duplicates", 18), ("excluded_automatic", 0),
                             ("excluded_other", 0), ("records_screened", 1000), ("records_excluded", 950),
                             ("dbr_sought_reports", 50)]:
        df.loc[df["data"] == data_name, ["n", "status", "na_reason"]] = [str(value), "reported", ""]
    df.to_csv(path, index=False)
    assert load_evidence().prisma.set_index("data").loc["records_screened", "n"] == 1000


def test_missing_column_is_named(data_copy):
    path = data_copy / "outcomes.csv"
    pd.read_csv(path, dtype="string", keep_default_na=False).drop(columns="events").to_csv(path, index=False)
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    assert any(p.file == "outcomes.csv" and p.line == 1 and "'events'" in p.expected for p in info.value.problems)


def test_unexpected_column_is_named(data_copy):
    path = data_copy / "arms.csv"
    df = pd.read_csv(path, dtype="string", keep_default_na=False)
    df["comment"] = ""
    df.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    assert any(p.value == "comment" and "only the declared columns" in p.expected for p in info.value.problems)


def test_ragged_line_is_named(data_copy):
    path = data_copy / "arms.csv"
    edit_file(path, "he2020,il2,randomised,30,", "he2020,il2,randomised,30,extra,")
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    (problem,) = info.value.problems
    assert problem.line == _line_of(path, "he2020,il2,randomised,30,extra")
    assert "like the header" in problem.expected


def test_missing_file_is_named(data_copy):
    (data_copy / "search.csv").unlink()
    with pytest.raises(DataValidationError, match="search.csv: found an empty cell; expected the file to exist"):
        load_evidence()


def test_message_names_file_line_column_value_and_expectation(data_copy):
    edit_file(data_copy / "outcomes.csv", "analysed_efficacy,count,16,29,55.17", "analysed_efficacy,count,40,29,")
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    assert str(info.value) == (
        "1 problem(s) in the evidence data:\n"
        "  - outcomes.csv, line 2 (study_id=he2020, arm=il2, outcome=sri4, timepoint=week_12, "
        "population=analysed_efficacy), column 'events': found 40; expected events <= total"
    )


def test_data_dictionary_covers_every_column_with_a_description():
    dictionary = schemas.data_dictionary()
    assert (dictionary["Description"] != "").all()
    assert set(dictionary["Table"]) == {s.filename for s in schemas.all_specs()}
    events = dictionary[(dictionary["Table"] == "outcomes.csv") & (dictionary["Column"] == "events")].iloc[0]
    assert events["Type"] == "whole number" and "greater than or equal to 0" in events["Checks"]
