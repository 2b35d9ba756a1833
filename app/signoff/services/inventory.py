"""The model inventory as use cases: set fields, assess and override the risk tier, list what is due.

Each change is one transaction that re-reads the record, checks the new values (fields, choices, owner
accounts), writes the record naming the revision it read, and appends an ``inventory.*`` audit event with
what changed. The review calendar follows from the tier's interval and the model's latest approval, and
lists the due dates of its open conditions (obligations set by approvals with conditions).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from signoff.domain.canonical import canonical_json
from signoff.domain.errors import InputError, NotFoundError
from signoff.domain.inventory import (
    EXPORT_FORMATS,
    FIELDS,
    FIELDS_BY_NAME,
    DueState,
    FieldKind,
    InventoryEntry,
    InventoryField,
    InventoryRecord,
    OpenCondition,
    PortfolioRow,
    Proposal,
    apply_changes,
    check_value,
    effective_tier,
    effective_values,
    inventory_entry,
    parse_tier,
    proposals_from_registry,
)
from signoff.domain.users import Role, User, check_has_role
from signoff.services.identity import actor_or_login
from signoff.storage import Database, UnitOfWork

ASSESSMENT_MEDIA_TYPE = "application/vnd.signoff.risk-assessment+json"
LL144_ACTION = "document.ll144"  # a bias-audit summary produced (services/documents.py)


def _now() -> datetime:
    return datetime.now(UTC)


def _entity(name: str, version: str | None = None) -> str:
    return f"inventory:{name}" if version is None else f"inventory:{name}@{version}"


def inventory_fields() -> tuple[InventoryField, ...]:
    return FIELDS


@dataclass(frozen=True)
class VersionInventory:
    version: str
    model_version_id: int
    record: InventoryRecord | None  # only what this version sets differently from the model
    values: Mapping[str, Any]  # the effective record
    datasets: tuple[Mapping[str, Any], ...]  # lineage: datasets the registry import recorded

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "model_version_id": self.model_version_id,
            "own_values": {} if self.record is None else dict(self.record.to_dict()["values"]),
            "values": {k: self.values[k] for k in FIELDS_BY_NAME if k in self.values},
            "datasets": [dict(d) for d in self.datasets],
        }


@dataclass(frozen=True)
class InventoryView:
    model: str
    record: InventoryRecord | None
    entry: InventoryEntry
    versions: tuple[VersionInventory, ...]
    # The newest NYC LL144 bias audit of each version that has one: dates, validity, the run it cites.
    ll144_audits: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.entry.to_dict(),
            "record": None if self.record is None else self.record.to_dict(),
            "version_records": [v.to_dict() for v in self.versions],
            "ll144_audits": [dict(a) for a in self.ll144_audits],
        }


def _version_ids(uow: UnitOfWork, name: str, version: str | None) -> list[tuple[int, str]]:
    versions = uow.inventory.model_names().get(name, [])
    if not versions:
        raise NotFoundError(
            f"no model named {name!r} is registered; add a version with `signoff models add` or import it"
        )
    if version is not None and version not in {v for _, v in versions}:
        known = ", ".join(v for _, v in versions)
        raise NotFoundError(f"model {name!r} has no version {version!r}; its versions: {known}")
    return versions


def _check_accounts(uow: UnitOfWork, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        if value is None or FIELDS_BY_NAME[name].kind is not FieldKind.ACCOUNT:
            continue
        user = uow.users.find(value)
        if user is None:
            known = ", ".join(uow.users.usernames()) or "none yet"
            raise InputError(
                f"{name} must be a Signoff account; there is no account {value!r} (accounts: {known})"
            )
        if user.disabled:
            raise InputError(f"{name} cannot be {value!r}: that account is disabled")


def _write(
    uow: UnitOfWork,
    name: str,
    version: str | None,
    changes: Mapping[str, Any],
    who: str,
    *,
    source: Any = None,
) -> None:
    _check_accounts(uow, changes)
    record = uow.inventory.get(name, version, for_update=True) or InventoryRecord(name, version)
    values, history, diff = apply_changes(record, changes, by=who, today=_now().date())
    if not diff:
        raise InputError(
            f"the inventory of {_label(name, version)} already reads like that: nothing to change"
        )
    now = _now()
    uow.inventory.save(replace(record, values=values, stage_history=history), at=now, by=who)
    payload: dict[str, Any] = {"model": name, "version": version, "changes": diff}
    if source is not None:
        payload["accepted_from"] = source
    uow.audit.append(actor=who, action="inventory.updated", entity=_entity(name, version), payload=payload)


def _label(name: str, version: str | None) -> str:
    return name if version is None else f"{name} v{version}"


def set_fields(
    db: Database,
    name: str,
    assignments: Mapping[str, str],
    *,
    version: str | None = None,
    actor: str | None = None,
) -> InventoryView:
    """Set inventory fields of model ``name`` (or of one ``version`` where it differs); "" clears one."""
    changes = {field: check_value(field, text) for field, text in assignments.items()}
    who = actor_or_login(actor)
    with db.transaction() as uow:
        _version_ids(uow, name, version)
        _write(uow, name, version, changes, who)
    return show_inventory(db, name)


def assess_risk(
    db: Database,
    name: str,
    answers: Mapping[str, str],
    *,
    rubric: str | Path | None = None,
    actor: str | None = None,
) -> InventoryView:
    """Score the rubric's answers into a tier; the answers and the rubric's hash are stored as evidence.

    A new assessment replaces any earlier override (which stays in the audit log).
    """
    from signoff.importers.risk_rubric import load_rubric  # YAML only when assessing

    loaded, _ = load_rubric(rubric)
    assessment = loaded.assess(answers)
    who = actor_or_login(actor)
    with db.transaction() as uow:
        _version_ids(uow, name, None)
        record = uow.inventory.get(name, for_update=True) or InventoryRecord(name)
        now = _now()
        evidence = {**assessment.to_dict(), "model": name, "assessed_by": who, "assessed_at": now.isoformat()}
        sha = uow.evidence.put_bytes(canonical_json(evidence), media_type=ASSESSMENT_MEDIA_TYPE)
        risk = {
            "assessment": assessment.to_dict(),
            "evidence_sha256": sha,
            "assessed_by": who,
            "assessed_at": now.isoformat(),
            "intervals": {str(t.tier): t.review_interval_months for t in loaded.tiers},
            "override": None,
        }
        before, _ = effective_tier(record.risk)
        uow.inventory.save(replace(record, risk=risk), at=now, by=who)
        uow.audit.append(
            actor=who,
            action="inventory.risk_assessed",
            entity=_entity(name),
            payload={
                "model": name,
                "assessment": assessment.to_dict(),
                "evidence_sha256": sha,
                "tier_before": before,
                "override_cleared": bool(record.risk and record.risk.get("override")),
            },
        )
    return show_inventory(db, name)


def override_tier(
    db: Database, actor: User | str, name: str, tier: int | str, *, justification: str
) -> InventoryView:
    """Set a tier other than the rubric's; only an approver may, and only with a justification."""
    number = parse_tier(tier) if isinstance(tier, str) else tier
    if not justification.strip():
        raise InputError("overriding a risk tier needs a justification")
    with db.transaction() as uow:
        _version_ids(uow, name, None)
        approver = uow.users.get(actor if isinstance(actor, str) else actor.username)
        check_has_role(approver, Role.APPROVER, "override a risk tier")
        record = uow.inventory.get(name, for_update=True)
        if record is None or not record.risk:
            raise InputError(
                f"{name} has no risk assessment yet: assess it with the rubric before overriding"
            )
        if str(number) not in record.risk.get("intervals", {}):
            known = ", ".join(record.risk.get("intervals", {}))
            raise InputError(f"the rubric has no tier {number}; its tiers are {known}")
        now = _now()
        override = {
            "tier": number,
            "justification": justification.strip(),
            "by": approver.username,
            "at": now.isoformat(),
        }
        before, _ = effective_tier(record.risk)
        uow.inventory.save(
            replace(record, risk={**record.risk, "override": override}), at=now, by=approver.username
        )
        uow.audit.append(
            actor=approver.username,
            action="inventory.tier_overridden",
            entity=_entity(name),
            payload={"model": name, "tier_before": before, **override},
        )
    return show_inventory(db, name)


