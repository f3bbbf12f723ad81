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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib as mpl
import pandas as pd
from matplotlib import transforms as mtransforms
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.ticker import MaxNLocator, NullLocator

from .style import OKABE_ITO, ROLE_COLOURS, use_book_style

__all__ = ["forest_plot", "alt_text", "MEASURES"]

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
_COL_GAP = 0.2
_PLOT_GAP = 0.25
_TICK_SPACE = 0.33  # tick marks + tick labels under the axis
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


def _est_ci(est: object, lo: object, hi: object, digits: int) -> str:
    if not _finite(est):
        return "Not estimable"
    if not (_finite(lo) or _finite(hi)):
        return _fnum(est, digits)
    return f"{_fnum(est, digits)} ({_fnum(lo, digits)} to {_fnum(hi, digits)})"


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


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    eps = 1e-9
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
                return [float(f"{c:.12g}") for c in cand]
            if len(cand) < 3:
                break  # sparser sets will only have fewer
        if span > 1:  # wide: every k-th decade
            decades = [10.0**e for e in range(e0, e1 + 1) if lo * (1 - eps) <= 10.0**e <= hi * (1 + eps)]
            step = max(1, math.ceil(len(decades) / 7))
            return decades[::step]
        # very narrow log range: linear ticks are fine
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    span = hi - lo
    return [float(f"{t:.12g}") for t in ticks if lo - eps * span <= t <= hi + eps * span and (t > 0 or not log)]


# --------------------------------------------------------------------------- #
# Row model
# --------------------------------------------------------------------------- #
@dataclass
class _Row:
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


def _require(df: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s): {', '.join(missing)}")


