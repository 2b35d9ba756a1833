"""The registry page lists a registered model that has no version yet, with its tags, from a real import."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt

from signoff.domain.registry_snapshot import ModelVersionRecord, RegisteredModelRecord, RegistrySnapshot
from signoff.services.registry_import import store_snapshot
from signoff.ui.pages.registry_page import NO_VERSIONS, NO_VERSIONS_KEY, VERSION_ROLE, RegistryPage

EMPTY = "churn <b>model</b>"  # imported text: shown as written, never as markup
TAGS = {"team": "retention", "owner": "Zoë"}


def _import(db):
    snapshot = RegistrySnapshot(
        source_kind="mlflow",
        source_uri="http://mlflow.example:5000",
        taken_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        models=(
            RegisteredModelRecord(name=EMPTY, description="Predicts churn.", tags=TAGS),
            RegisteredModelRecord(name="credit", versions=(ModelVersionRecord(name="credit", version="1"),)),
        ),
    )
    store_snapshot(db, snapshot, actor="tester")


def test_a_model_with_no_versions_is_listed_with_its_tags(qtbot, context, qtmodeltester):
    _import(context.db)
    page = RegistryPage(context)
    qtbot.addWidget(page)
    page.show()
    qtmodeltester.check(page.model)
    rows = {
        page.proxy.index(r, 0).data(): (page.proxy.index(r, 1).data(), page.proxy.index(r, 2).data())
        for r in range(page.proxy.rowCount())
    }
    assert rows == {"credit": ("", ""), EMPTY: ("mlflow", NO_VERSIONS)}
    empty_row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == EMPTY)
    page.tree.setCurrentIndex(page.proxy.index(empty_row, 0))
    assert page.empty.isVisible() and not page.details.isVisible()
    text = page.empty.text()
    assert EMPTY in text and "owner = Zoë" in text and "team = retention" in text
    assert "Predicts churn." in text and "2026-12-01 09:30 UTC" in text
    assert context.version is not None and context.version.name == "credit"  # selection left alone

    page.status_filter.setCurrentIndex(page.status_filter.findData(NO_VERSIONS_KEY))
    shown = [page.proxy.index(r, 0).data() for r in range(page.proxy.rowCount())]
    assert shown == [EMPTY]
    page.status_filter.setCurrentIndex(0)
    credit = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "credit")
    assert page.proxy.index(0, 0, page.proxy.index(credit, 0)).data(VERSION_ROLE).version == "1"


def test_the_version_page_shows_an_attached_model_file_and_the_cards_lineage(qtbot, context, tmp_path):
    import hashlib

    from PySide6.QtWidgets import QLabel

    from signoff.resources import resource_path
    from signoff.services.model_artifacts import attach_model_file
    from signoff.services.models import add_model_version
    from signoff.services.registry_import import import_model_card

    add_model_version(context.db, name="income", version="1", actor="tester")
    model_file = tmp_path / "income-v1.skops"
    model_file.write_bytes(b"not really a model, only bytes to hash")
    attach_model_file(context.db, name="income", version="1", path=model_file, actor="tester")
    card = resource_path("demo", "model-card.md")
    import_model_card(context.db, card, model="income", version="1", actor="tester")
    page = RegistryPage(context)
    qtbot.addWidget(page)
    page.show()
    details = page.details
    assert details.isVisible()

    sha = hashlib.sha256(model_file.read_bytes()).hexdigest()
    rows = [
        [details.artifacts.topLevelItem(i).data(c, Qt.ItemDataRole.UserRole) for c in range(4)]
        for i in range(details.artifacts.topLevelItemCount())
    ]
    assert [r[:3] for r in rows] == [["income-v1.skops", sha, "attached by tester"]]
    assert rows[0][3].endswith(f"{model_file.stat().st_size:,} bytes")

    form = details.lineage_form
    lineage = {
        form.itemAt(r, form.ItemRole.LabelRole).widget().text(): form.itemAt(r, form.ItemRole.FieldRole)
        .widget()
        .toolTip()
        for r in range(form.rowCount() - 1)
        if isinstance(form.itemAt(r, form.ItemRole.FieldRole).widget(), QLabel)
    }
    assert lineage["Source run:"].startswith("none: registered in Signoff")
    assert lineage["Model file:"].startswith(f"income-v1.skops (SHA-256 {sha}), attached by tester")
    training = lineage["Training data (model card):"]
    assert "adult.data" in training  # the card's training section, as written (line breaks aside)
    assert " ".join(training.split()) in " ".join(card.read_text(encoding="utf-8").split())
