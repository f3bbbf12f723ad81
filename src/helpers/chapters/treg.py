"""What the Treg chapter says about each study, written from the data (notes and reasons recorded with each row)."""

from __future__ import annotations

from helpers.evidence.load import Evidence
from helpers.report.labels import POPULATION_PHRASES, timepoint_phrase, timepoint_text, value_text
from helpers.report.prose import (
    NOT_REPORTED,
    GlueMarkdown,
    cite,
    fmt_int,
    fmt_reported,
    is_missing,
    join_words,
    lower_first,
    nested,
    parenthetical,
)
from helpers.review import study_tables, treg


def _sentence(text: str) -> str:
    text = str(text).strip().rstrip(".")
    return text[0].upper() + text[1:] if text else text


def _il2_rows(ev: Evidence, study_id: str):
    rows = treg.treg_rows(ev)
    return rows[(rows["study_id"] == study_id) & (rows["arm"] == "il2")]


def findings_text(ev: Evidence, pairs) -> GlueMarkdown:
    """For every study reporting a Treg direction: what its source says, and where."""
    parts = []
    for p in pairs[pairs["treg_direction"] == "increase"].itertuples():
        r = _il2_rows(ev, p.study_id)
        r = r[(r["statistic"].isin(["qualitative", "count"])) & (r["status"] != "not_reported")]
        notes = "; ".join(dict.fromkeys(t for t in (treg.finding_text(row) for _, row in r.iterrows()) if t))
        parts.append(f"{p.label}: {_sentence(notes)} {cite(r['source'])}.")
    return GlueMarkdown(" ".join(parts))


def no_finding_text(ev: Evidence, pairs) -> GlueMarkdown:
    """For every study with no Treg finding: why, in the words recorded with its row."""
    parts = []
    for p in pairs[pairs["treg_direction"] == "not reported"].itertuples():
        r = _il2_rows(ev, p.study_id)
        reasons = "; ".join(dict.fromkeys(str(x) for x in list(r["na_reason"]) + list(r["note"]) if not is_missing(x)))
        locator = "; ".join(dict.fromkeys(str(x) for x in r["locator"] if not is_missing(x)))
        reason = _sentence(reasons) if reasons else "No Treg row in the consulted sources"
        parts.append(f"{p.label}: {reason} {cite(r['source'])}; read in the {locator}.")
    return GlueMarkdown(" ".join(parts))


def pairs_text(pairs) -> str:
    """For each included randomised trial: its Treg finding beside its clinical response."""
    parts = []
    for p in pairs[(pairs["inclusion_status"] == "included")].itertuples():
        if not p.clinical_outcome:
            continue
        if p.treg_direction == "increase":
            parts.append(
                f"In {p.label} a Treg increase is reported alongside the clinical response, {p.clinical_text}."
            )
        elif p.treg_direction == "not reported":
            parts.append(f"{p.label} reports a clinical response, {p.clinical_text}, but no Treg finding.")
        else:
            parts.append(f"{p.label} reports Treg ({p.treg_direction}) and a clinical response, {p.clinical_text}.")
    return " ".join(parts)


def scope_values(ev: Evidence, pairs) -> dict[str, object]:
    """Which studies the chapter covers and what they report about Treg."""
    scope = treg.scope_studies(ev)
    included = scope[scope["inclusion_status"] == "included"]
    increase = pairs[pairs["treg_direction"] == "increase"]
    no_finding = pairs[pairs["treg_direction"] == "not reported"]
    smc = treg.smc_status(ev)
    return {
        "treg_n_scope": fmt_int(len(scope)),
        "treg_n_included": fmt_int(len(included)),
        "treg_n_candidates": fmt_int(len(scope) - len(included)),
        "treg_candidates": nested(join_words(list(scope.loc[scope["inclusion_status"] != "included", "label"])))
        or "none",
        "treg_n_increase": fmt_int(len(increase)),
        "treg_increase": nested(join_words(list(increase["label"]))) if len(increase) else "none",
        "treg_n_increase_included": fmt_int((increase["inclusion_status"] == "included").sum()),
        "treg_n_no_finding": fmt_int(len(no_finding)),
        "treg_no_finding": nested(join_words(list(no_finding["label"]))) if len(no_finding) else "none",
        "treg_n_values": fmt_int(smc["k"]),
        "treg_values_words": "none of them" if smc["k"] == 0 else f"{fmt_int(smc['k'])} of them",
        "treg_smc_min": fmt_int(treg.MIN_STUDIES_SMC),
        "treg_smc_reason": smc["reason"] or "enough studies give numbers",
        "treg_findings_text": findings_text(ev, pairs),
        "treg_no_finding_text": no_finding_text(ev, pairs),
    }


