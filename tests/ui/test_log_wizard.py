"""The prediction-log wizard on a CSV written here: preview, guessed mapping, corrections."""

from __future__ import annotations

from PySide6.QtCore import Qt

from signoff.domain.prediction_log import ValidationIssue, ValidationReport
from signoff.services.logs import list_logs
from signoff.services.models import add_model_version
from signoff.ui.main_window import MainWindow
from signoff.ui.wizards.log_wizard import PREVIEW_ROWS, IssuesModel, LogImportWizard, read_preview

HEADER = "request_id,event_time,y_true,prediction,score,sex,race,income,zip\n"


def _write_log(tmp_path, rows: int = 500):
    path = tmp_path / "log.csv"
    lines = [
        f"r{i},2026-01-0{1 + i % 9}T10:00:00Z,{i % 2},{(i // 2) % 2},0.{i % 10}5,{'F' if i % 3 else 'M'},"
        f"{'A' if i % 4 else 'B'},{1000 + i},{10000 + i}\n"
        for i in range(rows)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def test_preview_reads_only_the_first_rows(tmp_path):
    frame = read_preview(_write_log(tmp_path), "utf-8")
    assert len(frame) == PREVIEW_ROWS
    assert list(frame.columns) == HEADER.strip().split(",")
    assert frame.iloc[0]["request_id"] == "r0"


def test_wizard_previews_guesses_and_lets_the_user_correct(
    qtbot, context, tmp_path, qtmodeltester, screenshots
):
    add_model_version(context.db, name="credit", version="1", actor="tester")
    path = _write_log(tmp_path)
    window = MainWindow(context)
    qtbot.addWidget(window)
    wizard = window.open_wizard(LogImportWizard)
    wizard.resize(900, 700)
    page = wizard.file_page
    assert not page.isComplete()
    page.path.setText(str(path))
    page.load_preview()
    qtbot.waitUntil(page.isComplete, timeout=10000)
    qtmodeltester.check(page.preview_model)
    assert page.preview_model.rowCount() == PREVIEW_ROWS
    assert wizard.grab().save(str(screenshots / "wizard-log-1-file.png"))

    wizard.next()
    mapping_page = wizard.mapping_page
    assert mapping_page.single("label") == "y_true"
    assert mapping_page.single("prediction") == "prediction"
    assert mapping_page.single("id") == "request_id"
    assert mapping_page.single("timestamp") == "event_time"
    assert mapping_page.checked("scores") == ("score",)
    assert mapping_page.checked("sensitive") == ("sex", "race")
    assert mapping_page.checked("features") == ("income", "zip")
    assert mapping_page.model_version.currentData() == ("credit", "1")
    assert wizard.grab().save(str(screenshots / "wizard-log-2-mapping.png"))

    # The user corrects: zip is a proxy they want to audit, not a feature; no timestamp.
    mapping_page.set_checked("features", ["income"])
    mapping_page.set_checked("sensitive", ["sex", "race", "zip"])
    mapping_page.set_single("timestamp", None)
    mapping_page.role.setCurrentText("production")
    mapping = mapping_page.mapping()
    assert mapping.sensitive == ("sex", "race", "zip")
    assert mapping.features == ("income",)
    assert mapping.timestamp is None
    mapping_page.set_single("label", None)
    assert not mapping_page.isComplete()
    mapping_page.set_single("label", "y_true")
    assert mapping_page.isComplete()

    wizard.next()
    qtbot.waitUntil(lambda: wizard.import_page.outcome is not None, timeout=30000)
    assert wizard.grab().save(str(screenshots / "wizard-log-3-imported.png"))
    [log] = list_logs(context.db, model="credit", version="1")
    assert log.rows == 500 and log.role.value == "production"
    assert log.mapping == mapping
    assert log.evidence_sha256 in wizard.import_page.summary.toPlainText()


def _row_counts(db) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(db.url.removeprefix("sqlite:///")) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_a_bad_log_shows_its_checks_and_stores_nothing_until_quarantined(
    qtbot, context, tmp_path, screenshots
):
    add_model_version(context.db, name="credit", version="1", actor="tester")
    path = tmp_path / "bad.csv"
    rows = [f"r{i},{i % 2},{(i + 1) % 2},{i % 3 / 2}\n" for i in range(40)]
    rows[4] = "r4,,1,0.5\n"  # label missing: not known yet, kept unlabelled
    rows[9] = "r9,1,yes,0.5\n"  # a prediction outside the label domain
    path.write_text("request_id,label,prediction,score\n" + "".join(rows), encoding="utf-8")
    wizard = LogImportWizard(context)
    qtbot.addWidget(wizard)
    wizard.resize(900, 600)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.file_page.load_preview()
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=10000)
    wizard.next()
    before = _row_counts(context.db)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.import_page.report is not None, timeout=30000)
    assert wizard.grab().save(str(screenshots / "wizard-log-3-refused.png"))
    assert _row_counts(context.db) == before
    assert list_logs(context.db) == []
    model = wizard.import_page.issues_model
    issues = {
        (model.index(r, 0).data(), model.index(r, 1).data()): model.index(r, 3).data()
        for r in range(model.rowCount())
    }
    assert issues == {("prediction_domain", "prediction"): "10"}
    assert wizard.import_page.rerun.isVisibleTo(wizard)
    assert not wizard.import_page.isComplete()

    wizard.import_page.rerun.click()
    qtbot.waitUntil(lambda: wizard.import_page.outcome is not None, timeout=30000)
    [log] = list_logs(context.db)
    assert log.validation.rows_read == 40 and log.rows == 39
    assert log.validation.rows_unlabelled == 1


