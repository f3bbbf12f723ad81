"""Tests for helpers.report.forest: what is drawn, where, and that text never collides."""

from __future__ import annotations

import io
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.text import Annotation, Text

from helpers.report.forest import alt_text, forest_plot
from helpers.report.style import ROLE_COLOURS

LEFT = {"il2_text": "IL-2 n/N", "control_text": "Placebo n/N"}
HET = "Heterogeneity: I\u00b2 = 12%, \u03c4\u00b2 = 0.01, Q p = 0.29"


def make_studies(n: int, measure: str = "RR") -> pd.DataFrame:
    i = np.arange(n)
    if measure in ("RR", "OR"):
        est = np.exp(np.sin(i * 1.3) * 0.5)
        lo, hi = est / (1.6 + 0.3 * (i % 4)), est * (1.6 + 0.3 * (i % 4))
    else:
        est = np.sin(i * 1.3) * 0.15
        lo, hi = est - 0.1 - 0.03 * (i % 4), est + 0.1 + 0.03 * (i % 4)
    w = 1.0 + (i % 5) * 2.0
    return pd.DataFrame(
        {
            "label": [f"Study {k + 1} ({2010 + k})" for k in i],
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "weight": 100 * w / w.sum(),
            "il2_text": [f"{5 + k}/{20 + 2 * k}" for k in i],
            "control_text": [f"{3 + k}/{19 + 2 * k}" for k in i],
            "dose": ["Low dose" if k % 2 else "High dose" for k in i],
        }
    )


def make_pooled(measure: str = "RR", pi: bool = True) -> pd.DataFrame:
    if measure in ("RR", "OR"):
        fixed = (1.12, 0.91, 1.38)
        random = (1.15, 0.82, 1.61, 0.52, 2.54)
    else:
        fixed = (0.03, -0.02, 0.08)
        random = (0.04, -0.05, 0.13, -0.2, 0.28)
    return pd.DataFrame(
        [
            dict(
                label="Fixed effect (Mantel-Haenszel)",
                estimate=fixed[0],
                ci_low=fixed[1],
                ci_high=fixed[2],
                pi_low=np.nan,
                pi_high=np.nan,
            ),
            dict(
                label="Random effects (REML, Hartung-Knapp)",
                estimate=random[0],
                ci_low=random[1],
                ci_high=random[2],
                pi_low=random[3] if pi else np.nan,
                pi_high=random[4] if pi else np.nan,
            ),
        ]
    )


# ---- helpers to find the drawn pieces by gid ---- #
def ax_of(fig: Figure):
    (ax,) = [a for a in fig.axes if a.get_gid() == "forest-axes"]
    return ax


def squares(fig: Figure):
    cols = [c for c in ax_of(fig).collections if c.get_gid() == "study-squares"]
    return cols[0] if cols else None


def n_squares(fig: Figure) -> int:
    c = squares(fig)
    return 0 if c is None else len(c.get_offsets())


def diamonds(fig: Figure) -> list[Polygon]:
    return [p for p in ax_of(fig).patches if p.get_gid() == "pooled-diamond"]


def lines(fig: Figure, gid: str):
    return [ln for ln in ax_of(fig).lines if ln.get_gid() == gid]


def arrows(fig: Figure, gid: str = "ci-arrow") -> list[Annotation]:
    return [t for t in ax_of(fig).texts if isinstance(t, Annotation) and t.get_gid() == gid]


def visible_texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and not isinstance(t, Annotation)]


# ---- tests ---- #
@pytest.mark.parametrize("n", [1, 2, 6, 20])
@pytest.mark.parametrize("with_pooled", [True, False])
def test_renders_with_any_number_of_studies(n: int, with_pooled: bool) -> None:
    pooled = make_pooled(pi=n >= 3) if with_pooled else None
    before = plt.get_fignums()
    fig = forest_plot(
        make_studies(n),
        pooled,
        measure="RR",
        left_labels=LEFT,
        heterogeneity=HET,
        favours=("placebo", "IL-2"),
        title="SRI-4 response",
    )
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before  # not registered with pyplot: nothing to leak or show
    fig.canvas.draw()
    assert n_squares(fig) == n
    assert len(diamonds(fig)) == (2 if with_pooled else 0)
    labels = [t.get_text().strip() for t in visible_texts(fig) if t.get_gid() == "study-label"]
    assert labels == list(make_studies(n)["label"])


def test_height_grows_with_rows() -> None:
    heights = [forest_plot(make_studies(n), make_pooled(), measure="RR").get_figheight() for n in (1, 2, 6, 20)]
    assert heights == sorted(heights) and len(set(heights)) == 4
    per_row = (heights[3] - heights[2]) / 14
    assert per_row == pytest.approx((heights[2] - heights[1]) / 4)


