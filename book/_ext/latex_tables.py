"""Sphinx extension (LaTeX builder only): every table fits inside the page's margins.

Sphinx sets a table without given widths in ``tabulary`` (columns it sizes itself, which a
long word still overflows) or, past 30 rows, in ``longtable`` with ``l`` columns (never
wrapped: a wide table runs off the page). Here every table gets explicit column widths,
computed from its text with the metrics of the fonts XeLaTeX sets it in (FreeSerif for
the body, FreeSans bold for the header, FreeMono for code), so that:

* every column is at least as wide as its longest unbreakable piece of text (a word; a
  line may break after a hyphen, and in tables after an underscore, so identifiers such as
  ``ae_injection_site_reaction`` break too);
* a table whose text fits on one line per cell keeps its natural width;
* otherwise the spare width goes to the columns with the most text (as a browser does).

The table is set in the first layout of this ladder it fits in: portrait in ``\\small``,
then ``\\footnotesize``; a landscape page in ``\\footnotesize``, then ``\\scriptsize``;
last, a table too wide even so is split into column groups on landscape pages, each
repeating the first column (and a row number where the first column does not identify a
row), the later groups captioned "Table N (continued)".
"""

from __future__ import annotations

import copy
import math
import subprocess
from functools import cache

from docutils import nodes
from manuscript import page_settings, text_widths
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.texescape import escape

LOGGER = logging.getLogger(__name__)

#: Layouts tried in order: (orientation, LaTeX size command, font size relative to the body's).
LADDER = (("portrait", "small", 10 / 11), ("portrait", "footnotesize", 9 / 11),
          ("landscape", "footnotesize", 9 / 11), ("landscape", "scriptsize", 8 / 11))  # fmt: skip
#: \tabcolsep in the manuscript's tables (manuscript.sty), in points, each side of a column.
TABCOLSEP = 4.0
#: Break points inside a word: after a hyphen (TeX breaks there) and after an underscore
#: (manuscript.sty makes it breakable in tables).
BREAK_AFTER = "-_"


# ---------------------------------------------------------------------------------------
# Text widths from the fonts' metrics
# ---------------------------------------------------------------------------------------


@cache
def _font(family: str):
    """Advance widths (in em) by character of a font fontconfig finds, or None."""
    try:
        from fontTools.ttLib import TTFont

        path = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=True)
        font = TTFont(path.stdout.strip(), lazy=True)
        scale = font["head"].unitsPerEm
        hmtx = font["hmtx"]
        return {chr(code): hmtx[name][0] / scale for code, name in font.getBestCmap().items()}
    except Exception:  # no fontconfig or no such font: estimate
        return None


#: font by style of the text: body, header, code
FONTS = {"body": "FreeSerif", "bold": "FreeSerif:bold", "head": "FreeSans", "code": "FreeMono"}


def text_width(text: str, style: str) -> float:
    """Width of ``text`` in em of the font of ``style`` (a character the font lacks counts 1 em)."""
    widths = _font(FONTS[style])
    if widths is None:
        return len(text) * (0.6 if style == "code" else 0.55)
    return sum(widths.get(ch, 1.0) for ch in text)


def _runs(node: nodes.Node, style: str):
    """(text, style) of every text node under ``node``."""
    if isinstance(node, nodes.Text):
        yield str(node), style
        return
    if isinstance(node, nodes.literal):
        style = "code"
    elif isinstance(node, nodes.strong) and style == "body":
        style = "bold"
    for child in node.children:
        yield from _runs(child, style)


def cell_metrics(entry: nodes.entry, header: bool) -> tuple[float, float]:
    """(longest unbreakable piece, whole text on one line) of a cell, in em."""
    longest = line = 0.0
    piece = 0.0
    space = text_width(" ", "body")
    for text, style in _runs(entry, "head" if header else "body"):
        for ch in text:
            if ch.isspace():
                longest, piece = max(longest, piece), 0.0
                line += space
                continue
            w = text_width(ch, style)
            piece += w
            line += w
            if ch in BREAK_AFTER:
                longest, piece = max(longest, piece), 0.0
    return max(longest, piece), line


# ---------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------


