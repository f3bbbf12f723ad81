"""What the efficacy chapter shows of the randomised trials, written from the data for any number of trials.

The sentences that name trials or count them are generated here, so a trial added to
``data/`` appears in them; the qualitative statements the prose keeps are checked by the
claims registry (:mod:`helpers.review.claims`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import load_protocol
from helpers.report.labels import POPULATION_PHRASES, timepoint_label
from helpers.report.prose import (
    GlueMarkdown,
    cite,
    fmt_ci,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_share,
    join_words,
    lower_first,
    plural,
)
from helpers.review.analyses import Analysis, analysis, two_arm_counts

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def count_word(n: int) -> str:
    return NUMBER_WORDS.get(n, fmt_int(n))


def citations(ev: Evidence, study_ids) -> str:
    """A MyST citation of the trials' main reports, e.g. {cite:p}`he2020,humrich2022`."""
    return cite(ev.studies.set_index("study_id").loc[list(study_ids), "citation_key"])


def when(timepoint: str) -> str:
    return timepoint_label(timepoint).lower()


def arm_counts_sentence(ev: Evidence, a: Analysis, verb: str = "responded") -> str:
    """'In He 2020 (efficacy set), 16/29 (55.2%) patients on IL-2 and 9/30 (30.0%) on placebo responded; in ...'."""
    counts = two_arm_counts(ev, a)
    clauses = []
    for i, c in enumerate(counts.itertuples(index=False)):
        combined = f"{count_word(c.il2_arms)} IL-2 dose arms combined"
        arms = (f" ({combined})" if i == 0 else f", {combined},") if c.il2_arms > 1 else ""
        il2, ctl = fmt_share(c.events_il2, c.total_il2), fmt_share(c.events_control, c.total_control)
        where = f"{c.label} ({POPULATION_PHRASES.get(c.population, c.population)})"
        body = f"{il2} patients on IL-2{arms} and {ctl} on placebo {verb}" if i == 0 else f"{il2}{arms} and {ctl} did"
        clauses.append(f"in {where}, {body}")
    text = "; ".join(clauses)
    return text[0].upper() + text[1:] + " " + citations(ev, counts["study_id"]) + "."


def endpoint_sentence(ev: Evidence, a: Analysis) -> str:
    """Whether the trials met the endpoint, by the between-arm p-value each reports (that it was their primary
    endpoint is checked by the claims registry)."""
    from helpers.review.claims import p_below, reported_rows

    labels = ev.studies.set_index("study_id")["label"]
    rows = reported_rows(ev, a)
    met = [labels[r.study_id] for r in rows.itertuples() if r.p_comparison == "between_arms" and p_below(r.p_value)]
    k = a.k
    subject = labels[a.study_ids[0]] if k == 1 else ("Both trials" if k == 2 else f"All {count_word(k)} trials")
    outcome = ev.outcome_definitions.set_index("outcome").loc[a.outcome, "label"].removesuffix(" response")
    chose = f"{subject} chose the {outcome} at {when(a.timepoint)} as {'its' if k == 1 else 'their'} primary endpoint"
    if not met:
        return chose + (
            " and did not meet it." if k == 1 else " and neither met it." if k == 2 else " and none met it."
        )
    if len(met) == k:
        return chose + (" and met it." if k == 1 else " and each met it.")
    return f"{chose}; by the between-arm p-value each reports, {join_words(met)} met it and the others did not."


def _ci(results: pd.DataFrame, analysis_id: str, measure: str, method: str, test: str, digits: int = 2) -> str:
    row = results.loc[(analysis_id, measure, method, test)]
    return fmt_ci(row["estimate"], row["ci_low"], row["ci_high"], digits)


def no_data_figure(text: str):
    """A small figure saying that there is nothing to plot (so a chapter keeps its figure numbers for any k)."""
    from matplotlib.figure import Figure

    from helpers.report.style import use_book_style

    use_book_style()
    fig = Figure(figsize=(6.5, 0.8))
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=10)
    return fig


