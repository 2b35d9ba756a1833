"""The registry browser: models and their versions in a searchable tree, and the chosen version's record.

Each version wears its review badge (``ui/review_badge.py``), refreshed after every committed event that
can change it; the tree can be filtered by name and by badge.

The record (metadata, lineage, artifacts, aliases and history) is drawn by ``VersionDetails``; its
"Documents…" button saves the version's Annex IV documentation and LL144 summary (``ui/document_export.py``).
"""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.errors import NotFoundError
from signoff.domain.registry import ModelVersion
from signoff.domain.registry_history import ModelWithoutVersions
from signoff.services.model_artifacts import attached_model_files
from signoff.services.models import list_model_versions
from signoff.services.registry_import import model_history, model_version_details, models_without_versions
from signoff.services.reviews import current_reviews
from signoff.ui.context import AppContext
from signoff.ui.document_export import DocumentExport
from signoff.ui.formatting import when
from signoff.ui.pages.version_details import VersionDetails
from signoff.ui.review_badge import BADGE_ACTIONS, BY_STATE, FAILING, NO_REVIEW, STALE, Badge, version_badges

VERSION_ROLE = Qt.ItemDataRole.UserRole + 1
BADGE_ROLE = Qt.ItemDataRole.UserRole + 2  # the badge's key ("approved", "stale", ...)
VERSIONLESS_ROLE = Qt.ItemDataRole.UserRole + 3  # a ModelWithoutVersions on its model row
NO_VERSIONS = "no versions yet"
NO_VERSIONS_KEY = "no-versions"  # the status filter's key for registered models with no version
CHOOSE_TEXT = "Choose a model version on the left, or import one (File menu)."


def build_registry_model(
    versions: list[ModelVersion],
    badges: dict[int, Badge] | None = None,
    versionless: list[ModelWithoutVersions] = (),
) -> QStandardItemModel:
    """Models as top-level rows, their versions beneath (newest first), with source and review badge;
    a registered model with no version yet is a row of its own, its tags in the tooltip."""
    badges = badges or {}
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(["Model / version", "Source", "Status"])
    rows: dict[str, list[QStandardItem]] = {}
    for version in sorted(versions, key=lambda v: (v.name.casefold(), _version_key(v.version))):
        if version.name not in rows:
            rows[version.name] = [_cell(version.name), _cell(""), _cell("")]
        item = _cell(f"v{version.version}")
        item.setData(version, VERSION_ROLE)
        rows[version.name][0].insertRow(
            0, [item, _cell(version.source), _badge_cell(badges.get(version.id, NO_REVIEW))]
        )
    for registered in versionless:
        row = [_cell(registered.name), _cell(registered.snapshot.source_kind), _cell(NO_VERSIONS)]
        row[0].setData(registered, VERSIONLESS_ROLE)
        row[2].setForeground(QBrush(QColor("#666")))
        for cell in row:
            cell.setToolTip(versionless_summary(registered))
        rows.setdefault(registered.name, row)
    for name in sorted(rows, key=str.casefold):
        model.appendRow(rows[name])
    return model


def versionless_summary(registered: ModelWithoutVersions) -> str:
    """What is known of a registered model with no version, in words."""
    snapshot = registered.snapshot
    tags = ", ".join(f"{key} = {value}" for key, value in sorted(registered.tags.items())) or "none"
    description = registered.description or "no description"
    return (
        f"{registered.name} is registered in {snapshot.source_uri} ({snapshot.source_kind}) with no "
        f"version yet, as of the import taken {when(snapshot.taken_at)}. Nothing can be analysed or "
        f"signed until a version is imported.\n\nDescription: {description}\nTags: {tags}"
    )


def _badge_cell(badge: Badge) -> QStandardItem:
    item = _cell(badge.text)
    item.setIcon(badge.icon())
    item.setForeground(QBrush(QColor(badge.colour)))
    item.setData(badge.key, BADGE_ROLE)
    item.setToolTip(f"Review status: {badge.text}")
    return item


def _cell(text: str) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    return item


def _version_key(version: str) -> tuple:
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in version.split("."))


