"""Tests of the PRISMA 2020 flow diagram (``helpers.prisma``)."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Patch
from matplotlib.text import Text

from helpers.paths import ROOT
from helpers.prisma import (
    REQUIRED_ROWS,
    prisma_alt_text,
    prisma_counts,
    prisma_flow_diagram,
)
from helpers.style import OKABE_ITO

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
