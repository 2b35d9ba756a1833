"""The audit ledger: the hash chain of ``signoff.domain.audit`` kept in the database.

Appends are serialised so that concurrent writers never fork the chain: every append locks the
single ``audit_head`` row (SQLite already holds its write lock from ``BEGIN IMMEDIATE``). The
database refuses UPDATE and DELETE on events (triggers created by the first migration), and
verification streams the events in order, recomputing every hash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signoff.domain.audit import (
    SESSION_KEY,
    AuditEvent,
    ChainVerdict,
    StoredAuditEvent,
    chain_event,
    verify_chain,
)
from signoff.domain.canonical import canonical_json
from signoff.domain.errors import IntegrityError, NotFoundError
from signoff.storage import guards
from signoff.storage.schema import AuditEventRow, AuditHeadRow

_events = AuditEventRow.__table__
_head = AuditHeadRow.__table__
_COLUMNS = (
    _events.c.sequence,
    _events.c.occurred_at,
    _events.c.actor,
    _events.c.action,
    _events.c.entity,
    _events.c.payload,
    _events.c.previous_hash,
    _events.c.hash,
)
_STREAM_BATCH = 5000


class AuditLedger:
    def __init__(
        self,
        session: Session,
        on_append: Callable[[AuditEvent], None],
        session_facts: dict[str, Any] | None = None,
    ) -> None:
        self._session = session
        self._on_append = on_append
        self._session_facts = session_facts

    def append(
        self,
        *,
        actor: str,
        action: str,
        entity: str,
        payload: dict[str, Any] | None = None,
        with_change: Callable[[StoredAuditEvent], None] | None = None,
    ) -> AuditEvent:
        """Chain one event onto the ledger. Call it last in a transaction: it holds the ledger's lock
        until commit, so the less work after it, the less other writers wait.

        ``with_change`` stores the event together with the change it records, in one step the database
        can check (a grant of roles: ``UserRepository.grant_roles``), instead of the ledger writing it.
        """
        head = select(_head.c.sequence, _head.c.hash).where(_head.c.id == 1)
        if guards.guarded(self._session):
            guards.lock(self._session, "audit_head")
        else:
            head = head.with_for_update()
        head_sequence, head_hash = self._session.execute(head).one()
        previous = None
        if head_sequence:
            previous = self._event(head_sequence)
            if previous is None or previous.hash != head_hash:
                raise IntegrityError(
                    f"the audit log's last event ({head_sequence}) is missing or altered; nothing was "
                    "recorded. Run `signoff audit verify` and restore the database from a backup."
                )
        # Stored payloads are canonical JSON; hash exactly what a later reader will read back.
        payload = dict(payload or {})
        if self._session_facts is not None:
            payload.setdefault(SESSION_KEY, self._session_facts)
        stored_payload = canonical_json(payload).decode("utf-8")
        event = chain_event(
            previous,
            occurred_at=datetime.now(UTC),
            actor=actor,
            action=action,
            entity=entity,
            payload=json.loads(stored_payload),
        )
        stored = StoredAuditEvent(
            event.sequence,
            event.occurred_at,
            event.actor,
            event.action,
            event.entity,
            stored_payload,
            event.previous_hash,
            event.hash,
        )
        if with_change is not None:
            with_change(stored)
        else:
            write_event(self._session, stored)
        self._on_append(event)
        return event

    def head(self) -> AuditEvent | None:
        sequence = self._session.execute(select(_head.c.sequence).where(_head.c.id == 1)).scalar_one()
        return self._event(sequence) if sequence else None

    def get(self, sequence: int) -> AuditEvent:
        event = self._event(sequence)
        if event is None:
            raise NotFoundError(f"there is no audit event {sequence}")
        return event

    def iter_events(self) -> Iterator[AuditEvent]:
        """Every event in sequence order, streamed (a server-side cursor on PostgreSQL)."""
        for stored in self._iter_stored():
            yield _to_event(stored)

    def _iter_stored(self) -> Iterator[StoredAuditEvent]:
        statement = select(*_COLUMNS).order_by(_events.c.sequence).execution_options(yield_per=_STREAM_BATCH)
        for partition in self._session.execute(statement).partitions():
            for row in partition:
                yield StoredAuditEvent(*row)

    def list(
        self,
        *,
        action: str | None = None,
        entity: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        """Matching events, newest first. ``action`` matches a prefix at a dot (``log`` -> ``log.*``);
        ``since`` is inclusive, ``until`` exclusive."""
        statement = select(*_COLUMNS).order_by(_events.c.sequence.desc())
        if since is not None:
            statement = statement.where(_events.c.occurred_at >= since)
        if until is not None:
            statement = statement.where(_events.c.occurred_at < until)
        if action is not None:
            statement = statement.where(
                (_events.c.action == action) | _events.c.action.startswith(f"{action}.")
            )
        if entity is not None:
            statement = statement.where(_events.c.entity == entity)
        if actor is not None:
            statement = statement.where(_events.c.actor == actor)
        if limit is not None:
            statement = statement.limit(limit)
        return [_to_event(StoredAuditEvent(*row)) for row in self._session.execute(statement)]

    def actors(self) -> list[str]:
        """Everyone who has an event, by name."""
        return sorted(self._session.scalars(select(_events.c.actor).distinct()))

    def verify(
        self,
        *,
        visit: Callable[[AuditEvent], None] | None = None,
        wanted: Callable[[str, str], bool] | None = None,
    ) -> ChainVerdict:
        """Recompute the chain, then check it ends where the recorded head says it does.

        ``visit`` sees each event as the chain is read, so a caller that needs the events too (the
        report's audit excerpt) reads the log once. It stops where a broken chain stops the check.
        With ``wanted(action, entity)``, it sees only the events that returns True for (the others'
        payloads are never parsed, which is most of the cost).
        """
        stored = self._iter_stored()
        if visit is not None:
            stored = _visiting(stored, visit, wanted)
        verdict = verify_chain(stored)
        if not verdict.ok:
            return verdict
        head_sequence, head_hash = self._session.execute(
            select(_head.c.sequence, _head.c.hash).where(_head.c.id == 1)
        ).one()
        checked = verdict.events_checked
        if head_sequence > checked:
            return ChainVerdict(
                False,
                checked,
                verdict.head_hash,
                checked + 1,
                f"the log ends at event {checked} but event {head_sequence} was recorded: "
                "events were removed from the end",
            )
        if head_sequence < checked:
            return ChainVerdict(
                False,
                checked,
                verdict.head_hash,
                head_sequence + 1,
                f"events after {head_sequence} were added outside Signoff",
            )
        if head_hash != verdict.head_hash:
            return ChainVerdict(
                False,
                checked,
                verdict.head_hash,
                head_sequence,
                "the last event is not the one Signoff recorded (replaced)",
            )
        return verdict

    def _event(self, sequence: int) -> AuditEvent | None:
        row = self._session.execute(select(*_COLUMNS).where(_events.c.sequence == sequence)).first()
        return None if row is None else _to_event(StoredAuditEvent(*row))


def write_event(session: Session, event: StoredAuditEvent) -> None:
    """Insert a chained event and move the head to it (on PostgreSQL one function, which checks that
    the event follows the head: members may neither UPDATE the head nor INSERT events by hand)."""
    fields = (
        event.sequence,
        event.occurred_at,
        event.actor,
        event.action,
        event.entity,
        event.payload_json,
        event.previous_hash,
        event.hash,
    )
    if guards.guarded(session):
        guards.call(session, "signoff_append_audit_event", *fields)
        return
    session.execute(_events.insert().values(dict(zip((c.name for c in _COLUMNS), fields, strict=True))))
    session.execute(update(_head).where(_head.c.id == 1).values(sequence=event.sequence, hash=event.hash))


def _to_event(stored: StoredAuditEvent) -> AuditEvent:
    try:
        content = json.loads(stored.payload_json)
    except ValueError:
        # Text that is not JSON was written behind Signoff's back; keep it so the hash check names it.
        content = {"unreadable payload": stored.payload_json}
    return AuditEvent(
        sequence=stored.sequence,
        occurred_at=stored.occurred_at,
        actor=stored.actor,
        action=stored.action,
        entity=stored.entity,
        payload=content,
        previous_hash=stored.previous_hash,
        hash=stored.hash,
    )


def _visiting(
    events: Iterator[StoredAuditEvent],
    visit: Callable[[AuditEvent], None],
    wanted: Callable[[str, str], bool] | None,
) -> Iterator[StoredAuditEvent]:
    for stored in events:
        if wanted is None or wanted(stored.action, stored.entity):
            visit(_to_event(stored))
        yield stored