def training_datasets(uow: UnitOfWork, model_version_id: int) -> tuple[dict[str, Any], ...]:
    for info, record in uow.registry.records(model_version_id):  # newest first
        run = record.get("run") or {}
        if run.get("datasets"):
            return tuple(
                {**d, "snapshot_id": info.id, "run_id": run.get("run_id", "")} for d in run["datasets"]
            )
    return ()


def show_inventory(db: Database, name: str, *, today: date | None = None) -> InventoryView:
    with db.transaction(write=False) as uow:
        versions = _version_ids(uow, name, None)
        records = {r.version: r for r in uow.inventory.records_of(name)}
        model_record = records.get(None)
        last = uow.inventory.last_approvals(name).get(name)
        entry = inventory_entry(
            name,
            [v for _, v in versions],
            model_record,
            last,
            today=today or _now().date(),
            conditions=uow.inventory.open_conditions(name),
        )
        per_version = tuple(
            VersionInventory(
                version=v,
                model_version_id=vid,
                record=records.get(v),
                values=effective_values(model_record, records.get(v)),
                datasets=training_datasets(uow, vid),
            )
            for vid, v in versions
        )
        audits: dict[str, dict[str, Any]] = {}
        for event in uow.audit.list(action=LL144_ACTION, entity=_entity(name)):  # newest first
            payload = event.payload
            audits.setdefault(
                payload["version"],
                {
                    **{k: payload[k] for k in ("version", "log_id", "run_id", "audit_date", "valid_until")},
                    "distribution_date": payload["distribution_date"],
                    "valid": date.fromisoformat(payload["valid_until"]) >= (today or _now().date()),
                },
            )
    return InventoryView(name, model_record, entry, per_version, tuple(audits[v] for v in sorted(audits)))


