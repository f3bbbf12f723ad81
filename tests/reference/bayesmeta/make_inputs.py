"""Write ``inputs_book.csv``: the log risk ratios of this book's two-arm analyses, generated from data/.

Run from the repository root (``PYTHONPATH=src python tests/reference/bayesmeta/make_inputs.py``) whenever
data/ or protocol.yml change which trials an analysis pools; ``make_reference.R`` then reads the file.
One row per (analysis, trial): the counts that enter the analysis (IL-2 arms combined, as every main
analysis combines them) and metafor's ``escalc("RR")`` log risk ratio ``yi`` and variance ``vi``
(1/2 added to every cell of a trial with a zero cell), written with 17 significant digits.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.evidence.load import load_evidence
from helpers.review.selection import planned_analyses, two_arm_counts
from helpers.stats import effects

OUT = Path(__file__).parent / "inputs_book.csv"


def book_inputs() -> pd.DataFrame:
    ev = load_evidence()
    parts = []
    for a in planned_analyses(ev):
        counts = two_arm_counts(ev, a)
        es = effects.escalc(
            "RR",
            ai=counts["events_il2"],
            n1i=counts["total_il2"],
            ci=counts["events_control"],
            n2i=counts["total_control"],
        )
        parts.append(
            pd.DataFrame(
                {
                    "dataset": a.id,
                    "study": range(1, len(counts) + 1),
                    "label": counts["label"].to_numpy(),
                    "ai": counts["events_il2"].to_numpy(),
                    "n1i": counts["total_il2"].to_numpy(),
                    "ci": counts["events_control"].to_numpy(),
                    "n2i": counts["total_control"].to_numpy(),
                    "yi": es["yi"].to_numpy(float),
                    "vi": es["vi"].to_numpy(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


if __name__ == "__main__":
    book_inputs().to_csv(OUT, index=False, float_format="%.17g", lineterminator="\n")
    print(f"wrote {OUT}")