class RegistryFilter(QSortFilterProxyModel):
    """Versions whose model or version name contains the search text and whose badge is the chosen one.

    A model row is shown when one of its versions is (recursive filtering); searching for a model's name
    shows all its versions.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.text = ""
        self.badge_key: str | None = None

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.text = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_badge(self, key: str | None) -> None:
        self.beginFilterChange()
        self.badge_key = key or None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        name = str(index.data()).casefold()
        if index.data(VERSIONLESS_ROLE) is not None:
            return self.badge_key in (None, NO_VERSIONS_KEY) and self.text in name
        if index.data(VERSION_ROLE) is None:  # a model row: shown for its own name only when unfiltered
            return self.badge_key is None and self.text in name
        if self.badge_key == NO_VERSIONS_KEY:
            return False
        if self.badge_key is not None and index.siblingAtColumn(2).data(BADGE_ROLE) != self.badge_key:
            return False
        names = f"{source_parent.data()} {index.data()}".casefold()
        return self.text in names


class RegistryPage(QWidget):
    title = "Registry"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models and versions")
        self.search.setAccessibleName("Search the registry")
        self.search.setClearButtonEnabled(True)
        self.status_filter = QComboBox()
        self.status_filter.setAccessibleName("Filter by review status")
        self.status_filter.addItem("Any review status", None)
        for badge in (NO_REVIEW, *BY_STATE.values(), FAILING, STALE):
            if badge.key != "superseded":  # never a version's badge: a newer review replaced it
                self.status_filter.addItem(badge.icon(), badge.text, badge.key)
        self.status_filter.addItem("Registered, no versions yet", NO_VERSIONS_KEY)
        self.proxy = RegistryFilter(self)
        self.search.textChanged.connect(lambda text: self._filtered(self.proxy.set_text, text))
        self.status_filter.currentIndexChanged.connect(
            lambda _row: self._filtered(self.proxy.set_badge, self.status_filter.currentData())
        )
        self.tree = QTreeView()
        self.tree.setAccessibleName("Models and versions")
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)

        self.details = VersionDetails()
        self.empty = QLabel(CHOOSE_TEXT)
        self.empty.setWordWrap(True)
        self.empty.setTextFormat(Qt.TextFormat.PlainText)  # registry names and tags are imported text

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.status_filter)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.tree)
        self.documents = DocumentExport(context, self._shown_version, self)
        self.documents_button = QToolButton()
        self.documents_button.setText("Documents…")
        self.documents_button.setAccessibleName("Documents of this version")
        self.documents_button.setToolTip(
            "EU AI Act Annex IV documentation or an NYC LL144 bias-audit summary"
        )
        self.documents_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.documents_button.setMenu(self.documents.menu())
        self.document_status = QLabel("")
        self.document_status.setTextFormat(Qt.TextFormat.PlainText)  # paths and messages are plain text
        self.document_status.setAccessibleName("Document export")
        self.documents.status.connect(self.document_status.setText)
        self.documents.failed.connect(self.document_status.setText)
        actions = QHBoxLayout()
        actions.addWidget(self.documents_button)
        actions.addWidget(self.document_status, 1)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.empty)
        right_layout.addLayout(actions)
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
        if context.version is None:
            self.select_first()

    def reload(self) -> None:
        current = self.context.version
        db = self.context.db
        self.model = build_registry_model(
            list_model_versions(db), version_badges(current_reviews(db)), models_without_versions(db)
        )
        self.proxy.setSourceModel(self.model)
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        self._show(current)
        if current is not None:
            self.select(current)

    def _filtered(self, setter, value) -> None:
        setter(value)
        self.tree.expandAll()  # what matches is a version: show it, not just its model

    def select(self, version: ModelVersion) -> None:
        for row in range(self.proxy.rowCount()):
            parent = self.proxy.index(row, 0)
            for child_row in range(self.proxy.rowCount(parent)):
                index = self.proxy.index(child_row, 0, parent)
                found = index.data(VERSION_ROLE)
                if found is not None and found.id == version.id:
                    self.tree.setCurrentIndex(index)
                    return

    def select_first(self) -> None:
        """Open on the first model's newest version, so every page has something to show at start."""
        for row in range(self.proxy.rowCount()):
            model_row = self.proxy.index(row, 0)
            if self.proxy.rowCount(model_row):  # a model with no version yet has nothing to open
                self.tree.setCurrentIndex(self.proxy.index(0, 0, model_row))
                return

    def _maybe_reload(self, event) -> None:
        # Reviews change the badge directly; new analyses, logs and policy runs can make one stale.
        if event.action.startswith(BADGE_ACTIONS):
            self.reload()

    def _current_changed(self, current, _previous) -> None:
        version = current.siblingAtColumn(0).data(VERSION_ROLE) if current.isValid() else None
        registered = current.siblingAtColumn(0).data(VERSIONLESS_ROLE) if current.isValid() else None
        if version is not None:
            self.context.select_version(version)
            self._show(version)
        elif registered is not None:
            self.details.setVisible(False)
            self.documents_button.setEnabled(False)
            self.empty.setVisible(True)
            self.empty.setText(versionless_summary(registered))

    def _shown_version(self) -> tuple[str, str] | None:
        version = self.context.version
        return None if version is None else (version.name, version.version)

    def _show(self, version: ModelVersion | None) -> None:
        self.empty.setText(CHOOSE_TEXT)
        self.details.setVisible(version is not None)
        self.documents_button.setEnabled(version is not None)
        self.empty.setVisible(version is None)
        if version is None:
            return
        # Two small indexed reads on the local database: milliseconds, so no job is needed.
        details = model_version_details(self.context.db, version.name, version.version)
        try:
            changes, snapshots = model_history(self.context.db, version.name)
        except NotFoundError:  # added by hand, never seen by a registry import
            changes, snapshots = [], []
        attached = attached_model_files(self.context.db, version)
        self.details.show_version(version, details, changes, snapshots, attached)
