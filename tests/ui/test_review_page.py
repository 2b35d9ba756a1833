"""The Review page, its dialogs and the registry's review badges, on a real SQLite database.

The world (users with real keys and passwords, model ``credit`` v4 with one log and one fairness run
by dave) comes from ``tests/review_world.py``; it is built once and copied for each test. Every
expectation is reasoned from the rules in ``domain/review.py`` and checked against the database
through ``services.reviews``, never against what the page itself computed.
"""

from __future__ import annotations

import hashlib
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from review_world import PASSWORDS, World, build_world
from signoff.domain.review import FindingStatus, ReviewState, Severity, SignatureMeaning
from signoff.domain.users import Role
from signoff.services import reviews
from signoff.services.analysis_runs import record_analysis
from signoff.services.logs import get_log
from signoff.services.models import get_model_version
from signoff.services.users import authenticate
from signoff.storage import open_database
from signoff.ui.context import AppContext
from signoff.ui.main_window import MainWindow
from signoff.ui.pages.registry_page import BADGE_ROLE
from signoff.ui.pages.review_dialogs import OpenReviewDialog
from signoff.ui.pages.review_page import FindingsModel, ReviewsModel, SignaturesModel


@pytest.fixture(scope="session")
def world_template(tmp_path_factory) -> tuple[str, World]:
    path = tmp_path_factory.mktemp("ui-review-world") / "world.db"
    with open_database(f"sqlite:///{path}") as db:
        world = build_world(db)
    return str(path), world


@pytest.fixture
def world(world_template) -> World:
    return world_template[1]


@pytest.fixture
def review_db(world_template, tmp_path):
    target = tmp_path / "world-copy.db"
    shutil.copyfile(world_template[0], target)
    db = open_database(f"sqlite:///{target}")
    yield db
    db.close()


@pytest.fixture
def context(review_db, qtbot):
    ctx = AppContext(review_db, actor="tester")
    ctx.select_version(get_model_version(review_db, "credit", "4"))
    yield ctx
    ctx.close()


@pytest.fixture
def window(context, qtbot):
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.show()
    main.show_page("Review")
    return main


def sign_in(context, username):
    context.sign_in(authenticate(context.db, username, PASSWORDS[username]))


def submitted_review(db, world, opener="alice") -> int:
    status = reviews.open_review(
        db, opener, model_version_id=world.model_version_id, title="credit v4 release"
    )
    return reviews.submit(db, opener, status.review.id).review.id


def finish(qtbot, page, dialog):
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: page.dialog is None, timeout=30000)


