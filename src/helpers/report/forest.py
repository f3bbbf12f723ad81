"""Meta-analysis forest plots: study squares, pooled diamonds, prediction intervals.

Why this module does not use the ``forestplot`` package
-------------------------------------------------------
We tried ``forestplot`` 0.4.1 (``fp.forestplot``) for the table layout with 1, 2, 3,
6 and 20 studies. No part of it could be kept, so the whole figure is drawn here
with plain matplotlib:

* With 1 to 3 study rows, the column-header row is cut off: the y-limits are set
  to ``(-0.5, autoscaled_top - 0.5)``.
* Rows sit on a categorical axis keyed by their text, so two rows with identical
  text (same label and counts) are drawn on one line.
* It raises a matplotlib ``UserWarning`` (tick labels set without fixed ticks),
  which is an error under our ``filterwarnings = error``. Its log-scale tick labels
  overlap, and its line of no effect defaults to 0.
* It measures and draws through ``plt.gcf()``/``plt.plot`` instead of the figure
  it was given. It puts the right-hand text at ``xlim[1] * 1.05`` in data units,
  which is inside the plot when the upper limit is <= 0 (risk differences).
* Importing it changes global state for the whole process:
  ``warnings.filterwarnings("ignore")``, ``np.seterr(all="ignore")`` and
  ``rcParams["font.monospace"]``.
* It has no weighted squares, diamonds, prediction intervals or arrows for
  clipped CIs. Its text columns are space-padded strings, so they line up only
  in a monospaced font.

Here the layout is worked out in inches. Text is measured with the Agg renderer
before the figure size is chosen, rows are drawn at numeric y positions, and the
figure height grows with the number of rows.

:func:`forest_plot` is two steps: :func:`forest_layout` places every row, column,
piece of text, the x-limits and ticks and the figure size (a
:class:`ForestLayout`, no drawing), and :func:`draw_forest` draws that layout,
one function per part (axes, table text, study rows, pooled diamonds and
prediction intervals, labels under the axis, notes, title).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import transforms as mtransforms
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.ticker import MaxNLocator, NullLocator
from scipy import stats

from helpers.report.prose import fmt_ci
from helpers.report.style import OKABE_ITO, ROLE_COLOURS, use_book_style
from helpers.stats import pooling

__all__ = [
    "forest_plot",
    "forest_layout",
    "draw_forest",
    "ForestLayout",
    "ForestRow",
    "ForestColumns",
    "PlacedText",
    "alt_text",
    "MEASURES",
]

#: measure code -> (long name, short name for column header, kind)
MEASURES: dict[str, tuple[str, str, str]] = {
    "RR": ("Risk ratio", "RR", "ratio"),
    "OR": ("Odds ratio", "OR", "ratio"),
    "HR": ("Hazard ratio", "HR", "ratio"),
    "IRR": ("Incidence rate ratio", "IRR", "ratio"),
    "ROM": ("Ratio of means", "ROM", "ratio"),
    "RD": ("Risk difference", "RD", "difference"),
    "MD": ("Mean difference", "MD", "difference"),
    "SMD": ("Standardised mean difference", "SMD", "difference"),
    "PLO": ("Proportion", "Proportion", "proportion"),
    "PR": ("Proportion", "Proportion", "proportion"),
    "PRAW": ("Proportion", "Proportion", "proportion"),
    "PLN": ("Proportion", "Proportion", "proportion"),
    "PFT": ("Proportion", "Proportion", "proportion"),
    "PAS": ("Proportion", "Proportion", "proportion"),
}

MINUS = "\u2212"
DASH = "\u2013"

# Colours (Okabe-Ito, by role); meaning is always also given in text.
STUDY_FILL = OKABE_ITO["grey"]
STUDY_LINE = OKABE_ITO["black"]
FIXED_COLOUR = ROLE_COLOURS["pooled_fixed"]
RANDOM_COLOUR = ROLE_COLOURS["pooled_random"]
PI_COLOUR = ROLE_COLOURS["prediction"]

# Geometry (inches unless said otherwise).
_MARGIN = 0.12
_COL_GAP = 0.15
_PLOT_GAP = 0.15
_TICK_SPACE = 0.33  # tick marks + tick labels under the axis
_TICK_GAP = 0.1  # least space between two tick labels (fewer ticks where they would stand closer)
_HEADER_PITCH = 1.25  # distance between the lines of a two-line column header, in font sizes
_SQUARE_MAX_FRAC = 0.72  # side of the largest square, as a fraction of row height
_DIAMOND_HALF = 0.36  # half-height of a diamond, in rows


# --------------------------------------------------------------------------- #
# Small formatting helpers
# --------------------------------------------------------------------------- #
def _finite(v: object) -> bool:
    try:
        return v is not None and math.isfinite(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _fnum(v: object, digits: int) -> str:
    """Number with fixed decimals and a typographic minus; inf as infinity sign."""
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DASH
    if math.isnan(x):
        return DASH
    if math.isinf(x):
        return "\u221e" if x > 0 else MINUS + "\u221e"
    s = f"{x:.{digits}f}"
    if 0 < x < 0.5 * 10.0**-digits:  # e.g. an RR bound of 0.004 -> "<0.01", not "0.00"
        return f"<{10.0**-digits:.{digits}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    return s.replace("-", MINUS)


def study_rows(fit: pooling.RmaResult, level: float = 0.95) -> pd.DataFrame:
    """The study rows of a forest plot from a fit, which carries its inputs (as metafor's ``forest(fit)``).

    label, yi, vi, the study estimate and its Wald CI on the reporting scale (exp for RR and OR), and the
    study's weight in the fit (percent).
    """
    if fit.yi is None or fit.vi is None:
        raise ValueError("the fit does not carry its inputs (yi, vi)")
    crit = stats.norm.ppf(0.5 + level / 2)
    y, v = np.asarray(fit.yi, dtype=float), np.asarray(fit.vi, dtype=float)
    back = np.exp if (fit.measure or "").upper() in ("RR", "OR") else (lambda x: x)
    labels = list(fit.labels) if fit.labels is not None else [str(i + 1) for i in range(y.size)]
    return pd.DataFrame(
        {
            "label": labels,
            "yi": y,
            "vi": v,
            "estimate": back(y),
            "ci_low": back(y - crit * np.sqrt(v)),
            "ci_high": back(y + crit * np.sqrt(v)),
            "weight": np.asarray(fit.weights, dtype=float),
        }
    )


def _est_ci(est: object, lo: object, hi: object, digits: int) -> str:
    if not (_finite(lo) or _finite(hi)):
        lo = hi = None
    return fmt_ci(est, lo, hi, digits, label=False, missing="Not estimable", number=lambda v: _fnum(v, digits))


def _tick_text(v: float) -> str:
    s = f"{v + 0.0:g}"
    return s.replace("-", MINUS)


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    return str(v)


def _measure_info(measure: str) -> tuple[str, str, str]:
    key = measure.upper()
    if key in MEASURES:
        return MEASURES[key]
    return (measure, measure, "other")


def _model_of(label: str, model: object = None) -> str:
    text = f"{_cell(model)} {label}".lower()
    if "random" in text:
        return "random"
    return "fixed"


# --------------------------------------------------------------------------- #
# Axis range and ticks
# --------------------------------------------------------------------------- #
def _seq125_floor(v: float) -> float:
    e = math.floor(math.log10(v))
    for m in (5, 2, 1):
        c = m * 10.0**e
        if c <= v * (1 + 1e-12):
            return c
    return 10.0**e


def _seq125_ceil(v: float) -> float:
    e = math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        c = m * 10.0**e
        if c >= v * (1 - 1e-12):
            return c
    return 10.0 ** (e + 1)


def _auto_xlim(values: list[float], log: bool, kind: str) -> tuple[float, float]:
    vals = [v for v in values if _finite(v) and (v > 0 or not log)]
    if not vals:
        return (0.1, 10.0) if log else (-1.0, 1.0)
    lo, hi = min(vals), max(vals)
    if log:
        if hi / lo < 1.05:
            lo, hi = lo / 1.5, hi * 1.5
        return _seq125_floor(lo), _seq125_ceil(hi)
    if hi - lo < 1e-9:
        pad = abs(lo) * 0.5 if lo != 0 else 1.0
        lo, hi = lo - pad, hi + pad
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    lo2, hi2 = float(ticks[0]), float(ticks[-1])
    if kind == "proportion":
        lo2, hi2 = max(lo2, 0.0), min(hi2, 1.0)
        if hi2 <= lo2:
            lo2, hi2 = 0.0, 1.0
    return lo2, hi2


def _tick_sets(lo: float, hi: float, log: bool) -> list[list[float]]:
    """The axis's possible tick sets, densest first: 1-1.5-2-3-5-7 and sparser mantissas (then every
    k-th decade) on a log axis, six bins and fewer on a linear one."""
    eps = 1e-9
    out: list[list[float]] = []

    def add(ticks) -> None:
        clean = [float(f"{t:.12g}") for t in ticks]
        if clean and clean not in out:
            out.append(clean)

    if log:
        span = math.log10(hi / lo)
        e0, e1 = math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1
        for mantissas in ((1, 1.5, 2, 3, 5, 7), (1, 2, 5), (1, 3), (1,)):
            cand = [
                m * 10.0**e
                for e in range(e0, e1 + 1)
                for m in mantissas
                if lo * (1 - eps) <= m * 10.0**e <= hi * (1 + eps)
            ]
            if 3 <= len(cand) <= 7:
                add(cand)
            if len(cand) < 3:
                break  # sparser sets will only have fewer
        if span > 1:  # wide: every k-th decade
            decades = [10.0**e for e in range(e0, e1 + 1) if lo * (1 - eps) <= 10.0**e <= hi * (1 + eps)]
            for step in range(max(1, math.ceil(len(decades) / 7)), len(decades)):
                add(decades[::step])
        if out:
            return out
        # very narrow log range: linear ticks are fine
    span = hi - lo
    for nbins in (6, 5, 4, 3, 2):
        ticks = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
        add([t for t in ticks if lo - eps * span <= t <= hi + eps * span and (t > 0 or not log)])
    return out


def _ticks(lo: float, hi: float, log: bool, fits=lambda ticks: True) -> list[float]:
    """The densest tick set whose labels ``fits`` (see :func:`_tick_labels_fit`), else the sparsest."""
    sets = _tick_sets(lo, hi, log)
    return next((t for t in sets if fits(t)), sets[-1])


# --------------------------------------------------------------------------- #
# Row model
# --------------------------------------------------------------------------- #
@dataclass
class ForestRow:
    """One table row: a study, a subgroup header, a pooled estimate or a prediction interval.

    ``y`` is its position in row units (0 = first row, increasing downwards);
    ``estimate``, ``lo`` and ``hi`` are on the reporting scale.
    """

    kind: str  # "study" | "group" | "pooled" | "pi"
    y: float
    label: str
    cells: list[str] = field(default_factory=list)
    est_text: str = ""
    weight_text: str = ""
    estimate: float = math.nan
    lo: float = math.nan
    hi: float = math.nan
    weight: float = math.nan
    model: str = "fixed"

    @property
    def font_weight(self) -> str:
        return "bold" if self.kind in ("group", "pooled") else "normal"

    @property
    def font_style(self) -> str:
        return "italic" if self.kind == "pi" else "normal"

    def label_text(self, indent: str) -> str:
        """The label as shown: studies (and prediction intervals further) indented under subgroup headers."""
        if self.kind == "study":
            return indent + self.label
        if self.kind == "pi":
            return indent + "    " + self.label
        return self.label


def _require(df: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s): {', '.join(missing)}")


def _float(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


class _RowBuilder:
    """Stacks rows top to bottom; ``y`` is the next row's position in row units."""

    def __init__(self, left_cols: list[str], digits: int, show_weight: bool) -> None:
        self.rows: list[ForestRow] = []
        self.y = 0.0
        self._left_cols, self._digits, self._show_weight = left_cols, digits, show_weight

    def _text(self, r: pd.Series) -> dict:
        return dict(
            label=_cell(r["label"]),
            cells=[_cell(r.get(c)) for c in self._left_cols],
            est_text=_est_ci(r["estimate"], r["ci_low"], r["ci_high"], self._digits),
            estimate=_float(r["estimate"]),
            lo=_float(r["ci_low"]),
            hi=_float(r["ci_high"]),
        )

    def study(self, r: pd.Series) -> None:
        w = _float(r.get("weight", math.nan))
        weight_text = (f"{w:.1f}%" if _finite(w) else DASH) if self._show_weight else ""
        self.rows.append(ForestRow(kind="study", y=self.y, weight_text=weight_text, weight=w, **self._text(r)))
        self.y += 1

    def pooled(self, p: pd.DataFrame) -> None:
        for _, r in p.iterrows():
            text = self._text(r)
            w = _float(r.get("weight", math.nan))
            weight_text = f"{w:.1f}%" if (self._show_weight and _finite(w)) else ""
            model = _model_of(text["label"], r.get("model"))
            self.rows.append(ForestRow(kind="pooled", y=self.y, weight_text=weight_text, model=model, **text))
            self.y += 1
            pi_lo, pi_hi = _float(r.get("pi_low", math.nan)), _float(r.get("pi_high", math.nan))
            if _finite(pi_lo) and _finite(pi_hi):
                est_text = f"({_fnum(pi_lo, self._digits)} to {_fnum(pi_hi, self._digits)})"
                self.rows.append(
                    ForestRow(
                        kind="pi", y=self.y - 0.15, label="Prediction interval", est_text=est_text, lo=pi_lo, hi=pi_hi
                    )
                )
                self.y += 0.85

    def group(self, label: str) -> None:
        self.rows.append(ForestRow(kind="group", y=self.y, label=label))
        self.y += 1


