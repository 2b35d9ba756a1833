"""What one worker process does in the concurrency tests: wait at a file barrier, then act once.

Kept apart from the test module so a spawned process imports only Signoff, not pytest and the tests.
"""

from __future__ import annotations

import time
from pathlib import Path

from signoff.domain.errors import ConflictError
from signoff.services import reviews
from signoff.storage import open_database


def wait_for_all(barrier_dir: str, me: str, parties: int, timeout: float = 120) -> None:
    """A barrier made of files: announce readiness, then go when every party has announced it."""
    folder = Path(barrier_dir)
    (folder / f"ready-{me}").touch()
    deadline = time.monotonic() + timeout
    while len(list(folder.glob("ready-*"))) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError("the other worker never arrived at the barrier")
        time.sleep(0.001)


def act(db_url: str, barrier_dir: str, parties: int, step: tuple, password: str) -> tuple[str, str, str]:
    kind, who, review_id, expected_version = step
    with open_database(db_url) as db:
        wait_for_all(barrier_dir, who, parties)
        try:
            if kind == "finding":
                reviews.add_finding(
                    db, who, review_id, type="limitation", severity="low", title=f"seen by {who}",
                    expected_version=expected_version,
                )  # fmt: skip
            else:
                reviews.sign(
                    db,
                    review_id,
                    username=who,
                    password=password,
                    meaning=kind,
                    expected_version=expected_version,
                )
        except ConflictError as conflict:
            return who, "conflict", str(conflict)
    return who, "ok", ""
