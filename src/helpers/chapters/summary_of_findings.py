"""The summary-of-findings page: the GRADE table, the reasons for each judgement, and the sentences."""

from __future__ import annotations

import math

import pandas as pd

from helpers.chapters.efficacy import count_word
from helpers.evidence.load import Evidence
from helpers.evidence.protocol import load_protocol
from helpers.report.prose import GlueMarkdown, fmt_ci, fmt_int, fmt_num, fmt_pct, join_words
from helpers.review.grade import DOMAIN_LABELS, FindingRow, summary_of_findings

#: Certainty in symbols as well as words, so the table reads without colour (GRADE's convention).
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}
MEASURE_WORDS = {"RR": "RR", "RD": "risk difference"}


def _relative(r: FindingRow) -> str:
    if r.method == "narrative":
        return "not estimable (no comparator)"
    if r.measure == "RD":
        return "RR not estimable (no events in the comparator arms)"
    return f"RR {fmt_ci(r.estimate, r.ci_low, r.ci_high, label=False)}"


def _per_1000(value: float) -> str:
    return fmt_int(round(value)) if math.isfinite(value) else "–"


def _difference(r: FindingRow) -> str:
    if not math.isfinite(r.difference_per_1000):
        return r.narrative
    diff, low, high = (round(v) for v in (r.difference_per_1000, r.difference_low, r.difference_high))

    def signed(v: int) -> str:
        return f"{abs(v)} more" if v > 0 else f"{abs(v)} fewer" if v < 0 else "0 more"

    return f"{signed(diff)} per 1,000 ({signed(low)} to {signed(high)})"


def _patients(r: FindingRow) -> str:
    if r.method == "narrative":
        return f"{fmt_int(r.n_il2)} on IL-2 ({r.k} {'study' if r.k == 1 else 'studies'})"
    return f"{fmt_int(r.n_il2 + r.n_control)} ({r.k} {'RCT' if r.k == 1 else 'RCTs'})"


def sof_table(rows: tuple[FindingRow, ...]) -> pd.DataFrame:
    """The summary-of-findings table: one row per outcome, certainty in symbols and words."""
    return pd.DataFrame(
        {
            "Outcome": [f"{r.label} ({r.importance})" for r in rows],
            "Patients (studies)": [_patients(r) for r in rows],
            "Relative effect (95% CI)": [_relative(r) for r in rows],
            "Risk with placebo per 1,000": [_per_1000(r.control_per_1000) for r in rows],
            "Difference with IL-2 (95% CI)": [_difference(r) for r in rows],
            "Certainty": [f"{SYMBOLS[r.certainty]} {r.certainty}" for r in rows],
            "Lowered for": [r.downgrades for r in rows],
        }
    )


def reasons_table(rows: tuple[FindingRow, ...]) -> pd.DataFrame:
    """Every domain judgement of every outcome, with its reason."""
    out = []
    for r in rows:
        for j in r.judgements:
            out.append(
                {
                    "Outcome": r.label,
                    "Domain": DOMAIN_LABELS[j.domain],
                    "Judgement": j.verdict + (f" (−{j.downgrade})" if j.downgrade else ""),
                    "Reason": j.reason[:1].upper() + j.reason[1:] + ".",
                }
            )
    return pd.DataFrame(out)


def finding_sentence(r: FindingRow) -> str:
    """One sentence per outcome: the effect and how certain it is, with what lowered it."""
    lowered = f", lowered for {r.downgrade_words}" if r.downgrade_words else ""
    start = f" (from {r.start}{lowered})" if r.certainty != r.start or lowered else ""
    if r.method == "narrative":
        what = f"{r.narrative} ({r.studies})"
    else:
        trials = f"{count_word(r.k)} {'trial' if r.k == 1 else 'trials'}, {fmt_int(r.n_il2 + r.n_control)} patients"
        effect = (
            f"risk ratio {fmt_ci(r.estimate, r.ci_low, r.ci_high)}"
            if r.measure == "RR"
            else f"risk difference {fmt_ci(r.estimate, r.ci_low, r.ci_high, scale=1000, unit=' per 1,000', digits=0)}"
        )
        what = f"{effect}, {_difference(r)}; {trials}: {r.studies}"
    return f"**{r.label}**: {what}. Certainty: {r.certainty}{start}."


def glue_values(ev: Evidence) -> dict[str, object]:
    """Everything the page glues: the sentences, the counts by certainty and the two tables' rows."""
    rows = summary_of_findings(ev)
    by_level = {level: [r.label for r in rows if r.certainty == level] for level in SYMBOLS}
    levels = [
        f"{level} for {join_words([x.lower() if i else x for i, x in enumerate(labels)])}"
        for level, labels in by_level.items()
        if labels
    ]
    rules = load_protocol().raw["grade"]["imprecision"]
    return {
        "sof_relative_change": fmt_pct(100 * rules["relative_change"], 0),
        "sof_alpha": fmt_num(rules["alpha"]),
        "sof_power": fmt_pct(100 * rules["power"], 0),
        "sof_appreciable_low": fmt_num(1 - rules["relative_change"]),
        "sof_appreciable_high": fmt_num(1 + rules["relative_change"]),
        "sof_n_outcomes": fmt_int(len(rows)),
        "sof_findings": GlueMarkdown("\n".join(f"- {finding_sentence(r)}" for r in rows)),
        "sof_levels": "; ".join(levels),
        "sof_n_high_or_moderate": fmt_int(sum(r.certainty in ("high", "moderate") for r in rows)),
    }
