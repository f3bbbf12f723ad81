"""The protocol's windows (review, update) and the window a dated row of the evidence falls in.

A date in the data is a year (``2023``), a month (``2022-08``) or a day (``2024-12-31``): as
precise as its source. It falls in a window when every month it may stand for does: ``2023``
is in the update window (from 2022-10), ``2022-08`` in the review window (to 2022-09), but the
year ``2022`` straddles the two, so a row dated only ``2022`` must give the month. Nothing is
guessed: a date that cannot be placed is reported as ``spans`` (or ``outside`` every window),
and :mod:`helpers.evidence.load` turns that into a validation problem naming file, line and
column.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

#: A date as precise as the source gives it: year, year-month or year-month-day.
DATE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
#: The windows a protocol names, in order.
WINDOW_NAMES = ("review", "update")
#: What :func:`window_of` returns for a date no single window holds.
SPANS = "spans"
OUTSIDE = "outside"

Windows = Mapping[str, tuple[str, str | None]]


def months(date: str) -> tuple[str, str]:
    """The first and last month (YYYY-MM) a date may stand for: '2022' -> ('2022-01', '2022-12')."""
    text = str(date).strip()
    if len(text) == 4:
        return f"{text}-01", f"{text}-12"
    return text[:7], text[:7]


def window_of(date: object, windows: Windows) -> str | None:
    """The window holding every month of ``date``; ``spans`` if the date straddles a boundary,
    ``outside`` if it lies before or after every window, None for a missing date."""
    if date is None or date is pd.NA or (isinstance(date, float) and date != date) or str(date).strip() == "":
        return None
    first, last = months(str(date))
    overlaps = False
    for name, (start, end) in windows.items():
        after_start = first >= start
        before_end = end is None or last <= end
        if after_start and before_end:
            return name
        if last >= start and (end is None or first <= end):
            overlaps = True
    return SPANS if overlaps else OUTSIDE


def window_text(windows: Windows, name: str) -> str:
    """'2010-01 to 2022-09' or 'from 2022-10' (an open window)."""
    start, end = windows[name]
    return f"{start} to {end}" if end else f"from {start}"


def windows_text(windows: Windows) -> str:
    """Every window in words, for an error message: 'review 2010-01 to 2022-09; update from 2022-10'."""
    return "; ".join(f"{name} {window_text(windows, name)}" for name in windows)
