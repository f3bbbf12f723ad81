"""The chapter notebooks' stored outputs: refresh them from the data, and compare them with a fresh execution.

The stored outputs are the regression record of the book: the tests compare every output of
every chapter, as the build executed it, with the output stored in ``chapters/*.ipynb``
(:func:`output_differences`, nbval's comparison rules). After a deliberate change to the data or
the helpers, accept the new numbers with ``python -m helpers refresh-notebooks`` and commit the
notebooks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.paths import chapters_dir

#: Output fields not compared, as in nbval: run-dependent (ids, counts, timing) or raster images
#: (the book's figures are SVG, which is compared).
SKIP_COMPARE = frozenset(
    {
        "metadata",
        "traceback",
        "prompt_number",
        "output_type",
        "name",
        "execution_count",
        "application/vnd.jupyter.widget-view+json",
        "image/png",
        "image/jpeg",
    }
)
#: Notebooks executed at once by refresh (the project's machines have two cores).
WORKERS = 2


def chapter_notebooks() -> list[Path]:
    return sorted(chapters_dir().glob("*.ipynb"))


def execute_in_place(path: Path, timeout: int = 300) -> None:
    """Run one notebook top to bottom in its own folder and save its outputs."""
    nb = nbformat.read(path, as_version=4)
    # No timing metadata: the saved notebook should change only when an output does.
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def refresh(paths: list[Path] | None = None) -> list[Path]:
    paths = paths or chapter_notebooks()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(execute_in_place, paths))
    return paths


def _flatten(outputs: list) -> dict[str, list]:
    """Each compared field (stream name or MIME type) with its values in output order."""
    fields: dict[str, list] = defaultdict(list)
    streams: dict[str, str] = {}
    for out in outputs:
        if out.get("output_type") == "stream":  # consecutive writes to one stream are one output
            streams[out["name"]] = streams.get(out["name"], "") + out["text"]
            continue
        for key, value in out.items():
            if key == "data":
                for mime, content in value.items():
                    if mime not in SKIP_COMPARE:
                        fields[mime].append(content)
            elif key not in SKIP_COMPARE:
                fields[key].append(value)
    for name, text in streams.items():
        fields[f"stream:{name}"].append(text)
    return fields


def _around_first_difference(old, new, context: int = 100) -> tuple[str, str]:
    """The two values near where they first differ (a long HTML table differs in one cell)."""
    a, b = (v if isinstance(v, str) else repr(v) for v in (old, new))
    start = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    lo = max(0, start - context)
    return tuple(
        ("..." if lo else "") + v[lo : start + context] + ("..." if len(v) > start + context else "") for v in (a, b)
    )


def output_differences(stored: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> list[str]:
    """Every code cell whose outputs differ between two versions of a notebook, described.

    nbval's rules: outputs are compared field by field (each stream, each MIME type), in
    order within a field, ignoring the fields in ``SKIP_COMPARE``.
    """
    stored_cells = [c for c in stored.cells if c.cell_type == "code"]
    executed_cells = [c for c in executed.cells if c.cell_type == "code"]
    if len(stored_cells) != len(executed_cells):
        return [f"{len(stored_cells)} code cells stored, {len(executed_cells)} executed"]
    problems = []
    for number, (old_cell, new_cell) in enumerate(zip(stored_cells, executed_cells), start=1):
        old, new = _flatten(old_cell.get("outputs", [])), _flatten(new_cell.get("outputs", []))
        where = (
            f"code cell {number} ({old_cell.source.strip().splitlines()[0][:60] if old_cell.source.strip() else ''!r})"
        )
        if set(old) != set(new):
            problems.append(f"{where}: output fields stored {sorted(old)}, executed {sorted(new)}")
            continue
        for key in old:
            if old[key] != new[key]:
                pairs = [(a, b) for a, b in zip(old[key], new[key]) if a != b] or [(old[key], new[key])]
                stored_value, executed_value = _around_first_difference(*pairs[0])
                problems.append(f"{where}, {key}:\n  stored:   {stored_value}\n  executed: {executed_value}")
    return problems


_GLUE_USE = re.compile(r"\{glue(?::text)?\}`([^`]+)`|```\{glue:(?:md|figure)\}\s+(\S+)")


def glue_keys_used(nb: nbformat.NotebookNode) -> set[str]:
    """Glue keys the notebook's own markdown pastes (``{glue}`key```, ``{glue:md} key``, ``{glue:figure} key``)."""
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for inline, block in _GLUE_USE.findall(cell.source):
                key = inline or block
                if "::" not in key:  # a key of another page
                    found.add(key.split(":")[0] if inline else key)
    return found


def glue_keys_defined(nb: nbformat.NotebookNode) -> set[str]:
    """Glue keys the executed notebook's outputs define."""
    return {
        o["metadata"]["scrapbook"]["name"]
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if "scrapbook" in o.get("metadata", {})
    }
