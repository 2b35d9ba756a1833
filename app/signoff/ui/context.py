"""What every page shares: the open database, the model version being looked at, the user, and jobs.

Pages never talk to each other; they listen to this object. ``evidence_changed`` fires (on the UI
thread) after any committed audit event, from this app or a worker, so views reload what they show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from signoff.domain.audit import AuditEvent
from signoff.domain.registry import ModelVersion
from signoff.domain.users import User
from signoff.services import Database
from signoff.services.identity import bind_session, os_login_name
from signoff.ui.workers import Job, JobControl, start_job


class AppContext(QObject):
    version_changed = Signal(object)  # ModelVersion | None
    evidence_changed = Signal(object)  # the AuditEvent that was committed
    job_started = Signal(object, str)  # Job, title
    job_error = Signal(str, str, str)  # title, message, technical detail
    user_changed = Signal(object)  # User | None: who signed in (None: read-only as the OS login)
    row_picked = Signal(int, int)  # prediction log id, row position: a row chosen in a data table

    def __init__(self, db: Database, *, actor: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.actor = actor or os_login_name()
        self.user: User | None = None
        self.version: ModelVersion | None = None
        # Called from whichever thread committed; a signal hops to the UI thread by itself.
        self._unsubscribe: Callable[[], None] | None = db.subscribe(self._on_committed)

    def _on_committed(self, event: AuditEvent) -> None:
        self.evidence_changed.emit(event)

    def select_version(self, version: ModelVersion | None) -> None:
        if version != self.version:
            self.version = version
            self.version_changed.emit(version)

    def sign_in(self, user: User | None) -> None:
        """Make ``user`` the actor of everything this window does (None: back to the OS login name)."""
        self.user = user
        self.actor = user.username if user is not None else os_login_name()
        # Every audit event from now on records the account and how it signed in (none: read-only).
        bind_session(self.db, user, "desktop")
        self.user_changed.emit(user)

    def pick_row(self, log_id: int, row: int) -> None:
        self.row_picked.emit(log_id, row)

    def run_job(
        self,
        title: str,
        work: Callable[[JobControl], Any],
        on_success: Callable[[Any], None],
        *,
        on_error: Callable[[str, str], None] | None = None,
    ) -> Job:
        """Run ``work`` off the UI thread; progress and Cancel appear in the status bar, errors in a dialog."""

        def failed(message: str, detail: str) -> None:
            if on_error is not None:
                on_error(message, detail)
            self.job_error.emit(title, message, detail)

        job = start_job(work, on_success=on_success, on_error=failed)
        self.job_started.emit(job, title)
        return job

    def close(self) -> None:
        """Stop listening to the database; safe to call more than once (window close, then shutdown)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