def _build_rows(
    studies: pd.DataFrame,
    pooled: pd.DataFrame | None,
    group_col: str | None,
    left_cols: list[str],
    digits: int,
    show_weight: bool,
) -> list[ForestRow]:
    b = _RowBuilder(left_cols, digits, show_weight)
    if group_col is None:
        for _, r in studies.iterrows():
            b.study(r)
        if pooled is not None and len(pooled):
            b.y += 0.4
            b.pooled(pooled)
        return b.rows

    sg = studies[group_col]
    groups: list[object] = list(pd.unique(sg.dropna()))
    if pooled is not None and group_col in pooled.columns:
        groups += [g for g in pd.unique(pooled[group_col].dropna()) if g not in groups]
    if sg.isna().any():
        groups.append(None)
    for i, g in enumerate(groups):
        if i:
            b.y += 0.5
        b.group(_cell(g) if g is not None else "Not classified")
        for _, r in (studies[sg.isna()] if g is None else studies[sg == g]).iterrows():
            b.study(r)
        if g is not None and pooled is not None and group_col in pooled.columns:
            pg = pooled[pooled[group_col] == g]
            if len(pg):
                b.y += 0.25
                b.pooled(pg)
    if pooled is not None and len(pooled):
        overall = pooled[pooled[group_col].isna()] if group_col in pooled.columns else pooled
        if len(overall):
            b.y += 0.6
            b.pooled(overall)
    return b.rows


