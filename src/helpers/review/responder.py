"""Responder-index sensitivity: which indices moved with IL-2, and which separated it from placebo.

For every included study and time point, each index (SRI-4, SRI, SELENA-SLEDAI, BILAG,
BILAG A/2B, PGA, lupus nephritis remission) is put in one of four categories from the
data: it separated IL-2 from placebo (the trial's reported between-arm p < 0.05, or,
where none is reported, a computed 95% CI excluding no effect), it showed no clear
difference, it improved in the IL-2 arm (reported p < 0.05 against baseline) without a
between-arm comparison, or it was not reported. For the randomised
trials the between-arm effect of every binary index is given on one scale (risk ratio
of responding, > 1 favours IL-2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.labels import POPULATION_LABELS, timepoint_label, timepoint_text
from helpers.report.prose import fmt_ci, fmt_pct
from helpers.report.style import OKABE_ITO, use_book_style
from helpers.review.analyses import RESULT_COLUMNS, results_of, study_effects, two_arm_counts
from helpers.review.claims import p_below
from helpers.review.selection import single_trial

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn, so computing results does not load it
    from matplotlib.figure import Figure

#: Indices compared, in display order: outcome -> label. "invert" marks a state where fewer is better.
INDICES = {
    "sri4": "SRI-4",
    "sri_unspecified": "SRI (threshold not stated)",
    "clinical_response_unspecified": "Clinical response (definition not stated)",
    "sledai_reduction_any": "SLEDAI reduction (any)",
    "selena_sledai": "SELENA-SLEDAI",
    "selena_sledai_change": "SELENA-SLEDAI change",
    "bilag": "BILAG score",
    "bilag_a_or_2b": "Free of BILAG A or 2 B",
    "pga": "PGA",
    "ln_complete_remission": "Nephritis complete remission",
}
INVERTED = {"bilag_a_or_2b"}

#: Significance level for the reported p-values behind the categories.
ALPHA = 0.05

SEPARATED = "separated from placebo"
NO_DIFFERENCE = "no clear difference from placebo"
WITHIN_ONLY = "improved in the IL-2 arm (no between-arm comparison)"
NOT_REPORTED = "not reported"
CATEGORIES = (SEPARATED, NO_DIFFERENCE, WITHIN_ONLY, NOT_REPORTED)
#: Colour and symbol per category: the symbol carries the meaning without colour.
CATEGORY_STYLE = {
    SEPARATED: (OKABE_ITO["bluish_green"], "▲"),
    NO_DIFFERENCE: (OKABE_ITO["orange"], "●"),
    WITHIN_ONLY: (OKABE_ITO["sky_blue"], "◆"),
    NOT_REPORTED: ("#FFFFFF", "–"),
}


@dataclass(frozen=True)
class Cell:
    category: str
    text: str


def _rr_text(rr: pd.Series) -> str:
    return "RR " + fmt_ci(rr["estimate"], rr["ci_low"], rr["ci_high"], label=False)


def _by_role(ev: Evidence, rows: pd.DataFrame, role: str) -> pd.DataFrame:
    arms = ev.arms.drop_duplicates(["study_id", "arm"]).set_index(["study_id", "arm"])["role"]
    mask = [arms.get((s, a)) == role for s, a in zip(rows["study_id"], rows["arm"])]
    return rows[pd.Series(mask, index=rows.index, dtype=bool)]


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
        category = SEPARATED if r["direction"] == "between_arm_difference" else WITHIN_ONLY
        return Cell(
            category, "significant vs placebo; values not reported" if category == SEPARATED else str(r["note"])
        )
    if r["statistic"] == "count" and not placebo.empty and pd.notna(placebo.iloc[0]["events"]):
        a = single_trial(outcome, timepoint, study_id, population, invert=outcome in INVERTED)
        rr = study_effects(two_arm_counts(ev, a), "RR").iloc[0]
        # The trial's own between-arm test decides where it is reported; else the computed 95% CI.
        reported = p_below(r["p_value"]) if r["p_comparison"] == "between_arms" else None
        separated = reported if reported is not None else bool(rr["ci_low"] > 1 or rr["ci_high"] < 1)
        text = _rr_text(rr) + (f"; reported p {r['p_value']}" if reported is not None else "")
        return Cell(SEPARATED if separated else NO_DIFFERENCE, text)
    if r["statistic"] == "count":
        share = 100 * r["events"] / r["total"]
        p = f"; p {r['p_value']} vs baseline" if r["p_comparison"] == "vs_baseline" else ""
        return Cell(WITHIN_ONLY, f"{int(r['events'])}/{int(r['total'])} ({fmt_pct(share, 0)}) responders{p}")
    # medians: within-arm change against baseline, as reported
    improved = p_below(r["p_value"]) if r["p_comparison"] == "vs_baseline" else None
    text = f"IL-2 p {r['p_value']} vs baseline" if pd.notna(r["p_value"]) else "no test reported"
    if not placebo.empty and pd.notna(placebo.iloc[0]["p_value"]):
        text += f"; placebo p {placebo.iloc[0]['p_value']}"
    return Cell(WITHIN_ONLY if improved else NO_DIFFERENCE if improved is False else NOT_REPORTED, text)


def columns(ev: Evidence) -> list[tuple[str, str, str]]:
    """(study_id, timepoint, population) with an IL-2 row for some index, in study order."""
    o = _by_role(ev, ev.outcomes, "il2")
    o = o[o["outcome"].isin(INDICES) & (o["timepoint"] != "baseline")]
    included = list(ev.included_studies()["study_id"])
    keys = {(s, t, p) for s, t, p in zip(o["study_id"], o["timepoint"], o["population"]) if s in included}
    order = {"week_6": 6, "week_12": 12, "week_24": 24, "end_of_study": 99}
    return sorted(keys, key=lambda k: (included.index(k[0]), order.get(k[1], 50), k[2]))


def column_label(ev: Evidence, key: tuple[str, str, str]) -> str:
    label = ev.studies.set_index("study_id").loc[key[0], "label"]
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
                }
            )
    return pd.DataFrame(rows)


def index_table(matrix: pd.DataFrame) -> pd.DataFrame:
    """The matrix as a wide display table (symbol and text per cell)."""
    shown = matrix.assign(
        cell=[
            f"{CATEGORY_STYLE[c][1]} {t}".strip() if c != NOT_REPORTED else "not reported"
            for c, t in zip(matrix["category"], matrix["text"])
        ]
    )
    wide = shown.pivot(index="index", columns="column", values="cell")
    wide = wide.reindex(index=list(dict.fromkeys(matrix["index"])), columns=list(dict.fromkeys(matrix["column"])))
    return wide.reset_index().rename(columns={"index": "Index"})


def index_heatmap(matrix: pd.DataFrame) -> Figure:
    """Index by study/time point, coloured and marked by category (symbols readable without colour)."""
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    use_book_style()
    idx = list(dict.fromkeys(matrix["index"]))
    cols = list(dict.fromkeys(matrix["column"]))
    width, height = 1.3 * len(cols) + 2.4, 0.5 * len(idx) + 2.0
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((2.2 / width, 1.45 / height, 1 - 2.3 / width, 1 - 1.55 / height))
    for _, r in matrix.iterrows():
        x, y = cols.index(r["column"]), idx.index(r["index"])
        colour, symbol = CATEGORY_STYLE[r["category"]]
        ax.add_patch(Rectangle((x, y), 1, 1, facecolor=colour, edgecolor="#555555", linewidth=0.6))
        ax.text(x + 0.5, y + 0.5, symbol, ha="center", va="center", fontsize=11, color=OKABE_ITO["black"])
    ax.set_xlim(0, len(cols))
    ax.set_ylim(len(idx), 0)
    ax.set_xticks(
        np.arange(len(cols)) + 0.5, labels=[c.replace(", ", "\n").replace(" (", "\n(") for c in cols], fontsize=8
    )
    ax.set_yticks(np.arange(len(idx)) + 0.5, labels=idx, fontsize=9)
    ax.tick_params(length=0)
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
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize=8.5, bbox_to_anchor=(0.5, 0.0))
    return fig


def heatmap_alt_text(matrix: pd.DataFrame) -> str:
    parts = []
    for column, g in matrix.groupby("column", sort=False):
        sep = list(g.loc[g["category"] == SEPARATED, "index"])
        nod = list(g.loc[g["category"] == NO_DIFFERENCE, "index"])
        win = list(g.loc[g["category"] == WITHIN_ONLY, "index"])
        described = [
            f"{name}: {', '.join(v)}"
            for name, v in (
                ("separated from placebo", sep),
                ("no clear difference", nod),
                ("improved in the IL-2 arm only", win),
            )
            if v
        ]
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
                    if {"il2"} <= set(mine.loc[mine["population"] == p, "role"])
                    and set(mine.loc[mine["population"] == p, "role"]) & set(protocol.comparators)
                ]
                for p in pops:
                    label = INDICES[outcome] + (f", {timepoint_label(tp).lower()}" if tp.startswith("week_") else "")
                    label += f" ({POPULATION_LABELS.get(p, p)})" if len(pops) > 1 else ""
                    keys.append((label, study_id, outcome, tp, p))
    return keys


def between_arm_effects(ev: Evidence) -> pd.DataFrame:
    """Risk ratio of responding (IL-2 vs placebo) for every binary index of the RCTs, one row each."""
    labels = ev.studies.set_index("study_id")["label"]
    rows = []
    for index_label, study_id, outcome, timepoint, population in side_by_side(ev):
        a = single_trial(outcome, timepoint, study_id, population, invert=outcome in INVERTED)
        counts = two_arm_counts(ev, a)
        rr = study_effects(counts, "RR").iloc[0]
        c = counts.iloc[0]
        rows.append(
            {
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
    labels = ev.studies.set_index("study_id")["label"]
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
