"""The status-bar strip that shows the running job: its title, progress and a Cancel button."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from signoff.ui.workers import Job


class JobStatus(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._job: Job | None = None
        self.label = QLabel()
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
        self.label.setText(title)
        self.bar.setValue(0)
        self.bar.setFormat("%p%")  # not the last message of the previous job
        self.cancel_button.setEnabled(True)
        self.setVisible(True)
        job.signals.progress.connect(self._progress)
        # A bound slot, not a lambda holding ``self``: Qt drops the connection when this strip is
        # deleted, so a job that ends after its window closed touches nothing that is gone.
        job.signals.finished.connect(self._finished)
        if job.done.is_set():  # it ended before we connected: its finished signal will not come again
            self._finished()

    def _progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(fraction * 1000))
        if message:
            self.bar.setFormat(f"{message} %p%")

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
