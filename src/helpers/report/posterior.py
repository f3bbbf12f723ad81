"""The posterior of a pooled risk ratio under each prior, beside the frequentist intervals.

Two panels sharing a log-scaled risk-ratio axis: above, the posterior density of the log risk
ratio under each prior on tau (line styles differ, so the figure reads without colour); below,
each model's estimate and 95% interval as a labelled row.
"""

from __future__ import annotations

import math

import pandas as pd

from helpers.report.style import OKABE_ITO, use_book_style

LINESTYLES = ("-", "--", ":", "-.")
COLOURS = (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"])


def posterior_figure(curves: pd.DataFrame, intervals: pd.DataFrame, xlabel: str = "Risk ratio (IL-2 vs placebo)"):
    """``curves``: columns prior, ratio, density (of the log ratio); ``intervals``: label, estimate,
    ci_low, ci_high (ratios). Returns a matplotlib Figure."""
    use_book_style()
    from matplotlib.figure import Figure

    rows = len(intervals)
    fig = Figure(figsize=(7.0, 3.2 + 0.32 * rows))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 0.35 + 0.3 * rows]})
    for i, (prior, part) in enumerate(curves.groupby("prior", sort=False)):
        top.plot(part["ratio"], part["density"], LINESTYLES[i % 4], color=COLOURS[i % 4], lw=2, label=prior)
    top.axvline(1.0, color="black", lw=0.8)
    top.set_xscale("log")
    top.set_ylabel("Posterior density\n(per unit log RR)")
    top.set_ylim(bottom=0)
    top.legend(frameon=False, loc="upper right", fontsize=9)
    for y, r in enumerate(intervals.itertuples(index=False)):
        yy = rows - 1 - y
        bottom.plot([r.ci_low, r.ci_high], [yy, yy], color="black", lw=1.5)
        bottom.plot([r.estimate], [yy], "D" if str(r.label).startswith("Bayes") else "s", color="black", ms=5)
    bottom.set_yticks(range(rows))
    bottom.set_yticklabels(list(intervals["label"])[::-1], fontsize=9)
    bottom.set_ylim(-0.6, rows - 0.4)
    bottom.axvline(1.0, color="black", lw=0.8)
    bottom.set_xlabel(xlabel)
    lo = min(curves["ratio"].min(), intervals["ci_low"].min())
    hi = max(curves["ratio"].max(), intervals["ci_high"].max())
    bottom.set_xlim(max(lo, 1e-3), hi)
    ticks = [t for t in (0.1, 0.25, 0.5, 1, 2, 4, 10, 20) if lo <= t <= hi]
    bottom.set_xticks(ticks)
    bottom.set_xticklabels([f"{t:g}" for t in ticks])
    bottom.minorticks_off()
    top.minorticks_off()
    fig.tight_layout()
    return fig


def posterior_alt_text(curves: pd.DataFrame, intervals: pd.DataFrame) -> str:
    priors = list(dict.fromkeys(curves["prior"]))
    rows = "; ".join(
        f"{r.label} {r.estimate:.2f} ({r.ci_low:.2f} to {r.ci_high:.2f})" for r in intervals.itertuples(index=False)
    )
    peak = curves.loc[curves.groupby("prior", sort=False)["density"].idxmax(), ["prior", "ratio"]]
    modes = "; ".join(f"{p} peaks at a risk ratio of {x:.2f}" for p, x in zip(peak["prior"], peak["ratio"]))
    return (
        f"Upper panel: posterior density of the pooled risk ratio under {len(priors)} priors on the between-trial "
        f"standard deviation ({modes}). Lower panel: estimates with 95% intervals on the same log axis: {rows}."
    )


def ratio_grid(low: float, high: float, n: int = 400) -> list[float]:
    """n ratios evenly spaced on the log scale between low and high."""
    a, b = math.log(low), math.log(high)
    return [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