def test_square_count_is_number_of_finite_weights() -> None:
    s = make_studies(6)
    s.loc[[1, 4], "weight"] = np.nan
    fig = forest_plot(s, make_pooled(), measure="RR")
    assert n_squares(fig) == 4
    others = [c for c in ax_of(fig).collections if c.get_gid() == "study-unweighted"]
    assert len(others[0].get_offsets()) == 2  # unweighted studies still show a (non-square) point
    weight_cells = [t.get_text() for t in visible_texts(fig) if t.get_gid() == "weight-text"]
    assert weight_cells.count("\u2013") == 2


def test_square_area_proportional_to_weight() -> None:
    s = make_studies(20)
    fig = forest_plot(s, None, measure="RR")
    sizes = np.asarray(squares(fig).get_sizes())
    w = s["weight"].to_numpy()
    assert np.array_equal(np.argsort(sizes, kind="stable"), np.argsort(w, kind="stable"))
    np.testing.assert_allclose(sizes / w, (sizes / w)[0])  # area (pt^2) / weight is constant
    # the squares sit at the study estimates
    np.testing.assert_allclose(np.asarray(squares(fig).get_offsets())[:, 0], s["estimate"])


def test_one_diamond_per_pooled_row_spanning_the_ci() -> None:
    p = make_pooled()
    fig = forest_plot(make_studies(6), p, measure="RR")
    ds = diamonds(fig)
    assert len(ds) == len(p)
    for d, (_, r) in zip(ds, p.iterrows()):
        xs = d.get_xy()[:, 0]
        assert xs.min() == pytest.approx(r.ci_low) and xs.max() == pytest.approx(r.ci_high)
    assert ds[0].get_facecolor()[:3] == pytest.approx(plt.matplotlib.colors.to_rgb(ROLE_COLOURS["pooled_fixed"]))
    assert ds[1].get_facecolor()[:3] == pytest.approx(plt.matplotlib.colors.to_rgb(ROLE_COLOURS["pooled_random"]))
    pooled_labels = [t.get_text() for t in visible_texts(fig) if t.get_gid() == "pooled-label"]
    assert pooled_labels == list(p["label"])  # never colour-only


@pytest.mark.parametrize(
    "pi_rows, expected",
    [
        ([(0.5, 2.5), (np.nan, np.nan)], 1),
        ([(np.nan, np.nan), (np.nan, np.nan)], 0),
        ([(0.6, 2.0), (0.4, 3.0)], 2),
        ([(0.5, np.inf), (np.nan, 2.0)], 0),
    ],
)
def test_prediction_interval_only_where_finite(pi_rows, expected) -> None:
    p = make_pooled()
    p[["pi_low", "pi_high"]] = pi_rows
    fig = forest_plot(make_studies(6), p, measure="RR")
    assert len(lines(fig, "prediction-interval")) == expected
    pi_labels = [t for t in visible_texts(fig) if t.get_gid() == "pi-label"]
    assert len(pi_labels) == expected and all(t.get_text().strip() == "Prediction interval" for t in pi_labels)


def test_prediction_interval_drawn_under_its_diamond() -> None:
    p = make_pooled()
    fig = forest_plot(make_studies(6), p, measure="RR")
    (pi,) = lines(fig, "prediction-interval")
    np.testing.assert_allclose(pi.get_xdata(), [0.52, 2.54])
    d_random = diamonds(fig)[1]
    y_diamond = d_random.get_xy()[:, 1].mean()
    assert 0 < pi.get_ydata()[0] - y_diamond <= 1  # next row down (y axis is inverted)


def test_arrows_when_ci_exceeds_xlim() -> None:
    s = make_studies(6, "RD")
    fig = forest_plot(s, make_pooled("RD"), measure="RD", xlim=(-1, 1))
    assert arrows(fig) == []
    fig = forest_plot(s, make_pooled("RD"), measure="RD", xlim=(-0.2, 0.2))
    expected = int((s["ci_low"] < -0.2).sum() + (s["ci_high"] > 0.2).sum())
    assert expected > 0
    got = arrows(fig)
    assert len(got) == expected
    assert sum(a.xy[0] == -0.2 for a in got) == (s["ci_low"] < -0.2).sum()
    assert sum(a.xy[0] == 0.2 for a in got) == (s["ci_high"] > 0.2).sum()
    assert len(arrows(fig, "pi-arrow")) == 1  # PI upper bound 0.28 > 0.2


def test_infinite_ci_gets_arrow() -> None:
    s = make_studies(3)
    s.loc[2, "ci_high"] = np.inf
    fig = forest_plot(s, None, measure="RR")
    assert len(arrows(fig)) == 1
    assert "\u221e" in " ".join(t.get_text() for t in visible_texts(fig))


