"""The audit trail page: details in words with before and after, printed names, filters by date range,
actor, event kind and model, and the filtered events exported to CSV and PDF (read back)."""

from __future__ import annotations

import csv
import subprocess
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDate

from signoff.domain.registry_snapshot import ModelVersionRecord, RegisteredModelRecord, RegistrySnapshot
from signoff.domain.users import Role
from signoff.services.models import add_model_version
from signoff.services.registry_import import store_snapshot
from signoff.services.users import add_user
from signoff.ui.pages.audit_page import DETAILS_COLUMN, AuditPage

URI = "http://mlflow.example:5000"


def _snapshot(taken_at, tier):
    return RegistrySnapshot(
        source_kind="mlflow",
        source_uri=URI,
        taken_at=taken_at,
        models=(
            RegisteredModelRecord(
                name="credit",
                tags={"tier": tier},
                versions=(ModelVersionRecord(name="credit", version="1"),),
            ),
        ),
    )


def _world(db):
    add_user(
        db,
        None,
        username="zoe",
        full_name="Zoë Łukasz",
        email="zoe@example.org",
        roles=frozenset({Role.ADMIN}),
        password="correct horse battery staple 42",
    )
    add_model_version(db, name="fraud", version="3", actor="zoe")
    store_snapshot(db, _snapshot(datetime(2026, 11, 1, tzinfo=UTC), "low"), actor="tester")
    store_snapshot(db, _snapshot(datetime(2026, 11, 2, tzinfo=UTC), "high"), actor="tester")


def _rows(page):
    model = page.model
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


def test_events_in_words_with_printed_names_and_filters(qtbot, context, qtmodeltester):
    _world(context.db)
    page = AuditPage(context)
    qtbot.addWidget(page)
    qtmodeltester.check(page.model)
    rows = _rows(page)
    # user.created, authority.created, model.added (fraud), model.added + registry.imported, registry.changed + registry.imported
    assert [r[4] for r in rows] == [
        "registry.imported",
        "registry.changed",
        "registry.imported",
        "model.added",
        "model.added",
        "authority.created",  # the first administrator starts the workspace: its certificate authority
        "user.created",
    ]
    changed = rows[1]
    assert "tier" in changed[DETAILS_COLUMN]
    assert "before: low; after: high" in changed[DETAILS_COLUMN]
    assert "{" not in changed[DETAILS_COLUMN]  # words, not JSON
    assert rows[4][2] == "Zoë Łukasz (zoe)" and rows[4][DETAILS_COLUMN].startswith(
        "Model version fraud v3 added"
    )
    assert rows[0][2] == "unauthenticated (OS login tester)"  # no account, no session: said so
    page.table.selectRow(1)  # the chosen event, written out whole below the table
    assert changed[DETAILS_COLUMN] in page.details.toPlainText()
    assert '"before":"low"' in page.details.toPlainText()  # and as recorded

    page.model_name.setCurrentIndex(page.model_name.findData("fraud"))
    assert [r[4] for r in _rows(page)] == ["model.added"]
    page.model_name.setCurrentIndex(page.model_name.findData("credit"))
    assert [r[4] for r in _rows(page)] == ["registry.changed", "model.added"]
    page.model_name.setCurrentIndex(0)

    page.kind.setCurrentIndex(page.kind.findData("registry"))
    assert [r[4] for r in _rows(page)] == ["registry.imported", "registry.changed", "registry.imported"]
    page.kind.setCurrentIndex(0)

    page.actor.setCurrentIndex(page.actor.findData("zoe"))
    assert [r[4] for r in _rows(page)] == ["model.added", "authority.created", "user.created"]
    page.actor.setCurrentIndex(0)

    today = datetime.now(UTC).date()
    page.since.setDate(QDate(today + timedelta(days=1)))
    assert _rows(page) == []
    page.since.setDate(QDate(today))
    assert len(_rows(page)) == 7
    page.until.setDate(QDate(today - timedelta(days=1)))
    assert _rows(page) == []
    page.until.setDate(QDate(today))  # inclusive of the whole day
    assert len(_rows(page)) == 7


def test_the_filtered_events_export_to_csv_and_pdf(qtbot, context, tmp_path):
    _world(context.db)
    page = AuditPage(context)
    qtbot.addWidget(page)
    page.kind.setCurrentIndex(page.kind.findData("model"))
    shown = _rows(page)
    assert len(shown) == 2

    page.export(tmp_path / "trail.csv")
    qtbot.waitUntil(lambda: (tmp_path / "trail.csv").exists(), timeout=20000)
    with (tmp_path / "trail.csv").open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert [(e["sequence"], e["action"], e["details"]) for e in exported] == [
        (r[0], r[4], r[DETAILS_COLUMN]) for r in shown
    ]
    assert exported[1]["printed_name"] == "Zoë Łukasz" and '"name":"fraud"' in exported[1]["payload_json"]

    qtbot.waitUntil(lambda: page.export_button.isEnabled(), timeout=20000)
    page.export(tmp_path / "trail.pdf")
    qtbot.waitUntil(lambda: (tmp_path / "trail.pdf").exists(), timeout=60000)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "trail.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Audit trail" in text and "Model versions" in text  # the filter, in words
    assert "Zoë Łukasz (zoe)" in text and "Model version fraud v3 added" in text
    assert "registry.changed" not in text  # filtered out
