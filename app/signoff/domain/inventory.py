"""The model inventory of record: who owns a model, what it is for and not for, its stage and scope.

A model's record holds named fields (``FIELDS``); a version may override any of them where it differs,
and a version's *effective* record is the model's with the version's overrides on top. Values are checked
here, before anything is stored, so a typo in a field name or a stage is refused with the known choices.
The review calendar (``next_review_due``) and the risk tier (``RiskRubric``) follow from the record.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from signoff.domain.audit import format_utc
from signoff.domain.codec import Record
from signoff.domain.errors import InputError


class FieldKind(enum.StrEnum):
    TEXT = "text"
    ACCOUNT = "account"  # the username of an existing Signoff account
    CHOICE = "choice"
    YES_NO = "yes/no"
    DATE = "date"


@dataclass(frozen=True)
class InventoryField:
    name: str
    kind: FieldKind
    description: str
    choices: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "description": self.description,
            "choices": list(self.choices),
        }


STAGES = ("development", "validation", "production", "retired")
EXPORT_FORMATS = ("csv", "xlsx")  # how the inventory is written out
EU_AI_ACT_RISK = ("prohibited", "high", "limited", "minimal", "not-in-scope")
# EU AI Act Annex III, points 1-8, in the regulation's order.
ANNEX_III_AREAS = (
    "none",
    "biometrics",
    "critical-infrastructure",
    "education",
    "employment",
    "essential-services",
    "law-enforcement",
    "migration",
    "justice-democracy",
)

FIELDS: tuple[InventoryField, ...] = (
    InventoryField("owner", FieldKind.ACCOUNT, "accountable owner (a Signoff account)"),
    InventoryField("backup_owner", FieldKind.ACCOUNT, "backup owner (a Signoff account)"),
    InventoryField("business_unit", FieldKind.TEXT, "business unit that uses the model"),
    InventoryField("purpose", FieldKind.TEXT, "business purpose"),
    InventoryField("intended_use", FieldKind.TEXT, "intended use"),
    InventoryField("intended_users", FieldKind.TEXT, "who is meant to use the model's output"),
    InventoryField("out_of_scope", FieldKind.TEXT, "uses the model is not for"),
    InventoryField("limitations", FieldKind.TEXT, "known limitations"),
    InventoryField("training_data", FieldKind.TEXT, "description of the training data"),
    InventoryField("stage", FieldKind.CHOICE, "lifecycle stage (its date is kept)", STAGES),
    InventoryField("stage_date", FieldKind.DATE, "date the stage began (default: today), YYYY-MM-DD"),
    InventoryField("vendor", FieldKind.TEXT, "vendor that supplies the model, or in-house"),
    InventoryField(
        "monitoring_plan", FieldKind.TEXT, "post-market monitoring plan: what is watched, how often, who acts"
    ),
    InventoryField("eu_ai_act_risk", FieldKind.CHOICE, "EU AI Act risk category", EU_AI_ACT_RISK),
    InventoryField("eu_ai_act_annex_iii", FieldKind.CHOICE, "EU AI Act Annex III area", ANNEX_III_AREAS),
    InventoryField("nyc_ll144_aedt", FieldKind.YES_NO, "an automated employment decision tool (NYC LL144)"),
    InventoryField("us_model_risk", FieldKind.YES_NO, "under US model-risk guidance (SR 11-7 / OCC 2011-12)"),
    InventoryField("fair_lending", FieldKind.YES_NO, "under fair-lending law (ECOA / Regulation B)"),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
# How documents and reports name each field.
LABELS = {
    "owner": "Owner",
    "backup_owner": "Backup owner",
    "business_unit": "Business unit",
    "purpose": "Business purpose",
    "intended_use": "Intended use",
    "intended_users": "Intended users",
    "out_of_scope": "Out-of-scope uses",
    "limitations": "Limitations",
    "training_data": "Training data",
    "stage": "Lifecycle stage",
    "stage_date": "Stage since",
    "vendor": "Vendor",
    "monitoring_plan": "Monitoring plan",
    "eu_ai_act_risk": "EU AI Act risk category",
    "eu_ai_act_annex_iii": "EU AI Act Annex III area",
    "nyc_ll144_aedt": "NYC LL144 automated employment decision tool",
    "us_model_risk": "US model-risk guidance applies",
    "fair_lending": "Fair-lending law applies",
}

UNKNOWN_FIELD = "unknown inventory field {name!r}; known fields: {known}"
BAD_CHOICE = "{name} cannot be {value!r}; choose one of {choices}"
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["owner=alice", "stage=production"]`` -> ``{"owner": "alice", ...}``; an empty value clears."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"{pair!r} is not FIELD=VALUE, e.g. owner=alice or stage=production")
        if name in found:
            raise InputError(f"inventory field {name!r} is given twice")
        found[name] = value.strip()
    if not found:
        raise InputError("name at least one FIELD=VALUE to set")
    return found


def check_value(name: str, text: str) -> str | bool | None:
    """The stored form of ``text`` for field ``name`` (None clears it), or ``InputError`` saying why not.

    Accounts are checked against the user list by the caller, which can see it.
    """
    spec = FIELDS_BY_NAME.get(name)
    if spec is None:
        raise InputError(UNKNOWN_FIELD.format(name=name, known=", ".join(FIELDS_BY_NAME)))
    value = text.strip()
    if not value:
        return None
    if spec.kind is FieldKind.CHOICE:
        normal = value.lower().replace("_", "-").replace(" ", "-")
        if normal not in spec.choices:
            raise InputError(BAD_CHOICE.format(name=name, value=value, choices=", ".join(spec.choices)))
        return normal
    if spec.kind is FieldKind.YES_NO:
        if value.lower() in _YES:
            return True
        if value.lower() in _NO:
            return False
        raise InputError(BAD_CHOICE.format(name=name, value=value, choices="yes, no"))
    if spec.kind is FieldKind.DATE:
        return parse_date(value, what=name).isoformat()
    return value


def parse_date(text: str, *, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} must be a date as YYYY-MM-DD, not {text!r}") from None


@dataclass(frozen=True)
class StageChange(Record):
    stage: str
    since: str  # ISO date
    by: str


@dataclass(frozen=True)
class InventoryRecord(Record):
    """The stored record of a model (``version`` None) or of one version's differences from it."""

    model: str
    version: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    stage_history: tuple[StageChange, ...] = ()
    revision: int = 0
    updated_at: datetime | None = None
    updated_by: str = ""
    # The model's latest tier assessment and any override (see services/inventory.py); None until assessed.
    risk: Mapping[str, Any] | None = None


