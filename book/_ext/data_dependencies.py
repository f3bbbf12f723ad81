"""Sphinx extension: rebuild pages when the evidence data or the helpers change.

Sphinx re-reads a page only when its source file changes, but this book's pages
read ``data/*.csv`` through ``src/helpers``. Without this extension an edited data
value would leave every page showing the old number. Here a fingerprint of the
data folder (``IL2_DATA_DIR`` or ``data/``), the helpers and the bibliography is
kept in the build environment; when it changes, every page is marked outdated and
re-read (and, with ``execute_notebooks: force``, re-executed).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from helpers.paths import ROOT, data_dir

_ATTR = "il2_inputs_fingerprint"


def input_files() -> list[Path]:
    """Every file the pages' numbers can depend on, besides the page itself."""
    files = sorted(data_dir().glob("*.csv"))
    files += sorted((ROOT / "src" / "helpers").rglob("*.py"))
    files.append(ROOT / "book" / "references.bib")
    return files


def fingerprint() -> str:
    """Hash of the names and contents of the input files (not their folder: a copy with the same content is the same input)."""
    digest = hashlib.sha256()
    for path in input_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _outdated(app, env, added, changed, removed):
    current = fingerprint()
    if getattr(env, _ATTR, None) == current:
        return []
    setattr(env, _ATTR, current)
    return sorted(env.found_docs - set(added) - set(changed) - set(removed))


def setup(app):
    app.connect("env-get-outdated", _outdated)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
