"""Policies: the thresholds a model version must meet, and how analysis results are judged against them.

A ``Policy`` is read from a versioned YAML file (its version is the SHA-256 of the file's bytes). Each
``Rule`` names a metric, the scopes it applies to, an operator and a threshold; ``evaluate_policy``
matches rules to ``Observation``s and gives every (rule, scope) a verdict: pass, fail, waived,
insufficient data (never pass or fail) or missing (the evidence was not there). A ``Waiver`` turns a
failure into an accepted exception on the record, until its end date.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from signoff.domain.observations import Observation
from signoff.domain.review import DEFAULT_REQUIREMENTS, SignatureRequirement, requirements_from_policy

# The analyses a policy can require and a rule's metric can come from (``<analysis>.<metric>``).
ANALYSES = ("validation", "performance", "fairness", "drift", "monitoring", "explain", "compare")

DEFAULT_MIN_GROUP_SIZE = 30


class Operator(enum.StrEnum):
    """How an observed number is compared with a rule's threshold: ``observed <op> threshold`` passes."""

    GE = ">="
    LE = "<="
    GT = ">"
    LT = "<"

    def holds(self, observed: float, threshold: float) -> bool:
        if self is Operator.GE:
            return observed >= threshold
        if self is Operator.LE:
            return observed <= threshold
        if self is Operator.GT:
            return observed > threshold
        return observed < threshold


class JudgedOn(enum.StrEnum):
    """Which number of an observation a rule judges: the estimate or one end of its interval.

    Judging ``ci_low`` with ``>=`` asks that the whole interval clear the threshold (the estimate is
    convincingly good enough); judging ``ci_high`` with ``>=`` gives the benefit of the doubt.
    """

    VALUE = "value"
    CI_LOW = "ci_low"
    CI_HIGH = "ci_high"


class Severity(enum.StrEnum):
    """How much a failure matters to a reviewer. Every failure fails the gate; severity orders findings."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class RuleStatus(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WAIVED = "waived"
    INSUFFICIENT_DATA = "insufficient_data"
    MISSING = "missing"


class OverallStatus(enum.StrEnum):
    """The policy's result: the worst of its verdicts, in the order fail > missing > insufficient > pass."""

    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"
    INSUFFICIENT_DATA = "insufficient_data"


