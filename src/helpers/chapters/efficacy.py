"""What the efficacy chapter shows of the randomised trials, written from the data for any number of trials.

The sentences that name trials or count them are generated here, so a trial added to
``data/`` appears in them; the qualitative statements the prose keeps are checked by the
claims registry (:mod:`helpers.review.claims`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..analyses import Analysis, analysis, two_arm_counts
from ..data import Evidence
from ..prose import GlueMarkdown, fmt_ci, fmt_int, fmt_num, fmt_pct, fmt_share
from ..review.protocol import load_protocol
from ..tables import timepoint_label

#: How the prose names an analysis population.
POPULATION_PHRASES = {
    "itt": "intention to treat",
    "analysed_efficacy": "efficacy set",
    "per_protocol": "per-protocol",
    "subgroup": "subgroup",
    "analysed_safety": "safety set",
}

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def count_word(n: int) -> str:
    return NUMBER_WORDS.get(n, fmt_int(n))


def join_names(names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def citations(ev: Evidence, study_ids) -> str:
    """A MyST citation of the trials' main reports, e.g. {cite:p}`he2020,humrich2022`."""
    keys = ev.studies.set_index("study_id").loc[list(study_ids), "citation_key"]
    return "{cite:p}`" + ",".join(dict.fromkeys(keys)) + "`"


def when(timepoint: str) -> str:
    return timepoint_label(timepoint).lower()


def arm_counts_sentence(ev: Evidence, a: Analysis, verb: str = "responded") -> str:
    """'In He 2020 (efficacy set), 16/29 (55.2%) patients on IL-2 and 9/30 (30.0%) on placebo responded; in ...'."""
    counts = two_arm_counts(ev, a)
    clauses = []
    for i, c in enumerate(counts.itertuples(index=False)):
        arms = f" ({count_word(c.il2_arms)} IL-2 dose arms combined)" if c.il2_arms > 1 else ""
        il2, ctl = fmt_share(c.events_il2, c.total_il2), fmt_share(c.events_control, c.total_control)
        where = f"{c.label} ({POPULATION_PHRASES.get(c.population, c.population)})"
        body = f"{il2} patients on IL-2{arms} and {ctl} on placebo {verb}" if i == 0 else f"{il2}{arms} and {ctl}"
        clauses.append(f"in {where}, {body}")
    text = "; ".join(clauses)
    return text[0].upper() + text[1:] + " " + citations(ev, counts["study_id"]) + "."


def endpoint_sentence(ev: Evidence, a: Analysis) -> str:
    """Whether the trials met the endpoint, by the between-arm p-value each reports (that it was their primary
    endpoint is checked by the claims registry)."""
    from ..review.claims import p_below, reported_rows

    labels = ev.studies.set_index("study_id")["label"]
    rows = reported_rows(ev, a)
    met = [labels[r.study_id] for r in rows.itertuples() if r.p_comparison == "between_arms" and p_below(r.p_value)]
    k = a.k
    subject = "The trial" if k == 1 else ("Both trials" if k == 2 else f"All {count_word(k)} trials")
    outcome = ev.outcome_definitions.set_index("outcome").loc[a.outcome, "label"].removesuffix(" response")
    chose = f"{subject} chose the {outcome} at {when(a.timepoint)} as {'its' if k == 1 else 'their'} primary endpoint"
    if not met:
        return chose + (
            " and did not meet it." if k == 1 else " and neither met it." if k == 2 else " and none met it."
        )
    if len(met) == k:
        return chose + (" and met it." if k == 1 else " and each met it.")
    return f"{chose}; by the between-arm p-value each reports, {join_names(met)} met it and the others did not."


def _ci(results: pd.DataFrame, analysis_id: str, measure: str, method: str, test: str, digits: int = 2) -> str:
    row = results.loc[(analysis_id, measure, method, test)]
    return fmt_ci(row["estimate"], row["ci_low"], row["ci_high"], digits)


