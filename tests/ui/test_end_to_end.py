"""One sign-off from start to finish through the real widgets of one main window, on a real SQLite file.

A user signs in through the sign-in dialog, imports a prediction log through the wizard, analyses its
fairness, opens a review, writes a finding, submits and signs it; a second user signs in and approves;
the report is exported and verified and the audit chain checked. Only the two accounts and the bare
model version are made through services (the app has no page for either).

Every expectation is reasoned by hand from the log written below, never read back from the app:

    gender M: 60 rows, 30 predicted 1 -> selection rate 30/60 = 0.500 (largest group: the reference)
    gender F: 40 rows, 12 predicted 1 -> selection rate 12/40 = 0.300
    impact ratio = rate / highest rate: M 0.500/0.500 = 1.000, F 0.300/0.500 = 0.600

The review needs one reviewer and one approver signature; the author signs as reviewer, the second
user as approver, so the review (and the registry badge) is "approved".
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QWizard

from signoff.domain.review import ReviewState, SignatureMeaning
from signoff.domain.users import Role
from signoff.services import reviews
from signoff.services.logs import list_logs
from signoff.services.models import add_model_version
from signoff.services.users import add_user
from signoff.ui import first_start
from signoff.ui.first_start import SignInDialog
from signoff.ui.main_window import MainWindow
from signoff.ui.pages.registry_page import BADGE_ROLE
from signoff.ui.pages.review_dialogs import FindingDialog, OpenReviewDialog, SignDialog
from signoff.ui.records_model import VALUE_ROLE
from signoff.ui.wizards.log_wizard import PREVIEW_ROWS, LogImportWizard

WAIT = 60000  # ms: generous, the machine may be busy
MODEL, VERSION = "loan-approval", "3"
# typed with QTest.keyClicks, which only knows ASCII keys: the passwords stay ASCII
AUTHOR = ("asa", "Åsa Lindqvist", "asa long password 1")
APPROVER = ("omer", "Ömer Çelik", "omer long password 2")
GROUPS = {"M": (60, 30), "F": (40, 12)}  # rows, predicted 1
RATES = {"M": "0.500", "F": "0.300"}  # 30/60, 12/40
IMPACT = {"M": "1.000", "F": "0.600"}  # each rate / 0.500
FINDING = "Few female applicants"


@pytest.fixture(autouse=True)
def _no_remembered_username():
    QSettings().remove(first_start.LAST_USER_KEY)
    yield
    QSettings().remove(first_start.LAST_USER_KEY)


def write_log(path: Path) -> Path:
    lines = ["applicant_id,event_time,repaid,prediction,score,gender,income"]
    i = 0
    for gender, (rows, selected) in GROUPS.items():
        for k in range(rows):
            chosen = k < selected
            lines.append(
                f"a{i:03d},2026-03-{1 + i % 28:02d}T09:00:00Z,{i % 2},{int(chosen)},"
                f"{0.8 if chosen else 0.2},{gender},{20000 + 100 * i}"
            )
            i += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def shoot(widget, folder: Path, name: str) -> None:
    assert widget.grab().save(str(folder / f"e2e-{name}.png"))


def painted(widget) -> bool:
    """Whether the widget shows more than a blank page (a chart drawn), judged on its pixels."""
    image = widget.grab().toImage().scaled(48, 48)
    return len({image.pixel(x, y) for x in range(48) for y in range(48)}) > 8


def menu_action(window, text: str):
    [action] = [a for a in window.file_menu.actions() if a.text() == text]
    return action


def sign_in_through_dialog(qtbot, window, username: str, password: str) -> None:
    menu_action(window, "Sign &in…").trigger()
    [dialog] = [d for d in window.findChildren(SignInDialog) if d.isVisible()]
    dialog.username.clear()
    qtbot.keyClicks(dialog.username, username)
    qtbot.keyClicks(dialog.password, password)
    with qtbot.waitSignal(window.context.user_changed, timeout=WAIT):
        dialog.sign_in_button.click()
    assert window.context.user.username == username


def finish(qtbot, page, dialog) -> None:
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: page.dialog is None, timeout=WAIT)


def pdf_text(path: Path, *, layout: bool = True) -> str:
    command = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(command, check=True, capture_output=True).stdout.decode()


def audit_actions(db) -> list[str]:
    """The audit table's actions in sequence order, read with plain sqlite3, not through Signoff."""
    with sqlite3.connect(db.url.removeprefix("sqlite:///")) as connection:
        return [row[0] for row in connection.execute("SELECT action FROM audit_event ORDER BY sequence")]