def _rows(table: nodes.table) -> list[tuple[bool, nodes.row]]:
    tgroup = next(iter(table.findall(nodes.tgroup)))
    rows = []
    for part in tgroup.children:
        if isinstance(part, (nodes.thead, nodes.tbody)):
            rows += [(isinstance(part, nodes.thead), row) for row in part.children]
    return rows


class Metrics:
    """A table's text, measured in em of its font size: per cell (longest piece, one-line width)."""

    def __init__(self, table: nodes.table):
        self.ncols = next(iter(table.findall(nodes.tgroup)))["cols"]
        self.cells: list[list[tuple[int, float, float]]] = []  # per row: (column, longest piece, line)
        for header, row in _rows(table):
            col, cells = 0, []
            for entry in row.children:
                span = entry.get("morecols", 0) + 1
                if span == 1:
                    cells.append((col, *cell_metrics(entry, header)))
                col += span
            self.cells.append(cells)
        self.minimum = [0.0] * self.ncols
        self.natural = [0.0] * self.ncols
        for cells in self.cells:
            for col, low, line in cells:
                self.minimum[col] = max(self.minimum[col], low)
                self.natural[col] = max(self.natural[col], line)

    def subset(self, columns: list[int]) -> Metrics:
        """The metrics of the table restricted to ``columns`` (in that order)."""
        other = copy.copy(self)
        index = {c: i for i, c in enumerate(columns)}
        other.ncols = len(columns)
        other.cells = [[(index[c], low, line) for c, low, line in cells if c in index] for cells in self.cells]
        other.minimum = [self.minimum[c] for c in columns]
        other.natural = [self.natural[c] for c in columns]
        return other

    def height(self, widths: list[float], pt: float) -> float:
        """Estimated height in points of the table set in columns ``widths`` (points) at font size ``pt``."""
        lines = 0
        for cells in self.cells:
            lines += max(
                (math.ceil(WRAP * line * pt / max(widths[c] - 2 * TABCOLSEP, 1.0)) for c, _, line in cells),
                default=1,
            )
        return lines * LEADING * pt + len(self.cells) * ROW_SKIP


#: A table estimated taller than this share of the text height is set as a longtable.
LONG = 0.15
#: Font size of each LaTeX size command, relative to the body's.
SIZES = {size: scale for _, size, scale in LADDER}
#: Wrapping wastes part of each line (words do not fill it); the leading of a line, in font sizes;
#: the space between two rows, in points.
WRAP, LEADING, ROW_SKIP = 1.15, 1.2, 2.0
#: A landscape table starts a page and its end leaves the rest of one blank: half a page, on average.
LANDSCAPE_COST = 0.5
#: A layout earlier in LADDER is kept if it takes at most this factor (plus a tenth of a page) of the fewest pages.
TOLERANCE = 1.25


def allocate(minimum: list[float], natural: list[float], width: float) -> list[float] | None:
    """Column widths (points, padding included) filling at most ``width``, or None if the minimum does not fit.

    Natural widths when they fit; else every column gets its minimum and the rest of the
    width is shared in proportion to the text each column has beyond it, no column getting
    more than its natural width.
    """
    pad = 2 * TABCOLSEP
    low = [m * SAFETY + pad for m in minimum]
    high = [max(n * SAFETY, m * SAFETY) + pad for m, n in zip(minimum, natural)]
    if sum(high) <= width:
        return high
    if sum(low) > width:
        return None
    widths = list(low)
    open_cols = [i for i in range(len(widths)) if high[i] > low[i]]
    spare = width - sum(widths)
    while spare > 1e-6 and open_cols:
        need = sum(high[i] - widths[i] for i in open_cols)
        share = {i: spare * (high[i] - widths[i]) / need for i in open_cols}
        for i in open_cols:
            widths[i] = min(high[i], widths[i] + share[i])
        spare = width - sum(widths)
        open_cols = [i for i in open_cols if high[i] - widths[i] > 1e-6]
    return widths


#: Measured widths are raised by this factor (kerning, rounding), so a column never comes out too narrow.
SAFETY = 1.03


def layouts(metrics: Metrics, page: dict[str, tuple[float, float]], body_pt: float):
    """Every layout of LADDER the table fits in: (pages it takes, orientation, size, column widths)."""
    for orientation, size, scale in LADDER:
        pt = body_pt * scale
        width, height = page[orientation]
        cols = allocate([m * pt for m in metrics.minimum], [n * pt for n in metrics.natural], width)
        if cols is not None:
            pages = metrics.height(cols, pt) / height + (LANDSCAPE_COST if orientation == "landscape" else 0)
            yield pages, orientation, size, cols


