"""R metafor's reference values (tests/reference/metafor/) and the tolerance they are checked to."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest

REF = Path(__file__).parent / "reference" / "metafor"
RTOL, ATOL = 1e-6, 1e-12


def approx(x):
    return pytest.approx(x, rel=RTOL, abs=ATOL)


@cache
def reference(name: str) -> pd.DataFrame:
    """One reference CSV, read once."""
    return pd.read_csv(REF / name)
