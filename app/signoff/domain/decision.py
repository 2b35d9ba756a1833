"""What a decision is bound to: the policy verdict in words, and the conditions an approval sets.

A signer is shown the verdict (PASS / FAIL / INSUFFICIENT EVIDENCE, each failing rule with its observed
value, threshold, n and interval, and the waivers that apply); ``approval_refusal`` says why a plain
approval may not be given (a failing or insufficient verdict, an open high or critical finding). An
approval with conditions sets obligations: each ``Condition`` has an owner, a due date and a status,
and is closed with evidence.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from signoff.domain.errors import InputError
from signoff.domain.policy import OverallStatus, PolicyEvaluation, RuleStatus, RuleVerdict
from signoff.domain.review import Finding, FindingStatus, Severity


class Verdict(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    INSUFFICIENT_EVIDENCE = "INSUFFICIENT EVIDENCE"
    NOT_EVALUATED = "NOT EVALUATED"  # the evidence holds no policy evaluation


BLOCKING_VERDICTS = frozenset({Verdict.FAIL, Verdict.INSUFFICIENT_EVIDENCE})
BLOCKING_SEVERITIES = frozenset({Severity.HIGH, Severity.CRITICAL})
APPROVAL_REFUSED = "cannot approve review {review_id}: {reasons}. Reject it, or approve with conditions"
CONDITION_FORMAT = "write a condition as TEXT|owner=NAME|due=YYYY-MM-DD, e.g. 'retrain on 2027 data|owner=bob|due=2027-03-31'"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def describe_rule(verdict: RuleVerdict) -> str:
    """One line a signer reads: rule, scope, observed value with interval, threshold, n, status."""
    observed = _number(verdict.value)
    if verdict.ci_low is not None and verdict.ci_high is not None:
        observed += f" [{_number(verdict.ci_low)}, {_number(verdict.ci_high)}]"
    text = (
        f"{verdict.rule.id} at {verdict.scope}: observed {observed}, threshold "
        f"{verdict.rule.operator.value} {verdict.rule.threshold:.4g}, n {verdict.n if verdict.n is not None else '-'}"
    )
    if verdict.reason:
        text += f" ({verdict.reason})"
    return text


@dataclass(frozen=True)
class PolicyVerdict:
    """The verdict of the evaluation a review's evidence holds, as shown wherever a decision is made."""

    verdict: Verdict
    policy_name: str = ""
    evaluated_on: date | None = None
    failing: tuple[RuleVerdict, ...] = ()  # failed, missing or insufficient
    waived: tuple[RuleVerdict, ...] = ()
    missing_analyses: tuple[str, ...] = ()

    @classmethod
    def of(cls, evaluation: PolicyEvaluation | None) -> PolicyVerdict:
        if evaluation is None:
            return cls(Verdict.NOT_EVALUATED)
        status = evaluation.status
        verdict = {
            OverallStatus.PASS: Verdict.PASS,
            OverallStatus.FAIL: Verdict.FAIL,
        }.get(status, Verdict.INSUFFICIENT_EVIDENCE)
        blocking = (RuleStatus.FAIL, RuleStatus.MISSING, RuleStatus.INSUFFICIENT_DATA)
        return cls(
            verdict=verdict,
            policy_name=evaluation.policy_name,
            evaluated_on=evaluation.evaluated_on,
            failing=tuple(v for v in evaluation.verdicts if v.status in blocking),
            waived=tuple(v for v in evaluation.verdicts if v.status is RuleStatus.WAIVED),
            missing_analyses=evaluation.missing_analyses,
        )

    def lines(self) -> list[str]:
        """The verdict in words: the headline, then each failing rule and each waiver that applies."""
        if self.verdict is Verdict.NOT_EVALUATED:
            return ["NOT EVALUATED: the evidence holds no policy evaluation (no policy check was run on it)"]
        head = f"{self.verdict.value} (policy {self.policy_name}"
        head += f", evaluated {self.evaluated_on.isoformat()})" if self.evaluated_on else ")"
        lines = [head]
        for rule in self.failing:
            lines.append(f"{rule.status.value.upper().replace('_', ' ')}: {describe_rule(rule)}")
        for analysis in self.missing_analyses:
            lines.append(f"MISSING: no {analysis} analysis in the evidence")
        for rule in self.waived:
            waiver = rule.waiver
            by = f" by {waiver.granted_by} until {waiver.until.isoformat()}" if waiver else ""
            lines.append(f"WAIVED{by}: {describe_rule(rule)}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "policy": self.policy_name or None,
            "evaluated_on": self.evaluated_on.isoformat() if self.evaluated_on else None,
            "failing_rules": [r.to_dict() for r in self.failing],
            "waivers": [r.waiver.to_dict() for r in self.waived if r.waiver is not None],
            "missing_analyses": list(self.missing_analyses),
            "lines": self.lines(),
        }


