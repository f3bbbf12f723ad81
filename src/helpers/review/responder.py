"""Responder indices side by side: what each study reports for each index, judged by one rule.

For every included study and time point, each index (SRI-4, SRI, SELENA-SLEDAI, BILAG score,
PGA, lupus nephritis remission) is put in one category from the data, by one rule for every
between-arm comparison: the risk ratio of responding and its 95% CI, recomputed here from the
counts. Its interval *excludes no difference* (RR = 1) or *includes no difference*; that is the
only criterion. The trial's own between-arm p-value is shown beside it, never used to decide,
and it is checked against the counts: the four tests of a 2×2 table a report may have used
(:mod:`helpers.stats.two_by_two`: Pearson, Yates and 'N − 1' chi-square, Fisher's exact test)
are recomputed, and a reported p that none of them reproduces at its reported precision
(:mod:`helpers.stats.reported`) is flagged as such. Where a trial reports a between-arm
difference without counts, nothing can be recomputed, and the cell says so; a within-arm result
(against baseline, or a count of responders with no comparator) is a within-arm result only.

The chapter describes; it does not rank the indices by sensitivity (the review's answer to that
question is not in its abstracts). Counts of patients who are in a state after treatment (free of
BILAG A or 2 B) are not responses: :func:`state_counts` shows why such an outcome is not a responder
index here (:data:`STATE_OUTCOMES`; protocol amendment 1.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.labels import POPULATION_LABELS, TEST_LABELS, timepoint_label, timepoint_text
from helpers.report.prose import fmt_ci, fmt_pct
from helpers.report.style import OKABE_ITO, use_book_style
from helpers.review.analyses import RESULT_COLUMNS, results_of, study_effects, two_arm_counts
from helpers.review.selection import single_trial

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn, so computing results does not load it
    from matplotlib.figure import Figure

#: Indices compared, in display order: outcome -> label.
INDICES = {
    "sri4": "SRI-4",
    "sri_unspecified": "SRI (threshold not stated)",
    "clinical_response_unspecified": "Clinical response (definition not stated)",
    "sledai_reduction_any": "SLEDAI reduction (any)",
    "selena_sledai": "SELENA-SLEDAI",
    "selena_sledai_change": "SELENA-SLEDAI change",
    "bilag": "BILAG score",
    "pga": "PGA",
    "ln_complete_remission": "Nephritis complete remission",
}
#: Counts of patients *in a state* at each visit (not a change from baseline): not responder indices.
STATE_OUTCOMES = ("bilag_a_or_2b",)

#: Significance level of the within-arm p-values shown in the categories.
ALPHA = 0.05

EXCLUDES = "interval excludes no difference"
INCLUDES = "interval includes no difference"
REPORTED_ONLY = "difference vs placebo reported, no counts to recompute"
WITHIN_ONLY = "within-arm result only (no comparison with placebo)"
NOT_REPORTED = "not reported"
CATEGORIES = (EXCLUDES, INCLUDES, REPORTED_ONLY, WITHIN_ONLY, NOT_REPORTED)
#: Colour and symbol per category: the symbol carries the meaning without colour.
CATEGORY_STYLE = {
    EXCLUDES: (OKABE_ITO["bluish_green"], "▲"),
    INCLUDES: (OKABE_ITO["orange"], "●"),
    REPORTED_ONLY: (OKABE_ITO["yellow"], "◇"),
    WITHIN_ONLY: (OKABE_ITO["sky_blue"], "◆"),
    NOT_REPORTED: ("#FFFFFF", "–"),
}
#: Marks a cell whose reported between-arm p no 2×2 test on the counts reproduces.
NOT_REPRODUCED_MARK = "‡"


# ---------------------------------------------------------------------------
# A reported between-arm p-value against the counts
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PCheck:
    """A trial's reported between-arm p and the p-values of the 2×2 tests on the counts behind its RR."""

    reported: str
    #: (test, p) in the order of helpers.stats.two_by_two.TESTS
    recomputed: tuple[tuple[str, float], ...]
    reproduced_by: tuple[str, ...]

    @property
    def reproduced(self) -> bool:
        return bool(self.reproduced_by)

    #: the counts were derived (from percentages and arm sizes), not reported
    derived: bool = False

    def describe(self, tests: tuple[str, ...] = ("pearson", "fisher")) -> str:
        """'reproduced by N − 1 χ²' or 'not reproduced by the counts (Pearson χ² 0.053, Fisher exact 0.097)'."""
        if self.reproduced:
            return "reproduced by " + ", ".join(TEST_LABELS[t] for t in self.reproduced_by)
        values = dict(self.recomputed)
        shown = ", ".join(f"{TEST_LABELS[t]} {fmt_p(values[t])}" for t in tests)
        return f"not reproduced by the {'derived ' if self.derived else ''}counts ({shown})"


