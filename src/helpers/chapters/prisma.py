"""What the PRISMA chapter glues: the flow's counts, this book's totals, the reconciliation with the review, and the
applicability and baseline characteristics of the included studies."""

from __future__ import annotations

from helpers.chapters.efficacy import count_word
from helpers.evidence.load import Evidence
from helpers.report.labels import ARM_LABELS, POPULATION_LABELS
from helpers.report.prisma import prisma_alt_text, prisma_counts
from helpers.report.prose import GlueMarkdown, cite, fmt_int, is_missing, join_words, lower_first
from helpers.review import study_tables
from helpers.review.reconciliation import book_totals, open_label_arithmetic, reconciliation_table


def flow_values(ev: Evidence) -> dict[str, str]:
    counts = prisma_counts(ev.prisma)
    return {
        "prisma_records": fmt_int(counts["database_results"]),
        "prisma_included": fmt_int(counts["new_studies"]),
        "prisma_n_known": fmt_int(sum(v is not None for v in counts.values())),
        "prisma_n_boxes": fmt_int(len(counts)),
        "prisma_alt": prisma_alt_text(ev.prisma),
    }


def totals_values(ev: Evidence) -> dict[str, str]:
    totals = book_totals(ev)
    unknown = totals["il2_unknown_studies"]
    return {
        "book_n_studies": fmt_int(totals["studies_included"]),
        "book_n_rct": fmt_int(totals["studies_rct"]),
        "book_n_open_label": fmt_int(totals["studies_open_label"]),
        "book_n_il2": fmt_int(totals["patients_il2_known"]),
        "book_n_placebo": fmt_int(totals["patients_placebo_known"]),
        "book_il2_unknown": join_words(unknown) if unknown else "none",
        "book_il2_unknown_text": (
            f"The sources consulted do not give the size of {join_words(unknown)}."
            if unknown
            else "The sources consulted give the size of every included study."
        ),
        "review_n_studies": fmt_int(ev.review_value("studies_total")),
        "review_n_il2": fmt_int(ev.review_value("patients_il2")),
        "review_n_placebo": fmt_int(ev.review_value("patients_placebo")),
        "review_n_patients": fmt_int(ev.review_value("patients_total")),
    }


def reconcile_values(ev: Evidence) -> dict[str, str]:
    gaps = reconciliation_table(ev).set_index("Quantity")["Review minus this book"]
    patients = open_label_arithmetic(ev)["Patients"]
    return {
        "reconcile_il2_gap": fmt_int(gaps["Patients on low-dose IL-2"]),
        "reconcile_study_gap": fmt_int(gaps["Studies"]),
        "reconcile_open_label_left": fmt_int(patients.iloc[2]),
        "reconcile_unknown_left": fmt_int(patients.iloc[-1]),
    }


# ---------------------------------------------------------------------------
# Applicability and baseline clinical characteristics
# ---------------------------------------------------------------------------
def _words(labels: list[str], none: str = "none") -> str:
    return join_words(labels) if labels else none


def applicability_values(ev: Evidence) -> dict[str, str]:
    """Who was studied and how, in sentences: refractory disease required, taper rules, cumulative dose."""
    refractory = study_tables.refractory_required(ev)
    sentences = []
    if refractory["yes"]:
        sentences.append(f"Refractory disease was an entry requirement in {join_words(refractory['yes'])}.")
    if refractory["no"]:
        sentences.append(f"It was not required in {join_words(refractory['no'])}.")
    if refractory["not reported"]:
        sentences.append(f"The consulted sources of {join_words(refractory['not reported'])} do not say.")
    taper_given, taper_missing = study_tables.facts_reported(ev, "glucocorticoid_taper")
    if not taper_given:
        taper = (
            f"None of the {fmt_int(len(taper_missing))} included studies states a glucocorticoid taper rule in the "
            "sources consulted."
        )
    else:
        taper = (
            f"A glucocorticoid taper rule is stated for {join_words(taper_given)}, not for "
            f"{_words(taper_missing, 'any other study')}."
        )
    return {
        "ctx_refractory_text": " ".join(sentences),
        "ctx_taper_text": taper,
        "ctx_cumulative_text": cumulative_sentences(ev),
        "ctx_injections_text": GlueMarkdown(injections_sentences(ev)),
    }


