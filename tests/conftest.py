"""Shared fixtures: copies of the evidence data that a test may corrupt or edit."""

from __future__ import annotations

import shutil
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
