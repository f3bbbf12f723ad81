"""The methods appendix: the protocol and the claims registry, rendered as tables."""

from __future__ import annotations

import pandas as pd

from helpers.evidence.protocol import Protocol, load_protocol
from helpers.report.labels import ARM_LABELS, DESIGN_LABELS, POPULATION_PHRASES, timepoint_label
from helpers.review.claims import registry_table
from helpers.review.safety import METHOD_WORDS


def _window(w: dict) -> str:
    return f"{w['from']} to {w['to'] or 'ongoing'}"


def _bayesian_rows(p: Protocol) -> list[tuple[str, str]]:
    b = p.bayesian
    if b is None:
        return []
    others = ", ".join(str(s) for s in b.scales if s != b.main_scale)
    prior = {"halfnormal": "half-normal"}.get(b.tau_prior, b.tau_prior)
    text = f"{', '.join(b.measures)}; {b.mu_prior} prior on the mean, {prior} prior on τ with scale {b.main_scale}"
    return [("Bayesian random effects", text + (f" (sensitivity: {others})" if others else ""))]


def protocol_summary(protocol: Protocol | None = None) -> pd.DataFrame:
    """What the protocol pre-specifies, one row per item."""
    p = protocol or load_protocol()
    e = p.eligibility
    rows = [
        (
            "Version",
            p.version + "; " + "; ".join(f"{a['version']} ({a['date']}): {a['change']}" for a in p.raw["amendments"]),
        ),
        ("Question", p.raw["question"]),
        ("Designs pooled", "; ".join(DESIGN_LABELS.get(d, d) for d in e["designs_pooled"])),
        ("Designs described, not pooled", "; ".join(DESIGN_LABELS.get(d, d) for d in e["designs_described"])),
        ("Intervention", e["intervention"]),
        ("Comparators", ", ".join(ARM_LABELS.get(c, c).lower() for c in e["comparators"])),
        ("Search window of the review", _window(e["windows"]["review"])),
        ("Update window (living review)", _window(e["windows"]["update"])),
        (
            "Windows of the analyses",
            "every declared analysis and the safety comparisons use the included studies published in the review "
            "window (studies.csv `published`); the update analyses ("
            + ", ".join(a.id for a in p.update_analyses)
            + ") use those of the "
            + " and ".join(p.update_windows)
            + " windows and are reported only in the chapter chapters/"
            + p.raw["update"]["reported_in"]
            + ".ipynb",
        ),
        ("Exclusions", "; ".join(f"{s}: {r}" for s, r in p.exclusions.items()) or "none"),
        (
            "Trials with several IL-2 arms",
            "IL-2 arms combined (events and totals summed; Cochrane Handbook 23.3.4); "
            "dose subgroups split the shared control arm evenly",
        ),
        (
            "Models",
            "; ".join(f"{m} ({t})" for m, t in p.pooled_models)
            + "; a single trial: "
            + "; ".join(f"{m} ({t})" for m, t in p.single_study_models),
        ),
        ("Effect measures", ", ".join(p.measures)),
        (
            "Primary estimate of each analysis",
            f"{p.primary_model[0]} with {p.primary_model[1]} ({p.primary_model[2]}) when trials are pooled; a single "
            f"trial's own {p.primary_model[0]}, "
            + "; ".join(f"{m} with {t}" for m, t in p.single_study_models)
            + "; every other measure and model is a sensitivity analysis",
        ),
        (
            "Per-protocol populations",
            ", ".join(POPULATION_PHRASES.get(x, x) for x in p.per_protocol_populations)
            + ": never pooled and in no population preference; each trial's result reported once, in words, with "
            "the share of randomised patients kept per arm, whether it is post hoc, its RoB 2 judgement and its own "
            "risk ratio",
        ),
        (
            "Single-arm response rates",
            "each arm with its exact (Clopper-Pearson) interval; pooled only within one arm role, outcome and time "
            f"point, with at least {p.single_arm_rates['min_arms']} arms ({', '.join(p.single_arm_rates['measures'])}; "
            "REML); never compared across roles",
        ),
        *_bayesian_rows(p),
        ("Minimum number of trials", "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in p.raw["minimum_k"].items())),
        (
            "Safety",
            f"every adverse event counted in both arms, at {timepoint_label(p.safety['timepoint']).lower()}; "
            "populations in order: " + ", ".join(POPULATION_PHRASES[x] for x in p.safety["population_preference"]),
        ),
        (
            "Safety, an event compared in one trial",
            "that trial's own result, not pooled: risk ratio with the {risk_ratio}; risk difference with "
            "{risk_difference}; p from {test}".format(
                **{k: METHOD_WORDS[v] for k, v in p.safety["single_trial"].items()}
            ),
        ),
        (
            "Safety, Peto's odds ratio",
            f"only where every arm's event risk is below {100 * p.safety['peto']['max_event_risk']:g}% and every "
            f"trial's larger arm is at most {p.safety['peto']['max_arm_ratio']:g} times the smaller",
        ),
        (
            "Robustness of the primary analysis",
            f"{p.robustness['measure']} under: randomised but unanalysed patients counted as non-responders; every "
            "split of a derived arm size with the IL-2 share within "
            f"{100 * p.robustness['arm_split']['max_share_deviation']:g} percentage points of the derived one that "
            "reproduces the reported percentages; the fragility index (fewest outcome changes, in any arms, for the "
            f"{100 * (1 - p.robustness['fragility']['alpha']):g}% interval to change side of 1)",
        ),
    ]
    return pd.DataFrame(rows, columns=["Item", "Pre-specified"])


def planned_analyses_table(protocol: Protocol | None = None) -> pd.DataFrame:
    """The declared analyses: outcome, time point, role, population preference and sensitivity analyses."""
    p = protocol or load_protocol()
    return pd.DataFrame(
        [
            (
                a.id,
                a.label,
                timepoint_label(a.timepoint),
                a.role.replace("_", " ") + (f" of {a.sensitivity_of}" if a.sensitivity_of else ""),
                " > ".join(POPULATION_PHRASES[x] for x in a.population_preference),
                ", ".join(s.replace("_", " ") for s in a.sensitivity) or "none",
            )
            for a in p.analyses
        ],
        columns=["Analysis", "Label", "Time point", "Role", "Population (first reported)", "Sensitivity"],
    )


def claims_table() -> pd.DataFrame:
    return registry_table()
