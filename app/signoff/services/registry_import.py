"""Registry import as a use case: read a registry, store the snapshot, its history and its evidence.

One import is one transaction: the snapshot (its canonical JSON as evidence), a record per model
version, the model files by hash, the changes since the previous snapshot of the same source as history
rows and as audit events. Anything failing on the way (the server, a file, the database) leaves the
database as it was: there is never half a snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signoff.domain.canonical import canonical_json
from signoff.domain.errors import Cancelled, ConflictError, NotFoundError
from signoff.domain.registry import ModelVersion
from signoff.domain.registry_history import (
    MODEL_DELETED,
    VERSION_DELETED,
    ModelWithoutVersions,
    RegistryChange,
    RegistryImportResult,
    SnapshotInfo,
    diff_snapshots,
)
from signoff.domain.registry_snapshot import ModelVersionRecord, RegisteredModelRecord, RegistrySnapshot
from signoff.services.identity import actor_or_login
from signoff.services.work_folders import work_folder
from signoff.storage import Database

if TYPE_CHECKING:
    from signoff.importers.mlflow_rest import MlflowSettings

# The importers (an HTTP client, YAML) are imported by the functions that read a registry: the desktop
# app shows stored registry records at start-up and must not pay for them (tests/ui/test_startup_imports.py).

SNAPSHOT_MEDIA_TYPE = "application/vnd.signoff.registry-snapshot+json"
Progress = Callable[[int, int, str], None]


def mlflow_settings(
    *, token: str | None = None, username: str | None = None, password: str | None = None
) -> MlflowSettings:
    """How to reach an MLflow server with the credentials a person typed (nothing is stored)."""
    from signoff.importers.mlflow_rest import MlflowSettings

    return MlflowSettings(token=token or None, username=username or None, password=password or None)


def mlflow_model_names(
    tracking_uri: str, *, settings: MlflowSettings | None = None, cancelled: Callable[[], bool] | None = None
) -> list[str]:
    """The registered model names at ``tracking_uri``, to choose what to import (nothing is stored)."""
    from signoff.importers.mlflow import registered_model_names

    return registered_model_names(tracking_uri, settings=settings, cancelled=cancelled)


def import_mlflow(
    db: Database,
    tracking_uri: str,
    *,
    models: Sequence[str] | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    settings: MlflowSettings | None = None,
) -> RegistryImportResult:
    """Read the MLflow registry at ``tracking_uri`` (or only ``models``) and store it as one snapshot."""
    from signoff.importers.mlflow import read_mlflow_registry

    with work_folder("mlflow") as work_dir:
        snapshot = read_mlflow_registry(
            tracking_uri,
            models=models,
            work_dir=work_dir,
            progress=progress,
            cancelled=cancelled,
            settings=settings,
        )
        if cancelled is not None and cancelled():
            raise Cancelled("the MLflow import was cancelled; nothing was stored")
        return store_snapshot(db, snapshot, actor=actor)


def import_sagemaker(
    db: Database, path: Path, *, model_card: Path | None = None, actor: str | None = None
) -> RegistryImportResult:
    from signoff.importers.sagemaker import read_sagemaker_export

    return store_snapshot(db, read_sagemaker_export(Path(path), model_card=model_card), actor=actor)


def import_model_card(
    db: Database,
    path: Path,
    *,
    model: str | None = None,
    version: str | None = None,
    actor: str | None = None,
) -> RegistryImportResult:
    from signoff.importers.model_card import read_model_card

    return store_snapshot(db, read_model_card(Path(path), model=model, version=version), actor=actor)


def _registry_summary(
    snapshot: RegistrySnapshot, model: RegisteredModelRecord, version: ModelVersionRecord, snapshot_id: int
) -> dict[str, Any]:
    """What a model version listing shows of its registry state (the full record is kept beside it)."""
    return {
        "source_kind": snapshot.source_kind,
        "source_uri": snapshot.source_uri,
        "snapshot_id": snapshot_id,
        "seen_at": snapshot.to_dict()["taken_at"],
        "stage": version.stage,
        "status": version.status,
        "aliases": list(model.aliases_of(version.version)),
        "approval_status": version.approval_status,
        "run_id": version.run.run_id if version.run else "",
        "logged_model_id": version.logged_model_id,
        "artifacts": {a.path: a.sha256 for a in version.artifacts if a.sha256},
        "has_card": version.card is not None,
    }


def store_snapshot(
    db: Database, snapshot: RegistrySnapshot, *, actor: str | None = None
) -> RegistryImportResult:
    """Store ``snapshot`` with its history and evidence in one transaction (see the module docstring)."""
    who = actor_or_login(actor)
    with db.transaction() as uow:
        previous_info = uow.registry.latest_snapshot(snapshot.source_kind, snapshot.source_uri)
        previous = _load(uow, previous_info)
        if previous is not None and previous.taken_at > snapshot.taken_at:
            raise ConflictError(
                f"a later import of {snapshot.source_uri} (taken {previous_info.to_dict()['taken_at']}) was "
                "stored while this one was reading; nothing was stored. Import again for the current state."
            )
        changes = diff_snapshots(previous, snapshot)
        artifacts_stored = 0
        for model in snapshot.models:
            for version in model.versions:
                for artifact in version.artifacts:
                    if artifact.local_path and artifact.sha256:
                        uow.evidence.put_file(Path(artifact.local_path), expected_sha256=artifact.sha256)
                        artifacts_stored += 1
        content = canonical_json(snapshot.to_dict())
        content_sha256 = uow.evidence.put_bytes(content, media_type=SNAPSHOT_MEDIA_TYPE)
        stored = uow.registry.add_snapshot(
            snapshot, content_sha256=content_sha256, changes=len(changes), imported_by=who
        )
        added_versions: list[ModelVersion] = []
        for model in snapshot.models:
            for version in model.versions:
                model_version, created = uow.registry.find_or_add_version(
                    name=version.name,
                    version=version.version,
                    description=version.description,
                    source=snapshot.source_kind,
                    registry=_registry_summary(snapshot, model, version, stored.id),
                )
                if created:
                    added_versions.append(model_version)
                record = version.to_dict()
                record["aliases"] = list(model.aliases_of(version.version))
                record["registered_model"] = {"description": model.description, "tags": dict(model.tags)}
                uow.registry.add_record(
                    snapshot_id=stored.id, model_version_id=model_version.id, record=record
                )
        uow.registry.add_changes(
            snapshot_id=stored.id,
            previous_snapshot_id=previous_info.id if previous_info else None,
            changes=changes,
        )
        for change in changes:
            if change.kind in (MODEL_DELETED, VERSION_DELETED):
                # The evidence stays; the listing says the registry no longer has it.
                uow.registry.mark_gone(
                    name=change.model,
                    version=change.version,
                    source=snapshot.source_kind,
                    seen_by=change.seen_by,
                )
        # Audit last: appending holds the ledger's lock until commit.
        for model_version in added_versions:
            uow.audit.append(
                actor=who,
                action="model.added",
                entity=f"model_version:{model_version.id}",
                payload={
                    "name": model_version.name,
                    "version": model_version.version,
                    "source": snapshot.source_kind,
                    "snapshot_id": stored.id,
                },
            )
        for change in changes:
            uow.audit.append(
                actor=who,
                action="registry.changed",
                entity=f"registered_model:{change.model}",
                payload={**change.to_dict(), "snapshot_id": stored.id},
            )
        uow.audit.append(
            actor=who,
            action="registry.imported",
            entity=f"registry_snapshot:{stored.id}",
            payload={
                "source_kind": snapshot.source_kind,
                "source_uri": snapshot.source_uri,
                "taken_at": snapshot.to_dict()["taken_at"],
                "snapshot_sha256": content_sha256,
                "previous_snapshot_id": previous_info.id if previous_info else None,
                "models": len(snapshot.models),
                "versions": snapshot.version_count,
                "changes": len(changes),
                "artifacts_stored": artifacts_stored,
            },
        )
    return RegistryImportResult(
        snapshot_id=stored.id,
        source_kind=snapshot.source_kind,
        source_uri=snapshot.source_uri,
        taken_at=snapshot.taken_at,
        previous_snapshot_id=previous_info.id if previous_info else None,
        models=len(snapshot.models),
        versions=snapshot.version_count,
        changes=tuple(changes),
        snapshot_sha256=content_sha256,
        artifacts_stored=artifacts_stored,
        request_count=snapshot.request_count,
    )


def _load(uow: Any, info: SnapshotInfo | None) -> RegistrySnapshot | None:
    if info is None:
        return None
    return RegistrySnapshot.from_dict(json.loads(uow.evidence.read_bytes(info.content_sha256)))


def models_without_versions(db: Database, *, name: str | None = None) -> list[ModelWithoutVersions]:
    """Registered models that the latest import of some source holds with no version (by name).

    They have no ``model_version`` row (nothing can hang on them yet), so they are read from the
    snapshots' content; a model that has versions from any source is listed through those instead.
    """
    found: dict[str, ModelWithoutVersions] = {}
    with db.transaction(write=False) as uow:
        known = {v.name for v in uow.models.list()}
        for info in uow.registry.latest_snapshots():
            for model_name, description, tags in _versionless_in(uow, info):
                if model_name in known or (name is not None and model_name != name):
                    continue
                found[model_name] = ModelWithoutVersions(
                    name=model_name, description=description, tags=dict(tags), snapshot=info
                )
    return sorted(found.values(), key=lambda m: m.name.casefold())


# Snapshot content is addressed by its hash, so what it says never changes: the registry page asks at
# every refresh, and a large registry's snapshot is read once per process instead.
_VERSIONLESS: dict[str, tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]] = {}


def _versionless_in(uow: Any, info: SnapshotInfo) -> tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]:
    if info.content_sha256 not in _VERSIONLESS:
        snapshot = _load(uow, info)
        if len(_VERSIONLESS) >= 64:
            _VERSIONLESS.pop(next(iter(_VERSIONLESS)))
        _VERSIONLESS[info.content_sha256] = tuple(
            (m.name, m.description, tuple(sorted(m.tags.items())))
            for m in (snapshot.models if snapshot else ())
            if not m.versions
        )
    return _VERSIONLESS[info.content_sha256]


def model_history(db: Database, name: str) -> tuple[list[RegistryChange], list[SnapshotInfo]]:
    """The changes recorded for model ``name`` (oldest first) and the snapshots that saw it.

    A model seen only without versions has no record rows; the snapshots holding it are then found by
    their content.
    """
    with db.transaction(write=False) as uow:
        changes = uow.registry.history(name)
        snapshots = uow.registry.snapshots_of(name)
        if not snapshots:
            snapshots = [
                info
                for info in uow.registry.all_snapshots()
                if (content := _load(uow, info)) is not None and content.model(name) is not None
            ]
    if not changes and not snapshots:
        raise NotFoundError(
            f"no registry import has seen a model named {name!r}; import it with "
            "`signoff import mlflow --tracking-uri URL --model NAME`"
        )
    return changes, snapshots


def model_version_details(db: Database, name: str, version: str) -> dict[str, Any]:
    """A model version with its latest registry record (lineage, datasets, code version, file hashes)."""
    with db.transaction(write=False) as uow:
        found = uow.models.find(name, version)
        if found is None:
            raise NotFoundError(f"model {name!r} version {version!r} is not registered in Signoff")
        records = uow.registry.records(found.id)
    latest_by_source: dict[str, dict[str, Any]] = {}
    for info, record in records:  # newest first: the first of each source kind is its latest
        latest_by_source.setdefault(info.source_kind, {"snapshot": info.to_dict(), "record": record})
    lineage = None
    mlflow = latest_by_source.get("mlflow", {}).get("record")
    if mlflow and mlflow.get("run"):
        run = mlflow["run"]
        lineage = {
            "run_id": run["run_id"],
            "experiment": run.get("experiment_name", ""),
            "code_version": {
                "git_commit": run.get("git_commit", ""),
                "source_name": run.get("source_name", ""),
                "source_type": run.get("source_type", ""),
            },
            "datasets": run.get("datasets", []),
            "logged_model_id": (mlflow.get("logged_model") or {}).get("model_id", ""),
        }
    artifacts = {}
    for entry in latest_by_source.values():
        for artifact in entry["record"].get("artifacts", []):
            if artifact.get("sha256"):
                artifacts[artifact["path"]] = artifact["sha256"]
    return {
        "model_version": found.to_dict(),
        "lineage": lineage,
        "artifacts": artifacts,
        "registry": latest_by_source,
        "snapshots_seen": len(records),
    }