def choose_layout(metrics: Metrics, page: dict[str, tuple[float, float]], body_pt: float):
    """The layout taking the fewest pages (the first of LADDER on a tie), or None if none fits."""
    options = list(layouts(metrics, page, body_pt))
    if not options:
        return None
    fewest = min(pages for pages, *_ in options)
    # a larger font and an upright page are worth some paper: the first layout close to the fewest pages
    return next(option[1:] for option in options if option[0] <= TOLERANCE * fewest + 0.1)


# ---------------------------------------------------------------------------------------
# The transform
# ---------------------------------------------------------------------------------------


def _colspec(widths: list[float], total: float) -> str:
    return "".join(f"\\manuscriptcol{{{w / total:.4f}}}" for w in widths)


def _wrap(table: nodes.table, size: str, widths: list[float], total: float) -> list[nodes.Node]:
    """The table between the raw LaTeX that sets its size and column widths.

    A table that may not fit the rest of a page is set as a ``longtable``, which breaks
    across pages (repeating its header); a ``tabulary`` never breaks and would run off
    the bottom of the page.
    """
    begin = f"\\begin{{manuscripttable}}{{{size}}}"
    end = "\\end{manuscripttable}"
    spec = addnodes.tabular_col_spec(spec=_colspec(widths, total))
    return [nodes.raw("", begin, format="latex"), spec, table, nodes.raw("", end, format="latex")]


def _entry(text: str) -> nodes.entry:
    return nodes.entry("", nodes.paragraph(text, text))


def _keep_columns(table: nodes.table, keep: list[int], numbers: bool) -> nodes.table:
    """A copy of ``table`` with only the columns ``keep`` (a table without spans), and a row number if asked."""
    part = table.deepcopy()
    tgroup = next(iter(part.findall(nodes.tgroup)))
    colspecs = [c for c in tgroup.children if isinstance(c, nodes.colspec)]
    for i, colspec in enumerate(colspecs):
        if i not in keep:
            tgroup.remove(colspec)
    n = 0
    for header, row in _rows(part):
        cells = [row.children[i] for i in keep]
        if numbers:
            cells.insert(0, _entry("Row") if header else _entry(str(n + 1)))
            n += 0 if header else 1
        row.children = []
        row.extend(cells)
    if numbers:
        tgroup.insert(0, nodes.colspec(colwidth=1))
    tgroup["cols"] = len(keep) + numbers
    return part


def _column_groups(table: nodes.table, numbers: bool, width: float, pt: float) -> list[tuple[list[int], nodes.table]]:
    """The columns after the first in as few contiguous, even groups as fit a landscape page beside the first."""
    ncols = next(iter(table.findall(nodes.tgroup)))["cols"]
    rest = list(range(1, ncols))
    for n in range(2, len(rest) + 1):
        size = math.ceil(len(rest) / n)
        groups = [rest[j : j + size] for j in range(0, len(rest), size)]
        parts = [(g, _keep_columns(table, [0, *g], numbers)) for g in groups]
        metrics = [Metrics(part) for _, part in parts]
        if all(allocate([x * pt for x in m.minimum], [x * pt for x in m.natural], width) for m in metrics):
            return parts
    raise ValueError("a table column is wider than a landscape page")


def split_table(table: nodes.table, page, body_pt: float, docname: str) -> list[nodes.Node]:
    """The table as column groups for landscape pages, each repeating the first column (and a row number)."""
    body = [row for header, row in _rows(table) if not header]
    first = [row.children[0].astext() for row in body]
    numbers = len(set(first)) < len(first)
    size, scale = "footnotesize", 9 / 11
    pt = body_pt * scale
    width = page["landscape"][0]
    head = _rows(table)[0][1]
    label = f"\\detokenize{{{docname}:{table['ids'][0]}}}" if table["ids"] else None
    out: list[nodes.Node] = []
    for n, (group, part) in enumerate(_column_groups(table, numbers, width, pt)):
        if n:
            part["ids"], part["names"] = [], []
            for title in [c for c in part.children if isinstance(c, nodes.title)]:
                part.remove(title)
            ref = f"Table~\\ref{{{label}}}" if label else "The table above"
            cols = f"{escape(head.children[group[0]].astext())} to {escape(head.children[group[-1]].astext())}"
            out.append(nodes.raw("", f"\\manuscriptcontinued{{{ref}, continued: columns {cols}.}}", format="latex"))
        metrics = Metrics(part)
        widths = allocate([x * pt for x in metrics.minimum], [x * pt for x in metrics.natural], width)
        if metrics.height(widths, pt) > LONG * page["landscape"][1]:
            part["classes"].append("longtable")
            if n:  # a longtable steps the table counter even without a caption: the group keeps the table's number
                out.append(nodes.raw("", "\\addtocounter{table}{-1}", format="latex"))
        out += _wrap(part, size, widths, width)
    return out


