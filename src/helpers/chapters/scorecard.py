"""The reproduction scorecard page: the six statements, their verdicts and a summary sentence."""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.report.prose import fmt_int, join_words
from helpers.review import scorecard


def scores(ev: Evidence) -> list[scorecard.Score]:
    return scorecard.scorecard(ev)


def table(scores: list[scorecard.Score]) -> pd.DataFrame:
    return scorecard.scorecard_table(scores)


def glue_values(scores: list[scorecard.Score]) -> dict[str, str]:
    """How many statements, and how many got each verdict, in one sentence."""
    counts = {v: [s.claim.lower() for s in scores if s.verdict == v] for v in scorecard.VERDICTS}
    parts = [f"{fmt_int(len(c))} {v} ({join_words(c)})" for v, c in counts.items() if c]
    return {
        "scorecard_n": fmt_int(len(scores)),
        "scorecard_summary": f"Of the {fmt_int(len(scores))} statements, {join_words(parts)}.",
    }
