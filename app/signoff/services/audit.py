"""The audit log as a use case: verify the whole chain, list events with filters."""

from __future__ import annotations

from signoff.domain.audit import AuditEvent, ChainVerdict
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