def forest_figure(ev: Evidence, a: Analysis | None, nothing: str) -> tuple[object, str]:
    """The risk-ratio forest plot of an analysis and its text description, or a 'no trial' figure."""
    from helpers.report.forest import alt_text, forest_plot
    from helpers.review.analyses import forest_inputs

    if a is None:
        return no_data_figure(nothing), nothing
    inputs = forest_inputs(ev, a, "RR", models=MAIN_MODELS if a.k > 1 else (("FE", "z"),))
    figure = forest_plot(
        inputs["studies"],
        inputs["pooled"],
        measure="RR",
        heterogeneity=inputs["heterogeneity"] if a.k > 1 else None,
        notes=inputs["notes"],
        left_labels={"il2_text": "IL-2 n/N", "control_text": "Placebo n/N"},
        favours=("placebo", "IL-2"),
    )
    return figure, alt_text(inputs["studies"], inputs["pooled"], "RR")


#: Models drawn in the forest plots and named in the prose when trials are pooled.
MAIN_MODELS = (("MH", "z"), ("REML", "z"), ("REML", "knha"))


def estimates_table(results: pd.DataFrame, a: Analysis | None) -> pd.DataFrame:
    """Every measure and model of one analysis, formatted; one 'no trial' row when nothing is pooled."""
    columns = ["Measure", "Method", "Test", "Estimate", "95% CI low", "95% CI high", "p"]
    if a is None:
        return pd.DataFrame([["–", "no trial", "–", "–", "–", "–", "–"]], columns=columns)
    r = results.loc[a.id].reset_index()
    return pd.DataFrame(
        {
            "Measure": r["measure"],
            "Method": r["method"],
            "Test": r["test"],
            "Estimate": r["estimate"].map(fmt_num),
            "95% CI low": r["ci_low"].map(fmt_num),
            "95% CI high": r["ci_high"].map(fmt_num),
            "p": ["–" if t == "posterior" else fmt_num(v, 3) for v, t in zip(r["p"], r["test"])],  # Bayesian: no p
        }
    )


def primary_analysis(ev: Evidence) -> tuple[Analysis | None, str]:
    planned = next(p for p in load_protocol().analyses if p.role == "primary")
    outcome = ev.outcome_definitions.set_index("outcome").loc[planned.outcome, "label"].removesuffix(" response")
    return analysis(ev, planned.id), f"No randomised trial reports the {outcome} at {when(planned.timepoint)}."


def _result_text(results: pd.DataFrame, a: Analysis) -> GlueMarkdown:
    if a.k == 1:
        return GlueMarkdown(
            f"With one trial nothing is pooled: its own risk ratio is {_ci(results, a.id, 'RR', 'FE', 'z')}, "
            f"its odds ratio {_ci(results, a.id, 'OR', 'FE', 'z')} and its risk difference "
            f"{_ci(results, a.id, 'RD', 'FE', 'z')}."
        )
    return GlueMarkdown(
        f"Pooled with the Mantel-Haenszel method {{cite:p}}`mantel1959`, the risk ratio is "
        f"{_ci(results, a.id, 'RR', 'MH', 'z')}, the odds ratio {_ci(results, a.id, 'OR', 'MH', 'z')} and the risk "
        f"difference {_ci(results, a.id, 'RD', 'MH', 'z')}. The random-effects risk ratio, with the "
        "between-trial variance estimated by REML, restricted maximum likelihood "
        "{cite:p}`harville1977,viechtbauer2010`, is "
        f"{_ci(results, a.id, 'RR', 'REML', 'z')} with a normal-based interval."
    )


def _few_trials_text(results: pd.DataFrame, a: Analysis) -> str:
    """What k trials allow: the Hartung-Knapp t interval, tau-squared and the prediction interval."""
    k = a.k
    if k == 1:
        return (
            "**What one trial allows.** A single trial gives no between-trial variance, no heterogeneity test and "
            "no prediction interval; its estimate is not a pooled one."
        )
    hk, z = results.loc[(a.id, "RR", "REML", "knha")], results.loc[(a.id, "RR", "REML", "z")]
    min_pi = load_protocol().minimum_k("prediction_interval")
    ratio = (np.log(hk["ci_high"]) - np.log(hk["ci_low"])) / (np.log(z["ci_high"]) - np.log(z["ci_low"]))
    pi = (
        f"not estimable: it needs at least {count_word(min_pi)} trials"
        if k < min_pi
        else f"{fmt_num(hk['pi_low'])} to {fmt_num(hk['pi_high'])}"
    )
    dl = _ci(results, a.id, "RR", "DL", "knha")
    words = f"{count_word(k)} trial{'s' if k != 1 else ''}"
    return (
        f"**What {words} allow.** With {words}, the Hartung-Knapp interval {{cite:p}}`hartung2001,knapp2003` uses a "
        f"t distribution on {plural(k - 1, 'degree')} of freedom, whose two-sided critical value is "
        f"{fmt_num(stats.t.ppf(0.975, k - 1))} instead of the normal {fmt_num(stats.norm.ppf(0.975))}: the REML risk "
        f"ratio becomes {_ci(results, a.id, 'RR', 'REML', 'knha')}, an interval {fmt_num(ratio, 1)} times as wide on "
        "the log scale; with the DerSimonian-Laird estimator of the between-trial variance "
        f"{{cite:p}}`dersimonian1986` instead, it is {dl}. The between-trial variance "
        f"(τ² = {fmt_num(hk['tau2'], 3)}, I² = {fmt_pct(hk['i2'], 0)}, heterogeneity p = {fmt_num(hk['q_p'])}) is "
        f"estimated from {fmt_int(k)} study estimates and is imprecise with so few trials. A prediction interval for "
        f"the effect in a new trial {{cite:p}}`higgins2009,riley2011` is {pi}. A handful of trials can show whether "
        "their results are compatible with each other and bound the average effect under a common-effect model; "
        "they cannot estimate how much the effect varies between settings, which is what a random-effects model and "
        "a prediction interval need."
    )


