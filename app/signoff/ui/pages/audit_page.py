"""The audit trail: events in words, filtered by date range, actor, event kind and model, exported as CSV
or PDF exactly as filtered, and a Verify button that recomputes the hash chain.

Details are ``domain.audit_wording.describe`` (before and after, in words), one line a row and the chosen
event in full below the table; the canonical payload is there, in the tooltip and in the CSV. Actors are shown with their printed name when they have an account.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.audit import ChainVerdict, actor_label
from signoff.domain.audit_wording import EVENT_KINDS
from signoff.domain.canonical import canonical_json
from signoff.services.audit import (
    AuditFilter,
    AuditLine,
    audit_actors,
    export_audit_events,
    find_audit_events,
    verify_audit_log,
)
from signoff.services.models import list_model_versions
from signoff.services.registry_import import models_without_versions
from signoff.ui.context import AppContext
from signoff.ui.formatting import timestamp
from signoff.ui.pages.analysis_widgets import page_shortcut

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Seq", "Time (UTC)", "Actor", "Kind", "Action", "Details", "Hash")
DETAILS_COLUMN = 5
SHOWN_EVENTS = 5000
ANY_DATE = QDate(2000, 1, 1)  # the date edits' minimum, shown as "any"


def actor_text(line: AuditLine) -> str:
    # "unauthenticated (OS login X)" for events recorded before every change needed an account
    label = actor_label(line.event)
    return f"{line.printed_name} ({label})" if line.printed_name else label


class AuditEventsModel(QAbstractTableModel):
    def __init__(self, lines: list[AuditLine] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.lines = lines or []

    def set_lines(self, lines: list[AuditLine]) -> None:
        self.beginResetModel()
        self.lines = lines
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        line = self.lines[index.row()]
        event = line.event
        tooltip = role == Qt.ItemDataRole.ToolTipRole
        column = index.column()
        if column == 0:
            return str(event.sequence)
        if column == 1:
            return timestamp(event.occurred_at)
        if column == 2:
            return actor_text(line)
        if column == 3:
            return line.kind
        if column == 4:
            return f"{event.action} on {event.entity}" if tooltip else event.action
        if column == DETAILS_COLUMN:
            if tooltip:
                return f"{line.details}\n\nRecorded: {canonical_json(event.payload).decode('utf-8')}"
            return line.details
        return event.hash if tooltip else event.hash[:12]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None


def _date_edit(name: str) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(ANY_DATE)
    edit.setSpecialValueText("any date")
    edit.setDate(ANY_DATE)
    edit.setAccessibleName(name)
    return edit


def _moment(edit: QDateEdit, *, next_day: bool = False) -> datetime | None:
    if edit.date() == ANY_DATE:
        return None
    day = edit.date().toPython()
    return datetime.combine(day, time(), tzinfo=UTC) + (timedelta(days=1) if next_day else timedelta())


def _model_names(db) -> list[str]:
    """Every registered model, with versions or (known only from a registry import) without."""
    names = {v.name for v in list_model_versions(db)} | {m.name for m in models_without_versions(db)}
    return sorted(names, key=str.casefold)


class AuditPage(QWidget):
    title = "Audit trail"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.since = _date_edit("Events from (UTC date)")
        self.until = _date_edit("Events until (UTC date, inclusive)")
        self.actor = QComboBox()
        self.actor.setAccessibleName("Filter by actor")
        self.kind = QComboBox()
        self.kind.setAccessibleName("Filter by event kind")
        self.kind.addItem("Every kind", None)
        for key, words in sorted(EVENT_KINDS.items(), key=lambda item: item[1]):
            self.kind.addItem(words, key)
        self.model_name = QComboBox()
        self.model_name.setAccessibleName("Filter by model")
        for edit in (self.since, self.until):
            edit.dateChanged.connect(lambda _date: self.show_events())
        for combo in (self.actor, self.kind, self.model_name):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(lambda _row: self.show_events())

        self.export_button = QPushButton("&Export…")
        self.export_button.setToolTip("Save the events shown as CSV or PDF (Ctrl+E)")
        self.export_button.clicked.connect(self.choose_export)
        page_shortcut(self, "Ctrl+E", self.choose_export)
        self.verify_button = QPushButton("&Verify chain")
        self.verify_button.setAccessibleName("Verify the audit chain")
        self.verify_button.clicked.connect(self.verify)

        bar = QHBoxLayout()
        for text, widget in (
            ("From", self.since),
            ("until", self.until),
            ("Actor", self.actor),
            ("Kind", self.kind),
            ("Model", self.model_name),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        bar.addWidget(self.verify_button)
        self.verdict = QLabel("The chain has not been verified in this session.")
        self.verdict.setWordWrap(True)
        self.verdict.setAccessibleName("Verification result")
        self.count = QLabel()
        self.model = AuditEventsModel(parent=self)
        self.table = QTableView()
        self.table.setAccessibleName("Audit events")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(DETAILS_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setResizeContentsPrecision(200)  # columns fit the first rows; measuring thousands is slow
        self.table.verticalHeader().setVisible(False)
        # One line a row keeps thousands of events quick; the chosen event is written out whole below.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAccessibleName("The chosen event in full")
        self.details.setPlaceholderText("Choose an event to read it in full.")
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _old: self._show_details(current.row())
        )
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setSizes([560, 160])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.verdict)
        layout.addWidget(self.count)
        layout.addWidget(split, 1)
        context.evidence_changed.connect(lambda _event: self.reload())
        self.reload()

    def _fill_choices(self) -> None:
        """Actors who have events and models that are registered; the current choice is kept."""
        db = self.context.db
        for combo, everyone, values in (
            (self.actor, "Anyone", audit_actors(db)),
            (self.model_name, "Every model", _model_names(db)),
        ):
            chosen = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everyone, None)
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(combo.findData(chosen), 0))
            combo.blockSignals(False)

    def query(self) -> AuditFilter:
        return AuditFilter(
            since=_moment(self.since),
            until=_moment(self.until, next_day=True),
            actor=self.actor.currentData(),
            kind=self.kind.currentData(),
            model=self.model_name.currentData(),
        )

    def reload(self) -> None:
        """New events may bring new actors and models to choose from, then the rows."""
        self._fill_choices()
        self.show_events()

    def show_events(self) -> None:
        lines = find_audit_events(self.context.db, self.query(), limit=SHOWN_EVENTS)
        self.model.set_lines(lines)
        self.details.clear()
        if lines:
            self.table.selectRow(0)  # the newest event, written out in full below
        shown = f"the newest {SHOWN_EVENTS:,}" if len(lines) == SHOWN_EVENTS else f"{len(lines):,}"
        self.count.setText(f"Showing {shown} events, newest first.")
        for column in range(DETAILS_COLUMN):
            self.table.resizeColumnToContents(column)

    def _show_details(self, row: int) -> None:
        if not 0 <= row < len(self.model.lines):
            self.details.clear()
            return
        line = self.model.lines[row]
        event = line.event
        self.details.setPlainText(
            f"#{event.sequence} · {timestamp(event.occurred_at)} UTC · {actor_text(line)} · {line.kind}\n"
            f"{event.action} on {event.entity}\n\n{line.details}\n\n"
            f"Recorded payload: {canonical_json(event.payload).decode('utf-8')}\nHash: {event.hash}"
        )

    def choose_export(self) -> None:
        path, _chosen = QFileDialog.getSaveFileName(
            self, "Export the audit trail", "audit-trail.pdf", "PDF (*.pdf);;CSV (*.csv)"
        )
        if path:
            self.export(Path(path))

    def export(self, out: Path) -> None:
        """Write the events the filter chooses (all of them, not only the shown ones) to ``out``."""
        db, query, by = self.context.db, self.query(), self.context.actor
        self.export_button.setEnabled(False)

        def work(_control):
            return export_audit_events(find_audit_events(db, query), query, out, by=by)

        def done(path: Path) -> None:
            self.export_button.setEnabled(True)
            self.count.setText(f"{self.count.text()} Exported to {path}.")

        self.context.run_job(
            "Exporting the audit trail",
            work,
            done,
            on_error=lambda _message, _detail: self.export_button.setEnabled(True),
        )

    def verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.verdict.setText("Verifying the audit chain …")
        db = self.context.db
        self.context.run_job(
            "Verifying the audit chain",
            lambda control: verify_audit_log(db),
            self._show_verdict,
            on_error=lambda message, detail: self.verify_button.setEnabled(True),
        )

    def _show_verdict(self, verdict: ChainVerdict) -> None:
        self.verify_button.setEnabled(True)
        if verdict.ok:
            self.verdict.setText(
                f"✔ Intact: {verdict.events_checked} events verified; head hash {verdict.head_hash}."
            )
        else:
            self.verdict.setText(
                f"✘ BROKEN at event {verdict.first_bad_sequence}: {verdict.reason}. "
                "The audit log was altered outside Signoff; keep this database for investigation."
            )
