"""Where the database is when none is named: ``$SIGNOFF_DB``, else a file in the user's data folder.

Kept apart from ``storage.database`` so that deciding whether a database is at hand (``signoff verify
REPORT.pdf`` checks the file alone when none is) imports no SQLAlchemy.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

ENV_VAR = "SIGNOFF_DB"
DEFAULT_FILE_NAME = "signoff.db"


def default_database_path() -> Path:
    return Path(platformdirs.user_data_dir("Signoff", appauthor=False)) / DEFAULT_FILE_NAME
