"""SYNTHETIC trials for the tests: never in data/, never in the book, labelled synthetic in every field.

Each function appends the rows a trial needs to a copy of data/ (and a synthetic entry to a
copy of the bibliography), as a review author would add a real trial: no code or prose is
edited, so whatever changes in the analyses comes from the protocol and the data alone.
"""

from __future__ import annotations

import csv
from pathlib import Path

from helpers.paths import ROOT

SYNTHETIC_KEY = "synthetic_fixture"
SYNTHETIC_BIB = """
@misc{synthetic_fixture,
  title = {SYNTHETIC test fixture: not a real trial},
  author = {{Synthetic test data}},
  year = {2099},
  note = {Made up for the test suite; never part of the review}
}
"""
PROVENANCE = {"status": "reported", "source": SYNTHETIC_KEY, "locator": "SYNTHETIC", "evidence_ref": "S1"}


def _append(path: Path, rows: list[dict]) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with path.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})


def synthetic_bib(folder: Path) -> Path:
    """A copy of the bibliography with the synthetic entry (point IL2_BIB_FILE at it)."""
    path = folder / "references_with_synthetic.bib"
    path.write_text((ROOT / "book" / "references.bib").read_text(encoding="utf-8") + SYNTHETIC_BIB, encoding="utf-8")
    return path


#: When a synthetic trial was "published" unless a test says otherwise: inside the review window, so it enters the
#: review's analyses (a test of the update window passes a date after the review's search).
REVIEW_WINDOW_DATE = "2021-06"


def _study(study_id: str, label: str, dose: str, na_reason: str, published: str = REVIEW_WINDOW_DATE) -> dict:
    return {
        "study_id": study_id,
        "label": label,
        "citation_key": SYNTHETIC_KEY,
        "design": "rct",
        "design_detail": "SYNTHETIC test fixture",
        "population": "SYNTHETIC",
        "agent": "aldesleukin",
        "dose_miu": dose,
        "frequency": "every other day",
        "cycles": "3",
        "duration": "12 weeks",
        "regimen_group": "every_other_day",
        "inclusion_status": "included",
        "inclusion_reason": "SYNTHETIC test fixture: not a real trial",
        "published": published,
        **PROVENANCE,
        "na_reason": na_reason,
    }


def _count(study_id: str, arm: str, events: int, total: int, p: str = "", note: str = "") -> dict:
    return {
        "study_id": study_id,
        "arm": arm,
        "outcome": "sri4",
        "timepoint": "week_12",
        "population": "itt",
        "statistic": "count",
        "events": str(events),
        "total": str(total),
        "percent": f"{100 * events / total:.2f}",
        "p_value": p,
        "p_comparison": "between_arms" if p else "",
        **PROVENANCE,
        "note": note,
    }


def _ratings(folder: Path, study_id: str) -> None:
    with (folder / "downs_black_items.csv").open(newline="", encoding="utf-8") as fh:
        items = [r["item"] for r in csv.DictReader(fh)]
    _append(
        folder / "risk_of_bias.csv",
        [
            {
                "study_id": study_id,
                "item": item,
                "answer": "unable_to_determine",
                "rationale": "SYNTHETIC test fixture (S1): not a real trial",
                **PROVENANCE,
                "status": "not_reported",
                "na_reason": "SYNTHETIC test fixture",
            }
            for item in items
        ],
    )


def _context(folder: Path, study_id: str) -> None:
    """The study-context facts every included study gives (data/study_context.csv), all not reported."""
    from helpers.evidence.clinical_tables import FACTS

    _append(
        folder / "study_context.csv",
        [
            {"study_id": study_id, "fact": fact, **PROVENANCE, "status": "not_reported", "na_reason": "SYNTHETIC"}
            for fact, _ in FACTS
        ],
    )


def add_two_arm_trial(
    folder: Path,
    p_value: str = "0.40",
    note: str = "Primary endpoint; SYNTHETIC",
    published: str = REVIEW_WINDOW_DATE,
) -> str:
    """A third placebo-controlled trial with SRI-4 week-12 counts (SYNTHETIC), published on ``published``."""
    sid = "synthetic_trial_c"
    _append(folder / "studies.csv", [_study(sid, "Synthetic C", "1.0", "registration: SYNTHETIC, none", published)])
    _append(
        folder / "arms.csv",
        [
            {"study_id": sid, "arm": "il2", "role": "il2", "population": "randomised", "n": "40", **PROVENANCE},
            {"study_id": sid, "arm": "placebo", "role": "placebo", "population": "randomised", "n": "40", **PROVENANCE},
        ],
    )
    _append(
        folder / "outcomes.csv",
        [_count(sid, "il2", 22, 40, p_value, note), _count(sid, "placebo", 16, 40)],
    )
    _ratings(folder, sid)
    _context(folder, sid)
    return sid


#: (arm, dose in MIU, responders) of the synthetic dose-ranging trial; 38 patients per arm.
DOSE_ARMS = (("il2_0_2miu", "0.2", 14), ("il2_0_5miu", "0.5", 17), ("il2_1miu", "1.0", 21))
DOSE_ARM_SIZE = 38
DOSE_PLACEBO_RESPONDERS = 12


def add_dose_ranging_trial(folder: Path) -> str:
    """A 1:1:1:1 trial of three IL-2 doses against one placebo arm (SYNTHETIC)."""
    sid = "synthetic_dose_ranging"
    _append(folder / "studies.csv", [_study(sid, "Synthetic dose-ranging", "", "registration and dose: SYNTHETIC")])
    arms = [
        {"study_id": sid, "arm": a, "role": "il2", "dose_miu": d, "population": "randomised", "n": str(DOSE_ARM_SIZE)}
        for a, d, _ in DOSE_ARMS
    ]
    arms.append(
        {"study_id": sid, "arm": "placebo", "role": "placebo", "population": "randomised", "n": str(DOSE_ARM_SIZE)}
    )
    _append(folder / "arms.csv", [{**a, **PROVENANCE} for a in arms])
    counts = [
        _count(sid, a, e, DOSE_ARM_SIZE, "0.30" if a == DOSE_ARMS[-1][0] else "", "Primary endpoint; SYNTHETIC")
        for a, _, e in DOSE_ARMS
    ]
    counts.append(_count(sid, "placebo", DOSE_PLACEBO_RESPONDERS, DOSE_ARM_SIZE))
    _append(folder / "outcomes.csv", counts)
    _ratings(folder, sid)
    _context(folder, sid)
    return sid