# --------------------------------------------------------------------------- #
# Text measurement and wrapping
# --------------------------------------------------------------------------- #
class _Meter:
    """Text extents in inches, measured with the Agg renderer of a scratch figure."""

    def __init__(self, dpi: float) -> None:
        self._fig = Figure(figsize=(1, 1), dpi=dpi)
        self._renderer = FigureCanvasAgg(self._fig).get_renderer()
        self.dpi = dpi

    def width(self, s: str, size: float, weight: str = "normal", style: str = "normal") -> float:
        if not s:
            return 0.0
        prop = FontProperties(size=size, weight=weight, style=style)
        w, _, _ = self._renderer.get_text_width_height_descent(s, prop, ismath=False)
        return w / self.dpi

    def wrap(self, s: str, max_w: float, size: float, weight: str = "normal") -> list[str]:
        words, lines, cur = s.split(), [], ""
        for word in words:
            trial = f"{cur} {word}".strip()
            if cur and self.width(trial, size, weight) > max_w:
                lines.append(cur)
                cur = word
            else:
                cur = trial
        if cur:
            lines.append(cur)
        return lines or [""]


# --------------------------------------------------------------------------- #
# Layout: everything that is drawn, placed in inches before a figure exists
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class PlacedText:
    """One piece of text: x in inches from the figure's left edge; y in row units
    (table text, ``va="center"``) or inches from the figure's bottom edge (the rest)."""

    x: float
    y: float
    text: str
    ha: str
    gid: str
    size: float
    weight: str = "normal"
    style: str = "normal"
    va: str = "center"


@dataclass(frozen=True)
class ForestLayout:
    """The result of :func:`forest_layout`: what :func:`draw_forest` draws, and where.

    Lengths are in inches; table rows are at ``rows[i].y`` in row units (0 = the
    first row, increasing downwards). ``axes_box`` is the plotting area
    (left, bottom, width, height) in inches; ``ylim`` its (inverted) y-limits.
    ``table`` holds the header and row text (y in row units), ``header_rule``
    the rule under the header as (x0, x1, y in row units); ``axis_labels``
    (axis label and "Favours ..." labels), ``notes`` (heterogeneity and notes)
    and ``title`` are placed in inches from the bottom-left corner.
    """

    rows: tuple[ForestRow, ...]
    columns: ForestColumns
    figsize: tuple[float, float]
    dpi: float
    fontsize: float
    row_height: float
    axes_box: tuple[float, float, float, float]
    log: bool
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    ticks: tuple[float, ...]
    tick_labels: tuple[str, ...]
    null_value: float | None
    table: tuple[PlacedText, ...]
    header_rule: tuple[float, float, float]
    axis_labels: tuple[PlacedText, ...]
    notes: tuple[PlacedText, ...]
    title: tuple[PlacedText, ...]


@dataclass(frozen=True)
class ForestColumns:
    """Column x positions in inches from the figure's left edge.

    ``label`` is the left edge of the labels; ``cells``, ``est`` and ``weight``
    are the right edges of the text cells, the estimate (CI) column and the
    weight column (``weight == est`` without weights); ``plot0``/``plot1``
    bound the plotting area, ``plot_width`` wide. ``headers`` holds the lines
    of each column header (study, text cells..., estimate): a header wider
    than every entry of its column is set on two lines where that is narrower.
    """

    label: float
    cells: tuple[float, ...]
    plot0: float
    plot1: float
    est: float
    weight: float
    show_weight: bool
    plot_width: float
    headers: tuple[tuple[str, ...], ...] = ()

    @property
    def fig_width(self) -> float:
        return self.weight + _MARGIN

    @property
    def header_lines(self) -> int:
        return max([1] + [len(h) for h in self.headers])


