"""What the declarations page glues: the protocol's version, the review's window and the sources of the data."""

from __future__ import annotations

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import load_protocol
from helpers.report.prose import GlueMarkdown, cite, fmt_int, plural
from helpers.review.search import month_text

#: The evidence tables whose ``source`` column names the works each value was read in.
SOURCE_TABLES = ("studies", "arms", "outcomes", "search", "prisma", "review_reported")


def data_source_keys(ev: Evidence) -> list[str]:
    """Every bibliography key the evidence tables cite, in first-seen order (a cell may hold 'a; b')."""
    keys: list[str] = []
    tables = [getattr(ev, name) for name in SOURCE_TABLES]
    from helpers.evidence.rob_tables import load_risk_of_bias

    rob = load_risk_of_bias(ev)
    tables += [rob.items, rob.ratings]
    for table in tables:
        for cell in table["source"].dropna():
            keys += [k.strip() for k in str(cell).split(";") if k.strip()]
    return list(dict.fromkeys(keys))


def declaration_values(ev: Evidence) -> dict[str, object]:
    protocol = load_protocol()
    amendments = protocol.raw["amendments"]
    keys = data_source_keys(ev)
    window = protocol.eligibility["windows"]["review"]
    return {
        "protocol_version": protocol.version,
        "protocol_amendments": plural(len(amendments), "dated entry", "dated entries"),
        "review_window_end": month_text(window["to"]),
        "data_n_sources": fmt_int(len(keys)),
        "data_sources_text": GlueMarkdown(
            f"The evidence tables draw on {plural(len(keys), 'source')}, each named by its key in the `source` "
            f"column of the rows it supports {cite(keys)}."
        ),
    }