def apply_changes(
    record: InventoryRecord, changes: Mapping[str, Any], *, by: str, today: date
) -> tuple[dict[str, Any], tuple[StageChange, ...], dict[str, dict[str, Any]]]:
    """The values and stage history after ``changes``, and what changed (``{field: {before, after}}``).

    A stage change is kept in the history with its date (``stage_date`` if given, else today), so
    "in production since" stays answerable after the stage moves on.
    """
    values = dict(record.values)
    diff: dict[str, dict[str, Any]] = {}
    for name, value in changes.items():
        if name == "stage_date":
            continue
        if values.get(name) != value:
            diff[name] = {"before": values.get(name), "after": value}
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
    history = record.stage_history
    since = changes.get("stage_date")
    if "stage" in diff and values.get("stage") is not None:
        history = (*history, StageChange(values["stage"], since or today.isoformat(), by))
    elif since is not None:
        if not history:
            raise InputError("stage_date needs a stage: set stage=... with it")
        last = history[-1]
        if last.since != since:
            history = (*history[:-1], StageChange(last.stage, since, by))
            diff["stage_date"] = {"before": last.since, "after": since}
    return values, history, diff


def effective_values(model: InventoryRecord | None, version: InventoryRecord | None) -> dict[str, Any]:
    """A version's record: the model's values with the version's own on top."""
    merged: dict[str, Any] = dict(model.values) if model else {}
    if version is not None:
        merged.update(version.values)
    return merged


