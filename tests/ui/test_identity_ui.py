"""Identity in the desktop app: badges that show conditions and failing verdicts, the sign dialog's
plain-text labels and conditions, sign out and the idle lock (real widgets, offscreen)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFormLayout, QLabel

from signoff.domain.decision import Condition, ConditionStatus, ConditionTerms, PolicyVerdict, Verdict
from signoff.domain.evidence_bundle import EvidenceBundle, ReviewStatus
from signoff.domain.registry import ModelVersion
from signoff.domain.review import Review, ReviewState
from signoff.domain.users import Role
from signoff.services import users
from signoff.services.audit import list_audit_events
from signoff.ui.pages.review_dialogs import SignDialog
from signoff.ui.review_badge import review_badge
from signoff.ui.session_lock import IDLE_MINUTES_KEY, IdleLock, sign_out_of

TODAY = date(2026, 12, 7)
PASSWORD = "zoe password 666"


def _status(state: ReviewState, *, verdict=Verdict.NOT_EVALUATED, conditions=()) -> ReviewStatus:
    bundle = EvidenceBundle(model_version={"id": 1, "name": "credit", "version": "4"})
    review = Review(
        id=3,
        model_version_id=1,
        state=state,
        opened_by="alice",
        opened_at=datetime(2026, 12, 1, tzinfo=UTC),
        bundle_hash=bundle.hash,
    )
    return ReviewStatus(review, bundle, bundle.hash, PolicyVerdict(verdict), tuple(conditions))


def _condition(number: int, due: date, status=ConditionStatus.OPEN) -> Condition:
    return Condition(number, 3, number, ConditionTerms(f"condition {number}", "bob", due), status)


def test_badges_say_what_a_risk_officer_needs_at_a_glance():
    assert review_badge(_status(ReviewState.APPROVED)).text == "approved"
    open_two = [_condition(1, TODAY + timedelta(days=40)), _condition(2, TODAY + timedelta(days=10))]
    amber = review_badge(_status(ReviewState.APPROVED_WITH_CONDITIONS, conditions=open_two), TODAY)
    assert (amber.text, amber.colour) == ("approved with 2 open conditions, next due 2026-12-17", "#b9770e")
    late = [
        _condition(1, TODAY - timedelta(days=1)),
        _condition(2, TODAY + timedelta(days=3), ConditionStatus.CLOSED),
    ]
    red = review_badge(_status(ReviewState.APPROVED_WITH_CONDITIONS, conditions=late), TODAY)
    assert (red.text, red.colour) == ("approved with 1 open condition, OVERDUE since 2026-12-06", "#c0392b")
    done = [_condition(1, TODAY - timedelta(days=1), ConditionStatus.CLOSED)]
    assert review_badge(_status(ReviewState.APPROVED_WITH_CONDITIONS, conditions=done), TODAY).text == (
        "approved with conditions"
    )
    failing = review_badge(_status(ReviewState.IN_REVIEW, verdict=Verdict.FAIL))
    assert (failing.key, failing.text, failing.colour) == ("failing", "failing policy (in review)", "#c0392b")
    assert review_badge(_status(ReviewState.IN_REVIEW, verdict=Verdict.PASS)).text == "in review"
    assert review_badge(_status(ReviewState.REJECTED)).colour == "#c0392b"


def _sign_in(context):
    users.add_user(context.db, None, username="zoe", full_name="Zoë Ñúñez", email="zoe@example.org",
                   roles=frozenset({Role.ADMIN, Role.APPROVER}), password=PASSWORD)  # fmt: skip
    context.sign_in(users.sign_in(context.db, "zoe", PASSWORD))


def test_the_sign_dialog_shows_names_as_plain_text_and_takes_conditions(qtbot, context):
    _sign_in(context)
    hostile = "<b>already approved by Compliance</b>"
    version = ModelVersion(id=1, name=hostile, version="4", source="manual")
    dialog = SignDialog(context, _status(ReviewState.IN_REVIEW, verdict=Verdict.FAIL), version)
    qtbot.addWidget(dialog)
    labels = dialog.findChildren(QLabel)
    shown = [label for label in labels if hostile in label.text()]
    assert shown and all(label.textFormat() == Qt.TextFormat.PlainText for label in shown)
    for row in range(dialog.form.rowCount()):  # every label in a field (row captions are ours) is plain
        for role in (QFormLayout.ItemRole.FieldRole, QFormLayout.ItemRole.SpanningRole):
            item = dialog.form.itemAt(row, role)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QLabel):
                assert widget.textFormat() == Qt.TextFormat.PlainText, widget.text()
    assert dialog.verdict.text().startswith("FAIL")
    dialog.meaning.setCurrentIndex(dialog.meaning.findData("approved_with_conditions"))
    assert dialog.conditions.isVisibleTo(dialog) and dialog.justification.isVisibleTo(dialog)
    dialog.set_condition(0, "retrain on 2027 data", "bob", "2027-03-31")
    dialog.set_condition(1, "monthly report", "alice", "2027-01-31")
    typed = dialog.typed_conditions()
    assert [(t.text, t.owner, t.due) for t in typed] == [
        ("retrain on 2027 data", "bob", date(2027, 3, 31)),
        ("monthly report", "alice", date(2027, 1, 31)),
    ]
    dialog.meaning.setCurrentIndex(dialog.meaning.findData("approved"))
    assert not dialog.conditions.isVisibleTo(dialog)
    assert "the policy verdict is FAIL" in dialog.warning.text()


def test_idle_lock_keeps_the_session_and_sign_out_is_recorded(qtbot, context):
    QSettings().setValue(IDLE_MINUTES_KEY, 15)
    _sign_in(context)
    window = QLabel("work in progress")
    qtbot.addWidget(window)
    lock = IdleLock(context, window, lambda: sign_out_of(context))
    assert lock.timer.isActive() and lock.timer.interval() == 15 * 60_000
    dialog = lock.lock()  # as the timer does after 15 minutes without input
    assert dialog is not None and context.user is not None  # locked, still signed in: nothing lost
    dialog.password.setText("not the password")
    dialog.unlock()
    assert dialog.isVisible() and "wrong username or password" in dialog.error.text()
    dialog.password.setText(PASSWORD)
    dialog.unlock()
    assert not dialog.isVisible() and lock.dialog is None and context.user.username == "zoe"
    sign_out_of(context)
    assert context.user is None
    [event] = list_audit_events(context.db, action="auth.signed_out")
    assert event.actor == "zoe" and event.payload["session"]["authenticated_by"] == "desktop"
    assert context.db.session_facts is None


def test_an_administrator_manages_accounts_in_the_app(qtbot, context):
    from signoff.ui.user_admin import AddUserDialog, DisableDialog, ResetDialog, RolesDialog, UsersDialog

    _sign_in(context)
    accounts = UsersDialog(context)
    qtbot.addWidget(accounts)
    assert accounts.add_button.isEnabled()

    def run(dialog):
        with qtbot.waitSignal(dialog.succeeded, timeout=30000):
            dialog.ok_button.click()

    add = AddUserDialog(context, accounts)
    add.succeeded.connect(lambda _user: accounts.reload())
    for field, text in ((add.username, "bob"), (add.full_name, "Bob Brown"), (add.email, "bob@example.org"),
                        (add.roles, "reviewer"), (add.password, "Password1234")):  # fmt: skip
        field.setText(text)
    add.ok_button.click()  # a common password: refused inside the dialog, nothing stored
    qtbot.waitUntil(lambda: "commonly used" in add.message.text(), timeout=30000)
    assert [u.username for u in users.list_users(context.db)] == ["zoe"]
    add.password.setText("bob password 22")
    run(add)
    bob = next(u for u in users.list_users(context.db) if u.username == "bob")
    run_roles = RolesDialog(context, bob, accounts)
    run_roles.roles.setText("reviewer, approver")
    run(run_roles)
    reset = ResetDialog(context, bob, accounts)
    reset.password.setText("temporary pass 77")
    run(reset)
    disable = DisableDialog(context, bob, accounts)
    disable.reason.setText("left the team")
    run(disable)
    bob = next(u for u in users.list_users(context.db) if u.username == "bob")
    assert bob.roles == {Role.REVIEWER, Role.APPROVER} and bob.must_change_password and bob.disabled
    actions = [e.action for e in reversed(list_audit_events(context.db, entity="user:bob"))]
    assert actions == ["user.created", "user.roles_changed", "user.password_reset", "user.disabled"]
    assert all(e.actor == "zoe" for e in list_audit_events(context.db) if e.entity == "user:bob")
