"""The PRISMA 2020 reporting checklist: each item, whether and where the book addresses it.

The checklist is data (``book/prisma2020_checklist.csv``): each item of the PRISMA 2020 statement in
paraphrase, whether the book addresses it (``yes``, ``partly``, ``no``), where (labels of the book's
sections, tables and figures, separated by '; ') and a note that says what is missing and why. The
table rendered here makes each location a cross-reference, so a renamed label breaks the strict
build, and ``tests/test_reporting_checklist.py`` checks every label against the book's sources.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.paths import book_dir
from helpers.report.prose import fmt_int

COLUMNS = ["item", "section", "topic", "checklist_item", "addressed", "where", "note"]
ADDRESSED = {"yes": "Yes", "partly": "Partly", "no": "No"}
#: Labels of numbered tables and figures are cited by number; any other label by its title.
NUMBERED_PREFIXES = ("tbl-", "fig-")


def checklist_path() -> Path:
    return book_dir() / "prisma2020_checklist.csv"


def load_checklist(path: Path | None = None) -> pd.DataFrame:
    """The checklist, checked: the expected columns, a known answer in ``addressed``, a location unless 'no'."""
    df = pd.read_csv(path or checklist_path(), dtype=str, keep_default_na=False)
    if list(df.columns) != COLUMNS:
        raise ValueError(f"prisma2020_checklist.csv: columns {list(df.columns)}; expected {COLUMNS}")
    bad = df[~df["addressed"].isin(ADDRESSED)]
    if len(bad):
        raise ValueError(
            f"prisma2020_checklist.csv: 'addressed' must be one of {list(ADDRESSED)}: {bad['item'].tolist()}"
        )
    unplaced = df[(df["addressed"] != "no") & (df["where"].str.strip() == "")]
    if len(unplaced):
        raise ValueError(f"prisma2020_checklist.csv: items addressed with no location: {unplaced['item'].tolist()}")
    unexplained = df[(df["addressed"] != "yes") & (df["note"].str.strip() == "")]
    if len(unexplained):
        raise ValueError(
            f"prisma2020_checklist.csv: items not fully addressed need a note: {unexplained['item'].tolist()}"
        )
    return df


def locations(where: str) -> list[str]:
    """'ch-search; sec-protocol' -> ['ch-search', 'sec-protocol']."""
    return [label.strip() for label in str(where).split(";") if label.strip()]


def reference(label: str) -> str:
    """A MyST cross-reference to a label: tables and figures by number, sections by title."""
    role = "numref" if label.startswith(NUMBERED_PREFIXES) else "ref"
    return f"{{{role}}}`{label}`"


def checklist_table(df: pd.DataFrame) -> pd.DataFrame:
    """The checklist for reading: topic, item, what it asks, whether and where the book addresses it."""
    where = ["; ".join(reference(label) for label in locations(w)) or "Not addressed" for w in df["where"]]
    return pd.DataFrame(
        {
            "Section and topic": df["section"] + ": " + df["topic"],
            "Item": df["item"],
            "Checklist item (paraphrase)": df["checklist_item"],
            "Addressed": df["addressed"].map(ADDRESSED),
            "Where addressed": where,
            "Note": df["note"].where(df["note"] != "", "–"),
        }
    )


def checklist_values(df: pd.DataFrame) -> dict[str, str]:
    counts = df["addressed"].value_counts()
    main_items = df["item"].str.extract(r"^(\d+)")[0].nunique()
    return {
        "checklist_n_items": fmt_int(main_items),
        "checklist_n_rows": fmt_int(len(df)),
        "checklist_n_yes": fmt_int(counts.get("yes", 0)),
        "checklist_n_partly": fmt_int(counts.get("partly", 0)),
        "checklist_n_no": fmt_int(counts.get("no", 0)),
    }
