"""Execute the chapter notebooks in place, so their stored outputs match the data.

The stored outputs are what nbval compares against (``pytest`` re-runs every
notebook and fails on any changed output). After a deliberate change to the data
or the helpers, accept the new numbers with ``python -m helpers refresh-notebooks``
and commit the notebooks.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .paths import chapters_dir


def chapter_notebooks() -> list[Path]:
    return sorted(chapters_dir().glob("*.ipynb"))


def execute_in_place(path: Path, timeout: int = 300) -> None:
    """Run one notebook top to bottom in its own folder and save its outputs."""
    nb = nbformat.read(path, as_version=4)
    # No timing metadata: the saved notebook should change only when an output does.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def refresh(paths: list[Path] | None = None) -> list[Path]:
    paths = paths or chapter_notebooks()
    for path in paths:
        execute_in_place(path)
    return paths
