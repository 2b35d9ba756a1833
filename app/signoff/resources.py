"""Where Signoff's shipped files (fonts, icons, policy templates, demo data) are found at run time.

From a source checkout they are in the repository's top-level ``resources/``; an installed wheel or a
desktop bundle carries the same folder as ``signoff/_resources`` (hatch ``force-include``). One
function, so no caller guesses paths itself.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

ENV_VARIABLE = "SIGNOFF_RESOURCES"

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def resources_dir() -> Path:
    """The folder holding Signoff's resources: $SIGNOFF_RESOURCES, the packaged copy, or the checkout's."""
    override = os.environ.get(ENV_VARIABLE)
    candidates = [Path(override)] if override else []
    candidates += [_PACKAGE_DIR / "_resources", _PACKAGE_DIR.parents[1] / "resources"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    # A broken installation, not a user error: say where we looked so a packager can fix it.
    raise FileNotFoundError(f"Signoff's resources folder is missing; looked in: {searched}")


def resource_path(*parts: str) -> Path:
    """Path of one shipped file, e.g. ``resource_path("fonts", "DejaVuSans.ttf")``; it must exist."""
    path = resources_dir().joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"Signoff resource {'/'.join(parts)} is missing from {resources_dir()}")
    return path
