"""Every figure is legible at the size it is shown (issue 11, item 3): its smallest text is at least 7 pt
on the web page at a 1280 px window and in the PDF.

The figures are read from the chapter notebooks' stored outputs (``chapters/*.ipynb``, the SVG that the
build shows: ``tests/test_notebooks.py`` checks that a fresh execution gives the same). Each is an SVG whose
text stays text (the book's ``svg.fonttype = "none"``), so its font sizes can be read: a figure of natural
width W pt (its ``width``) and viewBox width V user units shows a font size of s user units at
s x W / V pt at its natural size, and at s x shown / V pt once scaled to a shown width in pt.

* HTML: an image is shown at its natural width, or at the article column's width where it is wider
  (:data:`HTML_COLUMN_CSS_PX`; ``tests/test_browser_layout.py`` measures that the figures really are shown
  that wide at 1280 px).
* PDF: Sphinx's ``\\sphinxincludegraphics`` scales an image down to the text width, and further if it is
  taller than its maximum height (``book/_latex/manuscript.sty``: a fraction of the text height); the
  page is ``manuscript_page`` in ``book/_config.yml``.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache

import pytest
import yaml

from helpers.notebooks import chapter_notebooks
from helpers.paths import ROOT

#: The smallest text a figure may show, in points.
MIN_PT = 7.0
#: Width of the article column at a 1280 px browser window, in CSS px: what a wider figure is scaled to.
#: tests/test_browser_layout.py (test_figures_are_shown_at_least_as_wide_as_the_column_assumed_here)
#: measures every figure's shown width in Chromium, so this number cannot silently go wrong.
HTML_COLUMN_CSS_PX = 660
CSS_PX_PER_PT = 4 / 3
PT_PER_CM = 72 / 2.54
SVG = "{http://www.w3.org/2000/svg}"


@cache
def pdf_box_pt() -> tuple[float, float]:
    """The largest (width, height) the PDF shows a figure at, in pt: the text width, and the maximum image
    height (``\\spx@image@maxheight``, a fraction of the text height, set in manuscript.sty)."""
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    page = config["sphinx"]["config"]["manuscript_page"]
    sty = (ROOT / "book" / "_latex" / "manuscript.sty").read_text(encoding="utf-8")
    found = re.search(r"\\spx@image@maxheight\s*=\s*([\d.]*)\\textheight", sty)
    fraction = float(found.group(1) or 1) if found else 1.0  # Sphinx's default: the whole text height
    width = (page["width_cm"] - 2 * page["margin_cm"]) * PT_PER_CM
    height = (page["height_cm"] - 2 * page["margin_cm"]) * PT_PER_CM
    return width, fraction * height


# --------------------------------------------------------------------------- #
# Reading an SVG: its natural size and the font size of every piece of text
# --------------------------------------------------------------------------- #
_LENGTH = re.compile(r"^\s*([\d.]+(?:e[-+]?\d+)?)\s*(px|pt|pc|in|cm|mm|em|%)?\s*$", re.IGNORECASE)
_TO_PT = {"": 0.75, "px": 0.75, "pt": 1.0, "pc": 12.0, "in": 72.0, "cm": PT_PER_CM, "mm": PT_PER_CM / 10}


def _length_pt(value: str) -> float:
    """An SVG width or height in pt (px and unitless are CSS px)."""
    m = _LENGTH.match(value)
    if not m or (m.group(2) or "").lower() in ("em", "%"):
        raise ValueError(f"cannot read the length {value!r}")
    return float(m.group(1)) * _TO_PT[(m.group(2) or "").lower()]


def _font_size(value: str, inherited: float) -> float | None:
    """A CSS font size in the SVG's user units (CSS px); relative sizes from the inherited one."""
    m = _LENGTH.match(value)
    if not m:
        return None
    number, unit = float(m.group(1)), (m.group(2) or "").lower()
    if unit == "em":
        return number * inherited
    if unit == "%":
        return number / 100 * inherited
    return number * _TO_PT[unit] / _TO_PT["px"]