def test_open_review_write_and_resolve_a_finding_and_submit(
    qtbot, context, window, world, screenshots, tmp_path
):
    page = window.pages["review"]
    assert page.reviews_model.rowCount() == 0 and "none yet" in page.heading.text()
    sign_in(context, "alice")

    window.activateWindow()
    window.pages["report"].path_edit.setText(str(tmp_path / "not-exported.pdf"))
    qtbot.keyClick(window.pages["report"], Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(300)  # a button's shortcut clicks after a short animation
    assert window.pages["report"].result.text() == "No report exported in this session."  # page hidden
    qtbot.keyClick(
        page, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: page.dialog is not None)
    dialog = page.dialog
    assert isinstance(dialog, OpenReviewDialog) and dialog.isVisible()
    assert dialog.logs.count() == 1 and dialog.chosen_logs() == [world.log_id]
    dialog.title_edit.setText("credit v4 release")
    dialog.reviewers.setValue(1)
    dialog.approvers.setValue(2)
    assert dialog.grab().save(str(screenshots / "review-open-dialog.png"))
    finish(qtbot, page, dialog)
    [stored] = reviews.list_reviews(context.db, model_version_id=world.model_version_id)
    assert stored.review.opened_by == "alice" and stored.review.state is ReviewState.DRAFT
    assert [log.log_id for log in stored.bundle.logs] == [world.log_id]
    assert [(r.role, r.count) for r in stored.review.requirements] == [(Role.REVIEWER, 1), (Role.APPROVER, 2)]
    qtbot.waitUntil(lambda: page.reviews_model.rowCount() == 1)
    assert page.reviews_model.index(0, 2).data() == "draft review"
    assert page.bundle_hash.text() == stored.bundle.hash
    assert "Needs 1 reviewer, 2 approver" in page.must_sign.text()

    dialog = page.add_finding()
    dialog.title_edit.setText("few applicants under 21")
    dialog.severity_box.setCurrentIndex(dialog.severity_box.findData("high"))
    dialog.description.setPlainText("Only 41 rows with age < 21 in the validation log.")
    finish(qtbot, page, dialog)
    [finding] = reviews.show(context.db, stored.review.id).review.findings
    assert (finding.number, finding.title, finding.severity, finding.author) == (
        1,
        "few applicants under 21",
        Severity.HIGH,
        "alice",
    )
    qtbot.waitUntil(lambda: page.findings_model.rowCount() == 1)

    page.findings_table.setCurrentIndex(page.findings_model.index(0, 0))
    dialog = page.resolve_finding()
    assert dialog.status_box.currentData() == "resolved"
    finish_blocked = dialog.ok_button  # a resolution is required: refused inside the dialog
    finish_blocked.click()
    qtbot.waitUntil(lambda: "without a resolution" in dialog.message.text(), timeout=10000)
    assert reviews.show(context.db, stored.review.id).review.findings[0].status is FindingStatus.OPEN
    dialog.resolution.setPlainText("Weighted the under-21 group; metrics re-run.")
    finish(qtbot, page, dialog)
    resolved = reviews.show(context.db, stored.review.id).review.findings[0]
    assert resolved.status is FindingStatus.RESOLVED and resolved.resolution.startswith("Weighted")

    page.submit()
    qtbot.waitUntil(lambda: page.selected().review.state is ReviewState.IN_REVIEW, timeout=10000)
    assert reviews.show(context.db, stored.review.id).review.state is ReviewState.IN_REVIEW
    assert "Still to sign: <b>1 more reviewer, 2 more approver" in page.must_sign.text()
    assert page.sign_button.isEnabled() and not page.submit_button.isEnabled()
    assert window.grab().save(str(screenshots / "page-review-in-review.png"))


def test_sign_dialog_shows_what_is_signed_and_a_wrong_password_stores_nothing(
    qtbot, context, window, world, screenshots
):
    review_id = submitted_review(context.db, world)
    page = window.pages["review"]
    page.reload()
    sign_in(context, "bob")
    dialog = page.sign()
    shown_hash = dialog.bundle_label.text()
    with context.db.transaction(write=False) as uow:  # the hash shown is the SHA-256 of the stored bundle
        assert hashlib.sha256(uow.evidence.read_bytes(shown_hash)).hexdigest() == shown_hash
    assert shown_hash == reviews.show(context.db, review_id).bundle.hash and len(shown_hash) == 64
    assert dialog.chosen_meaning() is SignatureMeaning.REVIEWED  # bob is a reviewer only
    assert dialog.signer.text() == "Bob Brown (bob) · signs as reviewer"
    assert "opened this review (alice)" in dialog.rule.text() and "(dave)" in dialog.rule.text()
    texts = " ".join(label.text() for label in dialog.findChildren(type(dialog.signer)))
    assert "credit v4" in texts and f"#{review_id} “credit v4 release”" in texts
    dialog.password.setText("not bob's password")
    assert dialog.grab().save(str(screenshots / "review-sign-dialog.png"))
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "wrong username or password" in dialog.message.text(), timeout=30000)
    assert dialog.isVisible() and dialog.password.text() == ""
    assert reviews.show(context.db, review_id).review.signatures == ()
    assert dialog.grab().save(str(screenshots / "review-sign-dialog-refused.png"))

    dialog.password.setText(PASSWORDS["bob"])
    finish(qtbot, page, dialog)
    [signature] = reviews.show(context.db, review_id).review.signatures
    assert (signature.signer, signature.printed_name, signature.role, signature.meaning) == (
        "bob",
        "Bob Brown",
        Role.REVIEWER,
        SignatureMeaning.REVIEWED,
    )
    assert signature.bundle_hash == shown_hash
    qtbot.waitUntil(lambda: page.signatures_model.rowCount() == 1)
    assert page.signatures_model.index(0, 5).data() == "current"
    assert "Still to sign: <b>1 more approver" in page.must_sign.text()
    # Asking again: the dialog warns with the domain's own refusal before any password is typed.
    qtbot.waitUntil(page.sign_button.isEnabled, timeout=10000)
    again = page.sign()
    assert (
        again.warning.isVisible() and "'bob' has already signed the current evidence" in again.warning.text()
    )
    again.reject()