def _checked_inputs(
    studies: pd.DataFrame, pooled: pd.DataFrame | None, group_col: str | None, left_labels: dict[str, str] | None
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, str]]:
    studies = studies.reset_index(drop=True)
    _require(studies, ["label", "estimate", "ci_low", "ci_high"], "studies")
    if pooled is not None:
        pooled = pooled.reset_index(drop=True)
        _require(pooled, ["label", "estimate", "ci_low", "ci_high"], "pooled")
    if group_col is not None:
        _require(studies, [group_col], "studies")
    left_labels = dict(left_labels or {})
    _require(studies, list(left_labels), "studies")
    if len(studies) == 0 and (pooled is None or len(pooled) == 0):
        raise ValueError("nothing to plot: no studies and no pooled rows")
    return studies, pooled, left_labels


def _scale(
    kind: str, log_scale: bool | None, null_value: float | None, studies: pd.DataFrame, pooled: pd.DataFrame | None
) -> tuple[bool, float | None]:
    """Log axis or not, and the line of no effect (None: no line), with the measure's defaults."""
    log = (kind == "ratio") if log_scale is None else bool(log_scale)
    if null_value is None:
        null_value = {"ratio": 1.0, "difference": 0.0}.get(kind)
    if log:
        bad = [v for v in studies["estimate"] if _finite(v) and float(v) <= 0]
        if pooled is not None:
            bad += [v for v in pooled["estimate"] if _finite(v) and float(v) <= 0]
        if bad:
            raise ValueError(
                f"log scale needs positive estimates (got {bad[0]}); give ratios on the ratio scale, not logs"
            )
        if null_value is not None and null_value <= 0:
            raise ValueError("null_value must be positive on a log scale")
    return log, None if null_value is None else float(null_value)


def _x_range(
    rows: list[ForestRow], xlim: tuple[float, float] | None, log: bool, kind: str, null_value: float | None
) -> tuple[float, float]:
    """The given axis limits (checked), or limits that hold every interval and the line of no effect."""
    if xlim is not None:
        x_lo, x_hi = float(xlim[0]), float(xlim[1])
        if not x_lo < x_hi or (log and x_lo <= 0):
            raise ValueError(f"invalid xlim {xlim!r}")
        return x_lo, x_hi
    vals: list[float] = []
    for r in rows:
        if r.kind in ("study", "pooled", "pi"):
            vals += [r.estimate, r.lo, r.hi]
    if null_value is not None:
        vals.append(null_value)
    return _auto_xlim(vals, log, kind)


def _header_lines(meter: _Meter, header: str, fs: float, w_entries: float) -> tuple[str, ...]:
    """A cell header on one line, or on two if it is wider than every entry of its column and two lines
    (split at the space that makes the wider line narrowest) are narrower."""
    words = header.split(" ")
    one = meter.width(header, fs, "bold")
    if one <= w_entries or len(words) < 2:
        return (header,)
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    widths = [max(meter.width(line, fs, "bold") for line in split) for split in splits]
    best = min(range(len(splits)), key=widths.__getitem__)
    return splits[best] if widths[best] < one else (header,)


def _columns(
    rows: list[ForestRow],
    meter: _Meter,
    fs: float,
    headers: list[str],
    indent: str,
    show_weight: bool,
    plot_width: float,
) -> ForestColumns:
    """Column widths from the measured text; ``headers`` = study, text cells..., estimate.

    Only the study header and rows with text in a cell (the studies) size the label column. Rows without
    cell text (subgroup headers, pooled rows, prediction intervals) run on across the empty cell columns,
    up to the gap before the plotting area; where one is longer than the labels and cells together, the
    label column is widened by the difference. Cell headers wider than their entries (``IL-2 n/N`` over
    ``16/29``) are set on two lines when that makes the labels and cells narrower.
    """
    study_header, *cell_headers, est_header = headers

    def width(s: str, weight: str = "normal", style: str = "normal") -> float:
        return meter.width(s, fs, weight, style)

    def label_width(r: ForestRow) -> float:
        return width(r.label_text(indent), r.font_weight, r.font_style)

    spanning = [r.kind != "study" and not any(r.cells) for r in rows]
    w_label = max([width(study_header, "bold")] + [label_width(r) for r, s in zip(rows, spanning) if not s])
    w_span = max([0.0] + [label_width(r) for r, s in zip(rows, spanning) if s])
    w_entries = [
        max([0.0] + [width(r.cells[i], r.font_weight) for r in rows if r.cells]) for i in range(len(cell_headers))
    ]

    def cells_for(lines: list[tuple[str, ...]]) -> tuple[list[float], float]:
        """Cell widths with these headers, and the width of the labels and cells together."""
        w = [max([we] + [width(line, "bold") for line in h]) for h, we in zip(lines, w_entries)]
        return w, max(w_label + sum(_COL_GAP + wc for wc in w), w_span)

    one_line = [(h,) for h in cell_headers]
    two_lines = [_header_lines(meter, h, fs, we) for h, we in zip(cell_headers, w_entries)]
    (w_cells, block), cell_lines = cells_for(one_line), one_line
    if cells_for(two_lines)[1] < block - 0.05:  # inches: a second header line for a real saving only
        (w_cells, block), cell_lines = cells_for(two_lines), two_lines
    w_label = block - sum(_COL_GAP + wc for wc in w_cells)
    w_est = max([width(est_header, "bold")] + [width(r.est_text, r.font_weight) for r in rows])
    w_wt = 0.0
    if show_weight:
        w_wt = max([width("Weight", "bold")] + [width(r.weight_text) for r in rows])

    x_cells = []  # right edges (cells are right-aligned)
    x = _MARGIN + w_label
    for wc in w_cells:
        x += _COL_GAP + wc
        x_cells.append(x)
    x_plot0 = x + _PLOT_GAP
    x_plot1 = x_plot0 + plot_width
    x_est = x_plot1 + _PLOT_GAP + w_est  # right edge
    x_wt = x_est + _COL_GAP + w_wt if show_weight else x_est
    headers_lines = ((study_header,), *cell_lines, (est_header,))
    return ForestColumns(_MARGIN, tuple(x_cells), x_plot0, x_plot1, x_est, x_wt, show_weight, plot_width, headers_lines)


