"""The MLflow importer against a real tracking server, checked against what the MLflow client reports."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from loopback_http import Exchange, forward
from mlflow_server import CREDIT, FRAUD, GIT_COMMIT, PAGED, PREFIX
from signoff.domain import registry_history as h
from signoff.domain.canonical import canonical_json
from signoff.domain.errors import ExternalServiceError, InputError, NotFoundError
from signoff.domain.registry_history import diff_snapshots
from signoff.importers.mlflow import read_mlflow_registry
from signoff.importers.mlflow_rest import MlflowSettings

FAST_FAILURE = MlflowSettings(timeout_seconds=5, max_retries=2, backoff_factor=0.01)


def _mine(snapshot):
    return {m.name: m for m in snapshot.models if m.name.startswith(PREFIX)}


@pytest.fixture(scope="module")
def full_read(mlflow_registry, tmp_path_factory):
    """The whole registry read with a page size of 3, so both searches need several pages."""
    return read_mlflow_registry(
        mlflow_registry.uri,
        work_dir=tmp_path_factory.mktemp("artifacts"),
        page_size=3,
        settings=MlflowSettings(),
    )


def test_every_model_version_and_alias_matches_the_mlflow_client(mlflow_registry, full_read):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_registry.uri)
    mine = _mine(full_read)
    # every model the fixture registered; other tests may add their own to the shared server
    assert set(mlflow_registry.names) <= set(mine)
    for name, record in mine.items():
        oracle = client.get_registered_model(name)
        assert record.description == (oracle.description or "")
        assert record.tags == oracle.tags
        assert record.aliases == {alias: str(v) for alias, v in oracle.aliases.items()}
        oracle_versions = client.search_model_versions(f"name = '{name}'")
        assert sorted(v.version for v in record.versions) == sorted(str(v.version) for v in oracle_versions)
        for expected in oracle_versions:
            got = record.version(str(expected.version))
            assert got.description == (expected.description or "")
            assert got.tags == expected.tags
            assert got.stage == expected.current_stage
            assert got.status == expected.status
            assert got.source_uri == expected.source
            assert int(got.created_at.timestamp() * 1000) == expected.creation_timestamp
            assert (got.run.run_id if got.run else None) == (expected.run_id or None)
    assert mine[CREDIT].aliases == {"champion": "2", "challenger": "1"}
    assert mine[CREDIT].version("1").stage == "Archived"
    assert mine[CREDIT].aliases_of("2") == ("champion",)


def test_paging_was_needed_and_requests_grow_with_pages_not_versions(full_read):
    versions = full_read.version_count
    assert len(full_read.models) >= len(PAGED) + 2 > 3  # more than one page of models at page size 3
    # models pages + version pages + experiments + run and logged-model batches + artifact calls
    assert full_read.scope is None
    assert full_read.request_count < versions * 2 + 40


def test_run_lineage_params_metrics_datasets_and_code_version(mlflow_registry, full_read):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_registry.uri)
    version = _mine(full_read)[CREDIT].version("2")
    oracle = client.get_run(mlflow_registry.run_ids[(CREDIT, "2")])
    run = version.run
    assert run.run_id == oracle.info.run_id
    assert run.params == oracle.data.params
    assert run.metrics == oracle.data.metrics
    assert run.git_commit == GIT_COMMIT
    assert run.experiment_name == "signoff registry import"
    assert run.run_name == "credit v2"
    expected_inputs = sorted(
        (
            {t.key: t.value for t in d.tags}["mlflow.data.context"],
            d.dataset.name,
            d.dataset.digest,
            d.dataset.source,
        )
        for d in oracle.inputs.dataset_inputs
    )
    assert [(d.context, d.name, d.digest, d.source) for d in run.datasets] == expected_inputs
    assert {d.context for d in run.datasets} == {"training", "evaluation"}
    assert all(len(d.digest) >= 8 for d in run.datasets)


def test_mlflow3_logged_model_and_its_files_hash_like_the_client_download(
    mlflow_registry, full_read, tmp_path
):
    import mlflow

    version = _mine(full_read)[CREDIT].version("2")
    # The REST answer for a version carries no model_id; the run's model outputs name the logged model.
    run = mlflow.MlflowClient(mlflow_registry.uri).get_run(mlflow_registry.run_ids[(CREDIT, "2")])
    expected_model = run.outputs.model_outputs[0].model_id
    assert version.logged_model.model_id == expected_model
    assert version.logged_model.source_run_id == mlflow_registry.run_ids[(CREDIT, "2")]
    downloaded = Path(mlflow.artifacts.download_artifacts(f"models:/{CREDIT}/2", dst_path=str(tmp_path)))
    oracle = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in downloaded.iterdir()
        if p.is_file()
        and (
            p.name in ("MLmodel", "requirements.txt", "conda.yaml", "python_env.yaml")
            or p.name.startswith("model.")
        )
    }
    assert "model.skops" in oracle  # MLflow 3.17 stores sklearn models as skops
    assert {a.path: a.sha256 for a in version.artifacts} == oracle
    for artifact in version.artifacts:
        assert hashlib.sha256(Path(artifact.local_path).read_bytes()).hexdigest() == artifact.sha256
        assert Path(artifact.local_path).stat().st_size == artifact.size


def test_mlflow2_style_version_files_come_from_the_run_folder(mlflow_registry, full_read):
    version = _mine(full_read)[FRAUD].version("1")
    assert version.logged_model is None
    files = {a.path: a for a in version.artifacts}
    assert set(files) == {"MLmodel", "requirements.txt", "model.pkl"}  # notes.md is not a model file
    assert Path(files["model.pkl"].local_path).read_bytes() == b"not really a pickle\n"
    assert files["model.pkl"].sha256 == hashlib.sha256(b"not really a pickle\n").hexdigest()
    assert version.run.metrics == {"recall": 0.71, "calibration_error": "NaN"}


def test_versions_without_a_run_have_no_lineage_and_no_files(full_read):
    paged = _mine(full_read)[PAGED[1]]
    assert len(paged.versions) == 2
    assert all(v.run is None and v.artifacts == () for v in paged.versions)


def test_named_models_only_and_their_scope(mlflow_registry, tmp_path):
    snapshot = read_mlflow_registry(
        mlflow_registry.uri, models=[FRAUD, CREDIT], work_dir=tmp_path, download_artifacts=False
    )
    assert [m.name for m in snapshot.models] == sorted([CREDIT, FRAUD])
    assert snapshot.scope == (FRAUD, CREDIT)
    assert all(v.artifacts == () for m in snapshot.models for v in m.versions)
    assert snapshot.model(CREDIT).version("2").run.git_commit == GIT_COMMIT


def test_unknown_model_name_is_not_found(mlflow_registry, tmp_path):
    with pytest.raises(NotFoundError, match="no such model"):
        read_mlflow_registry(mlflow_registry.uri, models=[f"{PREFIX}no such model"], work_dir=tmp_path)


def test_size_limit_lists_but_does_not_download(mlflow_registry, tmp_path):
    snapshot = read_mlflow_registry(
        mlflow_registry.uri, models=[CREDIT], work_dir=tmp_path, max_artifact_bytes=2000
    )
    files = {a.path: a for a in snapshot.model(CREDIT).version("2").artifacts}
    assert files["model.skops"].sha256 == "" and "limit" in files["model.skops"].note
    assert files["model.skops"].size > 2000
    assert files["python_env.yaml"].sha256 != ""


def test_history_of_alias_tag_stage_description_metric_and_versions(mlflow_registry, tmp_path):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_registry.uri)
    name = f"{PREFIX}history ☃"
    client.create_registered_model(name, tags={"owner": "ana"})
    run = client.create_run(client.get_experiment_by_name("signoff registry import").experiment_id)
    client.log_metric(run.info.run_id, "auc", 0.81)
    for _ in range(3):
        client.create_model_version(name, "s3://bucket/history", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_model_version_tag(name, "1", "reviewed", "no")
    before = read_mlflow_registry(mlflow_registry.uri, models=[name], work_dir=tmp_path / "a")

    client.set_registered_model_alias(name, "champion", "2")
    client.set_registered_model_alias(name, "shadow", "3")
    client.set_model_version_tag(name, "1", "reviewed", "yes")
    client.delete_registered_model_tag(name, "owner")
    client.transition_model_version_stage(name, "2", "Production")
    client.update_model_version(name, "3", description="candidate")
    client.log_metric(run.info.run_id, "auc", 0.84)
    client.delete_model_version(name, "1")
    client.create_model_version(name, "s3://bucket/history")
    after = read_mlflow_registry(mlflow_registry.uri, models=[name], work_dir=tmp_path / "b")

    changes = diff_snapshots(before, after)
    got = {(c.kind, c.version, c.subject, c.before, c.after) for c in changes}
    assert got == {
        (h.MODEL_TAG_REMOVED, None, "owner", "ana", None),
        (h.ALIAS_MOVED, None, "champion", "1", "2"),
        (h.ALIAS_ADDED, None, "shadow", None, "3"),
        (h.VERSION_DELETED, "1", "", None, None),
        (h.VERSION_STAGE_CHANGED, "2", "stage", "None", "Production"),
        (h.RUN_METRIC_CHANGED, "2", "auc", "0.81", "0.84"),
        (h.RUN_METRIC_CHANGED, "3", "auc", "0.81", "0.84"),
        (h.VERSION_DESCRIPTION_CHANGED, "3", "description", "", "candidate"),
        (h.VERSION_ADDED, "4", "", None, None),
    }
    moved = next(c for c in changes if c.kind == h.ALIAS_MOVED)
    assert moved.summary == f"{name}: alias champion moved v1 -> v2"
    assert (moved.seen_after, moved.seen_by) == (before.taken_at, after.taken_at)
    # Reading again without changes: no history.
    again = read_mlflow_registry(mlflow_registry.uri, models=[name], work_dir=tmp_path / "c")
    assert diff_snapshots(after, again) == []


# -- faults ---------------------------------------------------------------------------------------


def test_unreachable_server(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ExternalServiceError, match="cannot reach the MLflow tracking server"):
        read_mlflow_registry(f"http://127.0.0.1:{port}", work_dir=tmp_path, settings=FAST_FAILURE)


def test_not_a_url(tmp_path):
    with pytest.raises(InputError, match="http:// or https://"):
        read_mlflow_registry("file:///tmp/mlruns", work_dir=tmp_path)


@pytest.mark.parametrize("status", [200, 404])
def test_html_instead_of_json_says_check_the_url(loopback_http, tmp_path, status):
    page = loopback_http(lambda e: (status, {"Content-Type": "text/html"}, b"<!doctype html><html>UI</html>"))
    with pytest.raises(ExternalServiceError, match="Check the URL"):
        read_mlflow_registry(page.uri, work_dir=tmp_path, settings=FAST_FAILURE)


def test_malformed_json(loopback_http, tmp_path):
    broken = loopback_http(lambda e: (200, {"Content-Type": "application/json"}, b'{"registered_models": ['))
    with pytest.raises(ExternalServiceError, match="malformed JSON"):
        read_mlflow_registry(broken.uri, work_dir=tmp_path, settings=FAST_FAILURE)


def _auth_proxy(upstream: str, expected: str):
    def handle(exchange: Exchange):
        if exchange.headers.get("Authorization") != expected:
            return (
                401,
                {"Content-Type": "application/json", "WWW-Authenticate": 'Basic realm="mlflow"'},
                b'{"error_code": "UNAUTHENTICATED", "message": "You are not authenticated."}',
            )
        return forward(upstream, exchange)

    return handle


def test_bearer_token_from_the_environment(mlflow_registry, loopback_http, tmp_path):
    proxy = loopback_http(_auth_proxy(mlflow_registry.uri, "Bearer s3cret-token"))
    settings = MlflowSettings.from_env({"MLFLOW_TRACKING_TOKEN": "s3cret-token"})
    snapshot = read_mlflow_registry(proxy.uri, models=[FRAUD], work_dir=tmp_path, settings=settings)
    assert snapshot.model(FRAUD).version("1").artifacts  # downloads carried the token too
    with pytest.raises(ExternalServiceError, match="MLFLOW_TRACKING_TOKEN") as error:
        read_mlflow_registry(
            proxy.uri, models=[FRAUD], work_dir=tmp_path, settings=MlflowSettings.from_env({})
        )
    assert "HTTP 401" in str(error.value)


def test_basic_auth_from_the_environment(mlflow_registry, loopback_http, tmp_path):
    import base64

    expected = "Basic " + base64.b64encode("zoë:pässword".encode()).decode()
    proxy = loopback_http(_auth_proxy(mlflow_registry.uri, expected))
    env = {"MLFLOW_TRACKING_USERNAME": "zoë", "MLFLOW_TRACKING_PASSWORD": "pässword"}
    snapshot = read_mlflow_registry(
        proxy.uri,
        models=[FRAUD],
        work_dir=tmp_path,
        settings=MlflowSettings.from_env(env),
        download_artifacts=False,
    )
    assert snapshot.model(FRAUD) is not None


def test_forbidden_names_the_credential_variables(loopback_http, tmp_path):
    proxy = loopback_http(
        lambda e: (403, {"Content-Type": "application/json"}, b'{"error_code": "PERMISSION_DENIED"}')
    )
    with pytest.raises(ExternalServiceError, match=r"refused the credentials.*MLFLOW_TRACKING_USERNAME"):
        read_mlflow_registry(proxy.uri, work_dir=tmp_path, settings=FAST_FAILURE)


def test_server_error_on_the_second_page_fails_after_bounded_retries(
    mlflow_registry, loopback_http, tmp_path
):
    def handle(exchange: Exchange):
        if "registered-models/search" in exchange.path and "page_token" in exchange.path:
            return (
                500,
                {"Content-Type": "application/json"},
                b'{"error_code": "INTERNAL_ERROR", "message": "database is locked"}',
            )
        return forward(mlflow_registry.uri, exchange)

    proxy = loopback_http(handle)
    with pytest.raises(ExternalServiceError, match=r"HTTP 500 after 2 retries.*page 2.*database is locked"):
        read_mlflow_registry(proxy.uri, work_dir=tmp_path, page_size=2, settings=FAST_FAILURE)
    failed = [e for e in proxy.requests if "page_token" in e.path]
    assert len(failed) == 3  # the first try and two retries, then it gave up


def test_a_transient_503_is_retried_and_the_import_completes(mlflow_registry, loopback_http, tmp_path):
    failures = {"left": 2}

    def handle(exchange: Exchange):
        if "model-versions/search" in exchange.path and failures["left"]:
            failures["left"] -= 1
            return 503, {"Content-Type": "text/plain", "Retry-After": "0"}, b"busy"
        return forward(mlflow_registry.uri, exchange)

    proxy = loopback_http(handle)
    snapshot = read_mlflow_registry(
        proxy.uri, models=[CREDIT], work_dir=tmp_path, settings=FAST_FAILURE, download_artifacts=False
    )
    assert failures["left"] == 0
    assert [v.version for v in snapshot.model(CREDIT).versions] == ["1", "2"]


def test_tls_settings_follow_mlflow_environment_variables():
    assert MlflowSettings.from_env({}).verify is True
    assert MlflowSettings.from_env({"MLFLOW_TRACKING_INSECURE_TLS": "true"}).verify is False
    assert MlflowSettings.from_env({"MLFLOW_TRACKING_SERVER_CERT_PATH": "/ca.pem"}).verify == "/ca.pem"
    with pytest.raises(InputError, match="only one"):
        MlflowSettings.from_env(
            {"MLFLOW_TRACKING_INSECURE_TLS": "true", "MLFLOW_TRACKING_SERVER_CERT_PATH": "/ca.pem"}
        )
    with pytest.raises(InputError, match="MLFLOW_HTTP_REQUEST_TIMEOUT"):
        MlflowSettings.from_env({"MLFLOW_HTTP_REQUEST_TIMEOUT": "soon"})


def test_snapshot_json_names_nothing_temporary(full_read):
    text = canonical_json(full_read.to_dict()).decode()  # refuses NaN: the NaN metric must arrive as text
    assert "local_path" not in text and CREDIT in text
