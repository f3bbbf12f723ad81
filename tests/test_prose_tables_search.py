"""Formatting for the prose, display tables and the search summary."""

from __future__ import annotations

import pandas as pd
from IPython.core.formatters import format_display_data

from helpers.evidence.load import load_evidence
from helpers.report.labels import dose_text, regimen_text, value_text
from helpers.report.prose import (
    GlueText,
    fmt_ci,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_reported,
    fmt_share,
    join_words,
    markdown_table,
)
from helpers.review.search import month_text, search_summary, search_table
from helpers.review.study_tables import characteristics_table, inclusion_table


def test_number_formats_never_turn_unknown_into_zero():
    assert fmt_int(1018) == "1,018"
    assert fmt_int(pd.NA) == fmt_int(None) == fmt_num(float("nan")) == "not reported"
    assert fmt_pct(55.172, 1) == "55.2%"
    assert fmt_share(16, 29) == "16/29 (55.2%)"
    assert fmt_num(-0.5, 2) == "−0.50"
    assert fmt_ci(1.2, 0.9, 1.6) == "1.20 (95% CI 0.90 to 1.60)"
    assert fmt_reported(13.75) == "13.75" and fmt_reported(12.0) == "12" and fmt_reported(34.80) == "34.8"


def test_glue_text_is_unquoted_plain_text():
    data, _ = format_display_data(GlueText("1,018"))
    assert data["text/plain"] == "1,018"


def test_markdown_table_marks_missing_cells():
    table = markdown_table(pd.DataFrame({"a": [1, None], "b": ["x|y", "z"]}))
    assert table.splitlines()[0] == "| a | b |"
    assert "not reported" in table and "x\\|y" in table


def test_search_summary():
    s = search_summary(load_evidence())
    assert s["search_databases"] == "Scopus and MEDLINE"
    assert s["search_window"] == "January 2010 to September 2022"
    assert s["search_records"] == "1,018"
    assert s["search_records_per_database"] == "not reported"
    assert s["search_queries_known"] == "no"
    assert month_text("2022-09") == "September 2022" and join_words(["a", "b", "c"]) == "a, b and c"
    assert (search_table(load_evidence())["Search string"] == "not reported").all()


def test_value_text_by_statistic():
    ev = load_evidence()
    o = ev.outcomes.set_index(["study_id", "arm", "outcome", "timepoint", "population"])
    row = lambda *k: o.loc[k].iloc[0] if isinstance(o.loc[k], pd.DataFrame) else o.loc[k]  # noqa: E731
    assert value_text(row("he2020", "il2", "sri4", "week_12", "analysed_efficacy")) == "16/29 (55.2%)"
    assert value_text(row("he2020", "il2", "selena_sledai", "baseline", "analysed_efficacy")) == "12 (8–27)"
    assert value_text(row("he2020", "il2", "age_years", "baseline", "randomised")) == "31.58 ± 9.25"
    assert value_text(row("lupil2", "placebo", "sri4", "week_12", "subgroup")) == "100.0% (n not reported)"
    assert value_text(row("he2016", "il2", "sri4", "week_12", "enrolled")) == "not reported"


def test_dose_text_keeps_reported_decimals_and_shows_a_range():
    assert dose_text(1.0) == "1 MIU" and dose_text(1.5) == "1.5 MIU" and dose_text(0.75) == "0.75 MIU"
    assert dose_text(pd.NA, 0.75, 3.0) == "0.75–3 MIU"  # patients received different doses
    assert dose_text(1.0, 0.75, 3.0) == "1 MIU"
    assert dose_text(pd.NA) == dose_text(pd.NA, 0.75, pd.NA) == "not reported"


def test_characteristics_and_inclusion_tables():
    ev = load_evidence()
    chars = characteristics_table(ev).set_index("Study")
    assert list(chars.index) == ["He 2016", "von Spee-Mayer 2016", "PRO-IMMUN", "He 2020", "LUPIL-2"]
    assert chars.loc["LUPIL-2", "n IL-2"] == "50 randomised (derived)"
    assert chars.loc["PRO-IMMUN", "n IL-2"] == "12 treated"
    assert chars.loc["He 2016", "n placebo"] == "–"
    assert list(chars.columns) == ["Design", "Registration", "Population", "Regimen", "n IL-2", "n placebo"]
    assert "aldesleukin 0.75–3 MIU" in chars.loc["PRO-IMMUN", "Regimen"]  # the range of doses (N2), not one dose
    studies = ev.studies.set_index("study_id")
    assert (
        regimen_text(studies.loc["he2020"])
        == "rhIL-2 1 MIU, every other day, 3 cycles (12 weeks of treatment + 12 weeks of follow-up)"
    )
    excluded = inclusion_table(ev)
    assert set(excluded["Status"]) == {"candidate", "excluded"} and len(excluded) == 13  # + the 2015 letter (N3)