# --- Risk tier -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricQuestion:
    id: str
    text: str
    answers: Mapping[str, int]  # answer -> score


@dataclass(frozen=True)
class RiskTier:
    tier: int
    min_score: int
    review_interval_months: int


@dataclass(frozen=True)
class RiskRubric:
    """How answers to a few questions (materiality, complexity, reliance, ...) give a risk tier.

    The score combines the answers' scores (``combine``: their product, as in a materiality x complexity
    x reliance matrix, or their sum); the tier is the first (lowest number, highest risk) whose
    ``min_score`` the score reaches. Each tier sets the revalidation interval.
    """

    name: str
    version: str  # SHA-256 of the rubric file's bytes
    questions: tuple[RubricQuestion, ...]
    tiers: tuple[RiskTier, ...]
    combine: str = "product"  # or "sum"

    def assess(self, answers: Mapping[str, str]) -> RiskAssessment:
        asked = {q.id: q for q in self.questions}
        unknown = sorted(set(answers) - set(asked))
        if unknown:
            raise InputError(
                f"the risk rubric has no question {', '.join(map(repr, unknown))}; "
                f"its questions are {', '.join(asked)}"
            )
        missing = [q for q in asked if q not in answers]
        if missing:
            raise InputError(f"answer every question of the risk rubric; missing: {', '.join(missing)}")
        normal: dict[str, str] = {}
        score = 1 if self.combine == "product" else 0
        for question in self.questions:
            answer = answers[question.id].strip().lower()
            if answer not in question.answers:
                raise InputError(
                    f"{question.id} cannot be answered {answers[question.id]!r}; "
                    f"choose one of {', '.join(question.answers)}"
                )
            normal[question.id] = answer
            value = question.answers[answer]
            score = score * value if self.combine == "product" else score + value
        for tier in sorted(self.tiers, key=lambda t: t.tier):
            if score >= tier.min_score:
                return RiskAssessment(self.name, self.version, normal, score, tier.tier)
        raise InputError(f"the risk rubric {self.name!r} gives no tier for score {score}")


