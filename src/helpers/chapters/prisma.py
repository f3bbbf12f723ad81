"""What the PRISMA chapter glues: the flow's counts, this book's totals and the reconciliation with the review."""

from __future__ import annotations

from helpers.evidence.load import Evidence
from helpers.report.prisma import prisma_alt_text, prisma_counts
from helpers.report.prose import fmt_int, join_words
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
