"""``./dev app`` on a bare Debian machine: the libraries Qt's xcb plugin and QtWebEngine need are installed.

This machine already has them, so ``ldd`` is replaced by one that reports two of them missing (the way a
bare install answers), and ``apt-get`` by one that records what it was asked to install. Everything else is
the real script: the PySide6 binaries it inspects, the soname-to-package mapping, root detection, sudo.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# What ldd prints on a bare Debian 12 for Qt's xcb platform plugin.
BARE_LDD = """#!/bin/sh
echo "	libxcb-cursor.so.0 => not found"
echo "	libxkbcommon-x11.so.0 => not found"
echo "	libX11.so.6 => /lib/x86_64-linux-gnu/libX11.so.6 (0x00007f)"
"""


def _stub(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _dev_app_help(tmp_path: Path, *, as_user: bool) -> subprocess.CompletedProcess[str]:
    stubs = tmp_path / "bin"
    stubs.mkdir()
    _stub(stubs, "ldd", BARE_LDD)
    _stub(stubs, "apt-get", f'#!/bin/sh\necho "$*" >> {tmp_path}/apt-get.log\n')
    if as_user:
        _stub(stubs, "id", "#!/bin/sh\necho 1000\n")
        _stub(stubs, "sudo", "#!/bin/sh\nexit 1\n")  # no password-less sudo
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}")
    return subprocess.run(
        [str(REPO / "dev"), "app", "--help"], env=env, capture_output=True, text=True, timeout=300
    )


def test_dev_app_installs_the_missing_desktop_libraries_as_root(tmp_path):
    result = _dev_app_help(tmp_path, as_user=False)
    assert result.returncode == 0, result.stderr
    assert "usage: signoff app" in result.stdout
    calls = (tmp_path / "apt-get.log").read_text().splitlines()
    assert calls[0] == "update -qq"
    installed = calls[1].split()
    assert installed[:4] == ["install", "-y", "-qq", "--no-install-recommends"]
    assert sorted(installed[4:]) == ["libxcb-cursor0", "libxkbcommon-x11-0"]


def test_dev_app_says_in_one_line_what_to_install_when_it_cannot(tmp_path):
    result = _dev_app_help(tmp_path, as_user=True)
    assert result.returncode == 1
    assert not (tmp_path / "apt-get.log").exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(
        "sudo apt-get install -y --no-install-recommends libxcb-cursor0 libxkbcommon-x11-0"
    )
