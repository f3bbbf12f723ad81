"""PRISMA 2020 flow diagram drawn from the review's ``data/prisma.csv``.

The table follows the CSV template of the PRISMA2020 R package (one row per
count, keyed by the ``data`` column, the count in ``n``, exclusion reasons in
``reasons`` as ``"Reason, n; Reason, n"``) plus provenance columns, of which
only ``status`` (``reported`` / ``derived`` / ``not_reported``) is used here.

The diagram reproduces the PRISMA 2020 template for new systematic reviews
(Page et al., BMJ 2021;372:n71): phase bars on the left (Identification,
Screening, Included), a "databases and registers" column of boxes with the
exclusion boxes beside it, and optionally the "other methods" column.

Conventions, chosen so the figure reads in greyscale print and by screen reader:

* a count that is NA is printed as ``n = not reported`` (never 0, never blank);
  a box none of whose counts is reported gets a dashed grey border;
* a derived count carries a dagger (``n = 6†``) explained in a footnote;
* integers use a thousands separator (``n = 1,018``);
* text is wrapped to fit its box and every box grows to fit its text, so no
  text overflows (each text and its box share an SVG ``gid``: ``<key>-text`` and
  ``<key>-box``);
* only Okabe-Ito colours, no randomness, no pyplot state (a bare ``Figure``
  with an Agg canvas is returned).

Layout and drawing are separate: :func:`prisma_layout` computes every box (its
text, position and size), the phase bars, the headers and the arrows as plain
dataclasses (:class:`PrismaLayout`), measuring text but drawing nothing;
:func:`draw_prisma_layout` turns a layout into a figure.
:func:`prisma_flow_diagram` does both.

The data are not validated here (the schema module does that); only the rows
the diagram cannot do without are checked for presence.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from helpers.report.style import OKABE_ITO, ROLE_COLOURS, use_book_style

__all__ = [
    "REQUIRED_ROWS",
    "Arrow",
    "Footnote",
    "LayoutBox",
    "PrismaLayout",
    "draw_prisma_layout",
    "prisma_alt_text",
    "prisma_counts",
    "prisma_flow_diagram",
    "prisma_layout",
]

#: ``data`` rows the databases-and-registers diagram cannot be drawn without.
REQUIRED_ROWS: tuple[str, ...] = (
    "database_results",
    "duplicates",
    "records_screened",
    "records_excluded",
    "dbr_sought_reports",
    "dbr_notretrieved_reports",
    "dbr_assessed",
    "dbr_excluded",
    "new_studies",
)

# --- typography and geometry (inches, points) ---------------------------------
BOX_FONTSIZE = 9.0
HEADER_FONTSIZE = 10.0
PHASE_FONTSIZE = 10.0
FOOTNOTE_FONTSIZE = 9.0
PAD_X = 0.10  # inner horizontal padding of a box
PAD_Y = 0.09  # inner vertical padding of a box
MIN_ROW_HEIGHT = 0.72
ROW_GAP = 0.5  # vertical space between rows (room for the arrows)
HEADER_HEIGHT = 0.46
HEADER_GAP = 0.24
MARGIN = 0.10
FOOTNOTE_LINE = 0.20

EDGE = OKABE_ITO["black"]
NA_EDGE = ROLE_COLOURS["not_reported"]
HEADER_FILL = OKABE_ITO["orange"]
PHASE_FILL = OKABE_ITO["sky_blue"]
BOX_FILL = "white"
NA_DASHES = (0, (4.0, 2.5))


# --- counts -------------------------------------------------------------------
def _as_count(value: object) -> int | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text or text.upper() in {"NA", "NAN"}:
            return None
        value = float(text)
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number):
        return None
    return int(round(number))


def _check_columns(prisma: pd.DataFrame) -> None:
    missing = [c for c in ("data", "n") if c not in prisma.columns]
    if missing:
        raise ValueError(f"PRISMA table lacks the column(s) {missing}; expected the PRISMA2020 CSV template")


def _check_required(prisma: pd.DataFrame) -> None:
    _check_columns(prisma)
    present = set(prisma["data"].astype(str))
    missing = [row for row in REQUIRED_ROWS if row not in present]
    if missing:
        raise ValueError("PRISMA table lacks the required data row(s): " + ", ".join(missing))


def prisma_counts(prisma: pd.DataFrame) -> dict[str, int | None]:
    """Map each ``data`` key to its count ``n`` (``None`` when NA)."""
    _check_columns(prisma)
    return {str(key): _as_count(n) for key, n in zip(prisma["data"], prisma["n"])}


def _column_map(prisma: pd.DataFrame, column: str) -> dict[str, str]:
    if column not in prisma.columns:
        return {}
    out: dict[str, str] = {}
    for key, value in zip(prisma["data"], prisma[column]):
        if isinstance(value, str) and value.strip():
            out[str(key)] = value.strip()
    return out


def _derived(prisma: pd.DataFrame) -> set[str]:
    status = _column_map(prisma, "status")
    return {key for key, value in status.items() if value.lower() == "derived"}


def _parse_reasons(text: str | None) -> list[tuple[str, int | None]]:
    """``"Reason, 3; Other, 2"`` -> ``[("Reason", 3), ("Other", 2)]``."""
    if not text:
        return []
    out: list[tuple[str, int | None]] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        label, sep, tail = part.rpartition(",")
        count = None
        if sep:
            try:
                count = _as_count(tail)
            except ValueError:
                count = None
        if sep and count is not None:
            out.append((label.strip(), count))
        else:
            out.append((part, None))
    return out


# --- text ---------------------------------------------------------------------
@dataclass
class _Fmt:
    counts: dict[str, int | None]
    derived: set[str]
    nr: str
    used_dagger: bool = False

    def n(self, key: str) -> str:
        value = self.counts.get(key)
        if value is None:
            return f"n = {self.nr}"
        mark = ""
        if key in self.derived:
            mark = "\u2020"
            self.used_dagger = True
        return f"n = {value:,}{mark}"

    def na(self, keys: list[str]) -> bool:
        """True when none of ``keys`` has a count."""
        return all(self.counts.get(k) is None for k in keys)


@dataclass(frozen=True)
class _Box:
    """What a flow box says, before it is measured and placed."""

    key: str
    col: int  # 0 main, 1 side, 2 other main, 3 other side
    row: int
    lines: list[str]  # logical lines; an item line starts with two spaces
    keys: list[str]  # the counts shown in the box
    align: str = "center"


_KEEP = "\ue000"  # stands for a space textwrap must not break at
_COUNT_RE = re.compile(r"\(n = [^()]*\)")


def _glue_counts(line: str) -> str:
    """Glue the spaces of each ``(n = ...)`` so a count is never split."""
    return _COUNT_RE.sub(lambda m: m.group(0).replace(" ", _KEEP), line)


def _wrap(lines: list[str], width: int, hanging: bool) -> str:
    """Wrap each logical line; ``hanging`` indents continuation lines."""
    out: list[str] = []
    for line in lines:
        stripped = _glue_counts(line.lstrip(" "))
        indent = " " * (len(line) - len(stripped))
        out.extend(
            textwrap.wrap(
                stripped,
                width=width,
                initial_indent=indent,
                subsequent_indent=indent + ("  " if hanging else ""),
                break_long_words=True,
                break_on_hyphens=False,
            )
            or [""]
        )
    return "\n".join(out).replace(_KEEP, " ")


def _reason_lines(reasons_text: str | None) -> list[str]:
    lines = []
    for label, count in _parse_reasons(reasons_text):
        if count is None:
            lines.append(f"  {label}")
        else:
            lines.append(f"  {label} (n = {count:,})")
    return lines


def _count_box(key: str, col: int, row: int, label: str, field: str, fmt: _Fmt) -> _Box:
    """A one-line box: ``label (n = ...)``."""
    return _Box(key, col, row, [f"{label} ({fmt.n(field)})"], [field])


def _list_box(key: str, col: int, row: int, title: str, items: list[tuple[str, str]], fmt: _Fmt) -> _Box:
    """A left-aligned box: a title line, then one indented ``label (n = ...)`` line per item."""
    lines = [title] + [f"  {label} ({fmt.n(field)})" for label, field in items]
    return _Box(key, col, row, lines, [field for _label, field in items], align="left")


def _excluded_box(key: str, col: int, row: int, field: str, fmt: _Fmt, reasons: dict[str, str]) -> _Box:
    """'Reports excluded (n = ...)' with one line per exclusion reason, when reasons are given."""
    lines = _reason_lines(reasons.get(field))
    return _Box(
        key,
        col,
        row,
        [f"Reports excluded ({fmt.n(field)})" + (":" if lines else "")] + lines,
        [field],
        align="left" if lines else "center",
    )


def _dbr_boxes(fmt: _Fmt, reasons: dict[str, str]) -> list[_Box]:
    """The databases-and-registers column and its exclusion boxes, in reading order."""
    removed = [
        ("Duplicate records", "duplicates"),
        ("Records marked as ineligible by automation tools", "excluded_automatic"),
        ("Records removed for other reasons", "excluded_other"),
    ]
    sources = [("Databases", "database_results"), ("Registers", "register_results")]
    included = ["new_studies", "new_reports"]
    return [
        _list_box("identified", 0, 0, "Records identified from:", sources, fmt),
        _list_box("removed", 1, 0, "Records removed before screening:", removed, fmt),
        _count_box("screened", 0, 1, "Records screened", "records_screened", fmt),
        _count_box("records_excluded", 1, 1, "Records excluded", "records_excluded", fmt),
        _count_box("sought", 0, 2, "Reports sought for retrieval", "dbr_sought_reports", fmt),
        _count_box("not_retrieved", 1, 2, "Reports not retrieved", "dbr_notretrieved_reports", fmt),
        _count_box("assessed", 0, 3, "Reports assessed for eligibility", "dbr_assessed", fmt),
        _excluded_box("reports_excluded", 1, 3, "dbr_excluded", fmt, reasons),
        _Box(
            "included",
            0,
            4,
            [
                f"Studies included in review ({fmt.n('new_studies')})",
                f"Reports of included studies ({fmt.n('new_reports')})",
            ],
            included,
        ),
    ]


def _other_boxes(fmt: _Fmt, reasons: dict[str, str]) -> list[_Box]:
    """The "other methods" column and its exclusion boxes, in reading order."""
    sources = [
        ("Websites", "website_results"),
        ("Organisations", "organisation_results"),
        ("Citation searching", "citations_results"),
    ]
    return [
        _list_box("other_identified", 2, 0, "Records identified from:", sources, fmt),
        _count_box("other_sought", 2, 2, "Reports sought for retrieval", "other_sought_reports", fmt),
        _count_box("other_not_retrieved", 3, 2, "Reports not retrieved", "other_notretrieved_reports", fmt),
        _count_box("other_assessed", 2, 3, "Reports assessed for eligibility", "other_assessed", fmt),
        _excluded_box("other_excluded", 3, 3, "other_excluded", fmt, reasons),
    ]


def _boxes(prisma: pd.DataFrame, fmt: _Fmt, other_methods: bool) -> list[_Box]:
    reasons = _column_map(prisma, "reasons")
    boxes = _dbr_boxes(fmt, reasons)
    if other_methods:
        boxes += _other_boxes(fmt, reasons)
    return boxes


def _footnote_texts(fmt: _Fmt, boxes: list[_Box]) -> list[str]:
    """The legend lines the figure needs (call after every count has been formatted)."""
    notes = []
    if any(fmt.na(box.keys) for box in boxes):
        notes.append(
            "Dashed grey border: no count in the box is reported in the available "
            f"sources (printed as \u201cn = {fmt.nr}\u201d)."
        )
    if fmt.used_dagger:
        notes.append("\u2020 derived: computed from other counts, not reported directly.")
    return notes


# --- layout -------------------------------------------------------------------
@dataclass(frozen=True)
class LayoutBox:
    """A placed rectangle and its text (inches, origin at the figure's lower left).

    ``kind`` is ``"flow"`` (a count box), ``"header"`` (a column header) or
    ``"phase"`` (a phase bar on the left). The drawn patch has the SVG gid
    ``<key>-box`` and the text ``<key>-text``.
    """

    key: str
    kind: str
    text: str  # as drawn: wrapped, one ``\n`` per line
    x: float
    y: float
    w: float
    h: float
    anchor: tuple[float, float]  # where the text is centred
    align: str = "center"  # alignment of the text's lines
    counts: tuple[str, ...] = ()  # the ``data`` keys whose counts the text shows
    not_reported: bool = False  # none of ``counts`` is reported: dashed grey border

    def overlaps(self, other: LayoutBox) -> bool:
        """True when the interiors of the two rectangles intersect."""
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


@dataclass(frozen=True)
class Arrow:
    """A connector from box ``source`` to box ``target``: a polyline, arrow head at its last point."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Footnote:
    text: str
    x: float  # left edge of the text
    y: float  # bottom edge of the text


@dataclass(frozen=True)
class PrismaLayout:
    """Everything :func:`prisma_flow_diagram` draws, as numbers and strings."""

    width: float
    height: float
    boxes: tuple[LayoutBox, ...]  # flow boxes, in reading order
    headers: tuple[LayoutBox, ...]
    phases: tuple[LayoutBox, ...]
    arrows: tuple[Arrow, ...]
    footnotes: tuple[Footnote, ...]

    def box(self, key: str) -> LayoutBox:
        """The flow box, header or phase bar called ``key``."""
        for item in self.boxes + self.headers + self.phases:
            if item.key == key:
                return item
        raise KeyError(key)


#: ``measure(text, text_properties) -> (width, height)`` in inches.
TextMeter = Callable[[str, Mapping[str, Any]], tuple[float, float]]

FIG_DPI = 100
N_ROWS = 5
BAR_W = 0.34
PHASE_PAD = 0.24  # room above and below a rotated phase label
#: (key, label, rows) of the phase bars on the left.
PHASES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("identification", "Identification", (0,)),
    ("screening", "Screening", (1, 2, 3)),
    ("included", "Included", (4,)),
)

