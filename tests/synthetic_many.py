"""Many SYNTHETIC trials at once, for the timing benchmark (benchmarks/results_many_trials.py).

Never in data/, never in the book: every trial is labelled synthetic in every field and cites the
synthetic bibliography entry of :mod:`tests.synthetic` (point ``IL2_BIB_FILE`` at
:func:`tests.synthetic.synthetic_bib`). The trials are drawn from a seeded random generator,
so a given (n, seed) always writes the same rows. Like :mod:`tests.synthetic`, they are added as
data rows only (studies, arms, outcomes, risk-of-bias ratings), as a review author would add a
real trial.

Each trial is either two-arm (IL-2 against placebo) or dose-ranging (three IL-2 doses against
one shared placebo arm), and reports, in its ITT population, the SRI-4 at weeks 12 and 24 and
patients with a BILAG A or 2 B score at weeks 12 and 24 (so it enters the primary analysis and
its sensitivity analyses, the later time point and the responder-index analyses), and, in its
safety population, a few adverse events over the trial period (so it enters the safety
comparisons).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from tests.synthetic import PROVENANCE, _append, _ratings, _study

#: Doses (MIU) of the IL-2 arms of a dose-ranging trial.
DOSES = ("0.5", "1.0", "1.5")
#: Adverse events every synthetic trial reports in both arms (trial period, safety population).
SAFETY_OUTCOMES = ("ae_injection_site_reaction", "ae_infection", "ae_fever")
#: (outcome, time point) of the efficacy counts every synthetic trial reports (ITT).
EFFICACY_OUTCOMES = (
    ("sri4", "week_12"),
    ("sri4", "week_24"),
    ("bilag_a_or_2b", "week_12"),
    ("bilag_a_or_2b", "week_24"),
)
#: Responder probabilities the counts are drawn from (IL-2 arm, control arm).
RATES = {"sri4": (0.50, 0.38), "bilag_a_or_2b": (0.30, 0.40), "ae_injection_site_reaction": (0.25, 0.06)}
DEFAULT_RATES = (0.12, 0.12)


@dataclass(frozen=True)
class SyntheticTrial:
    study_id: str
    label: str
    il2_arms: tuple[tuple[str, str], ...]  # (arm id, dose in MIU; "" for a single IL-2 arm)
    arm_size: int


def _counts(study_id: str, arm: str, outcome: str, timepoint: str, population: str, events: int, total: int) -> dict:
    return {
        "study_id": study_id,
        "arm": arm,
        "outcome": outcome,
        "timepoint": timepoint,
        "population": population,
        "statistic": "count",
        "events": str(events),
        "total": str(total),
        "percent": f"{100 * events / total:.2f}",
        **PROVENANCE,
        "note": "Primary endpoint; SYNTHETIC" if (outcome, timepoint) == ("sri4", "week_12") else "SYNTHETIC",
    }


def _draw(rng: random.Random, p: float, n: int) -> int:
    return sum(rng.random() < p for _ in range(n))


def plan_trials(n: int, seed: int = 2026, dose_ranging_every: int = 4) -> list[SyntheticTrial]:
    """``n`` trials; every ``dose_ranging_every``-th one is dose-ranging (three IL-2 arms)."""
    rng = random.Random(seed)
    trials = []
    for i in range(1, n + 1):
        dose_ranging = dose_ranging_every > 0 and i % dose_ranging_every == 0
        arms = tuple((f"il2_{d.replace('.', '_')}miu", d) for d in DOSES) if dose_ranging else (("il2", ""),)
        trials.append(SyntheticTrial(f"synthetic_many_{i:03d}", f"Synthetic M{i:03d}", arms, rng.randint(20, 60)))
    return trials


def add_trial(folder: Path, trial: SyntheticTrial, rng: random.Random) -> None:
    """Append one trial's rows (study, arms, outcome counts, risk-of-bias ratings) to the copy ``folder``."""
    sid, n = trial.study_id, trial.arm_size
    dose_ranging = len(trial.il2_arms) > 1
    dose = "" if dose_ranging else "1.0"
    reason = "registration and dose: SYNTHETIC" if dose_ranging else "registration: SYNTHETIC, none"
    _append(folder / "studies.csv", [_study(sid, trial.label, dose, reason)])
    arm_rows = []
    for population in ("itt", "analysed_safety"):
        for arm, arm_dose in trial.il2_arms:
            arm_rows.append(
                {
                    "study_id": sid,
                    "arm": arm,
                    "role": "il2",
                    "dose_miu": arm_dose,
                    "population": population,
                    "n": str(n),
                }
            )
        arm_rows.append({"study_id": sid, "arm": "placebo", "role": "placebo", "population": population, "n": str(n)})
    _append(folder / "arms.csv", [{**a, **PROVENANCE} for a in arm_rows])
    counts = []
    cells = [(o, t, "itt") for o, t in EFFICACY_OUTCOMES] + [
        (o, "trial_period", "analysed_safety") for o in SAFETY_OUTCOMES
    ]
    for outcome, timepoint, population in cells:
        p_il2, p_control = RATES.get(outcome, DEFAULT_RATES)
        for arm, _ in trial.il2_arms:
            counts.append(_counts(sid, arm, outcome, timepoint, population, _draw(rng, p_il2, n), n))
        counts.append(_counts(sid, "placebo", outcome, timepoint, population, _draw(rng, p_control, n), n))
    _append(folder / "outcomes.csv", counts)
    _ratings(folder, sid)


def add_trials(folder: Path, n: int = 50, seed: int = 2026, dose_ranging_every: int = 4) -> list[SyntheticTrial]:
    """Append ``n`` SYNTHETIC trials to the copy of data/ in ``folder`` (deterministic in ``seed``)."""
    if folder.resolve() == (Path(__file__).resolve().parents[1] / "data").resolve():
        raise ValueError("synthetic trials are never written into data/; pass a copy")
    trials = plan_trials(n, seed, dose_ranging_every)
    rng = random.Random(seed + 1)
    for trial in trials:
        add_trial(folder, trial, rng)
    return trials
