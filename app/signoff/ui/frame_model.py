"""A table model over a pandas DataFrame that pages rows in as the view scrolls.

The view asks ``canFetchMore``/``fetchMore`` as the user scrolls, so a 1,000,000-row log opens at once
and only formats the cells that are shown. The frame itself is never copied or modified.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from signoff.ui.formatting import EMPTY, cell

PAGE_ROWS = 500

Index = QModelIndex | QPersistentModelIndex


class FrameTableModel(QAbstractTableModel):
    def __init__(self, frame: pd.DataFrame | None = None, parent=None) -> None:
        super().__init__(parent)
        self._frame = frame if frame is not None else pd.DataFrame()
        self._loaded = min(PAGE_ROWS, len(self._frame))

    def set_frame(self, frame: pd.DataFrame) -> None:
        self.beginResetModel()
        self._frame = frame
        self._loaded = min(PAGE_ROWS, len(frame))
        self.endResetModel()

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._loaded

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._frame.columns)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._loaded < len(self._frame)

    def fetchMore(self, parent: Index) -> None:
        if parent.isValid():
            return
        extra = min(PAGE_ROWS, len(self._frame) - self._loaded)
        if extra <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._loaded, self._loaded + extra - 1)
        self._loaded += extra
        self.endInsertRows()

    def load_up_to(self, row: int) -> None:
        """Page in every row up to ``row`` at once (a "go to row" jump), in one insertion."""
        wanted = min(row + 1, len(self._frame))
        if wanted <= self._loaded:
            return
        self.beginInsertRows(QModelIndex(), self._loaded, wanted - 1)
        self._loaded = wanted
        self.endInsertRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self._loaded:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return _format(self._frame.iat[index.row(), index.column()])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            dtype = self._frame.dtypes.iloc[index.column()]
            if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self._frame.columns):
                return str(self._frame.columns[section])
            return None
        return str(section + 1)


def _format(value: Any) -> str:
    return EMPTY if value is pd.NA or value is pd.NaT else cell(value)
