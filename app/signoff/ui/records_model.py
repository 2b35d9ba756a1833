"""A read-only table model over a short list of records, for the small tables of the pages.

Each record is one row: the texts shown, the raw values behind them (``VALUE_ROLE``, for sorting and
for tests that compare numbers, not formatted text) and the object the row stands for (``RECORD_ROLE``).
Large data (a prediction log's rows) uses ``FrameTableModel``, which pages; these tables are small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

Index = QModelIndex | QPersistentModelIndex

VALUE_ROLE = Qt.ItemDataRole.UserRole + 10
RECORD_ROLE = Qt.ItemDataRole.UserRole + 11


@dataclass(frozen=True)
class Record:
    texts: tuple[str, ...]
    values: tuple[Any, ...] = ()  # raw values, same length as texts (empty: the texts themselves)
    item: Any = None  # the domain object the row stands for
    tooltip: str = ""
    muted: bool = False  # drawn grey: e.g. a group with too little data to judge


class RecordsModel(QAbstractTableModel):
    def __init__(
        self,
        headers: Sequence[str],
        records: Sequence[Record] = (),
        *,
        header_tips: Sequence[str] = (),
        numeric: Sequence[int] = (),
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._tips = tuple(header_tips)
        self._numeric = frozenset(numeric)
        self._records: list[Record] = list(records)

    def set_records(self, records: Sequence[Record], *, headers: Sequence[str] | None = None) -> None:
        self.beginResetModel()
        self._records = list(records)
        if headers is not None:
            self._headers = tuple(headers)
        self.endResetModel()

    def record(self, row: int) -> Record:
        return self._records[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._records):
            return None
        record = self._records[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return record.texts[column] if column < len(record.texts) else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return record.tooltip or (record.texts[column] if column < len(record.texts) else "")
        if role == VALUE_ROLE:
            values = record.values or record.texts
            return values[column] if column < len(values) else None
        if role == RECORD_ROLE:
            return record.item
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self._numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and record.muted:
            return QColor(Qt.GlobalColor.gray)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self._tips):
            return self._tips[section] or None
        return None
