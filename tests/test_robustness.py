"""Robustness of the primary analysis (helpers.review.robustness) and its paragraph in the efficacy chapter.

Real values (issue 16) are checked against metafor (``tests/reference/single_trial``: ``scenarios.csv``,
``arm_splits.csv``); the synthetic trials of ``tests/synthetic.py`` check that every scenario follows from the
protocol and the data alone.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from helpers.chapters import efficacy as chapter
from helpers.evidence.load import load_evidence
from helpers.evidence.protocol import ProtocolError, check_protocol, load_protocol
from helpers.paths import BIB_ENV_VAR
from helpers.review import robustness
from tests import synthetic
from tests.conftest import edit_file

FOLDER = Path(__file__).parent / "reference" / "single_trial"
SCENARIOS = pd.read_csv(FOLDER / "scenarios.csv").set_index("scenario")
SPLITS = pd.read_csv(FOLDER / "arm_splits.csv")


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


@pytest.fixture(scope="module")
def table(ev):
    return robustness.robustness_table(ev).set_index("scenario")


def _values(row) -> tuple[float, float, float]:
    return row["estimate"], row["ci_low"], row["ci_high"]


# ---------------------------------------------------------------------------
# Real data (issue 16)
# ---------------------------------------------------------------------------
def test_primary_analysis_is_the_protocols(ev):
    assert robustness.primary_analysis(ev).id == "sri4_week12_rct"


def test_scenarios_match_metafor(table):
    """As analysed 1.33 (1.004 to 1.76); He 2020's unanalysed IL-2 patient as a non-responder (16/30): 1.32
    (0.99 to 1.74); one LUPIL-2 responder fewer (33/50): 1.30 (0.98 to 1.73)."""
    for scenario in ("as_analysed", "non_responders", "fragility"):
        ref = SCENARIOS.loc[scenario]
        assert _values(table.loc[scenario]) == pytest.approx((ref["rr"], ref["ci_low"], ref["ci_high"]), rel=1e-9)
    assert [round(x, 2) for x in _values(table.loc["non_responders"])] == [1.32, 0.99, 1.74]
    assert [round(x, 2) for x in _values(table.loc["fragility"])] == [1.30, 0.98, 1.73]
    assert table["crosses_1"].to_dict() == {
        "as_analysed": False,
        "non_responders": True,
        "fragility": True,
        "arm_split_lowest": True,
        "arm_split_highest": False,
    }
    assert list(table.reset_index().columns) == robustness.ROBUSTNESS_COLUMNS


def test_descriptions_come_from_the_data(table):
    assert table.loc["non_responders", "description"].endswith("(He 2020: 1 IL-2 patient)")
    assert table.loc["fragility", "description"] == "Fragility index 1: 1 responder fewer in the IL-2 arm of LUPIL-2"
    assert table.loc["arm_split_lowest", "description"].endswith("LUPIL-2 27/40 vs 35/60")
    assert table.loc["arm_split_highest", "description"].endswith("LUPIL-2 28/41 vs 34/59")


def test_non_responder_counts(ev):
    counts = robustness.non_responder_counts(ev, robustness.primary_analysis(ev)).set_index("label")
    assert counts.loc["He 2020", ["events_il2", "total_il2", "unanalysed_il2"]].tolist() == [16, 30, 1]
    assert counts.loc["He 2020", ["total_control", "unanalysed_control"]].tolist() == [30, 0]
    assert counts.loc["LUPIL-2", ["total_il2", "unanalysed_il2", "total_control"]].tolist() == [50, 0, 50]


def test_arm_splits_match_r(ev):
    """LUPIL-2's 100 patients split 40/60 to 60/40 whose counts give 68% and 58% (whole percent): the same six
    splits as R's enumeration, lower limits 0.997 to 1.014; He 2020's counts (reported sizes) stay fixed."""
    a = robustness.primary_analysis(ev)
    cand = robustness.split_candidates(ev, a)
    assert not cand.loc[cand["label"] == "He 2020", "varied"].any()
    lupil = cand[cand["label"] == "LUPIL-2"]
    got = lupil[["total_il2", "events_il2", "total_control", "events_control"]].to_numpy().tolist()
    assert got == SPLITS[["n_il2", "events_il2", "n_placebo", "events_placebo"]].to_numpy().tolist()
    splits = robustness.arm_splits(ev, a)
    assert splits["ci_low"].to_numpy() == pytest.approx(SPLITS["ci_low"].to_numpy(), rel=1e-9)
    assert splits["estimate"].to_numpy() == pytest.approx(SPLITS["rr"].to_numpy(), rel=1e-9)
    assert (round(splits["ci_low"].min(), 3), round(splits["ci_low"].max(), 3)) == (0.997, 1.014)
    assert splits["as_analysed"].sum() == 1 and splits["crosses_1"].sum() == 1


def test_each_trial_alone(ev):
    trials = robustness.trial_fragility(ev, robustness.primary_analysis(ev)).set_index("label")
    assert trials["fragility_index"].isna().all()  # neither trial is significant on its own
    assert trials.loc["He 2020", "fisher_p"] == pytest.approx(0.067278508255884328, rel=1e-9)  # R fisher.test


@pytest.mark.parametrize(
    ("percent", "decimals", "total", "events"),
    [(68.0, 0, 47, [32]), (58.0, 0, 53, [31]), (55.17, 2, 29, [16]), (83.3, 1, 24, [20]), (50.0, 0, 3, [])],
)
def test_consistent_events(percent, decimals, total, events):
    assert robustness.reported_decimals(percent) == decimals
    assert robustness.consistent_events(total, percent) == events


def test_chapter_values(ev):
    values = chapter.robustness_values(ev)
    assert values["sri4_fragility_index"] == "1"
    assert values["sri4_split_range"] == "0.997 to 1.014"
    assert values["sri4_nri_estimate"] == "1.32 (95% CI 0.99 to 1.74)"
    text = values["sri4_robustness_text"].text
    assert "(He 2020: one IL-2 patient), the risk ratio is 1.32 (95% CI 0.99 to 1.74)" in text
    assert (
        "with one responder fewer in the IL-2 arm of LUPIL-2 the risk ratio would be 1.30 (95% CI 0.98 to 1.73)" in text
    )
    assert "six reproduce the reported percentages" in text and "one of them includes 1" in text
    shown = chapter.robustness_table(ev)
    assert list(shown.columns) == ["Scenario", "RR", "95% CI", "Includes 1"]
    assert shown["95% CI"].tolist()[0] == "1.004 to 1.757"


# ---------------------------------------------------------------------------
# The protocol decides
# ---------------------------------------------------------------------------
def _protocol_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> None:
    text = load_protocol().path.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "protocol.yml").write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.setenv("IL2_PROTOCOL", str(tmp_path / "protocol.yml"))


def test_no_share_deviation_no_split_rows(tmp_path, monkeypatch):
    _protocol_with(tmp_path, monkeypatch, "max_share_deviation: 0.1", "max_share_deviation: 0")
    ev = load_evidence()
    table = robustness.robustness_table(ev)
    assert list(table["scenario"]) == ["as_analysed", "non_responders", "fragility"]
    assert robustness.arm_splits(ev, robustness.primary_analysis(ev)).empty
    assert chapter.robustness_values(ev)["sri4_split_range"] == "not applicable: no arm size is derived"


def test_a_wider_share_admits_more_splits(tmp_path, monkeypatch):
    """20 percentage points: R's enumeration with IL-2 arms of 30 to 70 finds 11 splits (31/69 ... 69/31)."""
    _protocol_with(tmp_path, monkeypatch, "max_share_deviation: 0.1", "max_share_deviation: 0.2")
    ev = load_evidence()
    splits = robustness.arm_splits(ev, robustness.primary_analysis(ev))
    assert len(splits) == 11 and round(splits["ci_low"].min(), 4) == 0.9938