def test_log_axis_and_null_line_for_ratios() -> None:
    fig = forest_plot(make_studies(6), make_pooled(), measure="RR")
    ax = ax_of(fig)
    assert ax.get_xscale() == "log"
    (null,) = lines(fig, "null-line")
    assert list(null.get_xdata()) == [1, 1]
    lo, hi = ax.get_xlim()
    assert lo < 1 < hi
    assert (
        fig.findobj(lambda t: isinstance(t, Text) and t.get_gid() == "xlabel")[0]
        .get_text()
        .startswith("Risk ratio (log scale)")
    )


def test_linear_axis_and_null_line_for_differences() -> None:
    fig = forest_plot(make_studies(6, "RD"), make_pooled("RD"), measure="RD", favours=("placebo", "IL-2"))
    assert ax_of(fig).get_xscale() == "linear"
    (null,) = lines(fig, "null-line")
    assert list(null.get_xdata()) == [0, 0]
    xlabel = [t.get_text() for t in visible_texts(fig) if t.get_gid() == "xlabel"]
    assert xlabel == ["Risk difference; > 0 favours IL-2"]
    fav = {t.get_gid(): t.get_text() for t in visible_texts(fig) if (t.get_gid() or "").startswith("favours")}
    assert "Favours placebo" in fav["favours-left"] and "Favours IL-2" in fav["favours-right"]


def test_proportions_have_no_null_line_and_overrides_work() -> None:
    s = make_studies(4, "RD")
    s[["estimate", "ci_low", "ci_high"]] += 0.4
    fig = forest_plot(s, None, measure="PLO")
    assert lines(fig, "null-line") == [] and ax_of(fig).get_xscale() == "linear"
    assert 0 <= ax_of(fig).get_xlim()[0]
    fig = forest_plot(make_studies(4), None, measure="RR", log_scale=False, null_value=2.0)
    assert ax_of(fig).get_xscale() == "linear"
    assert list(lines(fig, "null-line")[0].get_xdata()) == [2, 2]


def test_tick_labels_are_plain_numbers_and_span_the_axis() -> None:
    fig = forest_plot(make_studies(20), make_pooled(), measure="OR")
    ax = ax_of(fig)
    ticks = ax.get_xticks()
    lo, hi = ax.get_xlim()
    assert 3 <= len(ticks) <= 7 and ticks[0] >= lo and ticks[-1] <= hi
    assert 1 in ticks
    assert all("10^" not in t.get_text() and "$" not in t.get_text() for t in ax.get_xticklabels())
    assert ax.xaxis.get_minor_locator().tick_values(lo, hi) == []


def test_subgroup_headers_and_subgroup_diamonds() -> None:
    s = make_studies(8)
    p = pd.concat(
        [
            make_pooled().assign(dose=np.nan),
            pd.DataFrame(
                [
                    dict(
                        label="Random effects",
                        estimate=1.3,
                        ci_low=0.8,
                        ci_high=2.1,
                        pi_low=np.nan,
                        pi_high=np.nan,
                        dose="High dose",
                    )
                ]
            ),
        ],
        ignore_index=True,
    )
    fig = forest_plot(s, p, measure="RR", group_col="dose", left_labels=LEFT)
    texts = visible_texts(fig)
    headers = [t.get_text() for t in texts if t.get_gid() == "group-header"]
    assert headers == ["High dose", "Low dose"]
    assert len(diamonds(fig)) == 3 and n_squares(fig) == 8
    # each study sits below its own group header, and the subgroup diamond inside its group
    y = {t.get_text().strip(): t.get_position()[1] for t in texts if t.get_gid() in ("group-header", "study-label")}
    for _, r in s.iterrows():
        other = "Low dose" if r.dose == "High dose" else "High dose"
        assert y[r.label] > y[r.dose]
        assert (y[r.label] < y[other]) == (y[other] > y[r.dose])
    sub = [d for d in diamonds(fig) if d.get_xy()[:, 0].max() == pytest.approx(2.1)][0]
    assert y["High dose"] < sub.get_xy()[:, 1].mean() < y["Low dose"]


def test_duplicate_labels_get_separate_rows() -> None:
    s = make_studies(3)
    s["label"] = "Same study 2020"
    s[["il2_text", "control_text"]] = "3/10"
    fig = forest_plot(s, None, measure="RR", left_labels=LEFT)
    ys = np.asarray(squares(fig).get_offsets())[:, 1]
    assert len(set(ys)) == 3


