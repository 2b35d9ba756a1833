"""A model version's artifact files: attach one by hand, list them, write them out to explain them.

Artifacts are evidence (stored once by SHA-256). A registry import records the files it downloaded;
a model that lives in no registry gets its file with ``attach_model_file``, recorded as a
``model.artifact_attached`` audit event, which is also where the attachment is looked up again: the
append-only ledger is the record of which file belongs to which version.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from signoff.domain.errors import InputError, NotFoundError
from signoff.domain.registry import ModelVersion
from signoff.services.identity import actor_or_login
from signoff.services.models import get_model_version
from signoff.services.registry_import import model_version_details
from signoff.services.work_folders import work_folder
from signoff.storage import Database

ATTACHED = "model.artifact_attached"
NO_ARTIFACTS = (
    "model {model} has no model file stored in Signoff: import it from its registry, or attach the file "
    "with `signoff models attach NAME VERSION FILE` (skops, XGBoost JSON/UBJ, LightGBM text, or a pickle "
    "that someone then trusts)"
)


def _entity(model_version: ModelVersion) -> str:
    return f"model_version:{model_version.id}"


def attach_model_file(
    db: Database, *, name: str, version: str, path: Path, actor: str | None = None
) -> dict[str, str | int]:
    """Store ``path`` as evidence and record it as this model version's artifact (by file name)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    model_version = get_model_version(db, name, version)
    with db.transaction() as uow:
        sha256 = uow.evidence.put_file(path)
        attached = {"path": path.name, "sha256": sha256, "size": path.stat().st_size}
        uow.audit.append(
            actor=actor_or_login(actor), action=ATTACHED, entity=_entity(model_version), payload=attached
        )
    return attached


def model_artifacts(db: Database, model_version: ModelVersion) -> dict[str, str]:
    """The version's artifact files, path -> SHA-256: those its latest registry import downloaded,
    then those attached by hand (a later attachment of the same path wins)."""
    registry = model_version_details(db, model_version.name, model_version.version)["artifacts"]
    with db.transaction(write=False) as uow:
        events = uow.audit.list(action=ATTACHED, entity=_entity(model_version))
    artifacts: dict[str, str] = dict(registry)
    for event in reversed(events):  # oldest first, so the newest attachment of a path wins
        artifacts[event.payload["path"]] = event.payload["sha256"]
    return artifacts


def attached_model_files(db: Database, model_version: ModelVersion) -> list[dict[str, object]]:
    """Files attached by hand to the version, oldest first: path, sha256, size, who attached it, when."""
    with db.transaction(write=False) as uow:
        events = uow.audit.list(action=ATTACHED, entity=_entity(model_version))
    return [
        {**event.payload, "attached_by": event.actor, "attached_at": event.occurred_at}
        for event in reversed(events)
    ]


def _safe_relative(path: str) -> PurePosixPath:
    """An artifact path as a relative path that stays inside the folder it is written to."""
    relative = PurePosixPath(path.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise InputError(f"artifact path {path!r} would leave the artifact folder; it is not written out")
    return relative


@contextlib.contextmanager
def materialised_artifacts(db: Database, model_version: ModelVersion) -> Iterator[dict[str, Path]]:
    """The version's artifacts written (hash-checked) into a temporary folder, removed afterwards."""
    artifacts = model_artifacts(db, model_version)
    if not artifacts:
        raise NotFoundError(NO_ARTIFACTS.format(model=model_version.ref))
    with work_folder("model") as folder:
        files: dict[str, Path] = {}
        with db.transaction(write=False) as uow:
            for path, sha256 in sorted(artifacts.items()):
                target = Path(folder, *_safe_relative(path).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                files[path] = uow.evidence.write_to(sha256, target)
        yield files
