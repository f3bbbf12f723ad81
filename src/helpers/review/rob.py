"""Risk of bias: scores and bands computed from the ratings (never stored), display tables, figures and glue.

The instrument and the ratings are evidence (:mod:`helpers.evidence.rob_tables`). The modified Downs
and Black scores reproduce the review's tool; they are shown with the share of items the consulted
sources could not answer and are never used to select, weight or restrict an analysis (summary
quality scores: Jüni et al. 1999; protocol ``risk_of_bias.restrict_by_quality_score: false``). The
randomised trials' results are judged with RoB 2 instead (:mod:`helpers.review.rob2`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D

from helpers.evidence.rob_tables import (
    ANSWER_LABELS,
    ANSWER_SYMBOLS,
    ANSWERS,
    BANDS,
    DOMAIN_LABELS,
    DOMAIN_SHORT,
    DOMAINS,
    MAX_SCORE,
    RiskOfBias,
    parse_points,
)
from helpers.report.prose import fmt_int, fmt_pct, join_words
from helpers.report.style import OKABE_ITO, use_book_style

#: Okabe-Ito colours (colour-blind safe); grey is the book's colour for "not reported".
ANSWER_COLOURS = {
    "yes": OKABE_ITO["bluish_green"],
    "partially": OKABE_ITO["yellow"],
    "no": OKABE_ITO["vermillion"],
    "unable_to_determine": OKABE_ITO["grey"],
}


# ---------------------------------------------------------------------------
# Scoring and banding (computed, never stored)
# ---------------------------------------------------------------------------
def total_score(answers: Mapping[int, str], points: Mapping[int, Mapping[str, int]]) -> int:
    """Total points of one study: ``answers`` maps item -> answer, ``points`` item -> {answer: points}."""
    missing = sorted(set(points) - set(answers))
    if missing:
        raise ValueError(f"no answer for item(s) {missing}")
    total = 0
    for item, answer in answers.items():
        if item not in points:
            raise ValueError(f"item {item} is not an item of the instrument")
        if answer not in points[item]:
            raise ValueError(f"item {item}: answer {answer!r} not allowed (allowed: {', '.join(points[item])})")
        total += points[item][answer]
    return total


def quality_band(score: int, max_score: int = MAX_SCORE) -> str:
    """The quality level of a total: excellent 26-28, good 20-25, fair 15-19, poor 0-14."""
    if max_score != MAX_SCORE:
        raise ValueError(f"the quality levels are defined for a maximum of {MAX_SCORE}, not {max_score}")
    if isinstance(score, bool) or int(score) != score or not 0 <= score <= MAX_SCORE:
        raise ValueError(f"score {score!r}: expected a whole number from 0 to {MAX_SCORE}")
    return next(b.name for b in BANDS if b.low <= score <= b.high)


def item_points(rob: RiskOfBias) -> pd.DataFrame:
    """Every rating with its domain, points and the item's maximum."""
    pts = rob.points
    r = rob.ratings
    return pd.DataFrame(
        {
            "study_id": r["study_id"].astype(str),
            "label": r["study_id"].map(dict(zip(rob.studies["study_id"], rob.studies["label"]))),
            "item": r["item"].astype(int),
            "domain": r["item"].map(dict(zip(rob.items["item"], rob.items["domain"]))).astype(str),
            "answer": r["answer"].astype(str),
            "points": [pts[int(i)][a] for i, a in zip(r["item"], r["answer"])],
            "max_points": [max(pts[int(i)].values()) for i in r["item"]],
        }
    )


def domain_scores(rob: RiskOfBias) -> pd.DataFrame:
    """Points per study and domain, with the domain maximum and the count of each answer."""
    ip = item_points(rob)
    rows = []
    for s in rob.studies.itertuples(index=False):
        for domain, label, _, _ in DOMAINS:
            part = ip[(ip["study_id"] == s.study_id) & (ip["domain"] == domain)]
            row = {
                "study_id": s.study_id,
                "label": s.label,
                "domain": domain,
                "domain_label": label,
                "score": int(part["points"].sum()),
                "max_score": int(part["max_points"].sum()),
                "n_items": len(part),
            }
            row.update({f"n_{a}": int((part["answer"] == a).sum()) for a in ANSWERS})
            rows.append(row)
    return pd.DataFrame(rows)


