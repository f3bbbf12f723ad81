"""The software this book was built with (shown in the methods appendix)."""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd

#: Distributions whose versions matter for the numbers and the rendering.
PACKAGES = (
    "jupyter-book",
    "myst-nb",
    "sphinx",
    "sphinxcontrib-bibtex",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "pandera",
    "matplotlib",
    "jupyter-cache",
    "pytest",
    "hypothesis",
)


def software_versions() -> pd.DataFrame:
    rows = [{"Software": "Python", "Version": platform.python_version()}]
    for name in PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        rows.append({"Software": name, "Version": version})
    return pd.DataFrame(rows)