def fmt_p(p: float) -> str:
    """A recomputed p to two significant digits ('0.053', '0.0156', '0.41'); NaN as 'not defined'."""
    if p != p:
        return "not defined"
    if p < 0.001:
        return "<0.001"
    return f"{float(f'{p:.2g}'):.{max(2, -int(np.floor(np.log10(p))) + 1)}f}"


def check_reported_p(e1: int, n1: int, e2: int, n2: int, p_text: str, derived: bool = False) -> PCheck:
    """Which 2×2 tests of e1/n1 vs e2/n2 reproduce the reported p at its precision.

    The statistics (scipy.stats) are imported here, so computing the results table does not load them.
    """
    from helpers.stats.reported import parse_reported
    from helpers.stats.two_by_two import TESTS, p_values

    reported = parse_reported(p_text)
    p = p_values(int(e1), int(n1), int(e2), int(n2))
    return PCheck(
        reported=reported.text,
        recomputed=tuple((t, p[t]) for t in TESTS),
        reproduced_by=tuple(t for t in TESTS if reported.reproduced_by(p[t])),
        derived=derived,
    )


# ---------------------------------------------------------------------------
# One cell of the matrix
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    category: str
    text: str
    p_check: PCheck | None = None


def _rr_text(rr: pd.Series) -> str:
    return "RR " + fmt_ci(rr["estimate"], rr["ci_low"], rr["ci_high"], label=False)


def _by_role(ev: Evidence, rows: pd.DataFrame, role: str) -> pd.DataFrame:
    arms = ev.arms.drop_duplicates(["study_id", "arm"]).set_index(["study_id", "arm"])["role"]
    mask = [arms.get((s, a)) == role for s, a in zip(rows["study_id"], rows["arm"])]
    return rows[pd.Series(mask, index=rows.index, dtype=bool)]


def _between_arm_p(*rows: pd.DataFrame) -> str | None:
    """The reported between-arm p of the comparison (carried by the IL-2 or the placebo row), if any."""
    for r in rows:
        r = r[(r["p_comparison"] == "between_arms") & r["p_value"].notna()]
        if len(r):
            return str(r["p_value"].iloc[0])
    return None


