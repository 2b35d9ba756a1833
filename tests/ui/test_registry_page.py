"""The registry page lists a registered model that has no version yet, with its tags, from a real import."""

from __future__ import annotations

from datetime import UTC, datetime

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
