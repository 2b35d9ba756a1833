"""The audit log as a use case: verify the whole chain, list events with filters, worded for a reader,
and export the filtered events as CSV or PDF."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signoff import __version__
from signoff.domain.audit import AuditEvent, ChainVerdict, format_utc
from signoff.domain.audit_wording import describe, event_kind
from signoff.domain.canonical import canonical_json
from signoff.domain.errors import InputError
from signoff.storage import Database


def verify_audit_log(db: Database) -> ChainVerdict:
    """Recompute every hash in order; the verdict names the first event that does not fit."""
    with db.transaction(write=False) as uow:
        return uow.audit.verify()


def list_audit_events(
    db: Database,
    *,
    action: str | None = None,
    entity: str | None = None,
    actor: str | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """Events newest first. ``action`` also matches the group before a dot (``log`` -> ``log.imported``)."""
    with db.transaction(write=False) as uow:
        return uow.audit.list(action=action, entity=entity, actor=actor, limit=limit)


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show: a time range (``since`` inclusive, ``until`` exclusive), an actor, an event
    kind (the action's first word, ``review``) and a registered model's name; None means any."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    kind: str | None = None
    model: str | None = None

    def described(self) -> list[tuple[str, str]]:
        """The filter in words, for an export's header."""
        return [
            ("From (UTC)", format_utc(self.since) if self.since else "the first event"),
            ("Until (UTC, exclusive)", format_utc(self.until) if self.until else "the last event"),
            ("Actor", self.actor or "anyone"),
            ("Event kind", event_kind(self.kind) if self.kind else "every kind"),
            ("Model", self.model or "every model"),
        ]


@dataclass(frozen=True)
class AuditLine:
    """One event as a reader sees it: the actor's printed name and the details in words."""

    event: AuditEvent
    printed_name: str
    kind: str
    details: str


def find_audit_events(db: Database, query: AuditFilter, *, limit: int | None = None) -> list[AuditLine]:
    """Events matching ``query``, newest first, worded for a reader."""
    with db.transaction(write=False) as uow:
        events = uow.audit.list(
            action=query.kind,
            actor=query.actor,
            since=query.since,
            until=query.until,
            limit=None if query.model else limit,
        )
        if query.model:
            concerns = _about_model(uow, query.model)
            events = [e for e in events if concerns(e)][:limit]
        names = {u.username: u.full_name for u in uow.users.list()}
    return [
        AuditLine(
            event=e,
            printed_name=names.get(e.actor, ""),
            kind=event_kind(e.action),
            details=describe(e),
        )
        for e in events
    ]


def audit_actors(db: Database) -> list[str]:
    with db.transaction(write=False) as uow:
        return uow.audit.actors()


def _about_model(uow: Any, name: str) -> Callable[[AuditEvent], bool]:
    """Whether an event is about model ``name``: one of its versions, their reviews, logs, analyses,
    waivers and policy checks (found through the version each records), or its registry history."""
    ids = {v.id for v in uow.models.list(name=name)}
    entities = {f"model_version:{i}" for i in ids} | {f"registered_model:{name}"}
    for version_id in ids:
        entities |= {f"review:{r.id}" for r in uow.reviews.list(model_version_id=version_id)}

    def concerns(event: AuditEvent) -> bool:
        if event.entity in entities:
            return True
        payload = event.payload if isinstance(event.payload, dict) else {}
        version = payload.get("model_version")
        return payload.get("model_version_id") in ids or (
            isinstance(version, dict) and version.get("id") in ids
        )

    return concerns


AUDIT_CSV_COLUMNS = (
    "sequence",
    "time_utc",
    "actor",
    "printed_name",
    "kind",
    "action",
    "entity",
    "details",
    "payload_json",
    "hash",
)


def export_audit_events(lines: list[AuditLine], query: AuditFilter, out: Path, *, by: str) -> Path:
    """Write the events as CSV (``.csv``) or PDF (``.pdf``, by the suffix of ``out``); return ``out``.

    The CSV keeps the canonical payload beside the words, so nothing an auditor may need is lost.
    """
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".pdf"):
        raise InputError(f"{out.name}: the audit trail exports to a .csv or .pdf file; choose one of those")
    temporary = out.with_name(f".{out.name}.partial")
    try:
        if suffix == ".csv":
            with temporary.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(AUDIT_CSV_COLUMNS)
                for line in lines:
                    e = line.event
                    writer.writerow(
                        [
                            e.sequence,
                            format_utc(e.occurred_at),
                            e.actor,
                            line.printed_name,
                            line.kind,
                            e.action,
                            e.entity,
                            line.details,
                            canonical_json(e.payload).decode("utf-8"),
                            e.hash,
                        ]
                    )
        else:
            from signoff.reporting.audit_trail import AuditTrailRow, build_audit_trail_report
            from signoff.reporting.pdf import render_pdf

            report = build_audit_trail_report(
                [
                    AuditTrailRow(
                        sequence=line.event.sequence,
                        occurred_at=line.event.occurred_at,
                        actor=line.event.actor,
                        printed_name=line.printed_name,
                        action=line.event.action,
                        entity=line.event.entity,
                        details=line.details,
                        hash=line.event.hash,
                    )
                    for line in lines
                ],
                query.described(),
                generated_at=datetime.now(UTC),
                generated_by=by,
                signoff_version=__version__,
            )
            render_pdf(report, temporary)
        temporary.replace(out)
    except OSError as error:
        raise InputError(f"{out}: the audit trail could not be written ({error.strerror or error})") from None
    finally:
        temporary.unlink(missing_ok=True)
    return out
