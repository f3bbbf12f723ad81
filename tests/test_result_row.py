"""One result row type and the results table's schema."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandera.pandas as pa
import pytest

from helpers.evidence.load import load_evidence
from helpers.review.result_row import RESULT_COLUMNS, ResultRow, results_frame, results_schema
from helpers.review.results import results_table
from helpers.stats import effects, pooling


@pytest.fixture(scope="module")
def row() -> ResultRow:
    es = effects.escalc("RR", ai=[16, 34], n1i=[29, 50], ci=[9, 29], n2i=[30, 50])
    fit = pooling.rma(es["yi"], es["vi"], method="REML", measure="RR")
    return ResultRow.from_fit(
        fit,
        analysis="x",
        label="x",
        outcome="sri4",
        timepoint="week_12",
        population="A ITT; B ITT",
        n_il2=79,
        n_control=80,
        studies="A; B",
        inputs_derived=True,
    )


def test_from_fit_back_transforms_and_keeps_the_fit(row):
    assert row.estimate == pytest.approx(1.340717976514924, rel=1e-9)  # metafor: exp(0.2932) (two_rct_demo)
    assert (row.model, row.method, row.test, row.k) == ("random", "REML", "z", 2)
    assert np.isnan(row.pi_low) and "at least 3 studies" in row.pi_note


def test_the_real_table_passes_its_schema():
    table = results_table(load_evidence())
    assert list(table.columns) == RESULT_COLUMNS
    assert table["n_control"].dtype == "Int64" and (table["n_control"].dropna() >= 1).all()


@pytest.mark.parametrize(
    "change, column",
    [
        ({"ci_low": 2.0}, None),  # the interval no longer contains the estimate
        ({"n_control": 0}, "n_control"),  # a missing group is empty, never 0
        ({"method": "XYZ"}, "method"),
        ({"i2": 120.0}, "i2"),
        ({"population": ""}, "population"),
    ],
)
def test_a_malformed_row_is_refused_by_name(row, change, column):
    bad = results_frame([dataclasses.replace(row, **change)])
    with pytest.raises(pa.errors.SchemaErrors) as info:
        results_schema().validate(bad, lazy=True)
    failures = info.value.failure_cases
    assert (
        (column in set(failures["column"].dropna())) if column else ("ci_low <= estimate <= ci_high" in str(info.value))
    )


def test_duplicate_rows_are_refused(row):
    with pytest.raises(pa.errors.SchemaErrors):
        results_schema().validate(results_frame([row, row]), lazy=True)


@pytest.mark.parametrize("method", ["FE", "REML", "DL"])
def test_a_single_study_has_no_heterogeneity(method):
    """Issue 16: one study's tau², I², Q and Q p are not applicable (NaN, read 'not applicable'), not 0, 0%, 0, 1."""
    es = effects.escalc("RR", ai=[19], n1i=[29], ci=[11], n2i=[30])
    fit = pooling.rma(es["yi"], es["vi"], method=method, measure="RR")
    assert (fit.tau2, fit.i2, fit.q, fit.q_p) == (0.0, 0.0, 0.0, 1.0)  # what the fit itself holds
    one = ResultRow.from_fit(
        fit,
        analysis="x",
        label="x",
        outcome="sri4",
        timepoint="week_24",
        population="A",
        n_il2=29,
        n_control=30,
        studies="A",
        inputs_derived=False,
    )
    assert all(np.isnan(v) for v in (one.tau2, one.i2, one.q, one.q_p))
    assert one.p == pytest.approx(fit.pval)


def test_every_single_study_row_of_the_real_table_reads_not_applicable():
    from helpers.chapters.results_appendix import results_display

    table = results_table(load_evidence())
    single = table[(table["k"] == 1) & (table["test"] != "posterior")]
    assert len(single) and single[["tau2", "i2", "q", "q_p"]].isna().all().all()
    shown = results_display(table)[((table["k"] == 1) & (table["test"] != "posterior")).to_numpy()]
    assert (shown[["τ²", "I² (%)", "Q p"]] == "not applicable").all().all()
    pooled = table[(table["k"] > 1) & (table["test"] != "posterior")]
    assert pooled[["i2", "q", "q_p"]].notna().all().all()


def test_single_arm_rates_have_no_p_and_the_appendix_shows_no_p():
    """A pooled single-arm rate tests a null no reader asks about: its p is empty in the CSV; the appendix's
    results table has no p column, and its grid of models (with p) holds two-arm analyses only."""
    from helpers.chapters.results_appendix import all_models_table, results_display
    from helpers.stats.effects import PROPORTION_MEASURES

    ev = load_evidence()
    table = results_table(ev)
    rates = table["measure"].isin(PROPORTION_MEASURES)
    assert rates.sum() >= 8 and table.loc[rates, "p"].isna().all()
    assert table.loc[~rates & (table["test"] != "posterior"), "p"].notna().all()
    assert "p" not in results_display(table).columns
    assert not all_models_table(ev, table)["Measure"].isin(PROPORTION_MEASURES).any()


def test_mantel_haenszel_and_inverse_variance_q_differ_by_their_centre():
    """The MH rows' Q is taken around the MH estimate (metafor rma.mh); the REML/DL rows' around the
    inverse-variance common-effect estimate, where Q is smallest: so MH's Q >= the others', as the appendix says."""
    from helpers.chapters.results_appendix import q_explanation
    from helpers.review.analyses import Q_AROUND_TEXT, analysis, heterogeneity_q, two_arm_counts

    ev = load_evidence()
    table = results_table(ev).set_index(["analysis", "measure", "method", "test"])
    counts = two_arm_counts(ev, analysis(ev, "sri4_week12_rct"))
    for measure in ("RR", "OR", "RD"):
        mh, reml = (
            table.loc[("sri4_week12_rct", measure, "MH", "z")],
            table.loc[("sri4_week12_rct", measure, "REML", "z")],
        )
        assert mh["q"] == pytest.approx(heterogeneity_q(counts, measure, "MH"), rel=1e-10)
        assert reml["q"] == pytest.approx(heterogeneity_q(counts, measure, "REML"), rel=1e-10)
        assert mh["q"] >= reml["q"] - 1e-12 and mh["i2"] >= reml["i2"] - 1e-9
    rr_mh, rr_reml = table.loc[("sri4_week12_rct", "RR", "MH", "z")], table.loc[("sri4_week12_rct", "RR", "REML", "z")]
    assert rr_mh["q"] == pytest.approx(1.6526982339, rel=1e-9) and rr_reml["q"] == pytest.approx(1.5628163865, rel=1e-9)
    text = q_explanation(ev, table.reset_index())
    assert text.startswith(Q_AROUND_TEXT)
    assert (
        "Q is 1.65 around the Mantel-Haenszel estimate (I² = 39%) and 1.56 around the inverse-variance one (I² = 36%)"
        in text
    )
