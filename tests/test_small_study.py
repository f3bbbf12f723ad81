"""Egger's regression test against metafor's regtest(model = "lm"), and the protocol's gate (k >= 10)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.evidence.load import load_evidence
from helpers.evidence.protocol import load_protocol
from helpers.review.analyses import analysis, fit, two_arm_counts
from helpers.stats import effects, pooling
from helpers.stats.small_study import egger_test, small_study_test

REF = Path(__file__).parent / "reference" / "metafor"


@pytest.fixture(scope="module")
def bcg():
    d = pd.read_csv(REF / "inputs_binary.csv")
    d = d[d["dataset"] == "dat.bcg"]
    return effects.escalc("RR", ai=d["ai"], bi=d["bi"], ci=d["ci"], di=d["di"])


def test_egger_matches_metafor_regtest_lm(bcg):
    ref = pd.read_csv(REF / "regtest.csv").iloc[0]
    t = egger_test(bcg["yi"], bcg["vi"])
    assert t.k == 13 and t.df == int(ref["dfs"]) == 11
    assert t.statistic == pytest.approx(ref["zval"], rel=1e-6)
    assert t.pval == pytest.approx(ref["pval"], rel=1e-6)
    assert t.limit_estimate == pytest.approx(ref["est"], rel=1e-6)
    assert t.limit_ci_low == pytest.approx(ref["ci_lb"], rel=1e-6)
    assert t.limit_ci_high == pytest.approx(ref["ci_ub"], rel=1e-6)


def test_the_protocol_gates_the_test(bcg):
    minimum = load_protocol().minimum_k("small_study_tests")
    assert minimum == 10
    big = pooling.rma(bcg["yi"], bcg["vi"], method="REML", measure="RR")
    assert small_study_test(big, minimum).k == 13
    ev = load_evidence()
    primary = analysis(ev, "sri4_week12_rct")
    assert small_study_test(fit(two_arm_counts(ev, primary), "RR", "REML", "z"), minimum) is None


def test_too_few_studies_is_an_error():
    with pytest.raises(ValueError, match="at least 3"):
        egger_test([0.1, 0.2], [0.01, 0.02])
