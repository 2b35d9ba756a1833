"""How repositories change state: through the guard functions on PostgreSQL, plain SQL on SQLite.

On PostgreSQL (a team database) members may not UPDATE, DELETE or lock rows: each change of state is a
call to a function of migration ``0013_guards`` that checks who asks, with the triggers of
``0008_tamper`` checking the rule. An SQLite file has one user and keeps plain UPDATEs under its triggers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session


def guarded(session: Session) -> bool:
    """Whether changes of state in this session go through the guard functions."""
    return session.get_bind().dialect.name == "postgresql"


def call(session: Session, function: str, *arguments: Any) -> Any:
    """Run the guard function ``function`` (e.g. ``signoff_save_review``) and return its result."""
    return session.execute(select(getattr(func, function)(*arguments))).scalar()


def lock(session: Session, table: str, *key: object) -> None:
    """Lock a row until commit (``SELECT ... FOR UPDATE`` needs UPDATE rights members do not have)."""
    call(session, "signoff_lock", table, *(str(part) for part in key))
