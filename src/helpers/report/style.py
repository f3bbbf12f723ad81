"""One plot style for every figure of the book.

Colours come from the Okabe-Ito palette, which stays distinguishable under the
common colour-vision deficiencies; every figure also carries text labels or
markers, so no meaning depends on colour alone. The rcParams below also make the
SVG output reproducible (fixed hash salt, no creation date), so two builds of one
commit give byte-identical figures.
"""

from __future__ import annotations

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

#: Colours by role, so chapters agree on what a colour means.
ROLE_COLOURS = {
    "il2": OKABE_ITO["blue"],
    "placebo": OKABE_ITO["orange"],
    "control": OKABE_ITO["orange"],
    "pooled_fixed": OKABE_ITO["black"],
    "pooled_random": OKABE_ITO["vermillion"],
    "prediction": OKABE_ITO["bluish_green"],
    "not_reported": OKABE_ITO["grey"],
}

BOOK_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",  # text stays text: searchable, selectable, screen-reader friendly
    "svg.hashsalt": "il2-sle-review",  # deterministic element ids
    "pdf.fonttype": 42,
}


def use_book_style() -> None:
    """Apply the book's rcParams (idempotent)."""
    import matplotlib as mpl  # imported on first drawing, not by every helper that needs a colour

    mpl.rcParams.update(BOOK_RC)


def as_svg(fig):
    """The figure as an IPython SVG object: vector, and byte-identical between runs.

    Used instead of the inline backend so the output does not depend on which
    matplotlib backend a kernel picked, and so no creation date is written.
    """
    import io

    from IPython.display import SVG
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return SVG(buf.getvalue())
