"""The reproduction scorecard (helpers.review.scorecard): real verdicts, and verdicts that move
when SYNTHETIC data change the facts they rest on."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.evidence.load import load_evidence
from helpers.paths import BIB_ENV_VAR
from helpers.review import scorecard
from tests import synthetic


def _by_claim(ev) -> dict[str, scorecard.Score]:
    return {s.claim: s for s in scorecard.scorecard(ev)}


def test_real_verdicts():
    s = _by_claim(load_evidence())
    assert [x.claim for x in scorecard.scorecard(load_evidence())] == [
        "Records retrieved",
        "Studies and patients",
        "Treg and response",
        "Primary endpoints of the RCTs",
        "Safety",
        "Responder indices",
    ]
    assert s["Records retrieved"].verdict == "not reproducible"
    totals = s["Studies and patients"]
    assert totals.verdict == "partly reproduced"
    assert totals.review_says == "6 studies, 230 patients (150 on IL-2, 80 on placebo)"
    assert "137 on IL-2, 80 on placebo" in totals.book_finds
    assert totals.reason.startswith("the total of patients on placebo matches; studies (6 against 5)")
    assert s["Primary endpoints of the RCTs"].verdict == "reproduced"
    assert s["Primary endpoints of the RCTs"].book_finds == "He 2020: p = 0.052; LUPIL-2: p = 0.3439 (as reported)"
    assert s["Treg and response"].verdict == "partly reproduced"
    assert s["Treg and response"].book_finds == "both reported in 2 of 3 open-label studies (He 2016 and PRO-IMMUN)"
    safety = s["Safety"]
    assert safety.verdict == "partly reproduced"
    assert safety.book_finds.startswith("adverse-event counts for 69 of 137 IL-2 patients")
    assert "a comparison with placebo for 29 (He 2020)" in safety.book_finds
    assert safety.reason.startswith("no study reports a death")
    assert s["Responder indices"].verdict == "not reproducible"


@pytest.fixture
def with_third_trial(data_copy: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(BIB_ENV_VAR, str(synthetic.synthetic_bib(data_copy.parent)))
    return data_copy


def test_a_trial_meeting_its_primary_endpoint_contradicts_the_review(with_third_trial):
    synthetic.add_two_arm_trial(with_third_trial, p_value="0.01")
    s = _by_claim(load_evidence())["Primary endpoints of the RCTs"]
    assert s.verdict == "contradicted"
    assert "reports p below 0.05" in s.reason
    assert "p = 0.01" in s.book_finds


def test_a_trial_that_also_missed_keeps_the_verdict_and_counts_it(with_third_trial):
    synthetic.add_two_arm_trial(with_third_trial, p_value="0.40")
    s = _by_claim(load_evidence())
    assert s["Primary endpoints of the RCTs"].verdict == "reproduced"
    assert "(3 trials)" in s["Primary endpoints of the RCTs"].reason
    assert "3 studies" not in s["Studies and patients"].book_finds  # now 6 studies reconstructed
    assert s["Studies and patients"].book_finds.startswith("6 studies reconstructed")
