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
from helpers.report.labels import ARM_LABELS, DESIGN_LABELS, POPULATION_PHRASES, timepoint_label
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

    labels = ev.study_labels
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


def _ci_near_null(row: pd.Series, null: float = 1.0, p: bool = False) -> str:
    """'1.33 (95% CI 1.004 to 1.757)': the interval to three decimals where a limit would round to the null at two
    (then whether it excludes the null shows); with ``p``, the p-value inside the brackets."""
    near = any(round(float(row[c]), 2) == null for c in ("ci_low", "ci_high"))
    digits = 3 if near else 2
    text = f"{fmt_num(row['estimate'])} (95% CI {fmt_num(row['ci_low'], digits)} to {fmt_num(row['ci_high'], digits)}"
    return text + (f"; p = {fmt_num(row['p'], 3)})" if p else ")")


def no_data_figure(text: str):
    """A small figure saying that there is nothing to plot (so a chapter keeps its figure numbers for any k)."""
    from matplotlib.figure import Figure

    from helpers.report.style import use_book_style

    use_book_style()
    fig = Figure(figsize=(6.5, 0.8))
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=10)
    return fig


def forest_figure(ev: Evidence, a: Analysis | None, nothing: str) -> tuple[object, str]:
    """The risk-ratio forest plot of an analysis under its primary model (the protocol's ``models.primary``; a
    single trial's own estimate), with its text description, or a 'no trial' figure."""
    from helpers.report.forest import alt_text, forest_plot
    from helpers.review.analyses import primary_forest_inputs

    if a is None:
        return no_data_figure(nothing), nothing
    inputs = primary_forest_inputs(ev, a)
    figure = forest_plot(
        inputs["studies"],
        inputs["pooled"],
        measure="RR",
        heterogeneity=inputs["heterogeneity"],
        notes=inputs["notes"],
        left_labels={"il2_text": "IL-2 n/N", "control_text": "Placebo n/N"},
        favours=("placebo", "IL-2"),
    )
    return figure, alt_text(inputs["studies"], inputs["pooled"], "RR")


def primary_analysis(ev: Evidence) -> tuple[Analysis | None, str]:
    planned = next(p for p in load_protocol().analyses if p.role == "primary")
    outcome = ev.outcome_definitions.set_index("outcome").loc[planned.outcome, "label"].removesuffix(" response")
    return analysis(ev, planned.id), f"No randomised trial reports the {outcome} at {when(planned.timepoint)}."


MEASURE_NAMES = {"RR": "risk ratio", "OR": "odds ratio", "RD": "risk difference"}


def _primary_row(results: pd.DataFrame, a: Analysis) -> tuple[pd.Series, tuple[str, str, str]]:
    from helpers.review.analyses import primary_model

    model = primary_model(a.k)
    return results.loc[(a.id, *model)], model


def _primary_text(results: pd.DataFrame, a: Analysis) -> str:
    """The protocol's primary estimate, first: its model, the estimate with its interval and p."""
    from helpers.review.analyses import METHOD_NAMES

    row, (measure, method, _) = _primary_row(results, a)
    estimate = _ci_near_null(row, p=True)
    if a.k == 1:
        return (
            f"**Primary result.** With one trial nothing is pooled: the protocol's primary estimate is the trial's own "
            f"{MEASURE_NAMES[measure]}, {estimate}."
        )
    model = "common-effect" if row["model"] == "fixed" else "random-effects"
    return (
        f"**Primary result.** The protocol's primary analysis ({{ref}}`sec-protocol`), the {METHOD_NAMES[method]}"
        + (" {cite:p}`mantel1959`" if method == "MH" else "")
        + f" "
        f"{model} {MEASURE_NAMES[measure]} of the {count_word(a.k)} trials, is {estimate}."
    )


def _primary_caveat(results: pd.DataFrame, a: Analysis) -> str:
    """The common-effect caveat of a pooled primary estimate (empty for one trial or a random-effects model)."""
    from helpers.review.analyses import METHOD_NAMES

    row, (_, method, _) = _primary_row(results, a)
    if a.k == 1 or row["model"] != "fixed":
        return ""
    few = (
        f", and with {count_word(a.k)} trials that between-trial variation cannot be estimated usefully"
        if a.k < load_protocol().minimum_k("prediction_interval")
        else ""
    )
    return (
        f"The {METHOD_NAMES[method]} model assumes that the {count_word(a.k)} trials estimate one true effect, and "
        "its interval reflects only the chance variation within them; the trials' estimates scatter around it with "
        f"I² = {fmt_pct(row['i2'], 0)} (Q = {fmt_num(row['q'])} on {fmt_int(a.k - 1)} df, p = {fmt_num(row['q_p'])})"
        f"{few}. The random-effects and Bayesian analyses below show what between-trial variation would do to the "
        "estimate."
    )