_TEXT_BASE: dict[str, Any] = {"ha": "center", "va": "center", "parse_math": False, "zorder": 3, "color": EDGE}
_PHASE_TEXT = {**_TEXT_BASE, "fontsize": PHASE_FONTSIZE, "fontweight": "bold", "rotation": 90}
_HEADER_TEXT = {**_TEXT_BASE, "fontsize": HEADER_FONTSIZE, "fontweight": "bold"}
_FOOTNOTE_TEXT = {**_TEXT_BASE, "fontsize": FOOTNOTE_FONTSIZE, "ha": "left", "va": "bottom"}


def _box_text_props(align: str) -> dict[str, Any]:
    return {**_TEXT_BASE, "fontsize": BOX_FONTSIZE, "multialignment": align, "linespacing": 1.3}


def _columns(other_methods: bool) -> tuple[float, float, list[tuple[float, float]]]:
    """Figure width, phase-bar x and the (x, width) of each box column."""
    bar_x = MARGIN
    if not other_methods:
        return 7.5, bar_x, [(0.62, 3.0), (4.05, 3.35)]
    return 12.5, bar_x, [(0.62, 2.7), (3.72, 2.7), (6.92, 2.6), (9.9, 2.5)]


class _AggMeter:
    """Measures text as the Agg renderer draws it, on a scratch figure (book style applied)."""

    def __init__(self) -> None:
        use_book_style()
        fig = Figure(dpi=FIG_DPI)
        FigureCanvasAgg(fig)
        self._ax = fig.add_axes((0, 0, 1, 1))
        self._renderer = fig.canvas.get_renderer()

    def __call__(self, text: str, props: Mapping[str, Any]) -> tuple[float, float]:
        artist = self._ax.text(0, 0, text, **props)
        bb = artist.get_window_extent(self._renderer)
        artist.remove()
        return bb.width / FIG_DPI, bb.height / FIG_DPI


