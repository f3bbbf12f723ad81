"""The literature search as the review documents it (``data/search.csv``)."""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.labels import month_text
from helpers.report.prose import NOT_REPORTED, fmt_int, is_missing, join_words

__all__ = ["month_text", "search_summary", "search_table"]


def search_summary(ev: Evidence) -> dict[str, str]:
    """Formatted facts of the search, keyed for glue."""
    s = ev.search
    windows = {(a, b) for a, b in zip(s["date_from"], s["date_to"])}
    if len(windows) != 1:
        window = "; ".join(
            f"{d}: {month_text(a)} to {month_text(b)}" for d, a, b in zip(s["database"], s["date_from"], s["date_to"])
        )
    else:
        ((a, b),) = windows
        window = f"{month_text(a)} to {month_text(b)}"
    records = ev.prisma.set_index("data").loc["database_results", "n"]
    per_db_known = s["records"].notna().all()
    return {
        "search_databases": join_words(list(s["database"])),
        "search_n_databases": fmt_int(len(s)),
        "search_window": window,
        "search_records": fmt_int(records),
        "search_records_per_database": (
            join_words([f"{d} {fmt_int(n)}" for d, n in zip(s["database"], s["records"])])
            if per_db_known
            else NOT_REPORTED
        ),
        "search_queries_known": "yes" if s["query"].notna().all() else "no",
        "search_strings_text": (
            "The review's exact search strings are known, and are shown in the table above."
            if s["query"].notna().all()
            else "The review's exact search strings are not known."
        ),
    }


def search_table(ev: Evidence) -> pd.DataFrame:
    """Databases, window, query and records, with the reason wherever a value is unknown."""
    s = ev.search
    return pd.DataFrame(
        {
            "Database": s["database"],
            "From": s["date_from"].map(month_text),
            "To": s["date_to"].map(month_text),
            "Search string": [q if not is_missing(q) else NOT_REPORTED for q in s["query"]],
            "Records": [fmt_int(n) for n in s["records"]],
            "Source": s["source"] + " (" + s["locator"] + ")",
            "Why unknown": s["na_reason"].fillna(""),
        }
    )
