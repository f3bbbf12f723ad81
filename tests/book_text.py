"""The book's text as a reader gets it, read from the sources and the stored notebook outputs (no build).

Each chapter notebook stores the values it glues (``chapters/*.ipynb``, the regression record);
substituting them into the notebook's markdown gives the text of the page, with the citation and
cross-reference roles left as written. The root page and the other markdown pages of ``book/`` are
read as they are, with their cross-document glue substituted. Used by the prose, bibliography and
reporting-checklist tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from helpers.paths import ROOT, book_dir, chapters_dir

#: ``{glue}`key```, ``{glue:md}`key:myst``` and ``{glue}`chapters/x.ipynb::key``` in a line of text.
INLINE_GLUE = re.compile(r"\{glue(?::\w+)?\}`([^`]+)`")
#: A glue directive that pastes text or a table, from ```` ```{glue:md} key ```` through its options to the
#: closing fence (a ``{glue:figure}`` directive is left as it is: its caption is prose of the page).
BLOCK_GLUE = re.compile(r"^```\{glue(?::(?:md|text|any))?\}\s+(\S+)[ \t]*\n(?:[^\n]*\n)*?```[ \t]*$", re.MULTILINE)
#: Any MyST role, e.g. {cite:p}`a,b`, {numref}`tbl-x`.
ROLE = re.compile(r"\{([a-z]+(?::[a-z]+)?)\}`([^`]*)`")
#: A label line, ``(label)=``, or a directive's ``:name: label`` option.
LABEL = re.compile(r"^\((?P<a>[A-Za-z0-9_-]+)\)=\s*$|^:name:\s+(?P<b>\S+)\s*$", re.MULTILINE)


@dataclass
class Page:
    """One page: its prose (markdown with glued text in place) and the tables glued into it."""

    name: str
    prose: list[str] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)
    markdown: list[str] = field(default_factory=list)  # the markdown as written (labels, roles)

    @property
    def text(self) -> str:
        return "\n\n".join(self.prose)


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def stored_glue(path: Path) -> dict[str, str]:
    """Glue key -> the text a notebook stored for it (its markdown form where there is one)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    values = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            if not scrap:
                continue
            data, prefix = output["data"], scrap["mime_prefix"]
            for mime in ("text/markdown", "text/plain"):
                if prefix + mime in data:
                    values[scrap["name"]] = _text(data[prefix + mime])
                    break
    return values


def markdown_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [_text(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def is_table(text: str) -> bool:
    return text.lstrip().startswith("|")


@cache
def notebook_glue() -> dict[str, dict[str, str]]:
    """'chapters/x.ipynb' -> its stored glue values."""
    return {f"chapters/{p.name}": stored_glue(p) for p in sorted(chapters_dir().glob("*.ipynb"))}


def _value(key: str, page: str) -> str:
    key = key.removesuffix(":myst")
    if "::" in key:
        page, key = key.split("::")
    return notebook_glue()[page][key]


def _page(name: str, cells: list[str]) -> Page:
    page = Page(name, markdown=cells)
    for cell in cells:
        for key in BLOCK_GLUE.findall(cell):
            value = _value(key, name)
            if is_table(value):
                page.tables[key] = value
        block = BLOCK_GLUE.sub(lambda m: "" if is_table(_value(m.group(1), name)) else _value(m.group(1), name), cell)
        page.prose.append(INLINE_GLUE.sub(lambda m: _value(m.group(1), name), block))
    return page


@cache
def book_pages() -> tuple[Page, ...]:
    """Every page of the book: the chapter notebooks and the markdown pages of ``book/``."""
    pages = [_page(f"chapters/{p.name}", markdown_cells(p)) for p in sorted(chapters_dir().glob("*.ipynb"))]
    pages += [_page(f"book/{p.name}", [p.read_text(encoding="utf-8")]) for p in sorted(book_dir().glob("*.md"))]
    return tuple(pages)


def book_labels() -> set[str]:
    """Every label a cross-reference can point to: ``(label)=`` lines and ``:name:`` options."""
    found = set()
    for page in book_pages():
        for cell in page.markdown:
            found |= {m.group("a") or m.group("b") for m in LABEL.finditer(cell)}
    return found


def cited_keys() -> set[str]:
    """Every bibliography key cited anywhere in the book's text, tables and glued values."""
    keys = set()
    for page in book_pages():
        for text in [page.text, *page.tables.values()]:
            for role, target in ROLE.findall(text):
                if role.startswith("cite"):
                    keys |= {k.strip() for k in target.split(",") if k.strip()}
    return keys


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))