def test_four_eyes_refusal_is_shown_in_the_dialog(qtbot, context, window, world):
    review_id = submitted_review(context.db, world)
    page = window.pages["review"]
    page.reload()
    sign_in(context, "dave")  # approver, but produced the fairness run in the evidence
    dialog = page.sign()
    dialog.meaning.setCurrentIndex(dialog.meaning.findData("approved"))
    warned = dialog.warning.text()
    assert dialog.warning.isVisible() and "'dave' cannot sign" in warned and "produced analyses" in warned
    dialog.password.setText(PASSWORDS["dave"])
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "four-eyes rule" in dialog.message.text(), timeout=30000)
    assert "produced analyses in its evidence" in dialog.message.text()
    # The warning said beforehand exactly what the service then refused with.
    assert dialog.message.text().rstrip(".") in warned
    assert reviews.show(context.db, review_id).review.signatures == ()
    dialog.reject()


def test_nobody_signed_in_types_a_username_and_cannot_change_reviews(qtbot, context, window, world):
    review_id = submitted_review(context.db, world)
    page = window.pages["review"]
    page.reload()
    assert page.add_finding() is None
    [box] = [b for b in page.findChildren(QMessageBox) if b.isVisible()]
    assert "sign in first" in box.text()
    box.close()
    assert reviews.show(context.db, review_id).review.findings == ()

    dialog = page.sign()
    assert dialog.username.isVisible()
    dialog.username.setText("carol")
    assert dialog.signer.text() == "Carol Çelik (carol) · signs as approver"
    dialog.meaning.setCurrentIndex(dialog.meaning.findData("approved_with_conditions"))
    dialog.justification.setPlainText("usable for the pilot while the gap is closed")
    dialog.set_condition(0, "re-check after one quarter", "bob", "2099-03-31")
    dialog.password.setText(PASSWORDS["carol"])
    finish(qtbot, page, dialog)
    [signature] = reviews.show(context.db, review_id).review.signatures
    assert (signature.signer, signature.meaning) == ("carol", SignatureMeaning.APPROVED_WITH_CONDITIONS)