def primary_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """Glue values of the primary analysis (results indexed by analysis, measure, method, test)."""
    protocol = load_protocol()
    primary = next(a for a in (analysis(ev, p.id) for p in protocol.analyses if p.role == "primary") if a is not None)
    hk = results.loc[(primary.id, "RR", "REML", "knha")]
    z = results.loc[(primary.id, "RR", "REML", "z")]
    k = int(hk["k"])
    min_pi = protocol.minimum_k("prediction_interval")
    return {
        "sri4_counts_text": GlueMarkdown(arm_counts_sentence(ev, primary)),
        "sri4_endpoint_text": endpoint_sentence(ev, primary),
        "sri4_mh_rr": _ci(results, primary.id, "RR", "MH", "z"),
        "sri4_mh_or": _ci(results, primary.id, "OR", "MH", "z"),
        "sri4_mh_rd": _ci(results, primary.id, "RD", "MH", "z"),
        "sri4_reml_rr": _ci(results, primary.id, "RR", "REML", "z"),
        "sri4_hk_rr": _ci(results, primary.id, "RR", "REML", "knha"),
        "sri4_dl_hk_rr": _ci(results, primary.id, "RR", "DL", "knha"),
        "sri4_hk_rd": _ci(results, primary.id, "RD", "REML", "knha"),
        "sri4_k": fmt_int(k),
        "sri4_k_words": f"{count_word(k)} trial{'s' if k != 1 else ''}",
        "sri4_when": when(primary.timepoint),
        "sri4_hk_df": f"{fmt_int(k - 1)} degree{'s' if k - 1 != 1 else ''} of freedom",
        "sri4_t_crit": fmt_num(stats.t.ppf(0.975, k - 1)),
        "sri4_z_crit": fmt_num(stats.norm.ppf(0.975)),
        "sri4_width_ratio": fmt_num(
            (np.log(hk["ci_high"]) - np.log(hk["ci_low"])) / (np.log(z["ci_high"]) - np.log(z["ci_low"])), 1
        ),
        "sri4_tau2": fmt_num(hk["tau2"], 3),
        "sri4_i2": fmt_pct(hk["i2"], 0),
        "sri4_q_p": fmt_num(hk["q_p"]),
        "sri4_pi_text": (
            f"not estimable: it needs at least {count_word(min_pi)} trials"
            if k < min_pi
            else f"{fmt_num(hk['pi_low'])} to {fmt_num(hk['pi_high'])}"
        ),
    }


def sensitivity_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """The per-protocol sensitivity analysis: which trials change population, their counts, the pooled estimates."""
    pp = analysis(ev, "sri4_week12_rct_pp")
    primary = analysis(ev, pp and load_protocol().analysis(pp.id).sensitivity_of or "sri4_week12_rct")
    if pp is None or primary is None or pp.populations == primary.populations:
        return {"sri4_pp_text": GlueMarkdown("No trial reports a per-protocol population beyond its primary one.")}
    changed = [s for (s, p), (_, q) in zip(pp.populations, primary.populations) if p != q]
    counts = two_arm_counts(ev, pp).set_index("study_id").loc[changed]
    parts = [
        (f"{c.label}: " if len(changed) > 1 else "")
        + f"{fmt_share(c.events_il2, c.total_il2)} on IL-2 and "
        + f"{fmt_share(c.events_control, c.total_control)} on placebo"
        for c in counts.itertuples()
    ]
    return {
        "sri4_pp_text": GlueMarkdown(
            f"{join_names(list(counts['label']))} also report{'s' if len(changed) == 1 else ''} a per-protocol "
            f"population ({'; '.join(parts)}) {citations(ev, changed)}."
        ),
        "sri4_pp_mh_rr": _ci(results, pp.id, "RR", "MH", "z"),
        "sri4_pp_hk_rr": _ci(results, pp.id, "RR", "REML", "knha"),
        "sri4_pp_trials": join_names(list(counts["label"])),
    }


def later_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """SRI-4 at the later time point and nephritis remission: the trials that report them, and their estimates."""
    values: dict[str, object] = {}
    w24, ln = analysis(ev, "sri4_week24_rct"), analysis(ev, "ln_complete_remission_rct")
    if w24 is not None:
        names = join_names([ev.studies.set_index("study_id").loc[s, "label"] for s in w24.study_ids])
        method = ("FE", "z") if w24.k == 1 else ("MH", "z")
        values |= {
            "sri4_w24_who": ("Only " if w24.k == 1 else "") + names + (" reports" if w24.k == 1 else " report"),
            "sri4_w24_when": when(w24.timepoint),
            "sri4_w24_rr": _ci(results, w24.id, "RR", *method),
            "sri4_w24_rd": _ci(results, w24.id, "RD", *method),
        }
    if ln is not None:
        method = ("FE", "z") if ln.k == 1 else ("MH", "z")
        c = two_arm_counts(ev, ln).iloc[0] if ln.k == 1 else None
        primary_trials = set(analysis(ev, "sri4_week12_rct").study_ids)
        silent = sorted(primary_trials - set(ln.study_ids))
        labels = ev.studies.set_index("study_id")["label"]
        values |= {
            "ln_il2": fmt_share(c["events_il2"], c["total_il2"]) if c is not None else "",
            "ln_placebo": fmt_share(c["events_control"], c["total_control"]) if c is not None else "",
            "ln_rr": _ci(results, ln.id, "RR", *method),
            "ln_rd": _ci(results, ln.id, "RD", *method),
            "ln_silent": (
                join_names([labels[s] for s in silent])
                + f" report{'s' if len(silent) == 1 else ''} no nephritis outcome."
                if silent
                else "Every trial of the primary analysis reports it."
            ),
        }
    return values


