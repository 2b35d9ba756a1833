"""diff_snapshots: every kind of change, both snapshot times on each, scope respected, order stable."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from signoff.domain import registry_history as h
from signoff.domain.registry_history import RegistryChange, diff_snapshots
from signoff.domain.registry_snapshot import (
    ArtifactFile,
    DatasetInput,
    EvaluationResult,
    LoggedModelInfo,
    MetricsPointer,
    ModelCard,
    ModelVersionRecord,
    RegisteredModelRecord,
    RegistrySnapshot,
    RunLineage,
)

T1 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def version(number: str, **changes) -> ModelVersionRecord:
    base = ModelVersionRecord(
        name="credit risk ü",
        version=number,
        description=f"version {number}",
        tags={"owner": "risk"},
        stage="None",
        status="READY",
        run=RunLineage(run_id=f"run{number}", metrics={"auc": 0.8}),
        artifacts=(ArtifactFile("model.skops", 10, "a" * 64),),
    )
    return replace(base, **changes)


def model(**changes) -> RegisteredModelRecord:
    base = RegisteredModelRecord(
        name="credit risk ü",
        description="scores loan applications",
        tags={"team": "risk"},
        aliases={"champion": "1"},
        versions=(version("1"), version("2")),
    )
    return replace(base, **changes)


def snap(*models: RegisteredModelRecord, at: datetime = T2, scope=None) -> RegistrySnapshot:
    return RegistrySnapshot("mlflow", "http://mlflow", at, tuple(models), scope)


def changes_of(before: RegistrySnapshot, after: RegistrySnapshot) -> list[tuple]:
    return [(c.kind, c.model, c.version, c.subject, c.before, c.after) for c in diff_snapshots(before, after)]


def test_first_snapshot_has_no_history():
    assert diff_snapshots(None, snap(model())) == []


def test_unchanged_registry_yields_no_change():
    assert diff_snapshots(snap(model(), at=T1), snap(model())) == []


def test_alias_moved_added_removed_and_summary_reads_like_the_issue():
    before = snap(model(aliases={"champion": "3", "shadow": "1"}), at=T1)
    after = snap(model(aliases={"champion": "4", "challenger": "2"}))
    changes = diff_snapshots(before, after)
    assert [(c.kind, c.subject, c.before, c.after) for c in changes] == [
        (h.ALIAS_ADDED, "challenger", None, "2"),
        (h.ALIAS_MOVED, "champion", "3", "4"),
        (h.ALIAS_REMOVED, "shadow", "1", None),
    ]
    moved = changes[1]
    assert moved.summary == "credit risk ü: alias champion moved v3 -> v4"
    assert (moved.seen_after, moved.seen_by) == (T1, T2)
    assert all((c.seen_after, c.seen_by) == (T1, T2) for c in changes)


def test_versions_added_and_deleted():
    before = snap(model(versions=(version("1"), version("2"))), at=T1)
    after = snap(model(versions=(version("2"), version("3"), version("10"))))
    assert changes_of(before, after) == [
        (h.VERSION_DELETED, "credit risk ü", "1", "", None, None),
        (h.VERSION_ADDED, "credit risk ü", "3", "", None, None),
        (h.VERSION_ADDED, "credit risk ü", "10", "", None, None),  # numeric order, not text order
    ]


def test_stage_status_description_and_approval_changes():
    before = snap(model(versions=(version("1"),)), at=T1)
    after = snap(
        model(
            versions=(
                version(
                    "1",
                    stage="Production",
                    status="FAILED_REGISTRATION",
                    description="retrained",
                    approval_status="Approved",
                ),
            )
        )
    )
    assert changes_of(before, after) == [
        (h.VERSION_DESCRIPTION_CHANGED, "credit risk ü", "1", "description", "version 1", "retrained"),
        (h.VERSION_STAGE_CHANGED, "credit risk ü", "1", "stage", "None", "Production"),
        (h.VERSION_STATUS_CHANGED, "credit risk ü", "1", "status", "READY", "FAILED_REGISTRATION"),
        (h.VERSION_APPROVAL_CHANGED, "credit risk ü", "1", "approval_status", "", "Approved"),
    ]


def test_version_tags_added_changed_removed():
    before = snap(model(versions=(version("1", tags={"owner": "risk", "old": "x"}),)), at=T1)
    after = snap(model(versions=(version("1", tags={"owner": "fraud", "new": "y"}),)))
    assert changes_of(before, after) == [
        (h.VERSION_TAG_ADDED, "credit risk ü", "1", "new", None, "y"),
        (h.VERSION_TAG_REMOVED, "credit risk ü", "1", "old", "x", None),
        (h.VERSION_TAG_CHANGED, "credit risk ü", "1", "owner", "risk", "fraud"),
    ]


def test_model_tags_and_description():
    before = snap(model(tags={"team": "risk", "gone": "1"}), at=T1)
    after = snap(model(tags={"team": "credit", "pii": "yes"}, description="new words"))
    assert changes_of(before, after) == [
        (
            h.MODEL_DESCRIPTION_CHANGED,
            "credit risk ü",
            None,
            "description",
            "scores loan applications",
            "new words",
        ),
        (h.MODEL_TAG_REMOVED, "credit risk ü", None, "gone", "1", None),
        (h.MODEL_TAG_ADDED, "credit risk ü", None, "pii", None, "yes"),
        (h.MODEL_TAG_CHANGED, "credit risk ü", None, "team", "risk", "credit"),
    ]


def test_run_metric_changed_added_removed():
    run_before = RunLineage(run_id="r", metrics={"auc": 0.8, "loss": 0.3})
    run_after = RunLineage(run_id="r", metrics={"auc": 0.85, "f1": 0.7})
    before = snap(model(versions=(version("1", run=run_before),)), at=T1)
    after = snap(model(versions=(version("1", run=run_after),)))
    assert changes_of(before, after) == [
        (h.RUN_METRIC_CHANGED, "credit risk ü", "1", "auc", "0.8", "0.85"),
        (h.RUN_METRIC_CHANGED, "credit risk ü", "1", "f1", None, "0.7"),
        (h.RUN_METRIC_CHANGED, "credit risk ü", "1", "loss", "0.3", None),
    ]


def test_artifact_replaced_under_the_same_version_is_reported():
    before = snap(model(versions=(version("1"),)), at=T1)
    after = snap(model(versions=(version("1", artifacts=(ArtifactFile("model.skops", 10, "b" * 64),)),)))
    assert changes_of(before, after) == [
        (h.VERSION_ARTIFACT_CHANGED, "credit risk ü", "1", "model.skops", "a" * 64, "b" * 64)
    ]


def test_new_model_reports_itself_its_aliases_and_versions_but_not_its_tags():
    other = model(
        name="fraud", aliases={"prod": "2"}, versions=(version("1", name="fraud"), version("2", name="fraud"))
    )
    before = snap(model(), at=T1)
    after = snap(model(), other)
    assert changes_of(before, after) == [
        (h.MODEL_ADDED, "fraud", None, "", None, None),
        (h.ALIAS_ADDED, "fraud", None, "prod", None, "2"),
        (h.VERSION_ADDED, "fraud", "1", "", None, None),
        (h.VERSION_ADDED, "fraud", "2", "", None, None),
    ]


def test_model_missing_from_a_full_snapshot_is_deleted():
    before = snap(model(), model(name="fraud"), at=T1)
    assert changes_of(before, snap(model())) == [(h.MODEL_DELETED, "fraud", None, "", None, None)]


def test_model_outside_a_partial_snapshot_is_not_deleted():
    before = snap(model(), model(name="fraud"), at=T1)
    after = snap(model(), scope=("credit risk ü",))
    assert diff_snapshots(before, after) == []
    # ... but one that was asked for and is absent is gone.
    assert changes_of(before, snap(model(), scope=("credit risk ü", "fraud"))) == [
        (h.MODEL_DELETED, "fraud", None, "", None, None)
    ]


def test_snapshots_out_of_order_are_refused():
    with pytest.raises(ValueError, match="order"):
        diff_snapshots(snap(model(), at=T2), snap(model(), at=T1))


def test_every_kind_has_a_readable_summary_and_survives_json():
    for kind in h.CHANGE_KINDS:
        change = RegistryChange(kind, "m", "1", "subject", "old", "new", T1, T2)
        assert change.summary.startswith("m")
        assert RegistryChange.from_dict(json.loads(json.dumps(change.to_dict()))) == change
    assert RegistryChange(h.VERSION_ADDED, "m", "3", "", None, None, T1, T2).summary == "m v3: added"
    assert (
        RegistryChange(h.VERSION_TAG_REMOVED, "m", "3", "k", "v", None, T1, T2).summary
        == "m v3: tag k removed (was v)"
    )


def test_snapshot_round_trips_through_json_with_every_field():
    full_version = version(
        "7",
        run=RunLineage(
            run_id="r7",
            experiment_id="1",
            experiment_name="exp",
            run_name="bold-fox",
            user="zoë",
            status="FINISHED",
            started_at=T1,
            ended_at=T2,
            params={"depth": "3"},
            metrics={"auc": 0.91},
            tags={
                "mlflow.source.git.commit": "abc123",
                "mlflow.source.name": "train.py",
                "mlflow.source.type": "LOCAL",
            },
            datasets=(
                DatasetInput("adult", "8f9eb48c", '{"uri": "s3://b/adult.csv"}', "s3", "training", "{}"),
            ),
        ),
        logged_model=LoggedModelInfo(
            "m-1", "model", "", "READY", "mlflow-artifacts:/1/models/m-1", "r7", {}, {"auc": 0.91}, {}
        ),
        artifacts=(
            ArtifactFile("model.skops", 10, "a" * 64, "/tmp/x"),
            ArtifactFile("big.pkl", 10**12, note="over limit"),
        ),
        approval_status="PendingManualApproval",
        approval_description="waiting",
        created_by="arn:aws:iam::1:user/zoe",
        metrics_pointers=(
            MetricsPointer("ModelQuality.Statistics", "s3://b/stats.json", "application/json"),
        ),
        card=ModelCard(
            intended_uses="credit decisions",
            risk_rating="High",
            evaluation_results=(
                EvaluationResult("accuracy", 0.9, "adult", "tabular-classification", "test"),
            ),
        ),
    )
    snapshot = RegistrySnapshot(
        "mlflow",
        "http://mlflow",
        T2,
        (model(versions=(full_version,), created_at=T1, updated_at=T2),),
        scope=("credit risk ü",),
        request_count=12,
    )
    restored = RegistrySnapshot.from_dict(json.loads(json.dumps(snapshot.to_dict())))
    # The temporary download path is deliberately not kept.
    expected_artifacts = (
        ArtifactFile("model.skops", 10, "a" * 64),
        ArtifactFile("big.pkl", 10**12, note="over limit"),
    )
    assert restored.models[0].versions[0].artifacts == expected_artifacts
    assert restored.models[0].versions[0].run == full_version.run
    assert restored.models[0].versions[0].run.git_commit == "abc123"
    assert replace(restored.models[0].versions[0], artifacts=full_version.artifacts) == full_version
    assert restored.to_dict() == snapshot.to_dict()


def test_snapshot_refuses_naive_times_and_unknown_sources():
    with pytest.raises(ValueError):
        RegistrySnapshot("mlflow", "x", datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        RegistrySnapshot("wandb", "x", T1)