def _caption_estimates(results: pd.DataFrame, a: Analysis | None) -> str:
    if a is None:
        return "No trial to show."
    if a.k == 1:
        return f"The single trial's risk ratio: {_ci(results, a.id, 'RR', 'FE', 'z')}."
    return (
        f"Fixed effect (Mantel-Haenszel): {_ci(results, a.id, 'RR', 'MH', 'z')}; REML random effects with a "
        f"Hartung-Knapp interval: {_ci(results, a.id, 'RR', 'REML', 'knha')}."
    )


def primary_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """Glue values of the primary analysis, for any number of trials (results indexed by analysis, measure,
    method, test)."""
    primary, nothing = primary_analysis(ev)
    planned = next(p for p in load_protocol().analyses if p.role == "primary")
    values: dict[str, object] = {"sri4_when": when(planned.timepoint)}
    if primary is None:
        return values | {
            "sri4_endpoint_text": nothing,
            "sri4_counts_text": GlueMarkdown(""),
            "sri4_result_text": GlueMarkdown(""),
            "sri4_few_trials_text": GlueMarkdown(""),
            "sri4_caption_estimates": _caption_estimates(results, None),
            "sri4_k_words": "no trial",
        }
    return values | {
        "sri4_counts_text": GlueMarkdown(arm_counts_sentence(ev, primary)),
        "sri4_endpoint_text": endpoint_sentence(ev, primary),
        "sri4_result_text": _result_text(results, primary),
        "sri4_few_trials_text": GlueMarkdown(_few_trials_text(results, primary)),
        "sri4_caption_estimates": _caption_estimates(results, primary),
        "sri4_k_words": f"{count_word(primary.k)} trial{'s' if primary.k != 1 else ''}",
    }


def sensitivity_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """The per-protocol sensitivity analysis: which trials change population, their counts, the estimates."""
    pp = next((analysis(ev, p.id) for p in load_protocol().analyses if p.role == "sensitivity"), None)
    primary, _ = primary_analysis(ev)
    if pp is None or primary is None or pp.populations == primary.populations:  # the protocol drops such a repeat
        return {
            "sri4_pp_text": GlueMarkdown(
                "No trial reports a per-protocol population beyond the one its primary analysis uses, so this "
                "sensitivity analysis would repeat the primary one."
            ),
            "sri4_pp_result_text": "",
            "sri4_pp_caption": "No trial changes population.",
        }
    changed = [s for (s, p), (_, q) in zip(pp.populations, primary.populations) if p != q]
    counts = two_arm_counts(ev, pp).set_index("study_id").loc[changed]
    parts = [
        (f"{c.label}: " if len(changed) > 1 else "")
        + f"{fmt_share(c.events_il2, c.total_il2)} on IL-2 and "
        + f"{fmt_share(c.events_control, c.total_control)} on placebo"
        for c in counts.itertuples()
    ]
    method = ("MH", "z") if pp.k > 1 else ("FE", "z")
    hk = _ci(results, pp.id, "RR", "REML", "knha") if pp.k > 1 else None
    estimates = f"the Mantel-Haenszel risk ratio is {_ci(results, pp.id, 'RR', *method)}" + (
        f" and the REML Hartung-Knapp one {hk}" if hk else ""
    )
    return {
        "sri4_pp_text": GlueMarkdown(
            f"{join_words(list(counts['label']))} also report{'s' if len(changed) == 1 else ''} a per-protocol "
            f"population: {'; '.join(parts)} {citations(ev, changed)}."
        ),
        "sri4_pp_result_text": f"Replacing the primary-analysis counts of {join_words(list(counts['label']))} "
        f"with these, {estimates}.",
        "sri4_pp_caption": _caption_estimates(results, pp),
    }


