"""Where Signoff's shipped files (fonts, icons, policy templates, demo data) are found at run time.

A source checkout has them in the repository's top-level ``resources/``; an installed wheel carries the
same folder as ``signoff/_resources`` (hatch ``force-include``); a PyInstaller bundle unpacks it as
``resources/`` under ``sys._MEIPASS``. ``$SIGNOFF_RESOURCES`` overrides all three. One module, so no caller
guesses paths itself; it sits outside the layers so every layer may ask it.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from signoff.domain.errors import NotFoundError

ENV_VARIABLE = "SIGNOFF_RESOURCES"

_PACKAGE_DIR = Path(__file__).resolve().parent


def _candidates() -> list[Path]:
    override = os.environ.get(ENV_VARIABLE)
    found = [Path(override)] if override else []
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in a frozen app
    if bundle:
        found.append(Path(bundle) / "resources")
    found += [_PACKAGE_DIR / "_resources", _PACKAGE_DIR.parents[1] / "resources"]
    return found


@cache
def resources_dir() -> Path:
    """The folder holding Signoff's resources: the first candidate that exists."""
    for candidate in _candidates():
        if candidate.is_dir():
            return candidate
    searched = ", ".join(str(c) for c in _candidates())
    raise NotFoundError(f"Signoff's resources folder was not found (looked in {searched}); reinstall Signoff")


def resource_path(*parts: str) -> Path:
    """Path of one shipped file, e.g. ``resource_path("fonts", "DejaVuSans.ttf")``; it must exist."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise NotFoundError(
            f"resource {'/'.join(parts)} is not shipped with this Signoff ({resources_dir()})"
        )
    return path
