"""Services: the use cases, each one transaction that also writes its audit event.

The desktop app and the CLI call these and nothing below them, except ``open_database`` (re-exported
here) to get the ``Database`` every use case takes. No SQL here: storage hands over domain objects.

The re-export is resolved on first use (PEP 562), so a use case that needs no database, such as checking
an exported report with the file alone, does not import SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from signoff.storage import Database, open_database

__all__ = ["Database", "open_database"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import signoff.storage

        return getattr(signoff.storage, name)
    raise AttributeError(f"module 'signoff.services' has no attribute {name!r}")