def study_scores(rob: RiskOfBias) -> pd.DataFrame:
    """Total, maximum, quality band and answer counts per study (in studies.csv order)."""
    ip = item_points(rob)
    rows = []
    for s in rob.studies.itertuples(index=False):
        part = ip[ip["study_id"] == s.study_id]
        total = int(part["points"].sum())
        row = {
            "study_id": s.study_id,
            "label": s.label,
            "design": s.design,
            "score": total,
            "max_score": int(part["max_points"].sum()),
            "band": quality_band(total, int(part["max_points"].sum())),
            "n_items": len(part),
        }
        row.update({f"n_{a}": int((part["answer"] == a).sum()) for a in ANSWERS})
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Display tables
# ---------------------------------------------------------------------------
def _answer_text(answer: str) -> str:
    return f"{ANSWER_SYMBOLS[answer]} {ANSWER_LABELS[answer].lower()}"


def _points_text(points: str) -> str:
    return "; ".join(f"{ANSWER_LABELS[a].lower()} {p}" for a, p in parse_points(points).items())


def instrument_table(rob: RiskOfBias) -> pd.DataFrame:
    i = rob.items
    return pd.DataFrame(
        {
            "Item": i["item"].astype(int),
            "Domain": i["domain"].map(DOMAIN_LABELS),
            "What the item asks (paraphrase)": i["label"],
            "Answers and points": i["points"].map(_points_text),
            "How this book answers it": i["guidance"],
        }
    )


def rating_matrix(rob: RiskOfBias) -> pd.DataFrame:
    """Items (rows) by studies (columns); cells are symbol and answer."""
    r = rob.ratings
    table = pd.DataFrame({"Item": [f"{int(n)}. {s}" for n, s in zip(rob.items["item"], rob.items["short_label"])]})
    for s in rob.studies.itertuples(index=False):
        answers = dict(
            zip(r.loc[r["study_id"] == s.study_id, "item"].astype(int), r.loc[r["study_id"] == s.study_id, "answer"])
        )
        table[s.label] = [_answer_text(answers[int(n)]) for n in rob.items["item"]]
    return table


def scores_table(rob: RiskOfBias) -> pd.DataFrame:
    """Domain scores, total and quality band per study (all computed from the items)."""
    ds = domain_scores(rob)
    ss = study_scores(rob)
    table = pd.DataFrame({"Study": ss["label"]})
    for domain, *_ in DOMAINS:
        part = ds[ds["domain"] == domain]
        table[DOMAIN_SHORT[domain]] = [f"{a} of {b}" for a, b in zip(part["score"], part["max_score"])]
    table[f"Total (of {MAX_SCORE})"] = ss["score"].to_list()
    table["Quality band"] = ss["band"].to_list()
    table["Unable to determine"] = [
        f"{u} of {n} ({fmt_pct(100 * u / n, 0)})" for u, n in zip(ss["n_unable_to_determine"], ss["n_items"])
    ]
    return table


def rationale_table(rob: RiskOfBias) -> pd.DataFrame:
    r = rob.ratings
    labels = dict(zip(rob.studies["study_id"], rob.studies["label"]))
    return pd.DataFrame(
        {
            "Study": r["study_id"].map(labels),
            "Item": r["item"].astype(int),
            "Answer": r["answer"].map(_answer_text),
            "Rationale": r["rationale"],
            "Source": [f"{loc}; {ref}" for loc, ref in zip(r["locator"], r["evidence_ref"])],
        }
    )


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------
CIRCLE_SIZE = 13.0  # marker diameter, points
SYMBOL_SIZE = 9.5


