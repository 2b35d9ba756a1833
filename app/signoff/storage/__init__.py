"""Storage: the only layer that speaks SQL (SQLAlchemy 2 and Alembic).

``open_database(url)`` returns a ``Database``; ``with db.transaction() as uow:`` gives the repositories
of one transaction (``uow.models``, ``uow.evidence``, ``uow.audit``, ``uow.logs``,
``uow.analysis_runs``, ``uow.waivers``), which hand frozen domain objects upward. See docs/architecture.md.
"""

from signoff.storage.database import Database, UnitOfWork, open_database

__all__ = ["Database", "UnitOfWork", "open_database"]
