"""Registry history: what changed between two snapshots of the same registry.

MLflow overwrites aliases, stages and tags in place and remembers nothing, so Signoff compares each
import with the previous one of the same source. A change cannot be dated more exactly than "after the
earlier snapshot and by the later one": every ``RegistryChange`` carries both times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signoff.domain.audit import format_utc
from signoff.domain.registry_snapshot import (
    ModelVersionRecord,
    RegisteredModelRecord,
    RegistrySnapshot,
    time_from_text,
)

# Change kinds, dotted like audit actions: what the change is about, then what happened.
MODEL_ADDED = "model.added"
MODEL_DELETED = "model.deleted"
MODEL_DESCRIPTION_CHANGED = "model.description_changed"
MODEL_TAG_ADDED = "model.tag_added"
MODEL_TAG_CHANGED = "model.tag_changed"
MODEL_TAG_REMOVED = "model.tag_removed"
ALIAS_ADDED = "alias.added"
ALIAS_MOVED = "alias.moved"
ALIAS_REMOVED = "alias.removed"
VERSION_ADDED = "version.added"
VERSION_DELETED = "version.deleted"
VERSION_DESCRIPTION_CHANGED = "version.description_changed"
VERSION_STAGE_CHANGED = "version.stage_changed"
VERSION_STATUS_CHANGED = "version.status_changed"
VERSION_APPROVAL_CHANGED = "version.approval_changed"
VERSION_TAG_ADDED = "version.tag_added"
VERSION_TAG_CHANGED = "version.tag_changed"
VERSION_TAG_REMOVED = "version.tag_removed"
VERSION_ARTIFACT_CHANGED = "version.artifact_changed"
RUN_METRIC_CHANGED = "run.metric_changed"

CHANGE_KINDS = (
    MODEL_ADDED,
    MODEL_DELETED,
    MODEL_DESCRIPTION_CHANGED,
    MODEL_TAG_ADDED,
    MODEL_TAG_CHANGED,
    MODEL_TAG_REMOVED,
    ALIAS_ADDED,
    ALIAS_MOVED,
    ALIAS_REMOVED,
    VERSION_ADDED,
    VERSION_DELETED,
    VERSION_DESCRIPTION_CHANGED,
    VERSION_STAGE_CHANGED,
    VERSION_STATUS_CHANGED,
    VERSION_APPROVAL_CHANGED,
    VERSION_TAG_ADDED,
    VERSION_TAG_CHANGED,
    VERSION_TAG_REMOVED,
    VERSION_ARTIFACT_CHANGED,
    RUN_METRIC_CHANGED,
)


@dataclass(frozen=True)
class RegistryChange:
    """One change, seen after ``seen_after`` (the earlier snapshot) and by ``seen_by`` (the later one).

    ``subject`` names what changed inside the model or version: an alias, a tag key, a metric, a file.
    ``before``/``after`` are text (``None`` when the thing did not exist on that side).
    """

    kind: str
    model: str
    version: str | None
    subject: str
    before: str | None
    after: str | None
    seen_after: datetime
    seen_by: datetime

    @property
    def summary(self) -> str:
        """One line a reviewer reads, e.g. ``alias champion moved v3 -> v4``."""
        where = self.model if self.version is None else f"{self.model} v{self.version}"
        before = "(none)" if self.before is None else self.before
        after = "(none)" if self.after is None else self.after
        if self.kind == ALIAS_MOVED:
            return f"{self.model}: alias {self.subject} moved v{self.before} -> v{self.after}"
        if self.kind == ALIAS_ADDED:
            return f"{self.model}: alias {self.subject} set to v{self.after}"
        if self.kind == ALIAS_REMOVED:
            return f"{self.model}: alias {self.subject} removed (was v{self.before})"
        if self.kind in (MODEL_ADDED, VERSION_ADDED):
            return f"{where}: added"
        if self.kind in (MODEL_DELETED, VERSION_DELETED):
            return f"{where}: deleted"
        if self.kind.endswith("tag_added"):
            return f"{where}: tag {self.subject}={after} added"
        if self.kind.endswith("tag_removed"):
            return f"{where}: tag {self.subject} removed (was {before})"
        return f"{where}: {self.subject} changed {before!r} -> {after!r}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model": self.model,
            "version": self.version,
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
            "seen_after": format_utc(self.seen_after),
            "seen_by": format_utc(self.seen_by),
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistryChange:
        seen_after = time_from_text(data["seen_after"])
        seen_by = time_from_text(data["seen_by"])
        assert seen_after is not None and seen_by is not None
        return cls(
            kind=data["kind"],
            model=data["model"],
            version=data["version"],
            subject=data["subject"],
            before=data["before"],
            after=data["after"],
            seen_after=seen_after,
            seen_by=seen_by,
        )


class _Collector:
    def __init__(self, previous: RegistrySnapshot, current: RegistrySnapshot) -> None:
        self.seen_after = previous.taken_at
        self.seen_by = current.taken_at
        self.changes: list[RegistryChange] = []

    def add(
        self,
        kind: str,
        model: str,
        version: str | None = None,
        subject: str = "",
        before: str | None = None,
        after: str | None = None,
    ) -> None:
        self.changes.append(
            RegistryChange(kind, model, version, subject, before, after, self.seen_after, self.seen_by)
        )

    def mapping(
        self,
        added: str,
        changed: str,
        removed: str,
        model: str,
        version: str | None,
        before: Mapping[str, str],
        after: Mapping[str, str],
    ) -> None:
        for key in sorted(set(before) | set(after)):
            if key not in before:
                self.add(added, model, version, key, None, after[key])
            elif key not in after:
                self.add(removed, model, version, key, before[key], None)
            elif before[key] != after[key]:
                self.add(changed, model, version, key, before[key], after[key])


def diff_snapshots(previous: RegistrySnapshot | None, current: RegistrySnapshot) -> list[RegistryChange]:
    """Every change from ``previous`` to ``current``; none for the first snapshot of a source.

    Models outside ``current``'s scope were not looked at and yield no change. Within a model,
    changes come in a stable order: the model's own, its aliases, then its versions by number.
    """
    if previous is None:
        return []
    if current.taken_at < previous.taken_at:
        raise ValueError("snapshots must be compared in the order they were taken")
    collect = _Collector(previous, current)
    names = sorted({m.name for m in previous.models} | {m.name for m in current.models})
    for name in names:
        before = previous.model(name)
        after = current.model(name)
        if before is None and after is not None:
            # A new model's description and tags are part of it being added; its aliases and versions
            # are reported one by one because later history refers to them.
            collect.add(MODEL_ADDED, name)
            empty = RegisteredModelRecord(name=name, description=after.description, tags=after.tags)
            _diff_model(collect, empty, after)
        elif after is None and before is not None:
            if current.covers(name):
                collect.add(MODEL_DELETED, name)
        elif before is not None and after is not None:
            _diff_model(collect, before, after)
    return collect.changes


def _version_key(version: str) -> tuple[int, int | str]:
    # MLflow versions are integers; SageMaker's too; anything else sorts after them as text.
    return (0, int(version)) if version.isdigit() else (1, version)


def _diff_model(collect: _Collector, before: RegisteredModelRecord, after: RegisteredModelRecord) -> None:
    name = after.name
    if before.description != after.description:
        collect.add(
            MODEL_DESCRIPTION_CHANGED, name, None, "description", before.description, after.description
        )
    collect.mapping(
        MODEL_TAG_ADDED, MODEL_TAG_CHANGED, MODEL_TAG_REMOVED, name, None, before.tags, after.tags
    )
    for alias in sorted(set(before.aliases) | set(after.aliases)):
        old, new = before.aliases.get(alias), after.aliases.get(alias)
        if old is None and new is not None:
            collect.add(ALIAS_ADDED, name, None, alias, None, new)
        elif new is None and old is not None:
            collect.add(ALIAS_REMOVED, name, None, alias, old, None)
        elif old != new:
            collect.add(ALIAS_MOVED, name, None, alias, old, new)
    numbers = sorted(
        {v.version for v in before.versions} | {v.version for v in after.versions}, key=_version_key
    )
    for number in numbers:
        old_version, new_version = before.version(number), after.version(number)
        if old_version is None and new_version is not None:
            collect.add(VERSION_ADDED, name, number)
        elif new_version is None and old_version is not None:
            collect.add(VERSION_DELETED, name, number)
        elif old_version is not None and new_version is not None:
            _diff_version(collect, old_version, new_version)


def _diff_version(collect: _Collector, before: ModelVersionRecord, after: ModelVersionRecord) -> None:
    name, number = after.name, after.version
    if before.description != after.description:
        collect.add(
            VERSION_DESCRIPTION_CHANGED, name, number, "description", before.description, after.description
        )
    if before.stage != after.stage:
        collect.add(VERSION_STAGE_CHANGED, name, number, "stage", before.stage, after.stage)
    if before.status != after.status:
        collect.add(VERSION_STATUS_CHANGED, name, number, "status", before.status, after.status)
    if before.approval_status != after.approval_status:
        collect.add(
            VERSION_APPROVAL_CHANGED,
            name,
            number,
            "approval_status",
            before.approval_status,
            after.approval_status,
        )
    collect.mapping(
        VERSION_TAG_ADDED, VERSION_TAG_CHANGED, VERSION_TAG_REMOVED, name, number, before.tags, after.tags
    )
    old_files = {a.path: a.sha256 for a in before.artifacts if a.sha256}
    new_files = {a.path: a.sha256 for a in after.artifacts if a.sha256}
    for path in sorted(set(old_files) | set(new_files)):
        if old_files.get(path) != new_files.get(path):
            collect.add(
                VERSION_ARTIFACT_CHANGED, name, number, path, old_files.get(path), new_files.get(path)
            )
    old_metrics = before.run.metrics if before.run else {}
    new_metrics = after.run.metrics if after.run else {}
    for metric in sorted(set(old_metrics) | set(new_metrics)):
        old_value, new_value = old_metrics.get(metric), new_metrics.get(metric)
        if old_value != new_value:
            collect.add(
                RUN_METRIC_CHANGED,
                name,
                number,
                metric,
                None if old_value is None else repr(old_value),
                None if new_value is None else repr(new_value),
            )


@dataclass(frozen=True)
class RegistryImportResult:
    """What one stored import amounted to: its snapshot, what changed since the previous one, its evidence."""

    snapshot_id: int
    source_kind: str
    source_uri: str
    taken_at: datetime
    previous_snapshot_id: int | None
    models: int
    versions: int
    changes: tuple[RegistryChange, ...]
    snapshot_sha256: str  # the snapshot's canonical JSON, kept as evidence
    artifacts_stored: int
    request_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "source_kind": self.source_kind,
            "source_uri": self.source_uri,
            "taken_at": format_utc(self.taken_at),
            "previous_snapshot_id": self.previous_snapshot_id,
            "models": self.models,
            "versions": self.versions,
            "changes": [c.to_dict() for c in self.changes],
            "snapshot_sha256": self.snapshot_sha256,
            "artifacts_stored": self.artifacts_stored,
            "request_count": self.request_count,
        }


@dataclass(frozen=True)
class SnapshotInfo:
    """A stored snapshot's facts; its full content is the evidence named ``content_sha256``."""

    id: int
    source_kind: str
    source_uri: str
    taken_at: datetime
    content_sha256: str
    models: int
    versions: int
    changes: int
    imported_at: datetime
    imported_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source_kind": self.source_kind,
            "source_uri": self.source_uri,
            "taken_at": format_utc(self.taken_at),
            "content_sha256": self.content_sha256,
            "models": self.models,
            "versions": self.versions,
            "changes": self.changes,
            "imported_at": format_utc(self.imported_at),
            "imported_by": self.imported_by,
        }


@dataclass(frozen=True)
class ModelWithoutVersions:
    """A registered model whose latest import of a source found no version yet: known by its name,
    description and tags only, so nothing can be analysed or signed for it until a version exists."""

    name: str
    description: str
    tags: Mapping[str, str]
    snapshot: SnapshotInfo

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": 0,
            "description": self.description,
            "tags": dict(self.tags),
            "source": self.snapshot.source_kind,
            "source_uri": self.snapshot.source_uri,
            "seen_at": format_utc(self.snapshot.taken_at),
            "snapshot_id": self.snapshot.id,
        }
