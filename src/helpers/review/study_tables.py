"""Display tables of the studies: characteristics, applicability, baseline characteristics, inclusion decisions,
the cumulative IL-2 dose per patient, and the results table for reading."""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.labels import (
    ARM_LABELS,
    DESIGN_LABELS,
    dose_text,
    regimen_text,
    text_or_nr,
    value_text,
)
from helpers.report.prose import NOT_REPORTED, fmt_int, fmt_reported, is_missing, lower_first
from helpers.review.reconciliation import counted_patients


def _n_text(counted: pd.DataFrame, study_id: str, arm: str) -> str:
    row = counted[(counted["study_id"] == study_id) & (counted["arm"] == arm)]
    if row.empty:
        return "–"
    r = row.iloc[0]
    if is_missing(r["n"]):
        return NOT_REPORTED
    mark = " (derived)" if r["status"] == "derived" else ""
    return f"{fmt_int(r['n'])} {r['population']}{mark}"


def characteristics_table(ev: Evidence) -> pd.DataFrame:
    """Characteristics of the included studies: design, registration, population, regimen, arm sizes.

    Baseline characteristics are in :func:`clinical_table` and :func:`background_table`; setting,
    eligibility and the other facts that say to whom a result applies in :func:`applicability_tables`.
    """
    counted = counted_patients(ev)
    rows = []
    for s in ev.included_studies().itertuples(index=False):
        study = pd.Series(s._asdict())
        rows.append(
            {
                "Study": s.label,
                "Design": DESIGN_LABELS[s.design],
                "Registration": text_or_nr(s.registration),
                "Population": text_or_nr(s.population),
                "Regimen": regimen_text(study),
                "n IL-2": _n_text(counted, s.study_id, "il2"),
                "n placebo": _n_text(counted, s.study_id, "placebo"),
            }
        )
    return pd.DataFrame(rows)


def inclusion_table(ev: Evidence, statuses: tuple[str, ...] = ("candidate", "excluded")) -> pd.DataFrame:
    """Studies not included, with status and reason."""
    s = ev.studies[ev.studies["inclusion_status"].isin(statuses)]
    return pd.DataFrame(
        {
            "Study": s["label"],
            "Design": s["design"].map(DESIGN_LABELS),
            "Status": s["inclusion_status"],
            "Reason": s["inclusion_reason"],
        }
    ).reset_index(drop=True)


# ---------------------------------------------------------------------------
# Baseline clinical characteristics (baseline.csv, and the baseline rows of outcomes.csv)
# ---------------------------------------------------------------------------
#: Domains of outcome_definitions.csv shown as baseline characteristics, in display order, with their labels.
#: A medication of kind 'binary' is background therapy (its own table); the continuous one is the
#: glucocorticoid dose.
BASELINE_SECTIONS = (
    ("baseline", "Demographics"),
    ("disease_activity", "Disease activity"),
    ("medication", "Glucocorticoid"),
    ("organ", "Organ manifestations"),
    ("serology", "Serology"),
)
BACKGROUND_SECTION = "Background therapy"
#: Populations in the order a study's several baseline rows of one characteristic are listed.
POPULATION_ORDER = ("randomised", "enrolled", "treated", "analysed_efficacy", "itt", "per_protocol", "subgroup")


