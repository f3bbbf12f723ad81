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

The data are not validated here (the schema module does that); only the rows
the diagram cannot do without are checked for presence.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from helpers.style import OKABE_ITO, ROLE_COLOURS, use_book_style

__all__ = [
    "REQUIRED_ROWS",
    "prisma_alt_text",
    "prisma_counts",
    "prisma_flow_diagram",
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
FOOTNOTE_FONTSIZE = 8.0
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


@dataclass
class _Box:
    key: str
    col: int  # 0 main, 1 side, 2 other main, 3 other side
    row: int
    lines: list[str]  # logical lines; an item line starts with two spaces
    keys: list[str]  # the counts shown in the box
    align: str = "center"
    wrapped: str = ""
    text_w: float = 0.0
    text_h: float = 0.0


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


def _reason_lines(fmt: _Fmt, reasons_text: str | None) -> list[str]:
    lines = []
    for label, count in _parse_reasons(reasons_text):
        if count is None:
            lines.append(f"  {label}")
        else:
            lines.append(f"  {label} (n = {count:,})")
    return lines


def _excluded_box(key: str, col: int, row: int, field: str, fmt, reasons) -> _Box:
    """'Reports excluded (n = ...)' with one line per exclusion reason, when reasons are given."""
    lines = _reason_lines(fmt, reasons.get(field))
    return _Box(
        key,
        col,
        row,
        [f"Reports excluded ({fmt.n(field)})" + (":" if lines else "")] + lines,
        [field],
        align="left" if lines else "center",
    )


def _boxes(prisma: pd.DataFrame, fmt: _Fmt, other_methods: bool) -> list[_Box]:
    reasons = _column_map(prisma, "reasons")
    boxes = [
        _Box(
            "identified",
            0,
            0,
            [
                "Records identified from:",
                f"  Databases ({fmt.n('database_results')})",
                f"  Registers ({fmt.n('register_results')})",
            ],
            ["database_results", "register_results"],
            align="left",
        ),
        _Box(
            "removed",
            1,
            0,
            [
                "Records removed before screening:",
                f"  Duplicate records ({fmt.n('duplicates')})",
                f"  Records marked as ineligible by automation tools ({fmt.n('excluded_automatic')})",
                f"  Records removed for other reasons ({fmt.n('excluded_other')})",
            ],
            ["duplicates", "excluded_automatic", "excluded_other"],
            align="left",
        ),
        _Box("screened", 0, 1, [f"Records screened ({fmt.n('records_screened')})"], ["records_screened"]),
        _Box("records_excluded", 1, 1, [f"Records excluded ({fmt.n('records_excluded')})"], ["records_excluded"]),
        _Box("sought", 0, 2, [f"Reports sought for retrieval ({fmt.n('dbr_sought_reports')})"], ["dbr_sought_reports"]),
        _Box(
            "not_retrieved",
            1,
            2,
            [f"Reports not retrieved ({fmt.n('dbr_notretrieved_reports')})"],
            ["dbr_notretrieved_reports"],
        ),
        _Box("assessed", 0, 3, [f"Reports assessed for eligibility ({fmt.n('dbr_assessed')})"], ["dbr_assessed"]),
    ]
    boxes.append(_excluded_box("reports_excluded", 1, 3, "dbr_excluded", fmt, reasons))
    boxes.append(
        _Box(
            "included",
            0,
            4,
            [
                f"Studies included in review ({fmt.n('new_studies')})",
                f"Reports of included studies ({fmt.n('new_reports')})",
            ],
            ["new_studies", "new_reports"],
        )
    )
    if other_methods:
        boxes += [
            _Box(
                "other_identified",
                2,
                0,
                [
                    "Records identified from:",
                    f"  Websites ({fmt.n('website_results')})",
                    f"  Organisations ({fmt.n('organisation_results')})",
                    f"  Citation searching ({fmt.n('citations_results')})",
                ],
                ["website_results", "organisation_results", "citations_results"],
                align="left",
            ),
            _Box(
                "other_sought",
                2,
                2,
                [f"Reports sought for retrieval ({fmt.n('other_sought_reports')})"],
                ["other_sought_reports"],
            ),
            _Box(
                "other_not_retrieved",
                3,
                2,
                [f"Reports not retrieved ({fmt.n('other_notretrieved_reports')})"],
                ["other_notretrieved_reports"],
            ),
            _Box(
                "other_assessed",
                2,
                3,
                [f"Reports assessed for eligibility ({fmt.n('other_assessed')})"],
                ["other_assessed"],
            ),
        ]
        boxes.append(_excluded_box("other_excluded", 3, 3, "other_excluded", fmt, reasons))
    return boxes


# --- drawing ------------------------------------------------------------------
def _columns(other_methods: bool) -> tuple[float, float, list[tuple[float, float]]]:
    """Figure width, phase-bar x and the (x, width) of each box column."""
    bar_x = MARGIN
    if not other_methods:
        return 7.5, bar_x, [(0.62, 3.0), (4.05, 3.35)]
    return 12.5, bar_x, [(0.62, 2.7), (3.72, 2.7), (6.92, 2.6), (9.9, 2.5)]


BAR_W = 0.34


def _extent_in(text, renderer, dpi: float) -> tuple[float, float]:
    bb = text.get_window_extent(renderer)
    return bb.width / dpi, bb.height / dpi


def _fit_text(box: _Box, text, inner_w: float, renderer, dpi: float) -> None:
    """Choose the widest wrap that fits ``inner_w`` (inches); deterministic."""
    longest = max(len(line) for line in box.lines)
    for width in range(longest, 7, -1):
        wrapped = _wrap(box.lines, width, hanging=box.align == "left")
        text.set_text(wrapped)
        w, h = _extent_in(text, renderer, dpi)
        if w <= inner_w:
            break
    box.wrapped, box.text_w, box.text_h = wrapped, w, h


def _arrow(ax, start, end) -> None:
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
    _check_required(prisma)
    use_book_style()
    fmt = _Fmt(prisma_counts(prisma), _derived(prisma), not_reported_text)
    boxes = _boxes(prisma, fmt, other_methods)

    width, bar_x, cols = _columns(other_methods)
    fig = Figure(figsize=(width, 8.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    renderer = fig.canvas.get_renderer()
    dpi = fig.dpi

    # 1. text objects, wrapped to fit their column
    texts = {}
    for box in boxes:
        t = ax.text(
            0,
            0,
            "",
            fontsize=BOX_FONTSIZE,
            ha="center",
            va="center",
            multialignment=box.align,
            parse_math=False,
            zorder=3,
            color=EDGE,
            linespacing=1.3,
        )
        _fit_text(box, t, cols[box.col][1] - 2 * PAD_X, renderer, dpi)
        t.set_gid(f"{box.key}-text")
        texts[box.key] = t

    phases = [
        ("identification", "Identification", [0]),
        ("screening", "Screening", [1, 2, 3]),
        ("included", "Included", [4]),
    ]
    phase_texts = {}
    for key, label, _rows in phases:
        t = ax.text(
            0,
            0,
            label,
            fontsize=PHASE_FONTSIZE,
            fontweight="bold",
            rotation=90,
            ha="center",
            va="center",
            parse_math=False,
            zorder=3,
            color=EDGE,
        )
        t.set_gid(f"phase-{key}-text")
        phase_texts[key] = t

    # 2. row heights: every box of a row is as tall as the tallest text needs
    n_rows = 5
    heights = [MIN_ROW_HEIGHT] * n_rows
    for box in boxes:
        heights[box.row] = max(heights[box.row], box.text_h + 2 * PAD_Y)
    for key, _label, rows in phases:  # the rotated phase label must fit its bar
        need = _extent_in(phase_texts[key], renderer, dpi)[1] + 0.24
        have = sum(heights[r] for r in rows) + ROW_GAP * (len(rows) - 1)
        if have < need:
            for r in rows:
                heights[r] += (need - have) / len(rows)

    footnotes = []
    if any(fmt.na(box.keys) for box in boxes):
        footnotes.append(
            "Dashed grey border: no count in the box is reported in the available "
            f"sources (printed as \u201cn = {not_reported_text}\u201d)."
        )
    if fmt.used_dagger:
        footnotes.append("\u2020 derived: computed from other counts, not reported directly.")

    top_block = MARGIN + HEADER_HEIGHT + HEADER_GAP
    body = sum(heights) + ROW_GAP * (n_rows - 1)
    foot = (0.18 + FOOTNOTE_LINE * len(footnotes)) if footnotes else 0.0
    height = top_block + body + foot + MARGIN
    fig.set_size_inches(width, height)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)

    row_top = []
    y = height - top_block
    for h in heights:
        row_top.append(y)
        y -= h + ROW_GAP

    # 3. headers
    def header(key: str, x0: float, x1: float, label: str) -> None:
        y0 = height - MARGIN - HEADER_HEIGHT
        patch = FancyBboxPatch(
            (x0, y0),
            x1 - x0,
            HEADER_HEIGHT,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=HEADER_FILL,
            edgecolor="none",
            zorder=2,
        )
        patch.set_gid(f"header-{key}-box")
        ax.add_patch(patch)
        t = ax.text(
            (x0 + x1) / 2,
            y0 + HEADER_HEIGHT / 2,
            label,
            fontsize=HEADER_FONTSIZE,
            fontweight="bold",
            ha="center",
            va="center",
            parse_math=False,
            zorder=3,
            color=EDGE,
        )
        t.set_gid(f"header-{key}-text")

    header("dbr", cols[0][0], cols[1][0] + cols[1][1], "Identification of studies via databases and registers")
    if other_methods:
        header("other", cols[2][0], cols[3][0] + cols[3][1], "Identification of studies via other methods")

    # 4. phase bars
    for key, _label, rows in phases:
        top = row_top[rows[0]]
        bottom = row_top[rows[-1]] - heights[rows[-1]]
        patch = FancyBboxPatch(
            (bar_x, bottom),
            BAR_W,
            top - bottom,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=PHASE_FILL,
            edgecolor="none",
            zorder=2,
        )
        patch.set_gid(f"phase-{key}-box")
        ax.add_patch(patch)
        phase_texts[key].set_position((bar_x + BAR_W / 2, (top + bottom) / 2))

    # 5. boxes
    geom: dict[str, tuple[float, float, float, float]] = {}
    for box in boxes:
        x0, w = cols[box.col]
        h = heights[box.row]
        y0 = row_top[box.row] - h
        na = fmt.na(box.keys)
        patch = Rectangle(
            (x0, y0),
            w,
            h,
            facecolor=BOX_FILL,
            edgecolor=NA_EDGE if na else EDGE,
            linewidth=1.4 if na else 1.0,
            linestyle=NA_DASHES if na else "solid",
            zorder=2,
        )
        patch.set_gid(f"{box.key}-box")
        ax.add_patch(patch)
        t = texts[box.key]
        t.set_text(box.wrapped)
        # a left-aligned block is itself centred in its box
        t.set_position((x0 + w / 2, y0 + h / 2))
        geom[box.key] = (x0, y0, w, h)

    # 6. arrows
    def mid_bottom(k):
        x0, y0, w, _h = geom[k]
        return (x0 + w / 2, y0)

    def mid_top(k):
        x0, y0, w, h = geom[k]
        return (x0 + w / 2, y0 + h)

    def right_mid(k):
        x0, y0, w, h = geom[k]
        return (x0 + w, y0 + h / 2)

    def left_mid(k):
        x0, y0, _w, h = geom[k]
        return (x0, y0 + h / 2)

    for a, b in [("identified", "screened"), ("screened", "sought"), ("sought", "assessed"), ("assessed", "included")]:
        _arrow(ax, mid_bottom(a), mid_top(b))
    for a, b in [
        ("identified", "removed"),
        ("screened", "records_excluded"),
        ("sought", "not_retrieved"),
        ("assessed", "reports_excluded"),
    ]:
        _arrow(ax, right_mid(a), left_mid(b))
    if other_methods:
        _arrow(ax, mid_bottom("other_identified"), mid_top("other_sought"))
        _arrow(ax, mid_bottom("other_sought"), mid_top("other_assessed"))
        _arrow(ax, right_mid("other_sought"), left_mid("other_not_retrieved"))
        _arrow(ax, right_mid("other_assessed"), left_mid("other_excluded"))
        # elbow: down from "other" assessed, then left into the included box
        sx, sy = mid_bottom("other_assessed")
        ex, ey = right_mid("included")
        ax.add_line(Line2D([sx, sx], [sy, ey], color=EDGE, linewidth=1.0, zorder=1))
        _arrow(ax, (sx, ey), (ex, ey))

    # 7. footnotes
    for i, note in enumerate(footnotes):
        t = ax.text(
            bar_x,
            MARGIN + FOOTNOTE_LINE * (len(footnotes) - 1 - i),
            note,
            fontsize=FOOTNOTE_FONTSIZE,
            ha="left",
            va="bottom",
            parse_math=False,
            zorder=3,
            color=EDGE,
        )
        t.set_gid(f"footnote-{i}")

    return fig


# --- alt text -----------------------------------------------------------------
def prisma_alt_text(prisma: pd.DataFrame) -> str:
    """One-paragraph text alternative of the flow diagram."""
    _check_required(prisma)
    counts = prisma_counts(prisma)
    derived = _derived(prisma)
    reasons = _column_map(prisma, "reasons")

    def say(key: str, what: str) -> str:
        n = counts.get(key)
        if n is None:
            return f"the number of {what} is not reported"
        mark = " (derived from other counts)" if key in derived else ""
        return f"{n:,} {what}{mark}"

    excluded = say("dbr_excluded", "reports excluded after eligibility assessment")
    parsed = _parse_reasons(reasons.get("dbr_excluded"))
    if parsed:
        excluded += " (" + "; ".join(f"{label}: {n:,}" if n is not None else label for label, n in parsed) + ")"

    sentences = [
        "PRISMA 2020 flow diagram of the identification of studies via databases and registers.",
        "Identification: "
        + "; ".join(
            [
                say("database_results", "records identified from databases"),
                say("register_results", "records identified from registers"),
            ]
        )
        + ".",
        "Removed before screening: "
        + "; ".join(
            [
                say("duplicates", "duplicate records"),
                say("excluded_automatic", "records marked as ineligible by automation tools"),
                say("excluded_other", "records removed for other reasons"),
            ]
        )
        + ".",
        "Screening: "
        + "; ".join(
            [
                say("records_screened", "records screened"),
                say("records_excluded", "records excluded"),
                say("dbr_sought_reports", "reports sought for retrieval"),
                say("dbr_notretrieved_reports", "reports not retrieved"),
                say("dbr_assessed", "reports assessed for eligibility"),
                excluded,
            ]
        )
        + ".",
        "Included: "
        + "; ".join(
            [
                say("new_studies", "studies included in the review"),
                say("new_reports", "reports of included studies"),
            ]
        )
        + ".",
    ]
    return " ".join(sentences)
