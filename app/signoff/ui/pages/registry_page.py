"""The registry browser: models and their versions in a searchable tree, and the chosen version's record.

The record (metadata, lineage, artifacts, aliases and history) is drawn by ``VersionDetails``.
"""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.errors import NotFoundError
from signoff.domain.registry import ModelVersion
from signoff.services.models import list_model_versions
from signoff.ui.context import AppContext
from signoff.ui.pages.version_details import VersionDetails

VERSION_ROLE = Qt.ItemDataRole.UserRole + 1


def build_registry_model(versions: list[ModelVersion]) -> QStandardItemModel:
    """Models as top-level rows, their versions beneath (newest first), with source and status."""
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(["Model / version", "Source", "Status"])
    by_name: dict[str, QStandardItem] = {}
    for version in sorted(versions, key=lambda v: (v.name.casefold(), _version_key(v.version))):
        parent = by_name.get(version.name)
        if parent is None:
            parent = QStandardItem(version.name)
            parent.setEditable(False)
            by_name[version.name] = parent
            model.appendRow([parent, _cell(""), _cell("")])
        item = QStandardItem(f"v{version.version}")
        item.setEditable(False)
        item.setData(version, VERSION_ROLE)
        parent.insertRow(0, [item, _cell(version.source), _cell(version_status(version))])
    return model


def version_status(version: ModelVersion) -> str:
    """The badge in the Status column; the review work replaces this one function."""
    return str(version.attributes.get("review_status", "not reviewed"))


def _cell(text: str) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    return item


def _version_key(version: str) -> tuple:
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in version.split("."))


class RegistryPage(QWidget):
    title = "Registry"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models and versions")
        self.search.setAccessibleName("Search the registry")
        self.search.setClearButtonEnabled(True)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.tree = QTreeView()
        self.tree.setAccessibleName("Models and versions")
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)

        self.details = VersionDetails()
        self.empty = QLabel("Choose a model version on the left, or import one (File menu).")
        self.empty.setWordWrap(True)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.tree)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.empty)
        right_layout.addWidget(self.details)
        right_layout.addStretch(1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([380, 620])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        context.evidence_changed.connect(self._maybe_reload)
        self.reload()

    def reload(self) -> None:
        current = self.context.version
        self.model = build_registry_model(list_model_versions(self.context.db))
        self.proxy.setSourceModel(self.model)
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        self._show(current)
        if current is not None:
            self.select(current)

    def select(self, version: ModelVersion) -> None:
        for row in range(self.proxy.rowCount()):
            parent = self.proxy.index(row, 0)
            for child_row in range(self.proxy.rowCount(parent)):
                index = self.proxy.index(child_row, 0, parent)
                found = index.data(VERSION_ROLE)
                if found is not None and found.id == version.id:
                    self.tree.setCurrentIndex(index)
                    return

    def _maybe_reload(self, event) -> None:
        if event.action.startswith(("model.", "registry.", "review.")):
            self.reload()

    def _current_changed(self, current, _previous) -> None:
        version = current.siblingAtColumn(0).data(VERSION_ROLE) if current.isValid() else None
        if version is not None:
            self.context.select_version(version)
            self._show(version)

    def _show(self, version: ModelVersion | None) -> None:
        self.details.setVisible(version is not None)
        self.empty.setVisible(version is None)
        if version is None:
            return
        # Imported here, not at the top: the registry importers bring requests and YAML along, which the
        # first window does not need (tests/ui/test_startup_imports.py).
        from signoff.services.registry_import import model_history, model_version_details

        # Two small indexed reads on the local database: milliseconds, so no job is needed.
        details = model_version_details(self.context.db, version.name, version.version)
        try:
            changes, snapshots = model_history(self.context.db, version.name)
        except NotFoundError:  # added by hand, never seen by a registry import
            changes, snapshots = [], []
        self.details.show_version(version, details, changes, snapshots)