def baseline_view(ev: Evidence) -> pd.DataFrame:
    """Every baseline value of the included studies, from baseline.csv and the baseline rows of outcomes.csv.

    One row per study, arm, characteristic and population, with the characteristic's label, domain,
    kind and unit, the arm's role, and the between-arm p-value where the source gives one. A binary
    serology outcome counts a change (e.g. ANA decreased), which has no baseline value, so it is left
    out; so are rows with no numbers (qualitative or not reported).
    """
    from helpers.evidence.clinical_tables import load_baseline

    defs = ev.outcome_definitions.set_index("outcome")
    domains = {d for d, _ in BASELINE_SECTIONS}
    o = ev.outcomes[ev.outcomes["timepoint"] == "baseline"].copy()
    o["p_value"] = o["p_value"].where(o["p_comparison"] == "between_arms")
    o = o.rename(columns={"outcome": "characteristic"}).assign(table="outcomes.csv")
    b = load_baseline(ev).assign(table="baseline.csv")
    columns = [
        "study_id",
        "arm",
        "population",
        "characteristic",
        "statistic",
        "events",
        "total",
        "percent",
        "mean",
        "sd",
        "median",
        "lower",
        "upper",
        "p_value",
        "status",
        "source",
        "locator",
        "evidence_ref",
        "table",
    ]
    rows = pd.concat([b[columns], o[columns]], ignore_index=True)
    rows = rows[~rows["statistic"].isin(["qualitative", "not_reported"])]
    rows = rows.assign(
        domain=rows["characteristic"].map(defs["domain"]),
        kind=rows["characteristic"].map(defs["kind"]),
        unit=rows["characteristic"].map(defs["unit"]),
        label=rows["characteristic"].map(defs["label"]),
    )
    rows = rows[rows["domain"].isin(domains) & ~((rows["domain"] == "serology") & (rows["kind"] == "binary"))]
    included = ev.included_studies()[["study_id", "label"]].rename(columns={"label": "study_label"})
    rows = rows.merge(included, on="study_id")
    roles = ev.arms.drop_duplicates(["study_id", "arm"])[["study_id", "arm", "role"]]
    return rows.merge(roles, on=["study_id", "arm"], how="left").reset_index(drop=True)


def baseline_cell(r: pd.Series) -> str:
    """One baseline value in words that say which statistic it is: 'median 12 (range 8–27)',
    'mean 31.58 (SD 9.25)', '27/30 (90.0%)', or '13 (denominator not reported)'."""
    stat = r["statistic"]
    if stat == "count":
        if is_missing(r["total"]):
            return f"{fmt_int(r['events'])} (denominator {NOT_REPORTED})"
        return value_text(r)
    if stat in ("median_range", "median_iqr"):
        spread = "range" if stat == "median_range" else "IQR"
        lo, hi = fmt_reported(r["lower"]), fmt_reported(r["upper"])
        return f"median {fmt_reported(r['median'])} ({spread} {lo}–{hi})"
    if stat == "mean_sd":
        return f"mean {fmt_reported(r['mean'])} (SD {fmt_reported(r['sd'])})"
    return NOT_REPORTED


def _population_rank(population: object) -> int:
    return POPULATION_ORDER.index(population) if population in POPULATION_ORDER else len(POPULATION_ORDER)


def _cell(rows: pd.DataFrame) -> str:
    """A study arm's value(s) of one characteristic: one text, or each distinct one after its locator."""
    if rows.empty:
        return NOT_REPORTED
    rows = rows.assign(_r=rows["population"].map(_population_rank)).sort_values("_r", kind="stable")
    texts = {}
    for _, r in rows.iterrows():
        texts.setdefault(baseline_cell(r), r["locator"])
    if len(texts) == 1:
        return next(iter(texts))
    return "; ".join(f"{locator}: {text}" for text, locator in texts.items())


def _arm_columns(view: pd.DataFrame, ev: Evidence) -> list[tuple[str, str, str]]:
    """(study_id, arm, header) of every arm with a baseline value, studies in studies.csv order, IL-2 arms first."""
    order = {s: k for k, s in enumerate(ev.included_studies()["study_id"])}
    role_rank = {"il2": 0, "placebo": 1, "conventional": 2}
    arms = view.drop_duplicates(["study_id", "arm"]).copy()
    arms = arms.assign(_s=arms["study_id"].map(order), _r=arms["role"].map(role_rank)).sort_values(["_s", "_r", "arm"])
    per_role = arms.groupby(["study_id", "role"])["arm"].transform("nunique")
    out = []
    for r, several in zip(arms.itertuples(index=False), per_role.loc[arms.index]):
        arm = ARM_LABELS.get(r.role, r.arm) + (f" ({r.arm})" if several > 1 else "")
        out.append((r.study_id, r.arm, f"{r.study_label}, {lower_first(arm)}"))
    return out


def _source_text(rows: pd.DataFrame, study_order: dict[str, int]) -> str:
    role_rank = {"il2": 0, "placebo": 1, "conventional": 2}
    rows = rows.assign(
        _s=rows["study_id"].map(study_order),
        _a=rows["role"].map(role_rank),
        _r=rows["population"].map(_population_rank),
    )
    parts = {}
    for _, r in rows.sort_values(["_s", "_a", "_r"], kind="stable").iterrows():
        parts.setdefault(r["study_label"], []).append(f"{r['evidence_ref']} {r['locator']}")
    return "; ".join(f"{study}: {', '.join(dict.fromkeys(refs))}" for study, refs in parts.items())


