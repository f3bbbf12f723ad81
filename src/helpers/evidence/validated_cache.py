"""Validated tables kept on disk between processes.

Every chapter kernel of a build and every ``python -m helpers results`` validates every evidence table,
and pandera's validation is most of loading. Validation is a pure function of the table's bytes, the
spec's inputs (bibliography keys, study ids, ...), the code that defines the specs
(``src/helpers/evidence/*.py``) and the versions of Python, pandas and pandera, so a table validated
once is kept, under the hash of all of these, in ``.cache/validated/`` at the repository root (ignored
by git). Only tables that passed are kept: bad data is validated, and refused, every time. A damaged
or unreadable file is ignored and validated again; a cache that cannot be written is skipped.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pandera

from helpers.paths import ROOT

#: Where the tables are kept (``IL2_VALIDATED_CACHE`` points elsewhere, e.g. an empty folder to time a
#: cold start); the newest :data:`KEEP` files stay.
CACHE_DIR = ROOT / ".cache" / "validated"
CACHE_ENV_VAR = "IL2_VALIDATED_CACHE"
KEEP = 256


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV_VAR) or CACHE_DIR)


@functools.cache
def code_fingerprint() -> str:
    """What validation depends on besides the table and the spec's inputs: the spec code and the versions."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    h.update(f"{sys.version}|{pd.__version__}|{pandera.__version__}".encode())
    return h.hexdigest()


def canonical(value) -> str:
    """A text of ``value`` that is the same in every process (sets and dicts sorted, at any depth)."""
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(sorted(f"{canonical(k)}:{canonical(v)}" for k, v in value.items())) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, (pd.DataFrame, pd.Series, pd.Index, np.ndarray)):
        # their repr is shortened for long ones: two different inputs could share a key
        raise TypeError(f"a spec input must be plain values, not {type(value).__name__}")
    return repr(value)


def key(spec_name: str, content: bytes, inputs: tuple) -> str:
    h = hashlib.sha256(code_fingerprint().encode())
    h.update(spec_name.encode() + b"\0" + canonical(inputs).encode() + b"\0" + content)
    return h.hexdigest()


def validated(spec_name: str, content: bytes, inputs: tuple, validate: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The table ``validate()`` returns for these bytes and inputs: from the disk if it was validated before."""
    name = key(spec_name, content, inputs)
    path = cache_dir() / f"{name}.pkl"
    try:
        with path.open("rb") as fh:
            table = pickle.load(fh)
        if isinstance(table, pd.DataFrame):
            return table
    except Exception:  # absent, damaged or from an incompatible pandas: validate again
        pass
    table = validate()  # raises on bad data: nothing is kept
    _store(path, table)
    return table


def _store(path: Path, table: pd.DataFrame) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        with partial.open("wb") as fh:
            pickle.dump(table, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)  # whole or not at all, also with several kernels writing at once
        kept = sorted(path.parent.glob("*.pkl"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError:  # a read-only checkout, or a file pruned by another process meanwhile: no cache
        pass
