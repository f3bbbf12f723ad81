"""Chapter notebooks: hygiene of their stored outputs, and those outputs as a real regression check.

Every output stored in ``chapters/*.ipynb`` is compared with the same output as the session's
clean build executed it (nbval's comparison rules, ``helpers.notebooks.output_differences``):
the notebooks run once per test session, in the build, not a second time for the comparison.
"""

from __future__ import annotations

import re

import nbformat
import pytest
import yaml

from helpers.notebooks import chapter_notebooks, output_differences
from helpers.paths import ROOT

NOTEBOOKS = chapter_notebooks()
GLUE_PREFIX = "application/papermill.record/"
OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x|<Figure size|<matplotlib\.|<Axes")


def test_every_chapter_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part["chapters"]} | {toc["root"]}
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
        assert cell.execution_count is not None, (
            "the notebook is stored executed (its outputs are the regression record)"
        )
        for out in cell.get("outputs", []):
            assert out.output_type != "error", out
            assert not (out.output_type == "stream" and out.name == "stderr"), out.get("text")
            visible = {k: v for k, v in out.get("data", {}).items() if not k.startswith(GLUE_PREFIX)}
            assert not OBJECT_REPR.search(str(visible.get("text/plain", ""))), visible.get("text/plain")


@pytest.mark.build
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_match_a_fresh_execution(path, clean_book):
    """What the build shows is what the notebook stores; a changed number fails until the notebook is refreshed."""
    assert clean_book.result.returncode == 0, clean_book.log[-2000:]
    executed = nbformat.read(clean_book.executed / "chapters" / path.name, as_version=4)
    problems = output_differences(nbformat.read(path, as_version=4), executed)
    assert not problems, (
        f"{path.name}: stored outputs differ from a fresh execution; if the change is intended, "
        "run `python -m helpers refresh-notebooks` and commit the notebook:\n" + "\n".join(problems)
    )


@pytest.mark.build
def test_output_check_fails_when_a_shown_number_changes(rebuilt_book):
    """After a data edit (1,018 -> 1,019 records) the comparison names the cell and shows the old and the new number."""
    path = ROOT / "chapters" / "search.ipynb"
    executed = nbformat.read(rebuilt_book["edited"].executed / "chapters" / path.name, as_version=4)
    problems = output_differences(nbformat.read(path, as_version=4), executed)
    assert problems
    assert any(
        "stored:" in p and "1,018" in p.split("executed:")[0] and "1,019" in p.split("executed:")[1] for p in problems
    ), problems


def test_output_comparison_follows_nbval_rules():
    """Execution counts, metadata and raster images are ignored; text, HTML, SVG and streams are compared."""

    def notebook(outputs):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1", outputs=outputs)]
        return nb

    def result(n, text, png="AAA", svg="<svg/>"):
        return nbformat.v4.new_output(
            "execute_result",
            execution_count=n,
            metadata={"n": n},
            data={"text/plain": text, "image/png": png, "image/svg+xml": svg},
        )

    stream = nbformat.v4.new_output("stream", name="stdout", text="a\n")
    split = [
        nbformat.v4.new_output("stream", name="stdout", text="a"),
        nbformat.v4.new_output("stream", name="stdout", text="\n"),
    ]
    assert output_differences(notebook([result(1, "12"), stream]), notebook([result(7, "12", png="BBB")] + split)) == []
    (problem,) = output_differences(notebook([result(1, "12")]), notebook([result(1, "13")]))
    assert "text/plain" in problem and "stored:   12" in problem and "executed: 13" in problem
    assert output_differences(notebook([result(1, "1", svg="<svg/>")]), notebook([result(1, "1", svg="<svg></svg>")]))
    assert output_differences(notebook([stream]), notebook([]))
    two = notebook([])
    two.cells.append(nbformat.v4.new_code_cell("y = 2"))
    assert output_differences(notebook([]), two) == ["1 code cells stored, 2 executed"]


#: Digits that are part of a name, not a number of the review (study labels are added from the data).
NAMES_WITH_DIGITS = [
    r"interleukin-2",
    r"IL-2",
    r"SRI-4",
    r"PRISMA ?2020",
    r"PRISMA2020",
    r"CD4\+",
    r"SLEDAI-2K",
    r"ILT-101",
    r"95% (CI|confidence)",
    r"N − 1",  # the 'N − 1' chi-square, a test's name
    r"RoB 2",  # the risk-of-bias tool
    r"\bD[1-5]\b",  # RoB 2's domains
    r"il2-sle-review",  # the authors' name (CITATION.cff, LICENSE)
    r"(CC BY|Attribution) 4\.0",  # the data's licence
]


def typed_numbers(markdown: str, names: list[str]) -> list[str]:
    """Words with a digit left in prose once roles (glue, cite, numref), code and names are removed."""
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", markdown)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"^(```+|:::+)\{[\w:-]+\}", " ", text, flags=re.M)  # directive names; captions stay checked
    text = re.sub(r"^(\(.*\)=|:(name|format|widths):.*)$", " ", text, flags=re.M)  # labels, names, layout
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(name, " ", text)
    return re.findall(r"\S*\d\S*", text)


def test_prose_has_no_typed_numbers():
    """Every number in the text is glued from code; only names may contain digits."""
    from helpers.evidence.load import load_evidence

    names = NAMES_WITH_DIGITS + [re.escape(label) for label in load_evidence().studies["label"]]
    sources = {
        p.name: "\n".join(c.source for c in nbformat.read(p, as_version=4).cells if c.cell_type == "markdown")
        for p in NOTEBOOKS
    }
    found = {name: typed_numbers(text, names) for name, text in sources.items()}
    assert not {k: v for k, v in found.items() if v}
    assert typed_numbers("We found 12 studies and {glue}`n` more in He 2020.", names) == ["12"]
