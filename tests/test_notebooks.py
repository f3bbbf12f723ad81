"""Chapter notebooks: hygiene of their stored outputs, and nbval as a real regression check."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import nbformat
import pytest
import yaml

from helpers.notebooks import chapter_notebooks
from helpers.paths import DATA_ENV_VAR, ROOT
from tests.conftest import copy_data, edit_file

NOTEBOOKS = chapter_notebooks()
GLUE_PREFIX = "application/papermill.record/"
OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x|<Figure size|<matplotlib\.|<Axes")


def test_every_chapter_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    assert {f"chapters/{p.stem}" for p in NOTEBOOKS} <= files
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_are_clean(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a chapter computes something"
    for cell in code:
        tags = set(cell.metadata.get("tags", []))
        assert tags & {"hide-input", "remove-input", "remove-cell"}, f"code not hidden: {cell.source[:60]!r}"
        assert cell.execution_count is not None, "the notebook is stored executed (nbval compares its outputs)"
        for out in cell.get("outputs", []):
            assert out.output_type != "error", out
            assert not (out.output_type == "stream" and out.name == "stderr"), out.get("text")
            visible = {k: v for k, v in out.get("data", {}).items() if not k.startswith(GLUE_PREFIX)}
            assert not OBJECT_REPR.search(str(visible.get("text/plain", ""))), visible.get("text/plain")


def _nbval(notebook, data_folder):
    env = dict(os.environ, **{DATA_ENV_VAR: str(data_folder)})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-q", str(notebook)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_nbval_fails_when_a_shown_number_changes(tmp_path):
    """A data edit that changes a number in a chapter fails the tests until the notebook is refreshed."""
    notebook = ROOT / "chapters" / "search.ipynb"
    data = copy_data(tmp_path / "data")
    unchanged = _nbval(notebook, data)
    assert unchanged.returncode == 0, unchanged.stdout[-2000:]

    edit_file(data / "prisma.csv", "Databases,1018,", "Databases,1019,")
    changed = _nbval(notebook, data)
    assert changed.returncode == 1, changed.stdout[-2000:]
    assert "1,019" in changed.stdout and "1,018" in changed.stdout  # nbval shows the old and the new output


#: Digits that are part of a name, not a number of the review (study labels are added from the data).
NAMES_WITH_DIGITS = [r"interleukin-2", r"IL-2", r"SRI-4", r"PRISMA ?2020", r"PRISMA2020", r"CD4\+", r"SLEDAI-2K", r"ILT-101",
                     r"95% (CI|confidence)"]


def typed_numbers(markdown: str, names: list[str]) -> list[str]:
    """Words with a digit left in prose once roles (glue, cite, numref), code and names are removed."""
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", markdown)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"^(```+|:::+)\{[\w:-]+\}", " ", text, flags=re.M)  # directive names; captions stay checked
    text = re.sub(r"^(\(.*\)=|:(name|format):.*)$", " ", text, flags=re.M)  # labels and names
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(name, " ", text)
    return re.findall(r"\S*\d\S*", text)


def test_prose_has_no_typed_numbers():
    """Every number in the text is glued from code; only names may contain digits."""
    from helpers.data import load_evidence

    names = NAMES_WITH_DIGITS + [re.escape(label) for label in load_evidence().studies["label"]]
    sources = {p.name: "\n".join(c.source for c in nbformat.read(p, as_version=4).cells if c.cell_type == "markdown")
               for p in NOTEBOOKS}
    sources["intro.md"] = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    found = {name: typed_numbers(text, names) for name, text in sources.items()}
    assert not {k: v for k, v in found.items() if v}
    assert typed_numbers("We found 12 studies and {glue}`n` more in He 2020.", names) == ["12"]
