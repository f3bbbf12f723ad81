"""The review's protocol (``protocol.yml``): loaded, checked against a JSON Schema, typed.

An error names the key (``analyses[1].population_preference[0]``), the value found and what
was expected, like the data errors of :mod:`helpers.evidence.load`, and stops the build before any
notebook runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import jsonschema
import yaml

from helpers.evidence.schemas import DESIGNS, POPULATIONS, ROLES, TIMEPOINT_PATTERN, YEAR_MONTH_PATTERN
from helpers.evidence.windows import WINDOW_NAMES
from helpers.paths import ROOT

PROTOCOL_ENV_VAR = "IL2_PROTOCOL"
METHODS = ("MH", "Peto", "FE", "REML", "DL", "PM")
TESTS = ("z", "knha")
MEASURES = ("RR", "OR", "RD")
ANALYSIS_ROLES = ("primary", "secondary", "sensitivity", "responder_index")
#: Priors of the Bayesian random-effects model (helpers.stats.bayes): on the mean, on the heterogeneity tau.
MU_PRIORS = ("uniform",)
TAU_PRIORS = ("halfnormal",)
BAYES_MEASURES = ("RR", "OR")
SENSITIVITIES = ("leave_one_out", "regimen_group", "dose")
#: Methods for the comparison of an adverse event in a single trial (k = 1), where nothing is pooled.
SINGLE_TRIAL_RISK_RATIO = ("log",)  # Katz log interval (the Mantel-Haenszel interval of one table)
SINGLE_TRIAL_RISK_DIFFERENCE = ("newcombe", "wald")  # Newcombe's hybrid score interval (1998, method 10)
SINGLE_TRIAL_TESTS = ("fisher", "z")  # Fisher's exact test, or the Wald z test of each measure
MISSING_OUTCOME_RULES = ("non_responders",)
#: Interval of a single arm's proportion, and the transformations its pools use (logit first: the main one).
SINGLE_ARM_INTERVALS = ("clopper_pearson",)
SINGLE_ARM_MEASURES = ("PLO", "PFT")

_ID = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}
_TEXT = {"type": "string", "minLength": 1}
_MONTH = {"type": "string", "pattern": YEAR_MONTH_PATTERN[:-1] + "$"}
_POPULATIONS = {"type": "array", "items": {"enum": list(POPULATIONS)}, "minItems": 1, "uniqueItems": True}
_MODEL = {"type": "array", "prefixItems": [{"enum": list(METHODS)}, {"enum": list(TESTS)}], "items": False}
_MIN_K = {"type": "integer", "minimum": 1}
_SHARE = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
        "additionalProperties": False,
    }


_PROBABILITY = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
_LEVEL = {"enum": ["high", "moderate", "low", "very low"]}
_GRADE_OUTCOME = {
    "oneOf": [
        _object(
            {"analysis": _ID, "importance": {"enum": ["critical", "important"]}, "label": _TEXT},
            ["analysis", "importance"],
        ),
        _object(
            {"safety_outcome": _ID, "importance": {"enum": ["critical", "important"]}, "label": _TEXT},
            ["safety_outcome", "importance"],
        ),
        _object({"narrative": {"const": "treg"}, "importance": {"enum": ["critical", "important"]}, "label": _TEXT}),
    ]
}
_GRADE = _object(
    {
        "outcomes": {"type": "array", "items": _GRADE_OUTCOME, "minItems": 1},
        "starting_certainty": _object({"randomised": _LEVEL, "non_randomised": _LEVEL}),
        "risk_of_bias": _object({"very_serious_if_all_high": {"type": "boolean"}}),
        "inconsistency": _object({"i2_serious": {"type": "number", "minimum": 0, "maximum": 100}}),
        "indirectness": _object({"surrogate_outcomes": {"type": "object", "additionalProperties": _TEXT}}),
        "imprecision": _object({"relative_change": _PROBABILITY, "alpha": _PROBABILITY, "power": _PROBABILITY}),
    }
)

SCHEMA = _object(
    {
        "version": _TEXT,
        "amendments": {
            "type": "array",
            "minItems": 1,
            "items": _object({"version": _TEXT, "date": {"type": "string", "format": "date"}, "change": _TEXT}),
        },
        "question": _TEXT,
        "eligibility": _object(
            {
                "designs_pooled": {"type": "array", "items": {"enum": list(DESIGNS)}, "minItems": 1},
                "designs_described": {"type": "array", "items": {"enum": list(DESIGNS)}},
                "intervention": _TEXT,
                "comparators": {"type": "array", "items": {"enum": [r for r in ROLES if r != "il2"]}, "minItems": 1},
                "windows": _object(
                    {
                        "review": _object({"from": _MONTH, "to": _MONTH}),
                        "update": _object({"from": _MONTH, "to": {"oneOf": [_MONTH, {"type": "null"}]}}),
                    }
                ),
                "exclusions": {"type": "array", "items": _object({"study_id": _ID, "reason": _TEXT})},
            }
        ),
        "multi_arm": _object({"main": {"const": "combine_il2_arms"}, "dose_subgroups": {"const": "split_control"}}),
        "risk_of_bias": _object(
            {
                "randomised": {"const": "rob2"},
                # RoB 2's optional rule: overall high from this many domains with some concerns (null: off)
                "escalate_some_concerns_from": {
                    "oneOf": [{"type": "integer", "minimum": 2, "maximum": 5}, {"type": "null"}]
                },
                # summary quality scores (Downs and Black bands) never restrict an analysis
                "restrict_by_quality_score": {"const": False},
            }
        ),
        "models": _object(
            {
                "pooled": {"type": "array", "items": _MODEL, "minItems": 1},
                "single_study": {"type": "array", "items": _MODEL, "minItems": 1},
                "measures": {"type": "array", "items": {"enum": list(MEASURES)}, "minItems": 1, "uniqueItems": True},
                "primary": _object({"measure": {"enum": list(MEASURES)}, "pooled": _MODEL}),
            }
        ),
        "minimum_k": _object(
            {"prediction_interval": _MIN_K, "leave_one_out": _MIN_K, "subgroups": _MIN_K, "small_study_tests": _MIN_K}
        ),
        # populations that leave out randomised patients: reported per trial, never pooled
        "per_protocol": _object({"populations": _POPULATIONS, "pooled": {"const": False}}),
        "single_arm_rates": _object(
            {
                "interval": {"enum": list(SINGLE_ARM_INTERVALS)},
                "pool_within": {"const": ["role", "outcome", "timepoint"]},
                "min_arms": {"type": "integer", "minimum": 2},
                "measures": {
                    "type": "array",
                    "items": {"enum": list(SINGLE_ARM_MEASURES)},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            }
        ),
        "grade": _GRADE,
        "analyses": {
            "type": "array",
            "minItems": 1,
            "items": _object(
                {
                    "id": _ID,
                    "label": _TEXT,
                    "outcome": _ID,
                    "timepoint": {"type": "string", "pattern": TIMEPOINT_PATTERN},
                    "role": {"enum": list(ANALYSIS_ROLES)},
                    "sensitivity_of": _ID,
                    "invert": {"type": "boolean"},
                    "population_preference": _POPULATIONS,
                    # who the "subgroup" population is, for the results table (e.g. patients with nephritis)
                    "subgroup_label": _TEXT,
                    "sensitivity": {"type": "array", "items": {"enum": list(SENSITIVITIES)}, "uniqueItems": True},
                },
                required=["id", "label", "outcome", "timepoint", "role", "population_preference"],
            ),
        },
        "safety": _object(
            {
                "timepoint": {"type": "string", "pattern": TIMEPOINT_PATTERN},
                "population_preference": _POPULATIONS,
                "single_arm_min_studies": _MIN_K,
                "single_trial": _object(
                    {
                        "risk_ratio": {"enum": list(SINGLE_TRIAL_RISK_RATIO)},
                        "risk_difference": {"enum": list(SINGLE_TRIAL_RISK_DIFFERENCE)},
                        "test": {"enum": list(SINGLE_TRIAL_TESTS)},
                    }
                ),
                "peto": _object(
                    {
                        "max_event_risk": _SHARE,
                        "max_arm_ratio": {"type": "number", "minimum": 1},
                    }
                ),
            }
        ),
        "robustness": _object(
            {
                "measure": {"enum": list(MEASURES)},
                "missing_outcomes": {"enum": list(MISSING_OUTCOME_RULES)},
                "arm_split": _object({"max_share_deviation": {"type": "number", "minimum": 0, "maximum": 0.5}}),
                "fragility": _object({"alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}}),
            }
        ),
        "bayesian": _object(
            {
                "measures": {
                    "type": "array",
                    "items": {"enum": list(BAYES_MEASURES)},
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "mu_prior": {"enum": list(MU_PRIORS)},
                "tau_prior": {"enum": list(TAU_PRIORS)},
                "scales": {
                    "type": "array",
                    "items": {"type": "number", "exclusiveMinimum": 0},
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "main_scale": {"type": "number", "exclusiveMinimum": 0},
            }
        ),
        "update": _object(
            {
                "windows": {
                    "type": "array",
                    "items": {"enum": list(WINDOW_NAMES)},
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "analyses": {"type": "array", "items": _ID, "minItems": 1, "uniqueItems": True},
                "reported_in": _ID,
            }
        ),
    }
)
# the Bayesian analysis is optional: a protocol without it has none
SCHEMA["required"].remove("bayesian")


class ProtocolError(ValueError):
    """The protocol file breaks its schema; the message names each key and what was expected."""


@dataclass(frozen=True)
class PlannedAnalysis:
    """One between-arm analysis the protocol declares (which trials enter is decided by the data)."""

    id: str
    label: str
    outcome: str
    timepoint: str
    role: str
    population_preference: tuple[str, ...]
    invert: bool = False
    subgroup_label: str = "subgroup"
    sensitivity_of: str | None = None
    sensitivity: tuple[str, ...] = ()


@dataclass(frozen=True)
class BayesianPlan:
    """The protocol's Bayesian random-effects analysis: for each measure and each scale of the prior on tau,
    one fit of every declared analysis; ``main_scale`` is the main analysis, the other scales sensitivity."""

    measures: tuple[str, ...]
    mu_prior: str
    tau_prior: str
    scales: tuple[float, ...]
    main_scale: float


@dataclass(frozen=True)
class Protocol:
    raw: dict
    path: Path

    @cached_property
    def content_key(self) -> str:
        """The protocol's content as one text, for memos keyed on it (a protocol is its content, not its object)."""
        return json.dumps(self.raw, sort_keys=True, default=str)

    @property
    def version(self) -> str:
        return self.raw["version"]

    @property
    def eligibility(self) -> dict:
        return self.raw["eligibility"]

    @property
    def designs_pooled(self) -> tuple[str, ...]:
        return tuple(self.eligibility["designs_pooled"])

    @property
    def comparators(self) -> tuple[str, ...]:
        return tuple(self.eligibility["comparators"])

    @property
    def exclusions(self) -> dict[str, str]:
        return {e["study_id"]: e["reason"] for e in self.eligibility["exclusions"]}

    @property
    def pooled_models(self) -> tuple[tuple[str, str], ...]:
        return tuple(tuple(m) for m in self.raw["models"]["pooled"])

    @property
    def single_study_models(self) -> tuple[tuple[str, str], ...]:
        return tuple(tuple(m) for m in self.raw["models"]["single_study"])

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(self.raw["models"]["measures"])

    def minimum_k(self, what: str) -> int:
        return int(self.raw["minimum_k"][what])

    @property
    def primary_model(self) -> tuple[str, str, str]:
        """(measure, method, test) of the one estimate each pooled analysis reports in the text and figures."""
        primary = self.raw["models"]["primary"]
        return (primary["measure"], *primary["pooled"])

    @property
    def per_protocol_populations(self) -> tuple[str, ...]:
        """Populations that leave out randomised patients: reported per trial, never pooled."""
        return tuple(self.raw["per_protocol"]["populations"])

    @property
    def single_arm_rates(self) -> dict:
        return self.raw["single_arm_rates"]

    @property
    def analyses(self) -> tuple[PlannedAnalysis, ...]:
        return tuple(
            PlannedAnalysis(
                id=a["id"],
                label=a["label"],
                outcome=a["outcome"],
                timepoint=a["timepoint"],
                role=a["role"],
                population_preference=tuple(a["population_preference"]),
                invert=a.get("invert", False),
                subgroup_label=a.get("subgroup_label", "subgroup"),
                sensitivity_of=a.get("sensitivity_of"),
                sensitivity=tuple(a.get("sensitivity", ())),
            )
            for a in self.raw["analyses"]
        )

    def analysis(self, analysis_id: str) -> PlannedAnalysis:
        found = [a for a in self.analyses if a.id == analysis_id]
        if not found:
            raise KeyError(f"{self.path.name}: no analysis with id '{analysis_id}'")
        return found[0]

    @property
    def safety(self) -> dict:
        return self.raw["safety"]

    @property
    def robustness(self) -> dict:
        return self.raw["robustness"]

    @property
    def rob2_escalation(self) -> int | None:
        """RoB 2's optional overall rule: 'high' from this many domains with some concerns (None: not applied)."""
        return self.raw["risk_of_bias"]["escalate_some_concerns_from"]

    @property
    def bayesian(self) -> BayesianPlan | None:
        """The Bayesian analysis, or None when the protocol declares none."""
        b = self.raw.get("bayesian")
        if b is None:
            return None
        return BayesianPlan(
            measures=tuple(b["measures"]),
            mu_prior=b["mu_prior"],
            tau_prior=b["tau_prior"],
            scales=tuple(float(x) for x in b["scales"]),
            main_scale=float(b["main_scale"]),
        )

    @property
    def windows(self) -> dict[str, tuple[str, str | None]]:
        """The review's search window and the living update's, by name: (first month, last month or None)."""
        return {name: (w["from"], w["to"]) for name, w in self.eligibility["windows"].items()}

    @property
    def update_windows(self) -> tuple[str, ...]:
        """The windows whose studies the update analyses use (the review's analyses use the review window only)."""
        return tuple(self.raw["update"]["windows"])

    @property
    def update_analyses(self) -> tuple[PlannedAnalysis, ...]:
        """The declared analyses run again on the update windows, reported only in ``update.reported_in``."""
        return tuple(self.analysis(a) for a in self.raw["update"]["analyses"])


