"""The prediction-log wizard on a CSV written here: preview, guessed mapping, corrections."""

from __future__ import annotations

from PySide6.QtCore import Qt

from signoff.domain.prediction_log import ValidationIssue, ValidationReport
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
