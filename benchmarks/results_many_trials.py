"""Time ``python -m helpers results`` on the real data plus N SYNTHETIC trials (issue: < 2 s with 50).

Run: python benchmarks/results_many_trials.py [--trials 50] [--seed 2026] [--repeats 5]

A temporary folder gets a copy of data/ plus ``--trials`` SYNTHETIC trials (tests/synthetic_many.py:
deterministic in ``--seed``, a mix of two-arm and three-dose trials, labelled synthetic in every
field) and a copy of the bibliography with the synthetic entry; ``IL2_DATA_DIR`` and
``IL2_BIB_FILE`` point the command at them. Nothing is written into data/ or book/.

Printed, for the real data alone and for the data with the synthetic trials:

* the command as a user runs it: wall time, and CPU time, of ``python -m helpers results`` in a
  fresh interpreter (best and median of ``--repeats`` runs), with the tables validated by an earlier
  run read from the cache of validated tables (``helpers.evidence.validated_cache``); and, "cold", with
  an empty cache, as on the first run after the data change (every table validated);
* where that time goes, measured inside fresh interpreters (medians): importing the helpers
  (``helpers.evidence.load``, then ``helpers.review.results``), loading the data (the first load in
  the process: from the cache of validated tables where it has them), fitting every analysis,
  writing the CSV; and the heavy libraries the command imported.

The runs use Python's default bytecode cache (``__pycache__``), as a user's runs do: the benchmark
removes ``PYTHONDONTWRITEBYTECODE`` from the children's environment (some sandboxes set it, which makes
every run compile the whole package again) and makes one untimed run first.

The machine's load average is printed too: on a shared machine, compare runs made at the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 2.0
#: Libraries whose presence after the command is reported (those that dominate the import time).
HEAVY = ("pandas", "numpy", "scipy.stats", "pandera", "hypothesis", "matplotlib", "matplotlib.pyplot", "pytest")

#: Run in a fresh interpreter: the split of one ``results`` command, as JSON on stdout.
_SPLIT = """
import json, sys, time
t0 = time.perf_counter()
import helpers.evidence.load
t1 = time.perf_counter()
import helpers.review.results
t2 = time.perf_counter()
ev = helpers.evidence.load.load_evidence()
t3 = time.perf_counter()
table = helpers.review.results.results_table(ev)
t4 = time.perf_counter()
text = table.to_csv(index=False, float_format="%.12g", lineterminator="\\n")
t5 = time.perf_counter()
ev = helpers.evidence.load.load_evidence()
t6 = time.perf_counter()
helpers.review.results.results_table(ev)
t7 = time.perf_counter()
print(json.dumps({
    "import helpers.evidence.load": t1 - t0,
    "import helpers.review.results": t2 - t1,
    "load (first; cached tables)": t3 - t2,
    "fit every analysis": t4 - t3,
    "write CSV": t5 - t4,
    "load (cached, 2nd call)": t6 - t5,
    "fit (2nd call)": t7 - t6,
    "rows": len(table),
    "modules": {m: m in sys.modules for m in HEAVY_MODULES},
}))
"""


def build_folder(parent: Path, trials: int, seed: int) -> tuple[Path, Path]:
    """A copy of data/ with ``trials`` SYNTHETIC trials, and a bibliography with the synthetic entry."""
    sys.path.insert(0, str(ROOT))
    from tests import synthetic, synthetic_many

    folder = parent / "data"
    folder.mkdir(parents=True)
    for path in (ROOT / "data").glob("*.csv"):
        shutil.copy(path, folder / path.name)
    if trials:
        synthetic_many.add_trials(folder, trials, seed)
    return folder, synthetic.synthetic_bib(parent)


def _env(folder: Path | None, bib: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("IL2_DATA_DIR", None)
    env.pop("IL2_BIB_FILE", None)
    # Python's default, as a user runs the command: compiled modules are cached in __pycache__ (git ignores it).
    # Some sandboxes set PYTHONDONTWRITEBYTECODE, which makes every run compile the package again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if folder is not None:
        env["IL2_DATA_DIR"] = str(folder)
        env["IL2_BIB_FILE"] = str(bib)
    return env


def cold_env(env: dict[str, str], folder: Path) -> dict[str, str]:
    """``env`` with an empty cache of validated tables (helpers.evidence.validated_cache): every table is
    validated, as on the first run after the data change."""
    folder.mkdir(parents=True, exist_ok=True)
    return {**env, "IL2_VALIDATED_CACHE": str(folder)}


def time_command(env: dict[str, str], repeats: int, warm_up: bool = True) -> tuple[list[float], list[float], str]:
    """Wall and CPU (user + system) times of ``python -m helpers results`` in fresh interpreters, and its output.

    The command runs on one core, so its CPU time is close to its wall time on an idle machine
    and less sensitive than the wall time to other work on a busy one.
    """
    wall, cpu, out = [], [], ""
    if warm_up:  # not timed: the first run after a change compiles the package (writes __pycache__), once
        subprocess.run([sys.executable, "-m", "helpers", "results"], cwd=ROOT, env=env, capture_output=True, check=True)
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "helpers", "results"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        wall.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"python -m helpers results failed:\n{done.stderr}")
        out = done.stdout
    return wall, cpu, out


def time_split(env: dict[str, str], repeats: int) -> dict:
    """Medians of the in-process split over ``repeats`` fresh interpreters."""
    runs = []
    for _ in range(repeats):
        code = _SPLIT.replace("HEAVY_MODULES", repr(HEAVY))
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the split run failed:\n{done.stderr}")
        runs.append(json.loads(done.stdout))
    split = {k: statistics.median(r[k] for r in runs) for k, v in runs[0].items() if isinstance(v, float)}
    split["rows"] = runs[0]["rows"]
    split["modules"] = runs[0]["modules"]
    return split


def primary_k(csv_text: str) -> int:
    import csv
    import io

    rows = [r for r in csv.DictReader(io.StringIO(csv_text)) if r["analysis"] == "sri4_week12_rct"]
    return int(float(rows[0]["k"]))


def report(name: str, env: dict[str, str], repeats: int) -> dict:
    times, cpu, out = time_command(env, repeats)
    with tempfile.TemporaryDirectory(prefix="il2_cold_") as tmp:
        cold = [time_command(cold_env(env, Path(tmp) / str(i)), 1, warm_up=False)[0][0] for i in range(repeats)]
    split = time_split(env, repeats)
    best, median = min(times), statistics.median(times)
    print(f"\n== {name}")
    print(f"results table: {split['rows']} rows; primary analysis (sri4_week12_rct) k = {primary_k(out)}")
    verdict = "met" if median < TARGET_SECONDS else "NOT met"
    print(f"python -m helpers results, wall:  best {best:.2f} s, median {median:.2f} s  (target < 2 s: {verdict})")
    print(f"python -m helpers results, CPU:   best {min(cpu):.2f} s, median {statistics.median(cpu):.2f} s")
    cold_verdict = "met" if statistics.median(cold) < TARGET_SECONDS else "NOT met"
    print(
        f"  cold (no table validated before; first run after a data change): best {min(cold):.2f} s, "
        f"median {statistics.median(cold):.2f} s  (target: {cold_verdict})"
    )
    print("in-process split (medians of fresh interpreters):")
    for key, value in split.items():
        if isinstance(value, float):
            print(f"  {key:<28} {value:6.3f} s")
    imported = [m for m, present in split["modules"].items() if present]
    print("  heavy modules imported: " + ", ".join(imported))
    return {"wall_best": best, "wall_median": median, "cpu_median": statistics.median(cpu), **split}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=50, help="SYNTHETIC trials added to the real data (50)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the synthetic trials (2026)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each measurement (median reported; 5)")
    parser.add_argument("--no-real", action="store_true", help="skip the real-data-only measurement")
    args = parser.parse_args(argv)

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("PYTHONDONTWRITEBYTECODE is set here; the timed runs use Python's default (compiled modules cached)")
    if not args.no_real:
        report("real data (data/)", _env(None, None), args.repeats)
    with tempfile.TemporaryDirectory(prefix="il2_bench_") as tmp:
        folder, bib = build_folder(Path(tmp), args.trials, args.seed)
        report(f"real data + {args.trials} SYNTHETIC trials (seed {args.seed})", _env(folder, bib), args.repeats)
    print(f"\nload average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