def _later_sentence(ev: Evidence, results: pd.DataFrame, analysis_id: str) -> tuple[Analysis | None, str]:
    a = analysis(ev, analysis_id)
    planned = load_protocol().analysis(analysis_id)
    outcome = ev.outcome_definitions.set_index("outcome").loc[planned.outcome, "label"]
    if a is None:
        return None, f"No randomised trial reports {outcome.lower()} at {when(planned.timepoint)}."
    method = ("FE", "z") if a.k == 1 else ("MH", "z")
    return a, f"risk ratio {_ci(results, a.id, 'RR', *method)}, risk difference {_ci(results, a.id, 'RD', *method)}"


def later_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """The SRI-4 at the later time point and nephritis remission, for whichever trials report them."""
    labels = ev.studies.set_index("study_id")["label"]
    parts = []
    w24, text = _later_sentence(ev, results, "sri4_week24_rct")
    if w24 is None:
        parts.append(text)
    else:
        names = join_words([labels[s] for s in w24.study_ids])
        who = f"Only {names} reports" if w24.k == 1 else f"{names} report"
        parts.append(f"{who} the SRI-4 at {when(w24.timepoint)}, after the treatment-free follow-up: {text}.")
    ln, text = _later_sentence(ev, results, "ln_complete_remission_rct")
    if ln is None:
        parts.append(text)
    else:
        counts = two_arm_counts(ev, ln)
        arms = "; ".join(
            f"{c.label}: {fmt_share(c.events_il2, c.total_il2)} on IL-2 and "
            f"{fmt_share(c.events_control, c.total_control)} on placebo"
            for c in counts.itertuples()
        )
        from helpers.review.claims import reported_rows

        p = [f"{r.p_value} ({labels[r.study_id]})" for r in reported_rows(ev, ln).itertuples() if pd.notna(r.p_value)]
        reported = f" The between-arm p-value reported is {join_words(p)}." if p else ""
        parts.append(
            f"Among the patients with lupus nephritis, complete remission was reached by {arms}; {text}."
            f"{reported} The Wald interval computed here from such small counts is wide, a reminder that the "
            "subgroup holds few patients."
        )
        primary, _ = primary_analysis(ev)
        silent = [s for s in (primary.study_ids if primary else ()) if s not in ln.study_ids]
        if silent:
            names = join_words([labels[s] for s in silent])
            parts.append(f"{names} report{'s' if len(silent) == 1 else ''} no nephritis outcome.")
    return {"later_text": GlueMarkdown(" ".join(parts))}