def _cell(ev: Evidence, study_id: str, timepoint: str, population: str, outcome: str) -> Cell:
    o = ev.outcomes
    rows = o[
        (o["study_id"] == study_id)
        & (o["timepoint"] == timepoint)
        & (o["population"] == population)
        & (o["outcome"] == outcome)
    ]
    il2, placebo = _by_role(ev, rows, "il2"), _by_role(ev, rows, "placebo")
    if il2.empty or (il2["statistic"] == "not_reported").all():
        return Cell(NOT_REPORTED, "")
    r = il2.iloc[0]
    if r["statistic"] == "qualitative":
        if r["direction"] == "between_arm_difference":
            return Cell(REPORTED_ONLY, "reported as different from placebo; no values to recompute")
        return Cell(WITHIN_ONLY, str(r["note"]))
    if r["statistic"] == "count" and not placebo.empty and pd.notna(placebo.iloc[0]["events"]):
        counts = two_arm_counts(ev, single_trial(outcome, timepoint, study_id, population))
        rr = study_effects(counts, "RR").iloc[0]
        excludes = bool(rr["ci_low"] > 1 or rr["ci_high"] < 1)
        text = _rr_text(rr)
        p_text = _between_arm_p(il2, placebo)
        check = None
        if p_text is not None:
            c = counts.iloc[0]
            check = check_reported_p(
                c["events_il2"], c["total_il2"], c["events_control"], c["total_control"], p_text, bool(c["derived"])
            )
            text += f"; reported p {p_text}, " + check.describe()
        return Cell(EXCLUDES if excludes else INCLUDES, text, check)
    if r["statistic"] == "count":
        share = 100 * r["events"] / r["total"]
        p = f"; p {r['p_value']} vs baseline" if r["p_comparison"] == "vs_baseline" else ""
        return Cell(WITHIN_ONLY, f"{int(r['events'])}/{int(r['total'])} ({fmt_pct(share, 0)}) responders{p}")
    # medians: a test as reported, with no counts to recompute an effect from
    if pd.isna(r["p_value"]):
        return Cell(NOT_REPORTED, "no test reported")
    if r["p_comparison"] == "between_arms":
        return Cell(REPORTED_ONLY, f"reported p {r['p_value']} vs placebo; no counts to recompute")
    text = f"IL-2 p {r['p_value']} vs baseline"
    if not placebo.empty and pd.notna(placebo.iloc[0]["p_value"]):
        text += f"; placebo p {placebo.iloc[0]['p_value']} vs baseline"
    return Cell(WITHIN_ONLY, text)


def columns(ev: Evidence) -> list[tuple[str, str, str]]:
    """(study_id, timepoint, population) with an IL-2 row for some index, in study order.

    Per-protocol populations are left out: the protocol reports a per-protocol result once, in words, in
    the efficacy chapter, and never counts it as a difference from placebo.
    """
    from helpers.evidence.protocol import load_protocol

    per_protocol = set(load_protocol().per_protocol_populations)
    o = _by_role(ev, ev.outcomes, "il2")
    o = o[o["outcome"].isin(INDICES) & (o["timepoint"] != "baseline") & ~o["population"].isin(per_protocol)]
    included = list(ev.included_studies()["study_id"])
    keys = {(s, t, p) for s, t, p in zip(o["study_id"], o["timepoint"], o["population"]) if s in included}
    order = {"week_6": 6, "week_12": 12, "week_24": 24, "end_of_study": 99}
    return sorted(keys, key=lambda k: (included.index(k[0]), order.get(k[1], 50), k[2]))


def column_label(ev: Evidence, key: tuple[str, str, str]) -> str:
    label = ev.study_labels[key[0]]
    return f"{label}, {timepoint_text(key[1], short=True)} ({POPULATION_LABELS.get(key[2], key[2])})"


def index_matrix(ev: Evidence) -> pd.DataFrame:
    """Long table: index x (study, time point, population) -> category and text."""
    rows = []
    for key in columns(ev):
        for outcome, label in INDICES.items():
            cell = _cell(ev, *key, outcome)
            rows.append(
                {
                    "index": label,
                    "outcome": outcome,
                    "column": column_label(ev, key),
                    "study_id": key[0],
                    "timepoint": key[1],
                    "population": key[2],
                    "category": cell.category,
                    "text": cell.text,
                    "p_reported": cell.p_check.reported if cell.p_check else pd.NA,
                    # True / False where a reported between-arm p is checked against the counts, else NA
                    "p_reproduced": cell.p_check.reproduced if cell.p_check else pd.NA,
                    "p_check": cell.p_check,
                }
            )
    return pd.DataFrame(rows)


def _not_reproduced(matrix: pd.DataFrame) -> pd.Series:
    return matrix["p_reproduced"].map(lambda v: v is False)