NOT_EVALUATED = PolicyVerdict(Verdict.NOT_EVALUATED)


def blocking_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.status is FindingStatus.OPEN and f.severity in BLOCKING_SEVERITIES)


def approval_refusal(review_id: int, verdict: PolicyVerdict, findings: Iterable[Finding]) -> str | None:
    """Why a plain approval is refused now, naming the failing rules and open findings; None if it is not."""
    reasons = []
    if verdict.verdict in BLOCKING_VERDICTS:
        rules = "; ".join(describe_rule(r) for r in verdict.failing) or ", ".join(verdict.missing_analyses)
        reasons.append(f"the policy verdict is {verdict.verdict.value} ({rules})")
    blocking = blocking_findings(findings)
    if blocking:
        named = "; ".join(f"#{f.number} {f.severity.value}: {f.title}" for f in blocking)
        reasons.append(f"open high/critical findings: {named}")
    if not reasons:
        return None
    return APPROVAL_REFUSED.format(review_id=review_id, reasons="; and ".join(reasons))


class ConditionStatus(enum.StrEnum):
    OPEN = "open"
    IN_REMEDIATION = "in_remediation"
    CLOSED = "closed"  # closed with evidence
    RISK_ACCEPTED = "risk_accepted"  # by an approver's signature


DONE_STATUSES = frozenset({ConditionStatus.CLOSED, ConditionStatus.RISK_ACCEPTED})


@dataclass(frozen=True)
class ConditionTerms:
    """What an approval with conditions signs for each condition: what, who owns it, by when."""

    text: str
    owner: str
    due: date

    def content(self) -> dict[str, Any]:
        return {"text": self.text, "owner": self.owner, "due": self.due.isoformat()}

    @classmethod
    def from_content(cls, data: dict[str, Any]) -> ConditionTerms:
        return cls(data["text"], data["owner"], date.fromisoformat(data["due"]))


def parse_condition(spec: str) -> ConditionTerms:
    """``"TEXT|owner=NAME|due=YYYY-MM-DD"`` -> the condition's terms (the owner is checked by the caller)."""
    parts = [p.strip() for p in spec.split("|")]
    text, fields = parts[0], {}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if not sep or key.strip().lower() not in ("owner", "due") or key.strip().lower() in fields:
            raise InputError(f"condition {spec!r}: {CONDITION_FORMAT}")
        fields[key.strip().lower()] = value.strip()
    if not text or set(fields) != {"owner", "due"} or not fields["owner"]:
        raise InputError(f"condition {spec!r}: {CONDITION_FORMAT}")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields["due"]):
        raise InputError(f"condition {spec!r}: the due date must be YYYY-MM-DD")
    try:
        due = date.fromisoformat(fields["due"])
    except ValueError:
        raise InputError(f"condition {spec!r}: {fields['due']} is not a date") from None
    return ConditionTerms(text, fields["owner"].lower(), due)


@dataclass(frozen=True)
class Condition:
    """One obligation of an approval with conditions, as it stands now."""

    id: int
    review_id: int
    number: int
    terms: ConditionTerms
    status: ConditionStatus = ConditionStatus.OPEN
    evidence: str = ""
    closed_by: str | None = None
    closed_at: datetime | None = None
    model: str = ""  # "name vN", for lists across reviews

    def is_overdue(self, today: date) -> bool:
        return self.status not in DONE_STATUSES and self.terms.due < today

    def to_dict(self, today: date | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "review_id": self.review_id,
            "number": self.number,
            "model_version": self.model,
            **self.terms.content(),
            "status": self.status.value,
            "evidence": self.evidence,
            "closed_by": self.closed_by,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            **({"overdue": self.is_overdue(today)} if today is not None else {}),
        }