def refit_tables(ev: Evidence) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leave-one-out and regimen-subgroup refits of the primary analysis (REML, RR); empty below two trials."""
    from helpers.review.efficacy import leave_one_out, regimen_subgroups

    primary, _ = primary_analysis(ev)
    if primary is None or primary.k < load_protocol().minimum_k("leave_one_out"):
        return pd.DataFrame(), pd.DataFrame()
    return leave_one_out(ev, primary), regimen_subgroups(ev, primary)


def _shown(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(
            [["not applicable: fewer than two trials"] + ["–"] * (len(columns) - 1)], columns=list(columns.values())
        )
    out = df[list(columns)].copy()
    for c in ("estimate", "ci_low", "ci_high"):
        out[c] = out[c].map(fmt_num)
    return out.rename(columns=columns)


def loo_table(loo: pd.DataFrame) -> pd.DataFrame:
    return _shown(
        loo,
        {"left_out": "Trial left out", "k": "k", "estimate": "RR", "ci_low": "95% CI low", "ci_high": "95% CI high"},
    )


def regimen_table(subgroups: pd.DataFrame) -> pd.DataFrame:
    return _shown(
        subgroups,
        {
            "group": "Regimen",
            "studies": "Trials",
            "k": "k",
            "estimate": "RR",
            "ci_low": "95% CI low",
            "ci_high": "95% CI high",
        },
    )


def refit_values(ev: Evidence, loo: pd.DataFrame, subgroups: pd.DataFrame) -> dict[str, object]:
    """What leave-one-out and the regimen split can say with this many trials."""
    protocol = load_protocol()
    primary, _ = primary_analysis(ev)
    k = len(loo)
    if k == 0:
        return {
            "sri4_refit_text": GlueMarkdown(
                "With fewer than two trials there is nothing to leave out and no subgroup to compare."
            )
        }
    studies = ev.studies.set_index("study_id")
    regimens = "; ".join(f"{studies.loc[s, 'label']}: {studies.loc[s, 'frequency']}" for s in primary.study_ids)
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
    one_each = bool((subgroups["k"] == 1).all())
    test = (
        f"the test for a difference between the subgroups gives Q = {fmt_num(subgroups['q_between'].iloc[0])} on "
        f"{fmt_int(subgroups['q_between_df'].iloc[0])} df, p = {fmt_num(subgroups['q_between_p'].iloc[0])}"
    )
    confounding = (
        "With one trial per regimen, this test is the test of heterogeneity between the trials, and regimen is "
        "confounded with everything else that differs between them."
        if one_each
        else f"Subgroups need at least {count_word(protocol.minimum_k('subgroups'))} trials to say more than the "
        "trials themselves; regimen remains confounded with everything else that differs between trials."
    )
    return {
        "sri4_refit_text": GlueMarkdown(
            f"{loo_text} The trials also differ in regimen ({regimens}); split by regimen, {test}. "
            f"{confounding} {dose_text(ev, primary)} {small_study_text(ev, primary)}".replace("  ", " ").rstrip()
        )
    }


def small_study_text(ev: Evidence, primary: Analysis) -> str:
    """Egger's test where the protocol allows it (enough trials), else why it is not run."""
    from helpers.review.analyses import fit
    from helpers.stats.small_study import small_study_test

    minimum = load_protocol().minimum_k("small_study_tests")
    test = small_study_test(fit(two_arm_counts(ev, primary), "RR", "REML", "z"), minimum)
    if test is None:
        return (
            f"Small-study tests such as Egger's regression test {{cite:p}}`egger1997` need at least "
            f"{count_word(minimum)} trials under the protocol; with {count_word(primary.k)} "
            f"trial{'s' if primary.k != 1 else ''} none is run, so funnel-plot asymmetry is not judged."
        )
    return (
        f"Egger's regression test for small-study effects {{cite:p}}`egger1997` gives t = "
        f"{fmt_num(test.statistic)} on {test.df} df, p = {fmt_num(test.pval, 3)}."
    )


def dose_text(ev: Evidence, primary: Analysis) -> str:
    """The dose subgroups, where some dose has enough trials (empty otherwise)."""
    from helpers.review.efficacy import dose_subgroup_results

    rows = dose_subgroup_results(ev, primary)
    if rows.empty:
        return ""
    parts = [
        f"{r.label.split('IL-2 dose ')[1].split(' (')[0]}: {fmt_ci(r.estimate, r.ci_low, r.ci_high)} "
        f"from {plural(r.k, 'trial')}"
        for r in rows.itertuples()
    ]
    return (
        "Split by IL-2 dose, with a trial's shared placebo arm divided evenly among its dose arms so that no "
        "placebo patient is counted twice {cite:p}`higgins2023ch23`, the REML risk ratios are: "
        + "; ".join(parts)
        + "."
    )


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
    return GlueMarkdown(lead + "; ".join(parts) + tail + " " + cite(o.loc[key, "source"] for key in keys) + ".")


def unpooled_rate_text(ev: Evidence) -> GlueMarkdown:
    """The uncontrolled responses that are not SRI responses, each flagged as not pooled ('' when there are none)."""
    from helpers.review.efficacy import unpooled_responses

    rows = unpooled_responses(ev)
    if rows.empty:
        return GlueMarkdown("")

    def phrase(label: str) -> str:  # 'SLEDAI reduction (any)' keeps its acronym; 'Clinical response' is lowered
        return label if label[:2].isupper() else lower_first(label)

    parts = []
    for _, g in rows.groupby("study_id", sort=False):
        counts = [f"{phrase(r.outcome_label)} in {fmt_share(r.events, r.total)}" for r in g.itertuples()]
        parts.append(f"{g['label'].iloc[0]} reports {join_words(counts)} {cite(g['source'])}")
    return GlueMarkdown(
        "Not pooled: "
        + "; ".join(parts)
        + ". These are not SRI responses (a fall in SLEDAI of any size counts patients an SRI would not, and a "
        "response without a stated definition cannot be matched to any index), so they are shown in "
        "the table of clinical responses at the start of this chapter and left out of the pooled rates."
    )


