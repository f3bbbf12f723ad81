"""The protocol's Bayesian random-effects analyses: every declared two-arm analysis, each prior scale.

For each analysis that at least one trial enters (:func:`helpers.review.selection.planned_analyses`,
the same trials, populations and counts as the frequentist rows), each measure and each scale of
the half-normal prior on tau that ``protocol.yml`` declares (``bayesian``), one
:class:`~helpers.review.result_row.ResultRow`: the posterior median of the mean effect, its 95%
credible interval, the 95% posterior predictive interval for a new trial, the posterior median of
tau² and the posterior probability that the effect exceeds no effect (RR > 1). The effect sizes
are metafor's ``escalc`` log ratios (1/2 added to every cell of a trial with a zero cell), as in the
inverse-variance fits. With one trial the posterior is still proper (the prior on tau is), but tau
is then its prior alone (the row's ``pi_note`` says so).
"""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import Protocol, load_protocol
from helpers.review.analyses import fit
from helpers.review.result_row import ResultRow, results_frame
from helpers.review.selection import Analysis, planned_analyses, two_arm_counts
from helpers.stats import bayes


def bayes_fit(counts: pd.DataFrame, measure: str, scale: float) -> bayes.BayesResult:
    """The Bayesian fit of one trial-level counts table, on the study effects and labels that the book's
    REML fit carries."""
    return bayes.bayes_rma(fit(counts, measure, "REML", "z"), scale=scale)


def bayesian_rows(ev: Evidence, a: Analysis, protocol: Protocol) -> list[ResultRow]:
    plan = protocol.bayesian
    counts = two_arm_counts(ev, a, protocol)
    common = dict(
        analysis=a.id,
        label=a.label,
        outcome=a.outcome,
        timepoint=a.timepoint,
        population=a.population_label,
        n_il2=int(counts["total_il2"].sum()),
        n_control=int(counts["total_control"].sum()),
        studies="; ".join(counts["label"]),
        inputs_derived=bool(counts["derived"].any()),
    )
    return [
        ResultRow.from_bayes(bayes_fit(counts, measure, scale), measure=measure, **common)
        for measure in plan.measures
        for scale in plan.scales
    ]


def bayesian_results(ev: Evidence, protocol: Protocol | None = None) -> pd.DataFrame:
    """Every declared two-arm analysis with at least one trial, one row per measure x prior scale (none when
    the protocol declares no Bayesian analysis)."""
    protocol = protocol or load_protocol()
    if protocol.bayesian is None:
        return results_frame([])
    return results_frame([row for a in planned_analyses(ev, protocol) for row in bayesian_rows(ev, a, protocol)])


def posterior_inputs(ev: Evidence, a: Analysis, results: pd.DataFrame, protocol: Protocol | None = None):
    """For the posterior figure of one analysis: the posterior density of its log RR under each
    prior scale (on a log-spaced RR grid spanning every interval shown) and the RR intervals of its
    rows in the results table (frequentist models, then the Bayesian ones)."""
    from helpers.report.posterior import ratio_grid

    protocol = protocol or load_protocol()
    rows = results[(results["analysis"] == a.id) & (results["measure"] == "RR")]
    intervals = pd.DataFrame(
        {
            "label": [
                m if t == "posterior" else f"{m}, {'Hartung-Knapp' if t == 'knha' else 'z'}"
                for m, t in zip(rows["method"], rows["test"])
            ],
            "estimate": rows["estimate"],
            "ci_low": rows["ci_low"],
            "ci_high": rows["ci_high"],
        }
    ).reset_index(drop=True)
    counts = two_arm_counts(ev, a, protocol)
    low = max(min(0.1, float(intervals["ci_low"].min()) / 1.2), 0.01)
    high = min(max(10.0, float(intervals["ci_high"].max()) * 1.2), 100.0)
    grid = ratio_grid(low, high)
    import math

    curves = []
    for scale in protocol.bayesian.scales:
        fit_ = bayes_fit(counts, "RR", scale)
        curves += [
            {"prior": f"half-normal prior on τ, scale {scale:g}", "ratio": x, "density": fit_.pdf(math.log(x))}
            for x in grid
        ]
    return pd.DataFrame(curves), intervals
