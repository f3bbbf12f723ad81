"""Shared fixtures: copies of the evidence data that a test may corrupt or edit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.paths import DATA_ENV_VAR, ROOT

DATA = ROOT / "data"


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


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of data/ that helpers.paths.data_dir() points to for the test."""
    folder = copy_data(tmp_path / "data")
    monkeypatch.setenv(DATA_ENV_VAR, str(folder))
    return folder


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    return edit_file


JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")


def build_book(output: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    """The README's build command, into ``output``, reading ``data`` (never the repository's data/)."""
    env = dict(os.environ, **{DATA_ENV_VAR: str(data)})
    return subprocess.run(
        [JUPYTER_BOOK, "build", "-W", "-n", "--keep-going", str(ROOT / "book"), "--path-output", str(output), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )


@pytest.fixture(scope="session")
def clean_book(tmp_path_factory):
    """One clean, strict build of the book on a copy of data/, shared by the build and browser tests (read-only)."""
    root = tmp_path_factory.mktemp("book")
    data = copy_data(root / "data")
    result = build_book(root / "out", data)
    return {"output": root / "out", "html": root / "out" / "_build" / "html", "data": data, "result": result}
