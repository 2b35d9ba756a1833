"""The portfolio: every model with its tier, stage, owner, current version, verdict, review and due date.

The first page a risk officer opens. Counts at the top (models overdue or due within 30 days, by their
revalidation or an open condition of an approval; failing; awaiting sign-off); the table sorts by any
column and filters by text and by a quick choice (in its model, see there); activating a row selects that
model's current version and opens it on the Registry page; "Documents…" saves its documents. Rows are
read in a job, in a fixed number of queries (``services.inventory.portfolio``), so thousands of models do
not stall the window.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.audit import AuditEvent
from signoff.domain.errors import SignoffError
from signoff.domain.inventory import DUE_URGENCY, DueState, PortfolioCounts, PortfolioRow
from signoff.services.inventory import portfolio
from signoff.services.models import get_model_version
from signoff.ui.context import AppContext
from signoff.ui.document_export import DocumentExport

Index = QModelIndex | QPersistentModelIndex
COLUMNS = (
    "Model",
    "Current version",
    "Tier",
    "Stage",
    "Owner",
    "Verdict",
    "Review",
    "Open findings",
    "Open conditions",
    "Next review due",
    "Due",
)
QUICK_FILTERS = (
    "All models",
    "Overdue",
    "Due within 30 days",
    "Open conditions",
    "Failing",
    "Awaiting sign-off",
)
# Audit actions after which the portfolio may read differently.
RELOAD_PREFIXES = ("inventory.", "review.", "condition.", "policy.", "model.", "registry.")


def _due_text(row: PortfolioRow) -> str:
    """The most urgent of the revalidation and the open conditions; says when a condition decides it."""
    due = row.entry.calendar_due
    text = due.value.replace("-", " ")
    return text if due is row.entry.due else f"{text} (condition)"


def _cells(row: PortfolioRow) -> tuple[tuple[str, Any], ...]:
    """(shown text, sort value) per column; an empty sort value sorts first."""
    entry = row.entry
    due = entry.next_due.isoformat() if entry.next_due else ""
    return (
        (entry.model, entry.model.lower()),
        (entry.current_version or "", entry.current_version or ""),
        (
            "" if entry.tier is None else f"{entry.tier}{' *' if entry.tier_overridden else ''}",
            entry.tier or 0,
        ),
        (str(entry.values.get("stage") or ""), str(entry.values.get("stage") or "")),
        (str(entry.values.get("owner") or ""), str(entry.values.get("owner") or "")),
        (row.verdict or "", row.verdict or ""),
        ((row.review_state or "").replace("_", " "), row.review_state or ""),
        (str(row.open_findings) if row.open_findings else "", row.open_findings),
        (str(entry.open_conditions) if entry.open_conditions else "", entry.open_conditions),
        (due, due),
        (_due_text(row), DUE_URGENCY.index(entry.calendar_due)),  # ascending: overdue first
    )


def conditions_tooltip(row: PortfolioRow) -> str:
    """The open conditions behind the Open conditions and Due cells, one a line; their words (typed by an
    approver) escaped, so they read as written."""
    lines = [
        f"condition {c.condition_id} of v{c.version}: {c.text} — {c.owner}, due {c.due.isoformat()} "
        f"({c.state.value.replace('-', ' ')})"
        for c in row.entry.conditions
    ]
    return "<qt>" + "<br>".join(escape(line) for line in lines) + "</qt>" if lines else ""


def _quick_match(row: PortfolioRow, quick: str) -> bool:
    return {
        "Overdue": row.entry.calendar_due is DueState.OVERDUE,
        "Due within 30 days": row.entry.calendar_due in (DueState.OVERDUE, DueState.DUE_SOON),
        "Open conditions": row.entry.open_conditions > 0,
        "Failing": row.verdict == "fail",
        "Awaiting sign-off": row.review_state == "in_review",
    }.get(quick, True)


class PortfolioModel(QAbstractTableModel):
    """The portfolio's rows, filtered and sorted here in Python rather than by a proxy.

    A ``QSortFilterProxyModel`` compares rows through ``data()`` one pair at a time: 5 s to sort 5,000
    models on the shared test machine (benchmarks/portfolio.py); sorting the precomputed keys takes
    milliseconds.
    """

    def __init__(self, rows: list[PortfolioRow] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.all_rows: list[PortfolioRow] = []
        self.rows: list[PortfolioRow] = []  # the shown ones, in the shown order
        self._all_cells: list[tuple[tuple[str, Any], ...]] = []
        self._cells: list[tuple[tuple[str, Any], ...]] = []
        self.text, self.quick = "", QUICK_FILTERS[0]
        self.sort_column, self.sort_order = 0, Qt.SortOrder.AscendingOrder
        self.set_rows(rows or [])

    def set_rows(self, rows: list[PortfolioRow]) -> None:
        self.all_rows = rows
        self._all_cells = [_cells(r) for r in rows]  # computed once per read, not per paint or sort
        self._arrange(reset=True)

    def set_filters(self, *, text: str, quick: str) -> None:
        """Show the rows whose shown text contains ``text`` (any case) and that match ``quick``."""
        self.text, self.quick = text.strip().casefold(), quick
        self._arrange(reset=True)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column, self.sort_order = column, order
        self._arrange(reset=False)

    def _arrange(self, *, reset: bool) -> None:
        chosen = [
            i
            for i, row in enumerate(self.all_rows)
            if _quick_match(row, self.quick)
            and (not self.text or any(self.text in text.casefold() for text, _ in self._all_cells[i]))
        ]
        column = self.sort_column
        chosen.sort(
            key=lambda i: (self._all_cells[i][column][1], self._all_cells[i][0][1]),
            reverse=self.sort_order == Qt.SortOrder.DescendingOrder,
        )
        if reset:
            self.beginResetModel()
        else:
            self.layoutAboutToBeChanged.emit()
        self.rows = [self.all_rows[i] for i in chosen]
        self._cells = [self._all_cells[i] for i in chosen]
        if reset:
            self.endResetModel()
        else:
            self.layoutChanged.emit()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        text, _sort_value = self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[index.column()] in ("Open conditions", "Due"):
            return conditions_tooltip(self.rows[index.row()]) or text  # built on hover, not per read
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return text
        return None

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


class PortfolioPage(QWidget):
    title = "Portfolio"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.counts = QLabel("Reading the portfolio …")
        self.counts.setTextFormat(Qt.TextFormat.PlainText)
        self.counts.setAccessibleName("Portfolio counts")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by model, owner, stage, …")
        self.search.setAccessibleName("Filter the portfolio")
        self.search.setClearButtonEnabled(True)
        self.quick = QComboBox()
        self.quick.addItems(QUICK_FILTERS)
        self.quick.setAccessibleName("Show")
        self.model = PortfolioModel(parent=self)
        self.table = QTableView()
        self.table.setAccessibleName("Models")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("Double-click or press Enter to open the model's current version")
        self.table.activated.connect(self.open_row)
        self.search.textChanged.connect(self._filter)
        self.quick.currentTextChanged.connect(self._filter)
        self.documents = DocumentExport(context, self._chosen_version, self)
        self.documents_button = QToolButton()
        self.documents_button.setText("Documents…")
        self.documents_button.setAccessibleName("Documents of the chosen model")
        self.documents_button.setToolTip(
            "EU AI Act Annex IV documentation or an NYC LL144 bias-audit summary of the chosen model's "
            "current version"
        )
        self.documents_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.documents_button.setMenu(self.documents.menu())
        self.document_status = QLabel("")
        self.document_status.setTextFormat(Qt.TextFormat.PlainText)
        self.document_status.setAccessibleName("Document export")
        self.documents.status.connect(self.document_status.setText)
        self.documents.failed.connect(self.document_status.setText)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.quick)
        bar.addWidget(self.documents_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.counts)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        layout.addWidget(self.document_status)
        self._loading = self._stale = False
        context.evidence_changed.connect(self._on_event)
        self.reload()

    def reload(self) -> None:
        if self._loading:
            self._stale = True  # read again when this read is done, so the last change is shown
            return
        self._loading, self._stale = True, False
        db = self.context.db

        def failed(_message: str, _detail: str) -> None:
            self._loading = False
            self.counts.setText("The portfolio could not be read (see the error).")

        self.context.run_job(
            "Reading the portfolio", lambda control: portfolio(db), self._show, on_error=failed
        )

    def _on_event(self, event: AuditEvent) -> None:
        if event.action.startswith(RELOAD_PREFIXES):
            self.reload()

    def _show(self, rows: list[PortfolioRow]) -> None:
        self._loading = False
        if self._stale:
            self.reload()
        self.model.set_rows(rows)
        counts = PortfolioCounts.of(rows)
        self.counts.setText(
            f"{counts.models} model{'' if counts.models == 1 else 's'} · {counts.overdue} overdue · "
            f"{counts.due_soon} due within 30 days · {counts.failing} failing · "
            f"{counts.awaiting_sign_off} awaiting sign-off"
        )
        self.table.resizeColumnsToContents()

    def _filter(self) -> None:
        self.model.set_filters(text=self.search.text(), quick=self.quick.currentText())

    def open_row(self, index: QModelIndex) -> None:
        """Select the row's current version and show it on the Registry page."""
        row = self.model.rows[index.row()]
        if row.entry.current_version is None:
            return
        try:
            version = get_model_version(self.context.db, row.entry.model, row.entry.current_version)
        except SignoffError as error:  # gone since the portfolio was read
            self.document_status.setText(str(error))
            self.reload()
            return
        self.context.select_version(version)
        window = self.window()
        if hasattr(window, "show_page"):
            window.show_page("Registry")

    # --- Documents for the chosen model's current version (ui/document_export.py) ----------------------

    def chosen(self) -> PortfolioRow | None:
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def _chosen_version(self) -> tuple[str, str] | None:
        row = self.chosen()
        if row is None or row.entry.current_version is None:
            return None
        return row.entry.model, row.entry.current_version
