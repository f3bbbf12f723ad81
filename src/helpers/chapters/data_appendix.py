"""The data appendix: the audit of derived counts as a table and the numbers its prose glues."""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.labels import ARM_LABELS, POPULATION_LABELS, TEST_LABELS, timepoint_text
from helpers.report.prose import fmt_int, lower_first
from helpers.review.derived_audit import DerivedCount, FigureCheck, audit_derived_counts, reported_p_checks
from helpers.stats.reported import parse_reported
from helpers.stats.two_by_two import TESTS

#: The reported figure whose reproducing range illustrates the rule in the prose.
RULE_EXAMPLE = "0.052"
VERDICT_TEXT = {"all": "All", "some": "Some", "none": "None", "no figure": "No reported figure"}


def _p_text(p: float, decimals: int) -> str:
    """A recomputed p-value to one decimal more than the reported one; tiny values as '<0.0001'."""
    digits = decimals + 1
    if p != p:
        return "not defined"
    floor = 10.0**-digits
    return f"<{floor:.{digits}f}" if p < floor else f"{p:.{digits}f}"


def _notes(check: FigureCheck) -> str:
    notes = (["pins the count"] if check.pins else []) + (
        ["the derivation's input"] if check.input_of_derivation else []
    )
    return f"; {', '.join(notes)}" if notes else ""


def _percent_cell(d: DerivedCount, ev: Evidence) -> str:
    cells = []
    for c in d.checks:
        digits = parse_reported(c.reported).decimals + 1
        value = f"{c.recomputed[0][1]:.{digits}f}"
        if c.figure == "percent":
            verdict = "reproduced" if c.reproduced else "not reproduced"
            cells.append(f"{c.reported}: {verdict} ({d.count_text} = {value}){_notes(c)}")
        elif c.figure == "percent_attainable":
            row = ev.outcomes.loc[c.compared_line - 2]
            what = f"{_outcome_label(ev, row['outcome'])}, {timepoint_text(row['timepoint'])}"
            verdict = "attainable" if c.reproduced else "not attainable; nearest"
            events = round(c.recomputed[0][1] * d.total / 100)
            cells.append(f"{c.reported} ({what}): {verdict} ({events}/{d.total} = {value}){_notes(c)}")
    return "; ".join(cells) or "none reported"


def _p_cell(d: DerivedCount, ev: Evidence) -> str:
    cells = []
    for c in d.checks:
        if c.figure not in ("p_between_arms", "p_vs_baseline"):
            continue
        decimals = parse_reported(c.reported).decimals
        p = dict(c.recomputed)
        other = ev.outcomes.loc[c.compared_line - 2]
        if c.figure == "p_between_arms":
            versus = f"vs {_lower_word(_arm_label(ev, other['study_id'], other['arm']))} {c.compared_with}"
        else:
            versus = f"vs {timepoint_text(other['timepoint'])} {c.compared_with}, as independent samples"
        tested = ", ".join(f"{TEST_LABELS[t]} {_p_text(p[t], decimals)}" for t in TESTS)
        if not c.reproduced:
            result = f"reproduced by no test ({tested})"
        elif len(c.reproduced_by) == len(TESTS):
            result = f"reproduced by every test ({tested})"
        else:
            yes = ", ".join(f"{TEST_LABELS[t]} ({_p_text(p[t], decimals)})" for t in c.reproduced_by)
            no = ", ".join(f"{TEST_LABELS[t]} ({_p_text(p[t], decimals)})" for t in TESTS if t not in c.reproduced_by)
            result = f"reproduced by {yes}; not by {no}"
        figure = f"{c.reported[0]} {c.reported[1:]}" if c.reported[0] in "<>" else f"= {c.reported}"
        cells.append(f"p {figure} {versus}: {result}{_notes(c)}")
    return "; ".join(cells) or "none reported"


def _lower_word(label: str) -> str:
    """'Placebo' -> 'placebo'; an acronym ('IL-2') stays as it is."""
    return label if label[:2].isupper() else lower_first(label)


def _arm_label(ev: Evidence, study_id: str, arm: str) -> str:
    roles = ev.arms.drop_duplicates(["study_id", "arm"]).set_index(["study_id", "arm"])["role"]
    role = roles.get((study_id, arm), arm)
    return ARM_LABELS.get(role, arm)


def _outcome_label(ev: Evidence, outcome: str) -> str:
    return dict(zip(ev.outcome_definitions["outcome"], ev.outcome_definitions["label"])).get(outcome, outcome)


def _what(d: DerivedCount, ev: Evidence) -> str:
    arm = _arm_label(ev, d.study_id, d.arm)
    population = POPULATION_LABELS.get(d.population, d.population)
    if d.file == "arms.csv":
        return f"{arm} arm size, {population}"
    return f"{arm}: {_outcome_label(ev, d.outcome)}, {timepoint_text(d.timepoint)}, {population}"


def audit_table(ev: Evidence) -> pd.DataFrame:
    """One row per derived count: what it is, the count, each reported figure and what the count gives for it."""
    labels = dict(zip(ev.studies["study_id"], ev.studies["label"]))
    rows = [
        (
            labels.get(d.study_id, d.study_id),
            f"{_what(d, ev)} ({d.file}, line {d.line})",
            f"{d.count_text} ({d.column})" if d.events is not None else d.count_text,
            _percent_cell(d, ev),
            _p_cell(d, ev),
            f"{VERDICT_TEXT[d.verdict]} ({d.n_reproduced} of {len(d.checks)})" if d.checks else VERDICT_TEXT[d.verdict],
        )
        for d in audit_derived_counts(ev)
    ]
    return pd.DataFrame(
        rows,
        columns=["Study", "Derived count (file, line)", "Count", "Reported percentage", "Reported p-value", "Verdict"],
    )


def audit_values(ev: Evidence) -> dict[str, str]:
    """The audit's counts for the prose."""
    audit = audit_derived_counts(ev)
    verdicts = [d.verdict for d in audit]
    with_p = [d for d in audit if any(c.figure.startswith("p_") for c in d.checks)]
    p_ok = [d for d in with_p if all(c.reproduced for c in d.checks if c.figure.startswith("p_"))]
    independent_pin = [d for d in audit if any(c.pins and not c.input_of_derivation for c in d.checks)]
    calibration = reported_p_checks(ev)
    example = parse_reported(RULE_EXAMPLE)
    return {
        "audit_rule_example": f"a p-value reported as {example.text} is reproduced by any value {example.rule()}",
        "audit_n_derived": fmt_int(len(audit)),
        "audit_n_outcome_counts": fmt_int(sum(d.file == "outcomes.csv" for d in audit)),
        "audit_n_arm_sizes": fmt_int(sum(d.file == "arms.csv" for d in audit)),
        "audit_n_all": fmt_int(verdicts.count("all")),
        "audit_n_some": fmt_int(verdicts.count("some")),
        "audit_n_none": fmt_int(verdicts.count("none")),
        "audit_n_no_figure": fmt_int(verdicts.count("no figure")),
        "audit_n_with_p": fmt_int(len(with_p)),
        "audit_n_p_reproduced": fmt_int(len(p_ok)),
        "audit_n_pinned_independently": fmt_int(len(independent_pin)),
        "audit_reported_p_n": fmt_int(len(calibration)),
        "audit_reported_p_reproduced": fmt_int(sum(k.reproduced for _, k in calibration)),
        "audit_reported_p_fisher": fmt_int(sum("fisher" in k.reproduced_by for _, k in calibration)),
    }
