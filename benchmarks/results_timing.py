"""Time the complete results computation (load and validate data/, fit every analysis).

Run: python benchmarks/results_timing.py [repeats]
Prints the import time once and the best and median of the computation over the repeats.
Target (issue 3): under 2 s for everything on 2 cores.
"""

from __future__ import annotations

import statistics
import sys
import time

t0 = time.perf_counter()
from helpers.evidence.load import load_evidence  # noqa: E402
from helpers.review.results import results_table  # noqa: E402 - timed on purpose

import_seconds = time.perf_counter() - t0


def main(repeats: int = 10) -> None:
    load, fit = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        ev = load_evidence()
        t_load = time.perf_counter()
        table = results_table(ev)
        t_fit = time.perf_counter()
        load.append(t_load - t)
        fit.append(t_fit - t_load)
    total = [a + b for a, b in zip(load, fit)]
    print(f"rows in the results table: {len(table)}")
    print(f"import helpers (once):       {import_seconds:7.3f} s")
    print(f"load + validate data:        best {min(load):.3f} s, median {statistics.median(load):.3f} s")
    print(f"fit every analysis:          best {min(fit):.3f} s, median {statistics.median(fit):.3f} s")
    print(f"complete (load + fit):       best {min(total):.3f} s, median {statistics.median(total):.3f} s")
    print(f"complete incl. import:       {import_seconds + statistics.median(total):.3f} s (target < 2 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