def _other_text(results: pd.DataFrame, a: Analysis) -> str:
    """The other measures under the primary model, and where every model is."""
    from helpers.review.analyses import METHOD_NAMES, primary_model

    measure, method, test = primary_model(a.k)
    others = [m for m in a.measures if m != measure]
    parts = [
        f"{'its' if a.k == 1 else 'the'} {MEASURE_NAMES[m]} {'is ' if i == 0 else ''}"
        f"{_ci(results, a.id, m, method, test)}"
        for i, m in enumerate(others)
    ]
    text = ""
    if parts:
        lead = f"Under the same {METHOD_NAMES.get(method, method)} model, " if a.k > 1 else ""
        sentence = lead + join_words(parts) + "."
        text = sentence[0].upper() + sentence[1:]
    return (
        text + " Every measure under every model of the protocol (fixed and random effects, normal and "
        "Hartung-Knapp intervals, Bayesian) is in the results appendix ({ref}`sec-all-models`); they are "
        "sensitivity analyses of the primary one."
    ).strip()


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
    words = f"{count_word(k)} trial{'s' if k != 1 else ''}"
    return (
        f"**What {words} allow.** As a sensitivity analysis, the random-effects risk ratio, with the between-trial "
        "variance estimated by REML, restricted maximum likelihood {cite:p}`harville1977,viechtbauer2010`, is "
        f"{_ci(results, a.id, 'RR', 'REML', 'z')} with a normal-based interval. With {words}, the Hartung-Knapp "
        "interval {cite:p}`hartung2001,knapp2003` uses a t distribution on "
        f"{plural(k - 1, 'degree')} of freedom, whose "
        f"two-sided critical value is {fmt_num(stats.t.ppf(0.975, k - 1))} instead of the normal "
        f"{fmt_num(stats.norm.ppf(0.975))}: the REML risk ratio becomes {_ci(results, a.id, 'RR', 'REML', 'knha')}, "
        f"an interval {fmt_num(ratio, 1)} times as wide on the log scale, and with the DerSimonian-Laird estimator "
        f"{{cite:p}}`dersimonian1986` it is {_ci(results, a.id, 'RR', 'DL', 'knha')}. The between-trial variance "
        f"(τ² = {fmt_num(hk['tau2'], 3)}, I² = "
        f"{fmt_pct(hk['i2'], 0)}, heterogeneity p = {fmt_num(hk['q_p'])}, around the inverse-variance estimate) is "
        f"estimated from {fmt_int(k)} study estimates and is imprecise with so few trials. A prediction interval for "
        f"the effect in a new trial {{cite:p}}`higgins2009,riley2011` is {pi}. A handful of trials can show whether "
        "their results are compatible with "
        "each other and bound the average effect under a common-effect model; they cannot estimate how much the "
        "effect varies between settings, which is what a random-effects model and a prediction interval need."
    )


def _caption_estimates(results: pd.DataFrame, a: Analysis | None) -> str:
    if a is None:
        return "No trial to show."
    row, (_, method, _) = _primary_row(results, a)
    if a.k == 1:
        return f"The single trial's risk ratio (nothing pooled): {_ci_near_null(row)}."
    from helpers.review.analyses import METHOD_NAMES

    return (
        f"Primary analysis ({METHOD_NAMES[method]}, common effect): {_ci_near_null(row)}. Random-effects and "
        "Bayesian fits are sensitivity analyses (text)."
        if row["model"] == "fixed"
        else f"Primary analysis ({METHOD_NAMES[method]}): {_ci_near_null(row)}."
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
            "sri4_primary_text": GlueMarkdown(""),
            "sri4_other_text": GlueMarkdown(""),
            "sri4_few_trials_text": GlueMarkdown(""),
            "sri4_caption_estimates": _caption_estimates(results, None),
            "sri4_k_words": "no trial",
        }
    caveat = _primary_caveat(results, primary)
    return values | {
        "sri4_counts_text": GlueMarkdown(arm_counts_sentence(ev, primary)),
        "sri4_endpoint_text": endpoint_sentence(ev, primary),
        "sri4_primary_text": GlueMarkdown(f"{_primary_text(results, primary)} {caveat}".strip()),
        "sri4_other_text": GlueMarkdown(_other_text(results, primary)),
        "sri4_few_trials_text": GlueMarkdown(_few_trials_text(results, primary)),
        "sri4_caption_estimates": _caption_estimates(results, primary),
        "sri4_k_words": f"{count_word(primary.k)} trial{'s' if primary.k != 1 else ''}",
    }


