"""Where the project's files live.

The data folder can be redirected with the ``IL2_DATA_DIR`` environment variable;
the tests use this to build the book and run the notebooks on corrupted or edited
copies of ``data/`` without touching the real one.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root (``src/helpers/paths.py`` -> two levels up from ``src``).
ROOT = Path(__file__).resolve().parents[2]

DATA_ENV_VAR = "IL2_DATA_DIR"
#: The bibliography the data's source keys are checked against can be redirected too: the
#: tests' synthetic trials cite a synthetic entry that must never enter book/references.bib.
BIB_ENV_VAR = "IL2_BIB_FILE"


def data_dir() -> Path:
    """The folder holding the evidence tables (``data/`` unless overridden)."""
    override = os.environ.get(DATA_ENV_VAR)
    return Path(override).resolve() if override else ROOT / "data"


def book_dir() -> Path:
    return ROOT / "book"


def chapters_dir() -> Path:
    return ROOT / "chapters"


def bib_file() -> Path:
    """The bibliography the evidence tables' source keys must be entries of."""
    override = os.environ.get(BIB_ENV_VAR)
    return Path(override).resolve() if override else book_dir() / "references.bib"