def _row_label(r: pd.Series) -> str:
    return r["label"] if r["unit"] == "patients" else f"{r['label']}, {r['unit']}"


def _baseline_table(view: pd.DataFrame, ev: Evidence, sections: list[tuple[pd.DataFrame, str]]) -> pd.DataFrame:
    if view.empty:
        return pd.DataFrame(columns=["Domain", "Characteristic", "Source"])
    columns = _arm_columns(view, ev)
    p_studies = list(dict.fromkeys(view.loc[view["p_value"].notna(), "study_label"]))
    order = {o: k for k, o in enumerate(ev.outcome_definitions["outcome"])}
    study_order = {s: k for k, s in enumerate(ev.included_studies()["study_id"])}
    out = []
    for part, section in sections:
        first = True
        for characteristic in sorted(part["characteristic"].unique(), key=order.get):
            rows = part[part["characteristic"] == characteristic]
            row = {"Domain": section if first else "", "Characteristic": _row_label(rows.iloc[0])}
            for sid, arm, header in columns:
                row[header] = _cell(rows[(rows["study_id"] == sid) & (rows["arm"] == arm)])
            for study in p_studies:
                p = rows.loc[(rows["study_label"] == study) & rows["p_value"].notna(), "p_value"]
                row[f"{study}, p between arms"] = "; ".join(dict.fromkeys(p)) or "–"
            row["Source"] = _source_text(rows, study_order)
            out.append(row)
            first = False
    table = pd.DataFrame(out)
    arm_headers = [h for _, _, h in columns]
    empty = [h for h in arm_headers if (table[h] == NOT_REPORTED).all()]
    no_p = [f"{study}, p between arms" for study in p_studies if (table[f"{study}, p between arms"] == "–").all()]
    return table.drop(columns=empty + no_p)


#: The clinical table in two parts (each stays readable): (part, domains of BASELINE_SECTIONS).
CLINICAL_PARTS = {
    "patients": ("baseline", "disease_activity", "medication"),
    "manifestations": ("organ", "serology"),
}


def clinical_table(ev: Evidence, part: str) -> pd.DataFrame:
    """Baseline clinical characteristics of the included studies that report any, one column per arm, the
    between-arm p-value where reported, and the source of every row.

    ``part`` 'patients': demographics, disease activity and glucocorticoid dose; 'manifestations': organ
    manifestations (lupus nephritis among them) and serology. Arms with no value in the part are left out.
    """
    view = baseline_view(ev)
    view = view[~((view["domain"] == "medication") & (view["kind"] == "binary"))]
    view = view[view["domain"].isin(CLINICAL_PARTS[part])]
    sections = [(view[view["domain"] == d], label) for d, label in BASELINE_SECTIONS]
    return _baseline_table(view, ev, [(p, s) for p, s in sections if not p.empty])


def background_table(ev: Evidence) -> pd.DataFrame:
    """Background therapy at baseline (patients taking each drug), one column per arm, with p and source."""
    view = baseline_view(ev)
    view = view[(view["domain"] == "medication") & (view["kind"] == "binary")]
    return _baseline_table(view, ev, [(view, BACKGROUND_SECTION)])


def baseline_studies(ev: Evidence, characteristic: str | None = None) -> tuple[list[str], list[str]]:
    """Labels of the included studies with any baseline value (of one characteristic), and of those with none."""
    view = baseline_view(ev)
    if characteristic is not None:
        view = view[view["characteristic"] == characteristic]
    have = set(view["study_id"])
    s = ev.included_studies()
    return list(s.loc[s["study_id"].isin(have), "label"]), list(s.loc[~s["study_id"].isin(have), "label"])