@dataclass(frozen=True)
class RiskAssessment:
    rubric: str
    rubric_version: str
    answers: Mapping[str, str]
    score: int
    tier: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "rubric": self.rubric,
            "rubric_version": self.rubric_version,
            "answers": dict(self.answers),
            "score": self.score,
            "tier": self.tier,
        }


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class DueState(enum.StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due-soon"
    SCHEDULED = "scheduled"
    NOT_SCHEDULED = "not-scheduled"  # no tier or no approval yet


def next_review_due(last_approval: date | None, interval_months: int | None) -> date | None:
    if last_approval is None or interval_months is None:
        return None
    return add_months(last_approval, interval_months)


def due_state(due: date | None, *, today: date, within_days: int = 30) -> DueState:
    if due is None:
        return DueState.NOT_SCHEDULED
    if due < today:
        return DueState.OVERDUE
    if (due - today).days <= within_days:
        return DueState.DUE_SOON
    return DueState.SCHEDULED


_TIER = re.compile(r"^\s*(?:tier\s*)?(\d+)\s*$", re.IGNORECASE)


def parse_tier(text: str) -> int:
    match = _TIER.match(text)
    if not match:
        raise InputError(f"a risk tier is a number such as 1 or 'tier 2', not {text!r}")
    return int(match.group(1))


def effective_tier(risk: Mapping[str, Any] | None) -> tuple[int | None, int | None]:
    """(tier, revalidation interval in months) from a stored risk entry: an override wins."""
    if not risk:
        return None, None
    override = risk.get("override")
    tier = override["tier"] if override else risk["assessment"]["tier"]
    interval = risk.get("intervals", {}).get(str(tier))
    return tier, interval


# Most urgent first: how a model's calendar reads when several dates are due.
DUE_URGENCY = (DueState.OVERDUE, DueState.DUE_SOON, DueState.SCHEDULED, DueState.NOT_SCHEDULED)


@dataclass(frozen=True)
class OpenCondition:
    """A condition of an approval with conditions not yet closed, as the review calendar lists it."""

    condition_id: int
    model: str
    version: str
    text: str
    owner: str
    due: date
    status: str  # open or in_remediation
    state: DueState = DueState.SCHEDULED  # set against a day by ``inventory_entry``

    def to_dict(self) -> dict[str, Any]:
        return {
            "condition_id": self.condition_id,
            "model": self.model,
            "version": self.version,
            "condition": self.text,
            "owner": self.owner,
            "due": self.due.isoformat(),
            "status": self.status,
            "due_state": self.state.value,
        }


@dataclass(frozen=True)
class InventoryEntry:
    """One model as the inventory list and the calendar show it."""

    model: str
    versions: int
    current_version: str | None
    values: Mapping[str, Any]
    tier: int | None
    tier_overridden: bool
    last_approval: datetime | None
    next_due: date | None
    due: DueState  # of the revalidation
    open_conditions: int = 0  # of the current version
    conditions: tuple[OpenCondition, ...] = ()  # open conditions of every version, soonest due first

    @property
    def calendar_due(self) -> DueState:
        """The most urgent of the revalidation and the open conditions' due dates."""
        return min((self.due, *(c.state for c in self.conditions)), key=DUE_URGENCY.index)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "versions": self.versions,
            "current_version": self.current_version,
            "owner": self.values.get("owner"),
            "stage": self.values.get("stage"),
            "values": {k: self.values[k] for k in FIELDS_BY_NAME if k in self.values},
            "tier": self.tier,
            "tier_overridden": self.tier_overridden,
            "last_approval": None if self.last_approval is None else format_utc(self.last_approval),
            "next_review_due": None if self.next_due is None else self.next_due.isoformat(),
            "due": self.due.value,
            "open_conditions": self.open_conditions,
            "conditions": [c.to_dict() for c in self.conditions],
        }


def inventory_entry(
    model: str,
    versions: list[str],
    record: InventoryRecord | None,
    last_approval: datetime | None,
    *,
    today: date,
    within_days: int = 30,
    conditions: Iterable[OpenCondition] = (),
) -> InventoryEntry:
    """The model's calendar on ``today``: its revalidation and its open ``conditions`` (of any version)."""
    tier, interval = effective_tier(record.risk if record else None)
    due = next_review_due(last_approval.date() if last_approval else None, interval)
    current = versions[-1] if versions else None
    dated = tuple(
        replace(c, state=due_state(c.due, today=today, within_days=within_days))
        for c in sorted(conditions, key=lambda c: (c.due, c.condition_id))
    )
    return InventoryEntry(
        model=model,
        versions=len(versions),
        current_version=current,
        values=dict(record.values) if record else {},
        tier=tier,
        tier_overridden=bool(record and record.risk and record.risk.get("override")),
        last_approval=last_approval,
        next_due=due,
        due=due_state(due, today=today, within_days=within_days),
        open_conditions=sum(c.version == current for c in dated),
        conditions=dated,
    )


@dataclass(frozen=True)
class Proposal:
    """A value a registry (model card, MLflow, SageMaker) offers for a field; the owner accepts it or not."""

    field: str
    value: str
    current: Any
    source: str  # e.g. "model-card snapshot 3: card.intended_uses"

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "current": self.current, "source": self.source}


# What a model card's section heading says it is about (first match wins: "Out-of-scope uses" is not
# an intended use), and the field it prefills.
CARD_HEADINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("out_of_scope", ("out-of-scope", "out of scope", "misuse")),
    ("intended_use", ("intended use", "uses")),
    ("limitations", ("limitation", "risks", "caveat")),
    ("training_data", ("training data", "training")),
    ("purpose", ("model description", "model details", "summary", "overview")),
)
# Card fields of registries that fill them themselves (SageMaker model cards), field by field.
CARD_FIELDS = (
    ("purpose", "summary"),
    ("intended_use", "intended_uses"),
    ("limitations", "limitations"),
    ("training_data", "training_details"),
)


