"""The data layer: the real evidence loads, and every rule rejects bad input precisely."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.evidence import dictionary, schemas
from helpers.evidence.load import DataValidationError, load_evidence
from helpers.paths import ROOT
from tests.conftest import edit_file


def test_real_evidence_is_valid_and_typed():
    ev = load_evidence()
    assert len(ev.studies) == 18  # 17 + the 2015 case-report letter (N3), excluded
    assert list(ev.included_studies()["study_id"]) == ["he2016", "vonspeemayer2016", "proimmun", "he2020", "lupil2"]
    assert str(ev.outcomes["events"].dtype) == "Int64"
    assert str(ev.outcomes["percent"].dtype) == "Float64"
    sri = ev.outcomes.set_index(["study_id", "arm", "outcome", "timepoint", "population"])
    assert sri.loc[("he2020", "il2", "sri4", "week_12", "analysed_efficacy"), ["events", "total"]].tolist() == [16, 29]
    assert ev.review_value("patients_total") == 230


def test_every_unknown_value_has_a_reason():
    from helpers.evidence.clinical_tables import load_baseline, load_study_context

    ev = load_evidence()
    context = load_study_context(ev)
    assert context.loc[context["value"].isna(), "na_reason"].notna().all()
    baseline = load_baseline(ev)
    assert baseline.loc[baseline["total"].isna() & (baseline["statistic"] == "count"), "na_reason"].notna().all()
    for name in ("studies", "arms", "search", "prisma", "review_reported", "later_trials", "later_reviews"):
        table = getattr(ev, name)
        spec = next(s for s in dictionary.all_specs() if s.name == name)
        missing = table[list(spec.value_columns)].isna().any(axis=1)
        assert table.loc[missing, "na_reason"].notna().all(), name
    nr = ev.outcomes[ev.outcomes["status"] == "not_reported"]
    assert nr["na_reason"].notna().all() and len(nr) > 0


def test_every_derived_value_has_its_derivation():
    from helpers.evidence.clinical_tables import load_baseline, load_study_context

    ev = load_evidence()
    tables = {
        name: getattr(ev, name)
        for name in (
            "studies",
            "arms",
            "outcomes",
            "prisma",
            "search",
            "review_reported",
            "later_trials",
            "later_reviews",
        )
    }
    tables |= {"baseline": load_baseline(ev), "study_context": load_study_context(ev)}
    for name, table in tables.items():
        derived = table[table["status"] == "derived"]
        assert derived["derivation"].notna().all(), name


# (file, text to replace, replacement, column blamed, words of the expectation)
BAD_INPUTS = [
    (
        "outcomes.csv",
        "analysed_efficacy,count,16,29,55.17",
        "analysed_efficacy,count,-16,29,55.17",
        "events",
        "a value >= 0",
        None,
    ),
    (
        "outcomes.csv",
        "analysed_efficacy,count,16,29,55.17",
        "analysed_efficacy,count,40,29,",
        "events",
        "events <= total",
        "events_le_total",
    ),
    ("outcomes.csv", "he2020,il2,sri4,week_12", "he2021,il2,sri4,week_12", "study_id", "study_id of studies.csv", None),
    (
        "outcomes.csv",
        "analysed_efficacy,count,16,29,55.17",
        "analysed_efficacy,count,sixteen,29,55.17",
        "events",
        "a whole number",
        None,
    ),
    (
        "outcomes.csv",
        "analysed_efficacy,count,16,29,55.17",
        "analysed_efficacy,count,NA,29,55.17",
        "events",
        "a whole number",
        None,
    ),
    (
        "outcomes.csv",
        "analysed_efficacy,count,16,29,55.17",
        "analysed_efficacy,count,16,29,65.17",
        "percent",
        "100 × events / total",
        "percent_matches_counts",
    ),
    (
        "outcomes.csv",
        "S22; S24,events = 55.17% × 29 = 16.0 → 16,,",
        "S22; S24,,,",
        "derivation",
        "derivation written out",
        "derived_needs_derivation",
    ),
    ("outcomes.csv", "he2016,il2,sri_unspecified", "he2016,placebo,sri_unspecified", "arm", "arms.csv", "arm_exists"),
    (
        "outcomes.csv",
        "he2020,il2,sri4,week_24,analysed_efficacy,count,19,29,65.52",
        "he2020,il2,sri4,week_24,analysed_efficacy,median_range,19,29,65.52",
        "statistic",
        "fits the outcome's kind",
        "statistic_fits_outcome_kind",
    ),
    (
        "outcomes.csv",
        "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,27",
        "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,13,27",
        "lower",
        "lower <= median",
        "lower_le_median",
    ),
    (
        "outcomes.csv",
        "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,27",
        "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,11",
        "upper",
        "median <= upper",
        "median_le_upper",
    ),
    (
        "outcomes.csv",
        "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,27",
        "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,,8,27",
        "median",
        "a median",
        "median_given",
    ),
    ("outcomes.csv", ",30,,31.58,9.25,", ",30,,31.58,,", "mean", "a mean and an SD", "mean_sd_given"),
    (
        "outcomes.csv",
        "increase,reported,he2016; he2015eular,abstract,S4; S7,,,Significant Treg increase reported; values in Fig. 1 (not read)",
        "increase,reported,he2016; he2015eular,abstract,S4; S7,,,",
        "note",
        "states the finding",
        "qualitative_has_note",
    ),
    (
        "outcomes.csv",
        "he2016,il2,sri4,week_12,enrolled,not_reported,,,",
        "he2016,il2,sri4,week_12,enrolled,not_reported,3,,",
        "statistic",
        "with no numbers",
        "not_reported_is_empty",
    ),
    (
        "outcomes.csv",
        "he2016,il2,sri4,week_12,enrolled,not_reported",
        "he2016,il2,sri4,week_12,enrolled,count",
        "statistic",
        "exactly when status",
        "not_reported_is_empty",
    ),
    (
        "outcomes.csv",
        "he2016,il2,ae_injection_site_reaction,trial_period,enrolled,count,5,40,12.5",
        "he2016,il2,ae_injection_site_reaction,trial_period,enrolled,count,,,",
        "events",
        "events and total, or a percent",
        "count_has_numbers",
    ),
    ("outcomes.csv", "0.052,between_arms", "0.052,", "p_comparison", "what it compares", "p_value_has_comparison"),
    ("outcomes.csv", "0.052,between_arms", "0.05x,between_arms", "p_value", "pattern", None),
    (
        "outcomes.csv",
        ",derived,he2020,abstract (percent; p)",
        ",derived,he2021,abstract (percent; p)",
        "source",
        "references.bib",
        None,
    ),
    (
        "outcomes.csv",
        "abstract (percent; p); Table 2 row label (n=29),S22; S24,events = 55.17%",
        "abstract (percent; p); Table 2 row label (n=29),S22 S24,events = 55.17%",
        "evidence_ref",
        "pattern",
        None,
    ),
    (
        "outcomes.csv",
        "he2020,il2,sri4,week_12,analysed_efficacy,count,16,29,55.17,,,,,,0.052,between_arms,,derived",
        "he2020,il2,sri4,week_12,analysed_efficacy,count,16,29,55.17,,,,,,0.052,between_arms,,confirmed",
        "status",
        "one of",
        None,
    ),
    ("outcomes.csv", "he2020,il2,sri4,week_12", "he2020,il2,sri5,week_12", "outcome", "outcome_definitions.csv", None),
    ("outcomes.csv", "he2020,il2,sri4,week_12", "he2020,il2,sri4,week twelve", "timepoint", "pattern", None),
    (
        "outcomes.csv",
        "he2020,il2,sri4,week_24,analysed_efficacy,count,19,29,65.52,,,,,,0.027,between_arms,,derived,he2020,abstract (percent; p); Table 2 row label (n=29)",
        "he2020,il2,sri4,week_12,analysed_efficacy,count,19,29,65.52,,,,,,0.027,between_arms,,derived,he2020,abstract (percent; p); Table 2 row label (n=29)",
        None,
        "unique key",
        None,
    ),
    (
        "arms.csv",
        "SLE subgroup size not reported (46 patients across 11 diseases)",
        "",
        "na_reason",
        "reason in 'na_reason'",
        "not_reported_needs_reason",
    ),
    ("arms.csv", "he2020,il2,il2,,randomised,30,", "he2020,il2,il2,,randomised,0,", "n", "a value >= 1", None),
    (
        "arms.csv",
        "he2020,il2,il2,,randomised,30,",
        "he2020,il2,placebo,,randomised,30,",
        "role",
        "one role for every row",
        "one_role_per_arm",
    ),
    (
        "arms.csv",
        "he2020,placebo,placebo,,randomised,30,",
        "he2020,placebo,placebo,1.0,randomised,30,",
        "dose_miu",
        "empty dose_miu on placebo",
        "dose_only_on_il2_arms",
    ),
    (
        "arms.csv",
        "he2020,il2,il2,,randomised,30,",
        "he2020,il2,il2,1.0,randomised,30,",
        "dose_miu",
        "the same dose_miu on every row",
        "one_dose_per_arm",
    ),
    (
        "arms.csv",
        "he2016,conventional,conventional,,enrolled,15,",
        "he2016,conventional,il2,,enrolled,15,",
        "dose_miu",
        "since the study has several IL-2 arms",
        "dose_of_each_il2_arm",
    ),
    (
        "studies.csv",
        ",reported,vonspeemayer2016,abstract,S12,,registration: not reported in the consulted abstract",
        ",reported,vonspeemayer2016,abstract,S12,,",
        "na_reason",
        "empty value in registration",
        "missing_value_needs_reason",
    ),
    (
        "studies.csv",
        "rhIL-2,1.0,,,every other day,3,12 weeks of treatment",
        "rhIL-2,10,,,every other day,3,12 weeks of treatment",
        "dose_miu",
        "a value < 6",
        None,
    ),
    ("studies.csv", ",included,", ",maybe,", "inclusion_status", "one of", None),
    # A dose range (PRO-IMMUN: single doses of 0.75, 1.5 or 3.0 MIU, N2) has both ends, in order, and no one dose.
    (
        "studies.csv",
        "aldesleukin,,0.75,3.0,daily in 5-day cycles",
        "aldesleukin,,0.75,,daily in 5-day cycles",
        "dose_miu_high",
        "both given (a dose range) or both empty",
        "dose_range_has_both_ends",
    ),
    (
        "studies.csv",
        "aldesleukin,,0.75,3.0,daily in 5-day cycles",
        "aldesleukin,,3.0,0.75,daily in 5-day cycles",
        "dose_miu_high",
        "dose_miu_high above dose_miu_low",
        "dose_range_ordered",
    ),
    (
        "studies.csv",
        "aldesleukin,,0.75,3.0,daily in 5-day cycles",
        "aldesleukin,1.5,0.75,3.0,daily in 5-day cycles",
        "dose_miu",
        "an empty dose_miu where dose_miu_low and dose_miu_high give a range",
        "one_dose_or_a_range",
    ),
    (
        "studies.csv",
        "aldesleukin,,0.75,3.0,daily in 5-day cycles",
        "aldesleukin,,0.75,6.0,daily in 5-day cycles",
        "dose_miu_high",
        "a value < 6",
        None,
    ),
    (
        "search.csv",
        "Scopus,2010-01,2022-09",
        "Scopus,2010-01,2009-09",
        "date_to",
        "on or after date_from",
        "window_ordered",
    ),
    (
        "prisma.csv",
        "Duplicate records,Duplicate records,,,not_reported",
        "Duplicate records,Duplicate records,5000,,reported",
        "n",
        "duplicates <= database_results",
        "prisma_duplicates_le_database_results",
    ),
    (
        "review_reported.csv",
        "patients_total,Patients,230",
        "patients_total,Patients,two hundred",
        "value",
        "a whole number",
        None,
    ),
    (
        "outcome_definitions.csv",
        "sri4,SRI-4 response,efficacy,binary",
        "sri4,SRI-4 response,efficacy,binomial",
        "kind",
        "one of",
        None,
    ),
    (
        "outcomes.csv",
        "analysed_efficacy,count,16,29,55.17",
        "analysed_efficacy,count,,29,55.17",
        "na_reason",
        "empty events or total",
        "count_missing_needs_reason",
    ),
    # studies.csv: the publication date that places a study in a protocol window
    (
        "studies.csv",
        ",S22; S26,,,2020",
        ",S22; S26,,,",
        "published",
        "publication date (YYYY, YYYY-MM or YYYY-MM-DD) of an included study",
        "included_study_is_dated",
    ),
    ("studies.csv", ",S22; S26,,,2020", ",S22; S26,,,2020-13", "published", "pattern", None),
    # later_trials.csv
    (
        "later_trials.csv",
        ",qualitative,Treg restored in a dose-dependent way (in words; no numbers),",
        ",with_numbers,Treg restored in a dose-dependent way (in words; no numbers),",
        "published",
        "publication date of results with numbers",
        "results_with_numbers_are_dated",
    ),
    (
        "later_trials.csv",
        ",60,,qualitative,SRI-4 response significantly higher with IL-2 than with placebo from week 6 to week 10; "
        "complete and partial remission of lupus nephritis significantly higher (P<0.05); a low baseline Treg ratio "
        "predicted SRI-4 response; no counts,",
        ",60,,qualitative,,",
        "finding",
        "the finding in 'finding'",
        "results_state_the_finding",
    ),
    (
        "later_trials.csv",
        "He 2023 (congress abstract),he2023congress,",
        "He 2023 (congress abstract),he2024congress,",
        "study_id",
        "study_id of studies.csv",
        None,
    ),
    ("later_trials.csv", ",60,,qualitative,", ",sixty,,qualitative,", "n_enrolled", "a whole number", None),
    ("later_trials.csv", ",qualitative,SRI-4", ",some,SRI-4", "results_available", "one of", None),
    # later_reviews.csv
    (
        "later_reviews.csv",
        ",0.819,0.745,0.894,ci95,",
        ",0.919,0.745,0.894,ci95,",
        "estimate",
        "lower <= estimate <= upper",
        "estimate_within_bounds",
    ),
    (
        "later_reviews.csv",
        ",0.819,0.745,0.894,ci95,",
        ",0.819,0.745,0.894,,",
        "interval",
        "exactly where lower and upper are given",
        "bounds_say_what_they_are",
    ),
    (
        "later_reviews.csv",
        ",,43,65.5,range,",
        ",50,43,65.5,range,",
        "measure",
        "a 'range' figure gives its bounds as a range",
        "range_is_not_an_estimate",
    ),
    (
        "later_reviews.csv",
        ",0.819,0.745,0.894,ci95,",
        ",81.9,74.5,89.4,ci95,",
        "estimate",
        "from 0 to 1 (unit 'fraction')",
        "proportion_on_its_scale",
    ),
    ("later_reviews.csv", ",sri4,,,single_arm,", ",sri4,,,one_arm,", "comparison", "one of", None),
    ("later_reviews.csv", ",sri4,,,single_arm,", ",sri5,,,single_arm,", "outcome", "outcome_definitions.csv", None),
    # dates against the protocol's windows (a check across data/ and protocol.yml)
    (
        "studies.csv",
        ",S28; S32,,cycles: not a cyclic regimen (5-day induction then weekly injections),2022-08",
        ",S28; S32,,cycles: not a cyclic regimen (5-day induction then weekly injections),2022",
        "published",
        "a date within one window (review 2010-01 to 2022-09; update from 2022-10): give the month",
        "published_in_one_window",
    ),
    (
        "studies.csv",
        "S7; S9; S4,duration = 3 courses × (2 weeks of treatment + 2-week break) = 12 weeks; all other fields reported,,2016",
        "S7; S9; S4,duration = 3 courses × (2 weeks of treatment + 2-week break) = 12 weeks; all other fields reported,,2005",
        "published",
        "an included study dated within a window",
        "included_study_in_a_window",
    ),
    (
        "later_trials.csv",
        ",2024-12-31,reported,nct04077684,",
        ",2021-12-31,reported,nct04077684,",
        "trial_end",
        "a date in the update window (from 2022-10): evidence of the review window belongs in studies.csv",
        "later_in_update_window",
    ),
    (
        "later_trials.csv",
        ",2023,,derived,he2023congress,",
        ",2023-05,,derived,he2023congress,",
        "published",
        "the publication date of study he2023congress in studies.csv (2023)",
        "same_date_as_study",
    ),
    (
        "later_reviews.csv",
        "akkur2025,sri4_range,Akkur 2025,2025,",
        "akkur2025,sri4_range,Akkur 2025,2022-09,",
        "published",
        "a review of the review window is not a later review",
        "later_in_update_window",
    ),
    (
        "outcomes.csv",
        "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,27",
        "he2020,il2,selena_sledai,baseline,analysed_efficacy,median_range,,29,,,,12,8,",
        "na_reason",
        "empty lower or upper",
        "median_spread_missing_needs_reason",
    ),
]


def _line_of(path: Path, text: str) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text and text in line:
            return number
    return None


@pytest.mark.parametrize(
    "filename, old, new, column, expected, rule", BAD_INPUTS, ids=[f"{c[0]}:{c[3]}:{c[4][:25]}" for c in BAD_INPUTS]
)
def test_bad_input_is_rejected_with_file_line_column(data_copy, filename, old, new, column, expected, rule):
    path = data_copy / filename
    edit_file(path, old, new)
    line = _line_of(path, new) if new else None
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    matches = [
        p
        for p in info.value.problems
        if p.file == filename and (column is None or p.column == column) and expected in p.expected
    ]
    assert matches, f"no problem names {filename}/{column}/{expected!r}; got:\n{info.value}"
    if rule is not None:
        assert any(p.rule == rule for p in matches), [p.rule for p in matches]
    if line is not None and column is not None:
        assert any(p.line == line for p in matches), f"expected line {line}; got:\n{info.value}"
    message = str(info.value)
    assert filename in message and expected in message


def test_prisma_counts_that_do_not_add_up(data_copy):
    path = data_copy / "prisma.csv"
    for data_name, value in [
        ("register_results", 0),
        ("duplicates", 18),
        ("excluded_automatic", 0),
        ("excluded_other", 0),
        ("records_screened", 999),
    ]:
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
    for data_name, value in [
        ("register_results", 0),
        ("duplicates", 18),
        ("excluded_automatic", 0),
        ("excluded_other", 0),
        ("records_screened", 1000),
        ("records_excluded", 950),
        ("dbr_sought_reports", 50),
    ]:
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
    edit_file(path, "he2020,il2,il2,,randomised,30,", "he2020,il2,il2,,randomised,30,extra,")
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    (problem,) = info.value.problems
    assert problem.line == _line_of(path, "he2020,il2,il2,,randomised,30,extra")
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
    table = dictionary.data_dictionary()
    assert (table["Description"] != "").all()
    assert set(table["Table"]) == {s.filename for s in dictionary.all_specs()}
    events = table[(table["Table"] == "outcomes.csv") & (table["Column"] == "events")].iloc[0]
    assert events["Type"] == "whole number" and "greater than or equal to 0" in events["Checks"]


# --- every row rule of every table has a bad-input test --------------------------------------------
SPECS = {spec.filename: spec for spec in dictionary.all_specs()}


def load_all():
    """Every table: the evidence, the risk-of-bias instrument and ratings, the RoB 2 answers, the baseline
    characteristics and the study context."""
    from helpers.evidence.clinical_tables import load_baseline, load_study_context
    from helpers.evidence.rob2_tables import load_rob2
    from helpers.evidence.rob_tables import load_risk_of_bias

    ev = load_evidence()
    load_risk_of_bias(ev)
    load_rob2(ev)
    load_baseline(ev)
    load_study_context(ev)


def _rewrite(path: Path, edit) -> pd.DataFrame:
    df = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    edit(df)
    df.to_csv(path, index=False)
    return df


def _provenance_cases():
    """(file, rule, edit of one row) for the provenance rules of every table."""
    for filename, spec in SPECS.items():
        names = {r.name for r in spec.rules}
        values = list(spec.value_columns)

        def derived_without_derivation(d):
            d.loc[d.index[0], ["status", "derivation"]] = ["derived", pd.NA]

        def not_reported_without_reason(d, v=values):
            d.loc[d.index[0], ["status", "na_reason", *v]] = ["not_reported", pd.NA] + [pd.NA] * len(v)

        def empty_value_without_reason(d, v=values):
            d.loc[d.index[0], [v[-1], "na_reason"]] = [pd.NA, pd.NA]

        def not_reported_with_a_value(d, v=values):
            d.loc[d.index[0], [v[-1], "status", "na_reason"]] = ["5", "not_reported", "a reason"]

        for rule, edit in [
            ("derived_needs_derivation", derived_without_derivation),
            ("not_reported_needs_reason", not_reported_without_reason),
            ("missing_value_needs_reason", empty_value_without_reason),
            ("not_reported_has_no_values", not_reported_with_a_value),
        ]:
            if rule in names:
                yield filename, rule, edit


PROVENANCE_CASES = list(_provenance_cases())


@pytest.mark.parametrize("filename, rule, edit", PROVENANCE_CASES, ids=[f"{f}:{r}" for f, r, _ in PROVENANCE_CASES])
def test_provenance_rule_rejects_bad_input(data_copy, filename, rule, edit):
    _rewrite(data_copy / filename, edit)
    with pytest.raises(DataValidationError) as info:
        load_all()
    fired = [p for p in info.value.problems if p.file == filename and p.rule == rule]
    assert fired, f"{rule} did not fire; got:\n{info.value}"
    assert fired[0].line == 2
    assert fired[0].column == SPECS[filename].rule(rule).column


def _set_counts(df: pd.DataFrame, counts: dict[str, int]) -> None:
    for name, value in counts.items():
        df.loc[df["data"] == name, ["n", "status", "na_reason"]] = [str(value), "reported", pd.NA]


@pytest.mark.parametrize("result, terms", schemas.PRISMA_EQUATIONS, ids=[r for r, _ in schemas.PRISMA_EQUATIONS])
def test_every_prisma_equation_is_checked(data_copy, result, terms):
    counts = {name: 100 if sign > 0 else 10 for sign, name in terms}  # keeps every count positive
    expected = sum(sign * counts[name] for sign, name in terms)
    counts[result] = expected + 1
    _rewrite(data_copy / "prisma.csv", lambda d: _set_counts(d, counts))
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    fired = [p for p in info.value.problems if p.rule == f"prisma_{result}"]
    assert fired and fired[0].value == expected + 1 and fired[0].column == "n"


@pytest.mark.parametrize("small, large", schemas.PRISMA_BOUNDS, ids=[f"{a}<={b}" for a, b in schemas.PRISMA_BOUNDS])
def test_every_prisma_bound_is_checked(data_copy, small, large):
    counts = {"database_results": 1018, small: 2000 if large == "database_results" else 20}
    if large != "database_results":
        counts[large] = 10
    _rewrite(data_copy / "prisma.csv", lambda d: _set_counts(d, counts))
    with pytest.raises(DataValidationError) as info:
        load_evidence()
    assert any(p.rule == f"prisma_{small}_le_{large}" for p in info.value.problems), str(info.value)


def test_every_row_rule_has_a_bad_input_test():
    from tests.test_clinical import BAD_BASELINE, BAD_CONTEXT
    from tests.test_rob import BAD_ITEMS, BAD_RATINGS
    from tests.test_rob2 import BAD as BAD_ROB2

    covered = {(c[0], c[5]) for c in BAD_INPUTS if c[5]}
    covered |= {("downs_black_items.csv", c[4]) for c in BAD_ITEMS if c[4]}
    covered |= {("risk_of_bias.csv", c[4]) for c in BAD_RATINGS if c[4]}
    covered |= {("rob2.csv", c[4]) for c in BAD_ROB2 if c[4]}
    covered |= {(c[0], c[5]) for c in BAD_BASELINE + BAD_CONTEXT if c[5]}
    covered |= {(f, r) for f, r, _ in PROVENANCE_CASES}
    covered |= {("prisma.csv", f"prisma_{r}") for r, _ in schemas.PRISMA_EQUATIONS}
    covered |= {("prisma.csv", f"prisma_{a}_le_{b}") for a, b in schemas.PRISMA_BOUNDS}
    every = {(f, r.name) for f, spec in SPECS.items() for r in spec.rules}
    assert every - covered == set()


# --- every table refuses to be empty ----------------------------------------------------------------
# (file, the reason its message gives). A header-only file passes every column and row check
# (they hold for no rows), so each table states why the book needs its rows.
EMPTY_TABLES = [
    ("studies.csv", "at least one study (the studies are what the review is about)"),
    ("arms.csv", "at least one arm (the arms give each study's patients)"),
    ("outcomes.csv", "at least one outcome row (every included study reports outcomes)"),
    ("outcome_definitions.csv", "at least one outcome definition (every row of outcomes.csv names its outcome here)"),
    ("search.csv", "at least one database (the search chapter reports the search database by database)"),
    ("prisma.csv", "the PRISMA 2020 counts (the flow diagram is drawn from them)"),
    ("review_reported.csv", "the figures the review reports (the book reconciles its counts with them)"),
    ("later_trials.csv", "at least one later trial or trial report (the chapter 'After the review' lists them)"),
    (
        "later_reviews.csv",
        "at least one figure of a later review (the chapter 'After the review' sets them beside this book's estimates)",
    ),
    ("downs_black_items.csv", "a row for each item of the checklist (the instrument has items 1 to 27)"),
    ("risk_of_bias.csv", "a rating of every item for every included study (each included study is assessed)"),
    ("rob2.csv", "the RoB 2 signalling answers of at least one result of a randomised trial"),
    ("baseline.csv", "the baseline characteristics the sources report (the clinical table is drawn from them)"),
    (
        "study_context.csv",
        "the setting, eligibility, background therapy, product and sponsor of every included study",
    ),
]


@pytest.mark.parametrize("filename, reason", EMPTY_TABLES, ids=[f for f, _ in EMPTY_TABLES])
def test_empty_table_is_refused(data_copy, filename, reason):
    path = data_copy / filename
    path.write_text(path.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_all()
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.rule, problem.expected) == (filename, None, "has_rows", reason)
    assert f"  - {filename}: found no rows; expected {reason}" in str(info.value)


def test_every_table_has_an_empty_table_test():
    # Every CSV of data/ is a declared table, and each has a case above.
    assert sorted(f for f, _ in EMPTY_TABLES) == sorted(SPECS) == sorted(p.name for p in (ROOT / "data").glob("*.csv"))


def test_validated_tables_are_cached_by_content_and_returned_as_copies(data_copy, edit):
    """The cache of validated tables never serves a stale or shared table."""
    first = load_evidence()
    first.studies.loc[0, "label"] = "changed by a caller"
    assert load_evidence().studies.loc[0, "label"] != "changed by a caller"
    edit(data_copy / "prisma.csv", "Databases,1018,", "Databases,1019,")
    counts = load_evidence().prisma.set_index("data")["n"]
    assert counts["database_results"] == 1019
