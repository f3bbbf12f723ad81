"""Tests of the PRISMA 2020 flow diagram (``helpers.report.prisma``)."""

from __future__ import annotations

import inspect
import io
import itertools
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.text import Text

from helpers.paths import ROOT
from helpers.report.prisma import (
    PAD_X,
    PAD_Y,
    REQUIRED_ROWS,
    PrismaLayout,
    draw_prisma_layout,
    prisma_alt_text,
    prisma_counts,
    prisma_flow_diagram,
    prisma_layout,
)
from helpers.report.style import OKABE_ITO

PRISMA_CSV = ROOT / "data" / "prisma.csv"


@pytest.fixture(scope="module")
def prisma() -> pd.DataFrame:
    return pd.read_csv(PRISMA_CSV)


def _with(table: pd.DataFrame, **values) -> pd.DataFrame:
    """Copy of ``table`` with ``n`` (and status) set for the given ``data`` rows."""
    out = table.copy()
    out["n"] = out["n"].astype("object")
    for key, value in values.items():
        mask = out["data"] == key
        assert mask.any(), key
        out.loc[mask, "n"] = value
        out.loc[mask, "status"] = "reported"
    return out


def _full(prisma: pd.DataFrame) -> pd.DataFrame:
    return _with(
        prisma,
        register_results=12,
        duplicates=18,
        excluded_automatic=0,
        excluded_other=3,
        records_screened=1009,
        records_excluded=950,
        dbr_sought_reports=59,
        dbr_notretrieved_reports=2,
        dbr_assessed=57,
        dbr_excluded=51,
        new_reports=9,
    )


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text()]


def _all_text(fig) -> str:
    return "\n".join(t.get_text() for t in _texts(fig))


def _flat(fig) -> str:
    """All figure text with line breaks from wrapping undone."""
    return re.sub(r"\s+", " ", _all_text(fig))


def _box_text(fig, key: str) -> str:
    for t in _texts(fig):
        if t.get_gid() == f"{key}-text":
            return re.sub(r"\s+", " ", t.get_text())
    raise AssertionError(f"no text with gid {key}-text")


def _box_patch(fig, key: str) -> Patch:
    for p in fig.findobj(Patch):
        if p.get_gid() == f"{key}-box":
            return p
    raise AssertionError(f"no patch with gid {key}-box")


# --- counts -------------------------------------------------------------------
def test_counts_from_real_table(prisma):
    counts = prisma_counts(prisma)
    assert counts["database_results"] == 1018
    assert counts["new_studies"] == 6
    assert counts["duplicates"] is None
    assert counts["records_screened"] is None
    assert counts["register_results"] is None
    assert all(v is None or isinstance(v, int) for v in counts.values())
    assert set(counts) == set(prisma["data"])


def test_counts_accept_strings_and_na():
    table = pd.DataFrame({"data": ["a", "b", "c", "d"], "n": ["1,018", "NA", "", 7]})
    assert prisma_counts(table) == {"a": 1018, "b": None, "c": None, "d": 7}


# --- figure content -----------------------------------------------------------
def test_real_table_figure_text(prisma):
    fig = prisma_flow_diagram(prisma)
    text = _flat(fig)
    assert "n = 1,018" in text
    assert "n = 6" in text
    assert "n = 0" not in text
    assert "n = not reported" in text
    # every NA count of the databases-and-registers flow says so, none is blank
    assert _box_text(fig, "screened") == "Records screened (n = not reported)"
    assert _box_text(fig, "removed").count("n = not reported") == 3
    assert "Registers (n = not reported)" in _box_text(fig, "identified")
    assert "Databases (n = 1,018)" in _box_text(fig, "identified")
    assert "Studies included in review (n = 6)" in _box_text(fig, "included")
    assert "Reports of included studies (n = not reported)" in _box_text(fig, "included")
    assert not re.search(r"n = \)", text)
    for label in ("Identification", "Screening", "Included", "Identification of studies via databases and registers"):
        assert label in text
    # databases only by default
    assert "other methods" not in text
    assert "Websites" not in text


