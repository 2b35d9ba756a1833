"""Long work off the UI thread: a frozen request goes in, a frozen result comes back.

``start_job`` runs a plain function in Qt's thread pool. The function receives a ``JobControl`` to
report progress and check for cancellation; its result (or a ``SignoffError``) is delivered to the UI
thread through Qt signals. A job stops on cancel either at ``control.progress`` (``JobCancelled``) or
with the work's own "cancelled" error (``Cancelled``, ``ExplanationCancelled``, raised where the work
checks ``control.cancelled``); after ``cancel()`` both are a cancellation, never a failure to show. Nothing shared is mutated, so no locks are needed (napari's slicer pattern).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from signoff.domain.errors import Cancelled, SignoffError
from signoff.domain.explanation import ExplanationCancelled

# The errors a service or analysis raises when it noticed ``control.cancelled()`` itself.
CANCELLED_ERRORS = (Cancelled, ExplanationCancelled)


class JobCancelled(Exception):
    """Raised inside a job when the user cancelled it; the job's result is discarded."""


@dataclass
class JobControl:
    """Given to the job function: report progress, learn about cancellation."""

    _report: Callable[[float, str], None]
    _cancel: threading.Event = field(default_factory=threading.Event)

    def progress(self, fraction: float, message: str = "") -> None:
        if self._cancel.is_set():
            raise JobCancelled
        self._report(max(0.0, min(1.0, fraction)), message)

    def cancelled(self) -> bool:
        return self._cancel.is_set()


class JobSignals(QObject):
    progress = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str, str)  # user-facing message, technical detail ("" for a user error)
    cancelled = Signal()
    finished = Signal()


class Job(QRunnable):
    """``keep_late_result``: a Cancel that comes after the function returned does not discard its
    result. Reads leave it off (Cancel drops a log that finished loading); work that commits turns it
    on, so a signature already stored is never shown as cancelled."""

    def __init__(self, function: Callable[[JobControl], Any], *, keep_late_result: bool = False) -> None:
        super().__init__()
        self.keep_late_result = keep_late_result
        self.setAutoDelete(False)
        self.signals = JobSignals()
        self._function = function
        self.control = JobControl(self.signals.progress.emit)
        # Set just before ``finished`` is emitted: whoever connects to ``finished`` after starting the
        # job (a fast job may end first, and a queued signal is not replayed) checks this instead.
        self.done = threading.Event()

    def cancel(self) -> None:
        self.control._cancel.set()

    def run(self) -> None:
        try:
            result = self._function(self.control)
        except JobCancelled:
            self.signals.cancelled.emit()
        except SignoffError as error:
            if isinstance(error, CANCELLED_ERRORS) and self.control.cancelled():
                self.signals.cancelled.emit()
            else:  # a user error, or a "cancelled" that nobody asked for here: say it
                self.signals.failed.emit(str(error), "")
        except Exception as error:  # a bug: shown with its details, never swallowed
            self.signals.failed.emit(
                f"Signoff hit an internal error ({type(error).__name__}). Nothing was stored.",
                traceback.format_exc(),
            )
        else:
            if self.control.cancelled() and not self.keep_late_result:
                self.signals.cancelled.emit()
            else:
                self.signals.succeeded.emit(result)
        finally:
            self.done.set()
            self.signals.finished.emit()


_running: set[Job] = set()


def start_job(
    function: Callable[[JobControl], Any],
    *,
    on_success: Callable[[Any], None],
    on_error: Callable[[str, str], None],
    on_progress: Callable[[float, str], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    pool: QThreadPool | None = None,
    keep_late_result: bool = False,
) -> Job:
    """Run ``function(control)`` in the thread pool; the callbacks run on the UI thread."""
    job = Job(function, keep_late_result=keep_late_result)
    job.signals.succeeded.connect(on_success)
    job.signals.failed.connect(on_error)
    if on_progress is not None:
        job.signals.progress.connect(on_progress)
    if on_cancelled is not None:
        job.signals.cancelled.connect(on_cancelled)
    _running.add(job)
    job.signals.finished.connect(lambda: _running.discard(job))
    (pool or QThreadPool.globalInstance()).start(job)
    return job


def running_jobs() -> int:
    return len(_running)


def cancel_all_jobs(*, wait_ms: int = 30000) -> bool:
    """Ask every running job to stop and wait for them (closing the window); False if some did not end.

    A job stops at its next progress report and records nothing; one that is committing finishes
    its transaction first, so nothing is left half-written.
    """
    for job in list(_running):
        job.cancel()
    return QThreadPool.globalInstance().waitForDone(wait_ms)
