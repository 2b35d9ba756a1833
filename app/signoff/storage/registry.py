"""Registry snapshots, the records of each model version in them, and the history between them.

A snapshot row points at its full content, kept as evidence (canonical JSON, by SHA-256); each model
version it saw gets a record row (lineage, files, card) linked to the ``model_version`` row everything
else hangs on; the changes found against the previous snapshot of the same source are history rows.
Everything is handed upward as domain objects or plain dicts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from signoff.domain.audit import format_utc
from signoff.domain.canonical import canonical_json
from signoff.domain.registry import ModelVersion
from signoff.domain.registry_history import RegistryChange, SnapshotInfo
from signoff.domain.registry_snapshot import RegistrySnapshot
from signoff.storage import guards
from signoff.storage.registry_tables import RegistryChangeRow, RegistryRecordRow, RegistrySnapshotRow
from signoff.storage.schema import ModelVersionRow


class RegistryRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def latest_snapshot(self, source_kind: str, source_uri: str) -> SnapshotInfo | None:
        row = self._session.scalars(
            select(RegistrySnapshotRow)
            .where(
                RegistrySnapshotRow.source_kind == source_kind, RegistrySnapshotRow.source_uri == source_uri
            )
            .order_by(RegistrySnapshotRow.taken_at.desc(), RegistrySnapshotRow.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _stored(row)

    def add_snapshot(
        self, snapshot: RegistrySnapshot, *, content_sha256: str, changes: int, imported_by: str
    ) -> SnapshotInfo:
        row = RegistrySnapshotRow(
            source_kind=snapshot.source_kind,
            source_uri=snapshot.source_uri,
            taken_at=snapshot.taken_at,
            scope=None if snapshot.scope is None else list(snapshot.scope),
            content_sha256=content_sha256,
            models=len(snapshot.models),
            versions=snapshot.version_count,
            changes=changes,
            request_count=snapshot.request_count,
            imported_at=datetime.now(UTC),
            imported_by=imported_by,
        )
        self._session.add(row)
        self._session.flush()
        return _stored(row)

    def find_or_add_version(
        self, *, name: str, version: str, description: str, source: str, registry: dict[str, Any]
    ) -> tuple[ModelVersion, bool]:
        """The ``model_version`` row for a version the registry reported, created on first sight.

        ``registry`` (where it came from, stage, aliases, run, latest snapshot) replaces the row's
        ``attributes["registry"][source]`` so listings show each source's latest state; the description
        follows the registry unless it is empty there.
        """
        row = self._session.scalars(
            select(ModelVersionRow).where(ModelVersionRow.name == name, ModelVersionRow.version == version)
        ).first()
        created = row is None
        if row is None:
            row = ModelVersionRow(
                name=name,
                version=version,
                description=description,
                source=source,
                created_at=datetime.now(UTC),
                attributes={"registry": {source: registry}},
            )
            self._session.add(row)
        else:
            sources = dict(row.attributes.get("registry", {}))
            sources[source] = registry
            self._refresh(row, {**dict(row.attributes), "registry": sources}, description or row.description)
        self._session.flush()
        return (
            ModelVersion(
                id=row.id,
                name=row.name,
                version=row.version,
                description=row.description,
                source=row.source,
                created_at=row.created_at,
                attributes=dict(row.attributes),
            ),
            created,
        )

    def mark_gone(self, *, name: str, version: str | None, source: str, seen_by: datetime) -> None:
        """Note on the version (or every version of model ``name``) that ``source`` no longer has it."""
        statement = select(ModelVersionRow).where(ModelVersionRow.name == name)
        if version is not None:
            statement = statement.where(ModelVersionRow.version == version)
        for row in self._session.scalars(statement):
            sources = dict(row.attributes.get("registry", {}))
            if source in sources:
                sources[source] = {**sources[source], "deleted": True, "gone_by": format_utc(seen_by)}
                self._refresh(row, {**dict(row.attributes), "registry": sources}, row.description)
        self._session.flush()

    def _refresh(self, row: ModelVersionRow, attributes: dict[str, Any], description: str) -> None:
        """Store what the registry now says about a version (name, version and source stay)."""
        if guards.guarded(self._session):
            guards.call(
                self._session,
                "signoff_update_model_version",
                row.id,
                description,
                canonical_json(attributes).decode("utf-8"),
            )
            # The row now matches the database: make the ORM see it so, without an UPDATE of its own.
            set_committed_value(row, "attributes", attributes)
            set_committed_value(row, "description", description)
            return
        row.attributes, row.description = attributes, description

    def add_record(self, *, snapshot_id: int, model_version_id: int, record: dict[str, Any]) -> None:
        self._session.add(
            RegistryRecordRow(snapshot_id=snapshot_id, model_version_id=model_version_id, record=record)
        )

    def add_changes(
        self, *, snapshot_id: int, previous_snapshot_id: int | None, changes: list[RegistryChange]
    ) -> None:
        self._session.add_all(
            RegistryChangeRow(
                snapshot_id=snapshot_id,
                previous_snapshot_id=previous_snapshot_id,
                kind=change.kind,
                model=change.model,
                version=change.version,
                subject=change.subject,
                before=change.before,
                after=change.after,
                seen_after=change.seen_after,
                seen_by=change.seen_by,
            )
            for change in changes
        )
        self._session.flush()

    def history(self, name: str) -> list[RegistryChange]:
        """Every change recorded for model ``name``, oldest first."""
        rows = self._session.scalars(
            select(RegistryChangeRow)
            .where(RegistryChangeRow.model == name)
            .order_by(RegistryChangeRow.seen_by, RegistryChangeRow.id)
        )
        return [
            RegistryChange(
                kind=row.kind,
                model=row.model,
                version=row.version,
                subject=row.subject,
                before=row.before,
                after=row.after,
                seen_after=row.seen_after,
                seen_by=row.seen_by,
            )
            for row in rows
        ]

    def latest_snapshots(self) -> list[SnapshotInfo]:
        """The newest snapshot of every source (kind and URI), oldest source first."""
        rows = self._session.scalars(
            select(RegistrySnapshotRow).order_by(RegistrySnapshotRow.taken_at, RegistrySnapshotRow.id)
        )
        latest: dict[tuple[str, str], SnapshotInfo] = {}
        for row in rows:
            latest[(row.source_kind, row.source_uri)] = _stored(row)
        return list(latest.values())

    def all_snapshots(self) -> list[SnapshotInfo]:
        """Every snapshot, oldest first."""
        rows = self._session.scalars(
            select(RegistrySnapshotRow).order_by(RegistrySnapshotRow.taken_at, RegistrySnapshotRow.id)
        )
        return [_stored(row) for row in rows]

    def snapshots_of(self, name: str) -> list[SnapshotInfo]:
        """Snapshots that saw a version of model ``name``, oldest first."""
        rows = self._session.scalars(
            select(RegistrySnapshotRow)
            .join(RegistryRecordRow, RegistryRecordRow.snapshot_id == RegistrySnapshotRow.id)
            .join(ModelVersionRow, ModelVersionRow.id == RegistryRecordRow.model_version_id)
            .where(ModelVersionRow.name == name)
            .distinct()
            .order_by(RegistrySnapshotRow.taken_at, RegistrySnapshotRow.id)
        )
        return [_stored(row) for row in rows]

    def records(self, model_version_id: int) -> list[tuple[SnapshotInfo, dict[str, Any]]]:
        """Each record of one model version with the snapshot it came from, newest first."""
        rows = self._session.execute(
            select(RegistryRecordRow, RegistrySnapshotRow)
            .join(RegistrySnapshotRow, RegistrySnapshotRow.id == RegistryRecordRow.snapshot_id)
            .where(RegistryRecordRow.model_version_id == model_version_id)
            .order_by(RegistrySnapshotRow.taken_at.desc(), RegistrySnapshotRow.id.desc())
        ).all()
        return [(_stored(snapshot), dict(record.record)) for record, snapshot in rows]


def _stored(row: RegistrySnapshotRow) -> SnapshotInfo:
    return SnapshotInfo(
        id=row.id,
        source_kind=row.source_kind,
        source_uri=row.source_uri,
        taken_at=row.taken_at,
        content_sha256=row.content_sha256,
        models=row.models,
        versions=row.versions,
        changes=row.changes,
        imported_at=row.imported_at,
        imported_by=row.imported_by,
    )