def test_na_boxes_are_dashed_and_grey(prisma):
    fig = prisma_flow_diagram(prisma)
    grey = OKABE_ITO["grey"].lower()
    for key in ("screened", "records_excluded", "sought", "not_retrieved", "assessed", "reports_excluded", "removed"):
        patch = _box_patch(fig, key)
        assert to_hex(patch.get_edgecolor()) == grey, key
        assert patch.get_linestyle() not in ("-", "solid"), key
    for key in ("identified", "included"):  # some count in them is reported
        patch = _box_patch(fig, key)
        assert to_hex(patch.get_edgecolor()) == OKABE_ITO["black"].lower(), key
        assert patch.get_linestyle() in ("-", "solid"), key
    assert "Dashed grey border" in _all_text(fig)


def test_reported_numbers_show(prisma):
    fig = prisma_flow_diagram(_full(prisma))
    assert "Duplicate records (n = 18)" in _box_text(fig, "removed")
    assert "automation tools (n = 0)" in _box_text(fig, "removed")
    assert "Records screened (n = 1,009)" == _box_text(fig, "screened")
    assert _box_text(fig, "records_excluded") == "Records excluded (n = 950)"
    assert "(n = 59)" in _box_text(fig, "sought")
    assert "(n = 2)" in _box_text(fig, "not_retrieved")
    assert "(n = 57)" in _box_text(fig, "assessed")
    assert "(n = 51)" in _box_text(fig, "reports_excluded")
    assert "Reports of included studies (n = 9)" in _box_text(fig, "included")
    text = _flat(fig)
    assert "not reported" not in text
    assert "Dashed grey border" not in text
    for key in ("removed", "screened", "included"):
        assert _box_patch(fig, key).get_linestyle() in ("-", "solid")


def test_reasons_one_per_line(prisma):
    table = _full(prisma)
    table["reasons"] = table["reasons"].astype("object")
    table.loc[table["data"] == "dbr_excluded", "reasons"] = (
        "Wrong population, 20; Not randomised, 25; Conference abstract only, 6"
    )
    fig = prisma_flow_diagram(table)
    raw = next(t.get_text() for t in _texts(fig) if t.get_gid() == "reports_excluded-text")
    lines = [line.strip() for line in raw.splitlines()]
    assert lines[0] == "Reports excluded (n = 51):"
    assert "Wrong population (n = 20)" in lines
    assert "Not randomised (n = 25)" in lines
    assert "Conference abstract only (n = 6)" in lines
    alt = prisma_alt_text(table)
    assert "Wrong population: 20" in alt


def test_derived_count_gets_dagger_and_footnote(prisma):
    table = _full(prisma)
    table.loc[table["data"] == "records_screened", "status"] = "derived"
    fig = prisma_flow_diagram(table)
    assert _box_text(fig, "screened") == "Records screened (n = 1,009\u2020)"
    assert "\u2020 derived" in _all_text(fig)
    # no dagger footnote when no derived count is drawn
    assert "\u2020" not in _all_text(prisma_flow_diagram(prisma))


def test_custom_not_reported_text(prisma):
    fig = prisma_flow_diagram(prisma, not_reported_text="NR")
    text = _flat(fig)
    assert "Records screened (n = NR)" in text
    assert "n = 1,018" in text


def test_other_methods_column(prisma):
    fig = prisma_flow_diagram(prisma, other_methods=True)
    text = _flat(fig)
    assert "Identification of studies via other methods" in text
    assert "Websites (n = not reported)" in text
    assert "Citation searching (n = not reported)" in text
    assert fig.get_size_inches()[0] > prisma_flow_diagram(prisma).get_size_inches()[0]


def test_other_methods_rows_optional(prisma):
    optional = [
        "website_results",
        "organisation_results",
        "citations_results",
        "other_sought_reports",
        "other_notretrieved_reports",
        "other_assessed",
        "other_excluded",
    ]
    table = prisma[~prisma["data"].isin(optional)]
    fig = prisma_flow_diagram(table, other_methods=True)
    assert "Websites (n = not reported)" in _flat(fig)


