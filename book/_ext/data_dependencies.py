"""Sphinx extension: the book's pages follow its inputs, and its notebooks execute two at a time.

Three jobs, all about the notebooks reading ``data/`` through ``src/helpers``, which
Sphinx and jupyter-cache do not see:

* **Bad data stops the build first.** Every evidence table is validated when the
  builder starts; a bad value fails the build at once with file, line, column, the
  value and what was expected, before any notebook runs or any page is written.
* **Pages follow the data.** A fingerprint of the data folder (``IL2_DATA_DIR`` or
  ``data/``), the helpers and the bibliography is kept in the build environment and
  beside the execution cache. When it changes, every page is marked outdated and the
  cache of executed notebooks is emptied, so no page can show a number computed from
  other inputs. jupyter-cache alone keys a notebook on its code cells only.
* **Notebooks execute in parallel.** Before Sphinx reads the outdated pages, their
  notebooks are executed ``NB_WORKERS`` at a time (each in its own kernel, in its own
  folder, as myst-nb would) and stored in the jupyter-cache that myst-nb's ``cache``
  mode reads. A notebook that fails here is not stored: myst-nb then executes it
  itself and fails the build with the cell's traceback.

In cache mode myst-nb 1.4 writes the *source* notebook, not the executed one, to
``_build/jupyter_execute/``; once the pages are read, the executed notebooks from the
cache are written there instead, so that folder holds what the book shows (the tests
compare it with the outputs stored in ``chapters/``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from sphinx.errors import ExtensionError
from sphinx.util import logging

from helpers.evidence.protocol import protocol_path
from helpers.paths import ROOT, data_dir

LOGGER = logging.getLogger(__name__)
_ATTR = "il2_inputs_fingerprint"
_STAMP = "il2_inputs_fingerprint.txt"
#: The project's machines have two cores; a kernel is one process.
NB_WORKERS = int(os.environ.get("IL2_NB_WORKERS", "2"))


def input_files() -> list[Path]:
    """Every file the pages' numbers can depend on, besides the page itself."""
    files = sorted(data_dir().glob("*.csv"))
    files += sorted((ROOT / "src" / "helpers").rglob("*.py"))
    files.append(ROOT / "book" / "references.bib")
    files.append(protocol_path())
    return files


def fingerprint() -> str:
    """Hash of the names and contents of the input files.

    Not their folder: a copy of the data with the same content is the same input.
    """
    digest = hashlib.sha256()
    for path in input_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _validate_data(app) -> None:
    from helpers.evidence.load import DataValidationError
    from helpers.evidence.protocol import ProtocolError
    from helpers.review.derived_audit import validate_with_audit

    try:
        validate_with_audit()
    except (DataValidationError, ProtocolError) as err:
        raise ExtensionError(f"the evidence data or the protocol is invalid, nothing was built:\n{err}") from None


def _cache_path(app) -> Path:
    return Path(app.env.mystnb_config.execution_cache_path)


def _outdated(app, env, added, changed, removed):
    current = fingerprint()
    stamp = _cache_path(app) / _STAMP
    if not stamp.exists() or stamp.read_text() != current:
        shutil.rmtree(_cache_path(app), ignore_errors=True)  # outputs of other inputs
        stamp.parent.mkdir(parents=True, exist_ok=True)
        get_cache(str(_cache_path(app)))  # an empty cache, then the stamp beside it
        stamp.write_text(current)
    if getattr(env, _ATTR, None) == current:
        return []
    setattr(env, _ATTR, current)
    return sorted(env.found_docs - set(added) - set(changed) - set(removed))


def _execute(path: Path, timeout: int) -> tuple[Path, nbformat.NotebookNode, object]:
    notebook = nbformat.read(path, as_version=4)
    return path, notebook, single_nb_execution(notebook, cwd=str(path.parent), timeout=timeout, allow_errors=False)


def _execute_outdated(app, env, docnames):
    """Execute the notebooks of the pages about to be read, NB_WORKERS at a time, into the cache."""
    if env.mystnb_config.execution_mode != "cache":
        return
    cache = get_cache(str(_cache_path(app)))
    paths = []
    for doc in sorted(docnames):
        path = Path(env.doc2path(doc))
        if path.suffix == ".ipynb" and _match_or_none(cache, path) is None:
            paths.append(path)
    if not paths:
        return
    start = time.perf_counter()
    timeout = env.mystnb_config.execution_timeout
    with ThreadPoolExecutor(max_workers=NB_WORKERS) as pool:
        for path, notebook, result in pool.map(lambda p: _execute(p, timeout), paths):
            name = path.relative_to(app.srcdir)
            if result.err is not None:  # myst-nb re-runs it and fails with the traceback
                LOGGER.info(f"{name}: execution failed; myst-nb will re-run it and report the error")
                continue
            LOGGER.info(f"{name}: Executing notebook done in {result.time:.2f} s")
            uri = str(path)
            cache.add_nb_to_project(uri)
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, uri, data={"execution_seconds": result.time}),
                check_validity=False,
                overwrite=True,
            )
    LOGGER.info(
        f"Executing notebook: {len(paths)} executed, {NB_WORKERS} at a time, in {time.perf_counter() - start:.1f} s"
    )


def _write_executed(app, env):
    """Put the executed notebooks of the pages just read in jupyter_execute/ (see the module docstring)."""
    if env.mystnb_config.execution_mode != "cache":
        return
    cache = get_cache(str(_cache_path(app)))
    folder = Path(env.mystnb_config.output_folder)
    for doc in sorted(getattr(env, "il2_docs_read", ())):
        path = Path(env.doc2path(doc))
        if path.suffix != ".ipynb":
            continue
        _, executed = cache.merge_match_into_notebook(nbformat.read(path, as_version=4))
        target = folder.joinpath(*doc.split("/")).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(executed), encoding="utf-8")
    return []


def _remember_read(app, env, docnames):
    env.il2_docs_read = list(docnames)


def _match_or_none(cache, path: Path):
    try:
        return cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return None


def setup(app):
    app.connect("builder-inited", _validate_data, priority=900)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _remember_read)
    app.connect("env-before-read-docs", _execute_outdated)
    app.connect("env-updated", _write_executed)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
