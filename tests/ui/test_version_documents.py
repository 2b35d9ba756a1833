"""The version page's "Documents…" menu with real widgets offscreen: each format is chosen from the menu,
the save dialog and the choosers are filled in as a user would (they open without a nested event loop),
the document is written in a job and read back; a refusal arrives as an error dialog."""

from __future__ import annotations

import subprocess

from docx import Document
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from signoff.domain.prediction_log import ColumnMapping
from signoff.services import inventory
from signoff.services.logs import import_log
from signoff.services.models import add_model_version
from signoff.ui.main_window import MainWindow

PURPOSE = "Shortlist <b>fast</b> & fair"  # user text: comes back as typed, never as markup


def _menu_action(button, text):
    (action,) = [a for a in button.menu().actions() if a.text() == text]
    return action


def _save_as(exporter, path) -> None:
    dialog = exporter.dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    dialog.selectFile(str(path))
    dialog.accept()


def test_the_version_page_saves_annex_iv_in_each_format_and_shows_a_refusal(qtbot, context, tmp_path):
    add_model_version(context.db, name="screening", version="2", actor="tester")
    inventory.set_fields(context.db, "screening", {"purpose": PURPOSE}, actor="tester")
    log = tmp_path / "log.csv"
    # Column names that say neither sex nor race: the user says which is which.
    log.write_text(
        "s,r,y,p\n"
        + "".join(f"{'F' if i % 2 else 'M'},{'A' if i % 3 else 'B'},1,{i % 2}\n" for i in range(40))
    )
    mapping = ColumnMapping(label="y", prediction="p", sensitive=("s", "r"))
    import_log(context.db, log, model="screening", version="2", mapping=mapping)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    window.show_page("Registry")
    page = window.pages["registry"]
    qtbot.waitUntil(lambda: context.version is not None, timeout=10000)
    assert page.documents_button.isEnabled()
    assert [a.text() for a in page.documents_button.menu().actions() if a.text()] == [
        "Annex IV as PDF…",
        "Annex IV as Word document, editable (DOCX)…",
        "Annex IV as Markdown…",
        "NYC LL144 bias-audit summary…",
    ]

    _menu_action(page.documents_button, "Annex IV as PDF…").trigger()
    assert page.documents.dialog.selectedFiles()[0].endswith("screening-v2-annex-iv.pdf")  # the proposal
    _save_as(page.documents, tmp_path / "annex.pdf")
    qtbot.waitUntil(lambda: page.document_status.text() == f"Wrote {tmp_path / 'annex.pdf'}", timeout=20000)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(tmp_path / "annex.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "1(a) Intended purpose" in text and PURPOSE in text

    _menu_action(page.documents_button, "Annex IV as Word document, editable (DOCX)…").trigger()
    _save_as(page.documents, tmp_path / "annex")  # no ending typed: the chosen format's is added
    qtbot.waitUntil(lambda: page.document_status.text().endswith("annex.docx"), timeout=20000)
    document = Document(str(tmp_path / "annex.docx"))
    assert PURPOSE in [c.text for t in document.tables for r in t.rows for c in r.cells]

    _menu_action(page.documents_button, "Annex IV as Markdown…").trigger()
    _save_as(page.documents, tmp_path / "annex.md")
    qtbot.waitUntil(lambda: page.document_status.text().endswith("annex.md"), timeout=20000)
    assert "Shortlist &lt;b&gt;fast&lt;/b&gt; &amp; fair" in (tmp_path / "annex.md").read_text(
        encoding="utf-8"
    )

    # LL144: the log is chosen, then (their names say nothing) the attributes holding sex and race.
    _menu_action(page.documents_button, "NYC LL144 bias-audit summary…").trigger()
    for question, items, answer in (
        ("The prediction log of screening v2 to audit:", ["#1 log.csv (40 rows)"], "#1 log.csv (40 rows)"),
        ("Which sensitive attribute of log 1 holds sex?", ["s", "r"], "s"),
        ("Which sensitive attribute of log 1 holds race/ethnicity?", ["r"], "r"),
    ):
        picker = page.documents.dialog
        assert isinstance(picker, QInputDialog) and picker.isVisible()
        assert (picker.labelText(), picker.comboBoxItems()) == (question, items)
        picker.setTextValue(answer)
        picker.accept()
    _save_as(page.documents, tmp_path / "ll144.docx")
    qtbot.waitUntil(lambda: page.document_status.text().endswith("ll144.docx"), timeout=20000)
    tables = [
        {tuple(c.text for c in row.cells) for row in table.rows[1:]}
        for table in Document(str(tmp_path / "ll144.docx")).tables[:2]
    ]
    # By hand: odd rows are F and selected (20 of 20), even rows M and not (0 of 20); B is every third
    # row (14, 7 of them odd), A the other 26 (13 odd): both 0.5.
    assert tables == [
        {("F", "20", "1.000", "1.000"), ("M", "20", "0.000", "0.000")},
        {("A", "26", "0.500", "1.000"), ("B", "14", "0.500", "1.000")},
    ]

    # A refusal while writing is an error dialog over the window, and the status line says it too.
    page.documents.export_annex_iv("screening", "2", str(tmp_path / "no such folder" / "annex.pdf"))

    def error_box():
        boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
        return boxes[0] if boxes else None

    qtbot.waitUntil(lambda: error_box() is not None, timeout=20000)
    box = error_box()
    assert box.windowTitle() == "Writing the Annex IV documentation"
    assert "cannot write the document: No such file or directory" in box.text()
    assert page.document_status.text() == box.text()
    box.accept()
