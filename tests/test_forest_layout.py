"""helpers.report.forest split into a layout step and drawing functions.

* :func:`forest_layout` places rows, columns, text, x-limits and ticks and the figure
  size without drawing anything; its unit tests are here.
* The SVG of representative plots is pinned by digests. They were first taken from the
  code before the split into layout + drawing (commit 1c175ef, matplotlib 3.11.2), to show
  that the split changed nothing; they were taken again after the one deliberate change of
  the layout since (issue 11, item 3: figures legible at their rendered size; rows without
  cell text run across the empty cell columns, narrower gaps and plotting area, two-line
  cell headers, fewer ticks where their labels would crowd), once the plots had been looked
  at before and after.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import re
import xml.etree.ElementTree as ET

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from helpers.report.forest import (
    _COL_GAP,
    _PLOT_GAP,
    _TICK_GAP,
    ForestLayout,
    _Meter,
    _tick_sets,
    draw_forest,
    forest_layout,
    forest_plot,
)
from tests.test_forest import HET, LEFT, make_pooled, make_studies

# --------------------------------------------------------------------------- #
# The SVG is pinned (the split into layout and drawing changed nothing)
# --------------------------------------------------------------------------- #

#: The matplotlib version the digests were taken with (requirements.txt pins it).
DIGEST_MATPLOTLIB = "3.11.2"


def _subgroup_pooled() -> pd.DataFrame:
    sub = dict(label="Random effects", estimate=1.3, ci_low=0.8, ci_high=2.1, pi_low=0.5, pi_high=3.0, dose="High dose")
    return pd.concat([make_pooled().assign(dose=np.nan), pd.DataFrame([sub])], ignore_index=True)


def _long_labels(n: int) -> pd.DataFrame:
    """Study labels wider than every pooled label: the label column is sized by the studies."""
    studies = make_studies(n)
    return studies.assign(label=[f"{s}: Nephritis complete remission, week 24" for s in studies["label"]])


#: Representative plots: (studies, pooled, keyword arguments).
PLOTS = {
    "efficacy": lambda: (
        make_studies(6),
        make_pooled(),
        dict(
            measure="RR",
            left_labels=LEFT,
            heterogeneity=HET,
            favours=("placebo", "IL-2"),
            title="SRI-4 response at week 24",
            notes=["No prediction interval for the fixed-effect model."],
        ),
    ),
    "subgroups": lambda: (
        make_studies(8),
        _subgroup_pooled(),
        dict(measure="RR", group_col="dose", left_labels=LEFT, favours=("placebo", "IL-2"), heterogeneity=HET),
    ),
    "clipped_rd": lambda: (
        make_studies(6, "RD"),
        make_pooled("RD"),
        dict(measure="RD", xlim=(-0.2, 0.2), favours=("placebo", "IL-2")),
    ),
    "two_line_headers": lambda: (
        _long_labels(4),
        make_pooled(pi=False),
        dict(measure="RR", left_labels=LEFT, favours=("placebo", "IL-2")),
    ),
    "wrapped_or": lambda: (
        make_studies(20),
        make_pooled(),
        dict(measure="OR", notes=["A long note " * 30], title="SRI-4 response at week 24 " * 6, left_labels=LEFT),
    ),
}

#: sha256 of the text elements (document order: text, x, y, style, transform) and of the whole SVG,
#: from forest_plot after the legibility change of the layout (see the module docstring).
EXPECTED = {
    "clipped_rd": (
        "7cc6b4acbb0152d5b7c6ea6ecb73d207a6e9306fd434b1179fd7cedaec94c8ac",
        "de57cccf06beaee86c652655dcdc89b4310577631fb8b579f817dadcb1dba06c",
    ),
    "efficacy": (
        "282ac00caad2febaa6c32235236c88dafa138a6119ce8be8e67862da87b70f0d",
        "822d092c40e3de3d7394c2f41a9afad97ad949f4ceadbfb08eef0218dee3b9cb",
    ),
    "subgroups": (
        "71fafbfa852497b8d87fb1465fba8667071c4b1f3c0a8f6bfad3440c3a037437",
        "319fa1e12f3899198aba7414a50f287130a2ede388ea026732aedb02ac089685",
    ),
    "two_line_headers": (
        "842417b9f9f0087f433772e1ddbe94eacb54051c58e23096d3aa195eced5b175",
        "980f39be0a58c5a42c8f4d971992a3248e6a63f94cf25883d803d6aa4e9ca2bb",
    ),
    "wrapped_or": (
        "80a7f6172b64f42df88eca63f5d62f96167ba0537fec47d3b4d5387b704991a1",
        "82dfbed4332fd007b8f364c919e4cd3c089c0c85ffb35f080fcc22dec8b5e8f3",
    ),
}


def svg_text(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})  # as style.as_svg
    return buf.getvalue()


def text_elements(svg: str) -> list[tuple[str, ...]]:
    """Every drawn text (the book's svg.fonttype = "none" keeps text as <text>) with its position and style."""
    root = ET.fromstring(svg)
    out = []
    for el in root.iter("{http://www.w3.org/2000/svg}text"):
        content = "".join(el.itertext())
        out.append((content, *(el.get(a, "") for a in ("x", "y", "style", "transform"))))
    return out


def digests(fig: Figure) -> tuple[str, str]:
    svg = svg_text(fig)
    text = "\n".join("\t".join(t) for t in text_elements(svg))
    return hashlib.sha256(text.encode()).hexdigest(), hashlib.sha256(svg.encode()).hexdigest()


@pytest.mark.skipif(
    mpl.__version__ != DIGEST_MATPLOTLIB,
    reason=f"digests taken with matplotlib {DIGEST_MATPLOTLIB} (font metrics and SVG writer may differ)",
)
@pytest.mark.parametrize("name", sorted(PLOTS))
def test_svg_matches_its_pinned_digests(name: str) -> None:
    studies, pooled, kwargs = PLOTS[name]()
    text_digest, svg_digest = digests(forest_plot(studies, pooled, **kwargs))
    assert text_digest == EXPECTED[name][0], "text or its positions changed"
    assert svg_digest == EXPECTED[name][1], "same text, but other SVG content changed"


def test_the_digest_sees_text_and_positions() -> None:
    studies, pooled, kwargs = PLOTS["efficacy"]()
    elements = text_elements(svg_text(forest_plot(studies, pooled, **kwargs)))
    texts = [t[0] for t in elements]
    assert set(studies["label"]) <= set(texts) and set(pooled["label"]) <= set(texts)
    assert "SRI-4 response at week 24" in texts and "RR (95% CI)" in texts
    assert all(re.fullmatch(r"-?[0-9.]+", x) and re.fullmatch(r"-?[0-9.]+", y) for _, x, y, *_ in elements)
    # a 0.01 inch wider plotting area moves text, and the text digest notices
    moved = digests(forest_plot(studies, pooled, **kwargs, plot_width=2.21))
    assert moved[0] != digests(forest_plot(studies, pooled, **kwargs))[0]


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_forest_plot_is_draw_forest_of_forest_layout(name: str) -> None:
    studies, pooled, kwargs = PLOTS[name]()
    assert svg_text(draw_forest(forest_layout(studies, pooled, **kwargs))) == svg_text(
        forest_plot(studies, pooled, **kwargs)
    )


def test_forest_layout_takes_forest_plots_arguments() -> None:
    plot, layout = inspect.signature(forest_plot), inspect.signature(forest_layout)
    assert list(plot.parameters.values()) == list(layout.parameters.values())


# --------------------------------------------------------------------------- #
# The layout step
# --------------------------------------------------------------------------- #
def layout(n: int, measure: str = "RR", pooled: bool = True, **kwargs) -> ForestLayout:
    return forest_layout(make_studies(n, measure), make_pooled(measure) if pooled else None, measure=measure, **kwargs)


def test_layout_draws_nothing(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the layout step drew something")

    monkeypatch.setattr(Figure, "draw", refuse)
    monkeypatch.setattr(FigureCanvasAgg, "draw", refuse)
    lay = layout(6, left_labels=LEFT, heterogeneity=HET, favours=("placebo", "IL-2"), title="T")
    assert isinstance(lay, ForestLayout) and len(lay.rows) == 6 + 2 + 1


@pytest.mark.parametrize("with_pooled", [True, False])
def test_row_count_and_height_grow_with_the_number_of_studies(with_pooled: bool) -> None:
    lays = [layout(n, pooled=with_pooled) for n in (1, 2, 6, 20)]
    extra = 3 if with_pooled else 0  # fixed diamond, random diamond, prediction interval
    assert [len(lay.rows) for lay in lays] == [1 + extra, 2 + extra, 6 + extra, 20 + extra]
    assert [sum(r.kind == "study" for r in lay.rows) for lay in lays] == [1, 2, 6, 20]
    heights = [lay.figsize[1] for lay in lays]
    assert heights == sorted(heights) and len(set(heights)) == 4
    for lay in lays:
        ys = [r.y for r in lay.rows]
        assert ys == sorted(ys) and len(set(ys)) == len(ys)  # top to bottom, one line each
        assert lay.ylim == (ys[-1] + 0.5, -0.5)
        assert lay.axes_box[3] == pytest.approx((ys[-1] + 1) * lay.row_height)


@pytest.mark.parametrize("measure", ["RR", "OR", "RD", "MD"])
@pytest.mark.parametrize("n", [1, 3, 20])
def test_auto_xlim_contains_every_interval_and_the_null(measure: str, n: int) -> None:
    lay = layout(n, measure)
    lo, hi = lay.xlim
    assert lo < hi
    for r in lay.rows:
        if r.kind in ("study", "pooled", "pi"):
            assert lo <= r.lo <= r.hi <= hi, r.label
            if r.kind != "pi":
                assert lo <= r.estimate <= hi
    assert lay.null_value == (1.0 if measure in ("RR", "OR") else 0.0)
    assert lo <= lay.null_value <= hi
    assert lay.log == (measure in ("RR", "OR"))
    assert 3 <= len(lay.ticks) <= 7 and all(lo <= t <= hi for t in lay.ticks)
    assert len(lay.tick_labels) == len(lay.ticks)


def test_given_xlim_is_kept_and_checked() -> None:
    assert layout(6, "RD", xlim=(-0.2, 0.2)).xlim == (-0.2, 0.2)
    with pytest.raises(ValueError, match="invalid xlim"):
        layout(6, "RD", xlim=(0.2, -0.2))
    with pytest.raises(ValueError, match="invalid xlim"):
        layout(6, "RR", xlim=(0.0, 2.0))  # log axis


def test_columns_keep_text_out_of_the_plotting_area() -> None:
    lay = layout(6, left_labels=LEFT)
    cols = lay.columns
    assert cols.label < cols.cells[0] < cols.cells[1] < cols.plot0 < cols.plot1 < cols.est < cols.weight
    assert cols.plot1 - cols.plot0 == pytest.approx(2.2)  # the default plot_width
    assert lay.axes_box[0] == cols.plot0 and lay.axes_box[2] == cols.plot_width
    assert lay.figsize[0] >= cols.weight
    left = [t for t in lay.table if t.ha == "left"]
    assert {t.x for t in left} == {cols.label}  # labels left-aligned at the margin
    assert {t.x for t in lay.table if t.gid == "estimate-text"} == {cols.est}
    assert {t.x for t in lay.table if t.gid == "weight-text"} == {cols.weight}


def test_table_text_per_row() -> None:
    lay = layout(3, left_labels=LEFT)
    headers = [t.text for t in lay.table if t.gid == "header"]
    assert headers == ["Study", "IL-2 n/N", "Placebo n/N", "RR (95% CI)", "Weight"]
    labels = [(t.text, t.y) for t in lay.table if t.gid == "study-label"]
    assert labels == [(s, float(i)) for i, s in enumerate(make_studies(3)["label"])]
    assert [t.text for t in lay.table if t.gid == "pi-label"] == ["    Prediction interval"]  # under its diamond
    assert all(t.weight == "bold" for t in lay.table if t.gid in ("header", "pooled-label"))
    assert lay.header_rule == (lay.columns.label, lay.columns.weight, -0.5)


def _width(text: str, weight: str = "normal", style: str = "normal", size: float = 9.0) -> float:
    """Text width in inches, measured as the layout measures it (9 pt: the book's table font)."""
    return _Meter(float(mpl.rcParams["figure.dpi"])).width(text, size, weight, style)


def test_rows_without_cells_run_across_the_cell_columns() -> None:
    """Pooled rows, subgroup headers and prediction intervals have no cell text: they do not widen the label
    column, they run across the empty cells, and still end before the plotting area."""
    with_pooled, studies_only = layout(6, left_labels=LEFT), layout(6, pooled=False, left_labels=LEFT)
    cols, plain = with_pooled.columns, studies_only.columns
    widest_pooled = max(_width(s, "bold") for s in make_pooled()["label"])
    assert widest_pooled > plain.cells[-1] - plain.label  # longer than the study labels and cells together
    # the block of labels and cells is as wide as the longest pooled label, not that label + the cells
    assert cols.plot0 == pytest.approx(cols.label + widest_pooled + _PLOT_GAP)
    assert cols.cells[-1] == pytest.approx(cols.label + widest_pooled)
    spanning = [t for t in with_pooled.table if t.gid in ("pooled-label", "pi-label")]
    assert len(spanning) == 3
    for t in spanning:
        assert t.x + _width(t.text, t.weight, t.style) <= cols.plot0 - _PLOT_GAP + 1e-9, t.text
    # short pooled labels change nothing: the studies size the columns
    short = make_pooled().assign(label=["Fixed", "Random"])
    same = forest_layout(make_studies(6), short, measure="RR", left_labels=LEFT).columns
    assert (same.label, same.cells, same.plot0) == (plain.label, plain.cells, plain.plot0)
    # subgroup headers run on in the same way
    long_group = make_studies(6).assign(dose=lambda d: d["dose"] + " (uncontrolled across studies, as reported)")
    grouped = forest_layout(long_group, None, measure="RR", group_col="dose", left_labels=LEFT).columns
    widest_group = max(_width(g, "bold") for g in long_group["dose"])
    assert grouped.plot0 == pytest.approx(grouped.label + widest_group + _PLOT_GAP)


def test_cell_headers_take_two_lines_only_where_that_narrows_the_figure() -> None:
    long_studies = PLOTS["two_line_headers"]()[0]
    two = forest_layout(long_studies, None, measure="RR", left_labels=LEFT)
    assert two.columns.headers == (("Study",), ("IL-2", "n/N"), ("Placebo", "n/N"), ("RR (95% CI)",))
    by_x: dict[float, list] = {}
    for t in two.table:
        if t.gid == "header":
            by_x.setdefault(t.x, []).append(t)
    joined = [" ".join(t.text for t in sorted(ts, key=lambda t: t.y)) for _, ts in sorted(by_x.items())]
    assert joined == ["Study", "IL-2 n/N", "Placebo n/N", "RR (95% CI)", "Weight"]
    assert all(max(t.y for t in ts) == -1.0 for ts in by_x.values())  # every header ends on the header row
    # each cell column is as wide as its widest line: the header's longer line or an entry
    widest_label = max(_width(s) for s in long_studies["label"])
    il2 = max([_width("IL-2", "bold"), _width("n/N", "bold")] + [_width(s) for s in long_studies["il2_text"]])
    cols = two.columns
    assert cols.cells == pytest.approx(
        (
            cols.label + widest_label + _COL_GAP + il2,
            cols.label + widest_label + 2 * _COL_GAP + il2 + _width("Placebo", "bold"),
        )
    )
    # the header row is one header line taller than with one-line headers
    one_word = {"il2_text": "IL-2", "control_text": "Placebo"}
    one = forest_layout(long_studies, None, measure="RR", left_labels=one_word)
    assert one.columns.headers == (("Study",), ("IL-2",), ("Placebo",), ("RR (95% CI)",))
    assert two.figsize[1] - one.figsize[1] == pytest.approx(1.25 * 9 / 72)
    # a pooled label wider than the labels and cells: a second header line would save nothing, so one line
    assert layout(6, left_labels=LEFT).columns.headers[1:3] == (("IL-2 n/N",), ("Placebo n/N",))


@pytest.mark.parametrize("plot_width", [1.0, 1.6, 2.2, 6.0])
@pytest.mark.parametrize(
    "measure, xlim",
    [("RD", (-0.006, 0.004)), ("RD", (-0.125, 0.0)), ("MD", (-300.0, 300.0)), ("RR", (0.003, 1.0)), ("RR", (1, 1000))],
)
def test_tick_labels_never_crowd(measure: str, xlim: tuple[float, float], plot_width: float) -> None:
    """Fewer ticks on a narrow axis: adjacent tick labels stand at least _TICK_GAP apart; the densest set
    where there is room."""
    lay = layout(4, measure, xlim=xlim, plot_width=plot_width)
    lo, hi = lay.xlim
    frac = [(np.log(t / lo) / np.log(hi / lo)) if lay.log else (t - lo) / (hi - lo) for t in lay.ticks]
    edges = [(f * plot_width - _width(s) / 2, f * plot_width + _width(s) / 2) for f, s in zip(frac, lay.tick_labels)]
    gaps = [b[0] - a[1] for a, b in zip(edges, edges[1:])]
    assert len(lay.ticks) >= 2 and min(gaps) >= _TICK_GAP - 1e-9, list(zip(lay.tick_labels, gaps))
    if plot_width == 6.0:
        assert list(lay.ticks) == _tick_sets(lo, hi, lay.log)[0]


def test_subgroup_layout_indents_studies_under_headers() -> None:
    lay = forest_layout(make_studies(8), _subgroup_pooled(), measure="RR", group_col="dose")
    kinds = [r.kind for r in lay.rows]
    assert kinds.count("group") == 2 and kinds[0] == "group"
    assert kinds.count("pooled") == 3 and kinds.count("study") == 8
    study_texts = [t.text for t in lay.table if t.gid == "study-label"]
    assert all(s.startswith("    ") for s in study_texts)
    assert [t.text for t in lay.table if t.gid == "group-header"] == ["High dose", "Low dose"]


def test_labels_under_the_axis() -> None:
    lay = layout(6, "RD", favours=("placebo", "IL-2"), heterogeneity=HET, notes=["a note", "A long note " * 30])
    by_gid = {t.gid: t for t in lay.axis_labels}
    assert by_gid["xlabel"].text == "Risk difference; > 0 favours IL-2"
    cols = lay.columns
    assert by_gid["xlabel"].x == pytest.approx((cols.plot0 + cols.plot1) / 2)
    left, right = by_gid["favours-left"], by_gid["favours-right"]
    assert left.text == "\u2190 Favours placebo" and right.text == "Favours IL-2 \u2192"
    assert left.x < right.x and left.y == right.y < by_gid["xlabel"].y
    assert [t.gid for t in lay.notes][:2] == ["heterogeneity", "note"]
    assert len(lay.notes) > 3  # the long note is wrapped
    ys = [t.y for t in lay.notes]
    assert ys == sorted(ys, reverse=True) and ys[0] < left.y and ys[-1] > 0
    assert {t.style for t in lay.notes if t.gid == "note"} == {"italic"}
    assert layout(6, "PLO").axis_labels[0].text == "Proportion" and len(layout(6, "PLO").axis_labels) == 1


def test_title_on_top_and_wrapped() -> None:
    lay = layout(3, title="SRI-4 response at week 24 " * 6)
    assert len(lay.title) > 1 and all(t.weight == "bold" for t in lay.title)
    ys = [t.y for t in lay.title]
    assert ys == sorted(ys, reverse=True) and ys[0] < lay.figsize[1]
    assert ys[-1] > lay.axes_box[1] + lay.axes_box[3]  # above the plotting area
    assert layout(3).title == ()
