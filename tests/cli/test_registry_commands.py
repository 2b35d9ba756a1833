"""``signoff import ...`` and ``signoff models history/show`` run as a user would, against a real MLflow server."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

from mlflow_server import CREDIT, FRAUD, GIT_COMMIT


def _ok(completed):
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def _one_paragraph_error(completed, *words):
    assert completed.returncode == 2, completed.stdout
    assert completed.stderr.startswith("signoff:") and "Traceback" not in completed.stderr
    for word in words:
        assert word in completed.stderr


def test_import_mlflow_then_show_list_and_history(signed_in_cli, mlflow_registry, tmp_path):
    import mlflow

    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    uri = mlflow_registry.uri
    first = _ok(
        signed_in_cli(
            "import", "mlflow", "--tracking-uri", uri, "--model", CREDIT, "--model", FRAUD, "--json", db=db
        )
    )
    assert (first["models"], first["versions"], first["changes"]) == (2, 3, [])

    shown = _ok(signed_in_cli("models", "show", CREDIT, "2", "--json", db=db))
    lineage = shown["lineage"]
    assert lineage["run_id"] == mlflow_registry.run_ids[(CREDIT, "2")]
    assert lineage["code_version"]["git_commit"] == GIT_COMMIT
    oracle_run = mlflow.MlflowClient(uri).get_run(lineage["run_id"])
    assert sorted(d["digest"] for d in lineage["datasets"]) == sorted(
        d.dataset.digest for d in oracle_run.inputs.dataset_inputs
    )
    downloaded = Path(
        mlflow.artifacts.download_artifacts(f"models:/{CREDIT}/2", dst_path=str(tmp_path / "dl"))
    )
    assert (
        shown["artifacts"]["model.skops"]
        == hashlib.sha256((downloaded / "model.skops").read_bytes()).hexdigest()
    )
    assert shown["artifacts"]["MLmodel"] == hashlib.sha256((downloaded / "MLmodel").read_bytes()).hexdigest()

    listed = _ok(signed_in_cli("models", "list", "--json", db=db))
    assert {(v["name"], v["version"], v["source"]) for v in listed} == {
        (CREDIT, "1", "mlflow"),
        (CREDIT, "2", "mlflow"),
        (FRAUD, "1", "mlflow"),
    }

    again = _ok(
        signed_in_cli(
            "import", "mlflow", "--tracking-uri", uri, "--model", CREDIT, "--model", FRAUD, "--json", db=db
        )
    )
    assert again["changes"] == [] and again["previous_snapshot_id"] == first["snapshot_id"]
    history = _ok(signed_in_cli("models", "history", CREDIT, "--json", db=db))
    assert history["changes"] == []
    assert [s["id"] for s in history["snapshots"]] == [first["snapshot_id"], again["snapshot_id"]]

    text = signed_in_cli("models", "history", CREDIT, db=db)
    assert text.returncode == 0 and "no changes" in text.stdout


def test_alias_move_shows_in_history_text_and_json(signed_in_cli, mlflow_registry, tmp_path):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_registry.uri)
    # Outside PREFIX: the importer tests compare every PREFIX model of the shared server with their own.
    name = "signoff-cli history"
    client.create_registered_model(name)
    for _ in range(4):
        client.create_model_version(name, "s3://bucket/cli-history")
    client.set_registered_model_alias(name, "champion", "3")
    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    command = ("import", "mlflow", "--tracking-uri", mlflow_registry.uri, "--model", name)
    _ok(signed_in_cli(*command, "--json", db=db))
    client.set_registered_model_alias(name, "champion", "4")
    printed = signed_in_cli(*command, db=db)
    assert printed.returncode == 0, printed.stderr
    assert "alias champion moved v3 -> v4" in printed.stdout

    history = _ok(signed_in_cli("models", "history", name, "--json", db=db))
    assert [(c["kind"], c["before"], c["after"]) for c in history["changes"]] == [("alias.moved", "3", "4")]
    text = signed_in_cli("models", "history", name, db=db).stdout
    assert "alias champion moved v3 -> v4" in text and "seen between" in text


def test_unreachable_server_exits_non_zero_and_stores_nothing(signed_in_cli, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    failed = signed_in_cli(
        "import",
        "mlflow",
        "--tracking-uri",
        f"http://127.0.0.1:{port}",
        db=db,
        env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1"},
    )
    _one_paragraph_error(failed, "cannot reach the MLflow tracking server")
    assert _ok(signed_in_cli("models", "list", "--json", db=db)) == []
    events = _ok(signed_in_cli("audit", "log", "--json", db=db))
    # signing in made the first account, and with it the workspace's certificate authority
    assert [e["action"] for e in events if not e["action"].startswith(("user.", "auth.", "authority."))] == []


def test_server_error_halfway_through_paging_exits_non_zero_and_stores_nothing(
    signed_in_cli, mlflow_registry, loopback_http, tmp_path
):
    from loopback_http import forward

    def handle(exchange):
        if "registered-models/search" in exchange.path and "page_token" in exchange.path:
            return (
                500,
                {"Content-Type": "application/json"},
                b'{"error_code": "INTERNAL_ERROR", "message": "boom"}',
            )
        # A page of one model, so the second page is needed.
        exchange.path = exchange.path.replace("max_results=1000", "max_results=1")
        return forward(mlflow_registry.uri, exchange)

    proxy = loopback_http(handle)
    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    failed = signed_in_cli(
        "import",
        "mlflow",
        "--tracking-uri",
        proxy.uri,
        db=db,
        env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0"},
    )
    _one_paragraph_error(failed, "HTTP 500", "page 2")
    assert _ok(signed_in_cli("models", "list", "--json", db=db)) == []


def test_missing_credentials_name_the_environment_variables(signed_in_cli, loopback_http, tmp_path):
    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    locked = loopback_http(lambda e: (401, {"Content-Type": "application/json"}, b"{}"))
    _one_paragraph_error(
        signed_in_cli("import", "mlflow", "--tracking-uri", locked.uri, db=db),
        "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_TRACKING_PASSWORD",
    )


def test_import_sagemaker_and_model_card_then_show(signed_in_cli, tmp_path):
    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    export = tmp_path / "packages.json"
    export.write_text(
        json.dumps(
            [
                {
                    "ModelPackageGroupName": "loan-approval",
                    "ModelPackageVersion": 1,
                    "ModelPackageArn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/loan-approval/1",
                    "ModelApprovalStatus": "PendingManualApproval",
                    "CreationTime": "2026-02-01T10:00:00Z",
                }
            ]
        ),
        encoding="utf-8",
    )
    first = _ok(signed_in_cli("import", "sagemaker", str(export), "--json", db=db))
    assert first["versions"] == 1
    data = json.loads(export.read_text())
    data[0]["ModelApprovalStatus"] = "Approved"
    export.write_text(json.dumps(data), encoding="utf-8")
    second = _ok(signed_in_cli("import", "sagemaker", str(export), "--json", db=db))
    assert [c["summary"] for c in second["changes"]] == [
        "loan-approval v1: approval_status changed 'PendingManualApproval' -> 'Approved'"
    ]
    card = tmp_path / "README.md"
    card.write_text(
        "---\nmodel-index:\n- name: loan-approval\n  results:\n  - task: {type: tabular-classification}\n"
        "    dataset: {name: holdout, split: test}\n    metrics:\n    - {type: auc, value: 0.81}\n---\n"
        "## Intended uses & limitations\nPre-screening only.\n",
        encoding="utf-8",
    )
    _ok(signed_in_cli("import", "model-card", str(card), "--version", "1", "--json", db=db))
    shown = _ok(signed_in_cli("models", "show", "loan-approval", "1", "--json", db=db))
    assert shown["registry"]["sagemaker"]["record"]["approval_status"] == "Approved"
    card_record = shown["registry"]["model-card"]["record"]["card"]
    assert card_record["evaluation_results"][0]["value"] == 0.81
    assert "Pre-screening only." in card_record["intended_uses"]

    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"ModelPackageSummaryList": 3}', encoding="utf-8")
    _one_paragraph_error(
        signed_in_cli("import", "sagemaker", str(wrong), db=db), "wrong.json", "$.ModelPackageSummaryList"
    )


def test_every_registry_command_is_documented():
    from signoff.cli.main import build_parser

    parser = build_parser()
    for command in (
        ("import", "mlflow"),
        ("import", "sagemaker"),
        ("import", "model-card"),
        ("models", "history"),
        ("models", "show"),
    ):
        sub = parser
        for name in command:
            sub = sub._subparsers._group_actions[0].choices[name]
        assert sub.description and len(sub.description) > 40, command
        assert "--json" in sub.format_help(), command


def test_a_registered_model_with_no_versions_is_listed_with_its_tags_and_history(
    signed_in_cli, mlflow_registry, tmp_path
):
    import mlflow

    db = f"sqlite:///{tmp_path / 'signoff.db'}"
    uri = mlflow_registry.uri
    name = "signoff-reg empty churn model"
    client = mlflow.MlflowClient(uri)
    client.create_registered_model(
        name, tags={"team": "retention", "stage-gate": "pending"}, description="Churn."
    )
    try:
        _ok(
            signed_in_cli(
                "import", "mlflow", "--tracking-uri", uri, "--model", name, "--model", FRAUD, "--json", db=db
            )
        )
        listed = _ok(signed_in_cli("models", "list", "--json", db=db))
        oracle = client.get_registered_model(name)
        empty = [entry for entry in listed if entry["name"] == name]
        assert len(empty) == 1
        assert empty[0]["version"] is None and empty[0]["id"] is None and empty[0]["versions"] == 0
        assert empty[0]["tags"] == oracle.tags and empty[0]["description"] == oracle.description
        assert (empty[0]["source"], empty[0]["source_uri"]) == ("mlflow", uri)
        assert {(e["name"], e["version"]) for e in listed if e["name"] == FRAUD} == {(FRAUD, "1")}

        table = signed_in_cli("models", "list", db=db)
        line = next(row for row in table.stdout.splitlines() if name in row)
        assert "(no versions yet)" in line and "stage-gate=pending" in line and "team=retention" in line

        client.set_registered_model_tag(name, "owner", "Zoë")
        _ok(
            signed_in_cli(
                "import", "mlflow", "--tracking-uri", uri, "--model", name, "--model", FRAUD, "--json", db=db
            )
        )
        history = _ok(signed_in_cli("models", "history", name, "--json", db=db))
        assert len(history["snapshots"]) == 2
        assert [(c["kind"], c["subject"], c["after"]) for c in history["changes"]] == [
            ("model.tag_added", "owner", "Zoë")
        ]
        text = signed_in_cli("models", "history", name, db=db)
        assert text.returncode == 0 and "seen by 2 imports, 1 changes" in text.stdout
    finally:
        client.delete_registered_model(name)
