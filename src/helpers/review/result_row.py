"""One result row type, built in one place, and the schema of the results table.

Every pooled estimate of the book is a :class:`ResultRow`: what was analysed (analysis, label,
outcome, time point, population), how (measure, model, method, test), on how much (k, patients
per group) and what came out, on the reporting scale. :meth:`ResultRow.from_fit` builds it from a
fit, which carries its inputs, and :meth:`ResultRow.from_bayes` from a Bayesian fit
(:mod:`helpers.stats.bayes`), so no chapter writes the columns out by hand; :func:`results_frame`
turns rows into the table and checks it against :func:`results_schema`, so a malformed row stops
the build where it is made.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields
from typing import TypedDict, Unpack

import pandas as pd
import pandera.pandas as pa

from helpers.stats import bayes, effects, pooling

MODELS = ("fixed", "random", "single_trial")
METHODS = ("MH", "Peto", "FE", "REML", "DL", "PM", "HS", "SJ", "HE", "ML", "Katz", "Newcombe", "Wald")
#: z: normal-based, knha: Hartung-Knapp t, fisher: Fisher's exact test; posterior: a Bayesian fit (intervals
#: are posterior quantiles, no test)
TESTS = ("z", "knha", "fisher", "posterior")
#: ``pi_note`` of a single trial's own result.
PI_NOTE_SINGLE_TRIAL = "not applicable to a single trial"
MEASURES = ("RR", "OR", "RD", "MD", "SMCR", "PLO", "PFT", "PR", "PAS", "PRAW")
#: The method of a Bayesian row names its prior on tau: "Bayes HN(0.5)" is a half-normal prior with scale 0.5.
BAYES_METHOD = re.compile(r"^Bayes HN\((\d[0-9.e+-]*)\)$")
#: Note of a Bayesian row from a single trial: its tau, and so the width of its intervals, come from the prior.
BAYES_NOTE_ONE_TRIAL = "one trial: the heterogeneity comes from its prior alone"


def bayes_method(scale: float) -> str:
    """The method name of a Bayesian fit with a half-normal prior of this scale on tau (e.g. "Bayes HN(0.5)")."""
    return f"Bayes HN({scale:g})"


def bayes_scale(method: str) -> float | None:
    """The half-normal scale a Bayesian method name declares; None for any other method."""
    found = BAYES_METHOD.match(method)
    try:
        return float(found.group(1)) if found else None
    except ValueError:  # e.g. "Bayes HN(1.2.3)"
        return None


class RowIdentity(TypedDict):
    """What identifies a result row, whatever computed it (the keyword arguments of every constructor)."""

    analysis: str
    label: str
    outcome: str
    timepoint: str
    population: str
    #: patients in the IL-2 and the comparator groups; None where the analysis has no such group
    n_il2: int | None
    n_control: int | None
    studies: str
    inputs_derived: bool


@dataclass(frozen=True)
class ResultRow:
    analysis: str
    label: str
    outcome: str
    timepoint: str
    #: who was analysed, in words (``population_text``), never a data code alone
    population: str
    measure: str
    model: str
    method: str
    test: str
    k: int
    #: patients in the IL-2 and the comparator groups; None where the analysis has no such group
    n_il2: int | None
    n_control: int | None
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    pi_note: str
    tau2: float
    i2: float
    q: float
    q_p: float
    p: float
    studies: str
    inputs_derived: bool
    #: posterior probability that the effect exceeds no effect (RR or OR > 1, RD > 0): Bayesian rows only
    prob_above_null: float = math.nan

    @classmethod
    def from_fit(
        cls,
        fit: pooling.RmaResult,
        *,
        measure: str | None = None,
        back_transform: bool = True,
        ni=None,
        **identity: Unpack[RowIdentity],
    ) -> ResultRow:
        """The row of one fit; estimates back-transformed to the reporting scale (ratios for RR and OR).

        A fit of one study has no between-study variance and no heterogeneity to test: tau², I², Q and its p
        are not applicable (NaN, shown as such), never 0, 0% and p = 1.
        """
        measure = measure or fit.measure
        single = int(fit.k) == 1
        nan = math.nan
        if back_transform:
            bt = pooling.back_transform(fit, measure, ni=ni)
        else:
            bt = {k: getattr(fit, k) for k in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")}
        return cls._with(
            identity,
            measure=measure,
            model=fit.model,
            method=fit.method,
            test=fit.test,
            k=int(fit.k),
            estimate=bt["estimate"],
            ci_low=bt["ci_low"],
            ci_high=bt["ci_high"],
            pi_low=bt["pi_low"],
            pi_high=bt["pi_high"],
            pi_note=fit.pi_note or "",
            tau2=nan if single else fit.tau2,
            i2=nan if single else fit.i2,
            q=nan if single else fit.q,
            q_p=nan if single else fit.q_p,
            # a pooled single-arm rate tests no null a reader asks about (logit 0 is a proportion of 0.5,
            # Freeman-Tukey 0 a proportion of 0): no p is given
            p=nan if measure in effects.PROPORTION_MEASURES else fit.pval,
        )

    @classmethod
    def from_single_trial(
        cls,
        *,
        measure: str,
        method: str,
        test: str,
        estimate: float,
        ci_low: float,
        ci_high: float,
        p: float,
        **identity: Unpack[RowIdentity],
    ) -> ResultRow:
        """One trial's own result (model "single_trial", k = 1): no pooling, so no heterogeneity and no
        prediction interval (NaN); ``method`` names the interval (e.g. "Newcombe"), ``test`` the p-value."""
        nan = math.nan
        return cls._with(
            identity,
            measure=measure,
            model="single_trial",
            method=method,
            test=test,
            k=1,
            estimate=float(estimate),
            ci_low=float(ci_low),
            ci_high=float(ci_high),
            pi_low=nan,
            pi_high=nan,
            pi_note=PI_NOTE_SINGLE_TRIAL,
            tau2=nan,
            i2=nan,
            q=nan,
            q_p=nan,
            p=float(p),
        )

    @classmethod
    def from_bayes(
        cls,
        result: bayes.BayesResult,
        *,
        measure: str | None = None,
        **identity: Unpack[RowIdentity],
    ) -> ResultRow:
        """The row of one Bayesian fit: the posterior median of the mean effect, its central credible interval
        (``ci_*``), the posterior predictive interval of a new trial's effect (``pi_*``), the posterior median of
        tau² and P(effect > no effect), on the reporting scale (ratios for RR and OR). No p-value and no Q."""
        measure = measure or result.measure
        values = [result.mu_median, result.mu_low, result.mu_high, result.theta_low, result.theta_high]
        if measure in ("RR", "OR"):
            values = effects.transf_exp(values)
        estimate, ci_low, ci_high, pi_low, pi_high = (float(x) for x in values)
        return cls._with(
            identity,
            measure=measure,
            model="random",
            method=bayes_method(result.scale),
            test="posterior",
            k=int(result.k),
            estimate=estimate,
            ci_low=ci_low,
            ci_high=ci_high,
            pi_low=pi_low,
            pi_high=pi_high,
            pi_note=BAYES_NOTE_ONE_TRIAL if result.k == 1 else "",
            tau2=result.tau2_median,
            i2=math.nan,
            q=math.nan,
            q_p=math.nan,
            p=math.nan,
            prob_above_null=result.prob_positive,
        )

    @classmethod
    def _with(cls, identity: RowIdentity, **statistics) -> ResultRow:
        """A row from what identifies it (shared by every constructor, with its counts as ints or None) and
        its statistics."""
        n_il2, n_control = identity["n_il2"], identity["n_control"]
        return cls(
            **{
                **identity,
                "n_il2": None if n_il2 is None else int(n_il2),
                "n_control": None if n_control is None else int(n_control),
                "inputs_derived": bool(identity["inputs_derived"]),
            },
            **statistics,
        )


#: Columns of the results table, in order.
RESULT_COLUMNS = [f.name for f in fields(ResultRow)]


def _ordered(d: pd.DataFrame) -> pd.Series:
    """ci_low <= estimate <= ci_high wherever all three are finite."""
    lo, est, hi = (d[c].astype(float) for c in ("ci_low", "estimate", "ci_high"))
    finite = lo.map(math.isfinite) & est.map(math.isfinite) & hi.map(math.isfinite)
    return ~finite | ((lo <= est + 1e-12) & (est <= hi + 1e-12))


def results_schema() -> pa.DataFrameSchema:
    text = pa.Column("string", pa.Check.str_length(min_value=1), coerce=True)
    number = pa.Column(float, nullable=True, coerce=True)
    return pa.DataFrameSchema(
        {
            "analysis": pa.Column("string", pa.Check.str_matches(r"^[a-z][a-z0-9_]*$"), coerce=True),
            "label": text,
            "outcome": text,
            "timepoint": text,
            "population": text,
            "measure": pa.Column("string", pa.Check.isin(MEASURES), coerce=True),
            "model": pa.Column("string", pa.Check.isin(MODELS), coerce=True),
            "method": pa.Column(
                "string",
                pa.Check(lambda m: m.isin(METHODS) | m.str.match(BAYES_METHOD.pattern), error="a known method"),
                coerce=True,
            ),
            "test": pa.Column("string", pa.Check.isin(TESTS), coerce=True),
            "k": pa.Column("Int64", pa.Check.ge(1), coerce=True),
            "n_il2": pa.Column("Int64", pa.Check.ge(1), nullable=True, coerce=True),
            "n_control": pa.Column("Int64", pa.Check.ge(1), nullable=True, coerce=True),
            "estimate": number,
            "ci_low": number,
            "ci_high": number,
            "pi_low": number,
            "pi_high": number,
            "pi_note": pa.Column("string", nullable=True, coerce=True),
            "tau2": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
            "i2": pa.Column(float, pa.Check.in_range(0, 100), nullable=True, coerce=True),
            "q": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
            "q_p": pa.Column(float, pa.Check.in_range(0, 1), nullable=True, coerce=True),
            "p": pa.Column(float, pa.Check.in_range(0, 1), nullable=True, coerce=True),
            "studies": text,
            "inputs_derived": pa.Column(bool, coerce=True),
            "prob_above_null": pa.Column(float, pa.Check.in_range(0, 1), nullable=True, coerce=True),
        },
        checks=[pa.Check(_ordered, error="ci_low <= estimate <= ci_high")],
        unique=["analysis", "measure", "method", "test"],
        strict=True,
        ordered=True,
        name="results",
    )


def results_frame(rows: list[ResultRow]) -> pd.DataFrame:
    """Rows as the results table (columns in order; missing group sizes empty, never 0)."""
    frame = pd.DataFrame([asdict(r) for r in rows], columns=RESULT_COLUMNS)
    for col in ("k", "n_il2", "n_control"):
        frame[col] = frame[col].astype("Int64")
    return frame
