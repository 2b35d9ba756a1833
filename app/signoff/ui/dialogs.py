"""Message dialogs: what went wrong and what to do, with technical details folded away."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, message: str, detail: str = "") -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setAccessibleName(f"{title}: error")
    if detail:
        box.setDetailedText(detail)
    box.open()  # window-modal without a nested event loop, so workers and tests keep running
    return box
