"""Time the book's builds and the test suite against a floor measured in the same run.

Run: python benchmarks/build_timing.py [--skip-tests] [--repeat N]

The floor is a clean build of a throwaway book with as many trivial notebooks as the
real one, each importing the same stack (pandas, matplotlib, statsmodels, the helpers):
what executing that many kernels costs before any of the book's own work. Printed:

  (a) clean build          seconds and ratio to the floor (target <= 1.3)
  (b) rebuild, no change   seconds (target < 5 s)
  (c) rebuild after editing one data file: seconds, and whether the new number shows
  (d) the test suite (pytest), seconds and ratio to the floor
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
JB = str(Path(sys.executable).parent / "jupyter-book")
STACK = (
    "import pandas, matplotlib, statsmodels.api, scipy.stats\n"
    "import helpers.evidence.load, helpers.stats.pooling, helpers.report.forest"
)


def run(cmd: list[str], env: dict | None = None, cwd: Path = ROOT) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, result


def floor_book(folder: Path, n: int) -> Path:
    """A book of n trivial notebooks that only import the stack."""
    book = folder / "floor"
    book.mkdir(parents=True)
    (book / "_config.yml").write_text(
        "title: floor\nexecute:\n  execute_notebooks: force\nonly_build_toc_files: true\n"
    )
    chapters = "\n".join(f"  - file: nb{i}" for i in range(n))
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: index\nchapters:\n{chapters}\n")
    (book / "index.md").write_text("# Floor\n")
    for i in range(n):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Notebook {i}"), nbformat.v4.new_code_cell(STACK)]
        nbformat.write(nb, book / f"nb{i}.ipynb")
    return book


def main() -> None:
    skip_tests = "--skip-tests" in sys.argv
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    n = len(list((ROOT / "chapters").glob("*.ipynb")))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        shutil.copytree(ROOT / "data", data)
        env = dict(os.environ, IL2_DATA_DIR=str(data))
        floor = floor_book(tmp, n)

        # Paired: floor and book builds alternate, so a slow moment of the machine hits both.
        floors, cleans = [], []
        for i in range(repeat):
            t, r = run([JB, "build", str(floor), "--path-output", str(tmp / f"floor_out{i}")], env)
            assert r.returncode == 0, r.stdout[-2000:]
            floors.append(t)
            out = tmp / f"out{i}"
            build = [JB, "build", "-W", "-n", "--keep-going", str(ROOT / "book"), "--path-output", str(out)]
            t, r = run(build, env)
            assert r.returncode == 0, r.stdout[-2000:]
            cleans.append(t)
        t_floor, t_clean = statistics.median(floors), statistics.median(cleans)
        ratio = statistics.median(c / f for c, f in zip(cleans, floors))
        t_same, r = run(build, env)
        assert r.returncode == 0 and "Executing notebook" not in r.stdout
        prisma = data / "prisma.csv"
        prisma.write_text(prisma.read_text().replace("Databases,1018,", "Databases,1019,"))
        t_edit, r = run(build, env)
        shown = "1,019" in (out / "_build" / "html" / "chapters" / "search.html").read_text()
        executed = r.stdout.count("Executing notebook done")

    print(f"notebooks: {n}; floor = clean build of {n} notebooks that only import the stack; {repeat} pairs")
    print(f"floor                         {t_floor:6.1f} s   (median; runs {', '.join(f'{t:.1f}' for t in floors)})")
    print(f"(a) clean build               {t_clean:6.1f} s   {ratio:4.2f} x floor, median of pairs (target <= 1.3)")
    print(f"(b) rebuild, no change        {t_same:6.1f} s   (target < 5 s)")
    print(
        f"(c) rebuild, one data edit    {t_edit:6.1f} s   {executed} of {n} notebooks re-executed; "
        f"new number shown: {shown}"
    )
    if not skip_tests:
        t_tests, r = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
        last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "no output"
        print(f"(d) test suite                {t_tests:6.1f} s   {t_tests / t_floor:4.2f} x floor   [{last}]")


if __name__ == "__main__":
    main()
