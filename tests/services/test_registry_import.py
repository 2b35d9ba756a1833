"""Registry import stored as one transaction: snapshot, records, evidence, history, audit; on both engines."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mlflow_server import CREDIT, FRAUD, GIT_COMMIT, PREFIX
from signoff.domain import registry_history as h
from signoff.domain.errors import ExternalServiceError, InputError
from signoff.importers.mlflow import read_mlflow_registry
from signoff.importers.mlflow_rest import MlflowSettings
from signoff.services.audit import list_audit_events
from signoff.services.models import list_model_versions
from signoff.services.registry_import import (
    import_mlflow,
    model_history,
    model_version_details,
    store_snapshot,
)

FAST_FAILURE = MlflowSettings(timeout_seconds=5, max_retries=1, backoff_factor=0.01)


def _counts(db) -> dict[str, int]:
    with db.transaction(write=False) as uow:
        return {
            "evidence": uow.evidence.count(),
            "audit": len(uow.audit.list()),
            "versions": len(uow.models.list()),
        }


def test_import_stores_versions_lineage_and_files_by_hash(db, mlflow_registry):
    result = import_mlflow(db, mlflow_registry.uri, models=[CREDIT, FRAUD], actor="zoë")
    assert (result.models, result.versions, result.changes, result.previous_snapshot_id) == (2, 3, (), None)
    listed = {(v.name, v.version): v for v in list_model_versions(db)}
    assert set(listed) == {(CREDIT, "1"), (CREDIT, "2"), (FRAUD, "1")}
    assert listed[(CREDIT, "2")].source == "mlflow"
    assert listed[(CREDIT, "2")].attributes["registry"]["mlflow"]["aliases"] == ["champion"]

    details = model_version_details(db, CREDIT, "2")
    assert details["lineage"]["code_version"]["git_commit"] == GIT_COMMIT
    assert {(d["context"], d["name"]) for d in details["lineage"]["datasets"]} == {
        ("training", "credit-train"),
        ("evaluation", "credit-holdout"),
    }
    with db.transaction(write=False) as uow:
        for path, sha256 in details["artifacts"].items():
            # The stored bytes hash to the name they are stored under, and it is what the server sent.
            assert hashlib.sha256(uow.evidence.read_bytes(sha256)).hexdigest() == sha256, path
        snapshot = json.loads(uow.evidence.read_bytes(result.snapshot_sha256))
    assert "model.skops" in details["artifacts"]
    assert sorted(m["name"] for m in snapshot["models"]) == sorted([CREDIT, FRAUD])
    events = list_audit_events(db)
    assert events[0].action == "registry.imported" and events[0].actor == "zoë"
    assert events[0].payload["snapshot_sha256"] == result.snapshot_sha256
    assert sum(e.action == "model.added" for e in events) == 3


def test_reimport_unchanged_adds_a_snapshot_and_no_changes(db, mlflow_registry):
    first = import_mlflow(db, mlflow_registry.uri, models=[FRAUD])
    before = _counts(db)
    second = import_mlflow(db, mlflow_registry.uri, models=[FRAUD])
    assert second.previous_snapshot_id == first.snapshot_id
    assert second.changes == ()
    after = _counts(db)
    assert after["versions"] == before["versions"]
    assert after["audit"] == before["audit"] + 1  # only "registry.imported"
    assert (
        after["evidence"] == before["evidence"] + 1
    )  # the new snapshot; the same files are not stored twice
    changes, snapshots = model_history(db, FRAUD)
    assert changes == [] and [s.id for s in snapshots] == [first.snapshot_id, second.snapshot_id]


def test_changes_between_imports_become_history_rows_and_audit_events(db, mlflow_registry):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_registry.uri)
    name = f"{PREFIX}service history {db.dialect}"
    client.create_registered_model(name)
    for _ in range(2):
        client.create_model_version(name, "s3://bucket/service-history")
    client.set_registered_model_alias(name, "champion", "1")
    first = import_mlflow(db, mlflow_registry.uri, models=[name])
    client.set_registered_model_alias(name, "champion", "2")
    client.set_model_version_tag(name, "2", "approved_by", "risk committee")
    client.create_model_version(name, "s3://bucket/service-history")
    client.delete_model_version(name, "3")  # never imported: no history of it at all
    second = import_mlflow(db, mlflow_registry.uri, models=[name])
    client.delete_model_version(name, "1")
    third = import_mlflow(db, mlflow_registry.uri, models=[name])

    assert [c.summary for c in second.changes] == [
        f"{name}: alias champion moved v1 -> v2",
        f"{name} v2: tag approved_by=risk committee added",
    ]
    assert [c.summary for c in third.changes] == [f"{name} v1: deleted"]
    changes, _ = model_history(db, name)
    assert changes == list(second.changes) + list(third.changes)
    assert all((c.seen_after, c.seen_by) == (first.taken_at, second.taken_at) for c in second.changes)
    audited = [
        e for e in list_audit_events(db, action="registry.changed") if e.entity == f"registered_model:{name}"
    ]
    assert sorted(e.payload["kind"] for e in audited) == [
        h.ALIAS_MOVED,
        h.VERSION_DELETED,
        h.VERSION_TAG_ADDED,
    ]
    registry_of = {v.version: v.attributes["registry"]["mlflow"] for v in list_model_versions(db, name=name)}
    assert registry_of["2"]["aliases"] == ["champion"]
    # The deleted version keeps its evidence and says it is gone.
    assert registry_of["1"]["deleted"] is True and "deleted" not in registry_of["2"]


def test_a_failure_halfway_through_storing_leaves_nothing(db, mlflow_registry, tmp_path):
    import_mlflow(db, mlflow_registry.uri, models=[FRAUD])
    before = _counts(db)
    snapshot = read_mlflow_registry(mlflow_registry.uri, models=[CREDIT, FRAUD], work_dir=tmp_path)
    # The last file goes missing after the first ones were stored: the whole import must roll back.
    last = [a for m in snapshot.models for v in m.versions for a in v.artifacts][-1]
    Path(last.local_path).unlink()
    with pytest.raises(InputError, match="cannot read the file"):
        store_snapshot(db, snapshot)
    assert _counts(db) == before
    _, snapshots = model_history(db, FRAUD)
    assert len(snapshots) == 1


def test_a_server_failure_stores_nothing(db, mlflow_registry, loopback_http):
    from loopback_http import forward

    def handle(exchange):
        if "runs/search" in exchange.path:
            return 500, {"Content-Type": "application/json"}, b'{"error_code": "INTERNAL_ERROR"}'
        return forward(mlflow_registry.uri, exchange)

    proxy = loopback_http(handle)
    before = _counts(db)
    with pytest.raises(ExternalServiceError, match="HTTP 500"):
        import_mlflow(db, proxy.uri, models=[CREDIT], settings=FAST_FAILURE)
    assert _counts(db) == before


def test_an_import_older_than_the_stored_one_is_refused(db, mlflow_registry, tmp_path):
    from signoff.domain.errors import ConflictError

    older = read_mlflow_registry(mlflow_registry.uri, models=[FRAUD], work_dir=tmp_path / "a")
    newer = read_mlflow_registry(mlflow_registry.uri, models=[FRAUD], work_dir=tmp_path / "b")
    store_snapshot(db, newer)
    before = _counts(db)
    with pytest.raises(ConflictError, match="later import"):
        store_snapshot(db, older)
    assert _counts(db) == before


def test_cards_for_two_versions_record_no_deleted_version(db, tmp_path):
    """A card describes one version: importing v2's card after v1's must not read as "v1 deleted"."""
    from signoff.services.models import add_model_version
    from signoff.services.registry_import import import_model_card

    card = tmp_path / "README.md"
    card.write_text("---\nlicense: mit\n---\n# m\n## Intended uses\nscreening\n", encoding="utf-8")
    for version in ("1", "2"):
        add_model_version(db, name="carded", version=version, actor="t")
        import_model_card(db, card, model="carded", version=version, actor="t")
    changes, snapshots = model_history(db, "carded")
    assert len(snapshots) == 2
    assert changes == []
    # A later card for v1 is compared with v1's earlier card only: its licence tag changed, nothing else.
    card.write_text("---\nlicense: apache-2.0\n---\n# m\n## Intended uses\nscreening\n", encoding="utf-8")
    import_model_card(db, card, model="carded", version="1", actor="t")
    changes, _ = model_history(db, "carded")
    assert [(c.version, c.subject, c.before, c.after) for c in changes] == [
        ("1", "card.license", "mit", "apache-2.0")
    ]
