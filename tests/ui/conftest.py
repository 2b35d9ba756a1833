"""UI tests get a real SQLite database in a temporary folder and an ``AppContext`` over it."""

import pytest

from signoff.services import open_database
from signoff.ui.context import AppContext


@pytest.fixture
def ui_db(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'ui.db'}")
    yield db
    db.close()


@pytest.fixture
def context(ui_db, qtbot):
    ctx = AppContext(ui_db, actor="tester")
    yield ctx
    ctx.close()


@pytest.fixture
def screenshots(request):
    """Folder for screenshots a human looks at: test-artifacts/screenshots in the checkout."""
    from pathlib import Path

    folder = Path(request.config.rootpath) / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
