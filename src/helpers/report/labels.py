"""The display vocabulary: labels of designs, arms, time points and populations, and cell texts.

Tables here are for reading: cells are formatted text, unknown values read
"not reported", and derived numbers are marked so the reader can look up the
derivation in the data appendix.
"""

from __future__ import annotations

import calendar

import pandas as pd

from helpers.report.prose import NOT_REPORTED, fmt_pct, fmt_reported, is_missing, plural

DESIGN_LABELS = {
    "rct": "Randomised, placebo-controlled",
    "open_label": "Open-label",
    "controlled_nonrandomised": "Controlled, not randomised",
    "observational": "Observational",
    "case_report": "Case report",
    "not_reported": NOT_REPORTED,
}

ARM_LABELS = {"il2": "IL-2", "placebo": "Placebo", "conventional": "Conventional therapy"}
#: Named time points in words (week_N reads 'week N'); the qualifiers say what the sources leave open.
TIMEPOINT_WORDS = {
    "baseline": "baseline",
    "end_of_study": "end of study (week not stated)",
    "trial_period": "over the trial",
    "during_treatment": "during treatment (visit not stated)",
}
#: How running prose names an analysis population ('in LUPIL-2 (intention to treat)').
POPULATION_PHRASES = {
    "itt": "intention to treat",
    "analysed_efficacy": "efficacy set",
    "per_protocol": "per-protocol",
    "subgroup": "subgroup",
    "analysed_safety": "safety set",
    "treated": "treated",
    "enrolled": "enrolled",
    "randomised": "randomised",
    "registered_target": "registered target",
}
POPULATION_LABELS = {
    "analysed_efficacy": "efficacy set",
    "itt": "ITT",
    "per_protocol": "per-protocol",
    "subgroup": "subgroup",
    "enrolled": "enrolled",
    "treated": "treated",
    "randomised": "randomised",
    "analysed_safety": "safety set",
    "registered_target": "registered target",
}

#: Later evidence (the chapter "After the review"): the vocabularies of later_trials.csv and later_reviews.csv.
RESULTS_AVAILABLE_LABELS = {
    "no": "none available to this book",
    "qualitative": "in words only (no numbers)",
    "with_numbers": "with numbers",
}
COMPARISON_LABELS = {
    "single_arm": "single-arm proportion (patients given IL-2)",
    "between_arms": "between arms (IL-2 against control)",
    "pre_post": "after against before treatment (within patients)",
    "across_studies": "range across studies (not pooled)",
}
MEASURE_LABELS = {
    "proportion": "proportion",
    "SMD": "standardised mean difference",
    "MD": "mean difference",
    "RR": "risk ratio",
    "OR": "odds ratio",
    "RD": "risk difference",
    "range": "range",
}
LATER_POPULATION_LABELS = {"sle": "SLE", "autoimmune_rheumatic_diseases": "all autoimmune rheumatic diseases"}
WINDOW_LABELS = {"review": "review window", "update": "update window", "spans": "straddles two windows"}

#: Tests of a 2x2 table (helpers.stats.two_by_two.TESTS), as tables name them.
TEST_LABELS = {
    "pearson": "Pearson χ²",
    "yates": "Yates χ²",
    "n_minus_1": "N − 1 χ²",
    "fisher": "Fisher exact",
}


def month_text(year_month: str) -> str:
    """'2010-01' -> 'January 2010'."""
    year, month = year_month.split("-")
    return f"{calendar.month_name[int(month)]} {year}"


def date_text(date: object) -> str:
    """A date as precise as its source: '2023', '2022-08' -> 'August 2022', '2024-12-31' -> '31 December 2024'."""
    if is_missing(date):
        return NOT_REPORTED
    parts = str(date).split("-")
    if len(parts) == 1:
        return parts[0]
    month = month_text("-".join(parts[:2]))
    return f"{int(parts[2])} {month}" if len(parts) == 3 else month


def timepoint_text(tp: object, short: bool = False) -> str:
    """'week_12' -> 'week 12'; named time points by TIMEPOINT_WORDS; missing -> 'not reported'.

    ``short`` drops the qualifier ('end of study'), for labels that carry their own parentheses.
    """
    if is_missing(tp):
        return NOT_REPORTED
    tp = str(tp)
    if tp.startswith("week_"):
        return f"week {tp.removeprefix('week_')}"
    text = TIMEPOINT_WORDS.get(tp, tp.replace("_", " "))
    return text.split(" (")[0] if short else text


def timepoint_phrase(tp: object) -> str:
    """The time point after a finding: 'at week 12', 'at end of study (week not stated)', 'over the trial',
    'during treatment (visit not stated)'."""
    text = timepoint_text(tp)
    return text if str(tp) in ("trial_period", "during_treatment") else f"at {text}"


def timepoint_label(tp: str) -> str:
    """The same words with a capital, for table cells: 'Week 12', 'End of study (week not stated)'."""
    text = timepoint_text(tp)
    return text[0].upper() + text[1:]


def text_or_nr(value: object) -> str:
    return NOT_REPORTED if is_missing(value) else str(value)


def dose_text(dose: object, low: object = None, high: object = None) -> str:
    """Dose per injection: '1 MIU', a range where patients received different doses ('0.75–3 MIU'),
    or 'not reported'. Doses keep the decimals they were reported with (0.75 stays 0.75)."""
    if not is_missing(dose):
        return f"{float(dose):g} MIU"
    if not is_missing(low) and not is_missing(high):
        return f"{float(low):g}–{float(high):g} MIU"
    return NOT_REPORTED


def regimen_text(study: pd.Series) -> str:
    """'rhIL-2 1 MIU, every other day, 3 cycles (12 weeks)'; unknown parts read 'not reported'."""
    dose = dose_text(study["dose_miu"], study.get("dose_miu_low"), study.get("dose_miu_high"))
    dose = f"dose {NOT_REPORTED}" if dose == NOT_REPORTED else dose
    parts = [f"{text_or_nr(study['agent'])} {dose}", text_or_nr(study["frequency"])]
    if not is_missing(study["cycles"]):
        parts.append(plural(int(study["cycles"]), "cycle"))
    text = ", ".join(parts)
    return f"{text} ({study['duration']})" if not is_missing(study["duration"]) else text


def value_text(row: pd.Series, digits: int = 1) -> str:
    """One outcome row as text: '16/29 (55.2%)', '12 (8–27)', '31.58 ± 9.25', or 'not reported'.

    Medians, ranges, means and SDs keep the decimals they were reported with.
    """
    stat = row["statistic"]
    if stat == "count":
        if not is_missing(row["events"]) and not is_missing(row["total"]):
            return f"{int(row['events'])}/{int(row['total'])} ({fmt_pct(100 * row['events'] / row['total'], digits)})"
        return f"{fmt_pct(row['percent'], digits)} (n {NOT_REPORTED})"
    if stat in ("median_range", "median_iqr"):
        return f"{fmt_reported(row['median'])} ({fmt_reported(row['lower'])}–{fmt_reported(row['upper'])})"
    if stat == "mean_sd":
        return f"{fmt_reported(row['mean'])} ± {fmt_reported(row['sd'])}"
    if stat == "qualitative":
        return str(row["note"])
    return NOT_REPORTED
