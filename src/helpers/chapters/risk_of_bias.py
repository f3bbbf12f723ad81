"""The risk-of-bias chapter: RoB 2 per result for the randomised trials, and the Downs and Black reproduction.

What the notebook shows, built from the data: the glue values (``rob2_*`` for RoB 2, ``rob_*`` for
Downs and Black), the tables (keyed by their glue name) and the two Downs and Black figures. Other
chapters that need the RoB 2 judgements (e.g. a GRADE summary of findings) call
:func:`helpers.review.rob2.rob2_judgements`, re-exported here.
"""

from __future__ import annotations

import pandas as pd

from helpers.evidence.load import Evidence
from helpers.evidence.protocol import Protocol, load_protocol
from helpers.evidence.rob_tables import load_risk_of_bias
from helpers.review import rob, rob2
from helpers.review.rob2 import rob2_judgements

__all__ = ["figures", "glue_values", "rob2_judgements", "tables"]


def glue_values(ev: Evidence, protocol: Protocol | None = None) -> dict[str, str]:
    """Every number and generated sentence of the chapter, keyed for glue."""
    protocol = protocol or load_protocol()
    return {**rob2.glue_values(ev, protocol), **rob.glue_values(load_risk_of_bias(ev))}


def tables(ev: Evidence, protocol: Protocol | None = None) -> dict[str, pd.DataFrame]:
    """The chapter's tables, keyed by the glue name the notebook pastes them under."""
    protocol = protocol or load_protocol()
    db = load_risk_of_bias(ev)
    return {
        "rob2_traffic_table": rob2.traffic_light_table(ev, protocol),
        "rob2_answers_table": rob2.answers_table(ev, protocol),
        "rob2_questions_table": rob2.questions_table(),
        "rob2_rationale_table": rob2.rationale_table(ev),
        "rob_instrument_table": rob.instrument_table(db),
        "rob_matrix_table": rob.rating_matrix(db),
        "rob_scores_table": rob.scores_table(db),
        "rob_rationale_table": rob.rationale_table(db),
    }


def figures(ev: Evidence) -> dict[str, tuple[object, str]]:
    """The Downs and Black figures with their long text descriptions: key -> (figure, description)."""
    db = load_risk_of_bias(ev)
    return {
        "rob_traffic": (rob.traffic_light_figure(db), rob.traffic_light_description(db)),
        "rob_summary": (rob.summary_figure(db), rob.summary_description(db)),
    }