def _own_font_size(el: ET.Element, inherited: float) -> float:
    """The element's font size: the presentation attribute, then its style (later declarations win; the
    ``font`` shorthand's size is the token with a unit, ``font: italic 700 9px 'DejaVu Sans'``)."""
    size = inherited
    if el.get("font-size"):
        size = _font_size(el.get("font-size", ""), inherited) or size
    for declaration in (el.get("style") or "").split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "font-size":
            size = _font_size(value, inherited) or size
        elif name == "font":
            for token in value.split():
                token = token.split("/")[0]  # font: 9px/1.2 sans-serif
                if re.fullmatch(r"[\d.]+(px|pt|pc|in|cm|mm|em|%)", token, re.IGNORECASE):
                    size = _font_size(token, inherited) or size
                    break
    return size


def _scale(transform: str | None) -> float:
    """How much a transform scales lengths (the square root of its determinant): rotate and translate 1."""
    factor = 1.0
    for name, args in re.findall(r"(\w+)\s*\(([^)]*)\)", transform or ""):
        values = [float(v) for v in re.split(r"[\s,]+", args.strip()) if v]
        if name == "scale":
            sx, sy = values[0], values[1] if len(values) > 1 else values[0]
            factor *= math.sqrt(abs(sx * sy))
        elif name == "matrix":
            a, b, c, d = values[:4]
            factor *= math.sqrt(abs(a * d - b * c))
    return factor


@dataclass(frozen=True)
class SvgFigure:
    """A figure's natural size in pt, its viewBox size, and the font sizes of its text in user units."""

    width_pt: float
    height_pt: float
    view_width: float
    font_sizes: tuple[float, ...]

    @classmethod
    def parse(cls, svg: str) -> SvgFigure:
        root = ET.fromstring(svg)
        box = [float(v) for v in re.split(r"[\s,]+", (root.get("viewBox") or "").strip()) if v]
        width = _length_pt(root.get("width")) if root.get("width") else None
        height = _length_pt(root.get("height")) if root.get("height") else None
        if len(box) != 4 and (width is None or height is None):
            raise ValueError("an SVG without a viewBox needs a width and a height")
        view_w, view_h = (box[2], box[3]) if len(box) == 4 else (width / 0.75, height / 0.75)  # type: ignore[operator]
        if width is None and height is None:  # no size given: user units taken as pt (as matplotlib writes them)
            width, height = view_w, view_h
        elif width is None:
            width = height * view_w / view_h  # type: ignore[operator]
        elif height is None:
            height = width * view_h / view_w
        sizes: list[float] = []

        def walk(el: ET.Element, inherited: float, factor: float) -> None:
            factor *= _scale(el.get("transform"))
            size = _own_font_size(el, inherited)
            if el.tag in (f"{SVG}text", f"{SVG}tspan"):
                direct = (el.text or "") + "".join(child.tail or "" for child in el)
                if direct.strip():
                    sizes.append(size * factor)
            for child in el:
                walk(child, size, factor)

        walk(root, 16.0, 1.0)  # 16 px: the CSS initial font size
        return cls(width, height, view_w, tuple(sizes))

    @property
    def smallest_font(self) -> float | None:
        """The smallest font size at the natural size, in pt (None: no text)."""
        return min(self.font_sizes) * self.width_pt / self.view_width if self.font_sizes else None

    def shown_pt(self, max_width_pt: float, max_height_pt: float = math.inf) -> float | None:
        """The smallest font size in pt when the figure is scaled down (never up) to fit the given box."""
        smallest = self.smallest_font
        if smallest is None:
            return None
        return smallest * min(1.0, max_width_pt / self.width_pt, max_height_pt / self.height_pt)


