"""The main window on a real database: pages, navigation, registry browser and audit trail."""

from signoff import __version__
from signoff.services.audit import list_audit_events
from signoff.services.models import add_model_version
from signoff.ui.main_window import PAGE_TYPES, MainWindow
from signoff.ui.pages.audit_page import AuditEventsModel
from signoff.ui.pages.registry_page import VERSION_ROLE, build_registry_model


def test_every_page_renders_and_is_saved_for_a_look(qtbot, context, screenshots):
    add_model_version(
        context.db, name="credit-risk", version="1", description="Lending model", actor="tester"
    )
    add_model_version(context.db, name="credit-risk", version="2", actor="tester")
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    for page_type in PAGE_TYPES:
        window.show_page(page_type.title)
        assert window.stack.currentWidget() is window.pages[page_type.title.lower()]
        path = screenshots / f"page-{page_type.title.lower().replace(' ', '-')}.png"
        assert window.grab().save(str(path))

    # Help > Keyboard shortcuts lists exactly the shortcuts each built page really has.
    from PySide6.QtGui import QKeySequence, QShortcut
    from PySide6.QtWidgets import QAbstractButton

    from signoff.ui.main_window import PAGE_SHORTCUTS

    def keys(text):
        return QKeySequence(text).toString()

    for page_type in PAGE_TYPES:
        page = window.pages[page_type.title.lower()]
        real = {s.key().toString() for s in page.findChildren(QShortcut)}
        real |= {
            b.shortcut().toString()
            for b in page.findChildren(QAbstractButton)
            # an underlined letter (Alt+key) is shown on the button itself
            if not b.shortcut().isEmpty() and b.shortcut() != QKeySequence.mnemonic(b.text())
        }
        listed = {keys(k) for k, _what in PAGE_SHORTCUTS.get(page_type.title, ())}
        assert real == listed, page_type.title
    dialog = window.show_shortcuts()
    qtbot.waitExposed(dialog)
    rows = {tuple(dialog.table.item(r, c).text() for c in range(3)) for r in range(dialog.table.rowCount())}
    assert (keys("Ctrl+1"), "Show the Registry page", "anywhere") in rows
    assert (keys("F1"), "Keyboard shortcuts", "anywhere") in rows
    assert (keys("Ctrl+W"), "Waive the selected failed rule", "Policy page") in rows
    assert dialog.grab().save(str(screenshots / "help-shortcuts.png"))
    dialog.close()
    about = window.show_about()
    assert __version__ in about.text() and f"Database in use: {context.db.url}" in about.text()
    about.close()


def test_registry_tree_groups_versions_and_selection_sets_the_context(qtbot, context, qtmodeltester):
    v1 = add_model_version(context.db, name="credit-risk", version="1", actor="tester")
    add_model_version(context.db, name="credit-risk", version="10", actor="tester")
    add_model_version(context.db, name="Zoë churn", version="2", actor="tester")
    window = MainWindow(context)
    qtbot.addWidget(window)
    page = window.pages["registry"]
    qtmodeltester.check(page.model)
    assert [page.model.item(r).text() for r in range(page.model.rowCount())] == ["credit-risk", "Zoë churn"]
    # newest version first, compared as numbers (10 after 1)
    assert page.model.item(0).child(0).text() == "v10"
    with qtbot.waitSignal(context.version_changed):
        page.select(v1)
    assert context.version == v1
    page.search.setText("zoë")
    assert page.proxy.rowCount() == 1


def test_new_version_appears_without_reload(qtbot, context):
    window = MainWindow(context)
    qtbot.addWidget(window)
    page = window.pages["registry"]
    assert page.model.rowCount() == 0
    add_model_version(context.db, name="fraud", version="1", actor="tester")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=3000)


def test_audit_page_lists_filters_and_verifies(qtbot, context, qtmodeltester):
    add_model_version(context.db, name="a", version="1", actor="tester")
    add_model_version(context.db, name="b", version="1", actor="tester")
    window = MainWindow(context)
    qtbot.addWidget(window)
    page = window.pages["audit trail"]
    qtmodeltester.check(page.model)
    assert page.model.rowCount() == len(list_audit_events(context.db)) == 2
    page.model_name.setCurrentIndex(page.model_name.findData("a"))
    assert page.model.rowCount() == 1
    page.verify()
    qtbot.waitUntil(lambda: "Intact" in page.verdict.text(), timeout=10000)
    assert "2 events verified" in page.verdict.text()


def test_audit_events_model_on_its_own(qtmodeltester):
    qtmodeltester.check(AuditEventsModel([]))


def test_registry_model_holds_versions(context):
    version = add_model_version(context.db, name="m", version="1.2", actor="tester")
    model = build_registry_model([version])
    assert model.item(0).child(0).data(VERSION_ROLE) == version


def test_a_page_that_cannot_be_built_leaves_the_app_working(qtbot, context, monkeypatch):
    import signoff.ui.main_window as main_window
    from signoff.ui.main_window import LazyPage

    # A real import failure, as when a page's library (QtPdf, QtWebEngine) is missing on a machine.
    broken = LazyPage("Report", "signoff.ui.pages.report_page_that_is_not_installed:ReportPage")
    types = tuple(broken if t.title == "Report" else t for t in main_window.PAGE_TYPES)
    monkeypatch.setattr(main_window, "PAGE_TYPES", types)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    window.show_page("Report")
    shown = window.stack.currentWidget()
    assert shown.objectName() == "unavailable-page"
    assert "ModuleNotFoundError" in shown.text() and "other pages work" in shown.text()
    window.show_page("Settings")  # everything else still opens
    assert window.stack.currentWidget() is window.pages["settings"]
