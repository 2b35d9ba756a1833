"""``signoff app --screenshot-tour DIR`` run as a user runs it: the real app under an X server (Xvfb, Qt's
xcb platform plugin), as root like CI, without ``QTWEBENGINE_DISABLE_SANDBOX`` (the app turns Chromium's
sandbox off itself as root; before, the Fairness page took the whole app down). Every page at both sizes,
each picture of the asked size and not blank, and every stop a different picture.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from signoff.ui.screenshot_tour import SIZES, STOPS

pytestmark = pytest.mark.slow


def _distinct_colours(image: QImage) -> int:
    step_x, step_y = max(image.width() // 120, 1), max(image.height() // 80, 1)
    return len(
        {image.pixel(x, y) for x in range(0, image.width(), step_x) for y in range(0, image.height(), step_y)}
    )


def test_the_tour_under_xvfb_as_root_screenshots_every_page(
    demo_workspace, tmp_path, subprocess_env, screenshots
):
    assert os.geteuid() == 0, "CI runs the app as root; this is the case that must not crash"
    assert shutil.which("xvfb-run"), "./dev test installs xvfb (ensure_system_packages)"
    source, _summary = demo_workspace
    copy = tmp_path / "demo.db"
    with sqlite3.connect(source) as original, sqlite3.connect(copy) as target:
        original.backup(target)
    folder = tmp_path / "tour"
    env = dict(subprocess_env, QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("QTWEBENGINE_DISABLE_SANDBOX", None)
    env.pop("SIGNOFF_STATIC_CHARTS", None)
    signoff = Path(sys.executable).with_name("signoff")
    result = subprocess.run(
        [
            "xvfb-run",
            "--auto-servernum",
            "--server-args=-screen 0 1920x1200x24",
            str(signoff),
            "--db",
            f"sqlite:///{copy}",
            "app",
            "--screenshot-tour",
            str(folder),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "without --no-sandbox" not in result.stderr
    expected = [f"{w}x{h}-{n:02d}-{stop.name}.png" for w, h in SIZES for n, stop in enumerate(STOPS, start=1)]
    assert (folder / "tour.txt").read_text().split() == expected
    digests = set()
    for name in expected:
        image = QImage(str(folder / name))
        width, height = (int(v) for v in name.split("-")[0].split("x"))
        assert (image.width(), image.height()) == (width, height), name
        assert _distinct_colours(image) >= 12, f"{name} looks blank"
        digests.add(hashlib.sha256((folder / name).read_bytes()).hexdigest())
    assert len(digests) == len(expected)  # every stop shows something of its own
    for name in expected:  # kept for a person to look at (test-artifacts/screenshots/tour)
        (screenshots / "tour").mkdir(exist_ok=True)
        shutil.copy(folder / name, screenshots / "tour" / name)