def baseline_discrepancies(ev: Evidence) -> pd.DataFrame:
    """Characteristics for which one arm has different values in two places (e.g. two tables of one report).

    Columns: study_id, study_label, arm, role, characteristic, label, unit, texts (list of (text, locator,
    population)), one row per study, arm and characteristic.
    """
    view = baseline_view(ev)
    out = []
    for (sid, arm, characteristic), rows in view.groupby(["study_id", "arm", "characteristic"], sort=False):
        rows = rows.assign(_r=rows["population"].map(_population_rank)).sort_values("_r", kind="stable")
        texts = list(dict.fromkeys((baseline_cell(r), r["locator"], r["population"]) for _, r in rows.iterrows()))
        if len({t for t, _, _ in texts}) > 1:
            first = rows.iloc[0]
            out.append(
                {
                    "study_id": sid,
                    "study_label": first["study_label"],
                    "arm": arm,
                    "role": first["role"],
                    "characteristic": characteristic,
                    "label": first["label"],
                    "unit": first["unit"],
                    "texts": texts,
                }
            )
    return pd.DataFrame(
        out, columns=["study_id", "study_label", "arm", "role", "characteristic", "label", "unit", "texts"]
    )


# ---------------------------------------------------------------------------
# Applicability: study context (study_context.csv) and the cumulative dose
# ---------------------------------------------------------------------------
def context_facts(ev: Evidence) -> pd.DataFrame:
    """The study-context facts of the included studies, indexed by (study_id, fact)."""
    from helpers.evidence.clinical_tables import load_study_context

    ctx = load_study_context(ev)
    return ctx[ctx["study_id"].isin(ev.included_studies()["study_id"])].set_index(["study_id", "fact"])


def context_text(facts: pd.DataFrame, study_id: str, fact: str) -> str:
    """A fact as a table cell: its value with the evidence codes ('Active SLE with SLEDAI ≥8 [S7]'), marked
    '(derived)' when derived; 'not reported' when the sources do not give it."""
    if (study_id, fact) not in facts.index:
        return NOT_REPORTED
    r = facts.loc[(study_id, fact)]
    if r["status"] == "not_reported" or is_missing(r["value"]):
        return NOT_REPORTED
    derived = " (derived)" if r["status"] == "derived" else ""
    return f"{r['value']}{derived} [{r['evidence_ref']}]"


def refractory_required(ev: Evidence) -> dict[str, list[str]]:
    """Included study labels by the answer to 'refractory disease required': 'yes', 'no', 'not reported'."""
    facts = context_facts(ev)
    out: dict[str, list[str]] = {"yes": [], "no": [], "not reported": []}
    for s in ev.included_studies().itertuples(index=False):
        key = (s.study_id, "refractory")
        value = facts.loc[key, "value"] if key in facts.index else pd.NA
        if is_missing(value) or facts.loc[key, "status"] == "not_reported":
            out["not reported"].append(s.label)
        else:
            out["yes" if str(value).startswith("Yes") else "no"].append(s.label)
    return out


def facts_reported(ev: Evidence, fact: str) -> tuple[list[str], list[str]]:
    """Labels of the included studies whose sources give the fact, and of those whose do not."""
    facts = context_facts(ev)
    given, missing = [], []
    for s in ev.included_studies().itertuples(index=False):
        known = (s.study_id, fact) in facts.index and facts.loc[(s.study_id, fact), "status"] != "not_reported"
        (given if known else missing).append(s.label)
    return given, missing