def index_table(matrix: pd.DataFrame) -> pd.DataFrame:
    """The matrix as a wide display table (symbol and text per cell; ‡ where the counts reproduce no reported p)."""
    shown = matrix.assign(
        cell=[
            (f"{CATEGORY_STYLE[c][1]}{NOT_REPRODUCED_MARK if flag else ''} {t}".strip() if c != NOT_REPORTED else t)
            or "not reported"
            for c, t, flag in zip(matrix["category"], matrix["text"], _not_reproduced(matrix))
        ]
    )
    wide = shown.pivot(index="index", columns="column", values="cell")
    wide = wide.reindex(index=list(dict.fromkeys(matrix["index"])), columns=list(dict.fromkeys(matrix["column"])))
    return wide.reset_index().rename(columns={"index": "Index"})


#: Heatmap geometry, inches: one cell, the gap between labels and grid, the margin round the figure.
HEATMAP_CELL = (0.42, 0.4)
HEATMAP_PAD, HEATMAP_MARGIN = 0.08, 0.05
#: Heatmap text, points: labels and legend; the symbols in the cells.
HEATMAP_FONT, HEATMAP_SYMBOL_FONT = 9.0, 11.0


def _index_header(label: str) -> str:
    """An index's column header: a bracketed qualifier on a line of its own, long names on two lines."""
    import textwrap

    if " (" in label:
        return label.replace(" (", "\n(", 1)
    return "\n".join(textwrap.wrap(label, 20))


def _study_label(column: str) -> str:
    """A study and time point's row label: the study on the first line, time point and population below."""
    return column.replace(", ", "\n", 1)


def index_heatmap(matrix: pd.DataFrame) -> Figure:
    """Study/time point (rows) by index (columns), coloured and marked by category (symbols readable without
    colour); the figure grows downwards as studies are added and stays as wide as the list of indices."""
    import matplotlib as mpl
    import seaborn
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    use_book_style()
    idx = list(dict.fromkeys(matrix["index"]))
    cols = list(dict.fromkeys(matrix["column"]))
    headers, row_labels = [_index_header(i) for i in idx], [_study_label(c) for c in cols]

    # the label sizes, measured before the figure is laid out (inches)
    renderer = FigureCanvasAgg(Figure(dpi=72)).get_renderer()
    prop = FontProperties(size=HEATMAP_FONT)

    def extent(text: str) -> float:
        return (
            max(renderer.get_text_width_height_descent(line, prop, ismath=False)[0] for line in text.split("\n")) / 72
        )

    cell_w, cell_h = HEATMAP_CELL
    label_w = max(extent(t) for t in row_labels) + HEATMAP_PAD
    header_h = max(extent(t) for t in headers) + HEATMAP_PAD  # rotated: their length is their height
    legend_gap = 0.15
    legend_h = (len(CATEGORIES) + 1) * HEATMAP_FONT * 1.5 / 72  # about: a line and half a line's spacing each
    grid_w, grid_h = cell_w * len(idx), cell_h * len(cols)
    width = HEATMAP_MARGIN + label_w + grid_w + HEATMAP_MARGIN
    height = HEATMAP_MARGIN + header_h + grid_h + legend_gap + legend_h + HEATMAP_MARGIN
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes(
        (
            (HEATMAP_MARGIN + label_w) / width,
            (HEATMAP_MARGIN + legend_h + legend_gap) / height,
            grid_w / width,
            grid_h / height,
        )
    )
    # seaborn draws the grid: each cell's category as a colour code, its symbol as the annotation
    codes = {c: i for i, c in enumerate(CATEGORIES)}
    grid = matrix.pivot(index="column", columns="index", values="category").reindex(index=cols, columns=idx)
    seaborn.heatmap(
        grid.map(codes.get).astype(float),
        annot=grid.map(lambda c: CATEGORY_STYLE[c][1]).to_numpy(),
        fmt="",
        annot_kws={"fontsize": HEATMAP_SYMBOL_FONT, "color": OKABE_ITO["black"]},
        cmap=ListedColormap([CATEGORY_STYLE[c][0] for c in CATEGORIES]),
        vmin=-0.5,
        vmax=len(CATEGORIES) - 0.5,
        linewidths=0.6,
        linecolor="#555555",
        cbar=False,
        ax=ax,
    )
    for r, flag in zip(matrix.itertuples(index=False), _not_reproduced(matrix)):
        if flag:
            x, y = idx.index(r.index), cols.index(r.column)
            ax.text(x + 0.93, y + 0.08, NOT_REPRODUCED_MARK, ha="right", va="top", fontsize=10, fontweight="bold")
    ax.set_xlim(0, len(idx))
    ax.set_ylim(len(cols), 0)
    ax.xaxis.tick_top()
    ax.set_xticks(
        np.arange(len(idx)) + 0.5, labels=headers, fontsize=HEATMAP_FONT, rotation=90, ha="center", va="bottom"
    )
    ax.set_yticks(np.arange(len(cols)) + 0.5, labels=row_labels, fontsize=HEATMAP_FONT, rotation=0, ha="right")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(length=0, pad=HEATMAP_PAD * 72 * 0.75)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    handles = [
        mpl.lines.Line2D(
            [],
            [],
            linestyle="none",
            marker="s",
            markersize=11,
            markerfacecolor=CATEGORY_STYLE[c][0],
            markeredgecolor="#555555",
            label=f"{CATEGORY_STYLE[c][1]}  {c}",
        )
        for c in CATEGORIES
    ]
    handles.append(
        mpl.lines.Line2D(
            [],
            [],
            linestyle="none",
            marker=f"${NOT_REPRODUCED_MARK}$",
            markersize=9,
            color=OKABE_ITO["black"],
            label="reported p not reproduced by the counts",
        )
    )
    fig.legend(
        handles=handles,
        loc="upper left",  # under the grid (the saved figure's tight box takes in the legend's exact height)
        ncol=1,
        frameon=False,
        fontsize=HEATMAP_FONT,
        bbox_to_anchor=(HEATMAP_MARGIN / width, (HEATMAP_MARGIN + legend_h) / height),
        borderaxespad=0.0,
    )
    return fig