def _row_height(fs: float) -> float:
    """One table row, inches."""
    return max(0.24, fs * 2.0 / 72)


def _table_text(rows: list[ForestRow], cols: ForestColumns, indent: str, fs: float) -> list[PlacedText]:
    """Header row (one row above the first; the first line of a two-line header above it) and the text of
    every row; empty cells are left out."""
    gids = {"study": "study-label", "group": "group-header", "pooled": "pooled-label", "pi": "pi-label"}
    y_head = 0.0 - 0.5 - 0.5 * 1.0
    pitch = _HEADER_PITCH * fs / 72 / _row_height(fs)  # row units

    def header(x: float, lines: tuple[str, ...], ha: str) -> list[PlacedText]:
        last = len(lines) - 1
        return [PlacedText(x, y_head - (last - i) * pitch, s, ha, "header", fs, "bold") for i, s in enumerate(lines)]

    study_header, *cell_headers, est_header = cols.headers
    out = header(cols.label, study_header, "left")
    for xr, hdr in zip(cols.cells, cell_headers):
        out += header(xr, hdr, "right")
    out += header(cols.est, est_header, "right")
    if cols.show_weight:
        out.append(PlacedText(cols.weight, y_head, "Weight", "right", "header", fs, "bold"))
    for r in rows:
        wt, st = r.font_weight, r.font_style
        out.append(PlacedText(cols.label, r.y, r.label_text(indent), "left", gids[r.kind], fs, wt, st))
        out += [PlacedText(xr, r.y, c, "right", "annotation", fs, wt) for xr, c in zip(cols.cells, r.cells)]
        out.append(PlacedText(cols.est, r.y, r.est_text, "right", "estimate-text", fs, wt, st))
        if cols.show_weight:
            out.append(PlacedText(cols.weight, r.y, r.weight_text, "right", "weight-text", fs, wt))
    return [t for t in out if t.text]


def _strip_favours(s: str) -> str:
    s = s.strip()
    return s[len("favours ") :] if s.lower().startswith("favours ") else s


@dataclass(frozen=True)
class _Axis:
    """The x axis: log scale or not, limits, and the line of no effect (None: no line)."""

    log: bool
    xlim: tuple[float, float]
    null_value: float | None


def _favours_text(
    favours: tuple[str, str], axis: _Axis, cols: ForestColumns, fig_w: float, meter: _Meter, fs: float, y: float
) -> list[PlacedText]:
    """The two favours labels at height ``y``, either side of the line of no effect, inside the figure.

    "<- Favours left" ends just left of the line, "Favours right ->" starts just right of it.
    """
    x_lo, x_hi = axis.xlim
    left_t = "\u2190 Favours " + _strip_favours(favours[0])
    right_t = "Favours " + _strip_favours(favours[1]) + " \u2192"
    nv = min(max(float(axis.null_value), x_lo), x_hi)
    frac = (math.log(nv / x_lo) / math.log(x_hi / x_lo)) if axis.log else (nv - x_lo) / (x_hi - x_lo)
    x_null = cols.plot0 + frac * cols.plot_width
    gap = 0.06
    wl, wr = meter.width(left_t, fs), meter.width(right_t, fs)
    xl = max(x_null - gap, _MARGIN + wl)  # right edge of the left label
    xr = min(x_null + gap, fig_w - _MARGIN - wr)  # left edge of the right label
    return [
        PlacedText(xl, y, left_t, "right", "favours-left", fs, va="top"),
        PlacedText(xr, y, right_t, "left", "favours-right", fs, va="top"),
    ]


def _tick_labels_fit(axis: _Axis, width: float, meter: _Meter, fs: float):
    """Whether a tick set's labels, centred under their ticks on an axis ``width`` inches long, stand at
    least ``_TICK_GAP`` apart."""
    lo, hi = axis.xlim

    def x(t: float) -> float:
        return (math.log(t / lo) / math.log(hi / lo) if axis.log else (t - lo) / (hi - lo)) * width

    def fits(ticks: list[float]) -> bool:
        half = [meter.width(_tick_text(t), fs) / 2 for t in ticks]
        return all((x(b) - hb) - (x(a) + ha) >= _TICK_GAP for a, b, ha, hb in zip(ticks, ticks[1:], half, half[1:]))

    return fits


@dataclass(frozen=True)
class _Heights:
    """Vertical layout in inches; ``top`` = margin + title + header row, ``bottom`` = everything under the axes."""

    y_last: float  # the last row, in row units
    axes: float
    top: float
    bottom: float
    footer_gap: float

    @property
    def fig_height(self) -> float:
        return self.top + self.axes + self.bottom


def _heights(
    rows: list[ForestRow],
    n_title: int,
    n_footer: int,
    has_favours: bool,
    row_h: float,
    line_h: float,
    title_fs: float,
    header_h: float,
) -> _Heights:
    y_last = max(r.y for r in rows) if rows else 0.0
    axes_h = ((y_last - 0.0) + 1.0) * row_h
    title_h = n_title * title_fs * 1.45 / 72 + (0.08 if n_title else 0.0)
    top_h = _MARGIN + title_h + header_h  # title + header row
    bottom_lines = 1 + (1 if has_favours else 0)
    footer_gap = 0.1 if n_footer else 0.0
    bottom_h = _TICK_SPACE + bottom_lines * line_h + footer_gap + n_footer * line_h + _MARGIN
    return _Heights(y_last, axes_h, top_h, bottom_h, footer_gap)


def _lines_from(x: float, y_top: float, step: float, lines: list[tuple[str, str, str]], size: float, **kw) -> list:
    """Left-aligned lines (text, gid, style) from ``y_top`` down, ``step`` inches apart."""
    out = []
    for s, gid, style in lines:
        out.append(PlacedText(x, y_top, s, "left", gid, size, style=style, va="top", **kw))
        y_top -= step
    return out


