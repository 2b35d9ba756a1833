"""Shipped files are found from a source checkout, from an installed package and via the override."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from signoff import resources
from signoff.domain.errors import NotFoundError

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_checkout_finds_the_repository_resources():
    assert (
        resources.resource_path("fonts", "DejaVuSans.ttf")
        == REPO_ROOT / "resources" / "fonts" / "DejaVuSans.ttf"
    )


def test_installed_layout_finds_the_packaged_copy(tmp_path):
    # The wheel's layout (pyproject force-include): site-packages/signoff/_resources, no checkout around it.
    site = tmp_path / "site-packages"
    shutil.copytree(
        REPO_ROOT / "app" / "signoff", site / "signoff", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(REPO_ROOT / "resources", site / "signoff" / "_resources")
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "from signoff.resources import resource_path; print(resource_path('fonts', 'DejaVuSans.ttf'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(site)},
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(found) == site / "signoff" / "_resources" / "fonts" / "DejaVuSans.ttf"


def test_override_and_missing_file(tmp_path, monkeypatch):
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "x.ttf").write_bytes(b"")
    monkeypatch.setenv(resources.ENV_VARIABLE, str(tmp_path))
    resources.resources_dir.cache_clear()
    try:
        assert resources.resource_path("fonts", "x.ttf") == tmp_path / "fonts" / "x.ttf"
        with pytest.raises(NotFoundError, match=r"fonts/missing\.ttf"):
            resources.resource_path("fonts", "missing.ttf")
    finally:
        resources.resources_dir.cache_clear()