def activity_values(ev: Evidence) -> dict[str, object]:
    """Who reports disease activity how: medians per arm (within-arm tests), between-arm statements without values."""
    from helpers.review.efficacy import median_range_trials

    labels = ev.studies.set_index("study_id")["label"]
    trials = median_range_trials(ev)
    medians = (
        f"{join_words([labels[s] for s in trials])} report{'s' if len(trials) == 1 else ''} SELENA-SLEDAI, BILAG and "
        "the physician's global assessment as medians with ranges at each visit, with p-values that compare each arm "
        f"with its own baseline, not IL-2 with placebo {citations(ev, trials)}."
        if trials
        else "No randomised trial reports disease activity as medians per arm."
    )
    o = ev.outcomes.merge(ev.included_studies()[["study_id", "design", "inclusion_status"]], on="study_id")
    q = o[
        (o["direction"] == "between_arm_difference")
        & (o["design"] == "rct")
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
        "activity_trials": join_words([labels[s] for s in trials]) if trials else "no trial",
    }


def rate_values(rates: pd.DataFrame) -> dict[str, str]:
    """Pooled response rates (percent) of the IL-2 and the placebo arms; 'no arm' where a group has none."""

    def rate(analysis_id: str, measure: str) -> str:
        if (analysis_id, measure) not in rates.index:
            return "not available (no such arm)"
        row = rates.loc[(analysis_id, measure)]
        return fmt_ci(row["estimate"], row["ci_low"], row["ci_high"], 0, scale=100, unit="%")

    il2 = ("response_rate_il2_arms", "PLO")
    return {
        "rate_il2_plo": rate(*il2),
        "rate_il2_pft": rate("response_rate_il2_arms", "PFT"),
        "rate_placebo_plo": rate("response_rate_placebo_arms", "PLO"),
        "rate_il2_k": fmt_int(rates.loc[il2, "k"]) if il2 in rates.index else "0",
        "rate_il2_i2": fmt_pct(rates.loc[il2, "i2"], 0) if il2 in rates.index else "not applicable",
    }


#: How the book words each way of estimating a mean and SD from a median (the labels of
#: ``helpers.stats.effects.mean_sd_from_median``), each method cited.
MEAN_SD_METHOD_PROSE = {
    "mean: Luo 2018 (median, min, max); SD: Wan 2014 (range)": (
        "the means from the medians, minima and maxima by the method of {cite:t}`luo2018` and the standard "
        "deviations from the ranges by that of {cite:t}`wan2014`"
    ),
    "mean: Luo 2018 (median, q1, q3); SD: Wan 2014 (IQR)": (
        "the means from the medians and quartiles by the method of {cite:t}`luo2018` and the standard deviations "
        "from the interquartile ranges by that of {cite:t}`wan2014`"
    ),
    "mean: Luo 2018 (median, min, q1, q3, max); SD: Wan 2014 (range and IQR)": (
        "the means from the five-number summaries by the method of {cite:t}`luo2018` and the standard deviations "
        "from the ranges and interquartile ranges by that of {cite:t}`wan2014`"
    ),
}


def estimated_md_text(ev: Evidence) -> GlueMarkdown:
    """The median-to-mean sensitivity analysis in one sentence, for whichever trials report medians and ranges."""
    from helpers.review.efficacy import estimated_md_results, median_range_trials

    rows = estimated_md_results(ev)
    if rows.empty:
        return GlueMarkdown(
            "No randomised trial reports SELENA-SLEDAI as medians and ranges, so no mean difference is estimated."
        )
    trials = median_range_trials(ev)
    method = MEAN_SD_METHOD_PROSE[estimated_mean_difference_method(ev, trials[0])]
    parts = [
        f"{fmt_ci(r.estimate, r.ci_low, r.ci_high, 1)} points at {when(r.timepoint)} in {r.studies}"
        for r in rows.itertuples()
    ]
    return GlueMarkdown(
        f"Converting the medians and ranges of SELENA-SLEDAI to estimated means and standard deviations, {method}, "
        f"gives an estimated mean difference, IL-2 minus placebo, of {join_words(parts)}."
    )