def test_protocol_schema_checks_the_new_keys():
    import copy

    raw = copy.deepcopy(load_protocol().raw)
    raw["safety"]["single_trial"]["risk_difference"] = "exact"
    raw["safety"]["peto"]["max_event_risk"] = 0
    raw["robustness"]["arm_split"]["max_share_deviation"] = 0.7
    del raw["robustness"]["fragility"]
    with pytest.raises(ProtocolError) as info:
        check_protocol(raw)
    text = str(info.value)
    assert "safety.single_trial.risk_difference: found 'exact'; expected one of newcombe, wald" in text
    assert "safety.peto.max_event_risk: found 0" in text
    assert "robustness.arm_split.max_share_deviation: found 0.7" in text
    assert "robustness.fragility: found nothing" in text


# ---------------------------------------------------------------------------
# SYNTHETIC data
# ---------------------------------------------------------------------------
def test_every_randomised_patient_analysed(data_copy):
    """SYNTHETIC edit: He 2020 randomised 29 IL-2 patients: non-responder imputation changes nothing."""
    edit_file(data_copy / "arms.csv", "he2020,il2,il2,,randomised,30,", "he2020,il2,il2,,randomised,29,")
    table = robustness.robustness_table(load_evidence()).set_index("scenario")
    assert table.loc["non_responders", "description"].endswith("(none: every randomised patient is analysed)")
    assert _values(table.loc["non_responders"]) == pytest.approx(_values(table.loc["as_analysed"]), rel=1e-12)


def test_a_third_trial(data_copy, monkeypatch):
    """SYNTHETIC third trial (22/40 vs 16/40, sizes reported): it enters every scenario and adds no split; the
    fragility index, searched over all six arms, is 4 (four LUPIL-2 IL-2 responders fewer), as R finds
    (tests/reference/single_trial/pooled_fragility.csv)."""
    monkeypatch.setenv(BIB_ENV_VAR, str(synthetic.synthetic_bib(data_copy.parent)))
    synthetic.add_two_arm_trial(data_copy)
    ev = load_evidence()
    a = robustness.primary_analysis(ev)
    assert a.k == 3
    cand = robustness.split_candidates(ev, a)
    assert not cand.loc[cand["label"] == "Synthetic C", "varied"].any()
    f = robustness.fragility(ev, a)
    assert f.index == 4 and f.ai == (16, 30, 22) and f.ci == (9, 29, 16)
    table = robustness.robustness_table(ev, a).set_index("scenario")
    assert table.loc["fragility", "description"] == "Fragility index 4: 4 responders fewer in the IL-2 arm of LUPIL-2"
    assert not table.loc["as_analysed", "crosses_1"] and table.loc["fragility", "crosses_1"]
    assert len(robustness.arm_splits(ev, a)) == 6


def test_a_dose_ranging_trial_is_kept_as_analysed(data_copy, monkeypatch):
    """SYNTHETIC dose-ranging trial: its three IL-2 arms are combined, so no split of it is enumerated."""
    monkeypatch.setenv(BIB_ENV_VAR, str(synthetic.synthetic_bib(data_copy.parent)))
    synthetic.add_dose_ranging_trial(data_copy)
    ev = load_evidence()
    cand = robustness.split_candidates(ev, robustness.primary_analysis(ev))
    dose = cand[cand["label"] == "Synthetic dose-ranging"]
    assert len(dose) == 1 and not dose["varied"].any()
    assert dose[["events_il2", "total_il2"]].iloc[0].tolist() == [14 + 17 + 21, 3 * 38]
    assert not math.isnan(robustness.robustness_table(ev)["estimate"].iloc[0])