class FitTables(SphinxPostTransform):
    """Give every table of the LaTeX document explicit column widths, a font size and an orientation."""

    default_priority = 810
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        portrait, landscape = text_widths(self.config)
        page = {"portrait": (portrait, landscape), "landscape": (landscape, portrait)}  # (width, height)
        body_pt = float(page_settings(self.config)["pointsize"])
        decisions = []  # (table, orientation, the nodes that replace it)
        for table in list(self.document.findall(nodes.table)):
            if any(isinstance(a, nodes.table) for a in _ancestors(table)):
                continue  # a nested table is set by its parent
            docname = _docname(table) or self.env.docname
            metrics = Metrics(table)
            layout = choose_layout(metrics, page, body_pt)
            if layout is not None:
                orientation, size, cols = layout
                if metrics.height(cols, body_pt * SIZES[size]) > LONG * page[orientation][1]:
                    table["classes"].append("longtable")
                decisions.append((table, orientation, _wrap(table, size, cols, page[orientation][0])))
            else:
                decisions.append((table, "landscape", split_table(table, page, body_pt, docname)))
                LOGGER.info(f"{docname}: table {table['ids']} split into column groups")
        landscape_tables = [table for table, orientation, _ in decisions if orientation == "landscape"]
        sections = {id(s): s for s in map(_section, landscape_tables) if _whole_section(s, landscape_tables)}
        for table, orientation, replacement in decisions:
            if orientation == "landscape" and id(_section(table)) not in sections:
                replacement = [_landscape(True), *replacement, _landscape(False)]
            _replace(table, replacement)
        for section in sections.values():  # its heading and text on the landscape pages with its tables
            parent = section.parent
            first = parent.index(section)
            while first and isinstance(parent[first - 1], nodes.target):
                first -= 1  # the section's labels stay next to it (else Sphinx writes them twice)
            parent.insert(parent.index(section) + 1, _landscape(False))
            parent.insert(first, _landscape(True))


def _landscape(begin: bool) -> nodes.raw:
    return nodes.raw("", "\\begin{landscape}" if begin else "\\end{landscape}", format="latex")


def _replace(node: nodes.Node, replacement: list[nodes.Node]) -> None:
    parent = node.parent
    index = parent.index(node)
    parent.remove(node)
    for offset, new in enumerate(replacement):
        parent.insert(index + offset, new)


def _section(node: nodes.Node) -> nodes.section | None:
    return next((a for a in _ancestors(node) if isinstance(a, nodes.section)), None)


def _whole_section(section: nodes.section | None, landscape: list[nodes.table]) -> bool:
    """Whether a section is only text and landscape tables (no figure, no subsection): it goes on landscape pages whole.

    Not a page's top section (Sphinx leaves it a stale parent when it inlines the page).
    """
    if section is None or section.parent is None or not any(c is section for c in section.parent.children):
        return False
    if any(section.findall(nodes.figure)) or any(s is not section for s in section.findall(nodes.section)):
        return False
    return all(any(t is table for table in landscape) for t in section.findall(nodes.table))


def _ancestors(node: nodes.Node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def _docname(node: nodes.Node) -> str | None:
    """The page a node comes from: Sphinx marks the sections of every page it inlines with its name."""
    for ancestor in _ancestors(node):
        if isinstance(ancestor, nodes.section) and "docname" in ancestor:
            return ancestor["docname"]
    return None


def setup(app):
    app.setup_extension("manuscript")
    app.add_post_transform(FitTables)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
