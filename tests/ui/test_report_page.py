"""The Report page on a real workspace: export through the page, preview, verify, and refusals.

The workspace is ``tests/reporting/report_world.py`` (real users, an imported log, fairness and
performance runs, an approved review), built once and copied for each test. The PDF is checked with
poppler's ``pdftotext`` / ``pdfinfo`` and its bytes hashed here, never with the page's own reading.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from signoff.services.audit import list_audit_events
from signoff.services.models import get_model_version
from signoff.storage import open_database
from signoff.ui.context import AppContext
from signoff.ui.main_window import MainWindow
from signoff.ui.pages.report_page import ChecksModel, documents_folder, report_file_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reporting"))
from report_world import NAME, VERSION, ReportWorld, build_report_world


@pytest.fixture(scope="session")
def report_template(tmp_path_factory) -> ReportWorld:
    return build_report_world(tmp_path_factory.mktemp("ui-report-world"))


@pytest.fixture
def report_db(report_template, tmp_path):
    target = tmp_path / "report-copy.db"
    shutil.copyfile(report_template.url.removeprefix("sqlite:///"), target)
    db = open_database(f"sqlite:///{target}")
    yield db
    db.close()


@pytest.fixture
def window(report_db, qtbot):
    context = AppContext(report_db, actor="alice")
    context.select_version(get_model_version(report_db, NAME, VERSION))
    main = MainWindow(context)
    qtbot.addWidget(main)
    main.show()
    main.show_page("Report")
    yield main
    context.close()


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True
    ).stdout.decode()


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def test_export_preview_and_verify_through_the_page(qtbot, window, report_template, tmp_path, screenshots):
    page = window.pages["report"]
    assert page.path_edit.text() == str(documents_folder() / "credit-risk-v4-audit-report.pdf")
    assert page.review_box.currentData() is None  # the newest review, as the service chooses
    assert page.review_box.findData(report_template.review_id) >= 0
    out = tmp_path / "exports" / "credit-risk-v4.pdf"
    out.parent.mkdir()
    page.path_edit.setText(str(out))
    page.review_box.setCurrentIndex(page.review_box.findData(report_template.review_id))

    page.export_button.click()
    qtbot.waitUntil(lambda: page.exported is not None, timeout=120000)
    assert out.is_file() and page.exported.path == out
    assert page.exported.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    text = pdf_text(out)
    assert f"{NAME} version {VERSION}" in text
    assert "Few applicants under 21 in the validation" in text  # the finding, wrapped in its table cell
    assert page.exported.pages == pdf_pages(out) == page.document.pageCount()
    [event] = list_audit_events(page.context.db, action="report.exported")
    assert event.actor == "alice"
    assert page.folder_url().toLocalFile() == str(out.parent)
    qtbot.wait(200)  # let the preview paint its first page
    assert window.grab().save(str(screenshots / "page-report-exported.png"))

    page.verify_button.click()
    qtbot.waitUntil(lambda: page.verification is not None, timeout=60000)
    assert page.verification.ok and "every check holds" in page.verdict.text()
    assert page.checks_model.rowCount() == len(page.verification.checks) >= 4
    qtbot.waitUntil(lambda: not window.job_status.isVisible())
    assert window.grab().save(str(screenshots / "page-report-verified.png"))

    tampered = tmp_path / "tampered.pdf"  # one byte more: no export recorded this file
    tampered.write_bytes(out.read_bytes() + b"\n")
    page.verification = None
    page.path_edit.setText(str(tampered))
    page.verify_button.click()
    qtbot.waitUntil(lambda: page.verification is not None, timeout=60000)
    assert not page.verification.ok and "fail" in page.verdict.text()
    failing = [c.name for c in page.verification.checks if c.ok is False]
    assert "export recorded in the audit log" in failing


def test_export_to_a_missing_folder_is_refused_and_nothing_is_recorded(qtbot, window, tmp_path):
    page = window.pages["report"]
    page.path_edit.setText(str(tmp_path / "no such folder" / "report.pdf"))
    page.export_button.click()
    qtbot.waitUntil(lambda: page.result.text().startswith("Not exported"), timeout=30000)
    assert "does not exist" in page.result.text()
    assert list_audit_events(page.context.db, action="report.exported") == []
    assert page.export_button.isEnabled()
    page.path_edit.setText(str(tmp_path / "never-exported.pdf"))
    page.verify()
    assert "export the report first" in page.verdict.text()


def test_file_name_and_checks_model(qtmodeltester, report_db):
    version = get_model_version(report_db, NAME, VERSION)
    assert report_file_name(version) == "credit-risk-v4-audit-report.pdf"
    model = ChecksModel()
    qtmodeltester.check(model)
    from signoff.services.report import ReportCheck

    model.set_rows([ReportCheck("a", True, "x"), ReportCheck("b", False, "y"), ReportCheck("c", None, "z")])
    qtmodeltester.check(model)
    assert [model.index(r, 1).data() for r in range(3)] == ["✔ holds", "✘ FAILS", "– not applicable"]


def test_sign_as_me_through_the_page_names_the_person_and_asks_again_next_time(qtbot, window, tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from review_world import NAMES, PASSWORDS

    page = window.pages["report"]
    out = tmp_path / "signed-by-alice.pdf"
    page.path_edit.setText(str(out))
    page.sign_as_me.setChecked(True)
    page.export_button.click()  # no password typed: nothing is started
    assert "Type your password" in page.result.text() and not out.exists()
    page.sign_password.setText(PASSWORDS["alice"])
    page.export_button.click()
    qtbot.waitUntil(lambda: page.exported is not None, timeout=120000)
    assert page.sign_password.text() == ""  # asked again at the next export
    with out.open("rb") as stream:
        (signature,) = PdfFileReader(stream, strict=False).embedded_signatures
        assert signature.signer_cert.subject.native["common_name"] == NAMES["alice"]