@dataclass(frozen=True)
class Rule:
    """One threshold. ``scopes`` holds exact scopes (``"sex"``, ``"sex&race"``, ``"age"``) or patterns
    where ``*`` is a wildcard: ``"*"`` is every scope observed for the metric, ``"sex=*"`` every group
    of ``sex``."""

    id: str
    metric: str
    scopes: tuple[str, ...]
    operator: Operator
    threshold: float
    on: JudgedOn = JudgedOn.VALUE
    description: str = ""
    severity: Severity = Severity.HIGH

    @property
    def analysis(self) -> str:
        return self.metric.split(".", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "metric": self.metric,
            "scopes": list(self.scopes),
            "operator": self.operator.value,
            "threshold": self.threshold,
            "on": self.on.value,
            "description": self.description,
            "severity": self.severity.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """From a policy file's rule (``scope`` or ``scopes``) or from ``to_dict``'s output."""
        scopes = tuple(data["scopes"]) if "scopes" in data else (data.get("scope", "*"),)
        return cls(
            id=data["id"],
            metric=data["metric"],
            scopes=scopes,
            operator=Operator(data["operator"]),
            threshold=float(data["threshold"]),
            on=JudgedOn(data.get("on", "value")),
            description=data.get("description", ""),
            severity=Severity(data.get("severity", "high")),
        )


@dataclass(frozen=True)
class Policy:
    """A policy as read from its file. ``version`` is the SHA-256 (hex) of the file's bytes.

    ``settings`` carries per-analysis parameters the policy fixes (for example
    ``{"fairness": {"attributes": ["sex"], "exclude_below_share": 0.02}, "drift": {"bins": 10}}``) so
    that everyone who runs the policy computes the same numbers.
    """

    name: str
    version: str
    rules: tuple[Rule, ...]
    title: str = ""
    description: str = ""
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    reference_groups: dict[str, str] = field(default_factory=dict)
    required_analyses: tuple[str, ...] = ()
    required_signatures: tuple[SignatureRequirement, ...] = DEFAULT_REQUIREMENTS  # a review's own type
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def analyses_needed(self) -> tuple[str, ...]:
        """Required analyses and the analyses the rules' metrics come from, in a stable order."""
        needed = set(self.required_analyses) | {rule.analysis for rule in self.rules}
        return tuple(a for a in ANALYSES if a in needed) + tuple(sorted(needed - set(ANALYSES)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "min_group_size": self.min_group_size,
            "reference_groups": dict(self.reference_groups),
            "required_analyses": list(self.required_analyses),
            "required_signatures": [s.to_dict() for s in self.required_signatures],
            "settings": {k: dict(v) for k, v in self.settings.items()},
            "rules": [r.to_dict() for r in self.rules],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, version: str | None = None) -> Policy:
        """From a schema-validated policy file (give ``version``) or from ``to_dict``'s output."""
        signatures = data.get("required_signatures")
        return cls(
            name=data["name"],
            version=version if version is not None else data["version"],
            title=data.get("title", ""),
            description=data.get("description", ""),
            min_group_size=int(data.get("min_group_size", DEFAULT_MIN_GROUP_SIZE)),
            reference_groups={str(k): str(v) for k, v in (data.get("reference_groups") or {}).items()},
            required_analyses=tuple(data.get("required_analyses", ())),
            required_signatures=requirements_from_policy(signatures),
            settings={k: dict(v) for k, v in (data.get("settings") or {}).items()},
            rules=tuple(Rule.from_dict(r) for r in data.get("rules", ())),
        )


WAIVER_MANIFEST_FORMAT = "signoff.waiver/1"


@dataclass(frozen=True)
class Waiver:
    """An accepted exception: a failing ``rule_id`` at ``scope`` (or ``"*"``: every scope) is waived
    through ``until`` (inclusive), for the stated reason, by the named person.

    A waiver is a signed act: ``granted_by`` is the approver's or administrator's account, who signed
    ``manifest()`` with Ed25519 after typing their password. Waivers from before that carry no signature.
    """

    rule_id: str
    scope: str
    justification: str
    granted_by: str
    until: date
    created_at: datetime
    id: int | None = None
    model_version_id: int | None = None
    role: str = ""  # the role it was granted in: approver or admin
    printed_name: str = ""
    signature: bytes = b""
    public_key_fingerprint: str = ""

    def manifest(self) -> dict[str, Any]:
        """Exactly what the granter signs; the format tag keeps it from passing for any other message."""
        return {
            "format": WAIVER_MANIFEST_FORMAT,
            "model_version_id": self.model_version_id,
            "rule_id": self.rule_id,
            "scope": self.scope,
            "justification": self.justification,
            "until": self.until.isoformat(),
            "granted_by": self.granted_by,
            "printed_name": self.printed_name,
            "role": self.role,
            "granted_at": self.created_at.isoformat(),
        }

    def covers(self, rule_id: str, scope: str) -> bool:
        return self.rule_id == rule_id and (self.scope == "*" or self.scope == scope)

    def in_force(self, today: date) -> bool:
        return today <= self.until

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "scope": self.scope,
            "justification": self.justification,
            "granted_by": self.granted_by,
            "until": self.until.isoformat(),
            "created_at": self.created_at.isoformat(),
            **(
                {
                    "model_version_id": self.model_version_id,
                    "role": self.role,
                    "printed_name": self.printed_name,
                    "signature": self.signature.hex(),
                    "public_key_fingerprint": self.public_key_fingerprint,
                }
                if self.signature
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Waiver:
        return cls(
            model_version_id=data.get("model_version_id"),
            role=data.get("role", ""),
            printed_name=data.get("printed_name", ""),
            signature=bytes.fromhex(data.get("signature", "")),
            public_key_fingerprint=data.get("public_key_fingerprint", ""),
            id=data.get("id"),
            rule_id=data["rule_id"],
            scope=data["scope"],
            justification=data["justification"],
            granted_by=data["granted_by"],
            until=date.fromisoformat(data["until"]),
            created_at=datetime.fromisoformat(data["created_at"]),
        )


@dataclass(frozen=True)
class RuleVerdict:
    """The judgement of one rule at one scope, with what was observed and why."""

    rule: Rule
    scope: str
    status: RuleStatus
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    judged: float | None = None  # the number compared with the threshold (value, ci_low or ci_high)
    waiver: Waiver | None = None
    reason: str = ""
    detail: str = ""  # the observation's own detail (convention, which groups)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule.id,
            "metric": self.rule.metric,
            "scope": self.scope,
            "status": self.status.value,
            "operator": self.rule.operator.value,
            "threshold": self.rule.threshold,
            "on": self.rule.on.value,
            "severity": self.rule.severity.value,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
            "judged": self.judged,
            "waiver": self.waiver.to_dict() if self.waiver else None,
            "reason": self.reason,
            "detail": self.detail,
            "description": self.rule.description,
        }


@dataclass(frozen=True)
class PolicyEvaluation:
    """Every verdict of one policy on one set of observations, on one day."""

    policy_name: str
    policy_version: str
    evaluated_on: date
    verdicts: tuple[RuleVerdict, ...]
    missing_analyses: tuple[str, ...] = ()

    def count(self, status: RuleStatus) -> int:
        return sum(1 for v in self.verdicts if v.status is status)

    @property
    def status(self) -> OverallStatus:
        if self.count(RuleStatus.FAIL):
            return OverallStatus.FAIL
        if self.count(RuleStatus.MISSING) or self.missing_analyses:
            return OverallStatus.MISSING
        if self.count(RuleStatus.INSUFFICIENT_DATA):
            return OverallStatus.INSUFFICIENT_DATA
        return OverallStatus.PASS

    @property
    def passed(self) -> bool:
        """The CI gate: nothing failed and nothing the policy needs is missing.

        Insufficient data does not block (it is neither pass nor fail, and is reported); missing
        evidence does, because a gate that passes when the checks were never run checks nothing.
        """
        return self.status in (OverallStatus.PASS, OverallStatus.INSUFFICIENT_DATA)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": {"name": self.policy_name, "version": self.policy_version},
            "evaluated_on": self.evaluated_on.isoformat(),
            "status": self.status.value,
            "passed": self.passed,
            "counts": {s.value: self.count(s) for s in RuleStatus},
            "missing_analyses": list(self.missing_analyses),
            "verdicts": [v.to_dict() for v in self.verdicts],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyEvaluation:
        verdicts = []
        for v in data["verdicts"]:
            rule = Rule(
                id=v["rule_id"],
                metric=v["metric"],
                scopes=(v["scope"],),
                operator=Operator(v["operator"]),
                threshold=float(v["threshold"]),
                on=JudgedOn(v["on"]),
                description=v.get("description", ""),
                severity=Severity(v.get("severity", "high")),
            )
            verdicts.append(
                RuleVerdict(
                    rule=rule,
                    scope=v["scope"],
                    status=RuleStatus(v["status"]),
                    value=v["value"],
                    ci_low=v["ci_low"],
                    ci_high=v["ci_high"],
                    n=v["n"],
                    judged=v["judged"],
                    waiver=Waiver.from_dict(v["waiver"]) if v["waiver"] else None,
                    reason=v.get("reason", ""),
                    detail=v.get("detail", ""),
                )
            )
        return cls(
            policy_name=data["policy"]["name"],
            policy_version=data["policy"]["version"],
            evaluated_on=date.fromisoformat(data["evaluated_on"]),
            verdicts=tuple(verdicts),
            missing_analyses=tuple(data.get("missing_analyses", ())),
        )


def _scope_matcher(scope: str) -> Callable[[str], bool]:
    """Exact names match themselves; ``*`` matches any run of characters. Nothing else is special,
    because group labels such as ``age=(25, 40]`` are full of brackets."""
    if "*" not in scope:
        return lambda observed: observed == scope
    pattern = re.compile(".*".join(re.escape(part) for part in scope.split("*")), re.DOTALL)
    return lambda observed: observed == scope or pattern.fullmatch(observed) is not None


def _number(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _judge(
    rule: Rule,
    scope: str,
    observation: Observation,
    min_group_size: int,
    waivers: Sequence[Waiver],
    today: date,
) -> RuleVerdict:
    value, ci_low, ci_high = (
        _number(observation.value),
        _number(observation.ci_low),
        _number(observation.ci_high),
    )
    common = {
        "rule": rule,
        "scope": scope,
        "value": value,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "n": observation.n,
        "detail": observation.detail,
    }
    if observation.insufficient:
        return RuleVerdict(
            status=RuleStatus.INSUFFICIENT_DATA, reason="the analysis marked it insufficient", **common
        )
    if observation.n is not None and observation.n < min_group_size:
        return RuleVerdict(
            status=RuleStatus.INSUFFICIENT_DATA,
            reason=f"n = {observation.n} is below the minimum group size {min_group_size}",
            **common,
        )
    judged = {JudgedOn.VALUE: value, JudgedOn.CI_LOW: ci_low, JudgedOn.CI_HIGH: ci_high}[rule.on]
    if judged is None:
        what = "the value" if rule.on is JudgedOn.VALUE else f"the interval's {rule.on.value}"
        return RuleVerdict(
            status=RuleStatus.INSUFFICIENT_DATA, reason=f"{what} could not be computed", **common
        )
    if rule.operator.holds(judged, rule.threshold):
        return RuleVerdict(status=RuleStatus.PASS, judged=judged, **common)
    failure = f"{rule.on.value} {judged:.6g} is not {rule.operator.value} {rule.threshold:g}"
    covering = [w for w in waivers if w.covers(rule.id, scope)]
    in_force = [w for w in covering if w.in_force(today)]
    if in_force:
        # The waiver that runs longest is the one on the record; ties by creation, then id.
        waiver = max(in_force, key=lambda w: (w.until, w.created_at, w.id or 0))
        return RuleVerdict(
            status=RuleStatus.WAIVED,
            judged=judged,
            waiver=waiver,
            reason=f"{failure}; waived until {waiver.until.isoformat()} by {waiver.granted_by}",
            **common,
        )
    if covering:
        latest = max(w.until for w in covering)
        failure += f"; a waiver expired on {latest.isoformat()}"
    return RuleVerdict(status=RuleStatus.FAIL, judged=judged, reason=failure, **common)


def evaluate_policy(
    policy: Policy,
    observations: Iterable[Observation],
    waivers: Iterable[Waiver],
    today: date,
) -> PolicyEvaluation:
    """Judge every rule of ``policy`` at every scope it names against ``observations``.

    A rule scope that is an exact name and has no observation, or a pattern that matches nothing,
    gives a ``missing`` verdict. A required analysis none of whose metrics was observed is listed in
    ``missing_analyses``. If several observations share a metric and scope, each is judged.
    """
    observations = list(observations)
    waivers = list(waivers)
    by_metric: dict[str, list[Observation]] = {}
    for obs in observations:
        by_metric.setdefault(obs.metric, []).append(obs)

    verdicts: list[RuleVerdict] = []
    for rule in policy.rules:
        candidates = by_metric.get(rule.metric, [])
        judged_scopes: set[tuple[str, int]] = set()
        for scope in rule.scopes:
            matches = _scope_matcher(scope)
            matched = [o for o in candidates if matches(o.scope)]
            if not matched:
                verdicts.append(
                    RuleVerdict(
                        rule=rule,
                        scope=scope,
                        status=RuleStatus.MISSING,
                        reason=f"no observation of {rule.metric} for scope {scope!r}",
                    )
                )
                continue
            for obs in sorted(matched, key=lambda o: o.scope):
                # Two patterns of one rule may match the same observation: judge it once.
                key = (obs.scope, id(obs))
                if key in judged_scopes:
                    continue
                judged_scopes.add(key)
                verdicts.append(_judge(rule, obs.scope, obs, policy.min_group_size, waivers, today))

    observed_analyses = {o.metric.split(".", 1)[0] for o in observations}
    missing = tuple(a for a in policy.required_analyses if a not in observed_analyses)
    return PolicyEvaluation(
        policy_name=policy.name,
        policy_version=policy.version,
        evaluated_on=today,
        verdicts=tuple(verdicts),
        missing_analyses=missing,
    )