def heatmap_alt_text(matrix: pd.DataFrame) -> str:
    parts = []
    for column, g in matrix.groupby("column", sort=False):
        flags = _not_reproduced(g)
        described = []
        for category in CATEGORIES[:-1]:
            names = [
                i + (" (reported p not reproduced by the counts)" if f else "")
                for i, c, f in zip(g["index"], g["category"], flags)
                if c == category
            ]
            if names:
                described.append(f"{category}: {', '.join(names)}")
        parts.append(f"{column}: " + ("; ".join(described) if described else "no index reported") + ".")
    return "Responder indices by study and time point. " + " ".join(parts)


# ---------------------------------------------------------------------------
# Between-arm effects of the binary indices on one scale (RCTs)
# ---------------------------------------------------------------------------
#: Order of analysis populations when a trial reports an index in several.
POPULATION_ORDER = ("itt", "analysed_efficacy", "per_protocol", "subgroup")
TIMEPOINT_ORDER = {"end_of_study": 999}


def _week(tp: str) -> int:
    return TIMEPOINT_ORDER.get(tp, int(tp.removeprefix("week_")) if tp.startswith("week_") else 500)


def side_by_side(ev: Evidence) -> list[tuple[str, str, str, str, str]]:
    """(index label, study_id, outcome, timepoint, population) of every binary index that an eligible
    randomised trial counts in an IL-2 and a placebo arm: by index, time point, trial, population."""
    from helpers.evidence.protocol import load_protocol
    from helpers.review.selection import count_rows, eligible_trials

    protocol = load_protocol()
    trials = list(eligible_trials(ev, protocol)["study_id"])
    keys = []
    for outcome in INDICES:
        rows = ev.outcomes[(ev.outcomes["outcome"] == outcome) & (ev.outcomes["timepoint"] != "baseline")]
        for tp in sorted(set(rows["timepoint"]), key=_week):
            counted = count_rows(ev, outcome, tp)
            for study_id in trials:
                mine = counted[counted["study_id"] == study_id]
                pops = [
                    p
                    for p in POPULATION_ORDER
                    if p not in protocol.per_protocol_populations  # reported once, in words, by the efficacy chapter
                    and {"il2"} <= set(mine.loc[mine["population"] == p, "role"])
                    and set(mine.loc[mine["population"] == p, "role"]) & set(protocol.comparators)
                ]
                for p in pops:
                    label = INDICES[outcome] + (f", {timepoint_label(tp).lower()}" if tp.startswith("week_") else "")
                    label += f" ({POPULATION_LABELS.get(p, p)})" if len(pops) > 1 else ""
                    keys.append((label, study_id, outcome, tp, p))
    return keys


