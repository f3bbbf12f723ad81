"""Shared fixtures: copies of the evidence data that a test may corrupt or edit, and the shared book builds."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import tests.hypothesis_profiles  # noqa: F401  (registers and loads the hypothesis profile)
from helpers.paths import DATA_ENV_VAR, ROOT
from tests.book_builds import BUILD_TIMEOUT, FIXTURES, BookBuilds, Build, build_command, copy_data, edit_file

__all__ = ["build_book", "copy_data", "edit_file"]


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of data/ that helpers.paths.data_dir() points to for the test."""
    folder = copy_data(tmp_path / "data")
    monkeypatch.setenv(DATA_ENV_VAR, str(folder))
    return folder


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    return edit_file


def build_book(output: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    """The README's build command, into ``output``, reading ``data`` (never the repository's data/)."""
    cmd, env = build_command(output, data, *extra)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)


def _build_group(item: pytest.Item) -> int:
    """0: reads no shared build; 1: reads the clean builds; 2: reads a build that starts once the clean one ends."""
    used = set(getattr(item, "fixturenames", ()))
    if used & {FIXTURES["rebuilt"], FIXTURES["pdf"]}:
        return 2
    return 1 if used & {FIXTURES["clean"], FIXTURES["second"]} else 0


def pytest_collection_modifyitems(session, config, items):
    """Tests that read a shared build run last, those of the later builds at the very end, so builds overlap tests."""
    items.sort(key=_build_group)  # stable: the order within each group is kept


#: The timelines of this session's builds, for the terminal summary.
_TIMELINES: list[list[tuple[str, float, float]]] = []


@pytest.fixture(scope="session", autouse=True)
def book_builds(request, tmp_path_factory):
    """Start, with the session's first test, every shared build that a selected test reads."""
    wanted = {
        name
        for name, fixture in FIXTURES.items()
        if any(fixture in getattr(item, "fixturenames", ()) for item in request.session.items)
    }
    builds = BookBuilds(tmp_path_factory.mktemp("builds"), wanted)
    _TIMELINES.append(builds.timeline)
    yield builds
    builds.close()


def pytest_terminal_summary(terminalreporter):
    """When each shared build ran, in seconds from the first test (how the builds overlapped the tests)."""
    for timeline in _TIMELINES:
        if timeline:
            terminalreporter.write_sep("-", "book builds (seconds from the first test)")
            for what, start, end in sorted(timeline, key=lambda t: t[1]):
                terminalreporter.write_line(f"{what:<24} {start:6.1f} -> {end:6.1f}   ({end - start:5.1f} s)")


@pytest.fixture(scope="session")
def clean_book(book_builds) -> Build:
    """One clean, strict build of the book on a copy of data/ (read-only for the tests)."""
    return book_builds.get("clean")


@pytest.fixture(scope="session")
def second_clean_book(book_builds) -> Build:
    """A second clean build, made at the same time as the first, for the reproducibility test."""
    return book_builds.get("second")


@pytest.fixture(scope="session")
def rebuilt_book(book_builds) -> dict[str, Build]:
    """A copy of the clean build rebuilt twice: ``unchanged``, then ``edited`` (see book_builds.DATA_EDIT)."""
    return book_builds.get("rebuilt")


@pytest.fixture(scope="session")
def pdf_book(book_builds) -> Build:
    """The PDF manuscript built from a copy of the clean build."""
    return book_builds.get("pdf")