def test_a_model_version_is_signed_off_through_the_desktop_app(qtbot, context, tmp_path, screenshots):
    db = context.db
    # 1. Two people: the author (administrator and reviewer) and a distinct approver.
    author = add_user(
        db,
        None,
        username=AUTHOR[0],
        full_name=AUTHOR[1],
        email="asa@example.org",
        roles=frozenset({Role.ADMIN, Role.REVIEWER}),
        password=AUTHOR[2],
    )
    add_user(
        db,
        author,
        username=APPROVER[0],
        full_name=APPROVER[1],
        email="omer@example.org",
        roles=frozenset({Role.APPROVER}),
        password=APPROVER[2],
    )
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1280, 860)
    window.show()
    sign_in_through_dialog(qtbot, window, AUTHOR[0], AUTHOR[2])
    assert f"{AUTHOR[1]} ({AUTHOR[0]})" in window.who_label.text()

    # 2. A bare model version (no page adds one), chosen in the registry with a click.
    add_model_version(db, name=MODEL, version=VERSION, actor=context.actor)
    registry = window.pages["registry"]
    qtbot.waitUntil(lambda: registry.proxy.rowCount() == 1, timeout=WAIT)
    version_index = registry.proxy.index(0, 0, registry.proxy.index(0, 0))
    assert version_index.data() == f"v{VERSION}"
    rect = registry.tree.visualRect(version_index)
    qtbot.mouseClick(registry.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: context.version is not None, timeout=WAIT)
    assert (context.version.name, context.version.version) == (MODEL, VERSION)
    shoot(window, screenshots, "1-registry")

    # ... and the prediction log through the wizard (File > Import prediction log…).
    path = write_log(tmp_path / "decisions.csv")
    menu_action(window, "&Import prediction log…").trigger()
    [wizard] = [w for w in window.findChildren(LogImportWizard) if w.isVisible()]
    wizard.resize(900, 700)
    file_page = wizard.file_page
    qtbot.keyClicks(file_page.path, str(path))
    qtbot.keyClick(file_page.path, Qt.Key.Key_Return)  # editing finished: the preview is read
    qtbot.waitUntil(file_page.isComplete, timeout=WAIT)
    assert PREVIEW_ROWS > 100 and file_page.preview_model.rowCount() == 100  # the whole small log
    shoot(wizard, screenshots, "2-wizard-file")
    wizard.button(QWizard.WizardButton.NextButton).click()
    mapping = wizard.mapping_page
    # The guess: "repaid" is no known label name, so it is taken for a feature and Next stays off.
    assert mapping.single("label") is None and mapping.single("prediction") == "prediction"
    assert (mapping.single("id"), mapping.single("timestamp")) == ("applicant_id", "event_time")
    assert mapping.checked("scores") == ("score",) and mapping.checked("sensitive") == ("gender",)
    assert mapping.checked("features") == ("repaid", "income")
    assert mapping.model_version.currentText() == f"{MODEL} v{VERSION}"
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    mapping.combos["label"].setCurrentIndex(mapping.combos["label"].findText("repaid"))
    features = mapping.lists["features"]
    features.findItems("repaid", Qt.MatchFlag.MatchExactly)[0].setCheckState(Qt.CheckState.Unchecked)
    mapping.role.setCurrentIndex(mapping.role.findText("validation"))
    assert mapping.checked("features") == ("income",)
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    shoot(wizard, screenshots, "3-wizard-mapping")
    wizard.button(QWizard.WizardButton.NextButton).click()
    qtbot.waitUntil(lambda: wizard.import_page.outcome is not None, timeout=WAIT)
    shoot(wizard, screenshots, "4-wizard-imported")
    [log] = list_logs(db, model=MODEL, version=VERSION)
    assert (log.rows, log.role.value, log.mapping.label, log.mapping.features) == (
        100,
        "validation",
        "repaid",
        ("income",),
    )
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT)

    # 3. Fairness: the table equals the hand computation.
    window.show_page("Fairness")
    fairness = window.pages["fairness"]
    qtbot.waitUntil(lambda: fairness.log is not None and fairness.log.id == log.id, timeout=WAIT)
    assert fairness.checked_attributes() == ["gender"]
    charts = [fairness.rates_chart, fairness.impact_chart, fairness.heatmap_chart]
    with qtbot.waitSignals([c.loadFinished for c in charts], timeout=WAIT):
        fairness.analyse_button.click()
        qtbot.waitUntil(lambda: fairness.run is not None, timeout=WAIT)
    model = fairness.table_model
    texts = {
        model.index(r, 0).data(): [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    }
    values = {model.index(r, 0).data(): model.index(r, 2).data(VALUE_ROLE) for r in range(model.rowCount())}
    assert set(texts) == {"M", "F"}
    assert values == pytest.approx({"M": 30 / 60, "F": 12 / 40})
    for group, (rows, _selected) in GROUPS.items():
        assert texts[group][1] == str(rows)
        assert texts[group][2] == RATES[group]
        assert texts[group][7] == IMPACT[group]
    assert texts["M"][6] == "reference"  # the largest group
    qtbot.waitUntil(fairness.analyse_button.isEnabled, timeout=WAIT)
    for chart in (fairness.rates_chart, fairness.impact_chart):  # plotly draws after the page loaded
        qtbot.waitUntil(lambda c=chart: painted(c), timeout=WAIT)
    shoot(window, screenshots, "5-fairness")

    # 4. Review: open it over the log, write a finding, submit, sign as reviewer.
    window.show_page("Review")
    review_page = window.pages["review"]
    review_page.open_button.click()
    dialog = review_page.dialog
    assert isinstance(dialog, OpenReviewDialog)
    assert dialog.chosen_logs() == [log.id]
    qtbot.keyClicks(dialog.title_edit, "loan-approval v3 release")
    dialog.reviewers.setValue(1)
    dialog.approvers.setValue(1)
    shoot(dialog, screenshots, "6-open-review")
    finish(qtbot, review_page, dialog)
    [status] = reviews.list_reviews(db, model_version_id=context.version.id)
    review_id = status.review.id
    assert [a.kind for a in status.bundle.analyses] == ["fairness"]  # the run just made is evidence

    qtbot.waitUntil(review_page.add_finding_button.isEnabled, timeout=WAIT)
    review_page.add_finding_button.click()
    dialog = review_page.dialog
    assert isinstance(dialog, FindingDialog)
    qtbot.keyClicks(dialog.title_edit, FINDING)
    dialog.type_box.setCurrentIndex(dialog.type_box.findData("limitation"))
    dialog.severity_box.setCurrentIndex(dialog.severity_box.findData("medium"))
    dialog.description.setPlainText("Only 40 of 100 applicants are women; the rates have wide intervals.")
    finish(qtbot, review_page, dialog)
    qtbot.waitUntil(lambda: review_page.findings_model.rowCount() == 1, timeout=WAIT)

    review_page.submit_button.click()
    qtbot.waitUntil(
        lambda: (
            review_page.selected() is not None
            and review_page.selected().review.state is ReviewState.IN_REVIEW
        ),
        timeout=WAIT,
    )
    review_page.sign_button.click()
    dialog = review_page.dialog
    assert isinstance(dialog, SignDialog)
    assert dialog.chosen_meaning() is SignatureMeaning.REVIEWED
    assert dialog.signer.text() == f"{AUTHOR[1]} ({AUTHOR[0]}) · signs as reviewer"
    qtbot.keyClicks(dialog.password, AUTHOR[2])
    shoot(dialog, screenshots, "7-sign-as-reviewer")
    finish(qtbot, review_page, dialog)
    assert reviews.show(db, review_id).review.state is ReviewState.IN_REVIEW  # the approver is missing

    # ... then the approver signs in and approves.
    sign_in_through_dialog(qtbot, window, APPROVER[0], APPROVER[2])
    qtbot.waitUntil(review_page.sign_button.isEnabled, timeout=WAIT)
    review_page.sign_button.click()
    dialog = review_page.dialog
    assert isinstance(dialog, SignDialog)
    assert dialog.chosen_meaning() is SignatureMeaning.APPROVED
    assert not dialog.warning.isVisible()  # neither opened the review nor produced its analyses
    qtbot.keyClicks(dialog.password, APPROVER[2])
    finish(qtbot, review_page, dialog)
    stored = reviews.show(db, review_id).review
    assert stored.state is ReviewState.APPROVED
    assert [(s.signer, s.meaning) for s in stored.signatures] == [
        (AUTHOR[0], SignatureMeaning.REVIEWED),
        (APPROVER[0], SignatureMeaning.APPROVED),
    ]
    qtbot.waitUntil(lambda: review_page.signatures_model.rowCount() == 2, timeout=WAIT)
    shoot(window, screenshots, "8-review-approved")
    qtbot.waitUntil(lambda: registry.model.item(0).child(0, 2).data(BADGE_ROLE) == "approved", timeout=WAIT)
    badge = registry.model.item(0).child(0, 2)
    assert badge.text() == "approved"
    window.show_page("Registry")
    shoot(window, screenshots, "9-registry-approved")

    # 5. Report: export, read the PDF with poppler, verify through the page.
    window.show_page("Report")
    report = window.pages["report"]
    out = tmp_path / "loan-approval-v3.pdf"
    report.path_edit.setText(str(out))
    assert report.review_box.currentData() is None  # "Newest review": the only one
    report.export_button.click()
    qtbot.waitUntil(lambda: report.exported is not None, timeout=2 * WAIT)
    assert out.is_file()
    text = pdf_text(out)
    flat = re.sub(r"\s+", " ", text)
    assert f"{MODEL} version {VERSION}" in text
    counts = text[text.index("Counts and selection rates by gender") :]
    for group, (rows, _selected) in GROUPS.items():
        row = next(line for line in counts.splitlines() if re.match(rf"\s*{group}\s+{rows}\s", line))
        cells = re.split(r"\s{2,}", row.strip())
        assert (cells[2], cells[4]) == (RATES[group], IMPACT[group]), row
    manifest = text[text.index("Electronic signatures") :]
    for name, role, meaning in ((AUTHOR[1], "reviewer", "Reviewed"), (APPROVER[1], "approver", "Approved")):
        assert [line for line in manifest.splitlines() if name in line and role in line and meaning in line]
    assert FINDING in flat
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    font_lines = fonts.splitlines()[2:]
    assert font_lines, fonts
    for line in font_lines:  # name type encoding emb sub uni object-id generation
        assert re.search(r"\s(yes)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", line), line
    qtbot.wait(200)  # let the preview paint its first page
    shoot(window, screenshots, "10-report-exported")

    report.verify_button.click()
    qtbot.waitUntil(lambda: report.verification is not None, timeout=WAIT)
    assert report.verification.ok and "every check holds" in report.verdict.text()
    assert [c.name for c in report.verification.checks if c.ok is False] == []
    shown = [report.checks_model.index(r, 1).data() for r in range(report.checks_model.rowCount())]
    assert "✔ holds" in shown and "✘ FAILS" not in shown
    qtbot.waitUntil(lambda: not window.job_status.isVisible(), timeout=WAIT)
    shoot(window, screenshots, "11-report-verified")

    # 6. Audit trail: the chain is intact over every event in the table.
    window.show_page("Audit trail")
    audit = window.pages["audit trail"]
    audit.verify_button.click()
    qtbot.waitUntil(lambda: audit.verdict.text().startswith(("✔", "✘")), timeout=WAIT)
    # What happened, in order, as reasoned from the steps above:
    assert audit_actions(db) == [
        "user.created",
        "authority.created",  # with the first administrator: the workspace's certificate authority
        "user.created",
        "auth.signed_in",  # the author
        "model.added",
        "log.imported",
        "analysis.recorded",
        "review.opened",
        "review.finding_added",
        "review.submitted",
        "review.signed",
        "auth.signed_in",  # the approver
        "review.signed",
        "report.exported",
    ]
    assert audit.verdict.text().startswith("✔ Intact: 14 events verified")
    qtbot.waitUntil(lambda: not window.job_status.isVisible(), timeout=WAIT)
    shoot(window, screenshots, "12-audit-verified")