def _wrapped(
    cols: ForestColumns, meter: _Meter, fs: float, footer: list[tuple[str, str, str]], title: str | None
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]], float]:
    """Footer and title lines (text, gid, style) wrapped to the table's width; the figure width that holds them."""
    text_w = max(cols.fig_width - 2 * _MARGIN, 3.0)
    footer_lines = [(s, gid, style) for text, gid, style in footer for s in meter.wrap(text, text_w, fs)]
    title_fs = fs * 1.15
    title_lines = [(s, "title", "normal") for s in meter.wrap(title, text_w, title_fs, "bold")] if title else []
    widths = [meter.width(s, fs) for s, _, _ in footer_lines] + [
        meter.width(s, title_fs, "bold") for s, _, _ in title_lines
    ]
    return footer_lines, title_lines, max(cols.fig_width, 2 * _MARGIN + max(widths + [0.0]))


def _place(
    rows: list[ForestRow],
    cols: ForestColumns,
    table: list[PlacedText],
    meter: _Meter,
    fs: float,
    axis: _Axis,
    xlabel: str,
    favours: tuple[str, str] | None,
    footer: list[tuple[str, str, str]],
    title: str | None,
) -> ForestLayout:
    """Wrap the title and footer, then place everything vertically."""
    footer_lines, title_lines, fig_w = _wrapped(cols, meter, fs, footer, title)
    line_h = fs * 1.45 / 72  # one line of footer text, inches
    row_h = _row_height(fs)
    title_fs = fs * 1.15
    header_h = row_h + (cols.header_lines - 1) * _HEADER_PITCH * fs / 72
    h = _heights(rows, len(title_lines), len(footer_lines), favours is not None, row_h, line_h, title_fs, header_h)
    y = h.bottom - _TICK_SPACE  # inches from the figure bottom, top of the next line
    axis_labels = [PlacedText((cols.plot0 + cols.plot1) / 2, y, xlabel, "center", "xlabel", fs, va="top")]
    y -= line_h
    if favours is not None:
        axis_labels += _favours_text(favours, axis, cols, fig_w, meter, fs, y)
        y -= line_h
    y -= h.footer_gap
    ticks = _ticks(*axis.xlim, axis.log, _tick_labels_fit(axis, cols.plot_width, meter, fs))
    return ForestLayout(
        rows=tuple(rows),
        columns=cols,
        figsize=(fig_w, h.fig_height),
        dpi=meter.dpi,
        fontsize=fs,
        row_height=row_h,
        axes_box=(cols.plot0, h.bottom, cols.plot_width, h.axes),
        log=axis.log,
        xlim=axis.xlim,
        ylim=(h.y_last + 0.5, 0.0 - 0.5),  # inverted: first row on top
        ticks=tuple(ticks),
        tick_labels=tuple(_tick_text(t) for t in ticks),
        null_value=axis.null_value,
        table=tuple(table),
        header_rule=(cols.label, cols.weight, 0.0 - 0.5),
        axis_labels=tuple(axis_labels),
        notes=tuple(_lines_from(_MARGIN, y, line_h, footer_lines, fs)),
        title=tuple(
            _lines_from(_MARGIN, h.fig_height - _MARGIN, title_fs * 1.45 / 72, title_lines, title_fs, weight="bold")
        ),
    )


def forest_layout(
    studies: pd.DataFrame,
    pooled: pd.DataFrame | None = None,
    *,
    measure: str,
    log_scale: bool | None = None,
    null_value: float | None = None,
    heterogeneity: str | None = None,
    notes: list[str] | None = None,
    xlim: tuple[float, float] | None = None,
    group_col: str | None = None,
    left_labels: dict[str, str] | None = None,
    title: str | None = None,
    favours: tuple[str, str] | None = None,
    xlabel: str | None = None,
    estimate_header: str | None = None,
    study_header: str = "Study",
    digits: int = 2,
    plot_width: float = 2.2,
    fontsize: float | None = None,
) -> ForestLayout:
    """Lay out a forest plot without drawing it; the arguments are :func:`forest_plot`'s.

    Rows, columns and all text are placed in inches (text measured with the Agg
    renderer, nothing drawn); :func:`draw_forest` draws the result.
    """
    use_book_style()
    studies, pooled, left_labels = _checked_inputs(studies, pooled, group_col, left_labels)
    name, short, kind = _measure_info(measure)
    log, null_value = _scale(kind, log_scale, null_value, studies, pooled)
    fs = float(fontsize) if fontsize is not None else 0.9 * float(mpl.rcParams["font.size"])
    meter = _Meter(float(mpl.rcParams["figure.dpi"]))
    show_weight = "weight" in studies.columns and bool(studies["weight"].map(_finite).any())
    rows = _build_rows(studies, pooled, group_col, list(left_labels), digits, show_weight)
    indent = "    " if group_col is not None else ""
    x_range = _x_range(rows, xlim, log, kind, null_value)
    headers = [study_header, *left_labels.values(), estimate_header or f"{short} (95% CI)"]
    cols = _columns(rows, meter, fs, headers, indent, show_weight, plot_width)
    if xlabel is None:
        xlabel = name + (" (log scale)" if log else "")
        if favours is not None and null_value is not None:
            xlabel += f"; > {_tick_text(null_value)} favours {_strip_favours(favours[1])}"
    footer = [(heterogeneity, "heterogeneity", "normal")] if heterogeneity else []
    footer += [(note, "note", "italic") for note in notes or []]
    axis = _Axis(log, x_range, null_value)
    favours = favours if null_value is not None else None
    return _place(rows, cols, _table_text(rows, cols, indent, fs), meter, fs, axis, xlabel, favours, footer, title)


# --------------------------------------------------------------------------- #
# Drawing: one function per part of the figure
# --------------------------------------------------------------------------- #
def _draw_axes(fig: Figure, lay: ForestLayout):
    """The plotting area: scale, limits, ticks, bottom spine only, and the line of no effect."""
    fig_w, fig_h = lay.figsize
    x0, bottom, width, height = lay.axes_box
    ax = fig.add_axes((x0 / fig_w, bottom / fig_h, width / fig_w, height / fig_h))
    ax.set_gid("forest-axes")
    if lay.log:
        ax.set_xscale("log")
    ax.set_xlim(*lay.xlim)
    ax.set_ylim(*lay.ylim)
    ax.set_xticks(list(lay.ticks), labels=list(lay.tick_labels))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.tick_params(axis="x", labelsize=lay.fontsize, length=3.5, pad=2.5)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.patch.set_visible(False)
    x_lo, x_hi = lay.xlim
    if lay.null_value is not None and x_lo <= lay.null_value <= x_hi:
        ax.axvline(lay.null_value, color="black", lw=0.8, zorder=1, gid="null-line")
    return ax


