"""The book builds that the tests share, run in the background while the unit tests run.

A test run needs four builds of the book, each with the README's strict command on a copy
of ``data/`` (never the repository's folder):

* ``clean``: one clean HTML build, read by the build, browser and notebook-output tests;
* ``second``: a second clean build at the same time, for the reproducibility test;
* ``rebuilt``: two copies of ``clean``, one rebuilt unchanged and one after a data edit;
* ``pdf``: a copy of ``clean`` built as the PDF manuscript (its executed notebooks reused).

The session starts the builds it needs as soon as its first test runs, and the tests that
read them run last (``conftest.py`` orders them), so the builds overlap the unit tests on the
machine's two cores. A build is started only when a selected test asks for it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from helpers.paths import DATA_ENV_VAR, ROOT

DATA = ROOT / "data"
JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")
BUILD_TIMEOUT = 900  # seconds; a build takes well under a minute alone
#: The fixture each build serves, in the order they are started.
FIXTURES = {"clean": "clean_book", "second": "second_clean_book", "rebuilt": "rebuilt_book", "pdf": "pdf_book"}
#: The data edit of the rebuild test: one number every page can show.
DATA_EDIT = ("prisma.csv", "Databases,1018,", "Databases,1019,")


def copy_data(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for path in DATA.glob("*.csv"):
        shutil.copy(path, dest / path.name)
    return dest


def edit_file(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a file, insisting that the text is there (so a test cannot silently edit nothing)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not found in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def build_command(output: Path, data: Path, *extra: str) -> tuple[list[str], dict[str, str]]:
    """The README's strict build command into ``output``, and its environment reading ``data``."""
    cmd = [JUPYTER_BOOK, "build", "-W", "-n", "--keep-going", str(ROOT / "book"), "--path-output", str(output), *extra]
    return cmd, dict(os.environ, **{DATA_ENV_VAR: str(data)})


@dataclass(frozen=True)
class Build:
    """One finished build: where it went, what it read and what jupyter-book printed."""

    output: Path
    data: Path
    result: subprocess.CompletedProcess

    @property
    def html(self) -> Path:
        return self.output / "_build" / "html"

    @property
    def executed(self) -> Path:
        """The notebooks as the build executed them (myst-nb's jupyter_execute folder)."""
        return self.output / "_build" / "jupyter_execute"

    @property
    def log(self) -> str:
        return self.result.stdout + self.result.stderr


class BookBuilds:
    """Starts the wanted builds in background threads; ``get(name)`` waits for one."""

    def __init__(self, base: Path, wanted: set[str]):
        self.base = base
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=len(FIXTURES), thread_name_prefix="book-build")
        self._futures: dict[str, Future] = {}
        self._t0 = time.perf_counter()
        #: (what, start, end) in seconds from the session's first test, for the summary
        self.timeline: list[tuple[str, float, float]] = []
        for name in FIXTURES:  # dict order: the clean builds first
            if name in wanted or (name == "clean" and wanted & {"rebuilt", "pdf"}):
                self._futures[name] = self._pool.submit(getattr(self, f"_{name}"))

    def get(self, name: str) -> Build | dict[str, Build]:
        return self._futures[name].result()

    def close(self) -> None:
        """End every build still running (an interrupted session leaves no jupyter-book behind)."""
        with self._lock:
            self._closed = True
            for proc in self._procs:
                if proc.poll() is None:
                    proc.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run(self, output: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
        """The README's build command, into ``output``, reading ``data``."""
        cmd, env = build_command(output, data, *extra)
        start = time.perf_counter() - self._t0
        with self._lock:
            if self._closed:
                raise RuntimeError("the test session has ended")
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self._procs.append(proc)
        try:
            stdout, stderr = proc.communicate(timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        what = f"{output.parent.name}{' ' + ' '.join(extra) if extra else ''}"
        self.timeline.append((what, start, time.perf_counter() - self._t0))
        return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)

    def _fresh(self, name: str) -> Build:
        root = self.base / name
        data = copy_data(root / "data")
        return Build(root / "out", data, self.run(root / "out", data))

    def _clean(self) -> Build:
        return self._fresh("clean")

    def _second(self) -> Build:
        return self._fresh("second")

    def _copy_of_clean(self, name: str) -> tuple[Path, Path]:
        clean = self.get("clean")
        assert clean.result.returncode == 0, clean.log[-3000:]
        root = self.base / name
        shutil.copytree(clean.output, root / "out")
        return root / "out", copy_data(root / "data")

    def _rebuilt(self) -> dict[str, Build]:
        # Two copies of the clean build, rebuilt at the same time: one unchanged, one after the data edit.
        with ThreadPoolExecutor(max_workers=2) as pool:
            unchanged = pool.submit(self._rebuild, "unchanged", None)
            edited = pool.submit(self._rebuild, "edited", DATA_EDIT)
            return {"unchanged": unchanged.result(), "edited": edited.result()}

    def _rebuild(self, name: str, edit: tuple[str, str, str] | None) -> Build:
        output, data = self._copy_of_clean(name)
        if edit:
            file, old, new = edit
            edit_file(data / file, old, new)
        return Build(output, data, self.run(output, data))

    def _pdf(self) -> Build:
        output, data = self._copy_of_clean("pdf")
        return Build(output, data, self.run(output, data, "--builder", "pdflatex"))