def protocol_path() -> Path:
    override = os.environ.get(PROTOCOL_ENV_VAR)
    return Path(override).resolve() if override else ROOT / "protocol.yml"


def _key_path(error: jsonschema.ValidationError) -> str:
    key = ""
    for part in error.absolute_path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key or "(top level)"


def _expected(error: jsonschema.ValidationError) -> str:
    v = error.validator
    if v == "enum":
        return "one of " + ", ".join(map(str, error.validator_value))
    if v == "const":
        return repr(error.validator_value)
    if v == "pattern":
        return f"text matching {error.validator_value}"
    return f"{v} {error.validator_value}" if v not in ("type",) else f"a value of type {error.validator_value}"


def _problem_text(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":  # name the missing key itself, not the whole mapping that lacks it
        missing = error.message.split("'")[1]
        key = _key_path(error)
        key = missing if key == "(top level)" else f"{key}.{missing}"
        return f"{key}: found nothing; expected this key to be given"
    if error.validator == "additionalProperties":  # name the unknown key
        allowed = error.schema.get("properties", {})
        unknown = [k for k in error.instance if k not in allowed]
        key = _key_path(error)
        key = ", ".join(unknown) if key == "(top level)" else ", ".join(f"{key}.{k}" for k in unknown)
        return f"{key}: found an unknown key; expected only the keys " + ", ".join(allowed)
    return f"{_key_path(error)}: found {error.instance!r}; expected {_expected(error)}"


def _semantic_problems(raw: dict) -> list[str]:
    """What a JSON Schema cannot say: unique ids, sensitivity analyses that point at a declared analysis, no
    analysis that would pool a per-protocol population, and a main Bayesian prior scale that is one of the
    declared scales."""
    ids = [a["id"] for a in raw["analyses"]]
    problems = [
        f"analyses: id '{i}' is declared {ids.count(i)} times; expected unique ids"
        for i in set(ids)
        if ids.count(i) > 1
    ]
    for n, a in enumerate(raw["analyses"]):
        target = a.get("sensitivity_of")
        if target is not None and target not in ids:
            problems.append(f"analyses[{n}].sensitivity_of: found '{target}'; expected the id of a declared analysis")
    never_pooled = set(raw["per_protocol"]["populations"])
    for n, a in enumerate(raw["analyses"]):
        found = [p for p in a["population_preference"] if p in never_pooled]
        if found:
            problems.append(
                f"analyses[{n}].population_preference: found {', '.join(found)}; expected none of the populations "
                "that per_protocol.populations keeps out of every pooled analysis"
            )
    bayesian = raw.get("bayesian")
    if bayesian is not None and bayesian["main_scale"] not in bayesian["scales"]:
        problems.append(
            f"bayesian.main_scale: found {bayesian['main_scale']!r}; expected one of the scales "
            + ", ".join(map(str, bayesian["scales"]))
        )
    for n, target in enumerate(raw["update"]["analyses"]):
        if target not in ids:
            problems.append(f"update.analyses[{n}]: found '{target}'; expected the id of a declared analysis")
    if "review" not in raw["update"]["windows"]:
        problems.append(
            f"update.windows: found {raw['update']['windows']!r}; expected the review window among them "
            "(the update adds to the review's evidence)"
        )
    return problems


def check_protocol(raw: object, name: str = "protocol.yml") -> dict:
    """Raise :class:`ProtocolError` listing every problem of a parsed protocol; return it if valid."""
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_problem_text(e) for e in errors]
    if not problems:
        problems = _semantic_problems(raw)
    if problems:
        raise ProtocolError(f"{len(problems)} problem(s) in {name}:\n" + "\n".join(f"  - {p}" for p in problems))
    return raw