def estimated_mean_difference_method(ev: Evidence, study_id: str) -> str:
    from helpers.review.efficacy import estimated_mean_difference

    return estimated_mean_difference(ev, study_id=study_id)["method"]


# ---------------------------------------------------------------------------
# Robustness of the primary result (protocol ``robustness``)
# ---------------------------------------------------------------------------
def robustness_table(ev: Evidence) -> pd.DataFrame:
    """The primary analysis's robustness scenarios (:func:`helpers.review.robustness.robustness_table`) for reading."""
    from helpers.review.robustness import robustness_table as scenarios

    return robustness_display(scenarios(ev))


def robustness_display(table: pd.DataFrame) -> pd.DataFrame:
    """Robustness scenarios for reading (interval limits to three decimals: they lie close to 1)."""
    if table.empty:
        return pd.DataFrame(
            [["–", "no primary analysis", "–", "–"]], columns=["Scenario", "RR", "95% CI", "Includes 1"]
        )
    return pd.DataFrame(
        {
            "Scenario": table["description"],
            "RR": table["estimate"].map(fmt_num),
            "95% CI": [f"{fmt_num(lo, 3)} to {fmt_num(hi, 3)}" for lo, hi in zip(table["ci_low"], table["ci_high"])],
            "Includes 1": table["crosses_1"].map({True: "yes", False: "no"}),
        }
    )


def _side(row: pd.Series) -> str:
    return "includes 1" if row["crosses_1"] else "excludes 1"


def robustness_values(ev: Evidence) -> dict[str, object]:
    """Glue values and the paragraph on the primary result's robustness: non-responder imputation, the
    fragility index and the arm splits consistent with the reported percentages, from the data."""
    from helpers.review import robustness

    a = robustness.primary_analysis(ev)
    table = robustness.robustness_table(ev, a)
    values: dict[str, object] = {}
    if a is None:
        return values | {
            "sri4_robustness_text": GlueMarkdown("No trial enters the primary analysis, so there is nothing to test."),
            "sri4_fragility_index": "not applicable",
            "sri4_split_range": "not applicable",
            "sri4_nri_estimate": "not applicable",
        }
    rows = table.set_index("scenario")
    base, nri = rows.loc["as_analysed"], rows.loc["non_responders"]

    def ci(r: pd.Series) -> str:
        return fmt_ci(r["estimate"], r["ci_low"], r["ci_high"])

    nri_counts = robustness.non_responder_counts(ev, a)
    added = [
        (r.label, r.unanalysed_il2, r.unanalysed_control)
        for r in nri_counts.itertuples(index=False)
        if r.unanalysed_il2 or r.unanalysed_control
    ]
    parts = [f"As analysed, the risk ratio's interval {_side(base)} (lower limit {fmt_num(base['ci_low'], 3)})."]
    if added:
        who = "; ".join(
            f"{label}: "
            + join_words(
                [
                    f"{count_word(n)} {arm} patient{'s' if n != 1 else ''}"
                    for arm, n in (("IL-2", i), ("placebo", c))
                    if n
                ]
            )
            for label, i, c in added
        )
        parts.append(
            f"Counting the patients who were randomised but not analysed as non-responders ({who}), the risk ratio is "
            f"{ci(nri)}, an interval that {_side(nri)}."
        )
    else:
        parts.append("Every randomised patient is analysed, so non-responder imputation changes nothing.")
    frag = robustness.fragility(ev, a)
    counts = two_arm_counts(ev, a)
    if frag.index is None:
        values["sri4_fragility_index"] = "not defined"
        parts.append("No change of outcomes within the arms' sizes moves the interval across 1.")
    else:
        r = rows.loc["fragility"]
        kind = "reverse fragility index" if frag.reverse else "fragility index"
        bound = "at most " if frag.definition == "greedy" else ""
        values["sri4_fragility_index"] = bound + fmt_int(frag.index)
        parts.append(
            f"Its {kind} is {bound}{fmt_int(frag.index)}: "
            f"with {robustness.changes_text(counts, frag, count_word)} the risk ratio would be {ci(r)}."
        )
    trials = robustness.trial_fragility(ev, a)
    alone = [f"{t.label} p = {fmt_num(t.fisher_p, 3)}" for t in trials.itertuples() if t.fragility_index is None]
    if len(alone) == len(trials):
        parts.append(
            f"No trial is significant on its own by Fisher's exact test {{cite:p}}`fisher1922` ({'; '.join(alone)}), "
            "so no trial has a "
            "fragility index of its own."
        )
    splits = robustness.arm_splits(ev, a)
    if len(splits) > 1:
        cand = robustness.split_candidates(ev, a)
        varied = cand[cand["varied"]]
        trials_varied = list(dict.fromkeys(varied["label"]))
        low, high = splits["ci_low"].min(), splits["ci_low"].max()
        values["sri4_split_range"] = f"{fmt_num(low, 3)} to {fmt_num(high, 3)}"
        n_cross = int(splits["crosses_1"].sum())
        deviation = load_protocol().robustness["arm_split"]["max_share_deviation"]
        parts.append(
            f"{join_words(trials_varied)}'s arm sizes are derived, not reported; of the splits of "
            f"{'its' if len(trials_varied) == 1 else 'their'} randomised patients with the IL-2 share within "
            f"{fmt_num(100 * deviation, 0)} percentage points of the derived one, {count_word(len(splits))} reproduce "
            f"the reported percentages (IL-2 arm of {fmt_int(varied['total_il2'].min())} to "
            f"{fmt_int(varied['total_il2'].max())} patients), and their lower limits run from "
            f"{values['sri4_split_range']}; "
            + (
                "none of them includes 1."
                if n_cross == 0
                else f"{count_word(n_cross)} of them {'includes' if n_cross == 1 else 'include'} 1."
            )
        )
    else:
        values["sri4_split_range"] = "not applicable: no arm size is derived"
    values["sri4_nri_estimate"] = ci(nri)
    inputs_matter = bool((table.loc[table["scenario"] != "fragility", "crosses_1"] != base["crosses_1"]).any())
    hangs = []
    if frag.index == 1 and not frag.reverse:
        hangs.append("on a single patient's outcome")
    if inputs_matter:
        hangs.append("on inputs the sources do not report directly")
    parts.append(
        f"Whether the interval excludes 1 therefore hangs {' and '.join(hangs)} ({{numref}}`tbl-sri4-robustness`)."
        if hangs
        else "The scenarios are in {numref}`tbl-sri4-robustness`."
    )
    values["sri4_robustness_text"] = GlueMarkdown(" ".join(parts))
    return values


