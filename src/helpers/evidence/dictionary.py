"""The data dictionary and the row rules of every evidence table (data and methods appendices)."""

from __future__ import annotations

import pandas as pd

from helpers.evidence import clinical_tables, rob2_tables, rob_tables
from helpers.evidence.schemas import (
    COLUMN_DESCRIPTIONS,
    YEAR_MONTH_PATTERN,
    TableSpec,
    arms_spec,
    later_reviews_spec,
    later_trials_spec,
    outcome_definitions_spec,
    outcomes_spec,
    prisma_spec,
    review_reported_spec,
    search_spec,
    studies_spec,
    type_text,
)
from helpers.evidence.windows import DATE_PATTERN

#: Patterns the dictionary states in words (a regular expression with nested groups reads poorly in a table).
PATTERN_WORDS = {
    DATE_PATTERN: "a date as precise as its source: YYYY, YYYY-MM or YYYY-MM-DD",
    YEAR_MONTH_PATTERN: "a month: YYYY-MM",
}


def all_specs(bib_keys: set[str] | None = None) -> list[TableSpec]:
    """Every table's spec, the risk-of-bias ones included; keys default to empty (enough to describe the columns)."""
    keys = bib_keys or set()
    return [
        studies_spec(keys),
        arms_spec(keys, set()),
        outcomes_spec(keys, set(), set(), {}),
        outcome_definitions_spec(),
        search_spec(keys),
        prisma_spec(keys),
        review_reported_spec(keys),
        later_trials_spec(keys, set()),
        later_reviews_spec(keys, set()),
        rob_tables.items_spec(keys),
        rob_tables.ratings_spec(keys, set(), set(), {}),
        rob2_tables.rob2_spec(keys, set(), set(), set()),
        clinical_tables.baseline_spec(keys, set(), set(), {}, set()),
        clinical_tables.context_spec(keys, set()),
    ]


def data_dictionary() -> pd.DataFrame:
    """Table, column, type, whether required, allowed values or checks, and description."""
    rows = []
    for spec in all_specs():
        for name, col in spec.columns.items():
            checks = []
            for c in col.checks:
                stats = c.statistics or {}
                if c.name == "isin" and stats.get("allowed_values"):
                    checks.append("one of: " + ", ".join(map(str, stats["allowed_values"])))
                elif c.name == "str_matches":
                    pattern = stats["pattern"]
                    checks.append(PATTERN_WORDS.get(pattern, f"pattern {pattern}"))
                elif c.name in ("greater_than_or_equal_to", "greater_than", "less_than", "in_range"):
                    checks.append(c.name.replace("_", " ") + " " + ", ".join(str(v) for v in stats.values()))
                elif c.error and c.name != "str_length":
                    checks.append(c.error)
            rows.append(
                {
                    "Table": spec.filename,
                    "Column": name,
                    "Type": type_text(col),
                    "Required": "yes" if not col.nullable else "no",
                    "Checks": "; ".join(checks),
                    "Description": COLUMN_DESCRIPTIONS.get(
                        f"{spec.filename}:{name}", COLUMN_DESCRIPTIONS.get(name, "")
                    ),
                }
            )
    return pd.DataFrame(rows)


def row_rules() -> pd.DataFrame:
    """Every row rule, and the checks of dates against the protocol's windows, for the methods appendix."""
    from helpers.evidence.load import WINDOW_RULE_TEXT

    rows = [
        {"Table": spec.filename, "Rule": r.name, "Column blamed": r.column, "Expected": r.expected}
        for spec in all_specs()
        for r in spec.rules
    ]
    rows += [
        {"Table": tables, "Rule": name, "Column blamed": column, "Expected": f"{expected} (protocol.yml windows)"}
        for name, (tables, column, expected) in WINDOW_RULE_TEXT.items()
    ]
    return pd.DataFrame(rows)
