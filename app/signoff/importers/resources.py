"""The shipped policy templates and their schema, found through ``signoff.resources``."""

from __future__ import annotations

from pathlib import Path

from signoff.domain.errors import NotFoundError
from signoff.resources import resource_path, resources_dir

POLICY_DIR = "policies"
POLICY_SCHEMA = "schema.json"
DEFAULT_POLICY = "default"


def policy_schema_path() -> Path:
    return resource_path(POLICY_DIR, POLICY_SCHEMA)


def policy_templates() -> dict[str, Path]:
    """Shipped policy templates by name (file name without ``.yaml``)."""
    folder = resources_dir() / POLICY_DIR
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def policy_template(name: str) -> Path:
    templates = policy_templates()
    if name not in templates:
        raise NotFoundError(f"no shipped policy named {name!r}; shipped policies: {', '.join(templates)}")
    return templates[name]