# --- legibility ---------------------------------------------------------------
@pytest.mark.parametrize("other_methods", [False, True])
@pytest.mark.parametrize("variant", ["real", "full"])
def test_text_inside_boxes_and_legible(prisma, other_methods, variant):
    table = prisma if variant == "real" else _full(prisma)
    fig = prisma_flow_diagram(table, other_methods=other_methods)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fig_bb = fig.bbox
    patches = {p.get_gid(): p for p in fig.findobj(Patch) if p.get_gid()}
    boxed = 0
    for text in _texts(fig):
        assert text.get_fontsize() >= 8, text.get_text()
        bb = text.get_window_extent(renderer)
        gid = text.get_gid() or ""
        if gid.endswith("-text"):
            patch = patches[gid[: -len("-text")] + "-box"]
            box = patch.get_window_extent(renderer)
            assert box.x0 <= bb.x0 and bb.x1 <= box.x1, text.get_text()
            assert box.y0 <= bb.y0 and bb.y1 <= box.y1, text.get_text()
            boxed += 1
        # every text, boxed or not, lies inside the figure
        assert fig_bb.x0 <= bb.x0 and bb.x1 <= fig_bb.x1, text.get_text()
        assert fig_bb.y0 <= bb.y0 and bb.y1 <= fig_bb.y1, text.get_text()
    assert boxed >= (9 + 3 + 1) + (5 + 1 if other_methods else 0)


def test_natural_size(prisma):
    width, height = prisma_flow_diagram(prisma).get_size_inches()
    assert width == pytest.approx(7.5)
    assert 6.5 <= height <= 9.5


def test_only_okabe_ito_colours(prisma):
    allowed = {c.lower() for c in OKABE_ITO.values()} | {"#ffffff"}
    fig = prisma_flow_diagram(_full(prisma), other_methods=True)
    for patch in fig.findobj(Patch):
        if patch is fig.patch:
            continue
        for colour in (patch.get_facecolor(), patch.get_edgecolor()):
            if colour[3] == 0:  # "none"
                continue
            assert to_hex(colour) in allowed, patch
    for text in _texts(fig):
        assert to_hex(text.get_color()) in allowed


def test_deterministic_svg(prisma):
    def svg() -> str:
        buf = io.StringIO()
        prisma_flow_diagram(prisma).savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()

    first = svg()
    assert first == svg()
    # svg.fonttype "none": the counts are real, searchable text
    assert "n = 1,018" in first
    assert "n = 6" in first


# --- errors -------------------------------------------------------------------
@pytest.mark.parametrize("missing", REQUIRED_ROWS)
def test_missing_required_row_raises(prisma, missing):
    table = prisma[prisma["data"] != missing]
    with pytest.raises(ValueError, match=missing):
        prisma_flow_diagram(table)
    with pytest.raises(ValueError, match=missing):
        prisma_alt_text(table)


def test_missing_column_raises(prisma):
    with pytest.raises(ValueError, match="column"):
        prisma_flow_diagram(prisma.drop(columns="n"))


# --- alt text -----------------------------------------------------------------
def test_alt_text_real_table(prisma):
    alt = prisma_alt_text(prisma)
    assert "\n" not in alt
    assert "1,018" in alt
    assert "6 studies included" in alt
    assert "not reported" in alt
    assert "records screened is not reported" in alt
    assert "duplicate records is not reported" in alt
    assert " 0 " not in alt


def test_alt_text_full_table(prisma):
    alt = prisma_alt_text(_full(prisma))
    for number in ("1,018", "12", "18", "1,009", "950", "59", "57", "51", "9"):
        assert number in alt
    assert "not reported" not in alt


# --- layout (computed without drawing) ----------------------------------------
DBR_KEYS = [
    "identified",
    "removed",
    "screened",
    "records_excluded",
    "sought",
    "not_retrieved",
    "assessed",
    "reports_excluded",
    "included",
]
OTHER_KEYS = ["other_identified", "other_sought", "other_not_retrieved", "other_assessed", "other_excluded"]
REASONS = {
    "dbr_excluded": "Wrong population, 20; Not randomised, 25; Conference abstract only, 6",
    "other_excluded": "Wrong design, 3; Duplicate publication",
}


def _with_reasons(prisma: pd.DataFrame) -> pd.DataFrame:
    table = _full(prisma)
    table["reasons"] = table["reasons"].astype("object")
    for key, text in REASONS.items():
        table.loc[table["data"] == key, "reasons"] = text
    return table


def _variant(prisma: pd.DataFrame, variant: str) -> pd.DataFrame:
    return {"real": lambda t: t, "full": _full, "reasons": _with_reasons}[variant](prisma)


