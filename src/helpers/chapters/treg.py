"""What the Treg chapter says about each study, written from the data (notes and reasons recorded with each row)."""

from __future__ import annotations

from helpers.evidence.load import Evidence
from helpers.report.prose import GlueMarkdown, is_missing
from helpers.review import treg


def _cite(sources) -> str:
    keys = [k.strip() for s in sources for k in str(s).split(";") if k.strip()]
    return "{cite:p}`" + ",".join(dict.fromkeys(keys)) + "`" if keys else ""


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
        r = r[r["statistic"] == "qualitative"]
        notes = "; ".join(dict.fromkeys(str(n) for n in r["note"] if not is_missing(n)))
        parts.append(f"{p.label}: {_sentence(notes)} {_cite(r['source'])}.")
    return GlueMarkdown(" ".join(parts))


def no_finding_text(ev: Evidence, pairs) -> GlueMarkdown:
    """For every study with no Treg finding: why, in the words recorded with its row."""
    parts = []
    for p in pairs[pairs["treg_direction"] == "not reported"].itertuples():
        r = _il2_rows(ev, p.study_id)
        reasons = "; ".join(dict.fromkeys(str(x) for x in list(r["na_reason"]) + list(r["note"]) if not is_missing(x)))
        locator = "; ".join(dict.fromkeys(str(x) for x in r["locator"] if not is_missing(x)))
        reason = _sentence(reasons) if reasons else "No Treg row in the consulted sources"
        parts.append(f"{p.label}: {reason} ({locator}) {_cite(r['source'])}.")
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