def targets() -> dict[str, tuple[float, float]]:
    """Where a figure is shown: the largest (width, height) in pt it is shown at."""
    pdf_w, pdf_h = pdf_box_pt()
    return {
        f"HTML at 1280 px (column {HTML_COLUMN_CSS_PX} px)": (HTML_COLUMN_CSS_PX / CSS_PX_PER_PT, math.inf),
        f"PDF (text width {pdf_w:.1f} pt, image height up to {pdf_h:.1f} pt)": (pdf_w, pdf_h),
    }


def too_small(figures: dict[str, str], minimum: float = MIN_PT) -> list[str]:
    """One line per figure whose smallest text is below ``minimum`` pt where it is shown, with what was
    measured; empty when every figure is legible."""
    problems = []
    for name, svg in figures.items():
        fig = SvgFigure.parse(svg)
        if fig.smallest_font is None:
            continue
        shown = {where: fig.shown_pt(*box) for where, box in targets().items()}
        low = {where: pt for where, pt in shown.items() if pt is not None and pt < minimum - 1e-9}
        if low:
            measured = "; ".join(f"{where}: {pt:.2f} pt" for where, pt in shown.items())
            problems.append(
                f"{name}: natural size {fig.width_pt:.0f} x {fig.height_pt:.0f} pt "
                f"({fig.width_pt * CSS_PX_PER_PT:.0f} px wide), smallest text {fig.smallest_font:.1f} pt; "
                f"smallest text shown: {measured} (below {minimum:g} pt)"
            )
    return problems


# --------------------------------------------------------------------------- #
# The book's figures, from the stored notebook outputs
# --------------------------------------------------------------------------- #
GLUE_FIGURE = re.compile(r"^```\{glue:figure\}\s+(\S+)", re.MULTILINE)


@cache
def book_figures() -> dict[str, str]:
    """Every SVG output of every chapter notebook, shown or glued (``display=False`` glue is stored as
    ``application/papermill.record/image/svg+xml``): "notebook: glue name" -> SVG text."""
    figures = {}
    for path in chapter_notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            for j, out in enumerate(cell.get("outputs", [])):
                for mime, data in out.get("data", {}).items():
                    if mime == "image/svg+xml" or mime.endswith("/image/svg+xml"):
                        name = out.get("metadata", {}).get("scrapbook", {}).get("name") or f"cell {i}, output {j}"
                        figures[f"{path.stem}: {name}"] = "".join(data) if isinstance(data, list) else data
    return figures


def glued_figure_names() -> set[str]:
    """Every ``{glue:figure}`` of the chapters' markdown, as "notebook: glue name"."""
    names = set()
    for path in chapter_notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                names |= {f"{path.stem}: {key}" for key in GLUE_FIGURE.findall(source)}
    return names


def test_every_figure_of_the_book_is_read():
    """Each figure the chapters show is among the SVGs checked, and each has text to check."""
    figures = book_figures()
    assert glued_figure_names() <= set(figures), sorted(glued_figure_names() - set(figures))
    assert len(figures) >= 10
    assert all(SvgFigure.parse(svg).smallest_font for svg in figures.values())


def test_every_figure_is_legible_where_it_is_shown():
    if problems := too_small(book_figures()):
        pytest.fail(
            f"{len(problems)} figure(s) with text below {MIN_PT:g} pt where shown:\n" + "\n".join(problems),
            pytrace=False,
        )


def test_the_pdf_box_comes_from_the_page_settings():
    width, height = pdf_box_pt()
    assert width == pytest.approx(16 / 2.54 * 72)  # A4 less 2 x 2.5 cm
    assert height == pytest.approx(0.8 * 24.7 / 2.54 * 72)  # manuscript.sty: 0.8 of the text height


# --------------------------------------------------------------------------- #
# The check itself, on synthetic SVGs
# --------------------------------------------------------------------------- #
def _svg(width_pt: float, height_pt: float, body: str, view: float | None = None) -> str:
    view = width_pt if view is None else view
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_pt}pt" height="{height_pt}pt" '
        f'viewBox="0 0 {view} {height_pt * view / width_pt}">{body}</svg>'
    )