def refit_values(ev: Evidence, loo: pd.DataFrame, subgroups: pd.DataFrame) -> dict[str, object]:
    """What leave-one-out and the regimen split can say with this many trials."""
    protocol = load_protocol()
    k = len(loo) if len(loo) else 0
    regimen = ev.studies.set_index("study_id")
    primary = analysis(ev, "sri4_week12_rct")
    regimens = "; ".join(f"{regimen.loc[s, 'label']}: {str(regimen.loc[s, 'frequency'])}" for s in primary.study_ids)
    if k == 2:
        loo_text = (
            "With two trials, leaving one out leaves the other alone, so the analysis shows how much each trial "
            "drives the pooled estimate and nothing more."
        )
    else:
        loo_text = (
            f"Leaving out each of the {count_word(k)} trials in turn shows whether any one of them drives the "
            "pooled estimate."
        )
    one_each = bool((subgroups["k"] == 1).all()) if len(subgroups) else True
    return {
        "sri4_loo_text": loo_text,
        "sri4_regimens": regimens,
        "regimen_q": fmt_num(subgroups["q_between"].iloc[0]) if len(subgroups) else "",
        "regimen_q_p": fmt_num(subgroups["q_between_p"].iloc[0]) if len(subgroups) else "",
        "regimen_q_df": fmt_int(subgroups["q_between_df"].iloc[0]) if len(subgroups) else "",
        "regimen_confounding": (
            "With one trial per regimen, the test for a difference between the subgroups is the test of heterogeneity "
            "between the trials, and regimen is confounded with everything else that differs between them."
            if one_each
            else f"Subgroups need at least {count_word(protocol.minimum_k('subgroups'))} trials to say more than "
            "the trials themselves; regimen remains confounded with everything else that differs between trials."
        ),
    }


def open_label_rate_text(ev: Evidence, responses: pd.DataFrame) -> GlueMarkdown:
    """Which uncontrolled studies give a response rate, and what it is."""
    open_label = responses[responses["design"] != "rct"]
    if open_label.empty:
        return GlueMarkdown("No open-label study reports a response rate.")
    parts = [
        f"{r.label}'s {'interim ' if r.timepoint != 'end_of_study' else ''}response at {when(r.timepoint)}, "
        f"{fmt_share(r.events, r.total)}"
        for r in open_label.itertuples()
    ]
    lead = (
        "The only open-label response rate available is " if len(parts) == 1 else "The open-label response rates are "
    )
    unstated = open_label["outcome"].eq("sri_unspecified").any()
    tail = ", with the SRI threshold not stated" if unstated else ""
    o = ev.outcomes.set_index(["study_id", "arm", "outcome", "timepoint", "population"])
    keys = [(r.study_id, r.arm_id, r.outcome, r.timepoint, r.population) for r in open_label.itertuples()]
    sources = [k.strip() for key in keys for k in str(o.loc[key, "source"]).split(";")]
    cite = "{cite:p}`" + ",".join(dict.fromkeys(sources)) + "`"
    return GlueMarkdown(lead + "; ".join(parts) + tail + " " + cite + ".")


def activity_values(ev: Evidence) -> dict[str, object]:
    """Who reports disease activity how: medians per arm (within-arm tests), between-arm statements without values."""
    from ..efficacy import median_range_trials

    labels = ev.studies.set_index("study_id")["label"]
    trials = median_range_trials(ev)
    medians = (
        f"{join_names([labels[s] for s in trials])} report{'s' if len(trials) == 1 else ''} SELENA-SLEDAI, BILAG and "
        "the physician's global assessment as medians with ranges at each visit, with p-values that compare each arm "
        f"with its own baseline, not IL-2 with placebo {citations(ev, trials)}."
        if trials
        else "No randomised trial reports disease activity as medians per arm."
    )
    o = ev.outcomes.merge(ev.studies[["study_id", "design", "inclusion_status"]], on="study_id")
    q = o[
        (o["direction"] == "between_arm_difference")
        & (o["design"] == "rct")
        & (o["inclusion_status"] == "included")
        & o["outcome"].str.startswith("selena_sledai")
    ]
    statements = [
        f"{labels[r.study_id]} reports, for SELENA-SLEDAI: {r.note[0].lower() + r.note[1:]} "
        + citations(ev, [r.study_id])
        + "."
        for r in q.itertuples()
    ]
    return {
        "activity_text": GlueMarkdown(medians),
        "activity_between_text": GlueMarkdown(" ".join(statements) if statements else ""),
        "activity_trials": join_names([labels[s] for s in trials]) if trials else "no trial",
    }