def _float(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _build_rows(
    studies: pd.DataFrame,
    pooled: pd.DataFrame | None,
    group_col: str | None,
    left_cols: list[str],
    digits: int,
    show_weight: bool,
) -> list[_Row]:
    rows: list[_Row] = []
    y = 0.0

    def add_study(r: pd.Series) -> None:
        nonlocal y
        w = _float(r.get("weight", math.nan))
        rows.append(
            _Row(
                kind="study",
                y=y,
                label=_cell(r["label"]),
                cells=[_cell(r.get(c)) for c in left_cols],
                est_text=_est_ci(r["estimate"], r["ci_low"], r["ci_high"], digits),
                weight_text=(f"{w:.1f}%" if _finite(w) else DASH) if show_weight else "",
                estimate=_float(r["estimate"]),
                lo=_float(r["ci_low"]),
                hi=_float(r["ci_high"]),
                weight=w,
            )
        )
        y += 1

    def add_pooled(p: pd.DataFrame) -> None:
        nonlocal y
        for _, r in p.iterrows():
            label = _cell(r["label"])
            w = _float(r.get("weight", math.nan))
            rows.append(
                _Row(
                    kind="pooled",
                    y=y,
                    label=label,
                    cells=[_cell(r.get(c)) for c in left_cols],
                    est_text=_est_ci(r["estimate"], r["ci_low"], r["ci_high"], digits),
                    weight_text=f"{w:.1f}%" if (show_weight and _finite(w)) else "",
                    estimate=_float(r["estimate"]),
                    lo=_float(r["ci_low"]),
                    hi=_float(r["ci_high"]),
                    model=_model_of(label, r.get("model")),
                )
            )
            y += 1
            pi_lo, pi_hi = _float(r.get("pi_low", math.nan)), _float(r.get("pi_high", math.nan))
            if _finite(pi_lo) and _finite(pi_hi):
                rows.append(
                    _Row(
                        kind="pi",
                        y=y - 0.15,
                        label="Prediction interval",
                        est_text=f"({_fnum(pi_lo, digits)} to {_fnum(pi_hi, digits)})",
                        lo=pi_lo,
                        hi=pi_hi,
                    )
                )
                y += 0.85

    if group_col is None:
        for _, r in studies.iterrows():
            add_study(r)
        if pooled is not None and len(pooled):
            y += 0.4
            add_pooled(pooled)
        return rows

    sg = studies[group_col]
    groups: list[object] = list(pd.unique(sg.dropna()))
    if pooled is not None and group_col in pooled.columns:
        groups += [g for g in pd.unique(pooled[group_col].dropna()) if g not in groups]
    if sg.isna().any():
        groups.append(None)
    for i, g in enumerate(groups):
        if i:
            y += 0.5
        rows.append(_Row(kind="group", y=y, label=_cell(g) if g is not None else "Not classified"))
        y += 1
        block = studies[sg.isna()] if g is None else studies[sg == g]
        for _, r in block.iterrows():
            add_study(r)
        if g is not None and pooled is not None and group_col in pooled.columns:
            pg = pooled[pooled[group_col] == g]
            if len(pg):
                y += 0.25
                add_pooled(pg)
    if pooled is not None and len(pooled):
        overall = pooled[pooled[group_col].isna()] if group_col in pooled.columns else pooled
        if len(overall):
            y += 0.6
            add_pooled(overall)
    return rows


# --------------------------------------------------------------------------- #
# Text measurement and wrapping
# --------------------------------------------------------------------------- #
class _Meter:
    """Text extents in inches, measured with the Agg renderer of a scratch figure."""

    def __init__(self, dpi: float) -> None:
        self._fig = Figure(figsize=(1, 1), dpi=dpi)
        self._renderer = FigureCanvasAgg(self._fig).get_renderer()
        self._dpi = dpi

    def width(self, s: str, size: float, weight: str = "normal", style: str = "normal") -> float:
        if not s:
            return 0.0
        prop = FontProperties(size=size, weight=weight, style=style)
        w, _, _ = self._renderer.get_text_width_height_descent(s, prop, ismath=False)
        return w / self._dpi

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
    plot_width: float = 2.8,
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
    use_book_style()
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

    name, short, kind = _measure_info(measure)
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

    fs = float(fontsize) if fontsize is not None else 0.9 * float(mpl.rcParams["font.size"])
    dpi = float(mpl.rcParams["figure.dpi"])
    meter = _Meter(dpi)
    line_h = fs * 1.45 / 72  # one line of footer text, inches
    row_h = max(0.24, fs * 2.0 / 72)  # one table row, inches

    show_weight = "weight" in studies.columns and bool(studies["weight"].map(_finite).any())
    left_cols = list(left_labels)
    rows = _build_rows(studies, pooled, group_col, left_cols, digits, show_weight)
    indent = "    " if group_col is not None else ""

    # ---------------- axis range ---------------- #
    if xlim is not None:
        x_lo, x_hi = float(xlim[0]), float(xlim[1])
        if not x_lo < x_hi or (log and x_lo <= 0):
            raise ValueError(f"invalid xlim {xlim!r}")
    else:
        vals: list[float] = []
        for r in rows:
            if r.kind in ("study", "pooled", "pi"):
                vals += [r.estimate, r.lo, r.hi]
        if null_value is not None:
            vals.append(float(null_value))
        x_lo, x_hi = _auto_xlim(vals, log, kind)

    # ---------------- column widths (inches) ---------------- #
    def label_text(r: _Row) -> str:
        if r.kind == "study":
            return indent + r.label
        if r.kind == "pi":
            return indent + "    " + r.label
        return r.label

    def weight_of(r: _Row) -> str:
        return "bold" if r.kind in ("group", "pooled") else "normal"

    def style_of(r: _Row) -> str:
        return "italic" if r.kind == "pi" else "normal"

    est_header = estimate_header or f"{short} (95% CI)"
    w_label = max(
        [meter.width(study_header, fs, "bold")]
        + [meter.width(label_text(r), fs, weight_of(r), style_of(r)) for r in rows]
    )
    w_cells = [
        max([meter.width(hdr, fs, "bold")] + [meter.width(r.cells[i], fs, weight_of(r)) for r in rows if r.cells])
        for i, hdr in enumerate(left_labels.values())
    ]
    w_est = max([meter.width(est_header, fs, "bold")] + [meter.width(r.est_text, fs, weight_of(r)) for r in rows])
    w_wt = 0.0
    if show_weight:
        w_wt = max([meter.width("Weight", fs, "bold")] + [meter.width(r.weight_text, fs) for r in rows])

    x_label = _MARGIN
    x_cells = []  # right edges (cells are right-aligned)
    x = x_label + w_label
    for wc in w_cells:
        x += _COL_GAP + wc
        x_cells.append(x)
    x_plot0 = x + _PLOT_GAP
    x_plot1 = x_plot0 + plot_width
    x_est = x_plot1 + _PLOT_GAP + w_est  # right edge
    x_wt = x_est + _COL_GAP + w_wt if show_weight else x_est
    fig_w = x_wt + _MARGIN

    # ---------------- footer / title lines (wrapped to the figure width) ---------------- #
    if xlabel is None:
        xlabel = name + (" (log scale)" if log else "")
        if favours is not None and null_value is not None:
            xlabel += f"; > {_tick_text(float(null_value))} favours {_strip_favours(favours[1])}"
    text_w = max(fig_w - 2 * _MARGIN, 3.0)
    footer: list[tuple[str, str]] = []  # (text, kind)
    if heterogeneity:
        footer += [(s, "het") for s in meter.wrap(heterogeneity, text_w, fs)]
    for note in notes or []:
        footer += [(s, "note") for s in meter.wrap(note, text_w, fs)]
    title_fs = fs * 1.15
    title_lines = meter.wrap(title, text_w, title_fs, "bold") if title else []
    fig_w = max(
        fig_w,
        2 * _MARGIN
        + max(
            [meter.width(s, fs) for s, _ in footer] + [meter.width(s, title_fs, "bold") for s in title_lines] + [0.0]
        ),
    )

    # ---------------- heights ---------------- #
    y_first = 0.0
    y_last = max(r.y for r in rows) if rows else 0.0
    n_row_units = (y_last - y_first) + 1.0
    axes_h = n_row_units * row_h
    title_h = len(title_lines) * title_fs * 1.45 / 72 + (0.08 if title_lines else 0.0)
    top_h = _MARGIN + title_h + row_h  # title + header row
    has_favours = favours is not None and null_value is not None
    bottom_lines = 1 + (1 if has_favours else 0)
    footer_gap = 0.1 if footer else 0.0
    bottom_h = _TICK_SPACE + bottom_lines * line_h + footer_gap + len(footer) * line_h + _MARGIN
    fig_h = top_h + axes_h + bottom_h

    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((x_plot0 / fig_w, bottom_h / fig_h, plot_width / fig_w, axes_h / fig_h))
    ax.set_gid("forest-axes")
    if log:
        ax.set_xscale("log")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_last + 0.5, y_first - 0.5)  # inverted: first row on top
    ticks = _ticks(x_lo, x_hi, log)
    ax.set_xticks(ticks, labels=[_tick_text(t) for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.tick_params(axis="x", labelsize=fs, length=3.5, pad=2.5)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.patch.set_visible(False)

    row_tr = mtransforms.blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    inch = fig.dpi_scale_trans

    def put(xi: float, yi: float, s: str, ha: str, gid: str, weight: str = "normal", style: str = "normal") -> None:
        if s:
            fig.text(
                xi,
                yi,
                s,
                transform=row_tr,
                ha=ha,
                va="center",
                fontsize=fs,
                fontweight=weight,
                fontstyle=style,
                parse_math=False,
                gid=gid,
            )

    # ---------------- header row + rule ---------------- #
    y_head = y_first - 0.5 - 0.5 * 1.0  # one row above the axes top
    put(x_label, y_head, study_header, "left", "header", "bold")
    for xr, hdr in zip(x_cells, left_labels.values()):
        put(xr, y_head, hdr, "right", "header", "bold")
    put(x_est, y_head, est_header, "right", "header", "bold")
    if show_weight:
        put(x_wt, y_head, "Weight", "right", "header", "bold")
    fig.add_artist(
        Line2D(
            [x_label, x_wt],
            [y_first - 0.5, y_first - 0.5],
            transform=row_tr,
            color="black",
            lw=0.8,
            gid="header-rule",
        )
    )

    # ---------------- row text ---------------- #
    for r in rows:
        gid = {"study": "study-label", "group": "group-header", "pooled": "pooled-label", "pi": "pi-label"}[r.kind]
        put(x_label, r.y, label_text(r), "left", gid, weight_of(r), style_of(r))
        for xr, c in zip(x_cells, r.cells):
            put(xr, r.y, c, "right", "annotation", weight_of(r))
        put(x_est, r.y, r.est_text, "right", "estimate-text", weight_of(r), style_of(r))
        if show_weight:
            put(x_wt, r.y, r.weight_text, "right", "weight-text", weight_of(r))

    # ---------------- line of no effect ---------------- #
    if null_value is not None and x_lo <= null_value <= x_hi:
        ax.axvline(float(null_value), color="black", lw=0.8, zorder=1, gid="null-line")

    # ---------------- CIs, arrows, squares ---------------- #
    def arrow(xe: float, ye: float, direction: int, colour: str, gid: str, scale: float = 8) -> None:
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

    def span(
        lo: float, hi: float, y: float, colour: str, lw: float, gid: str, arrow_gid: str, scale: float = 8
    ) -> None:
        """Horizontal interval clipped to the axis; an arrow marks each clipped end."""
        if math.isnan(lo) or math.isnan(hi):
            return
        lo_out, hi_out = lo < x_lo, hi > x_hi  # also true for -inf/+inf and for bounds <= 0 on a log axis
        a = x_lo if lo_out else lo
        b = x_hi if hi_out else hi
        if a > x_hi or b < x_lo:  # whole interval off one side
            arrow(x_hi if a > x_hi else x_lo, y, 1 if a > x_hi else -1, colour, arrow_gid, scale)
            return
        ax.add_line(Line2D([a, b], [y, y], color=colour, lw=lw, zorder=2, solid_capstyle="butt", gid=gid))
        if lo_out:
            arrow(x_lo, y, -1, colour, arrow_gid, scale)
        if hi_out:
            arrow(x_hi, y, 1, colour, arrow_gid, scale)

    study_rows = [r for r in rows if r.kind == "study"]
    for r in study_rows:
        span(r.lo, r.hi, r.y, STUDY_LINE, 1.0, "study-ci", "ci-arrow")

    weighted = [r for r in study_rows if _finite(r.weight) and _finite(r.estimate)]
    if weighted:
        w_max = max(max(r.weight for r in weighted), 1e-12)
        side_max = _SQUARE_MAX_FRAC * row_h * 72  # points
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

    # ---------------- diamonds and prediction intervals ---------------- #
    for r in rows:
        if r.kind == "pooled" and _finite(r.estimate):
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
                arrow(x_lo, r.y, -1, colour, "ci-arrow")
            if hi > x_hi:
                arrow(x_hi, r.y, 1, colour, "ci-arrow")
        elif r.kind == "pi":
            span(r.lo, r.hi, r.y, PI_COLOUR, 2.2, "prediction-interval", "pi-arrow", 12)
            for xe in (r.lo, r.hi):
                if x_lo <= xe <= x_hi:
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

    # ---------------- under the axis ---------------- #
    y_cursor = bottom_h - _TICK_SPACE  # inches from the figure bottom, top of next line
    fig.text(
        (x_plot0 + x_plot1) / 2,
        y_cursor,
        xlabel,
        transform=inch,
        ha="center",
        va="top",
        fontsize=fs,
        parse_math=False,
        gid="xlabel",
    )
    y_cursor -= line_h
    if has_favours:
        assert favours is not None and null_value is not None
        left_t = "\u2190 Favours " + _strip_favours(favours[0])
        right_t = "Favours " + _strip_favours(favours[1]) + " \u2192"
        nv = min(max(float(null_value), x_lo), x_hi)
        frac = (math.log(nv / x_lo) / math.log(x_hi / x_lo)) if log else (nv - x_lo) / (x_hi - x_lo)
        x_null = x_plot0 + frac * plot_width
        gap = 0.06
        wl, wr = meter.width(left_t, fs), meter.width(right_t, fs)
        xl = max(x_null - gap, _MARGIN + wl)  # right edge of the left label
        xr = min(x_null + gap, fig_w - _MARGIN - wr)  # left edge of the right label
        for xf, s, ha, gid in ((xl, left_t, "right", "favours-left"), (xr, right_t, "left", "favours-right")):
            fig.text(xf, y_cursor, s, transform=inch, ha=ha, va="top", fontsize=fs, parse_math=False, gid=gid)
        y_cursor -= line_h
    y_cursor -= footer_gap
    for s, k in footer:
        fig.text(
            _MARGIN,
            y_cursor,
            s,
            transform=inch,
            ha="left",
            va="top",
            fontsize=fs,
            parse_math=False,
            fontstyle="italic" if k == "note" else "normal",
            gid="heterogeneity" if k == "het" else "note",
        )
        y_cursor -= line_h

    if title_lines:
        yt = fig_h - _MARGIN
        for s in title_lines:
            fig.text(
                _MARGIN,
                yt,
                s,
                transform=inch,
                ha="left",
                va="top",
                fontsize=title_fs,
                fontweight="bold",
                parse_math=False,
                gid="title",
            )
            yt -= title_fs * 1.45 / 72
    return fig


def _strip_favours(s: str) -> str:
    s = s.strip()
    return s[len("favours ") :] if s.lower().startswith("favours ") else s


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
