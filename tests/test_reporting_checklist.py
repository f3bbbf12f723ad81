"""The PRISMA 2020 checklist appendix: every item, each location a label that exists in the book.

A section renamed or a table's ``:name:`` changed breaks the strict build through the checklist's
cross-references; this test says which item points where, without a build, from the book's sources.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.chapters import reporting
from tests.book_text import book_labels, notebook_glue

#: The items of the PRISMA 2020 checklist (Page et al. 2021, BMJ 372:n71), with their parts.
PRISMA_2020_ITEMS = [
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10a", "10b", "11", "12",
    "13a", "13b", "13c", "13d", "13e", "13f", "14", "15", "16a", "16b", "17", "18", "19",
    "20a", "20b", "20c", "20d", "21", "22", "23a", "23b", "23c", "23d", "24a", "24b", "24c", "25", "26", "27",
]  # fmt: skip


@pytest.fixture(scope="module")
def checklist() -> pd.DataFrame:
    return reporting.load_checklist()


def test_every_item_once_in_order(checklist):
    assert list(checklist["item"]) == PRISMA_2020_ITEMS


def test_items_are_short_paraphrases(checklist):
    long = [(i, t) for i, t in zip(checklist["item"], checklist["checklist_item"]) if len(t.split()) >= 15]
    assert long == []


def missing_locations(df: pd.DataFrame, labels: set[str]) -> list[str]:
    return [
        f"item {item}: '{label}' is not a label of the book"
        for item, where in zip(df["item"], df["where"])
        for label in reporting.locations(where)
        if label not in labels
    ]


def test_every_location_is_a_label_of_the_book(checklist):
    labels = book_labels()
    assert {"ch-search", "sec-protocol", "tbl-inclusion", "sec-competing-interests"} <= labels
    missing = missing_locations(checklist, labels)
    assert missing == [], "\n".join(missing)


def test_a_renamed_label_is_caught(checklist):
    """SYNTHETIC: the checklist pointing at a label the book no longer has."""
    renamed = checklist.copy()
    renamed.loc[renamed["item"] == "26", "where"] = "sec-conflicts-of-interest"
    assert missing_locations(renamed, book_labels()) == [
        "item 26: 'sec-conflicts-of-interest' is not a label of the book"
    ]


def test_not_addressed_items_say_why(checklist):
    no = checklist[checklist["addressed"] == "no"]
    assert len(no) and no["note"].str.startswith("Not addressed").all()
    partly = checklist[checklist["addressed"] == "partly"]
    assert (partly["note"].str.len() > 0).all()


def test_declarations_cover_items_24_to_27(checklist):
    where = dict(zip(checklist["item"], checklist["where"]))
    for item, label in [
        ("24a", "sec-registration"),
        ("25", "sec-funding"),
        ("26", "sec-competing-interests"),
        ("27", "sec-data-availability"),
    ]:
        assert label in reporting.locations(where[item])


def test_table_makes_each_location_a_cross_reference(checklist):
    table = reporting.checklist_table(checklist).set_index("Item")
    assert table.loc["17", "Where addressed"] == "{numref}`tbl-characteristics`"
    assert table.loc["4", "Where addressed"] == "{ref}`ch-search`"
    assert table.loc["23d", "Where addressed"] == "{ref}`ch-discussion`"
    assert table.loc["22", "Where addressed"] == "{numref}`tbl-sof`; {numref}`tbl-sof-reasons`"
    stored = notebook_glue()["chapters/appendix_reporting.ipynb"]["prisma_checklist"]
    assert "{ref}`sec-competing-interests`" in stored and "{numref}`fig-prisma`" in stored


def test_bad_checklist_is_refused(tmp_path, checklist):
    bad = checklist.copy()
    bad.loc[0, "addressed"] = "maybe"
    path = tmp_path / "checklist.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match="'addressed' must be one of"):
        reporting.load_checklist(path)
    unplaced = checklist.copy()
    unplaced.loc[0, "where"] = ""
    unplaced.to_csv(path, index=False)
    with pytest.raises(ValueError, match="addressed with no location: \\['1'\\]"):
        reporting.load_checklist(path)
