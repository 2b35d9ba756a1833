"""The audit trail: every event, filterable, and a Verify button that recomputes the hash chain."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.audit import AuditEvent, ChainVerdict, actor_label
from signoff.domain.canonical import canonical_json
from signoff.services.audit import list_audit_events, verify_audit_log
from signoff.ui.context import AppContext
from signoff.ui.formatting import timestamp

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Seq", "Time (UTC)", "Actor", "Action", "Entity", "Details", "Hash")
SHOWN_EVENTS = 5000


class AuditEventsModel(QAbstractTableModel):
    def __init__(self, events: list[AuditEvent] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.events = events or []

    def set_events(self, events: list[AuditEvent]) -> None:
        self.beginResetModel()
        self.events = events
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.events)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        event = self.events[index.row()]
        column = index.column()
        if column == 0:
            return str(event.sequence)
        if column == 1:
            return timestamp(event.occurred_at)
        if column == 2:
            return actor_label(event)  # "unauthenticated (OS login X)" for events without an account
        if column == 3:
            return event.action
        if column == 4:
            return event.entity
        if column == 5:
            text = canonical_json(event.payload).decode("utf-8")
            return text if role == Qt.ItemDataRole.ToolTipRole or len(text) < 160 else text[:160] + " …"
        return event.hash if role == Qt.ItemDataRole.ToolTipRole else event.hash[:12]

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


class AuditPage(QWidget):
    title = "Audit trail"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.filters: dict[str, QLineEdit] = {}
        bar = QHBoxLayout()
        for key, hint in (("action", "Action (e.g. log)"), ("actor", "Actor"), ("entity", "Entity")):
            edit = QLineEdit()
            edit.setPlaceholderText(hint)
            edit.setAccessibleName(f"Filter by {key}")
            edit.setClearButtonEnabled(True)
            edit.returnPressed.connect(self.reload)
            self.filters[key] = edit
            bar.addWidget(edit)
        apply = QPushButton("Filter")
        apply.clicked.connect(self.reload)
        self.verify_button = QPushButton("&Verify chain")
        self.verify_button.setAccessibleName("Verify the audit chain")
        self.verify_button.clicked.connect(self.verify)
        bar.addWidget(apply)
        bar.addWidget(self.verify_button)
        self.verdict = QLabel("The chain has not been verified in this session.")
        self.verdict.setWordWrap(True)
        self.verdict.setAccessibleName("Verification result")
        self.model = AuditEventsModel(parent=self)
        self.table = QTableView()
        self.table.setAccessibleName("Audit events")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.verdict)
        layout.addWidget(self.table)
        context.evidence_changed.connect(lambda _event: self.reload())
        self.reload()

    def reload(self) -> None:
        values = {key: edit.text().strip() or None for key, edit in self.filters.items()}
        events = list_audit_events(self.context.db, limit=SHOWN_EVENTS, **values)
        self.model.set_events(events)
        self.table.resizeColumnsToContents()

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