def _fit_text(box: _Box, inner_w: float, measure: TextMeter) -> tuple[str, float, float]:
    """The widest wrap of the box's text that fits ``inner_w`` (inches), and its size; deterministic."""
    props = _box_text_props(box.align)
    longest = max(len(line) for line in box.lines)
    for width in range(max(longest, 8), 7, -1):
        wrapped = _wrap(box.lines, width, hanging=box.align == "left")
        w, h = measure(wrapped, props)
        if w <= inner_w:
            break
    return wrapped, w, h


def _row_heights(boxes: list[_Box], text_h: dict[str, float], phase_h: dict[str, float]) -> list[float]:
    """Every box of a row is as tall as the tallest text needs; a phase bar fits its rotated label."""
    heights = [MIN_ROW_HEIGHT] * N_ROWS
    for box in boxes:
        heights[box.row] = max(heights[box.row], text_h[box.key] + 2 * PAD_Y)
    for key, _label, rows in PHASES:
        need = phase_h[key] + PHASE_PAD
        have = sum(heights[r] for r in rows) + ROW_GAP * (len(rows) - 1)
        if have < need:
            for r in rows:
                heights[r] += (need - have) / len(rows)
    return heights


def _figure_height(heights: list[float], n_footnotes: int) -> float:
    top_block = MARGIN + HEADER_HEIGHT + HEADER_GAP
    body = sum(heights) + ROW_GAP * (N_ROWS - 1)
    foot = (0.18 + FOOTNOTE_LINE * n_footnotes) if n_footnotes else 0.0
    return top_block + body + foot + MARGIN


