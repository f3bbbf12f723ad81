"""Does a recomputed number reproduce a reported one, at the precision it was reported with?

A reported figure is read from its text, so its decimals count: '0.052' has three, '68' none,
'30.00' two. The rule:

* ``'v'`` with d decimals is reproduced by x when |x − v| <= ½ × 10^−d: x rounds to v at d
  decimals (a tie, exactly half a unit away, counts as reproduced under either rounding rule).
  '0.052' takes 0.0515 to 0.0525; '68' (a percentage) 67.5 to 68.5.
* ``'<v'`` is reproduced by x < v, ``'>v'`` by x > v ('<0.001': any p below 0.001).

The comparison is exact (fractions), so 16/29 = 55.1724…% reproduces '55.17' and a value on
the half-unit boundary is not lost to binary rounding. A float (a p-value) is compared as its
shortest decimal form (``repr``), so 0.0515 is 0.0515, not the binary double just below it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

_PATTERN = re.compile(r"^\s*([<>]?)\s*(\d*)(?:\.(\d*))?\s*$")


@dataclass(frozen=True)
class Reported:
    """A figure as reported: its relation ('=', '<', '>'), value and number of decimals."""

    text: str
    relation: str
    value: Fraction
    decimals: int

    @property
    def half_unit(self) -> Fraction:
        """Half a unit of the last reported digit: ½ × 10^−decimals."""
        return Fraction(1, 2 * 10**self.decimals)

    def reproduced_by(self, x: float | Fraction | int) -> bool:
        """True when ``x`` reproduces the figure (module docstring); a NaN never does."""
        if isinstance(x, float) and math.isnan(x):
            return False
        exact = Fraction(repr(float(x))) if isinstance(x, float) else Fraction(x)
        if self.relation == "<":
            return exact < self.value
        if self.relation == ">":
            return exact > self.value
        return abs(exact - self.value) <= self.half_unit

    def rule(self) -> str:
        """The rule in words, e.g. 'between 0.0515 and 0.0525' or 'below 0.001'."""
        if self.relation == "<":
            return f"below {self.text.lstrip('< ')}"
        if self.relation == ">":
            return f"above {self.text.lstrip('> ')}"
        low, high = self.value - self.half_unit, self.value + self.half_unit
        digits = self.decimals + 1
        return f"between {float(low):.{digits}f} and {float(high):.{digits}f}"


def parse_reported(text: str) -> Reported:
    """'0.052' -> (=, 52/1000, 3 decimals); '<0.001' -> (<, 1/1000, 3); '68' -> (=, 68, 0)."""
    match = _PATTERN.match(str(text))
    if not match or not (match.group(2) or match.group(3)):
        raise ValueError(f"not a reported number: {text!r} (expected e.g. 0.052, <0.001, 55.17 or 68)")
    relation = match.group(1) or "="
    whole, fraction = match.group(2) or "0", match.group(3) or ""
    value = Fraction(int(whole + fraction), 10 ** len(fraction))
    return Reported(str(text).strip(), relation, value, len(fraction))


def percent_reproduces(events: int, total: int, reported: Reported) -> bool:
    """True when 100 × events / total reproduces the reported percentage."""
    return reported.reproduced_by(Fraction(100 * int(events), int(total)))


def percent_attainable(total: int, reported: Reported) -> bool:
    """True when some whole number of events out of ``total`` reproduces the reported percentage."""
    return any(percent_reproduces(e, total, reported) for e in range(int(total) + 1))
