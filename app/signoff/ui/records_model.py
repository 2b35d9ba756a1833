"""The one read-only table model of the pages' small tables: a short list of records under fixed headers.

Each ``Record`` is one row: the texts shown, the raw values behind them (``VALUE_ROLE``, for sorting and
for tests that compare numbers, not formatted text) and the object the row stands for (``RECORD_ROLE``).
A row may carry tooltips (one for the row, or one per cell), a tone (a light background for the whole
row), be muted (grey) and give single cells a text colour or an icon. A verdict is never shown by colour
alone: the text says it ("✘ fail"), the tone only adds a background.
Large data (a prediction log's rows) uses ``FrameTableModel``, which pages; these tables are small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from signoff.domain.palette import BACKGROUNDS, Tone

Index = QModelIndex | QPersistentModelIndex

VALUE_ROLE = Qt.ItemDataRole.UserRole + 10
RECORD_ROLE = Qt.ItemDataRole.UserRole + 11

# Light backgrounds with dark text, so the text stays readable whatever the system theme.
TONES = {
    "good": QColor(BACKGROUNDS[Tone.GOOD]),
    "bad": QColor(BACKGROUNDS[Tone.ALERT]),
    "warn": QColor(BACKGROUNDS[Tone.WARNING]),
    "neutral": QColor(BACKGROUNDS[Tone.MUTED]),
}
TONE_TEXT = QColor("#1a1a1a")


@dataclass(frozen=True)
class Record:
    texts: tuple[str, ...]
    values: tuple[Any, ...] = ()  # raw values, same length as texts (empty: the texts themselves)
    item: Any = None  # the domain object the row stands for
    tooltip: str = ""  # for every cell of the row (full precision numbers, long reasons)
    tooltips: tuple[str, ...] = ()  # per cell; an empty one falls back to ``tooltip``, then the text
    muted: bool = False  # drawn grey: e.g. a group with too little data to judge
    tone: str | None = None  # a key of ``TONES``: a background for the whole row
    colours: tuple[str | None, ...] = ()  # per cell: a text colour ("#c0392b"), None for the default
    icons: tuple[Any, ...] = ()  # per cell: a QIcon/QPixmap shown before the text, None for none


# A column given as its header and a function of the row's object giving the text shown.
Column = tuple[str, Callable[[Any], str]]


def headers_of(columns: Sequence[Column]) -> tuple[str, ...]:
    return tuple(header for header, _text in columns)


def record_of(item: Any, columns: Sequence[Column], **details: Any) -> Record:
    """The row of ``item`` under ``columns``; ``details`` are the other ``Record`` fields."""
    return Record(tuple(text(item) for _header, text in columns), item=item, **details)


def _cell(values: tuple[Any, ...], column: int) -> Any:
    return values[column] if column < len(values) else None


class RecordsModel(QAbstractTableModel):
    """A read-only table of ``Record``s; ``numeric`` columns align right, ``header_tips`` explain the
    headers."""

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

    def set_records(
        self,
        records: Sequence[Record],
        *,
        headers: Sequence[str] | None = None,
        numeric: Sequence[int] | None = None,
    ) -> None:
        """Show ``records``; ``headers`` and ``numeric`` replace the columns when given."""
        self.beginResetModel()
        self._records = list(records)
        if headers is not None:
            self._headers = tuple(headers)
        if numeric is not None:
            self._numeric = frozenset(numeric)
        self.endResetModel()

    @property
    def columns(self) -> tuple[str, ...]:
        """The column headers."""
        return self._headers

    def record(self, row: int) -> Record:
        return self._records[row]

    def text(self, row: int, column: int) -> str:
        return self._records[row].texts[column]

    def column_texts(self, header: str) -> list[str]:
        column = self._headers.index(header)
        return [record.texts[column] for record in self._records]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._records) or index.column() >= len(self._headers):
            return None
        record = self._records[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return record.texts[column] if column < len(record.texts) else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return _cell(record.tooltips, column) or record.tooltip or _cell(record.texts, column)
        if role == VALUE_ROLE:
            return _cell(record.values or record.texts, column)
        if role == RECORD_ROLE:
            return record.item
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self._numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and record.tone in TONES:
            return QBrush(TONES[record.tone])
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = _cell(record.colours, column)
            if colour:
                return QBrush(QColor(colour))
            if record.tone in TONES:
                return QBrush(TONE_TEXT)
            if record.muted:
                return QColor(Qt.GlobalColor.gray)
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return _cell(record.icons, column)
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