def version_inventory(uow: UnitOfWork, name: str, version: str) -> dict[str, Any] | None:
    """A version's effective record as a review's evidence bundle holds it (None when nothing is recorded)."""
    model_record = uow.inventory.get(name)
    version_record = uow.inventory.get(name, version)
    if model_record is None and version_record is None:
        return None
    tier, _ = effective_tier(model_record.risk if model_record else None)
    return {
        "values": effective_values(model_record, version_record),
        "stage_history": [s.to_dict() for s in (model_record.stage_history if model_record else ())],
        "risk_tier": tier,
        "revisions": {
            "model": model_record.revision if model_record else 0,
            "version": version_record.revision if version_record else 0,
        },
    }


def _by_model(conditions: Iterable[OpenCondition]) -> dict[str, list[OpenCondition]]:
    found: dict[str, list[OpenCondition]] = {}
    for condition in conditions:
        found.setdefault(condition.model, []).append(condition)
    return found


def list_inventory(
    db: Database,
    *,
    overdue: bool = False,
    due_within: int | None = None,
    today: date | None = None,
) -> list[InventoryEntry]:
    """Every registered model with its record, review dates and open conditions; ``overdue`` /
    ``due_within`` make it the review calendar.

    The calendar keeps a model when its revalidation or one of its open conditions (an approval's
    dated obligation) is due: ``due_within=N`` in the next N days or already overdue. Each kept entry
    lists only the conditions that are due in that sense.
    """
    if due_within is not None and due_within < 0:
        raise InputError("the number of days ahead must be zero or more")
    today = today or _now().date()
    with db.transaction(write=False) as uow:
        models = uow.inventory.model_names()
        records = {r.model: r for r in uow.inventory.all_records() if r.version is None}
        approvals = uow.inventory.last_approvals()
        conditions = _by_model(uow.inventory.open_conditions())
    entries = [
        inventory_entry(
            name,
            [v for _, v in versions],
            records.get(name),
            approvals.get(name),
            today=today,
            within_days=30 if due_within is None else due_within,
            conditions=conditions.get(name, ()),
        )
        for name, versions in sorted(models.items())
    ]
    if overdue or due_within is not None:
        wanted = {DueState.OVERDUE} if overdue else {DueState.OVERDUE, DueState.DUE_SOON}
        entries = [
            replace(e, conditions=tuple(c for c in e.conditions if c.state in wanted))
            for e in entries
            if e.calendar_due in wanted
        ]
    return entries


def _registry_records(
    uow: UnitOfWork, versions: Iterable[tuple[int, str]]
) -> list[tuple[str, str, Mapping[str, Any]]]:
    found = []
    for version_id, version in versions:
        for info, record in uow.registry.records(version_id):  # newest first
            found.append((f"{info.source_kind} snapshot {info.id} (v{version})", info.source_kind, record))
    return found


def proposals(db: Database, name: str, *, version: str | None = None) -> list[Proposal]:
    """What the registry imports (model cards, MLflow, SageMaker) offer for fields that differ now.

    For the model's record the newest version's registry records are read; for a version, its own.
    """
    with db.transaction(write=False) as uow:
        return _proposals(uow, name, version)