def _put(fig: Figure, t: PlacedText, transform) -> None:
    fig.text(
        t.x,
        t.y,
        t.text,
        transform=transform,
        ha=t.ha,
        va=t.va,
        fontsize=t.size,
        fontweight=t.weight,
        fontstyle=t.style,
        parse_math=False,
        gid=t.gid,
    )


def _draw_table(fig: Figure, ax, lay: ForestLayout) -> None:
    """Header and row text and the rule under the header: x in inches, y in the axes' row units."""
    row_tr = mtransforms.blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    for t in lay.table:
        _put(fig, t, row_tr)
    x0, x1, y = lay.header_rule
    fig.add_artist(Line2D([x0, x1], [y, y], transform=row_tr, color="black", lw=0.8, gid="header-rule"))


def _arrow(ax, xe: float, ye: float, direction: int, colour: str, gid: str, scale: float = 8) -> None:
    ax.annotate(
        "",
        xy=(xe, ye),
        xycoords="data",
        xytext=(-scale * direction, 0),
        textcoords="offset points",
        arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.0, mutation_scale=scale, shrinkA=0, shrinkB=0),
        annotation_clip=False,
        gid=gid,
    )


def _span(ax, xlim, lo, hi, y, colour: str, lw: float, gid: str, arrow_gid: str, scale: float = 8) -> None:
    """Horizontal interval clipped to the axis; an arrow marks each clipped end."""
    if math.isnan(lo) or math.isnan(hi):
        return
    x_lo, x_hi = xlim
    lo_out, hi_out = lo < x_lo, hi > x_hi  # also true for -inf/+inf and for bounds <= 0 on a log axis
    a = x_lo if lo_out else lo
    b = x_hi if hi_out else hi
    if a > x_hi or b < x_lo:  # whole interval off one side
        _arrow(ax, x_hi if a > x_hi else x_lo, y, 1 if a > x_hi else -1, colour, arrow_gid, scale)
        return
    ax.add_line(Line2D([a, b], [y, y], color=colour, lw=lw, zorder=2, solid_capstyle="butt", gid=gid))
    if lo_out:
        _arrow(ax, x_lo, y, -1, colour, arrow_gid, scale)
    if hi_out:
        _arrow(ax, x_hi, y, 1, colour, arrow_gid, scale)


def _draw_studies(ax, lay: ForestLayout) -> None:
    """Study CIs, squares with area proportional to weight, and open circles for unweighted studies."""
    study_rows = [r for r in lay.rows if r.kind == "study"]
    for r in study_rows:
        _span(ax, lay.xlim, r.lo, r.hi, r.y, STUDY_LINE, 1.0, "study-ci", "ci-arrow")
    weighted = [r for r in study_rows if _finite(r.weight) and _finite(r.estimate)]
    if weighted:
        w_max = max(max(r.weight for r in weighted), 1e-12)
        side_max = _SQUARE_MAX_FRAC * lay.row_height * 72  # points
        sizes = [side_max**2 * max(r.weight, 0.0) / w_max for r in weighted]  # area (pt^2) proportional to weight
        ax.scatter(
            [r.estimate for r in weighted],
            [r.y for r in weighted],
            s=sizes,
            marker="s",
            facecolor=STUDY_FILL,
            edgecolor=STUDY_LINE,
            linewidths=0.6,
            zorder=3,
            gid="study-squares",
        )
    unweighted = [r for r in study_rows if not _finite(r.weight) and _finite(r.estimate)]
    if unweighted:
        ax.scatter(
            [r.estimate for r in unweighted],
            [r.y for r in unweighted],
            s=16,
            marker="o",
            facecolor="white",
            edgecolor=STUDY_LINE,
            linewidths=0.8,
            zorder=3,
            gid="study-unweighted",
        )


def _draw_diamond(ax, r: ForestRow, xlim: tuple[float, float]) -> None:
    """A pooled estimate: a diamond across its CI (clipped, with arrows), coloured by model."""
    x_lo, x_hi = xlim
    colour = RANDOM_COLOUR if r.model == "random" else FIXED_COLOUR
    lo = float(r.lo) if _finite(r.lo) else r.estimate
    hi = float(r.hi) if _finite(r.hi) else r.estimate
    a, b = max(lo, x_lo), min(hi, x_hi)
    e = min(max(r.estimate, x_lo), x_hi)
    ax.add_patch(
        Polygon(
            [(a, r.y), (e, r.y - _DIAMOND_HALF), (b, r.y), (e, r.y + _DIAMOND_HALF)],
            closed=True,
            facecolor=colour,
            edgecolor=colour,
            lw=0.8,
            zorder=3,
            gid="pooled-diamond",
        )
    )
    if lo < x_lo:
        _arrow(ax, x_lo, r.y, -1, colour, "ci-arrow")
    if hi > x_hi:
        _arrow(ax, x_hi, r.y, 1, colour, "ci-arrow")


def _draw_prediction_interval(ax, r: ForestRow, xlim: tuple[float, float]) -> None:
    """A thick bar with end caps (arrows where clipped)."""
    _span(ax, xlim, r.lo, r.hi, r.y, PI_COLOUR, 2.2, "prediction-interval", "pi-arrow", 12)
    for xe in (r.lo, r.hi):
        if xlim[0] <= xe <= xlim[1]:
            ax.add_line(
                Line2D(
                    [xe, xe],
                    [r.y - 0.17, r.y + 0.17],
                    color=PI_COLOUR,
                    lw=1.2,
                    zorder=2,
                    gid="prediction-interval-cap",
                )
            )


def _draw_pooled(ax, lay: ForestLayout) -> None:
    for r in lay.rows:
        if r.kind == "pooled" and _finite(r.estimate):
            _draw_diamond(ax, r, lay.xlim)
        elif r.kind == "pi":
            _draw_prediction_interval(ax, r, lay.xlim)


def _draw_texts(fig: Figure, texts: Sequence[PlacedText]) -> None:
    """Axis label and favours labels, notes or title: placed in inches from the bottom-left corner."""
    for t in texts:
        _put(fig, t, fig.dpi_scale_trans)


