"""This book's own selection flow: the studies it considered, and which it includes, keeps as
candidates or excludes, drawn beside the review's PRISMA figure.

Layout first (:func:`flow_layout`: boxes with their text, in axes units), drawing second
(:func:`selection_flow_figure`), so the layout can be tested without rendering.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from helpers.report.style import use_book_style

WRAP = 28


@dataclass(frozen=True)
class FlowBox:
    """A box's horizontal centre (axes units), its title and its lines; matplotlib sizes the box to its text."""

    centre: float
    title: str
    lines: tuple[str, ...]


def _lines(names: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        out += textwrap.wrap(name, WRAP, subsequent_indent="  ") or [""]
    return tuple(out)


def flow_layout(groups: dict[str, list[str]], considered: int) -> list[FlowBox]:
    """One box for the studies considered and one per group (included, candidate, excluded) side by side,
    each listing its studies."""
    width = 0.31  # a group's column, with 0.025 between columns
    boxes = [FlowBox(0.5, f"Studies considered (n = {considered})", ())]
    for i, (title, names) in enumerate(groups.items()):
        boxes.append(FlowBox(0.02 + i * (width + 0.025) + width / 2, f"{title} (n = {len(names)})", _lines(names)))
    return boxes


def selection_flow_figure(groups: dict[str, list[str]], considered: int):
    """The flow as a matplotlib Figure: the considered box above, arrows down to each group's box.

    Each box is sized by matplotlib to its text (so no text can leave its box); the layout gives
    the anchor points.
    """
    use_book_style()
    from matplotlib.figure import Figure

    boxes = flow_layout(groups, considered)
    tallest = max(len(b.lines) for b in boxes)
    fig = Figure(figsize=(7.0, 1.5 + 0.2 * tallest))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    frame = {"boxstyle": "square,pad=0.5", "fc": "white", "ec": "black", "lw": 1.2}
    top = ax.text(0.5, 0.95, boxes[0].title, ha="center", va="top", fontsize=10, fontweight="bold", bbox=frame)
    for b in boxes[1:]:
        name, count = b.title.rsplit(" (", 1)
        text = ax.text(
            b.centre,
            0.68,
            f"{name}\n({count}\n\n" + "\n".join(b.lines),
            ha="center",
            va="top",
            fontsize=9,
            linespacing=1.3,
            bbox=frame,
        )
        ax.annotate(
            "",
            xy=(0.5, 1.0),
            xycoords=text,
            xytext=(0.5, 0.0),
            textcoords=top,
            arrowprops={"arrowstyle": "-|>", "lw": 1, "color": "black", "shrinkA": 6, "shrinkB": 6},
        )
    return fig


def selection_flow_alt(groups: dict[str, list[str]], considered: int) -> str:
    parts = [f"{title}, {len(names)}: {', '.join(names)}" for title, names in groups.items()]
    return f"Flow diagram: {considered} studies considered, divided into three groups. " + ". ".join(parts) + "."
