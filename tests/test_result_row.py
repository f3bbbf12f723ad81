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
