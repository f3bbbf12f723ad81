"""What the Treg chapter says about each study, written from the data (notes and reasons recorded with each row)."""

from __future__ import annotations

from helpers.evidence.load import Evidence
from helpers.report.labels import timepoint_text
from helpers.report.prose import GlueMarkdown, cite, fmt_int, is_missing, join_words, nested, parenthetical
from helpers.review import treg


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