def _row_tops(heights: list[float], height: float) -> list[float]:
    tops = []
    y = height - (MARGIN + HEADER_HEIGHT + HEADER_GAP)
    for h in heights:
        tops.append(y)
        y -= h + ROW_GAP
    return tops


def _place_headers(height: float, cols: list[tuple[float, float]], other_methods: bool) -> tuple[LayoutBox, ...]:
    """One header over each pair of columns (a main column and its exclusion boxes)."""
    specs = [("dbr", 0, 1, "Identification of studies via databases and registers")]
    if other_methods:
        specs.append(("other", 2, 3, "Identification of studies via other methods"))
    y0 = height - MARGIN - HEADER_HEIGHT
    out = []
    for key, first, last, label in specs:
        x0, x1 = cols[first][0], cols[last][0] + cols[last][1]
        anchor = ((x0 + x1) / 2, y0 + HEADER_HEIGHT / 2)
        out.append(LayoutBox(f"header-{key}", "header", label, x0, y0, x1 - x0, HEADER_HEIGHT, anchor))
    return tuple(out)


def _place_phases(bar_x: float, heights: list[float], tops: list[float]) -> tuple[LayoutBox, ...]:
    """Each phase bar spans its rows, from the top of the first to the bottom of the last."""
    out = []
    for key, label, rows in PHASES:
        top = tops[rows[0]]
        bottom = tops[rows[-1]] - heights[rows[-1]]
        anchor = (bar_x + BAR_W / 2, (top + bottom) / 2)
        out.append(LayoutBox(f"phase-{key}", "phase", label, bar_x, bottom, BAR_W, top - bottom, anchor))
    return tuple(out)