def _legend_handles() -> tuple[list[tuple[Line2D, Line2D]], list[str]]:
    handles = []
    for a in ANSWERS:
        circle = Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=CIRCLE_SIZE,
            markerfacecolor=ANSWER_COLOURS[a],
            markeredgecolor=OKABE_ITO["black"],
            markeredgewidth=0.6,
        )
        glyph = Line2D(
            [],
            [],
            linestyle="none",
            marker=f"${ANSWER_SYMBOLS[a]}$",
            markersize=SYMBOL_SIZE * 0.75,
            color=OKABE_ITO["black"],
        )
        handles.append((circle, glyph))
    return handles, [ANSWER_LABELS[a] for a in ANSWERS]


def _add_legend(fig: Figure, ax, y: float) -> None:
    handles, labels = _legend_handles()
    ax.legend(
        handles,
        labels,
        handler_map={tuple: HandlerTuple(ndivide=1, pad=0)},
        loc="upper center",
        bbox_to_anchor=(0.5, y),
        bbox_transform=fig.transFigure,
        ncol=len(ANSWERS),
        frameon=False,
        handlelength=1.6,
        columnspacing=1.6,
        fontsize=9.5,
    )


def _wrap_label(label: str, width: int = 14) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(label, width, break_on_hyphens=False)) or label


def traffic_light_figure(rob: RiskOfBias) -> Figure:
    """Item-by-study traffic-light plot: a coloured circle with a symbol per rating, domains as row groups.

    Rows are the checklist items grouped under their domain (each domain heading
    shows the study's points in that domain); columns are the included studies;
    the last two rows give each study's total and quality band.
    """
    use_book_style()
    r = rob.ratings
    studies = list(rob.studies.itertuples(index=False))
    ds = domain_scores(rob).set_index(["study_id", "domain"])
    ss = study_scores(rob).set_index("study_id")
    answers = {(s, int(i)): a for s, i, a in zip(r["study_id"], r["item"], r["answer"])}

    row_h, col_w, label_w, header_h, legend_h = 0.23, 0.9, 2.45, 0.62, 0.55
    layout: list[tuple[str, object]] = []
    for domain, _label, lo, hi in DOMAINS:
        layout.append(("domain", domain))
        layout.extend(("item", n) for n in range(lo, hi + 1))
    layout += [("gap", None), ("total", None), ("band", None)]
    width = label_w + col_w * len(studies) + 0.15
    height = header_h + row_h * len(layout) + legend_h

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")

    x_of = {s.study_id: label_w + col_w * (k + 0.5) for k, s in enumerate(studies)}
    for s in studies:
        ax.text(
            x_of[s.study_id],
            header_h - 0.08,
            _wrap_label(s.label),
            ha="center",
            va="bottom",
            fontsize=9.5,
            fontweight="bold",
        )
    short = dict(zip(rob.items["item"].astype(int), rob.items["short_label"]))
    cells: dict[str, tuple[list[float], list[float]]] = {a: ([], []) for a in ANSWERS}
    for k, (kind, what) in enumerate(layout):
        y = header_h + row_h * (k + 0.5)
        if kind == "domain":
            ax.text(0.08, y, DOMAIN_LABELS[what], ha="left", va="center", fontsize=9.5, fontweight="bold")
            ax.plot([0.05, width - 0.05], [y - row_h / 2, y - row_h / 2], color=OKABE_ITO["grey"], lw=0.6)
            for s in studies:
                d = ds.loc[(s.study_id, what)]
                ax.text(
                    x_of[s.study_id],
                    y,
                    f"{d['score']} of {d['max_score']}",
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="#444444",
                )
        elif kind == "item":
            ax.text(0.2, y, f"{what}. {short[what]}", ha="left", va="center", fontsize=9)
            for s in studies:
                a = answers[(s.study_id, what)]
                cells[a][0].append(x_of[s.study_id])
                cells[a][1].append(y)
                ax.text(
                    x_of[s.study_id],
                    y,
                    ANSWER_SYMBOLS[a],
                    ha="center",
                    va="center_baseline",
                    fontsize=SYMBOL_SIZE,
                    fontweight="bold",
                    color=OKABE_ITO["black"],
                )
        elif kind == "gap":
            ax.plot([0.05, width - 0.05], [y, y], color=OKABE_ITO["black"], lw=0.8)
        elif kind in ("total", "band"):
            text = f"Total (of {MAX_SCORE})" if kind == "total" else "Quality band"
            ax.text(0.08, y, text, ha="left", va="center", fontsize=9.5, fontweight="bold")
            for s in studies:
                value = str(ss.loc[s.study_id, "score"]) if kind == "total" else str(ss.loc[s.study_id, "band"])
                ax.text(
                    x_of[s.study_id],
                    y,
                    value,
                    ha="center",
                    va="center",
                    fontsize=9.5,
                    fontweight="bold" if kind == "total" else "normal",
                )
    for a in ANSWERS:
        xs, ys = cells[a]
        ax.scatter(
            xs,
            ys,
            s=CIRCLE_SIZE**2,
            c=ANSWER_COLOURS[a],
            edgecolors=OKABE_ITO["black"],
            linewidths=0.6,
            zorder=2,
            gid=f"rob-cells-{a}",
        )
    for t in ax.texts:
        t.set_zorder(3)
    _add_legend(fig, ax, legend_h / height * 0.95)
    return fig


