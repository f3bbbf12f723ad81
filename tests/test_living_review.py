"""The living review: the protocol and the data decide which trials enter, for any number of trials.

The trials added here are SYNTHETIC (tests/synthetic.py), added as data rows only, as a review
author would add a real one; no code or prose changes between the real and the synthetic runs.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.chapters import efficacy as chapter
from helpers.evidence.load import load_evidence
from helpers.evidence.protocol import ProtocolError, check_protocol, load_protocol
from helpers.paths import BIB_ENV_VAR
from helpers.review.analyses import analysis, planned_analyses, two_arm_counts
from helpers.review.claims import REGISTRY, ClaimFailed, failures, verify
from helpers.review.results import results_csv, results_table
from helpers.review.selection import dose_arm_counts
from tests import synthetic

REFERENCE = Path(__file__).parent / "reference" / "results_real_data.csv"
SINGLE_TRIAL_REFERENCE = Path(__file__).parent / "reference" / "single_trial" / "two_by_two.csv"
#: Analyses whose label text was rewritten when the protocol replaced the trial names written into the
#: code (their numbers are unchanged; see test_real_data_results_unchanged).
RELABELLED: set[str] = set()
#: Protocol 1.6: being free of BILAG A or 2 B after treatment is a state, not a response; these analyses
#: (and their Bayesian rows) are withdrawn.
WITHDRAWN = {"bilag_a2b_free_week12_rct", "bilag_a2b_free_week24_rct"}
#: Protocol 1.5 (issue 16), applied to the stored table deliberately: removed the pooled per-protocol analysis
#: sri4_week12_rct_pp (15 rows and its 2 Bayesian rows), the single-arm pools across indices and time points
#: response_rate_il2_arms and response_rate_placebo_arms (4), the median-to-mean rows
#: selena_sledai_week_{12,24}_md_estimated (2; now an appendix table, not results) and the two-trial leave-one-out
#: and regimen refits sri4_week12_rct_without_* and sri4_week12_rct_regimen_* (4; minimum_k 3); added the pools
#: within one role, outcome and time point response_rate_{il2,placebo}_arms_sri4_week_12 (4) and LUPIL-2's own
#: per-protocol result sri4_week12_rct_per_protocol_lupil2 (1); and every single-study row's tau2, i2, q and q_p
#: emptied (not applicable, were 0, 0, 0 and 1).
#: Issue 11, applied to the stored table deliberately: a pooled single-arm rate (PLO, PFT) has no p (its z-test
#: of a proportion of 0.5 on the logit scale, or of 0 for Freeman-Tukey, answers no reader's question; 8 rows).
#: Single-arm analyses: no comparator group, so n_control is empty (the stored table had 0 for one of them).
NO_CONTROL_GROUP = {"ae_injection_site_reaction_il2_arms"}
#: Protocol 1.1: harms compared in one trial are that trial's own result ("single_trial"), relabelled from
#: "Mantel-Haenszel, fixed": the RR keeps its estimate and interval (the MH interval of one table is the log
#: interval), the RD keeps its estimate and gets Newcombe's interval, p comes from Fisher's exact test, and
#: heterogeneity is not applicable (NaN, not 0).
#: Each with its row of the base-R reference (tests/reference/single_trial/two_by_two.csv).
SINGLE_TRIAL_HARMS = {
    "ae_injection_site_reaction_rct": "He 2020 injection-site reaction",
    "ae_fever_rct": "He 2020 fever",
    "ae_flu_like_rct": "He 2020 flu-like symptoms",
    "ae_infection_rct": "He 2020 infection",
    "ae_upper_respiratory_infection_rct": "He 2020 upper respiratory infection",
    "ae_severe_infection_rct": "He 2020 severe infection",
    "ae_severe_rct": "He 2020 severe adverse event",
}
#: Protocol 1.1: Peto's OR only where events are rare (< 1% in every arm) and arms balanced; none of these is.
PETO_REMOVED = {"ae_fever_rct", "ae_flu_like_rct", "ae_severe_infection_rct", "ae_severe_rct"}


@pytest.fixture
def synthetic_data(data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(BIB_ENV_VAR, str(synthetic.synthetic_bib(data_copy.parent)))
    return data_copy


# ---------------------------------------------------------------------------
# Real data: the protocol reproduces the book's analyses
# ---------------------------------------------------------------------------
def test_real_data_results_unchanged():
    """Every id, count and estimate equals the results table stored before the protocol drove the analyses.

    The stored table printed full float precision; the command now prints the 12 significant digits it
    documents, hence the relative tolerance. Text that changed: the labels that named trials, and one
    vocabulary for populations (display words, never data codes such as 'analysed_safety'). Deliberate
    changes of protocol 1.1 (single-trial harms, Peto's rule) are checked row by row in
    test_single_trial_harms_relabelled.
    """
    before = pd.read_csv(REFERENCE)
    before = before[~(before["analysis"].isin(PETO_REMOVED) & (before["method"] == "Peto"))]
    before = before[~before["analysis"].isin(set(SINGLE_TRIAL_HARMS) | WITHDRAWN)].reset_index(drop=True)
    now = pd.read_csv(pd.io.common.StringIO(results_csv(load_evidence())))
    assert not set(now["analysis"]) & WITHDRAWN
    now = now[~now["analysis"].isin(SINGLE_TRIAL_HARMS)].reset_index(drop=True)
    assert list(now["analysis"]) == list(before["analysis"])
    fixed = before["analysis"].isin(NO_CONTROL_GROUP)
    assert (before.loc[fixed, "n_control"] == 0).all() and now.loc[fixed, "n_control"].isna().all()
    numbers = [c for c in before.columns if c not in ("label", "population", "pi_note", "studies")]
    numbers = [c for c in numbers if pd.api.types.is_numeric_dtype(before[c])]
    for col in numbers:
        keep = ~fixed if col == "n_control" else slice(None)
        np.testing.assert_allclose(now.loc[keep, col], before.loc[keep, col], rtol=1e-10, err_msg=col)
    for col in ("analysis", "outcome", "timepoint", "measure", "model", "method", "test", "pi_note", "studies"):
        assert now[col].fillna("").tolist() == before[col].fillna("").tolist(), col
    changed = before.loc[now["label"] != before["label"], "analysis"]
    assert set(changed) == RELABELLED
    assert not now["population"].str.contains("analysed_|_set\\b|: ", regex=True).any()


def test_single_trial_harms_relabelled():
    """Protocol 1.1's deliberate change, row by row: the single trial's RR (where estimable) keeps its numbers;
    the RD keeps its estimate with Newcombe's interval; every p is Fisher's; the Peto rows are gone; every row
    says single trial, never Mantel-Haenszel or pooled. Reference values: base R (tests/reference/single_trial)."""
    before = pd.read_csv(REFERENCE)
    before = before[before["analysis"].isin(SINGLE_TRIAL_HARMS)].set_index(["analysis", "measure"])
    now = pd.read_csv(pd.io.common.StringIO(results_csv(load_evidence())))
    now = now[now["analysis"].isin(SINGLE_TRIAL_HARMS)]
    assert set(now["analysis"]) == set(SINGLE_TRIAL_HARMS)
    assert (now["model"] == "single_trial").all() and (now["test"] == "fisher").all() and (now["k"] == 1).all()
    assert set(now["method"]) == {"Katz", "Newcombe"} and set(now["measure"]) == {"RR", "RD"}
    assert now["label"].str.contains("single randomised trial").all()
    assert not now["label"].str.contains("pooled, |randomised trials", regex=True).any()
    assert now[["tau2", "i2", "q", "q_p"]].isna().all().all()
    assert (now["pi_note"] == "not applicable to a single trial").all()
    now = now.set_index(["analysis", "measure"])
    assert set(now.index) == {k for k in before.index if k[1] in ("RR", "RD")}  # no Peto row left
    reference = pd.read_csv(SINGLE_TRIAL_REFERENCE).set_index("label")
    for (analysis_id, measure), row in now.iterrows():
        old = before.loc[(analysis_id, measure)]
        assert row["estimate"] == pytest.approx(old["estimate"], rel=1e-10)
        assert (row["n_il2"], row["n_control"]) == (old["n_il2"], old["n_control"])
        ref = reference.loc[SINGLE_TRIAL_HARMS[analysis_id]]
        assert row["p"] == pytest.approx(ref["fisher_p"], rel=1e-9)
        if measure == "RR":
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((old["ci_low"], old["ci_high"]), rel=1e-10)
        else:
            assert (row["ci_low"], row["ci_high"]) == pytest.approx(
                (ref["newcombe_low"], ref["newcombe_high"]), rel=1e-9
            )


def test_real_data_selection():
    ev = load_evidence()
    ids = [a.id for a in planned_analyses(ev)]
    assert ids == [p.id for p in load_protocol().analyses]
    primary = analysis(ev, "sri4_week12_rct")
    assert primary.populations == (("he2020", "analysed_efficacy"), ("lupil2", "itt"))
    assert analysis(ev, "sri4_week24_rct").k == 1


# ---------------------------------------------------------------------------
# The protocol file
# ---------------------------------------------------------------------------
def test_protocol_errors_name_the_key():
    raw = copy.deepcopy(load_protocol().raw)
    raw["analyses"][1]["population_preference"][0] = "pp"
    raw["models"]["pooled"][0] = ["MH", "t"]
    raw["minimum_k"]["prediction_interval"] = 0
    del raw["question"]
    raw["analyses"][0]["sensitivity_of"] = "nowhere"
    with pytest.raises(ProtocolError) as info:
        check_protocol(raw)
    text = str(info.value)
    assert "analyses[1].population_preference[0]: found 'pp'; expected one of" in text
    assert "models.pooled[0][1]: found 't'; expected one of z, knha" in text
    assert "minimum_k.prediction_interval: found 0; expected minimum 1" in text
    assert "question: found nothing; expected this key to be given" in text


def test_protocol_cross_references_are_checked():
    raw = copy.deepcopy(load_protocol().raw)
    raw["analyses"][1]["sensitivity_of"] = "nowhere"
    raw["analyses"].append(copy.deepcopy(raw["analyses"][0]))
    with pytest.raises(ProtocolError) as info:
        check_protocol(raw)
    assert "analyses[1].sensitivity_of: found 'nowhere'" in str(info.value)
    assert "id 'sri4_week12_rct' is declared 2 times" in str(info.value)


def test_a_per_protocol_population_in_a_preference_is_refused():
    """Protocol 1.5: per_protocol.populations are never pooled, so no analysis may list them as a fallback."""
    raw = copy.deepcopy(load_protocol().raw)
    raw["analyses"][0]["population_preference"].append("per_protocol")
    with pytest.raises(ProtocolError, match=r"analyses\[0\]\.population_preference: found per_protocol"):
        check_protocol(raw)
    raw = copy.deepcopy(load_protocol().raw)
    raw["per_protocol"]["pooled"] = True
    with pytest.raises(ProtocolError, match="per_protocol.pooled: found True; expected False"):
        check_protocol(raw)
    raw = copy.deepcopy(load_protocol().raw)
    raw["single_arm_rates"]["pool_within"] = ["role", "outcome"]
    with pytest.raises(ProtocolError, match="single_arm_rates.pool_within"):
        check_protocol(raw)


def test_a_protocol_exclusion_takes_a_trial_out(tmp_path, monkeypatch):
    text = (Path(load_protocol().path)).read_text(encoding="utf-8")
    edited = text.replace("  exclusions: []", "  exclusions:\n    - {study_id: lupil2, reason: test of an exclusion}")
    assert edited != text
    path = tmp_path / "protocol.yml"
    path.write_text(edited, encoding="utf-8")
    monkeypatch.setenv("IL2_PROTOCOL", str(path))
    assert analysis(load_evidence(), "sri4_week12_rct").study_ids == ("he2020",)


# ---------------------------------------------------------------------------
# SYNTHETIC: a third two-arm trial
# ---------------------------------------------------------------------------
def test_a_third_trial_enters_every_analysis_it_qualifies_for(synthetic_data):
    sid = synthetic.add_two_arm_trial(synthetic_data)
    ev = load_evidence()
    primary = analysis(ev, "sri4_week12_rct")
    assert primary.study_ids == ("he2020", "lupil2", sid)
    results = results_table(ev).set_index(["analysis", "measure", "method", "test"])
    reml = results.loc[("sri4_week12_rct", "RR", "REML", "z")]
    assert reml["k"] == 3 and reml["n_il2"] == 29 + 50 + 40 and reml["n_control"] == 30 + 50 + 40
    assert np.isfinite(reml["pi_low"]) and reml["pi_low"] < reml["ci_low"]  # a prediction interval from k = 3
    assert "sri4_week12_rct_without_syntheticc" in results.index.get_level_values(0)
    # protocol 1.5: leave-one-out and the regimen subgroups run from three trials, with their tables
    refits = chapter.refit_values(ev, *chapter.refit_tables(ev))["sri4_refit_text"].text
    assert "Leaving out each of the three trials in turn" in refits and "| Trial left out |" in refits
    assert "| Synthetic C | 2 |" in refits
    assert "split by regimen (REML risk ratio), the test for a difference between the subgroups" in refits
    assert "not run" not in refits.split("Small-study")[0]
    values = chapter.primary_values(ev, results)
    assert "Synthetic C (intention to treat), 22/40 (55.0%) and 16/40 (40.0%)" in values["sri4_counts_text"].text
    assert (
        values["sri4_endpoint_text"]
        == "All three trials chose the SRI-4 at week 12 as their primary endpoint and none met it."
    )
    assert values["sri4_k_words"] == "three trials"
    assert "t distribution on 2 degrees of freedom" in values["sri4_few_trials_text"].text
    assert (
        "A prediction interval for the effect in a new trial is not estimable"
        not in values["sri4_few_trials_text"].text
    )
    assert verify(ev, "efficacy") == sum(c.chapter == "efficacy" for c in REGISTRY.values())


def test_a_trial_meeting_its_endpoint_changes_the_sentence(synthetic_data):
    synthetic.add_two_arm_trial(synthetic_data, p_value="0.01")
    ev = load_evidence()
    results = results_table(ev).set_index(["analysis", "measure", "method", "test"])
    text = chapter.primary_values(ev, results)["sri4_endpoint_text"]
    assert text.endswith("Synthetic C met it and the others did not.")


def test_a_claim_the_data_contradict_fails_by_name(synthetic_data):
    synthetic.add_two_arm_trial(synthetic_data, note="Secondary endpoint; SYNTHETIC")
    ev = load_evidence()
    assert set(failures(ev, "efficacy")) == {"rct_primary_endpoint_is_sri4"}
    with pytest.raises(ClaimFailed, match="rct_primary_endpoint_is_sri4.*synthetic_trial_c sri4 week_12"):
        verify(ev, "efficacy")


# ---------------------------------------------------------------------------
# SYNTHETIC: a three-dose trial sharing one placebo arm
# ---------------------------------------------------------------------------
def test_dose_arms_are_combined_and_the_placebo_arm_counted_once(synthetic_data):
    sid = synthetic.add_dose_ranging_trial(synthetic_data)
    ev = load_evidence()
    primary = analysis(ev, "sri4_week12_rct")
    assert primary.k == 3
    row = two_arm_counts(ev, primary).set_index("study_id").loc[sid]
    n = synthetic.DOSE_ARM_SIZE
    assert row["events_il2"] == sum(e for _, _, e in synthetic.DOSE_ARMS) and row["total_il2"] == 3 * n
    assert row["events_control"] == synthetic.DOSE_PLACEBO_RESPONDERS and row["total_control"] == n
    assert row["il2_arms"] == 3
    doses = dose_arm_counts(ev, primary)
    mine = doses[doses["study_id"] == sid]
    assert sorted(mine["dose_miu"]) == [0.2, 0.5, 1.0]
    # split evenly: the placebo patients add up to the arm, never more
    assert mine["total_control"].sum() == pytest.approx(n) and mine["events_control"].sum() == pytest.approx(12)
    results = results_table(ev).set_index(["analysis", "measure", "method", "test"])
    assert results.loc[("sri4_week12_rct", "RR", "MH", "z"), "n_control"] == 30 + 50 + n
    text = chapter.primary_values(ev, results)["sri4_counts_text"].text
    assert "52/114 (45.6%), three IL-2 dose arms combined, and 12/38 (31.6%)" in text


def test_a_dose_arm_without_its_dose_is_refused(synthetic_data):
    synthetic.add_dose_ranging_trial(synthetic_data)
    path = synthetic_data / "arms.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("il2_0_5miu,il2,0.5,", "il2_0_5miu,il2,,"), "utf-8")
    from helpers.evidence.load import DataValidationError

    with pytest.raises(DataValidationError, match="the arm's dose in dose_miu, since the study has several IL-2 arms"):
        load_evidence()


def test_both_synthetic_trials_together(synthetic_data):
    synthetic.add_two_arm_trial(synthetic_data)
    synthetic.add_dose_ranging_trial(synthetic_data)
    ev = load_evidence()
    assert analysis(ev, "sri4_week12_rct").k == 4
    loo = results_table(ev)
    assert loo["analysis"].str.startswith("sri4_week12_rct_without_").sum() == 4


def test_dose_subgroups_count_each_placebo_patient_once(synthetic_data):
    """With the three-dose trial and a third 1 MIU trial, the 1 MIU subgroup has three trials; across the dose
    subgroups the comparator patients add up to the trials' placebo arms, never more."""
    synthetic.add_two_arm_trial(synthetic_data)
    synthetic.add_dose_ranging_trial(synthetic_data)
    ev = load_evidence()
    primary = analysis(ev, "sri4_week12_rct")
    doses = dose_arm_counts(ev, primary)
    assert doses["total_control"].sum() == pytest.approx(30 + 50 + 40 + synthetic.DOSE_ARM_SIZE)
    from helpers.review.efficacy import dose_subgroup_results

    rows = dose_subgroup_results(ev, primary).set_index("analysis")
    assert list(rows.index) == [
        "sri4_week12_rct_dose_0_2miu",
        "sri4_week12_rct_dose_0_5miu",
        "sri4_week12_rct_dose_1miu",
        "sri4_week12_rct_dose_1_5miu",
    ]
    assert rows.loc["sri4_week12_rct_dose_1miu", "k"] == 3
    results = results_table(ev)
    assert results["analysis"].str.contains("_dose_").sum() == 4
    text = chapter.refit_values(ev, *chapter.refit_tables(ev))["sri4_refit_text"].text
    assert "no placebo patient is counted twice" in text and "1 MIU: " in text


def test_no_dose_subgroups_with_one_trial_per_dose():
    ev = load_evidence()
    from helpers.review.efficacy import dose_subgroup_results

    assert dose_subgroup_results(ev, analysis(ev, "sri4_week12_rct")).empty