def draw_forest(layout: ForestLayout) -> Figure:
    """Draw a :class:`ForestLayout` on a new figure (with an Agg canvas, not registered with pyplot)."""
    use_book_style()
    fig = Figure(figsize=layout.figsize, dpi=layout.dpi)
    FigureCanvasAgg(fig)
    ax = _draw_axes(fig, layout)
    _draw_table(fig, ax, layout)
    _draw_studies(ax, layout)
    _draw_pooled(ax, layout)
    _draw_texts(fig, layout.axis_labels)
    _draw_texts(fig, layout.notes)
    _draw_texts(fig, layout.title)
    return fig


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #
def forest_plot(
    studies: pd.DataFrame,
    pooled: pd.DataFrame | None = None,
    *,
    measure: str,
    log_scale: bool | None = None,
    null_value: float | None = None,
    heterogeneity: str | None = None,
    notes: list[str] | None = None,
    xlim: tuple[float, float] | None = None,
    group_col: str | None = None,
    left_labels: dict[str, str] | None = None,
    title: str | None = None,
    favours: tuple[str, str] | None = None,
    xlabel: str | None = None,
    estimate_header: str | None = None,
    study_header: str = "Study",
    digits: int = 2,
    plot_width: float = 2.2,
    fontsize: float | None = None,
) -> Figure:
    """Draw a meta-analysis forest plot and return the (unshown) Figure.

    Parameters
    ----------
    studies
        One row per study: ``label``, ``estimate``, ``ci_low``, ``ci_high`` on the
        reporting scale (RR, not log RR), ``weight`` in percent (NaN = not pooled),
        plus any text columns named in *left_labels* and the *group_col* column.
    pooled
        One diamond per row: ``label``, ``estimate``, ``ci_low``, ``ci_high``, and
        optionally ``pi_low``/``pi_high`` (NaN where undefined), ``weight``,
        ``model`` ("fixed"/"random"; otherwise read from the label) and *group_col*
        (rows with a group are subgroup estimates; rows without are overall).
    measure
        "RR", "OR", "HR", "RD", "MD", "SMD", "PLO"/"PR" (proportions), ...
        Sets the axis label and the defaults for *log_scale* and *null_value*.
    log_scale, null_value
        Defaults: log axis and null 1 for ratios; linear and 0 for differences;
        linear and no line of no effect for proportions.
    heterogeneity, notes
        Text lines printed under the axis (long lines are wrapped).
    xlim
        Axis limits; CIs beyond them end in an arrow.
    group_col
        Optional subgroup column; each subgroup gets a bold header row.
    left_labels
        ``{column: header}`` of extra text columns (e.g. events/total per arm).
    title
        Optional bold title above the table.
    favours
        ``(left, right)``, e.g. ``("placebo", "IL-2")``: printed as
        "Favours placebo" / "Favours IL-2" either side of the line of no effect,
        and added to the axis label ("> 1 favours IL-2").
    xlabel, estimate_header, study_header
        Override the axis label and the column headers.
    digits
        Decimals for estimates and CIs.
    plot_width
        Width of the plotting area in inches; the figure grows around it.
    fontsize
        Table font size in points (default: 0.9 x the book's font size).

    Returns
    -------
    matplotlib.figure.Figure
        A figure with an Agg canvas that is not registered with pyplot, so it is
        never shown implicitly and needs no ``plt.close``.
    """
    layout = forest_layout(
        studies,
        pooled,
        measure=measure,
        log_scale=log_scale,
        null_value=null_value,
        heterogeneity=heterogeneity,
        notes=notes,
        xlim=xlim,
        group_col=group_col,
        left_labels=left_labels,
        title=title,
        favours=favours,
        xlabel=xlabel,
        estimate_header=estimate_header,
        study_header=study_header,
        digits=digits,
        plot_width=plot_width,
        fontsize=fontsize,
    )
    return draw_forest(layout)


def alt_text(
    studies: pd.DataFrame,
    pooled: pd.DataFrame | None,
    measure: str,
    *,
    digits: int = 2,
    group_col: str | None = None,
) -> str:
    """One-paragraph description of a forest plot, for use as figure alt text.

    Gives the measure and scale, the number of studies, the range of study
    estimates and every pooled estimate with its 95% CI (and prediction interval
    where defined).
    """
    name, short, kind = _measure_info(measure)
    k = len(studies)
    parts = [f"Forest plot of {k} {'study' if k == 1 else 'studies'} reporting {name.lower()}s"]
    if kind == "ratio":
        parts[0] += " on a log scale (line of no effect at 1)"
    elif kind == "difference":
        parts[0] += " (line of no effect at 0)"
    parts[0] += "."
    ests = [float(v) for v in studies["estimate"] if _finite(v)] if k else []
    if len(ests) == 1:
        parts.append(f"The study estimate is {_fnum(ests[0], digits)}.")
    elif ests:
        parts.append(f"Study estimates range from {_fnum(min(ests), digits)} to {_fnum(max(ests), digits)}.")
    if k and len(ests) < k:
        n_ne = k - len(ests)
        parts.append(f"{n_ne} {'study is' if n_ne == 1 else 'studies are'} not estimable.")
    if group_col is not None and group_col in studies.columns:
        ng = studies[group_col].nunique(dropna=True)
        parts.append(f"Studies are shown in {ng} subgroup{'s' if ng != 1 else ''}.")
    if pooled is None or len(pooled) == 0:
        parts.append("No pooled estimate is shown.")
    else:
        for _, r in pooled.iterrows():
            prefix = ""
            if group_col is not None and group_col in pooled.columns and _cell(r[group_col]):
                prefix = f"Subgroup {_cell(r[group_col])}, "
            est, lo, hi = r["estimate"], r["ci_low"], r["ci_high"]
            if not _finite(est):
                value = "not estimable"
            elif _finite(lo) or _finite(hi):
                value = f"{short} {_fnum(est, digits)} (95% CI {_fnum(lo, digits)} to {_fnum(hi, digits)})"
            else:
                value = f"{short} {_fnum(est, digits)}"
            s = f"{prefix}{_cell(r['label'])}: {value}"
            pi_lo, pi_hi = _float(r.get("pi_low", math.nan)), _float(r.get("pi_high", math.nan))
            if _finite(pi_lo) and _finite(pi_hi):
                s += f"; 95% prediction interval {_fnum(pi_lo, digits)} to {_fnum(pi_hi, digits)}"
            parts.append(s + ".")
    return " ".join(parts)