def test_the_check_fails_for_small_text_and_passes_otherwise():
    narrow = _svg(400, 200, "<text style=\"font-size: 9px; font-family: 'DejaVu Sans'\">a</text>")
    assert too_small({"narrow": narrow}) == []  # shown at natural size: 9 pt
    # 720 pt wide: 9 pt text shown at 9 x 495 / 720 = 6.19 pt in HTML and 9 x 453.5 / 720 = 5.67 pt in the PDF
    wide = _svg(720, 200, "<text style=\"font-size: 9px; font-family: 'DejaVu Sans'\">a</text>")
    (problem,) = too_small({"wide": wide})
    assert problem.startswith("wide: natural size 720 x 200 pt (960 px wide), smallest text 9.0 pt")
    assert "HTML at 1280 px (column 660 px): 6.19 pt" in problem and ": 5.67 pt" in problem
    # at 583 pt the PDF shows 9 pt text at 7.00 pt; a little wider fails in the PDF only
    assert too_small({"edge": _svg(583, 200, '<text style="font-size: 9px">a</text>')}) == []
    (pdf_only,) = too_small({"edge": _svg(590, 200, '<text style="font-size: 9px">a</text>')})
    assert "HTML at 1280 px (column 660 px): 7.55 pt" in pdf_only and "PDF" in pdf_only
    # small text at natural size
    assert too_small({"small": _svg(300, 100, '<text style="font-size: 6.5px">a</text>')})
    # a tall figure is scaled to the PDF's image height: 9 pt at 1000 pt tall is 9 x 560.1 / 1000 = 5.04 pt
    (tall,) = too_small({"tall": _svg(300, 1000, '<text style="font-size: 9px">a</text>')})
    assert "HTML at 1280 px (column 660 px): 9.00 pt" in tall and ": 5.04 pt" in tall


@pytest.mark.parametrize(
    "body, expected",
    [
        ("<text style=\"font: 9px 'DejaVu Sans'\">a</text>", 9),  # matplotlib's older shorthand
        ("<text style=\"font: italic 700 8px/1.2 'DejaVu Sans'\">a</text>", 8),  # a bare 700 is the weight
        ('<text font-size="9">a</text><text font-size="6pt">b</text>', 8),  # 6 pt = 8 user units (px)
        ('<text font-size="12" style="font-size: 7px">a</text>', 7),  # the style wins over the attribute
        ('<g style="font-size: 10px"><text>a<tspan style="font-size: 0.6em">b</tspan></text></g>', 6),
        ('<g style="font-size: 10px"><text>a</text><text style="font-size: 50%">  </text></g>', 10),  # blank
        ('<g transform="scale(0.5)"><text style="font-size: 12px">a</text></g>', 6),
        ('<text transform="matrix(0.5 0 0 0.5 10 10)" style="font-size: 12px">a</text>', 6),
        ('<text transform="rotate(-90 10 10) translate(3 4)" style="font-size: 12px">a</text>', 12),
        ("<text>a</text>", 16),  # the CSS initial size
    ],
)
def test_font_sizes_are_read_from_every_way_an_svg_gives_them(body, expected):
    assert SvgFigure.parse(_svg(300, 100, body)).smallest_font == pytest.approx(expected)


def test_user_units_are_scaled_to_the_natural_size():
    # viewBox twice as wide as the natural width: a font size of 18 user units is 9 pt at the natural size
    fig = SvgFigure.parse(_svg(400, 100, '<text style="font-size: 18px">a</text>', view=800))
    assert fig.smallest_font == pytest.approx(9)
    assert SvgFigure.parse(_svg(400, 100, '<rect width="1" height="1"/>')).smallest_font is None
    px = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="800px" height="100px" viewBox="0 0 600 75"><text>a</text></svg>'
    )
    assert SvgFigure.parse(px).width_pt == pytest.approx(600)
