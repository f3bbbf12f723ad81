"""The protocol's Bayesian analyses in the results table (helpers.review.bayesian), end to end.

Each Bayesian row of the real results table is checked against R: the book's analyses are datasets
of tests/reference/bayesmeta, whose exact.csv holds the same posterior by nested integration in R
(and bayesmeta.csv bayesmeta's own numbers, which differ from it by bayesmeta's grid error; see
tests/test_bayes.py).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re

import numpy as np
import pandera.pandas as pa
import pytest

from helpers.evidence.load import load_evidence
from helpers.evidence.protocol import Protocol, ProtocolError, check_protocol, load_protocol
from helpers.review.analyses import model_label
from helpers.review.bayesian import bayesian_results
from helpers.review.result_row import (
    BAYES_NOTE_ONE_TRIAL,
    ResultRow,
    bayes_method,
    bayes_scale,
    results_frame,
    results_schema,
)
from helpers.review.results import results_table
from helpers.review.selection import planned_analyses
from helpers.stats.bayes import bayes_rma
from tests.bayesmeta_reference import reference


@pytest.fixture(scope="module")
def table():
    return results_table(load_evidence())


def test_the_protocol_declares_the_bayesian_analysis():
    plan = load_protocol().bayesian
    assert plan.measures == ("RR",) and plan.mu_prior == "uniform" and plan.tau_prior == "halfnormal"
    assert plan.scales == (0.5, 1.0) and plan.main_scale == 0.5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"main_scale": 0.7}, "bayesian.main_scale: found 0.7; expected one of the scales 0.5, 1.0"),
        ({"tau_prior": "halfcauchy"}, "bayesian.tau_prior: found 'halfcauchy'; expected one of halfnormal"),
        ({"scales": [0, 1.0]}, "bayesian.scales[0]: found 0; expected exclusiveMinimum 0"),
        ({"measures": ["RD"]}, "bayesian.measures[0]: found 'RD'; expected one of RR, OR"),
        ({"mu_prior": "normal"}, "bayesian.mu_prior: found 'normal'"),
    ],
)
def test_a_bad_bayesian_section_is_refused_by_name(change, message):
    raw = copy.deepcopy(load_protocol().raw)
    raw["bayesian"].update(change)
    with pytest.raises(ProtocolError, match=re.escape(message)):
        check_protocol(raw)


def test_without_a_bayesian_section_there_are_no_bayesian_rows():
    protocol = load_protocol()
    raw = copy.deepcopy(protocol.raw)
    del raw["bayesian"]
    bare = Protocol(check_protocol(raw), protocol.path)
    assert bare.bayesian is None
    assert len(bayesian_results(load_evidence(), bare)) == 0


def test_one_row_per_declared_analysis_and_prior_scale(table):
    ev, plan = load_evidence(), load_protocol().bayesian
    rows = table[table["test"] == "posterior"]
    expected = [(a.id, m, bayes_method(s)) for a in planned_analyses(ev) for m in plan.measures for s in plan.scales]
    assert list(zip(rows["analysis"], rows["measure"], rows["method"])) == expected
    assert set(rows["method"]) == {"Bayes HN(0.5)", "Bayes HN(1)"}
    assert (rows["model"] == "random").all()
    assert rows[["p", "q", "q_p", "i2"]].isna().all().all()
    assert ((rows["k"] == 1) == (rows["pi_note"] == BAYES_NOTE_ONE_TRIAL)).all()
    assert table.loc[table["test"] != "posterior", "prob_above_null"].isna().all()
    # the same trials, patients and labels as the analysis's frequentist rows
    columns = ["analysis", "label", "k", "n_il2", "n_control", "studies", "inputs_derived"]
    frequentist = table[(table["test"] != "posterior") & (table["measure"] == "RR")][columns].drop_duplicates()
    assert (
        rows[columns]
        .drop_duplicates()
        .reset_index(drop=True)
        .equals(frequentist[frequentist["analysis"].isin(rows["analysis"])].reset_index(drop=True))
    )


def test_the_rows_are_the_posterior_that_r_computes(table):
    """Estimate = exp(posterior median of the mean log RR), CI = exp(95% credible interval), PI = exp(95%
    posterior predictive interval), tau2 = (posterior median of tau)², P(RR > 1) = P(mu > 0): against nested
    integration in R (exact.csv), to 1e-8."""
    exact = reference("exact.csv").set_index(["dataset", "scale"])
    rows = table[table["test"] == "posterior"]
    assert (
        len(rows) == 6
    )  # 3 declared two-arm analyses x 2 prior scales (protocols 1.6 and 1.7 withdrew 2 BILAG and the per-protocol analysis)
    for r in rows.to_dict("records"):
        ref = exact.loc[(r["analysis"], bayes_scale(r["method"]))]
        assert r["k"] == ref["k"]
        for ours, theirs in [
            (r["estimate"], math.exp(ref["mu_median"])),
            (r["ci_low"], math.exp(ref["mu_low"])),
            (r["ci_high"], math.exp(ref["mu_high"])),
            (r["pi_low"], math.exp(ref["theta_low"])),
            (r["pi_high"], math.exp(ref["theta_high"])),
            (r["tau2"], ref["tau_median"] ** 2),
            (r["prob_above_null"], ref["p_mu_gt_0"]),
        ]:
            assert ours == pytest.approx(theirs, rel=1e-8), r["analysis"]


def test_the_wider_prior_gives_wider_intervals(table):
    rows = table[table["test"] == "posterior"].set_index(["analysis", "method"])
    for analysis in rows.index.get_level_values(0).unique():
        main, wide = rows.loc[(analysis, "Bayes HN(0.5)")], rows.loc[(analysis, "Bayes HN(1)")]
        assert wide["ci_high"] / wide["ci_low"] > main["ci_high"] / main["ci_low"]
        assert wide["pi_high"] / wide["pi_low"] > main["pi_high"] / main["pi_low"]
        assert wide["tau2"] > main["tau2"]


def test_method_names_and_labels():
    assert bayes_method(0.5) == "Bayes HN(0.5)" and bayes_method(1.0) == "Bayes HN(1)"
    assert bayes_scale("Bayes HN(0.5)") == 0.5 and bayes_scale("Bayes HN(1)") == 1.0
    assert bayes_scale("REML") is None and bayes_scale("Bayes HN(1.2.3)") is None
    assert model_label("Bayes HN(0.5)", "posterior") == "Bayesian random effects (half-normal prior on τ, scale 0.5)"


@pytest.fixture(scope="module")
def bayes_row() -> ResultRow:
    """SYNTHETIC: two trials' log risk ratios."""
    fit = bayes_rma(np.log([1.8, 1.2]), [0.1, 0.02], scale=0.5, measure="RR")
    return ResultRow.from_bayes(
        fit,
        analysis="x",
        label="x",
        outcome="sri4",
        timepoint="week_12",
        population="A ITT; B ITT",
        n_il2=79,
        n_control=80,
        studies="A; B",
        inputs_derived=False,
    )


def test_a_bayesian_row_passes_the_schema(bayes_row):
    assert bayes_row.ci_low < bayes_row.estimate < bayes_row.ci_high
    assert bayes_row.pi_low < bayes_row.ci_low and bayes_row.pi_note == ""
    results_schema().validate(results_frame([bayes_row]))


@pytest.mark.parametrize(
    ("change", "column"),
    [({"prob_above_null": 1.5}, "prob_above_null"), ({"method": "Bayes HN(x)"}, "method"), ({"test": "t"}, "test")],
)
def test_a_malformed_bayesian_row_is_refused_by_name(bayes_row, change, column):
    with pytest.raises(pa.errors.SchemaErrors) as info:
        results_schema().validate(results_frame([dataclasses.replace(bayes_row, **change)]), lazy=True)
    assert column in set(info.value.failure_cases["column"].dropna())
