"""Services: the use cases, each one transaction that also writes its audit event.

The desktop app and the CLI call these and nothing below them, except ``open_database`` (re-exported
here) to get the ``Database`` every use case takes. No SQL here: storage hands over domain objects.
"""

from signoff.storage import Database, open_database

__all__ = ["Database", "open_database"]