def _route(heading: str) -> str | None:
    lowered = heading.lower()
    for name, words in CARD_HEADINGS:
        if any(word in lowered for word in words):
            return name
    return None


def _card_sections(text: str) -> list[tuple[str, str]]:
    """A Markdown card's field text, which the importer keeps as "Heading\ncontent" blocks, split back."""
    sections: list[tuple[str, str]] = []
    for block in text.split("\n\n"):
        heading, newline, content = block.partition("\n")
        if newline and len(heading) <= 80 and _route(heading):
            sections.append((heading, content.strip()))
        elif sections:
            sections[-1] = (sections[-1][0], f"{sections[-1][1]}\n\n{block}".strip())
    return sections


def registry_offers(source_kind: str, record: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """What one stored registry record offers: ``{field: (value, where in the record)}``."""
    offers: dict[str, tuple[str, str]] = {}
    card = record.get("card") if isinstance(record.get("card"), Mapping) else {}
    for name, key in CARD_FIELDS:
        text = card.get(key) if isinstance(card.get(key), str) else ""
        if not text.strip():
            continue
        if source_kind == "model-card":
            for heading, content in _card_sections(text):
                target = _route(heading)
                if target and content and target not in offers:
                    offers[target] = (content, f"card section {heading!r}")
        elif name not in offers:
            offers[name] = (text.strip(), f"card.{key}")
    for path in ("description", "registered_model.description"):
        value = _lookup(record, path)
        if value and "purpose" not in offers:
            offers["purpose"] = (value, path)
    return offers


def _lookup(record: Mapping[str, Any], path: str) -> str:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value.strip() if isinstance(value, str) else ""


def proposals_from_registry(
    records: list[tuple[str, str, Mapping[str, Any]]], current: Mapping[str, Any]
) -> list[Proposal]:
    """Proposals from registry records (``(label, source kind, record)``, newest first) where they differ.

    Each field takes the newest record that offers it; a field that already reads the same is left out.
    """
    chosen: dict[str, Proposal] = {}
    for label, kind, record in records:
        for name, (value, where) in registry_offers(kind, record).items():
            if name not in chosen:
                chosen[name] = Proposal(name, value, current.get(name), f"{label}: {where}")
    return [
        chosen[f.name] for f in FIELDS if f.name in chosen and current.get(f.name) != chosen[f.name].value
    ]


@dataclass(frozen=True)
class PortfolioRow:
    """One model on the portfolio page: its record, its current (newest) version and where that stands."""

    entry: InventoryEntry
    current_version_id: int | None
    verdict: str | None  # the newest policy evaluation of the current version: pass / fail / insufficient
    review_state: str | None  # the current version's newest review that was not superseded
    open_findings: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.entry.to_dict(),
            "current_version_id": self.current_version_id,
            "verdict": self.verdict,
            "review_state": self.review_state,
            "open_findings": self.open_findings,
        }


@dataclass(frozen=True)
class PortfolioCounts:
    """The portfolio's headline numbers; "overdue" and "due soon" count revalidations and open conditions."""

    models: int
    overdue: int
    due_soon: int  # due within 30 days and not overdue
    failing: int
    awaiting_sign_off: int

    @classmethod
    def of(cls, rows: Iterable[PortfolioRow]) -> PortfolioCounts:
        rows = list(rows)
        return cls(
            models=len(rows),
            overdue=sum(r.entry.calendar_due is DueState.OVERDUE for r in rows),
            due_soon=sum(r.entry.calendar_due is DueState.DUE_SOON for r in rows),
            failing=sum(r.verdict == "fail" for r in rows),
            awaiting_sign_off=sum(r.review_state == "in_review" for r in rows),
        )