def per_protocol_values(ev: Evidence) -> dict[str, object]:
    """Each trial's per-protocol result, once, in words (protocol ``per_protocol``): the share of the randomised
    patients of each arm it keeps, whether its source calls it post hoc, its RoB 2 judgement and its own risk
    ratio; never pooled and never counted as the trial separating IL-2 from placebo."""
    from helpers.review.efficacy import per_protocol_results

    rows = per_protocol_results(ev)
    if rows.empty:
        return {
            "sri4_pp_text": GlueMarkdown(
                "No randomised trial reports a per-protocol result of an outcome the protocol analyses."
            )
        }
    names = ev.outcome_definitions.set_index("outcome")["label"]
    paragraphs = []
    for r in rows.itertuples(index=False):
        outcome = f"the {names[r.outcome].removesuffix(' response')} at {when(r.timepoint)}"
        kind = "a per-protocol set that its source describes as post hoc" if r.post_hoc else "a per-protocol set"
        if r.randomised_il2 is None:
            kept = "The sources give no number randomised per arm, so the share of patients it keeps is not known."
        else:
            kept_total = r.total_il2 + r.total_control
            randomised = r.randomised_il2 + r.randomised_control
            derived = [
                w
                for w, flag in (
                    ("the randomised arm sizes from the total and the allocation ratio", r.randomised_derived),
                    ("the per-protocol arm sizes and counts from the reported percentages", r.counts_derived),
                )
                if flag
            ]
            kept = (
                f"It keeps {fmt_int(r.total_il2)} of the {fmt_int(r.randomised_il2)} patients randomised to IL-2 "
                f"({fmt_pct(100 * r.total_il2 / r.randomised_il2, 0)}) and {fmt_int(r.total_control)} of the "
                f"{fmt_int(r.randomised_control)} randomised to placebo "
                f"({fmt_pct(100 * r.total_control / r.randomised_control, 0)}), {fmt_int(kept_total)} of "
                f"{fmt_int(randomised)} in all" + (f" (derived values: {'; '.join(derived)})" if derived else "") + "."
            )
        if r.rob2_overall:
            high = f", high in {join_words(list(r.rob2_high_domains))}" if r.rob2_high_domains else ""
            rob = (
                f" RoB 2 {{cite:p}}`sterne2019` judges this result at {r.rob2_overall.replace('_', ' ')} risk of "
                f"bias{high}; see {{ref}}`ch-risk-of-bias`."
            )
        else:
            rob = " RoB 2 was not applied to this result."
        p_words = "Fisher's exact p" if r.test == "fisher" else "p"
        paragraphs.append(
            f"{r.label} also reports {outcome} in {kind} {cite([r.source])}. {kept} In it, "
            f"{fmt_share(r.events_il2, r.total_il2)} on IL-2 and {fmt_share(r.events_control, r.total_control)} on "
            f"placebo responded: the trial's own risk ratio is {fmt_num(r.rr)} (95% CI {fmt_num(r.rr_low)} to "
            f"{fmt_num(r.rr_high)}; {p_words} = {fmt_num(r.p, 3)}).{rob}"
        )
    return {
        "sri4_pp_text": GlueMarkdown(
            "\n\n".join(paragraphs) + "\n\nA per-protocol set leaves out randomised patients, so the arms it "
            "compares are no longer the groups randomisation made, and one chosen after the results were known can "
            "favour the treatment. Under the protocol such a result is reported here once, for its trial alone: it "
            "is not pooled with another trial's result, does not replace the trial's intention-to-treat result in "
            "any analysis, and is not counted as the trial showing a difference between IL-2 and placebo."
        )
    }


def _later_sentence(ev: Evidence, results: pd.DataFrame, analysis_id: str) -> tuple[Analysis | None, str]:
    a = analysis(ev, analysis_id)
    planned = load_protocol().analysis(analysis_id)
    outcome = ev.outcome_definitions.set_index("outcome").loc[planned.outcome, "label"]
    if a is None:
        return None, f"No randomised trial reports {outcome.lower()} at {when(planned.timepoint)}."
    from helpers.review.analyses import primary_model

    _, method, test = primary_model(a.k)
    return a, (
        f"risk ratio {_ci(results, a.id, 'RR', method, test)}, risk difference {_ci(results, a.id, 'RD', method, test)}"
    )