def test_the_team_export_through_the_wizard(qtbot, context, tmp_path):
    from team_export import write_team_export

    add_model_version(context.db, name="credit", version="2", actor="tester")
    export = write_team_export(tmp_path / "credit.csv")
    wizard = LogImportWizard(context)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(export.path))
    wizard.file_page.load_preview()
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=10000)
    wizard.next()
    page = wizard.mapping_page
    assert page.role.currentText() == "validation"  # the command line's default
    assert (page.single("label"), page.single("prediction")) == ("Actual_Outcome", "Model_Decision")
    assert page.single("timestamp") == "Decision Date"
    assert page.date_format.text() == "%d/%m/%Y %H:%M"  # the importer's own detection
    assert "Approved, Declined" in page.prediction_map.placeholderText()
    page.prediction_map.setText("Approved=Repaid Declined=Defaulted")
    page.positive_label.setText("Repaid")
    page.set_checked("features", ["Age", "CreditScore", "Annual Income"])
    page.set_single("id", "Age")  # a column given a role leaves the features
    assert "Age" not in page.checked("features")
    page.set_single("id", "Application_ID")
    wizard.next()
    qtbot.waitUntil(lambda: wizard.import_page.outcome is not None, timeout=30000)
    text = wizard.import_page.summary.toPlainText()
    assert "Read as: prediction 'Approved' means label 'Repaid'" in text
    assert "40 rows have no label yet" in text
    assert "Warning: Gender: 'Female'" in text and "differ only in case" in text
    [log] = list_logs(context.db, model="credit", version="2")
    assert log.mapping.timestamp_format == "%d/%m/%Y %H:%M" and log.period_start.day == 3

    # Back, choose to merge the spellings: the merge is written into the stored mapping.
    wizard.back()
    page.merge_spellings.setChecked(True)
    wizard.next()
    qtbot.waitUntil(lambda: len(list_logs(context.db, model="credit", version="2")) == 2, timeout=30000)
    merged = list_logs(context.db, model="credit", version="2")[-1]
    assert merged.mapping.category_map == (("Gender", "female", "Female"),)
    assert merged.validation.warnings == ()


def test_issues_model_lists_failed_checks(qtmodeltester):
    report = ValidationReport(
        rows_read=10,
        rows_kept=8,
        issues=(
            ValidationIssue(check="missing", column="y_true", count=2, rows=(3, 7), message="label missing"),
        ),
    )
    model = IssuesModel(report)
    qtmodeltester.check(model)
    assert [model.index(0, c).data(Qt.ItemDataRole.DisplayRole) for c in range(5)] == [
        "missing",
        "y_true",
        "2",
        "3, 7",
        "label missing",
    ]
    qtmodeltester.check(IssuesModel())


def test_the_wizard_registers_the_model_version_it_imports_for(qtbot, context, tmp_path):
    path = _write_log(tmp_path, rows=20)
    wizard = LogImportWizard(context)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.file_page.load_preview()
    qtbot.waitUntil(wizard.file_page.isComplete, timeout=10000)
    wizard.next()
    page = wizard.mapping_page
    assert page.model_version.count() == 0 and not page.isComplete()  # nothing registered yet
    page.create_version("churn", "4")
    qtbot.waitUntil(lambda: page.model_version.count() == 1, timeout=10000)
    assert page.model_version.currentData() == ("churn", "4") and page.isComplete()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.import_page.outcome is not None, timeout=30000)
    [log] = list_logs(context.db, model="churn", version="4")
    assert log.rows == 20