def regimen_text(regimens) -> str:
    """Per regimen group: how many of its studies report a Treg increase."""
    parts = []
    for group, g in regimens.groupby("Regimen group", sort=False):
        n_inc = int((g["Treg response"] == "Increase reported").sum())
        studies = parenthetical(join_words(list(g["Study"])))
        if len(g) == 1:
            verb = "reports" if n_inc else "does not report"
            parts.append(f"the one study in the group '{group}' {studies} {verb} a Treg increase")
        else:
            parts.append(
                f"of the {fmt_int(len(g))} studies in the group '{group}' {studies}, {fmt_int(n_inc)} "
                f"report{'s' if n_inc == 1 else ''} a Treg increase"
            )
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "." if text else "No study gives its regimen."


def pairs_values(pairs) -> dict[str, object]:
    """Treg finding beside clinical response: in how many studies both are reported, and when."""
    both = pairs[pairs["both_reported"]]
    same = both[both["same_time"]]
    return {
        "treg_n_both": fmt_int(len(both)),
        "treg_both": nested(join_words(list(both["label"]))) if len(both) else "none",
        "treg_n_both_included": fmt_int((both["inclusion_status"] == "included").sum()),
        "treg_n_same_time": fmt_int(len(same)),
        "treg_same_time": join_words(list(same["label"])) if len(same) else "none",
        "treg_same_time_text": (
            f"only {join_words(list(same['label']))} report{'s' if len(same) == 1 else ''} both at the same "
            "recorded time point"
            if len(same)
            else "none of them reports both at the same recorded time point"
        ),
        "treg_pairs_text": pairs_text(pairs),
        "treg_pair_time": timepoint_text(treg.CLINICAL_PREFERENCE[0][1][0]),
    }


# ---------------------------------------------------------------------------
# How large is the Treg response, and what can a reported rise show?
# ---------------------------------------------------------------------------
ARM_WORDS = {"il2": "IL-2", "placebo": "placebo", "conventional": "conventional therapy"}


def _p_words(p: str) -> str:
    return f"p {p}" if p[:1] in "<>" else f"p = {p}"


def _labels(frame) -> str:
    return join_words(list(frame["label"]))


def _count_with_p(r) -> str:
    p = f", {_p_words(str(r['p_value']))}" if not is_missing(r["p_value"]) else ""
    compared = {"vs_baseline": " against baseline", "between_arms": " between arms"}.get(str(r["p_comparison"]), "")
    return f"{value_text(r)}{p}{compared if p else ''}"


def magnitude_text(ev: Evidence) -> GlueMarkdown:
    """Which studies give a magnitude of the Treg response, which a count of patients, which only a direction."""
    m = treg.magnitude_table(ev)
    values, patients = m[m["level"] == "values"], m[m["level"] == "patients"]
    direction, none = m[m["level"] == "direction"], m[m["level"] == "none"]
    parts = []
    if values.empty:
        parts.append(
            f"No study gives the size of the Treg response: none of the {fmt_int(len(m))} studies reports Treg "
            "values with their spread at baseline and at follow-up, from which a fold change could be computed."
        )
    else:
        parts.append(f"Treg values with their spread are given by {_labels(values)} ({fmt_int(len(values))}).")
    rows = treg.treg_rows(ev)
    for p in patients.itertuples():
        r = rows[(rows["study_id"] == p.study_id) & (rows["arm"] == "il2") & (rows["statistic"] == "count")]
        r = r[r["events"].notna()].iloc[0]
        measure = f" (its measure: {lower_first(str(r['measure']))})" if not is_missing(r["measure"]) else ""
        parts.append(
            f"{p.label} counts the patients with a rise, {_count_with_p(r)}, but not how large the rises were"
            f"{measure} {cite([r['source']])}."
        )
    if len(direction):
        parts.append(f"{_labels(direction)} report only the direction of the change.")
    if len(none):
        parts.append(f"{_labels(none)} report no Treg finding.")
    return GlueMarkdown(" ".join(parts))


def _primary_text(ev: Evidence, p) -> str:
    defs = ev.outcome_definitions.set_index("outcome")["label"]
    outcome = defs[p.outcome].removesuffix(" response")
    il2, control = p.il2, p.control
    derived = (
        "; counts derived from the reported percentages"
        if il2["status"] == "derived" or (control is not None and control["status"] == "derived")
        else ""
    )
    versus = f" vs {value_text(control)} with placebo" if control is not None else ""
    ps = ", ".join(_p_words(x) for x in p.p) or f"p {NOT_REPORTED}"
    derived = derived.replace("; ", ", ")
    return (
        f"{outcome} {timepoint_phrase(p.timepoint)} ({POPULATION_PHRASES.get(p.population, p.population)}): "
        f"{value_text(il2)} with IL-2{versus}, {ps}{derived}"
    )