def later_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """The SRI-4 at the later time point and nephritis remission, for whichever trials report them."""
    labels = ev.study_labels
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
    """Leave-one-out and regimen-subgroup refits of the primary analysis (REML, RR), each only where the protocol
    runs it (:func:`helpers.review.efficacy.refits_run`); empty otherwise."""
    from helpers.review.efficacy import leave_one_out, refits_run, regimen_subgroups

    primary, _ = primary_analysis(ev)
    if primary is None:
        return pd.DataFrame(), pd.DataFrame()
    run = refits_run(ev, primary)
    return (
        leave_one_out(ev, primary) if run["leave_one_out"] else pd.DataFrame(),
        regimen_subgroups(ev, primary) if run["regimen_group"] else pd.DataFrame(),
    )


def _shown(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
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


def _not_run(ev: Evidence, what: str, minimum: int, primary: Analysis) -> str:
    """Why leave-one-out or the regimen subgroups are not run for this analysis, in one sentence."""
    k = primary.k
    trials = f"{count_word(k)} trial{'s' if k != 1 else ''}"
    if what == "leave_one_out":
        why = "each refit would be the other trial alone" if k == 2 else "there is no trial to leave out"
        return (
            f"Leave-one-out needs at least {count_word(minimum)} trials under the protocol; with {trials} it is "
            f"not run: {why}."
        )
    regimens = ev.studies.set_index("study_id").loc[list(primary.study_ids), "regimen_group"].nunique()
    if k >= minimum:
        return f"All {trials} share one regimen, so there are no regimen subgroups to compare."
    why = (
        "each subgroup would hold one trial, whose own estimate is shown above"
        if regimens == k
        else "the subgroups would hold too few trials to estimate anything the trials do not show themselves"
    )
    return (
        f"Regimen subgroups need at least {count_word(minimum)} trials under the protocol; with {trials} they are "
        f"not run: {why}."
    )


def refit_values(ev: Evidence, loo: pd.DataFrame, subgroups: pd.DataFrame) -> dict[str, object]:
    """What leave-one-out and the regimen split can say with this many trials: run (with their tables) where the
    protocol's ``minimum_k`` allows, and a sentence saying why not where it does not."""
    from helpers.report.prose import markdown_table

    protocol = load_protocol()
    primary, _ = primary_analysis(ev)
    if primary is None:
        return {"sri4_refit_text": GlueMarkdown("With no trial there is nothing to leave out and no subgroup.")}
    studies = ev.studies.set_index("study_id")
    parts = []
    if loo.empty:
        parts.append(_not_run(ev, "leave_one_out", protocol.minimum_k("leave_one_out"), primary))
    else:
        parts.append(
            f"Leaving out each of the {count_word(len(loo))} trials in turn shows whether any one of them drives the "
            "pooled estimate (REML risk ratio):\n\n" + markdown_table(loo_table(loo)) + "\n"
        )
    regimens = "; ".join(f"{studies.loc[s, 'label']}: {studies.loc[s, 'frequency']}" for s in primary.study_ids)
    if subgroups.empty:
        parts.append(
            f"The trials differ in regimen ({regimens}). "
            + _not_run(ev, "regimen_group", protocol.minimum_k("subgroups"), primary)
        )
    else:
        test = (
            f"the test for a difference between the subgroups gives Q = {fmt_num(subgroups['q_between'].iloc[0])} on "
            f"{fmt_int(subgroups['q_between_df'].iloc[0])} df, p = {fmt_num(subgroups['q_between_p'].iloc[0])}"
        )
        confounding = (
            "With one trial per regimen, this test is the test of heterogeneity between the trials, and regimen is "
            "confounded with everything else that differs between them."
            if bool((subgroups["k"] == 1).all())
            else "Regimen remains confounded with everything else that differs between trials."
        )
        parts.append(
            f"The trials differ in regimen ({regimens}); split by regimen (REML risk ratio), {test}. {confounding}"
            "\n\n" + markdown_table(regimen_table(subgroups)) + "\n"
        )
    dose = dose_text(ev, primary)
    if dose:
        parts.append(dose)
    parts.append(small_study_text(ev, primary))
    return {"sri4_refit_text": GlueMarkdown("\n\n".join(p.strip() for p in parts))}


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

    labels = ev.study_labels
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
    never_pooled = set(load_protocol().per_protocol_populations)
    statements = [
        f"{labels[r.study_id]} reports, for SELENA-SLEDAI: {r.note[0].lower() + r.note[1:]} "
        + citations(ev, [r.study_id])
        + "."
        + (
            f" A {POPULATION_PHRASES.get(r.population, r.population)} result, it compares the patients left after "
            "some randomised ones were set aside, not the randomised groups."
            if r.population in never_pooled
            else ""
        )
        for r in q.itertuples()
    ]
    return {
        "activity_text": GlueMarkdown(medians),
        "activity_between_text": GlueMarkdown(" ".join(statements) if statements else ""),
        "activity_trials": join_words([labels[s] for s in trials]) if trials else "no trial",
    }


def _role(role: str) -> str:
    return lower_first(ARM_LABELS.get(role, role))


def _rate(estimate: float, low: float, high: float) -> str:
    """A proportion as a percentage with its 95% CI: '63% (95% CI 50 to 74)'."""
    return fmt_ci(estimate, low, high, 0, scale=100, unit="%")


def rate_table(ev: Evidence, results: pd.DataFrame) -> pd.DataFrame:
    """Response rates per arm with exact (Clopper-Pearson) 95% CIs, grouped by index and time point, with the pooled
    rate of a role's arms under the rows they pool (only where the protocol pools them: one role, index and time
    point, enough arms). ``results`` is the results table indexed by analysis, measure, method, test."""
    from helpers.review.efficacy import rate_groups

    groups = rate_groups(ev)
    names = ev.outcome_definitions.set_index("outcome")["label"]
    columns = ["Index, time point", "Study", "Arm", "Design", "Responders", "Rate (95% CI)"]
    if groups.empty:
        return pd.DataFrame([["no study reports a response rate"] + ["–"] * 5], columns=columns)
    o = ev.outcomes.set_index(["study_id", "arm", "outcome", "timepoint", "population"])
    rows = []
    for (outcome, timepoint), g in groups.groupby(["outcome", "timepoint"], sort=False):
        header = f"{names[outcome]}, {when(timepoint)}"
        for role, r in g.groupby("arm", sort=False):
            for x in r.itertuples(index=False):
                note = o.loc[(x.study_id, x.arm_id, x.outcome, x.timepoint, x.population), "note"]
                interim = " (interim)" if isinstance(note, str) and "interim" in note.lower() else ""
                rows.append(
                    [
                        header,
                        f"{x.label}{interim}",
                        f"{ARM_LABELS.get(role, role)} ({POPULATION_PHRASES.get(x.population, x.population)})",
                        DESIGN_LABELS.get(x.design, x.design),
                        f"{x.events}/{x.total}" + (" (derived)" if x.derived else ""),
                        fmt_ci(100 * x.proportion, 100 * x.exact_low, 100 * x.exact_high, 0, label=False, unit="%"),
                    ]
                )
            pool = r["pool"].iloc[0]
            if pool:
                pooled = results.loc[(pool, "PLO", "REML", "z")]
                rows.append(
                    [
                        header,
                        f"Pooled ({count_word(len(r))} {_role(role)} arms; logit, REML)",
                        ARM_LABELS.get(role, role),
                        "–",
                        f"{int(r['events'].sum())}/{int(r['total'].sum())}",
                        fmt_ci(
                            100 * pooled["estimate"],
                            100 * pooled["ci_low"],
                            100 * pooled["ci_high"],
                            0,
                            label=False,
                            unit="%",
                        ),
                    ]
                )
    return pd.DataFrame(rows, columns=columns)


def rate_values(ev: Evidence, results: pd.DataFrame) -> dict[str, object]:
    """What the response rates cover (how many of the included studies report one), and the pooled rates, each
    within one role, index and time point and never set against another role's."""
    from helpers.review.efficacy import rate_groups

    groups = rate_groups(ev)
    n_included = len(ev.included_studies())
    n_reporting = groups["study_id"].nunique() if len(groups) else 0
    names = ev.outcome_definitions.set_index("outcome")["label"]
    labels = ev.study_labels
    silent = [labels[s] for s in ev.included_studies()["study_id"] if s not in set(groups.get("study_id", []))]
    scope = (
        f"{count_word(n_reporting).capitalize()} of the {count_word(n_included)} included studies report an SLE "
        f"Responder Index (SRI) response rate"
        + (f"; {join_words(silent)} {'does' if len(silent) == 1 else 'do'} not." if silent else ".")
    )
    if len(groups):
        o = ev.outcomes.set_index(["study_id", "arm", "outcome", "timepoint", "population"])
        keys = [(r.study_id, r.arm_id, r.outcome, r.timepoint, r.population) for r in groups.itertuples()]
        sources = cite(o.loc[k, "source"] for k in keys)
        scope += f" Their rates, arm by arm, are in {{numref}}`tbl-response-rates` {sources}."
    pooled, single = [], []
    if len(groups):
        for (outcome, timepoint), g in groups.groupby(["outcome", "timepoint"], sort=False):
            what = f"the {names[outcome].removesuffix(' response')} at {when(timepoint)}"
            clauses = []
            for role, r in g.groupby("arm", sort=False):
                pool = r["pool"].iloc[0]
                arms = f"{_role(role)} arm{'s' if len(r) != 1 else ''}"
                if not pool:
                    single.append(f"{join_words(list(r['label']))}'s {arms}, with {what}")
                    continue
                plo, pft = results.loc[(pool, "PLO", "REML", "z")], results.loc[(pool, "PFT", "REML", "z")]
                clauses.append(
                    f"the {count_word(len(r))} {arms} ({join_words(list(r['label']))}) pool to "
                    f"{_rate(plo['estimate'], plo['ci_low'], plo['ci_high'])} on the logit scale and "
                    f"{_rate(pft['estimate'], pft['ci_low'], pft['ci_high'])} on the Freeman-Tukey scale "
                    f"{{cite:p}}`freeman1950,miller1978`, with I² of {fmt_pct(plo['i2'], 0)}"
                )
            if clauses:
                pooled.append(f"For {what}, {'; '.join(clauses)}.")
    combos = list(dict.fromkeys(zip(groups["outcome"], groups["timepoint"]))) if len(groups) else []
    listed = "; ".join(
        f"{names[o]} at {when(tp)}".replace(" (threshold not stated)", ", threshold not stated") for o, tp in combos
    )
    rule = (
        "The protocol pools single arms only when they share a role, an index and a time point ({ref}`sec-protocol`)"
        + (
            f"; the arms here report {count_word(len(combos))} combinations of index and time point ({listed}), which "
            "count different events, so no rate is pooled across them."
            if len(combos) > 1
            else "."
        )
    )
    not_pooled = (
        f" Not pooled, as the only arm of its role, index and time point: {join_words(single)}." if single else ""
    )
    compare = (
        " A pooled rate describes its arms; it is not compared with another role's pooled rate, because arms "
        "pooled across trials are no longer randomised against each other: the randomised comparison of the "
        "trials' IL-2 and placebo arms is the primary analysis above."
        if pooled
        else ""
    )
    return {
        "rate_scope_text": GlueMarkdown(scope),
        "rate_pooled_text": GlueMarkdown(" ".join([rule, *pooled]) + not_pooled + compare),
    }


def estimated_md_pointer(ev: Evidence) -> GlueMarkdown:
    """Where the medians converted to means are, and that they are not a result (empty when no trial has them)."""
    from helpers.review.efficacy import median_range_trials

    if not median_range_trials(ev):
        return GlueMarkdown("")
    return GlueMarkdown(
        "Converting these medians and ranges into estimated means gives a between-arm mean difference only under "
        "assumptions the data do not meet (roughly normal scores in small arms); that conversion is shown, with its "
        "caveats, in the results appendix ({ref}`sec-estimated-md`), and is not a result of this review."
    )


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
            "sri4_robustness_brief": GlueMarkdown(""),
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
    brief = []
    if frag.index is not None:
        kind = "reverse fragility index" if frag.reverse else "fragility index"
        brief.append(f"its {kind} is {values['sri4_fragility_index']}")
    if added:
        brief.append(
            "counting the randomised but unanalysed patients as non-responders, the risk ratio is "
            f"{values['sri4_nri_estimate']}"
        )
    if len(splits) > 1:
        brief.append(
            "over the arm splits consistent with the reported percentages, its lower limit runs from "
            f"{values['sri4_split_range']}"
        )
    values["sri4_robustness_brief"] = GlueMarkdown(
        f"**How robust it is.** Beside it, as the protocol asks: {'; '.join(brief)} "
        "({ref}`sec-sri4-robustness`, {numref}`tbl-sri4-robustness`)."
        if brief
        else "**How robust it is.** The protocol's robustness scenarios are in {numref}`tbl-sri4-robustness`."
    )
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
        return {"bayes_text": nothing, "bayes_alt": nothing, "bayes_figure": no_data_figure(nothing)}
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
