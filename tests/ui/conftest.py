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


@pytest.fixture(autouse=True)
def _delete_closed_widgets(qapp):
    """Really delete the widgets pytest-qt closed after each test.

    pytest-qt closes a test's widgets with ``deleteLater()``, but ``processEvents()`` never delivers
    deferred deletions outside an event loop, so windows with web views lived until interpreter exit,
    where Qt WebEngine's profile was released before its pages and the process crashed (exit 139)
    after every test had passed.
    """
    yield
    import gc

    from PySide6.QtCore import QEvent

    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
