"""This book's study and patient totals, set beside the review's reported ones.

The review reports 6 studies and 230 patients (150 on low-dose IL-2, 80 on
placebo) but its study table is not available, so the book cannot force
agreement: it counts what the evidence gives and shows the difference.
"""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.prose import NOT_REPORTED

#: Which arm size counts as "patients" for a study, in order of preference: the
#: review's placebo total (80 = 30 + 50) fits randomised, not analysed, numbers.
COUNTED_POPULATIONS = ("randomised", "treated", "enrolled")


def _counted_arm(rows: pd.DataFrame) -> pd.Series | None:
    """The arm's row in the first population of COUNTED_POPULATIONS with a known n, or None."""
    known = rows[rows["n"].notna()]
    for population in COUNTED_POPULATIONS:
        match = known[known["population"] == population]
        if len(match):
            return match.iloc[0]
    return None


def counted_patients(ev: Evidence) -> pd.DataFrame:
    """One row per included study and arm (IL-2, placebo): the n this book counts, and why.

    Columns: study_id, label, design, arm, n (NA when unknown), population, status, note.
    """
    rows = []
    arms = ev.arms
    for study in ev.included_studies().itertuples(index=False):
        study_arms = ["il2", "placebo"] if study.design == "rct" else ["il2"]
        for role in study_arms:
            mine = arms[(arms["study_id"] == study.study_id) & (arms["role"] == role)]
            # a dose-ranging trial's IL-2 arms are counted together, each in its preferred population
            chosen = [_counted_arm(mine[mine["arm"] == a]) for a in dict.fromkeys(mine["arm"])]
            base = dict(study_id=study.study_id, label=study.label, design=study.design, arm=role)
            if not chosen or any(c is None for c in chosen):
                note = "; ".join(
                    f"{r.population}: {int(r.n) if pd.notna(r.n) else NOT_REPORTED}" for r in mine.itertuples()
                )
                rows.append(
                    {**base, "n": pd.NA, "population": pd.NA, "status": "not_reported", "note": note or NOT_REPORTED}
                )
                continue
            several = len(chosen) > 1
            rows.append(
                {
                    **base,
                    "n": int(sum(int(c["n"]) for c in chosen)),
                    "population": chosen[0]["population"],
                    "status": "derived" if several else chosen[0]["status"],
                    "note": (
                        "sum of the arms " + ", ".join(str(c["arm"]) for c in chosen)
                        if several
                        else chosen[0]["derivation"]
                        if pd.notna(chosen[0]["derivation"])
                        else ""
                    ),
                }
            )
    out = pd.DataFrame(rows)
    out["n"] = out["n"].astype("Int64")
    return out


def book_totals(ev: Evidence) -> dict[str, object]:
    """Totals of this book's included studies, with the studies whose size is unknown."""
    counted = counted_patients(ev)
    included = ev.included_studies()
    il2 = counted[counted["arm"] == "il2"]
    placebo = counted[counted["arm"] == "placebo"]
    return {
        "studies_included": len(included),
        "studies_rct": int((included["design"] == "rct").sum()),
        "studies_open_label": int((included["design"] != "rct").sum()),
        "patients_il2_known": int(il2["n"].sum()),
        "patients_placebo_known": int(placebo["n"].sum()),
        "patients_known": int(counted["n"].sum()),
        "il2_unknown_studies": list(il2.loc[il2["n"].isna(), "label"]),
        "placebo_unknown_studies": list(placebo.loc[placebo["n"].isna(), "label"]),
    }


def reconciliation_table(ev: Evidence) -> pd.DataFrame:
    """The review's reported totals beside this book's, with the difference."""
    t = book_totals(ev)
    unknown = t["il2_unknown_studies"]
    unknown_note = f" plus {', '.join(unknown)} (size not reported)" if unknown else ""
    lines = [
        (
            "Studies",
            "studies_total",
            t["studies_included"],
            "this book reconstructs these studies from the review's totals; the review's study table is not available",
        ),
        ("Randomised controlled trials", "studies_rct", t["studies_rct"], ""),
        ("Open-label studies", "studies_open_label", t["studies_open_label"], ""),
        ("Patients on low-dose IL-2", "patients_il2", t["patients_il2_known"], "known sizes only" + unknown_note),
        ("Patients on placebo", "patients_placebo", t["patients_placebo_known"], ""),
        ("Patients in all", "patients_total", t["patients_known"], "known sizes only" + unknown_note),
    ]
    rows = []
    for label, quantity, ours, note in lines:
        review = ev.review_value(quantity)
        rows.append(
            {
                "Quantity": label,
                "Review": review,
                "This book": ours,
                "Review minus this book": review - ours,
                "Note": note,
            }
        )
    return pd.DataFrame(rows)


