"""What every command shares: opening the database named by ``--db``, printing JSON, a progress bar.

JSON goes to standard output exactly as the domain objects' ``to_dict()`` gives it, so pipelines
can rely on the shape; progress goes to standard error, and only when that is a terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from signoff.services import Database


def open_db(args: argparse.Namespace) -> Database:
    """The database from ``--db``, else ``$SIGNOFF_DB``, else the default file (migrated on open).

    For a changing command (built with ``parents=[identity.SIGNED_IN]``) it first refuses when nobody
    is named, then authenticates and sets ``args.account`` (``cli/identity.py``).
    """
    # SQLAlchemy loads only when a command reaches its database, never for help or a usage error.
    from signoff.cli import identity
    from signoff.services import open_database

    identity.check_identity_given(args)
    db = open_database(getattr(args, "db", None))
    try:
        identity.resolve(args, db)
    except BaseException:
        db.close()
        raise
    return db


def actor(args: argparse.Namespace) -> str:
    """The signed-in account's username, as resolved by ``open_db``: the actor passed to services."""
    return args.account.username


def print_json(value: Any, stream: TextIO | None = None) -> None:
    json.dump(value, stream or sys.stdout, indent=2, ensure_ascii=False, sort_keys=True)
    (stream or sys.stdout).write("\n")


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON on standard output")


def print_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for line in [headers, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


class StatusLine:
    """``line(fraction, message)``: one redrawn line on standard error when it is a terminal, else silent.

    For work measured in stages (a report, an explanation, the demo, a registry import); byte counts
    use ``ProgressBar``. Leaving its ``with`` block ends the line.
    """

    def __init__(self, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = enabled and self._stream.isatty()
        self._drawn = False

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.enabled:
            self._stream.write(f"\r[{fraction:6.1%}] {message}\033[K")
            self._stream.flush()
            self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()  # also on an error, so its message starts on a line of its own


class ProgressBar:
    """``bar(stage, done, total)``: one redrawn line on standard error when it is a terminal, else silent."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = self._stream.isatty()
        self._stage = ""
        self._last_draw = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        finished = total > 0 and done >= total
        # Redraw at most ~20 times a second, but always show a new stage and its end.
        if stage == self._stage and not finished and now - self._last_draw < 0.05:
            return
        if stage != self._stage and self._stage:
            self._stream.write("\n")
        self._stage, self._last_draw = stage, now
        fraction = min(done / total, 1.0) if total > 0 else 0.0
        filled = int(fraction * self.WIDTH)
        self._stream.write(
            f"\r{stage:<8} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction:6.1%}"
            f"  {done / 1e6:,.1f}/{total / 1e6:,.1f} MB"
        )
        self._stream.flush()

    def close(self) -> None:
        if self.enabled and self._stage:
            self._stream.write("\n")
            self._stream.flush()
            self._stage = ""