def _answer_shares(rob: RiskOfBias) -> pd.DataFrame:
    """Per domain: number of ratings and percentage of each answer."""
    ip = item_points(rob)
    rows = []
    for domain, label, lo, hi in DOMAINS:
        part = ip[ip["domain"] == domain]
        row = {
            "domain": domain,
            "label": label,
            "n_ratings": len(part),
            "n_items": hi - lo + 1,
            "n_studies": part["study_id"].nunique(),
        }
        row.update({a: 100 * float((part["answer"] == a).sum()) / len(part) if len(part) else 0.0 for a in ANSWERS})
        rows.append(row)
    return pd.DataFrame(rows)


def summary_figure(rob: RiskOfBias) -> Figure:
    """Summary plot: per domain, the share of item ratings (studies x items) given each answer."""
    use_book_style()
    shares = _answer_shares(rob)
    n = len(shares)
    fig = Figure(figsize=(7.0, 0.55 * n + 1.3), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.33, 1.05 / (0.55 * n + 1.3), 0.63, 0.55 * n / (0.55 * n + 1.3)))
    ys = list(range(n))[::-1]
    left = [0.0] * n
    for a in ANSWERS:
        widths = shares[a].to_list()
        bars = ax.barh(
            ys,
            widths,
            left=left,
            height=0.62,
            color=ANSWER_COLOURS[a],
            edgecolor=OKABE_ITO["black"],
            linewidth=0.5,
            label=ANSWER_LABELS[a],
        )
        for bar, domain in zip(bars, shares["domain"]):
            bar.set_gid(f"rob-bar-{domain}-{a}")
        for y, l0, w in zip(ys, left, widths):
            if w >= 9:
                ax.text(
                    l0 + w / 2,
                    y,
                    f"{ANSWER_SYMBOLS[a]} {w:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=9,
                    fontweight="bold",
                    color=OKABE_ITO["black"],
                )
            elif w >= 2.5:
                ax.text(
                    l0 + w / 2,
                    y,
                    ANSWER_SYMBOLS[a],
                    ha="center",
                    va="center",
                    fontsize=9,
                    fontweight="bold",
                    color=OKABE_ITO["black"],
                )
            elif w > 0:  # too narrow for its symbol: write it just above the bar
                ax.text(
                    l0 + w / 2,
                    y + 0.34,
                    ANSWER_SYMBOLS[a],
                    ha="center",
                    va="bottom",
                    fontsize=8.5,
                    fontweight="bold",
                    color=OKABE_ITO["black"],
                )
        left = [l0 + w for l0, w in zip(left, widths)]
    ax.set_yticks(ys)
    ax.set_yticklabels(
        [
            f"{lab}\n({fmt_int(k)} item{'s' if k > 1 else ''} × {fmt_int(s)} studies)"
            for lab, k, s in zip(shares["label"], shares["n_items"], shares["n_studies"])
        ],
        fontsize=9.5,
    )
    ax.set_xlim(0, 100)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xticklabels([f"{v}%" for v in range(0, 101, 20)])
    ax.set_xlabel("Share of item ratings in the domain")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    _add_legend(fig, ax, 0.42 / (0.55 * n + 1.3))
    return fig