def test_badges_follow_the_review_and_stale_evidence(
    qtbot, qtmodeltester, context, window, world, screenshots
):
    db = context.db
    registry = window.pages["registry"]
    page = window.pages["review"]

    def badge():
        version_row = registry.model.item(0).child(0)
        return registry.model.item(0).child(0, 2).data(BADGE_ROLE), version_row.text()

    assert badge() == ("none", "v4")
    opened = reviews.open_review(db, "alice", model_version_id=world.model_version_id, title="release")
    review_id = opened.review.id
    qtbot.waitUntil(lambda: badge()[0] == "draft")
    reviews.submit(db, "alice", review_id)
    qtbot.waitUntil(lambda: badge()[0] == "in_review")
    reviews.sign(db, review_id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")
    qtbot.wait(200)
    assert badge()[0] == "in_review"  # one approver still missing
    reviews.sign(db, review_id, username="carol", password=PASSWORDS["carol"], meaning="approved")
    qtbot.waitUntil(lambda: badge()[0] == "approved")
    assert registry.model.item(0).child(0, 2).text() == "approved"
    assert not page.banner.isVisible() or not page.isVisible()

    # A re-run of the fairness analysis on the same log replaces the run in the bundle: new hash,
    # so both signatures now cover old evidence.
    log = get_log(db, world.log_id)
    record_analysis(
        db,
        kind="fairness",
        model_version_id=world.model_version_id,
        inputs={"log": log.evidence_sha256},
        parameters={"attributes": ["sex", "age"]},
        engine_version="test 1",
        result={"impact_ratio": 0.78},
        actor="erin",
    )
    qtbot.waitUntil(lambda: badge()[0] == "stale")
    assert registry.model.item(0).child(0, 2).text() == "stale"
    registry.status_filter.setCurrentIndex(registry.status_filter.findData("approved"))
    assert registry.proxy.rowCount() == 0
    registry.status_filter.setCurrentIndex(registry.status_filter.findData("stale"))
    assert registry.proxy.rowCount() == 1
    qtmodeltester.check(registry.proxy)
    window.show_page("Registry")
    assert window.grab().save(str(screenshots / "page-registry-badges.png"))

    window.show_page("Review")
    qtbot.waitUntil(lambda: page.banner.isVisible())
    assert "STALE" in page.banner.text() and "2 signature(s)" in page.banner.text()
    assert [page.signatures_model.index(r, 5).data() for r in range(2)] == [
        "STALE: evidence changed since"
    ] * 2
    status = reviews.show(db, review_id)
    assert status.review.is_stale and status.review.state is ReviewState.APPROVED
    assert window.grab().save(str(screenshots / "page-review-stale.png"))

    sign_in(context, "carol")
    dialog = page.revoke()
    dialog.reason.setPlainText("the fairness analysis was re-run with age: re-review")
    finish(qtbot, page, dialog)
    assert reviews.show(db, review_id).review.state is ReviewState.REVOKED
    qtbot.waitUntil(lambda: badge()[0] == "revoked")
    assert not page.banner.isVisible()


def test_item_models_pass_qtmodeltester(qtmodeltester, context, world):
    review_id = submitted_review(context.db, world)
    reviews.add_finding(
        context.db, "alice", review_id, type="limitation", severity="low", title="small sample"
    )
    reviews.sign(context.db, review_id, username="bob", password=PASSWORDS["bob"], meaning="reviewed")
    status = reviews.show(context.db, review_id)
    for model, fill in (
        (ReviewsModel(), lambda m: m.set_rows([status])),
        (FindingsModel(), lambda m: m.set_rows(status.review.findings)),
        (SignaturesModel(), lambda m: m.set_review(status.review)),
    ):
        qtmodeltester.check(model)
        fill(model)
        assert model.rowCount() == 1
        qtmodeltester.check(model)


def test_evidence_that_moved_while_the_dialog_was_open_is_not_signed(
    qtbot, context, window, world, screenshots
):
    review_id = submitted_review(context.db, world)
    page = window.pages["review"]
    page.reload()
    sign_in(context, "bob")
    dialog = page.sign()
    shown = dialog.bundle_label.text()
    # Meanwhile alice adds a finding: the bundle the dialog shows is no longer the review's evidence.
    reviews.add_finding(
        context.db, "alice", review_id, type="observation", severity="info", title="late note"
    )
    assert reviews.show(context.db, review_id).bundle.hash != shown
    dialog.password.setText(PASSWORDS["bob"])
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "reload and retry" in dialog.message.text(), timeout=30000)
    assert reviews.show(context.db, review_id).review.signatures == ()
    dialog.reject()
    qtbot.waitUntil(lambda: page.dialog is None)

    page.findings_table.setCurrentIndex(page.findings_model.index(0, 0))
    edit = page.edit_finding()
    assert edit.title_edit.text() == "late note" and not edit.type_box.isEnabled()
    assert edit.grab().save(str(screenshots / "review-finding-dialog.png"))
    edit.reject()
