"""Model versions: add one by hand, list them, look one up by name and version.

The registry importers (MLflow, SageMaker, model cards) add versions with their lineage; this is the
minimal path for a model that lives nowhere else, and the lookup every other use case starts from.
"""

from __future__ import annotations

from signoff.domain.errors import InputError, NotFoundError
from signoff.domain.registry import ModelVersion
from signoff.services.identity import actor_or_login
from signoff.storage import Database


def add_model_version(
    db: Database, *, name: str, version: str, description: str = "", actor: str | None = None
) -> ModelVersion:
    name, version = name.strip(), version.strip()
    if not name or not version:
        raise InputError("a model needs a name and a version, e.g. `signoff models add churn 3`")
    with db.transaction() as uow:
        model_version = uow.models.add(name=name, version=version, description=description)
        uow.audit.append(
            actor=actor_or_login(actor),
            action="model.added",
            entity=f"model_version:{model_version.id}",
            payload={"name": name, "version": version, "description": description, "source": "manual"},
        )
    return model_version


def list_model_versions(db: Database, *, name: str | None = None) -> list[ModelVersion]:
    with db.transaction(write=False) as uow:
        return uow.models.list(name=name)


def get_model_version(db: Database, name: str, version: str) -> ModelVersion:
    with db.transaction(write=False) as uow:
        found = uow.models.find(name, version)
    if found is None:
        raise NotFoundError(
            f"model {name!r} version {version!r} is not registered; add it with "
            f"`signoff models add {_quoted(name)} {_quoted(version)}` or import it from a registry"
        )
    return found


def _quoted(text: str) -> str:
    return text if text.replace("-", "").replace("_", "").replace(".", "").isalnum() else repr(text)