def _place_box(box: _Box, text: str, x0: float, w: float, h: float, top: float, fmt: _Fmt) -> LayoutBox:
    y0 = top - h
    # a left-aligned block is itself centred in its box
    anchor = (x0 + w / 2, y0 + h / 2)
    counts, na = tuple(box.keys), fmt.na(box.keys)
    return LayoutBox(box.key, "flow", text, x0, y0, w, h, anchor, box.align, counts, na)


def _mid_bottom(b: LayoutBox) -> tuple[float, float]:
    return (b.x + b.w / 2, b.y)


def _mid_top(b: LayoutBox) -> tuple[float, float]:
    return (b.x + b.w / 2, b.y + b.h)


def _right_mid(b: LayoutBox) -> tuple[float, float]:
    return (b.x + b.w, b.y + b.h / 2)


def _left_mid(b: LayoutBox) -> tuple[float, float]:
    return (b.x, b.y + b.h / 2)


_DOWN = [("identified", "screened"), ("screened", "sought"), ("sought", "assessed"), ("assessed", "included")]
_ACROSS = [
    ("identified", "removed"),
    ("screened", "records_excluded"),
    ("sought", "not_retrieved"),
    ("assessed", "reports_excluded"),
]
_OTHER_DOWN = [("other_identified", "other_sought"), ("other_sought", "other_assessed")]
_OTHER_ACROSS = [("other_sought", "other_not_retrieved"), ("other_assessed", "other_excluded")]


def _arrows(boxes: dict[str, LayoutBox], other_methods: bool) -> tuple[Arrow, ...]:
    """Down the main columns, across to the exclusion boxes; the other column joins "included"."""
    arrows = [Arrow(a, b, (_mid_bottom(boxes[a]), _mid_top(boxes[b]))) for a, b in _DOWN]
    arrows += [Arrow(a, b, (_right_mid(boxes[a]), _left_mid(boxes[b]))) for a, b in _ACROSS]
    if other_methods:
        arrows += [Arrow(a, b, (_mid_bottom(boxes[a]), _mid_top(boxes[b]))) for a, b in _OTHER_DOWN]
        arrows += [Arrow(a, b, (_right_mid(boxes[a]), _left_mid(boxes[b]))) for a, b in _OTHER_ACROSS]
        # elbow: down from "other" assessed, then left into the included box
        (sx, sy), (ex, ey) = _mid_bottom(boxes["other_assessed"]), _right_mid(boxes["included"])
        arrows.append(Arrow("other_assessed", "included", ((sx, sy), (sx, ey), (ex, ey))))
    return tuple(arrows)


