"""Temporary work folders of imports and exports, and the cleaning of those an interrupted run left.

Every folder lives in one Signoff folder per OS user under the system's temporary folder and is named
with the id of the process that made it. A process killed mid-import (power cut, SIGKILL) cannot remove
its folder; the next one to make a work folder removes every folder whose process is gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def work_root() -> Path:
    root = Path(tempfile.gettempdir()) / f"signoff-work-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


@contextlib.contextmanager
def work_folder(kind: str) -> Iterator[Path]:
    """A fresh folder for ``kind`` (``import``, ``mlflow``, ...), removed on exit; stale ones go first."""
    clean_stale_work_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"{kind}-{os.getpid()}-", dir=work_root()))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean_stale_work_folders() -> list[Path]:
    """Remove the work folders of processes that no longer run; returns what was removed."""
    removed = []
    for folder in work_root().iterdir():
        pid = _owner(folder.name)
        if pid is not None and pid != os.getpid() and not _running(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _owner(name: str) -> int | None:
    parts = name.split("-")
    return int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