# ---------------------------------------------------------------------------
# Bayesian random effects (the protocol's priors on tau)
# ---------------------------------------------------------------------------
def bayes_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """The Bayesian estimates of the primary analysis under each prior, in words, and the posterior figure."""
    from helpers.report.posterior import posterior_alt_text, posterior_figure
    from helpers.review.bayesian import posterior_inputs

    primary, nothing = primary_analysis(ev)
    if primary is None:
        from helpers.report.style import use_book_style

        use_book_style()
        from matplotlib.figure import Figure

        empty = Figure(figsize=(6.0, 0.8))
        empty.text(0.5, 0.5, nothing, ha="center", va="center", fontsize=10)
        return {"bayes_text": nothing, "bayes_alt": nothing, "bayes_figure": empty}
    flat = results.reset_index() if "analysis" not in results.columns else results
    rows = flat[(flat["analysis"] == primary.id) & (flat["measure"] == "RR") & (flat["test"] == "posterior")]
    plan = load_protocol().bayesian
    sentences = []
    for r in rows.itertuples(index=False):
        scale = r.method.removeprefix("Bayes HN(").removesuffix(")")
        role = "the main prior" if float(scale) == plan.main_scale else "a wider prior, as a sensitivity analysis"
        sentences.append(
            f"With {role} (half-normal on τ with scale {scale}), the posterior median risk ratio is "
            f"{fmt_ci(r.estimate, r.ci_low, r.ci_high).replace('95% CI', '95% credible interval')}, the probability "
            f"that IL-2 raises the response rate (RR above 1) is {fmt_pct(100 * r.prob_above_null, 0)}, and a new "
            f"trial's risk ratio would lie between {fmt_num(r.pi_low)} and {fmt_num(r.pi_high)} (95% prediction)."
        )
    curves, intervals = posterior_inputs(ev, primary, flat)
    return {
        "bayes_text": " ".join(sentences),
        "bayes_alt": posterior_alt_text(curves, intervals),
        "bayes_figure": posterior_figure(curves, intervals),
    }