def test_alt_text_mentions_every_pooled_estimate() -> None:
    p = make_pooled()
    text = alt_text(make_studies(6), p, "RR")
    assert "6 studies" in text and "risk ratio" in text.lower()
    for _, r in p.iterrows():
        assert r.label in text
        assert f"{r.estimate:.2f} (95% CI {r.ci_low:.2f} to {r.ci_high:.2f})" in text
    assert "prediction interval 0.52 to 2.54" in text
    assert "\n" not in text
    one = alt_text(make_studies(1), None, "RD")
    assert "1 study" in one and "No pooled estimate" in one


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="missing column"):
        forest_plot(make_studies(3).drop(columns="ci_low"), None, measure="RR")
    s = make_studies(3)
    s.loc[0, "estimate"] = -0.2
    with pytest.raises(ValueError, match="positive"):
        forest_plot(s, None, measure="RR")
    with pytest.raises(ValueError, match="missing column"):
        forest_plot(make_studies(3), None, measure="RR", left_labels={"nope": "Nope"})


def test_deterministic_pixels() -> None:
    def render() -> bytes:
        fig = forest_plot(make_studies(6), make_pooled(), measure="RR", left_labels=LEFT, heterogeneity=HET)
        fig.canvas.draw()
        return bytes(fig.canvas.buffer_rgba())

    assert render() == render()


def _assert_no_overlap(fig: Figure) -> None:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in visible_texts(fig)]
    ax_box = ax_of(fig).get_window_extent(renderer)
    fig_box = fig.bbox
    for text, b in boxes:  # every text inside the figure
        assert b.x0 >= fig_box.x0 - 0.5 and b.x1 <= fig_box.x1 + 0.5, text
        assert b.y0 >= fig_box.y0 - 0.5 and b.y1 <= fig_box.y1 + 0.5, text
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), f"{ta!r} overlaps {tb!r}"
    # table text stays out of the plotting area (tick labels sit below it)
    for t in visible_texts(fig):
        if t.get_gid() in ("study-label", "pooled-label", "pi-label", "annotation", "estimate-text", "weight-text"):
            b = t.get_window_extent(renderer)
            assert b.x1 <= ax_box.x0 or b.x0 >= ax_box.x1, t.get_text()


def test_no_text_overlap_20_studies() -> None:
    fig = forest_plot(
        make_studies(20),
        make_pooled(),
        measure="RR",
        left_labels=LEFT,
        heterogeneity=HET,
        notes=["No prediction interval for the fixed-effect model.", "A long note " * 30],
        favours=("placebo", "IL-2"),
        title="SRI-4 response at week 24",
    )
    _assert_no_overlap(fig)


@pytest.mark.parametrize("n", [1, 2])
def test_no_text_overlap_few_studies_and_subgroups(n: int) -> None:
    _assert_no_overlap(
        forest_plot(
            make_studies(n),
            make_pooled(pi=False),
            measure="OR",
            favours=("placebo", "IL-2"),
            notes=["No prediction interval: needs at least 3 studies"],
        )
    )
    _assert_no_overlap(
        forest_plot(
            make_studies(7),
            make_pooled(),
            measure="RR",
            group_col="dose",
            left_labels=LEFT,
            favours=("placebo", "IL-2"),
            heterogeneity=HET,
        )
    )
    # null line near the axis edge: favours labels must still fit in the figure
    _assert_no_overlap(
        forest_plot(make_studies(5, "RD"), None, measure="RD", xlim=(-0.02, 0.6), favours=("placebo", "IL-2"))
    )


def test_no_text_overlap_with_two_line_headers_and_long_pooled_labels() -> None:
    """Two-line cell headers (study labels wider than every pooled label) under a title; pooled labels that run
    across the empty cell columns (longer than the study labels and cells together)."""
    long = make_studies(5).assign(label=lambda d: d["label"] + ": Nephritis complete remission, week 24")
    two_lines = forest_plot(long, None, measure="RR", left_labels=LEFT, title="SRI-4 response", favours=("a", "b"))
    assert {t.get_text() for t in visible_texts(two_lines) if t.get_gid() == "header"} >= {"IL-2", "Placebo", "n/N"}
    _assert_no_overlap(two_lines)
    pooled = make_pooled().assign(label=lambda d: d["label"] + ", subgroup of IL-2 arms across studies")
    _assert_no_overlap(forest_plot(make_studies(3), pooled, measure="RR", left_labels=LEFT, heterogeneity=HET))


def test_overlap_check_catches_a_collision() -> None:
    fig = forest_plot(make_studies(3), None, measure="RR")
    label = [t for t in visible_texts(fig) if t.get_gid() == "study-label"][0]
    fig.text(*label.get_position(), "Colliding text", transform=label.get_transform())
    with pytest.raises(AssertionError, match="overlaps"):
        _assert_no_overlap(fig)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_saves_without_warnings(fmt: str) -> None:
    fig = forest_plot(
        make_studies(6), make_pooled(), measure="RR", left_labels=LEFT, heterogeneity=HET, favours=("placebo", "IL-2")
    )
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)  # book style: bbox_inches="tight"; filterwarnings=error catches any warning
    assert buf.getbuffer().nbytes > 1000
