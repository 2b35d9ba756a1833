"""packaging/install-desktop-entry.sh, run in a bundle-shaped folder (no real bundle needed).

The menu entry must start this folder's binary with ``app`` wherever the folder is (spaces and all), and
its icon must be installed where the freedesktop icon theme looks for it.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "packaging" / "install-desktop-entry.sh"


def fake_bundle(folder: Path) -> Path:
    folder.mkdir(parents=True)
    binary = folder / "signoff"
    binary.write_text('#!/bin/sh\necho started "$@"\n')
    binary.chmod(0o755)
    shutil.copy(REPO / "packaging" / "signoff.desktop", folder)
    shutil.copy(REPO / "resources" / "icons" / "signoff-256.png", folder / "signoff.png")
    shutil.copy(SCRIPT, folder)
    return folder


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def run_script(folder: Path, data_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_DATA_HOME=str(data_home))
    return subprocess.run(
        [str(folder / "install-desktop-entry.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_installs_a_menu_entry_that_starts_this_folders_binary(tmp_path):
    folder = fake_bundle(tmp_path / "Program Files" / "signoff")
    data_home = tmp_path / "share"
    result = run_script(folder, data_home)
    assert result.returncode == 0, result.stderr

    installed = read_entry(data_home / "applications" / "signoff.desktop")
    assert installed["Exec"] == f'"{folder}/signoff" app'
    assert installed["Icon"] == "signoff"
    assert installed["Name"] == "Signoff" and installed["Type"] == "Application"
    icon = data_home / "icons" / "hicolor" / "256x256" / "apps" / "signoff.png"
    assert icon.read_bytes() == (REPO / "resources" / "icons" / "signoff-256.png").read_bytes()
    # The folder's own copy points at the folder's binary and icon by absolute path.
    local = read_entry(folder / "signoff.desktop")
    assert local["Exec"] == installed["Exec"] and local["Icon"] == str(folder / "signoff.png")
    # What a launcher would run: the Exec line, split the way the desktop entry spec quotes it.
    command = subprocess.run(
        ["sh", "-c", installed["Exec"]], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert command == "started app"
    if shutil.which("desktop-file-validate"):
        validated = subprocess.run(
            ["desktop-file-validate", str(data_home / "applications" / "signoff.desktop")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert validated.returncode == 0, validated.stdout + validated.stderr


def test_a_moved_folder_is_pointed_at_again(tmp_path):
    first = fake_bundle(tmp_path / "one" / "signoff")
    assert run_script(first, tmp_path / "share", "--write-only").returncode == 0
    moved = tmp_path / "two & more" / "signoff"
    moved.parent.mkdir()
    first.rename(moved)
    assert run_script(moved, tmp_path / "share", "--write-only").returncode == 0
    assert read_entry(moved / "signoff.desktop")["Exec"] == f'"{moved}/signoff" app'
    assert not (tmp_path / "share").exists()  # --write-only installs nothing


def test_refuses_a_folder_without_the_binary(tmp_path):
    folder = fake_bundle(tmp_path / "signoff")
    (folder / "signoff").unlink()
    result = run_script(folder, tmp_path / "share")
    assert result.returncode == 1 and "no signoff binary" in result.stderr
    assert not (tmp_path / "share").exists()