def _fake_meter(text: str, props) -> tuple[float, float]:
    """Font-free text size: 0.07 in per character of the longest line, 0.17 in per line."""
    lines = text.split("\n")
    size = props["fontsize"] / 9.0
    w, h = 0.07 * size * max(len(line) for line in lines), 0.17 * size * len(lines)
    return (h, w) if props.get("rotation") == 90 else (w, h)


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def _svg_texts(svg: str) -> list[tuple[str, str]]:
    """(gid, text) of every text group of an SVG, in document order; one line per ``<text>``."""
    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for group in ET.fromstring(svg).iter(f"{ns}g"):
        gid = group.get("id", "")
        if gid.endswith("-text") or gid.startswith("footnote-"):
            out.append((gid, "\n".join(t.text or "" for t in group.iter(f"{ns}text"))))
    return out


def _n_values(text: str, not_reported: str = "not reported") -> list[int | None]:
    """The counts printed as ``(n = ...)`` in a box text, in order (``None`` for not reported)."""
    values = []
    for token in re.findall(r"\(n = ([^()]*)\)", re.sub(r"\s+", " ", text)):
        token = token.rstrip("\u2020")
        values.append(None if token == not_reported else int(token.replace(",", "")))
    return values


def _reason_counts(text: str | None) -> list[int | None]:
    out = []
    for part in (text or "").split(";"):
        label, _sep, tail = part.rpartition(",")
        out.append(int(tail) if label and tail.strip().isdigit() else None)
    return [n for n in out if n is not None]


