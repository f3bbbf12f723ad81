"""The README's two commands: each sets up what it needs on first use and nothing after.

``make -n`` prints what make would run without running it, on a copy of the files make reads,
so the test is quick and leaves the repository alone. That the commands also work for real on
a clean clone is what CI proves: ``.ci/run`` is ``make book`` then ``make test``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from helpers.paths import ROOT

SETUP_FILES = ["Makefile", "requirements.txt", "pyproject.toml"]


def dry_run(folder: Path, target: str) -> list[str]:
    # Under `make test` (as on CI) the make that runs pytest exports MAKELEVEL and MAKEFLAGS; a child
    # make then prints "Entering directory" lines, so the dry run starts from a clean environment.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"}}
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", target], cwd=folder, env=env, capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if line.strip()]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder with what make reads, as a clean clone has it (no .venv)."""
    for name in SETUP_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_readme_gives_exactly_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Build and test", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert [c.strip() for c in commands] == ["make book", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text() and "make book" in (ROOT / ".ci" / "run").read_text()


def test_first_use_creates_the_environment(checkout):
    for target in ("book", "test"):
        steps = dry_run(checkout, target)
        assert any("-m venv .venv" in s for s in steps), steps
        assert any("pip install" in s and "-r requirements.txt" in s for s in steps), steps
    assert any(s.startswith(".venv/bin/jupyter-book build -W -n --keep-going book/") for s in dry_run(checkout, "book"))
    test_steps = dry_run(checkout, "test")
    assert "bash .ci/system-deps" in " ".join(test_steps)  # Debian packages: the script installs only what is missing
    assert test_steps[-3:] == [".venv/bin/ruff check .", ".venv/bin/ruff format --check .", ".venv/bin/pytest"]


def test_later_use_installs_nothing(checkout):
    (checkout / ".venv").mkdir()
    stamp = checkout / ".venv" / ".installed"
    stamp.touch()
    later = time.time() + 5  # newer than the requirements, as after a completed install
    os.utime(stamp, (later, later))
    assert dry_run(checkout, "book") == [".venv/bin/jupyter-book build -W -n --keep-going book/"]
    assert not any("pip install" in s or "venv" in s.replace(".venv/bin", "") for s in dry_run(checkout, "test"))


def test_changed_requirements_reinstall(checkout):
    (checkout / ".venv").mkdir()
    stamp = checkout / ".venv" / ".installed"
    stamp.touch()
    earlier = time.time() - 60
    os.utime(stamp, (earlier, earlier))
    assert any("pip install" in s for s in dry_run(checkout, "book"))