# ---------------------------------------------------------------------------
# Text descriptions (alt text and long descriptions)
# ---------------------------------------------------------------------------
def _ranges(items: list[int]) -> str:
    """[1, 2, 3, 4, 14, 15, 17] -> '1–4, 14, 15 and 17' (runs of three or more become ranges)."""
    runs: list[list[int]] = []
    for n in sorted(items):
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts: list[str] = []
    for run in runs:
        parts.extend([f"{run[0]}–{run[-1]}"] if len(run) >= 3 else [str(n) for n in run])
    return join_words(parts)


def traffic_light_alt_text() -> str:
    """Short alt text (no numbers, so it can sit in the figure directive)."""
    return (
        "Traffic-light grid of the modified Downs and Black ratings: checklist items in rows grouped by domain, "
        "included studies in columns, each rating a coloured circle with a symbol (plus for yes, minus for "
        "partially, cross for no, question mark for unable to determine), with each study's total and quality "
        "band at the bottom."
    )


def summary_alt_text() -> str:
    return (
        "Stacked horizontal bars, one per Downs and Black domain, showing the share of item ratings answered "
        "yes, partially, no or unable to determine, each segment labelled with its symbol."
    )


def traffic_light_description(rob: RiskOfBias) -> str:
    """Long text description of the traffic-light plot: every study's answers, total and band."""
    ip = item_points(rob)
    ss = study_scores(rob).set_index("study_id")
    parts = [
        f"Grid of {fmt_int(len(rob.items))} Downs and Black items (rows, in {fmt_int(len(DOMAINS))} domains) by "
        f"{fmt_int(len(rob.studies))} included studies (columns). Symbols: "
        + ", ".join(f"{ANSWER_SYMBOLS[a]} {ANSWER_LABELS[a].lower()}" for a in ANSWERS)
        + "."
    ]
    for s in rob.studies.itertuples(index=False):
        mine = ip[ip["study_id"] == s.study_id]
        said = []
        for a in ANSWERS:
            items = mine.loc[mine["answer"] == a, "item"].to_list()
            if items:
                said.append(f"{ANSWER_LABELS[a].lower()} on item{'s' if len(items) > 1 else ''} {_ranges(items)}")
        row = ss.loc[s.study_id]
        parts.append(f"{s.label}: {'; '.join(said)}; total {row['score']} of {row['max_score']}, {row['band']}.")
    return " ".join(parts)


def summary_description(rob: RiskOfBias) -> str:
    shares = _answer_shares(rob)
    parts = [f"Share of item ratings per answer in each of the {fmt_int(len(shares))} domains."]
    for row in shares.itertuples(index=False):
        parts.append(
            f"{row.label} ({fmt_int(row.n_ratings)} ratings): "
            + ", ".join(f"{ANSWER_LABELS[a].lower()} {fmt_pct(getattr(row, a))}" for a in ANSWERS)
            + "."
        )
    return " ".join(parts)