def injections_sentences(ev: Evidence) -> str:
    """Where the injections per cycle behind a cumulative dose are derived, how (the data's derivation, cited)."""
    facts = study_tables.context_facts(ev).reset_index()
    derived = facts[(facts["fact"] == "injections_per_cycle") & (facts["status"] == "derived")]
    labels = ev.study_labels
    out = []
    for derivation, g in derived.groupby("derivation", sort=False):
        out.append(
            f"The injections per treatment cycle of {join_words([labels[s] for s in g['study_id']])} are derived, "
            f"not reported: {derivation} {cite(g['source'])}."
        )
    if out:
        studies = [labels[s] for s in derived["study_id"]]
        out.append(
            f"The cumulative {'dose' if len(studies) == 1 else 'doses'} of {join_words(studies)} "
            f"{'is' if len(studies) == 1 else 'are'} therefore derived too."
        )
    return " ".join(out) or "Every count of injections per cycle behind a cumulative dose is reported."


def cumulative_sentences(ev: Evidence) -> str:
    """The cumulative IL-2 dose per patient of each included study, where it is a range, and where not computable."""
    doses = study_tables.cumulative_doses(ev)
    known = doses[doses["low"].notna()]
    by_total: dict[str, list[str]] = {}
    for r in known.itertuples():
        total = study_tables.mmiu_text(r.low) if r.low == r.high else f"{r.low:g}–{study_tables.mmiu_text(r.high)}"
        by_total.setdefault(total, []).append(r.label)
    out = []
    if by_total:
        out.append("It is " + "; ".join(f"{t} in {join_words(labels)}" for t, labels in by_total.items()) + ".")
    ranged = list(known.loc[known["low"] != known["high"], "label"])
    if ranged:
        out.append(
            f"For {join_words(ranged)} it is a range, from the lowest to the highest dose per injection, because "
            "patients received different doses and the sources do not say how many received each."
        )
    unknown = list(doses.loc[doses["low"].isna(), "label"])
    if unknown:
        out.append(f"For {join_words(unknown)} it cannot be computed (the table gives the reason).")
    return " ".join(out) or "No included study gives a regimen."


def baseline_values(ev: Evidence) -> dict[str, object]:
    """Which included studies report baseline characteristics, and where one report gives two values."""
    with_values, without = study_tables.baseline_studies(ev)
    prednisone, _ = study_tables.baseline_studies(ev, "prednisone_mg_day")
    return {
        "baseline_prednisone": _words(prednisone),
        "baseline_with": _words(with_values),
        "baseline_without": _words(without),
        "baseline_discrepancy_text": discrepancy_text(ev),
    }


def discrepancy_text(ev: Evidence) -> str:
    """Where one arm's baseline value differs between two places of a report, in words, with what explains it
    (or cannot: the same patients counted in both)."""
    d = study_tables.baseline_discrepancies(ev)
    if d.empty:
        return "Where a report gives a baseline value twice, the two agree."
    sizes = ev.arms.set_index(["study_id", "arm", "population"])["n"]
    parts = []
    for (study, characteristic), g in d.groupby(["study_label", "label"], sort=False):
        places = list(
            dict.fromkeys(
                f"{loc} ({POPULATION_LABELS.get(pop, pop)})" for r in g.itertuples() for _, loc, pop in r.texts
            )
        )
        arms = []
        same_patients = []
        for r in g.itertuples():
            arm = lower_first(ARM_LABELS.get(r.role, r.arm))
            arms.append(f"{arm} arm {' vs '.join(text for text, _, _ in r.texts)}")
            ns = {sizes.get((r.study_id, r.arm, pop)) for _, _, pop in r.texts}
            if len(ns) == 1 and None not in ns and not any(is_missing(n) for n in ns):
                same_patients.append((arm, int(next(iter(ns)))))
        text = (
            f"{study}'s baseline {lower_first(characteristic)} ({g['unit'].iloc[0]}) differs between its report's "
            f"{join_words(places)}: {'; '.join(arms)}."
        )
        for arm, n in same_patients:
            text += (
                f" The {arm} arm counts the same {fmt_int(n)} patients in both, so a difference in who is counted "
                "cannot explain it."
            )
        parts.append(text)
    return " ".join(parts)


def scenario_values(scenarios) -> dict[str, str]:
    """The range of what the scenarios leave for the review's other open-label studies, and whether a candidate fits."""
    left = scenarios["Left for the review's other open-label studies"]
    fits = sorted({f for f in scenarios["Candidate studies of exactly that size"] if f != "none"})
    missing = scenarios.attrs["missing_studies"]
    n_text = "study" if missing == 1 else "studies"
    fit_text = (
        f"A candidate of exactly that size fits some scenarios: {join_words(fits)}."
        if fits
        else "No candidate study of known size fills the remainder exactly in any scenario, so the review's "
        "other open-label study stays unknown."
    )
    return {
        "scenario_text": (
            f"Across the {fmt_int(len(scenarios))} scenarios, the review's total leaves {fmt_int(left.min())} to "
            f"{fmt_int(left.max())} IL-2 patients for its {count_word(missing)} other open-label {n_text}. {fit_text}"
        )
    }