def check_against_evidence(protocol: Protocol, ev) -> None:
    """The protocol names outcomes that data/outcome_definitions.csv defines and studies that studies.csv holds."""
    known_outcomes = set(ev.outcome_definitions["outcome"])
    known_studies = set(ev.studies["study_id"])
    problems = [
        f"analyses[{n}].outcome: found '{a.outcome}'; expected an outcome of outcome_definitions.csv"
        for n, a in enumerate(protocol.analyses)
        if a.outcome not in known_outcomes
    ]
    problems += [
        f"eligibility.exclusions[{n}].study_id: found '{s}'; expected a study_id of studies.csv"
        for n, s in enumerate(protocol.exclusions)
        if s not in known_studies
    ]
    if problems:
        raise ProtocolError(
            f"{len(problems)} problem(s) in {protocol.path.name}:\n" + "\n".join(f"  - {p}" for p in problems)
        )


@lru_cache(maxsize=8)
def _load(path: Path, text: str) -> Protocol:
    try:
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml where built: 20x faster
    except yaml.YAMLError as err:
        raise ProtocolError(f"{path.name}: not valid YAML: {err}") from err
    return Protocol(check_protocol(raw, path.name), path)


def load_protocol(path: Path | None = None) -> Protocol:
    """The protocol, validated (cached by content)."""
    path = path or protocol_path()
    if not path.exists():
        raise ProtocolError(f"{path}: the protocol file does not exist")
    return _load(path, path.read_text(encoding="utf-8"))