def caveats_text(ev: Evidence) -> GlueMarkdown:
    """Why a reported rise is not evidence of benefit: no randomised comparison of Treg, regression to the mean
    and background therapy in uncontrolled series, and a missed primary endpoint where a trial reports a rise."""
    m = treg.magnitude_table(ev)
    rise = m[[treg.direction_of(ev, s) == "increase" for s in m["study_id"]]]
    parts = []
    if len(rise):
        compared = rise[rise["compared"]]
        uncontrolled = rise[rise["design"] != "rct"]
        randomised = rise[rise["design"] == "rct"]
        if compared.empty:
            parts.append(
                f"None of the {fmt_int(len(rise))} studies that report a rise compares Treg between randomised arms."
            )
        else:
            parts.append(f"{_labels(compared)} compare Treg between arms.")
        if len(uncontrolled):
            parts.append(
                f"{_labels(uncontrolled)} report the rise within treated patients, against their own baseline and "
                "with no randomised control, so it cannot be "
                "told apart from regression to the mean (patients enter when their disease is active, and "
                "extreme values tend to move back) or from changes in background therapy during follow-up."
            )
        which = "the randomised trial" if len(randomised) == 1 else "a randomised trial"
        for r in randomised[~randomised["compared"]].itertuples():
            why = f" ({lower_first(r.placebo_reason)})" if r.placebo_reason else ""
            parts.append(
                f"{r.label}, {which} among them, reports Treg for its IL-2 arm only; its placebo arm's "
                f"Treg values are not reported{why}, so its rise is not a randomised comparison either."
            )
    course = treg.glucocorticoid_course(ev)
    for label, g in course.groupby("label", sort=False):
        changes = {
            c.arm: f"from {fmt_reported(c.baseline['median'])} to {fmt_reported(c.last['median'])} mg/day "
            f"{timepoint_phrase(c.last['timepoint']).replace('at ', 'by ')}"
            for c in g.itertuples()
        }
        fell = all(c.last["median"] < c.baseline["median"] for c in g.itertuples())
        where = {1: "", 2: " in both arms"}.get(len(g), " in every arm") if fell else ""
        if len(set(changes.values())) == 1:
            how = f"{next(iter(changes.values()))}{' in each arm' if len(g) > 1 and not where else ''}"
        else:
            how = join_words([f"{text} with {ARM_WORDS.get(arm, arm)}" for arm, text in changes.items()])
        verb = "fell" if fell else "changed"
        sources = cite([r["source"] for r in g["baseline"]])
        parts.append(
            f"Background therapy did change during follow-up: in {label} the median prednisone dose {verb}{where}, "
            f"{how} {sources}."
        )
    primary = treg.primary_endpoints(ev)
    with_rise = primary[primary["treg_level"] != "none"]
    for p in with_rise.itertuples():
        if p.verdict == "missed":
            parts.append(
                f"In {p.label}, the randomised trial that reports a Treg rise, that rise came with a missed "
                f"primary endpoint, {_primary_text(ev, p)} {cite([p.il2['source']])}."
            )
        elif p.verdict == "met":
            parts.append(f"{p.label} reports a Treg rise and met its primary endpoint: {_primary_text(ev, p)}.")
    for p in primary[(primary["treg_level"] == "none") & (primary["verdict"] == "missed")].itertuples():
        parts.append(
            f"{p.label}, which reports no Treg finding, also missed its primary endpoint, {_primary_text(ev, p)} "
            f"{cite([p.il2['source']])}."
        )
    if len(with_rise) and (with_rise["verdict"] == "missed").all():
        parts.append(
            "So where a randomised trial reports a Treg rise, the rise has not come with a clinical response that "
            "separates IL-2 from placebo on the trial's own primary endpoint."
        )
    return GlueMarkdown(" ".join(parts))


def cumulative_text(ev: Evidence) -> str:
    """Per regimen group: the cumulative IL-2 dose per patient of each included study."""
    doses = study_tables.cumulative_doses(ev).merge(ev.studies[["study_id", "regimen_group"]], on="study_id")
    parts = []
    for group in treg.REGIMEN_LABELS:
        g = doses[doses["regimen_group"] == group]
        if g.empty:
            continue
        known = g[g["low"].notna()]
        by_total: dict[str, list[str]] = {}
        for r in known.itertuples():
            total = study_tables.mmiu_text(r.low) if r.low == r.high else f"{r.low:g}–{study_tables.mmiu_text(r.high)}"
            by_total.setdefault(total, []).append(r.label)
        items = [f"{total} in {join_words(labels)}" for total, labels in by_total.items()]
        unknown = list(g.loc[g["low"].isna(), "label"])
        if unknown:
            items.append(f"not computable for {join_words(unknown)}")
        parts.append(f"‘{treg.REGIMEN_LABELS[group]}’, {join_words(items)}")
    return "; ".join(parts)