def open_label_arithmetic(ev: Evidence) -> pd.DataFrame:
    """How many IL-2 patients the review's totals leave for its open-label studies.

    The RCTs' randomised IL-2 patients are subtracted from the review's IL-2 total;
    the remainder is set against the open-label studies this book reconstructs, under
    each count reported for a study (e.g. He 2016: 40 enrolled or 38 analysed).
    """
    counted = counted_patients(ev)
    rct = counted[(counted["design"] == "rct") & (counted["arm"] == "il2")]
    rct_il2, n_rct = int(rct["n"].sum()), rct["study_id"].nunique()
    left = ev.review_value("patients_il2") - rct_il2
    open_label = counted[(counted["design"] != "rct") & (counted["arm"] == "il2")]
    known = int(open_label["n"].sum())
    rows = [
        {"Step": "IL-2 patients in the review", "Patients": ev.review_value("patients_il2")},
        {
            "Step": f"minus IL-2 patients randomised in the {_number(n_rct)} RCT{'s' if n_rct != 1 else ''}",
            "Patients": -rct_il2,
        },
        {"Step": "left for the open-label studies", "Patients": left},
    ]
    for r in open_label.itertuples(index=False):
        rows.append(
            {
                "Step": f"minus {r.label} ({r.population if pd.notna(r.population) else 'size not reported'})",
                "Patients": -r.n if pd.notna(r.n) else pd.NA,
            }
        )
    rows.append({"Step": "left for open-label studies not known or of unknown size", "Patients": left - known})
    out = pd.DataFrame(rows)
    out["Patients"] = out["Patients"].astype("Int64")
    return out


def _number(n: int) -> str:
    return {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}.get(n, str(n))


#: A study whose inclusion reason says it may overlap with another can be left out of a scenario.
OVERLAP_WORD = "overlap"


def reconstruction_scenarios(ev: Evidence) -> pd.DataFrame:
    """Every way of counting the included open-label studies' IL-2 patients, and what each leaves.

    Each included open-label study enters with each IL-2 arm size the data give for it (e.g. enrolled
    and analysed), or not at all where its inclusion reason says it may overlap with another study.
    The review's IL-2 total minus the randomised IL-2 patients gives the open-label total to reach; a
    scenario leaves the difference to the review's open-label studies this book does not include,
    and the candidate studies of known IL-2 size that would fill it exactly are named.
    """
    from itertools import product

    counted = counted_patients(ev)
    rct_il2 = int(counted.loc[(counted["design"] == "rct") & (counted["arm"] == "il2"), "n"].sum())
    target = ev.review_value("patients_il2") - rct_il2
    missing_studies = ev.review_value("studies_open_label") - int((ev.included_studies()["design"] != "rct").sum())
    studies = ev.included_studies()
    studies = studies[studies["design"] != "rct"]
    arms = ev.arms[(ev.arms["role"] == "il2") & ev.arms["n"].notna()]
    options = []
    for s in studies.itertuples(index=False):
        mine = arms[arms["study_id"] == s.study_id]
        order = mine["population"].map(lambda p: COUNTED_POPULATIONS.index(p) if p in COUNTED_POPULATIONS else 99)
        sizes = mine.assign(_o=order).sort_values("_o", kind="stable").drop_duplicates("n")
        choice = [(f"{s.label} {int(r.n)} ({r.population.replace('_', ' ')})", int(r.n)) for r in sizes.itertuples()]
        if OVERLAP_WORD in str(s.inclusion_reason).lower():
            choice.append((f"{s.label} left out (may overlap)", 0))
        options.append(choice or [(f"{s.label} (size not reported)", 0)])
    candidates = ev.studies[ev.studies["inclusion_status"] == "candidate"]
    cand_sizes = {
        r.label: sorted({int(n) for n in arms.loc[arms["study_id"] == r.study_id, "n"]})
        for r in candidates.itertuples(index=False)
    }
    rows = []
    for combo in product(*options):
        total = sum(n for _, n in combo)
        left = target - total
        fits = [lab for lab, sizes in cand_sizes.items() if left in sizes]
        rows.append(
            {
                "Open-label studies counted": "; ".join(t for t, _ in combo),
                "Sum": total,
                "Left for the review's other open-label studies": left,
                "Candidate studies of exactly that size": ", ".join(fits) or "none",
            }
        )
    out = pd.DataFrame(rows).sort_values("Left for the review's other open-label studies", kind="stable")
    out.attrs.update(target=target, missing_studies=missing_studies)
    return out.reset_index(drop=True)


#: The groups of this book's selection flow, by inclusion_status of studies.csv.
SELECTION_GROUPS = {
    "included": "Included (reconstructed)",
    "candidate": "Candidates, not included",
    "excluded": "Excluded",
}


def selection_groups(ev: Evidence) -> tuple[dict[str, list[str]], int]:
    """Study labels by inclusion status, in the flow's order, and how many studies were considered."""
    s = ev.studies
    groups = {
        title: s.loc[s["inclusion_status"] == status, "label"].tolist() for status, title in SELECTION_GROUPS.items()
    }
    return groups, len(s)
