"""The "Documents…" menu: a model version's regulators' documents (EU AI Act Annex IV, NYC LL144) saved from
the app, on the version (Registry) page and the Portfolio.

The save dialog and the choosers (the log; the attributes holding sex and race/ethnicity where their names
do not say) are opened with ``open()`` (no nested event loop), so the window keeps running and a test
fills them in as a user would. The document is written through ``services.documents``
in a job; a refusal reaches the window's error dialog through ``AppContext.run_job``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QMenu, QWidget

from signoff.ui.context import AppContext
from signoff.ui.dialogs import documents_folder, show_error, version_file_stem

# (menu text, file filter) per suffix; the first is the default when the user names no ending.
FORMATS = {
    ".pdf": ("PDF", "PDF (*.pdf)"),
    ".docx": ("Word document, editable (DOCX)", "Word document (*.docx)"),
    ".md": ("Markdown", "Markdown (*.md)"),
}
ATTRIBUTE_WORDS = {"sex": "sex", "race": "race/ethnicity"}
ANNEX_IV_TITLE = "Writing the Annex IV documentation"
LL144_TITLE = "Writing the LL144 summary"


def _suffix_of(name_filter: str) -> str:
    return next((suffix for suffix, (_, f) in FORMATS.items() if f == name_filter), ".pdf")


class DocumentExport(QObject):
    """Asks where to save a document of the version ``target()`` names, then writes it in a job."""

    written = Signal(str)  # the path written
    failed = Signal(str)  # the message shown in the error dialog
    status = Signal(str)  # what is happening, for a page's status line

    def __init__(
        self,
        context: AppContext,
        target: Callable[[], tuple[str, str] | None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.target = target  # (model name, version) or None when nothing is chosen
        self.widget = parent
        self.dialog: QFileDialog | QInputDialog | None = None  # the one open now, for tests

    def menu(self) -> QMenu:
        menu = QMenu(self.widget)
        for suffix, (text, _filter) in FORMATS.items():
            # *_ takes the action's "checked" argument, so it never lands in the suffix.
            menu.addAction(f"Annex IV as {text}…", lambda *_, s=suffix: self.ask_annex_iv(s))
        menu.addSeparator()
        menu.addAction("NYC LL144 bias-audit summary…", lambda *_: self.ask_ll144())
        return menu

    def _chosen(self) -> tuple[str, str] | None:
        chosen = self.target()
        if chosen is None:
            self.status.emit("Choose a model version first.")
        return chosen

    def _save(
        self, title: str, file_name: str, suffixes: tuple[str, ...], then: Callable[[str], None]
    ) -> None:
        dialog = QFileDialog(self.widget, title, str(documents_folder() / file_name))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([FORMATS[s][1] for s in suffixes])
        dialog.setDefaultSuffix(suffixes[0][1:])
        dialog.filterSelected.connect(lambda chosen: dialog.setDefaultSuffix(_suffix_of(chosen)[1:]))
        dialog.fileSelected.connect(then)
        self.dialog = dialog
        dialog.open()

    # --- EU AI Act Annex IV --------------------------------------------------------------------------

    def ask_annex_iv(self, suffix: str = ".pdf") -> None:
        chosen = self._chosen()
        if chosen is None:
            return
        name, version = chosen
        self._save(
            "Save the Annex IV documentation",
            f"{version_file_stem(name, version)}-annex-iv{suffix}",
            (suffix,),
            lambda path: self.export_annex_iv(name, version, path),
        )

    def export_annex_iv(self, name: str, version: str, path: str) -> None:
        from signoff.services.documents import export_annex_iv

        db = self.context.db
        self.status.emit(f"Writing the Annex IV documentation of {name} v{version} …")
        self.context.run_job(
            ANNEX_IV_TITLE,
            lambda control: export_annex_iv(db, name, version, out=path),
            self._done,
            on_error=lambda message, _detail: self.failed.emit(message),
        )

    # --- NYC LL144 bias-audit summary ----------------------------------------------------------------

    def ask_ll144(self) -> None:
        chosen = self._chosen()
        if chosen is None:
            return
        name, version = chosen
        from signoff.services.logs import list_logs  # pandas: only when a summary is asked for

        logs = list_logs(self.context.db, model=name, version=version)
        if not logs:
            self._refuse(f"{name} v{version} has no prediction log to audit: import one first.")
            return
        labels = [f"#{log.id} {log.source_name} ({log.rows} rows)" for log in logs]

        def log_chosen(label: str) -> None:
            from signoff.services.documents import ll144_attributes

            log = logs[labels.index(label)]
            attributes = list(log.mapping.sensitive)
            self._choose_attributes(name, version, log.id, attributes, ll144_attributes(attributes))

        self._pick(f"The prediction log of {name} v{version} to audit:", labels, log_chosen)

    def _choose_attributes(
        self, name: str, version: str, log_id: int, attributes: list[str], chosen: dict[str, str | None]
    ) -> None:
        """Ask for the attribute holding sex, then race/ethnicity, where their names do not say."""
        missing = next((key for key in ("sex", "race") if chosen[key] is None), None)
        if missing is None:
            sex, race = str(chosen["sex"]), str(chosen["race"])
            self._save(
                "Save the LL144 summary",
                f"{version_file_stem(name, version)}-ll144.pdf",
                tuple(FORMATS),
                lambda path: self.export_ll144(name, version, log_id, path, sex=sex, race=race),
            )
            return
        word = ATTRIBUTE_WORDS[missing]
        offered = [a for a in attributes if a not in chosen.values()]
        if not offered:
            self._refuse(
                f"log {log_id} has no sensitive attribute left for {word} (it has {', '.join(attributes) or 'none'}): "
                "the summary needs one attribute for sex and another for race/ethnicity"
            )
            return
        self._pick(
            f"Which sensitive attribute of log {log_id} holds {word}?",
            offered,
            lambda attribute: self._choose_attributes(
                name, version, log_id, attributes, {**chosen, missing: attribute}
            ),
        )

    def _pick(self, question: str, items: list[str], then: Callable[[str], None]) -> None:
        picker = QInputDialog(self.widget)
        picker.setWindowTitle("NYC LL144 bias audit")
        picker.setLabelText(question)
        for label in picker.findChildren(QLabel):  # model, log and attribute names are plain text
            label.setTextFormat(Qt.TextFormat.PlainText)
        picker.setComboBoxItems(items)
        picker.setComboBoxEditable(False)
        picker.textValueSelected.connect(then)
        self.dialog = picker
        picker.open()

    def _refuse(self, message: str) -> None:
        show_error(self.widget, "NYC LL144 bias audit", message)
        self.failed.emit(message)

    def export_ll144(
        self,
        name: str,
        version: str,
        log_id: int,
        path: str,
        *,
        sex: str | None = None,
        race: str | None = None,
    ) -> None:
        from signoff.services.documents import export_ll144, ll144_summary

        db, actor = self.context.db, self.context.actor

        def work(_control):
            summary = ll144_summary(db, name, version, log_id=log_id, sex=sex, race=race, actor=actor)
            return export_ll144(summary, path)

        self.status.emit(f"Writing the LL144 summary of {name} v{version} …")
        self.context.run_job(
            LL144_TITLE,
            work,
            self._done,
            on_error=lambda message, _detail: self.failed.emit(message),
        )

    def _done(self, written: Path) -> None:
        self.dialog = None
        self.status.emit(f"Wrote {written}")
        self.written.emit(str(written))
