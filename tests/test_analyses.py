"""The book's named analyses: inputs from data/, estimates checked against metafor and by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.evidence.load import load_evidence
from helpers.evidence.protocol import load_protocol
from helpers.paths import ROOT
from helpers.review.analyses import (
    EFFICACY_ROLES,
    RESULT_COLUMNS,
    analysis,
    forest_inputs,
    planned_analyses,
    two_arm_counts,
)
from helpers.review.results import results_csv, results_table
from tests.conftest import edit_file

REF = Path(__file__).parent / "reference" / "metafor"
REL = 1e-6


@pytest.fixture(scope="module")
def results():
    return results_table(load_evidence()).set_index(["analysis", "measure", "method", "test"])


def test_sri4_week12_inputs_come_from_the_data():
    counts = two_arm_counts(load_evidence(), analysis(load_evidence(), "sri4_week12_rct"))
    assert counts[["label", "events_il2", "total_il2", "events_control", "total_control"]].values.tolist() == [
        ["He 2020", 16, 29, 9, 30],
        ["LUPIL-2", 34, 50, 29, 50],
    ]
    assert counts["derived"].tolist() == [True, True]
    assert analysis(load_evidence(), "sri4_week12_rct").populations == (
        ("he2020", "analysed_efficacy"),
        ("lupil2", "itt"),
    )


def test_metafor_two_rct_demo_is_this_books_primary_data():
    """metafor's two_rct_demo reference set holds exactly these counts, so its outputs are our oracle."""
    inputs = pd.read_csv(REF / "inputs_binary.csv")
    demo = inputs[inputs["dataset"] == "two_rct_demo"]
    assert demo[["ai", "n1i", "ci", "n2i"]].values.tolist() == [[16, 29, 9, 30], [34, 50, 29, 50]]


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
@pytest.mark.parametrize("method, test", [("REML", "z"), ("REML", "knha"), ("DL", "z"), ("DL", "knha")])
def test_random_effects_match_metafor(results, measure, method, test):
    ref = pd.read_csv(REF / "pooled.csv")
    control = "tight" if method == "REML" else "default"  # our REML is exact; metafor's default stops at 1e-5
    r = ref[
        (ref["dataset"] == "two_rct_demo")
        & (ref["measure"] == measure)
        & (ref["method"] == method)
        & (ref["test"] == test)
        & (ref["control"] == control)
    ].iloc[0]
    ours = results.loc[("sri4_week12_rct", measure, method, test)]
    scale = (lambda x: x) if measure == "RD" else np.exp
    for col, ref_col in [("estimate", "estimate"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub")]:
        assert ours[col] == pytest.approx(scale(r[ref_col]), rel=REL)
    assert ours["tau2"] == pytest.approx(r["tau2"], rel=REL, abs=1e-12)
    assert ours["i2"] == pytest.approx(r["I2"], rel=REL, abs=1e-10)
    assert ours["q"] == pytest.approx(r["QE"], rel=REL)
    assert ours["p"] == pytest.approx(r["pval"], rel=REL)
    assert np.isnan(ours["pi_low"]) and "at least 3 studies" in ours["pi_note"]


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_mantel_haenszel_matches_metafor(results, measure):
    ref = pd.read_csv(REF / "mh_peto.csv")
    r = ref[(ref["dataset"] == "two_rct_demo") & (ref["method"] == "MH") & (ref["measure"] == measure)].iloc[0]
    ours = results.loc[("sri4_week12_rct", measure, "MH", "z")]
    scale = (lambda x: x) if measure == "RD" else np.exp
    assert ours["estimate"] == pytest.approx(scale(r["estimate"]), rel=REL)
    assert ours["ci_low"] == pytest.approx(scale(r["ci_lb"]), rel=REL)
    assert ours["ci_high"] == pytest.approx(scale(r["ci_ub"]), rel=REL)
    assert ours["p"] == pytest.approx(r["pval"], rel=REL)


def test_mantel_haenszel_risk_ratio_by_hand(results):
    """RR_MH = sum(a n2 / N) / sum(c n1 / N), written out for He 2020 (16/29 vs 9/30) and LUPIL-2 (34/50 vs 29/50)."""
    by_hand = (16 * 30 / 59 + 34 * 50 / 100) / (9 * 29 / 59 + 29 * 50 / 100)
    assert results.loc[("sri4_week12_rct", "RR", "MH", "z"), "estimate"] == pytest.approx(by_hand, rel=1e-12)
    # protocol 1.5: no pooled per-protocol analysis; LUPIL-2's per-protocol set is that trial's own result
    assert not any(a.startswith("sri4_week12_rct_pp") for a in results.index.get_level_values(0))


def test_results_table_shape_and_columns(results):
    table = results_table(load_evidence())
    assert list(table.columns) == RESULT_COLUMNS
    planned = planned_analyses(load_evidence(), roles=EFFICACY_ROLES)
    pooled = [a for a in planned if len(a.populations) > 1]
    single = [a for a in planned if len(a.populations) == 1]
    assert (len(pooled), len(single)) == (1, 2)
    bayesian = load_protocol().bayesian  # plus one Bayesian row per measure and prior scale, each analysis
    n_bayes = len(bayesian.measures) * len(bayesian.scales)
    rows = table[table["analysis"].isin([a.id for a in planned])]
    assert len(rows) == 3 * (5 * len(pooled) + len(single)) + n_bayes * len(planned)
    assert (rows["test"] == "posterior").sum() == n_bayes * len(planned)
    table = table[table["analysis"].isin([a.id for a in pooled]) & (table["test"] != "posterior")]
    assert (table["k"] == 2).all() and table["inputs_derived"].all()
    assert set(table.loc[table["model"] == "fixed", "pi_note"]) == {"not applicable to a fixed-effect model"}
    knha = table[table["test"] == "knha"].set_index(["analysis", "measure", "method"])
    z = table[table["test"] == "z"].set_index(["analysis", "measure", "method"])
    wider = (knha["ci_high"] - knha["ci_low"]) > (z.loc[knha.index, "ci_high"] - z.loc[knha.index, "ci_low"])
    assert wider.all()  # with two studies the t(1) interval is far wider


def test_a_per_protocol_count_never_stands_in_for_a_missing_itt_count(data_copy):
    """Protocol 1.5: per-protocol populations are in no preference order, so without LUPIL-2's ITT placebo count
    the trial leaves the primary analysis instead of entering with its per-protocol set, which is still reported
    as its own result."""
    edit_file(
        data_copy / "outcomes.csv",
        "lupil2,placebo,sri4,week_12,itt,count,29,50,58",
        "lupil2,placebo,sri4,week_12,itt,count,,,58",
    )
    edit_file(
        data_copy / "outcomes.csv",
        'assuming 50 per arm (100 randomised 1:1; dossier D9)",,,\n',
        'assuming 50 per arm (100 randomised 1:1; dossier D9)",counts: see the IL-2 row,,\n',
    )
    ev = load_evidence()
    primary = analysis(ev, "sri4_week12_rct")
    assert primary.populations == (("he2020", "analysed_efficacy"),)
    from helpers.review.efficacy import per_protocol_results

    assert list(per_protocol_results(ev)["label"]) == ["LUPIL-2"]


def test_an_arm_without_its_count_is_an_error_naming_the_study():
    ev = load_evidence()
    planned = analysis(ev, "sri4_week12_rct")
    wrong = type(planned)(**{**planned.__dict__, "populations": (("lupil2", "analysed_safety"),)})
    with pytest.raises(ValueError, match="lupil2, population analysed_safety"):
        two_arm_counts(ev, wrong)


def test_forest_inputs_note_the_missing_prediction_interval_once():
    inputs = forest_inputs(load_evidence(), analysis(load_evidence(), "sri4_week12_rct"), "RR")
    assert list(inputs["pooled"]["label"]) == [
        "Fixed effect (Mantel-Haenszel)",
        "Random effects (REML)",
        "Random effects (REML), Hartung-Knapp",
    ]
    assert sum("No prediction interval" in n for n in inputs["notes"]) == 1
    assert inputs["studies"]["weight"].sum() == pytest.approx(100)


def test_single_trial_analysis_is_the_trials_own_estimate(results):
    """He 2020 SRI-4 week 24, 19/29 vs 11/30: RR = (19/29)/(11/30), var = 1/19 - 1/29 + 1/11 - 1/30."""
    row = results.loc[("sri4_week24_rct", "RR", "FE", "z")]
    rr = (19 / 29) / (11 / 30)
    se = np.sqrt(1 / 19 - 1 / 29 + 1 / 11 - 1 / 30)
    assert row["estimate"] == pytest.approx(rr, rel=1e-12)
    assert row["ci_low"] == pytest.approx(np.exp(np.log(rr) - 1.959963984540054 * se), rel=1e-9)
    assert row["k"] == 1 and "no pooling" not in row["pi_note"]


def test_results_command_prints_the_table_as_csv():
    out = subprocess.run(
        [sys.executable, "-m", "helpers", "results"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out == results_csv(load_evidence())
    assert out.splitlines()[0].split(",") == RESULT_COLUMNS


def test_results_csv_is_rewritten_only_when_it_changes(tmp_path):
    from helpers.review.results import write_results_csv

    ev = load_evidence()
    path = tmp_path / "results.csv"
    assert write_results_csv(ev, path) is True
    assert write_results_csv(ev, path) is False  # unchanged: the file (and its mtime) are left alone
    assert path.read_text(encoding="utf-8") == results_csv(ev)


def test_forest_study_rows_come_from_the_fit():
    """The fit carries yi, vi and labels, so the forest plot's study rows equal escalc's, with the fit's weights."""
    from helpers.report.forest import study_rows
    from helpers.review.analyses import fit, study_effects

    counts = two_arm_counts(load_evidence(), analysis(load_evidence(), "sri4_week12_rct"))
    reml = fit(counts, "RR", "REML", "z")
    rows = study_rows(reml)
    direct = study_effects(counts, "RR")
    assert list(rows["label"]) == ["He 2020", "LUPIL-2"]
    for col in ("yi", "vi", "estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(rows[col], direct[col], rtol=1e-12)
    assert rows["weight"].sum() == pytest.approx(100)
