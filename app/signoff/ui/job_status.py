"""The status-bar strip that shows the running job: its title and stage, progress and a Cancel button.

The stage ("reading rows 40,000/120,000") is written in the label beside the title, never inside the
progress bar, whose fixed width cut long stages off; the bar shows only the percentage.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from signoff.ui.workers import Job


class JobStatus(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._job: Job | None = None
        self._title = ""
        self.label = QLabel()
        self.label.setAccessibleName("Running job")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setMaximumWidth(220)
        self.bar.setAccessibleName("Job progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the running job")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.bar, self.cancel_button):
            layout.addWidget(widget)
        self.setVisible(False)

    def track(self, job: Job, title: str) -> None:
        self._job = job
        self._title = title
        self._show_text(title)  # not the last stage of the previous job
        self.bar.setValue(0)
        self.bar.setFormat("%p%")
        self.cancel_button.setEnabled(True)
        self.setVisible(True)
        job.signals.progress.connect(self._progress)
        # A bound slot, not a lambda holding ``self``: Qt drops the connection when this strip is
        # deleted, so a job that ends after its window closed touches nothing that is gone.
        job.signals.finished.connect(self._finished)
        if job.done.is_set():  # it ended before we connected: its finished signal will not come again
            self._finished()

    def _show_text(self, text: str) -> None:
        self.label.setText(text)
        self.label.setToolTip(text)

    def _progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(fraction * 1000))
        if message:
            self._show_text(f"{self._title}: {message}")

    def _cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText(f"{self.label.text()} (cancelling)")

    def _finished(self) -> None:
        # An earlier job's late signal leaves the strip to the job it now tracks.
        if self._job is not None and self._job.done.is_set():
            self._job = None
            self.setVisible(False)