# ---------------------------------------------------------------------------
# Numbers for the chapter's prose
# ---------------------------------------------------------------------------
def glue_values(rob: RiskOfBias) -> dict[str, str]:
    """Formatted numbers and names for the chapter, keyed for glue (``rob_*``)."""
    ss = study_scores(rob)
    ip = item_points(rob)
    n_ratings = len(ip)
    n_unable = int((ip["answer"] == "unable_to_determine").sum())
    best = ss.loc[ss["score"].idxmax()]
    band = {b.name: b for b in BANDS}
    maxima = domain_scores(rob).groupby("domain", sort=False)["max_score"].first()
    values = {
        "rob_n_items": fmt_int(len(rob.items)),
        "rob_n_domains": fmt_int(len(DOMAINS)),
        "rob_n_studies": fmt_int(len(ss)),
        "rob_n_ratings": fmt_int(n_ratings),
        "rob_max_score": fmt_int(MAX_SCORE),
        "rob_item_power": fmt_int(DOMAINS[-1][2]),
        "rob_item_confounders": fmt_int(next(int(i) for i, p in rob.points.items() if max(p.values()) == 2)),
        "rob_n_unable": fmt_int(n_unable),
        "rob_pct_unable": fmt_pct(100 * n_unable / n_ratings),
        "rob_n_yes": fmt_int(int((ip["answer"] == "yes").sum())),
        "rob_n_no": fmt_int(int((ip["answer"] == "no").sum())),
        "rob_n_partially": fmt_int(int((ip["answer"] == "partially").sum())),
        "rob_score_min": fmt_int(ss["score"].min()),
        "rob_score_max": fmt_int(ss["score"].max()),
        "rob_best_study": str(best["label"]),
        "rob_best_score": fmt_int(best["score"]),
        "rob_best_band": str(best["band"]),
        "rob_n_poor": fmt_int(int((ss["band"] == "poor").sum())),
        "rob_unable_min": fmt_int(ss["n_unable_to_determine"].min()),
        "rob_unable_max": fmt_int(ss["n_unable_to_determine"].max()),
    }
    for name in ("excellent", "good", "fair", "poor"):
        values[f"rob_band_{name}"] = f"{band[name].low} to {band[name].high}"
    for domain, *_ in DOMAINS:
        values[f"rob_max_{domain}"] = fmt_int(maxima[domain])
    values["rob_scores_text"] = join_words([f"{r.label} {fmt_int(r.score)} ({r.band})" for r in ss.itertuples()])
    for row in ss.itertuples(index=False):
        values[f"rob_score_{row.study_id}"] = fmt_int(row.score)
        values[f"rob_band_of_{row.study_id}"] = row.band
        values[f"rob_unable_{row.study_id}"] = fmt_int(row.n_unable_to_determine)
    shares = _answer_shares(rob)
    all_unable = shares.loc[shares["unable_to_determine"] >= 100, "label"].str.lower().to_list()
    values["rob_domains_all_unable"] = join_words(all_unable) if all_unable else "none of the"
    values["rob_n_good_or_better"] = fmt_int(int(ss["band"].isin(["good", "excellent"]).sum()))
    good = ss.loc[ss["band"].isin(["good", "excellent"]), "label"].tolist()
    values["rob_good_or_better_text"] = (
        "none is rated good or better"
        if not good
        else f"{join_words(good)} {'is' if len(good) == 1 else 'are'} rated good or better"
    )
    rct = ss[ss["design"] == "rct"]
    values["rob_n_rct"] = fmt_int(len(rct))
    values["rob_rct_unable_min"] = fmt_int(rct["n_unable_to_determine"].min()) if len(rct) else "not applicable"
    values["rob_unable_by_study"] = join_words(
        [
            f"{r.label} {fmt_int(r.n_unable_to_determine)} of {fmt_int(r.n_items)} "
            f"({fmt_pct(100 * r.n_unable_to_determine / r.n_items, 0)})"
            for r in ss.itertuples(index=False)
        ]
    )
    poor_rct = rct[rct["band"] == "poor"]
    values["rob_rcts_poor"] = (
        "No randomised trial falls in the poor band"
        if poor_rct.empty
        else f"{join_words(list(poor_rct['label']))}, "
        f"{'randomised trials, fall' if len(poor_rct) > 1 else 'a randomised trial, falls'} in the poor band"
    )
    return values