def prisma_layout(
    prisma: pd.DataFrame,
    *,
    other_methods: bool = False,
    not_reported_text: str = "not reported",
    measure: TextMeter | None = None,
) -> PrismaLayout:
    """Compute the flow diagram without drawing it: every box's text, position and size, and the arrows.

    Arguments as for :func:`prisma_flow_diagram`. ``measure(text, props)``
    returns a text's (width, height) in inches; by default the text is measured
    as Matplotlib's Agg renderer draws it in the book's style.
    """
    _check_required(prisma)
    width, bar_x, cols = _columns(other_methods)
    measure = measure or _AggMeter()
    fmt = _Fmt(prisma_counts(prisma), _derived(prisma), not_reported_text)
    content = _boxes(prisma, fmt, other_methods)
    fitted = {box.key: _fit_text(box, cols[box.col][1] - 2 * PAD_X, measure) for box in content}
    phase_h = {key: measure(label, _PHASE_TEXT)[1] for key, label, _rows in PHASES}
    heights = _row_heights(content, {key: fit[2] for key, fit in fitted.items()}, phase_h)
    notes = _footnote_texts(fmt, content)
    height = _figure_height(heights, len(notes))
    tops = _row_tops(heights, height)
    boxes = {
        box.key: _place_box(box, fitted[box.key][0], *cols[box.col], heights[box.row], tops[box.row], fmt)
        for box in content
    }
    return PrismaLayout(
        width=width,
        height=height,
        boxes=tuple(boxes.values()),
        headers=_place_headers(height, cols, other_methods),
        phases=_place_phases(bar_x, heights, tops),
        arrows=_arrows(boxes, other_methods),
        footnotes=tuple(
            Footnote(note, bar_x, MARGIN + FOOTNOTE_LINE * (len(notes) - 1 - i)) for i, note in enumerate(notes)
        ),
    )