def test_public_signature_unchanged():
    params = inspect.signature(prisma_flow_diagram).parameters
    assert list(params) == ["prisma", "other_methods", "not_reported_text"]
    assert params["other_methods"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["other_methods"].default is False
    assert params["not_reported_text"].default == "not reported"


@pytest.mark.parametrize("other_methods", [False, True])
def test_layout_box_texts_in_order(prisma, other_methods):
    layout = prisma_layout(prisma, other_methods=other_methods)
    assert isinstance(layout, PrismaLayout)
    assert [box.key for box in layout.boxes] == DBR_KEYS + (OTHER_KEYS if other_methods else [])
    assert [p.text for p in layout.phases] == ["Identification", "Screening", "Included"]
    assert len(layout.headers) == (2 if other_methods else 1)
    # the SVG draws exactly the layout's texts, in reading order: boxes, phase labels, headers, footnotes
    items = layout.boxes + layout.phases + layout.headers
    expected = [(f"{item.key}-text", item.text) for item in items]
    expected += [(f"footnote-{i}", note.text) for i, note in enumerate(layout.footnotes)]
    assert _svg_texts(_svg(prisma_flow_diagram(prisma, other_methods=other_methods))) == expected


@pytest.mark.parametrize("other_methods", [False, True])
@pytest.mark.parametrize("variant", ["real", "full", "reasons"])
@pytest.mark.parametrize("meter", ["agg", "fake"])
def test_layout_boxes_do_not_overlap(prisma, variant, other_methods, meter):
    measure = _fake_meter if meter == "fake" else None
    layout = prisma_layout(_variant(prisma, variant), other_methods=other_methods, measure=measure)
    rects = layout.boxes + layout.headers + layout.phases
    for a, b in itertools.combinations(rects, 2):
        assert not a.overlaps(b), (a.key, b.key)
    for r in rects:
        assert r.w > 0 and r.h > 0, r.key
        assert 0 <= r.x and r.x + r.w <= layout.width, r.key
        assert 0 <= r.y and r.y + r.h <= layout.height, r.key
    for note in layout.footnotes:  # below every box
        assert all(note.y < r.y for r in rects)
    # boxes of one row share their top and height; columns do not drift
    for a, b in itertools.combinations(layout.boxes, 2):
        if a.y + a.h == pytest.approx(b.y + b.h):
            assert a.h == pytest.approx(b.h)


@pytest.mark.parametrize("other_methods", [False, True])
def test_layout_text_fits_its_box_with_fake_meter(prisma, other_methods):
    """Without any font: each wrapped text, as the meter measures it, fits inside its box's padding."""
    layout = prisma_layout(_full(prisma), other_methods=other_methods, measure=_fake_meter)
    for box in layout.boxes:
        w, h = _fake_meter(box.text, {"fontsize": 9.0})
        assert w <= box.w - 2 * PAD_X + 1e-9, box.key
        assert h <= box.h - 2 * PAD_Y + 1e-9, box.key
        assert box.anchor == pytest.approx((box.x + box.w / 2, box.y + box.h / 2))
    # the long automation-tools line had to wrap, with a hanging indent
    removed = layout.box("removed").text.splitlines()
    assert len(removed) > 4
    assert any(line.startswith("    ") for line in removed)


@pytest.mark.parametrize("other_methods", [False, True])
def test_layout_arrows_connect_existing_boxes(prisma, other_methods):
    layout = prisma_layout(prisma, other_methods=other_methods)
    boxes = {box.key: box for box in layout.boxes}

    def on_border(point, box) -> bool:
        x, y = point
        inside = box.x - 1e-9 <= x <= box.x + box.w + 1e-9 and box.y - 1e-9 <= y <= box.y + box.h + 1e-9
        edge = min(abs(x - box.x), abs(x - box.x - box.w), abs(y - box.y), abs(y - box.y - box.h))
        return inside and edge < 1e-9

    for arrow in layout.arrows:
        assert arrow.source in boxes and arrow.target in boxes, arrow
        assert arrow.source != arrow.target
        assert len(arrow.points) >= 2
        assert on_border(arrow.points[0], boxes[arrow.source]), arrow
        assert on_border(arrow.points[-1], boxes[arrow.target]), arrow
        for (x0, y0), (x1, y1) in itertools.pairwise(arrow.points):  # straight segments, no overlap with boxes
            assert x0 == pytest.approx(x1) or y0 == pytest.approx(y1)
    assert len(layout.arrows) == (13 if other_methods else 8)
    assert len({(a.source, a.target) for a in layout.arrows}) == len(layout.arrows)
    # every box is reached, and only "identified" boxes start the flow
    touched = {a.source for a in layout.arrows} | {a.target for a in layout.arrows}
    assert touched == set(boxes)
    starts = set(boxes) - {a.target for a in layout.arrows}
    assert starts == ({"identified", "other_identified"} if other_methods else {"identified"})
    # the figure draws one arrow head per arrow and one line per elbow
    fig = draw_prisma_layout(layout)
    assert len(fig.findobj(FancyArrowPatch)) == len(layout.arrows)
    elbows = sum(len(a.points) > 2 for a in layout.arrows)
    assert sum(isinstance(line, Line2D) for line in fig.axes[0].lines) == elbows


@pytest.mark.parametrize("other_methods", [False, True])
@pytest.mark.parametrize("variant", ["real", "full", "reasons"])
def test_layout_counts_equal_data(prisma, variant, other_methods):
    table = _variant(prisma, variant)
    counts = prisma_counts(table)
    reasons = REASONS if variant == "reasons" else {}
    layout = prisma_layout(table, other_methods=other_methods)
    shown = []
    for box in layout.boxes:
        values = _n_values(box.text)
        assert values[: len(box.counts)] == [counts.get(key) for key in box.counts], box.key
        extra = [n for key in box.counts for n in _reason_counts(reasons.get(key))]
        assert values[len(box.counts) :] == extra, box.key
        assert box.not_reported == all(counts.get(key) is None for key in box.counts), box.key
        shown += box.counts
    assert len(shown) == len(set(shown))  # no count is printed twice
    assert set(REQUIRED_ROWS) <= set(shown)
    if variant == "real":
        assert _n_values(layout.box("identified").text) == [1018, None]
        assert _n_values(layout.box("included").text) == [6, None]


@pytest.mark.parametrize("other_methods", [False, True])
def test_drawing_follows_layout(prisma, other_methods):
    layout = prisma_layout(_with_reasons(prisma), other_methods=other_methods)
    fig = draw_prisma_layout(layout)
    assert tuple(fig.get_size_inches()) == pytest.approx((layout.width, layout.height))
    texts = {t.get_gid(): t for t in _texts(fig)}
    for item in layout.boxes + layout.headers + layout.phases:
        patch = _box_patch(fig, item.key)
        bounds = (patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height())
        assert bounds == pytest.approx((item.x, item.y, item.w, item.h)), item.key
        text = texts[f"{item.key}-text"]
        assert text.get_text() == item.text
        assert text.get_position() == pytest.approx(item.anchor)
