"""First start on a real database: the first administrator, signing in, and the demo workspace offer.

The dialogs are opened with ``open()`` and driven with pytest-qt; users are real (argon2id, sealed
keys) and checked through the ordinary service, the demo is really built.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from signoff.domain.users import Role
from signoff.services.analysis_runs import list_analyses
from signoff.services.audit import list_audit_events
from signoff.services.demo import DEMO_MODEL
from signoff.services.identity import os_login_name
from signoff.services.models import add_model_version, list_model_versions
from signoff.services.users import add_user, authenticate, has_users
from signoff.ui import first_start as first_start_module
from signoff.ui.first_start import (
    PASSWORDS_DIFFER,
    DemoOfferDialog,
    FirstAdminDialog,
    FirstStart,
    SignInDialog,
)
from signoff.ui.main_window import MainWindow

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _no_remembered_username():
    QSettings().remove(first_start_module.LAST_USER_KEY)
    yield
    QSettings().remove(first_start_module.LAST_USER_KEY)


@pytest.fixture
def window(qtbot, context):
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    return window


def _grab_dialog(dialog, path) -> None:
    dialog.show()
    QApplication.processEvents()
    assert dialog.grab().save(str(path))


def test_first_administrator_then_the_demo_offer_on_an_empty_database(qtbot, context, window, screenshots):
    flow = FirstStart(context, window)
    flow.start()
    dialog = flow.dialog
    assert isinstance(dialog, FirstAdminDialog) and dialog.isVisible()
    dialog.username.setText("ada")
    qtbot.keyClicks(dialog.full_name, "Ada Lovelace")
    qtbot.keyClicks(dialog.email, "ada@example.org")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.repeat, PASSWORD + "!")
    dialog.create_button.click()
    assert dialog.error.isVisible() and PASSWORDS_DIFFER in dialog.error.text().lower()
    assert not has_users(context.db) and context.user is None
    _grab_dialog(dialog, screenshots / "first-start-1-first-administrator.png")

    qtbot.keyClicks(dialog.repeat, PASSWORD)
    with qtbot.waitSignal(context.user_changed, timeout=30000):
        dialog.create_button.click()
    assert context.user is not None and context.user.username == "ada"
    assert context.actor == "ada"
    assert context.user.roles == frozenset({Role.ADMIN, Role.REVIEWER})
    # The password typed in the dialog is the account's password, checked by the ordinary sign-in.
    assert authenticate(context.db, "ada", PASSWORD).full_name == "Ada Lovelace"
    created = [e for e in list_audit_events(context.db) if e.action == "user.created"]
    assert [(e.actor, e.payload["first_administrator"]) for e in created] == [("ada", True)]
    assert "Ada Lovelace (ada)" in window.who_label.text()

    qtbot.waitUntil(lambda: isinstance(flow.dialog, DemoOfferDialog), timeout=5000)
    offer = flow.dialog
    assert offer.build_button.accessibleName() and offer.empty_button.text() == "Start empty"
    _grab_dialog(offer, screenshots / "first-start-2-demo-offer.png")
    with qtbot.waitSignal(flow.finished, timeout=5000):
        offer.empty_button.click()
    assert list_model_versions(context.db) == []


def test_first_administrator_refused_is_shown_in_the_dialog(qtbot, context, window):
    dialog = window.open_sign_in()
    assert isinstance(dialog, FirstAdminDialog)
    dialog.username.setText("Not Valid!")
    dialog.full_name.setText("Someone")
    dialog.email.setText("someone@example.org")
    dialog.password.setText("short")
    dialog.repeat.setText("short")
    dialog.create_button.click()
    qtbot.waitUntil(dialog.error.isVisible, timeout=10000)
    assert "not valid" in dialog.error.text() and dialog.create_button.isEnabled()
    assert not has_users(context.db) and context.user is None


def test_sign_in_failure_then_success(qtbot, context, window, screenshots):
    add_user(
        context.db,
        None,
        username="grace",
        full_name="Grace Hopper",
        email="grace@example.org",
        roles=frozenset({Role.ADMIN}),
        password=PASSWORD,
    )
    add_model_version(context.db, name="credit", version="1", actor="tester")  # so no demo offer follows
    flow = FirstStart(context, window)
    flow.start()
    dialog = flow.dialog
    assert isinstance(dialog, SignInDialog)
    qtbot.keyClicks(dialog.username, "grace")
    qtbot.keyClicks(dialog.password, "wrong password")
    dialog.sign_in_button.click()
    assert not dialog.sign_in_button.isEnabled()
    dialog.reject()  # Escape while the password is checked: ignored, the answer is still to come
    assert dialog.isVisible()
    qtbot.waitUntil(dialog.error.isVisible, timeout=20000)
    assert dialog.sign_in_button.isEnabled()
    assert dialog.error.text() == "Wrong username or password."
    assert dialog.password.text() == "" and dialog.isVisible()
    assert context.user is None and context.actor == "tester"
    failures = [e for e in list_audit_events(context.db) if e.action == "auth.failed"]
    assert [(e.entity, e.payload["reason"]) for e in failures] == [("user:grace", "wrong password")]
    _grab_dialog(dialog, screenshots / "first-start-3-sign-in-refused.png")

    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(flow.finished, timeout=20000):
        dialog.sign_in_button.click()
    assert context.user is not None and context.user.username == "grace" and context.actor == "grace"
    assert "Grace Hopper (grace)" in window.who_label.text()
    signed_in = [(e.actor, e.entity) for e in list_audit_events(context.db) if e.action == "auth.signed_in"]
    assert signed_in == [("grace", "user:grace")]  # the session's start is in the audit trail
    assert flow.dialog is None  # the database has a model version: no demo offer
    again = window.open_sign_in()  # File > Sign in…: the last username is remembered
    assert again.username.text() == "grace" and again.password.text() == ""
    again.reject()


def test_cancel_continues_read_only_as_the_os_login(qtbot, context, window):
    add_user(
        context.db,
        None,
        username="grace",
        full_name="Grace Hopper",
        email="grace@example.org",
        roles=frozenset({Role.ADMIN}),
        password=PASSWORD,
    )
    context.sign_in(None)
    flow = FirstStart(context, window)
    flow.start()
    assert isinstance(flow.dialog, SignInDialog)
    flow.dialog.reject()
    assert context.user is None and context.actor == os_login_name()
    assert isinstance(flow.dialog, DemoOfferDialog)  # empty database: the offer still follows
    with qtbot.waitSignal(flow.finished):
        flow.dialog.reject()


def test_the_demo_is_built_through_the_offer(qtbot, context, window, screenshots):
    flow = FirstStart(context, window)
    flow.offer_demo()
    offer = flow.dialog
    assert isinstance(offer, DemoOfferDialog)
    progress: list[float] = []
    context.job_started.connect(
        lambda job, _title: job.signals.progress.connect(lambda f, _m: progress.append(f))
    )
    with qtbot.waitSignal(flow.demo_built, timeout=300000) as built:
        offer.build_button.click()
    summary = built.args[0]
    assert [v.version for v in summary.versions] == ["1", "2"]
    assert progress and progress == sorted(progress) and len(progress) > 10
    registry = window.pages["registry"]
    top = [registry.model.item(r).text() for r in range(registry.model.rowCount())]
    assert top == [DEMO_MODEL]
    assert [registry.model.item(0).child(r).text() for r in range(2)] == ["v2", "v1"]
    assert context.version is not None and (context.version.name, context.version.version) == (
        DEMO_MODEL,
        "2",
    )
    kinds = {run.kind for run in list_analyses(context.db, model_version_id=context.version.id)}
    assert kinds == {"validation", "fairness", "performance", "monitoring", "drift", "shap", "policy"}
    assert {e.actor for e in list_audit_events(context.db)} == {"tester"}
    window.show_page("Registry")
    QApplication.processEvents()
    assert window.grab().save(str(screenshots / "first-start-4-registry-after-demo.png"))


def test_a_database_with_versions_gets_no_offer(qtbot, context, window):
    add_model_version(context.db, name="credit", version="1", actor="tester")
    flow = FirstStart(context, window)
    with qtbot.waitSignal(flow.finished, timeout=1000):
        flow.offer_demo()
    assert flow.dialog is None


def test_screenshot_mode_and_the_skip_variable_start_no_dialog(qtbot, ui_db, monkeypatch):
    from signoff.ui.application import open_main_window

    # Interactive on an empty database: the flow starts by itself once the window is up.
    window, flow = open_main_window(ui_db, interactive=True)
    qtbot.addWidget(window)
    assert flow is not None
    qtbot.waitUntil(lambda: isinstance(flow.dialog, FirstAdminDialog), timeout=5000)
    flow.dialog.reject()
    flow.dialog.reject()  # the demo offer that follows
    window.context.close()

    # `signoff app --screenshot` is not interactive: nothing may wait for a click.
    shot, none = open_main_window(ui_db, page="Audit trail", interactive=False)
    qtbot.addWidget(shot)
    assert none is None and shot.stack.currentWidget() is shot.pages["audit trail"]
    shot.context.close()

    monkeypatch.setenv(first_start_module.SKIP_VARIABLE, "1")
    skipped, none = open_main_window(ui_db, interactive=True)
    qtbot.addWidget(skipped)
    assert none is None
    skipped.context.close()
    monkeypatch.setenv(first_start_module.SKIP_VARIABLE, "0")
    assert not first_start_module.first_start_skipped()