def cumulative_doses(ev: Evidence) -> pd.DataFrame:
    """IL-2 per patient over the whole regimen: dose per injection × injections per cycle × cycles.

    Computed, never stored, from ``studies.csv`` (dose_miu, or the range dose_miu_low to
    dose_miu_high where patients received different doses; cycles) and ``study_context.csv``
    (injections_per_cycle). Where any factor is not reported, the dose is NA and ``reason`` says which
    and why (the rows' own na_reason). Columns: study_id, label, dose_low, dose_high, injections,
    cycles, low, high (MIU), derived (a factor is itself derived), derivation, reason.
    """
    facts = context_facts(ev)
    out = []
    for s in ev.included_studies().itertuples(index=False):
        low, high = (s.dose_miu, s.dose_miu) if not is_missing(s.dose_miu) else (s.dose_miu_low, s.dose_miu_high)
        key = (s.study_id, "injections_per_cycle")
        inj_row = facts.loc[key] if key in facts.index else None
        injections = (
            int(inj_row["value"])
            if inj_row is not None and not is_missing(inj_row["value"]) and inj_row["status"] != "not_reported"
            else None
        )
        missing = []
        if is_missing(low) or is_missing(high):
            missing.append(f"dose per injection ({_study_reason(s.na_reason, 'dose')})")
        if injections is None:
            why = inj_row["na_reason"] if inj_row is not None else "no row in study_context.csv"
            missing.append(f"injections per cycle ({lower_first(str(why))})")
        if is_missing(s.cycles):
            missing.append(f"cycles ({_study_reason(s.na_reason, 'cycles')})")
        row = {
            "study_id": s.study_id,
            "label": s.label,
            "dose_low": None if is_missing(low) else float(low),
            "dose_high": None if is_missing(high) else float(high),
            "injections": injections,
            "cycles": None if is_missing(s.cycles) else int(s.cycles),
            "low": None,
            "high": None,
            "derived": bool(inj_row is not None and inj_row["status"] == "derived"),
            "derivation": "",
            "reason": "; ".join(missing),
        }
        if not missing:
            row["low"] = row["dose_low"] * injections * row["cycles"]
            row["high"] = row["dose_high"] * injections * row["cycles"]
            dose = dose_text(s.dose_miu, s.dose_miu_low, s.dose_miu_high)
            cycles = f"{row['cycles']} cycle{'s' if row['cycles'] > 1 else ''}"
            row["derivation"] = f"{dose} × {injections} injections × {cycles}"
        out.append(row)
    return pd.DataFrame(out)


def _study_reason(na_reason: object, part: str) -> str:
    """The part of a studies.csv na_reason about one field ('cycles: not a cyclic regimen (...)')."""
    if is_missing(na_reason):
        return NOT_REPORTED
    for piece in str(na_reason).split(";"):
        head, _, why = piece.partition(":")
        if part in [h.strip() for h in head.split(",")] and why.strip():
            return why.strip()
    return NOT_REPORTED


def mmiu_text(value: float) -> str:
    return f"{value:g} MIU"


def cumulative_text(r: pd.Series) -> str:
    """'21 MIU (1 MIU × 7 injections × 3 cycles; derived)', a range where doses differ, or why not computable."""
    if is_missing(r["low"]):
        return f"not computable: {r['reason'].split('; ')[0]}"
    total = mmiu_text(r["low"]) if r["low"] == r["high"] else f"{r['low']:g}–{mmiu_text(r['high'])}"
    return f"{total} ({r['derivation']}; derived)"


def applicability_tables(ev: Evidence) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two tables of the included studies, split so each stays readable.

    *Patients*: setting, entry criteria, whether refractory disease was required, the IL-2 arm's
    baseline prednisone dose, lupus nephritis at baseline. *Treatment*: IL-2 product, sponsor,
    background therapy, glucocorticoid taper rule, cumulative IL-2 dose per patient.
    """
    facts = context_facts(ev)
    view = baseline_view(ev)
    doses = cumulative_doses(ev).set_index("study_id")
    patients, treatment = [], []
    for s in ev.included_studies().itertuples(index=False):
        rows = view[view["study_id"] == s.study_id]
        pred = rows[(rows["characteristic"] == "prednisone_mg_day") & (rows["role"] == "il2")]
        ln = rows[rows["characteristic"] == "lupus_nephritis"]
        ln_text = "; ".join(
            f"{lower_first(ARM_LABELS.get(role, role))} {_cell(g)}" for role, g in ln.groupby("role", sort=False)
        )
        patients.append(
            {
                "Study": s.label,
                "Setting": context_text(facts, s.study_id, "setting"),
                "Entry criteria": context_text(facts, s.study_id, "entry_criteria"),
                "Refractory disease required": context_text(facts, s.study_id, "refractory"),
                "Prednisone at baseline, IL-2 arm (mg/day)": _cell(pred),
                "Lupus nephritis at baseline": ln_text or NOT_REPORTED,
            }
        )
        treatment.append(
            {
                "Study": s.label,
                "IL-2 product": context_text(facts, s.study_id, "product"),
                "Sponsor": context_text(facts, s.study_id, "sponsor"),
                "Background therapy": context_text(facts, s.study_id, "background_therapy"),
                "Glucocorticoid taper rule": context_text(facts, s.study_id, "glucocorticoid_taper"),
                "Cumulative IL-2 dose per patient": cumulative_text(doses.loc[s.study_id]),
            }
        )
    return pd.DataFrame(patients), pd.DataFrame(treatment)
