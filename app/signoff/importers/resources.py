"""Where Signoff's shipped resources (policy templates, their schema, demo data) are on this machine.

Three layouts are supported: a source checkout (``resources/`` next to ``app/``), an installed wheel
(``signoff/resources`` inside the package, put there by the build) and a PyInstaller bundle
(``resources/`` under the bundle's unpack folder). The first that exists wins, in that order of
specificity: bundle, package, checkout.
"""

from __future__ import annotations

import importlib.resources
import sys
from pathlib import Path

from signoff.domain.errors import NotFoundError

POLICY_DIR = "policies"
POLICY_SCHEMA = "schema.json"
DEFAULT_POLICY = "default"


def _candidates() -> list[Path]:
    found: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in a frozen app
    if bundle:
        found.append(Path(bundle) / "resources")
    packaged = importlib.resources.files("signoff") / "resources"
    if isinstance(packaged, Path):
        found.append(packaged)
    found.append(Path(__file__).resolve().parents[3] / "resources")
    return found


def resources_dir() -> Path:
    for candidate in _candidates():
        if (candidate / POLICY_DIR / POLICY_SCHEMA).is_file():
            return candidate
    searched = ", ".join(str(c) for c in _candidates())
    raise NotFoundError(f"Signoff's resources folder was not found (looked in {searched}); reinstall Signoff")


def resource_path(*parts: str) -> Path:
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise NotFoundError(f"resource {'/'.join(parts)} is not shipped with this Signoff")
    return path


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
