"""Validate every evidence table and the protocol at once.

The ``validate`` command and the book build run this and then the audit of derived counts
(:func:`helpers.review.derived_audit.validate_with_audit`), which needs the statistics layer.
"""

from __future__ import annotations

from helpers.evidence.load import load_evidence

#: Tables of the evidence object, in the order the summary lists them.
EVIDENCE_TABLES = (
    "studies",
    "arms",
    "outcomes",
    "outcome_definitions",
    "search",
    "prisma",
    "review_reported",
    "later_trials",
    "later_reviews",
)


def validate_all() -> dict[str, int]:
    """Load and validate every table and the protocol; return row counts by name, or raise the first error."""
    from helpers.evidence.clinical_tables import load_baseline, load_study_context
    from helpers.evidence.protocol import check_against_evidence, load_protocol
    from helpers.evidence.rob2_tables import load_rob2
    from helpers.evidence.rob_tables import load_risk_of_bias

    ev = load_evidence()
    rob = load_risk_of_bias(ev)
    protocol = load_protocol()
    check_against_evidence(protocol, ev)
    counts = {name: len(getattr(ev, name)) for name in EVIDENCE_TABLES}
    counts["downs_black_items"] = len(rob.items)
    counts["risk_of_bias"] = len(rob.ratings)
    counts["rob2"] = len(load_rob2(ev))
    counts["baseline"] = len(load_baseline(ev))
    counts["study_context"] = len(load_study_context(ev))
    counts["protocol analyses"] = len(protocol.analyses)
    return counts
