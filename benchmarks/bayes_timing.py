"""Time one Bayesian random-effects fit (helpers.stats.bayes.bayes_rma) for k = 1 to 50 (issue: < 20 ms).

Run: python benchmarks/bayes_timing.py [--repeats 50]

SYNTHETIC trials (deterministic, heterogeneous log risk ratios); both half-normal scales of the
protocol; both algorithms ("quadrature", the default, and "direct", bayesmeta's grid, used only
to check against bayesmeta). Printed: median and 90th percentile of the wall time per fit, and
the machine's load average (on a shared machine, compare runs made at the same load).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from helpers.stats.bayes import bayes_rma

TARGET_MS = 20.0


def synthetic(k: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(1, k + 1)
    return 0.2 + 0.5 * np.sin(1.7 * i), 0.01 + 0.2 * ((i * 7) % 11) / 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"{'algorithm':<11} {'k':>3} {'scale':>5} {'median ms':>10} {'p90 ms':>8}")
    for algorithm in ("quadrature", "direct"):
        for k in (1, 2, 5, 10, 20, 50):
            y, v = synthetic(k)
            for scale in (0.5, 1.0):
                bayes_rma(y, v, scale=scale, algorithm=algorithm)
                times = []
                for _ in range(args.repeats if algorithm == "quadrature" else max(3, args.repeats // 10)):
                    start = time.perf_counter()
                    bayes_rma(y, v, scale=scale, algorithm=algorithm)
                    times.append(1e3 * (time.perf_counter() - start))
                p90 = float(np.percentile(times, 90))
                flag = "" if algorithm != "quadrature" or statistics.median(times) < TARGET_MS else "  > target"
                print(f"{algorithm:<11} {k:>3} {scale:>5} {statistics.median(times):>10.2f} {p90:>8.2f}{flag}")


if __name__ == "__main__":
    main()