def between_arm_effects(ev: Evidence) -> pd.DataFrame:
    """Risk ratio of responding (IL-2 vs placebo) for every binary index of the RCTs, one row each."""
    labels = ev.study_labels
    rows = []
    for index_label, study_id, outcome, timepoint, population in side_by_side(ev):
        a = single_trial(outcome, timepoint, study_id, population)
        counts = two_arm_counts(ev, a)
        rr = study_effects(counts, "RR").iloc[0]
        c = counts.iloc[0]
        cell = _cell(ev, study_id, timepoint, population, outcome)
        rows.append(
            {
                "study_id": study_id,
                "outcome": outcome,
                "timepoint": timepoint,
                "population": population,
                "category": cell.category,
                "p_reported": cell.p_check.reported if cell.p_check else pd.NA,
                "p_check": cell.p_check,
                "label": f"{labels[study_id]}: {index_label}",
                "index": index_label,
                "study": labels[study_id],
                "estimate": rr["estimate"],
                "ci_low": rr["ci_low"],
                "ci_high": rr["ci_high"],
                "weight": np.nan,
                "il2_text": f"{c['events_il2']}/{c['total_il2']}",
                "control_text": f"{c['events_control']}/{c['total_control']}",
                "derived": bool(c["derived"]),
            }
        )
    return pd.DataFrame(rows)