def _proposals(uow: UnitOfWork, name: str, version: str | None) -> list[Proposal]:
    versions = _version_ids(uow, name, version)
    chosen = [v for v in versions if v[1] == version] if version is not None else versions[::-1]
    current = effective_values(uow.inventory.get(name), uow.inventory.get(name, version) if version else None)
    return proposals_from_registry(_registry_records(uow, chosen), current)


def accept_proposals(
    db: Database,
    name: str,
    fields: Iterable[str] | None = None,
    *,
    version: str | None = None,
    actor: str | None = None,
) -> InventoryView:
    """Accept the proposals for ``fields`` (default: all of them) into the record, citing their sources."""
    who = actor_or_login(actor)
    with db.transaction() as uow:
        offered = {p.field: p for p in _proposals(uow, name, version)}
        wanted = list(offered) if fields is None else list(fields)
        for field in wanted:
            if field not in FIELDS_BY_NAME:
                raise InputError(
                    f"unknown inventory field {field!r}; known fields: {', '.join(FIELDS_BY_NAME)}"
                )
            if field not in offered:
                raise InputError(f"there is no proposal for {field}: nothing to accept")
        if not wanted:
            raise InputError(
                f"no proposals for {_label(name, version)}: the record already agrees with the registry"
            )
        changes = {f: offered[f].value for f in wanted}
        _write(uow, name, version, changes, who, source={f: offered[f].source for f in wanted})
    return show_inventory(db, name)


EXPORT_COLUMNS = (
    "model",
    "versions",
    "current_version",
    *(f.name for f in FIELDS),
    "tier",
    "tier_overridden",
    "last_approval",
    "next_review_due",
    "due",
    "open_conditions",
)


def export_rows(entries: Iterable[InventoryEntry]) -> list[list[Any]]:
    rows = []
    for entry in entries:
        data = entry.to_dict()
        values = data["values"]
        rows.append(
            [data[c] if c in data and c not in FIELDS_BY_NAME else values.get(c) for c in EXPORT_COLUMNS]
        )
    return rows


def export_inventory(db: Database, *, format: str, out: str | Path) -> Path:
    """Write the inventory list to ``out`` as CSV or an Excel workbook; returns the path written."""
    if format not in EXPORT_FORMATS:
        raise InputError(
            f"cannot export the inventory as {format!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )
    rows = export_rows(list_inventory(db))
    path = Path(out)
    try:
        if format == "csv":
            with path.open("w", newline="", encoding="utf-8") as stream:
                writer = csv.writer(stream)
                writer.writerow(EXPORT_COLUMNS)
                writer.writerows([[_cell_text(v) for v in row] for row in rows])
        else:
            _write_xlsx(path, rows)
    except OSError as error:
        raise InputError(f"cannot write the inventory export: {error.strerror}", file=str(path)) from None
    return path


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    # A spreadsheet would run a cell starting with one of these as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write_xlsx(path: Path, rows: list[list[Any]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Inventory")
    sheet.append(list(EXPORT_COLUMNS))
    for row in rows:
        # Strings are written as text cells (never formulas); numbers stay numbers.
        sheet.append([v if isinstance(v, int) and not isinstance(v, bool) else _cell_text(v) for v in row])
    book.save(path)


def portfolio(db: Database, *, today: date | None = None) -> list[PortfolioRow]:
    """Every model with its record, tier, review dates, open conditions and its current version's verdict
    and review.

    A fixed number of queries however many models there are (benchmarks/portfolio.py).
    """
    today = today or _now().date()
    with db.transaction(write=False) as uow:
        models = uow.inventory.model_names()
        records = {r.model: r for r in uow.inventory.all_records() if r.version is None}
        approvals = uow.inventory.last_approvals()
        current = {name: versions[-1][0] for name, versions in models.items()}
        states = uow.inventory.current_version_states()
        conditions = _by_model(uow.inventory.open_conditions())
    rows = []
    for name, versions in sorted(models.items()):
        state = states.get(current[name], {})
        rows.append(
            PortfolioRow(
                entry=inventory_entry(
                    name,
                    [v for _, v in versions],
                    records.get(name),
                    approvals.get(name),
                    today=today,
                    conditions=conditions.get(name, ()),
                ),
                current_version_id=current[name],
                verdict=state.get("verdict"),
                review_state=state.get("review_state"),
                open_findings=state.get("open_findings", 0),
            )
        )
    return rows