# --- drawing ------------------------------------------------------------------
def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A bare Agg figure whose data coordinates are inches from the lower left."""
    fig = Figure(figsize=(width, height), dpi=FIG_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    return fig, ax


def _add_bar(ax: Axes, item: LayoutBox, fill: str) -> None:
    """A borderless, rounded, filled rectangle (a header or a phase bar)."""
    patch = FancyBboxPatch(
        (item.x, item.y),
        item.w,
        item.h,
        boxstyle="round,pad=0,rounding_size=0.08",
        facecolor=fill,
        edgecolor="none",
        zorder=2,
    )
    patch.set_gid(f"{item.key}-box")
    ax.add_patch(patch)


def _add_frame(ax: Axes, box: LayoutBox) -> None:
    """A flow box: white, black border, or dashed grey when none of its counts is reported."""
    na = box.not_reported
    patch = Rectangle(
        (box.x, box.y),
        box.w,
        box.h,
        facecolor=BOX_FILL,
        edgecolor=NA_EDGE if na else EDGE,
        linewidth=1.4 if na else 1.0,
        linestyle=NA_DASHES if na else "solid",
        zorder=2,
    )
    patch.set_gid(f"{box.key}-box")
    ax.add_patch(patch)


def _add_label(ax: Axes, item: LayoutBox, props: Mapping[str, Any]) -> None:
    ax.text(*item.anchor, item.text, **props).set_gid(f"{item.key}-text")


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=11,
            color=EDGE,
            linewidth=1.0,
            shrinkA=0,
            shrinkB=0,
            zorder=1,
        )
    )


def _draw_arrows(ax: Axes, arrows: tuple[Arrow, ...]) -> None:
    """Each arrow: a plain line through all points but the last, then an arrow head segment."""
    for arrow in arrows:
        *line, start, end = arrow.points
        if line:
            xs, ys = zip(*line, start)
            ax.add_line(Line2D(list(xs), list(ys), color=EDGE, linewidth=1.0, zorder=1))
        _arrow(ax, start, end)


def _draw_boxes(ax: Axes, layout: PrismaLayout) -> None:
    """All filled shapes, back to front: headers, phase bars, then the flow boxes."""
    for header in layout.headers:
        _add_bar(ax, header, HEADER_FILL)
    for phase in layout.phases:
        _add_bar(ax, phase, PHASE_FILL)
    for box in layout.boxes:
        _add_frame(ax, box)


def _draw_labels(ax: Axes, layout: PrismaLayout) -> None:
    """All text, in SVG document (screen-reader) order: boxes, side labels, headers, footnotes."""
    for box in layout.boxes:
        _add_label(ax, box, _box_text_props(box.align))
    for phase in layout.phases:
        _add_label(ax, phase, _PHASE_TEXT)
    for header in layout.headers:
        _add_label(ax, header, _HEADER_TEXT)
    for i, note in enumerate(layout.footnotes):
        ax.text(note.x, note.y, note.text, **_FOOTNOTE_TEXT).set_gid(f"footnote-{i}")


def draw_prisma_layout(layout: PrismaLayout) -> Figure:
    """Draw a :class:`PrismaLayout` on a new bare Agg figure."""
    use_book_style()
    fig, ax = _canvas(layout.width, layout.height)
    _draw_boxes(ax, layout)
    _draw_arrows(ax, layout.arrows)
    _draw_labels(ax, layout)
    return fig


def prisma_flow_diagram(
    prisma: pd.DataFrame,
    *,
    other_methods: bool = False,
    not_reported_text: str = "not reported",
) -> Figure:
    """Draw the PRISMA 2020 flow diagram (new review template) from ``prisma``.

    ``other_methods=True`` adds the "Identification of studies via other
    methods" column. NA counts are printed as ``n = <not_reported_text>``.
    Raises ``ValueError`` if one of :data:`REQUIRED_ROWS` is absent.
    """
    layout = prisma_layout(prisma, other_methods=other_methods, not_reported_text=not_reported_text)
    return draw_prisma_layout(layout)


# --- alt text -----------------------------------------------------------------
#: (phase, [(data key, what is counted), ...]) of the alt text; ``None`` is the excluded-reports clause.
_ALT_PHASES: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = (
    (
        "Identification",
        (
            ("database_results", "records identified from databases"),
            ("register_results", "records identified from registers"),
        ),
    ),
    (
        "Removed before screening",
        (
            ("duplicates", "duplicate records"),
            ("excluded_automatic", "records marked as ineligible by automation tools"),
            ("excluded_other", "records removed for other reasons"),
        ),
    ),
    (
        "Screening",
        (
            ("records_screened", "records screened"),
            ("records_excluded", "records excluded"),
            ("dbr_sought_reports", "reports sought for retrieval"),
            ("dbr_notretrieved_reports", "reports not retrieved"),
            ("dbr_assessed", "reports assessed for eligibility"),
            ("dbr_excluded", None),
        ),
    ),
    (
        "Included",
        (
            ("new_studies", "studies included in the review"),
            ("new_reports", "reports of included studies"),
        ),
    ),
)


def _say(counts: dict[str, int | None], derived: set[str], key: str, what: str) -> str:
    n = counts.get(key)
    if n is None:
        return f"the number of {what} is not reported"
    mark = " (derived from other counts)" if key in derived else ""
    return f"{n:,} {what}{mark}"


def _excluded_clause(counts: dict[str, int | None], derived: set[str], reasons: str | None) -> str:
    clause = _say(counts, derived, "dbr_excluded", "reports excluded after eligibility assessment")
    parsed = _parse_reasons(reasons)
    if parsed:
        clause += " (" + "; ".join(f"{label}: {n:,}" if n is not None else label for label, n in parsed) + ")"
    return clause


def prisma_alt_text(prisma: pd.DataFrame) -> str:
    """One-paragraph text alternative of the flow diagram."""
    _check_required(prisma)
    counts = prisma_counts(prisma)
    derived = _derived(prisma)
    excluded = _excluded_clause(counts, derived, _column_map(prisma, "reasons").get("dbr_excluded"))

    def clause(key: str, what: str | None) -> str:
        return excluded if what is None else _say(counts, derived, key, what)

    sentences = ["PRISMA 2020 flow diagram of the identification of studies via databases and registers."]
    for phase, items in _ALT_PHASES:
        sentences.append(f"{phase}: " + "; ".join(clause(key, what) for key, what in items) + ".")
    return " ".join(sentences)
