"""R bayesmeta's reference values (tests/reference/bayesmeta/) and the tolerances they are checked to."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

REF = Path(__file__).parent / "reference" / "bayesmeta"


@cache
def reference(name: str) -> pd.DataFrame:
    """One reference CSV, read once."""
    return pd.read_csv(REF / name)


def yi_vi(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    d = reference("inputs.csv").query("dataset == @dataset")
    return d["yi"].to_numpy(float), d["vi"].to_numpy(float)


def cases(name: str) -> list[dict]:
    """The rows (dataset x prior scale) of one results file."""
    return reference(name).to_dict("records")


def case_id(row: dict) -> str:
    return f"{row['dataset']}-HN{row['scale']:g}"
