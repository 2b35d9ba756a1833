"""The version page: a model version's metadata, lineage, artifact hashes, aliases and registry history.

Fed from ``model_version_details`` and ``model_history``; long values (hashes, URIs) are elided in the
view and shown whole in a tooltip and when copied.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from signoff.domain.registry import ModelVersion
from signoff.domain.registry_history import RegistryChange, SnapshotInfo
from signoff.ui.formatting import when

ELIDE_AT = 400  # longer texts (a model card section) are cut here; the tooltip holds all of it


def elide(text: str, limit: int = ELIDE_AT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _no_run(version: ModelVersion, attached: dict[str, Any] | None) -> str:
    """Why there is no source run: the version was registered by hand (with or without a model file)."""
    if version.source not in ("manual", "", None) and attached is None:
        return ""
    how = "its model file was attached by hand" if attached else "no model file is attached yet"
    return f"none: registered in Signoff, not imported from a registry run; {how}"


def _section_text(text: object) -> str:
    """A model card section without its heading line ("Training data\n...")."""
    lines = str(text or "").strip().splitlines()
    return "\n".join(lines[1:]).strip() if len(lines) > 1 else (lines[0] if lines else "")


def _value_label(value: object) -> QLabel:
    text = "—" if value in (None, "", [], {}) else str(value)
    label = QLabel(elide(text))
    label.setTextFormat(Qt.TextFormat.PlainText)  # registry and card texts are imported: never markup
    label.setWordWrap(True)
    label.setToolTip(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class VersionDetails(QTabWidget):
    """Tabs: Metadata, Lineage, Artifacts, Aliases & history."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Model version details")
        self.metadata = QWidget()
        self.metadata_form = QFormLayout(self.metadata)
        self.lineage = QWidget()
        self.lineage_form = QFormLayout(self.lineage)
        self.datasets = self._tree(["Dataset", "Digest", "Context", "Source"], "Datasets of the training run")
        lineage_layout = QVBoxLayout()
        lineage_layout.addWidget(QLabel("Datasets"))
        lineage_layout.addWidget(self.datasets)
        self.lineage_form.addRow(lineage_layout)
        self.artifacts = self._tree(["Artifact", "SHA-256", "From", "When, size"], "Artifact hashes")
        history = QWidget()
        history_layout = QVBoxLayout(history)
        self.aliases = QLabel()
        self.aliases.setAccessibleName("Aliases")
        self.aliases.setWordWrap(True)
        self.history = self._tree(["Seen between", "Change (whole model)"], "Registry history")
        self.snapshots = self._tree(
            ["Imported", "Source", "Taken at", "By", "Changes"], "Imports that saw it"
        )
        for widget in (self.aliases, QLabel("Changes"), self.history, QLabel("Imports"), self.snapshots):
            history_layout.addWidget(widget)
        self.addTab(self.metadata, "&Metadata")
        self.addTab(self.lineage, "&Lineage")
        self.addTab(self.artifacts, "A&rtifacts")
        self.addTab(history, "Aliases && &history")

    @staticmethod
    def _tree(headers: list[str], name: str) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setHeaderLabels(headers)
        tree.setRootIsDecorated(False)
        tree.setAccessibleName(name)
        tree.setUniformRowHeights(True)
        return tree

    @staticmethod
    def _fill(tree: QTreeWidget, rows: list[list[str]]) -> None:
        tree.clear()
        for row in rows:
            item = QTreeWidgetItem([elide(cell, 48) for cell in row])
            for column, cell in enumerate(row):
                item.setToolTip(column, cell)
                item.setData(column, Qt.ItemDataRole.UserRole, cell)
            tree.addTopLevelItem(item)
        for column in range(tree.columnCount()):
            tree.resizeColumnToContents(column)

    def show_version(
        self,
        version: ModelVersion,
        details: dict[str, Any],
        changes: list[RegistryChange],
        snapshots: list[SnapshotInfo],
        attached: list[dict[str, Any]] = (),
    ) -> None:
        """``attached``: model files attached by hand (``services.model_artifacts.attached_model_files``),
        shown beside the registry's files and, for a version no registry run produced, as its lineage."""
        while self.metadata_form.rowCount():
            self.metadata_form.removeRow(0)
        # attributes["registry"] holds each source's latest state; a version usually has one source.
        by_source: dict[str, dict[str, Any]] = dict(version.attributes.get("registry") or {})
        registry = next(iter(by_source.values()), {})
        aliases = sorted({alias for state in by_source.values() for alias in state.get("aliases", [])})
        rows: list[tuple[str, object]] = [
            ("Model", version.name),
            ("Version", version.version),
            ("Source", version.source),
            ("Description", version.description),
            ("Registered", when(version.created_at)),
            ("Stage", registry.get("stage")),
            ("Registry status", registry.get("status")),
            ("Approval status", registry.get("approval_status")),
            ("Source URI", registry.get("source_uri")),
            ("Imports that saw it", details.get("snapshots_seen", 0)),
        ]
        for label, value in rows:
            self.metadata_form.addRow(f"{label}:", _value_label(value))

        while self.lineage_form.rowCount() > 1:
            self.lineage_form.removeRow(0)
        lineage = details.get("lineage") or {}
        code = lineage.get("code_version") or {}
        card = next(
            (
                e["record"]["card"]
                for e in (details.get("registry") or {}).values()
                if e["record"].get("card")
            ),
            None,
        )
        newest_file = attached[-1] if attached else None
        rows = [
            ("Source run", lineage.get("run_id") or _no_run(version, newest_file)),
            ("Experiment", lineage.get("experiment")),
            ("Git commit", code.get("git_commit")),
            ("Code", code.get("source_name")),
            ("Logged model", lineage.get("logged_model_id")),
        ]
        if newest_file is not None:
            rows.append(
                (
                    "Model file",
                    f"{newest_file['path']} (SHA-256 {newest_file['sha256']}), attached by "
                    f"{newest_file['attached_by']} {when(newest_file['attached_at'])}",
                )
            )
        if card is not None:
            rows.append(("Training data (model card)", _section_text(card.get("training_details"))))
            rows.append(("Evaluation (model card)", _section_text(card.get("evaluation_details"))))
        for position, (label, value) in enumerate(rows):
            self.lineage_form.insertRow(position, f"{label}:", _value_label(value))
        self._fill(
            self.datasets,
            [
                [
                    str(d.get("name", "")),
                    str(d.get("digest", "")),
                    str(d.get("context", "")),
                    str(d.get("source", "") or d.get("source_type", "")),
                ]
                for d in lineage.get("datasets", [])
            ],
        )
        self._fill(
            self.artifacts,
            [[path, sha, "registry import", ""] for path, sha in sorted(details.get("artifacts", {}).items())]
            + [
                [
                    str(f["path"]),
                    str(f["sha256"]),
                    f"attached by {f['attached_by']}",
                    f"{when(f['attached_at'])} · {int(f.get('size', 0)):,} bytes",
                ]
                for f in attached
            ],
        )
        self.aliases.setText("Aliases: " + (", ".join(aliases) if aliases else "none"))
        self._fill(
            self.history,
            [
                [f"{when(c.seen_after)} – {when(c.seen_by)}", c.summary]
                for c in reversed(changes)  # newest first
            ],
        )
        self._fill(
            self.snapshots,
            [
                [when(s.imported_at), s.source_uri, when(s.taken_at), s.imported_by, str(s.changes)]
                for s in snapshots
            ],
        )