def comparison_table(effects: pd.DataFrame) -> pd.DataFrame:
    """Every binary index of the RCTs: counts, the recomputed RR, the one criterion, the reported p and its check."""
    from helpers.stats.two_by_two import TESTS

    rows = []
    for r in effects.itertuples(index=False):
        check: PCheck | None = r.p_check
        values = dict(check.recomputed) if check else {}
        rows.append(
            {
                "Trial and index": r.label,
                "IL-2 n/N": r.il2_text,
                "Placebo n/N": r.control_text,
                "RR (95% CI), recomputed": fmt_ci(r.estimate, r.ci_low, r.ci_high, label=False),
                "Interval": "excludes no difference" if r.category == EXCLUDES else "includes no difference",
                "Reported p": check.reported if check else "none reported",
                **{f"{TEST_LABELS[t]} p": fmt_p(values[t]) if check else "–" for t in TESTS},
                "Reported p reproduced by": (
                    ", ".join(TEST_LABELS[t] for t in check.reproduced_by) or f"none {NOT_REPRODUCED_MARK}"
                    if check
                    else "–"
                ),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# A state after treatment is not a response
# ---------------------------------------------------------------------------
def state_counts(ev: Evidence, outcome: str) -> pd.DataFrame:
    """Per randomised trial, arm and time point: patients in the state (e.g. with a BILAG A or 2 B score).

    Columns: study_id, label, role, timepoint, events, total, status, the arm's efficacy-set size
    (``arm_n``, from arms.csv, NA if none) and, after baseline, the bounds on how many of the patients
    in the state at baseline had left it: a count of patients at each visit cannot say *which* patients,
    so resolution among those affected at baseline is only known to lie between ``resolved_low`` and
    ``resolved_high``.
    """
    o = ev.outcomes.merge(ev.arms.drop_duplicates(["study_id", "arm"])[["study_id", "arm", "role"]])
    rcts = ev.included_studies().query("design == 'rct'")
    o = o[(o["outcome"] == outcome) & (o["statistic"] == "count") & o["events"].notna()]
    o = o[o["study_id"].isin(rcts["study_id"])]
    n = ev.arms[ev.arms["population"] == "analysed_efficacy"].set_index(["study_id", "arm"])["n"]
    labels = ev.study_labels
    rows = []
    for (study_id, arm, population), g in o.groupby(["study_id", "arm", "population"], sort=False):
        base = g[g["timepoint"] == "baseline"]
        b = int(base["events"].iloc[0]) if len(base) else None
        bt = int(base["total"].iloc[0]) if len(base) else None
        for r in g.itertuples(index=False):
            later = r.timepoint != "baseline" and b is not None
            e, t = int(r.events), int(r.total)
            rows.append(
                {
                    "study_id": study_id,
                    "label": labels[study_id],
                    "arm": arm,
                    "role": r.role,
                    "population": population,
                    "timepoint": r.timepoint,
                    "events": e,
                    "total": t,
                    "status": r.status,
                    "arm_n": n.get((study_id, arm), pd.NA),
                    "baseline_events": b,
                    "baseline_total": bt,
                    # still in the state: at least those in it now who were not free of it at baseline
                    "resolved_low": b - min(e, b) if later else pd.NA,
                    "resolved_high": b - max(0, e - (bt - b)) if later else pd.NA,
                }
            )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["_w"] = out["timepoint"].map(lambda tp: -1 if tp == "baseline" else _week(tp))
    out["_r"] = out["role"].map({"il2": 0}).fillna(1)
    return out.sort_values(["study_id", "_w", "_r"], kind="stable").drop(columns=["_w", "_r"]).reset_index(drop=True)


def placebo_response(ev: Evidence) -> pd.DataFrame:
    """Placebo responses to the primary outcome: one row per trial and population with a count or a percentage.

    Columns: study_id, label, population, events, total, percent, na_reason, the IL-2 arm's reported
    between-arm p-value (p_between), and whether the population is the one the primary analysis uses.
    """
    from helpers.review.analyses import planned_analyses
    from helpers.review.selection import count_rows

    primary = next(a for a in planned_analyses(ev) if a.role == "primary")
    o = ev.outcomes.merge(ev.arms.drop_duplicates(["study_id", "arm"])[["study_id", "arm", "role"]])
    o = o[(o["outcome"] == primary.outcome) & (o["timepoint"] == primary.timepoint)]
    o = o[o["study_id"].isin(primary.study_ids)]
    il2 = count_rows(ev, primary.outcome, primary.timepoint)
    il2 = il2[il2["role"] == "il2"].set_index(["study_id", "population"])["p_value"]
    labels = ev.study_labels
    used = dict(primary.populations)
    rows = []
    for r in o[o["role"] == "placebo"].itertuples():
        if pd.isna(r.events) and pd.isna(r.percent):
            continue
        rows.append(
            {
                "study_id": r.study_id,
                "label": labels[r.study_id],
                "population": r.population,
                "events": r.events,
                "total": r.total,
                "percent": r.percent,
                "na_reason": r.na_reason,
                "p_between": il2.get((r.study_id, r.population), pd.NA),
                "primary": used[r.study_id] == r.population,
            }
        )
    order = {s: i for i, s in enumerate(primary.study_ids)}
    out = pd.DataFrame(rows)
    out["_o"] = [
        (order[s], not p, POPULATION_ORDER.index(q) if q in POPULATION_ORDER else 9)
        for s, p, q in zip(out["study_id"], out["primary"], out["population"])
    ]
    return out.sort_values("_o").drop(columns="_o").reset_index(drop=True)


def responder_results(ev: Evidence) -> pd.DataFrame:
    """Between-arm estimates of the indices not already in the efficacy results."""
    return results_of(ev, ("responder_index",))[RESULT_COLUMNS]
