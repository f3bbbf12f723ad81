"""Numbers for the prose: one way to format them, one way to glue them.

Every number a chapter states is formatted here and glued with myst-nb's
``glue``, so the text can only show what the code computed. Unknown values are
written as "not reported", never as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

NOT_REPORTED = "not reported"


class GlueText:
    """Plain text for ``{glue}``: its text/plain form is the text itself (a str would be quoted)."""

    def __init__(self, text: str):
        self.text = str(text)

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text/plain formatter
        p.text(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GlueText) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


class GlueMarkdown(GlueText):
    """Markdown for ``{glue:md}`` (tables rendered as MyST, so they can be numbered)."""

    def _repr_markdown_(self) -> str:
        return self.text


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_int(value: object) -> str:
    """1018 -> '1,018'; NA -> 'not reported'."""
    return NOT_REPORTED if is_missing(value) else f"{int(value):,}"


def fmt_num(value: object, digits: int = 2) -> str:
    if is_missing(value):
        return NOT_REPORTED
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:,.{digits}f}".replace("-", "−")


def fmt_reported(value: object, max_digits: int = 3) -> str:
    """A reported value with the decimals it needs: 12 -> '12', 1.55 -> '1.55', 13.750 -> '13.75'."""
    if is_missing(value):
        return NOT_REPORTED
    text = f"{float(value):,.{max_digits}f}".rstrip("0").rstrip(".")
    return text.replace("-", "−")


def fmt_pct(value: object, digits: int = 1) -> str:
    """A percentage already on the 0-100 scale."""
    return NOT_REPORTED if is_missing(value) else f"{fmt_num(value, digits)}%"


def fmt_share(numerator: object, denominator: object, digits: int = 1) -> str:
    """'16/29 (55.2%)'."""
    if is_missing(numerator) or is_missing(denominator):
        return NOT_REPORTED
    return f"{int(numerator)}/{int(denominator)} ({fmt_pct(100 * int(numerator) / int(denominator), digits)})"


def fmt_ci(
    estimate: object,
    low: object,
    high: object,
    digits: int = 2,
    *,
    scale: float = 1.0,
    unit: str = "",
    label: bool = True,
    missing: str = NOT_REPORTED,
    number=None,
) -> str:
    """The one way the book writes an estimate with its 95% CI.

    '0.99 (95% CI 0.62 to 1.58)' in prose; ``label=False`` for tables whose header already says
    95% CI: '0.99 (0.62 to 1.58)'. ``scale`` and ``unit`` write proportions as percentages or risk
    differences as points ('24.4 percentage points (95% CI 5.3 to 43.4)'; a '%' also ends the
    interval). An estimate that is missing or not finite reads ``missing`` (e.g. 'not estimable');
    ``number`` replaces :func:`fmt_num` (the forest plot's compact numbers).
    """
    if is_missing(estimate) or not math.isfinite(float(estimate)):
        return missing
    num = number or (lambda v: fmt_num(v, digits))
    end = "%" if unit == "%" else ""
    if is_missing(low) and is_missing(high):
        return f"{num(scale * float(estimate))}{unit}"
    prefix = "95% CI " if label else ""
    return (
        f"{num(scale * float(estimate))}{unit} ({prefix}{num(scale * float(low))} to {num(scale * float(high))}{end})"
    )


def glue_text(key: str, text: object) -> None:
    """Glue text (already formatted) under ``key`` for ``{glue}`key``` in the prose."""
    from myst_nb import glue  # imported here: the helpers must work outside a notebook too

    glue(key, text if isinstance(text, GlueMarkdown) else GlueText(str(text)), display=False)


def glue_texts(values: Mapping[str, object]) -> None:
    for key, text in values.items():
        glue_text(key, text)


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a pipe table; empty cells read 'not reported'."""
    shown = df.astype(object).where(df.notna(), NOT_REPORTED).astype(str)
    esc = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731 - one-line escaper
    header = "| " + " | ".join(esc(str(c)) for c in shown.columns) + " |"
    rule = "|" + "|".join("---" for _ in shown.columns) + "|"
    rows = ["| " + " | ".join(esc(v) for v in r) + " |" for r in shown.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def glue_table(key: str, df: pd.DataFrame) -> None:
    """Glue a table as MyST markdown, to be pasted with ``{glue:md}`` inside a numbered ``{table}``."""
    from myst_nb import glue

    glue(key, GlueMarkdown(markdown_table(df)), display=False)


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun in the right number: (1, 'cycle') -> '1 cycle', (3, 'cycle') -> '3 cycles'."""
    word = singular if int(n) == 1 else (plural_form or singular + "s")
    return f"{fmt_int(n)} {word}"


def nested(text: str) -> str:
    """Text to be set inside parentheses: its own round brackets become square ones.

    'He 2020 and JICR 2019 (lupus nephritis)' -> 'He 2020 and JICR 2019 [lupus nephritis]', so that
    '(' + nested(...) + ')' never reads '...))'.
    """
    return str(text).replace("(", "[").replace(")", "]")


def parenthetical(text: str) -> str:
    """'(' + :func:`nested` text + ')'."""
    return f"({nested(text)})"


def join_words(items: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b and c'; no items -> ''."""
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def cite(keys, role: str = "p") -> str:
    """A MyST citation of bibliography keys, each once, in order: {cite:p}`he2020,humrich2022`.

    An entry may hold several keys separated by '; ' (the ``source`` column of the data); no key
    gives an empty string.
    """
    found = [k.strip() for key in keys for k in str(key).split(";") if k.strip()]
    return f"{{cite:{role}}}`" + ",".join(dict.fromkeys(found)) + "`" if found else ""


#: Words that keep their capital inside a sentence.
KEEP_CASE = frozenset({"Treg", "Tregs", "Downs", "Mantel-Haenszel", "Bayesian", "GRADE"})


def upper_first(text: str) -> str:
    """A phrase to open a sentence: its first letter in upper case."""
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """A phrase made a sentence: capitalised, with a full stop."""
    return upper_first(text) + "."


def lower_first(text: str) -> str:
    """A phrase to continue a sentence: its first letter in lower case, unless its first word is an
    acronym or a name written with capitals inside it ('SRI-4 response', 'Treg response', 'IL-2')."""
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if first in KEEP_CASE or any(c.isupper() for c in first[1:]) or any(c.isdigit() for c in first):
        return text
    return text[0].lower() + text[1:]
