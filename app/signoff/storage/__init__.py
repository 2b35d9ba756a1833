"""Storage: the only layer that speaks SQL (SQLAlchemy 2 and Alembic).

``open_database(url)`` returns a ``Database``; ``with db.transaction() as uow:`` gives the repositories
of one transaction (``uow.models``, ``uow.evidence``, ``uow.audit``, ``uow.logs``,
``uow.analysis_runs``, ``uow.waivers``), which hand frozen domain objects upward. See docs/architecture.md.

The names below are resolved on first use (PEP 562): importing a light submodule such as
``storage.location`` does not import SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from signoff.storage.database import Database, UnitOfWork, open_database

__all__ = ["Database", "UnitOfWork", "open_database"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from signoff.storage import database

        return getattr(database, name)
    raise AttributeError(f"module 'signoff.storage' has no attribute {name!r}")
