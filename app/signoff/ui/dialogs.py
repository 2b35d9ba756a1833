"""Dialogs every part of the UI uses: an error message with technical details folded away, and
``JobDialog``, a form whose OK button runs its work in a job and which stays open, showing what went
wrong, until the work succeeded (the review dialogs, the first-start and sign-in dialogs); where files
are saved by default (``documents_folder``) and under which name (``version_file_stem``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.palette import COLOURS, Tone
from signoff.ui.context import AppContext
from signoff.ui.workers import JobControl, start_job

ERROR_STYLE = f"color: {COLOURS[Tone.ALERT]}; font-weight: bold;"


def documents_folder() -> Path:
    """The user's documents folder, or the home folder when there is none."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(found) if found and Path(found).is_dir() else Path.home()


def version_file_stem(name: str, version: str) -> str:
    """``credit-risk-v4``: a model version as the start of a file name, safe everywhere."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{name}-v{version}").strip("-.") or "model"


def show_error(parent: QWidget | None, title: str, message: str, detail: str = "") -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setAccessibleName(f"{title}: error")
    if detail:
        box.setDetailedText(detail)
    box.open()  # window-modal without a nested event loop, so workers and tests keep running
    return box


class JobDialog(QDialog):
    """A dialog whose OK button runs a job; it closes only when the job succeeded."""

    succeeded = Signal(object)  # the job's result

    # Shown while the job runs ("" for nothing); whether the job also shows in the status bar.
    working_text = "Working …"
    in_status_bar = True

    def __init__(
        self,
        context: AppContext,
        title: str,
        ok_text: str,
        parent: QWidget | None = None,
        *,
        min_width: int = 560,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(min_width)
        self.busy = False
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # messages quote what users typed
        self.message.setAccessibleName("Message")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setAccessibleName(ok_text.replace("&", "").rstrip("…"))
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout()
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(self.form)

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.message)
        self.layout_.addWidget(self.buttons)

    def work(self) -> tuple[str, Callable[[JobControl], Any]] | None:
        """The job's title and function, or None after showing why the input cannot be used."""
        raise NotImplementedError

    def start(self) -> None:
        if self.busy:
            return
        planned = self.work()
        if planned is None:
            return
        title, function = planned
        self._set_busy(True)
        self.show_message(self.working_text, "")
        job = start_job(
            function,
            on_success=self._succeeded,
            on_error=self._failed,
            on_cancelled=self._cancelled,
            keep_late_result=True,  # a dialog's work commits (a signature, a finding): done is done
        )
        if self.in_status_bar:
            self.context.job_started.emit(job, title)

    def show_message(self, text: str, style: str = ERROR_STYLE) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(style)
        self.message.setVisible(bool(text))
        self.adjustSize()  # wrapped labels need the room the message takes

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.buttons.setEnabled(not busy)

    def _succeeded(self, result: Any) -> None:
        self._set_busy(False)
        self.succeeded.emit(result)
        self.accept()

    def _failed(self, message: str, detail: str) -> None:
        self._set_busy(False)
        self.show_message(message)
        self.message.setToolTip(detail)
        self.failed(message)

    def _cancelled(self) -> None:  # from the status bar's Cancel: the dialog is usable again
        self._set_busy(False)
        self.show_message("Cancelled.", "")

    def failed(self, message: str) -> None:
        """Hook: what to clear after a failure (the sign dialog forgets the password)."""

    def reject(self) -> None:
        if not self.busy:  # a running job finishes first; its result must reach the page
            super().reject()
