"""Every pooled estimate of the book in one tidy table (``python -m helpers results``).

Each chapter's analyses module contributes a function ``ev -> DataFrame`` with the
rows of :class:`helpers.review.result_row.ResultRow` (``results_frame``); add it to :data:`PROVIDERS`.
The table is checked against :func:`helpers.review.result_row.results_schema`.
"""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.review import analyses, bayesian, efficacy, responder, safety, treg
from helpers.review.result_row import RESULT_COLUMNS, results_schema

#: Result providers, in the order their rows appear.
PROVIDERS = (
    analyses.efficacy_results,
    efficacy.efficacy_extra_results,
    responder.responder_results,
    treg.treg_results,
    safety.safety_results,
    bayesian.bayesian_results,
)


def results_table(ev: Evidence) -> pd.DataFrame:
    """Every pooled estimate of the book, one row per analysis x measure x model."""
    parts = [provider(ev) for provider in PROVIDERS]
    table = pd.concat([p for p in parts if len(p)], ignore_index=True)
    # a provider's malformed row (a missing column, a CI that does not contain its estimate, a duplicate
    # analysis) stops here, naming the column and the rows
    return results_schema().validate(table[RESULT_COLUMNS], lazy=True)


def results_csv(ev: Evidence) -> str:
    """The results table as CSV text (12 significant digits), as printed by ``python -m helpers results``."""
    return results_table(ev).to_csv(index=False, float_format="%.12g", lineterminator="\n")


def write_results_csv(ev: Evidence, path) -> bool:
    """Write the results CSV for the book's download link; True if the file changed.

    The file is rewritten only when its content changes: Sphinx treats a newer download
    file as a changed dependency, so rewriting it unchanged would re-execute the page
    at every build.
    """
    from pathlib import Path

    path = Path(path)
    text = results_csv(ev)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
