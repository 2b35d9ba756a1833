"""MLflow import from a hostile or broken server (issue 18): each fault is played by a real HTTP server on
127.0.0.1 and ends in a clear ``ExternalServiceError`` (or ``Cancelled``) within the import's limits, never
a hang, a traceback or data recorded under the wrong source."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from signoff.domain.errors import Cancelled, ExternalServiceError
from signoff.domain.registry_snapshot import MAX_DESCRIPTION_CHARS
from signoff.importers.mlflow import read_mlflow_registry
from signoff.importers.mlflow_rest import MlflowSettings

API = "/api/2.0/mlflow"
QUICK = MlflowSettings(timeout_seconds=5, max_retries=0, backoff_factor=0.01, deadline_seconds=20)
JSON = {"Content-Type": "application/json"}


def _registry(routes):
    """A fake MLflow server: ``routes`` maps a path (query left off) to a JSON-able answer."""

    def handle(exchange):
        path = exchange.path.split("?", 1)[0]
        if path not in routes:
            return 404, JSON, b'{"error_code": "ENDPOINT_NOT_FOUND", "message": "no"}'
        answer = routes[path]
        return 200, JSON, answer if isinstance(answer, bytes) else json.dumps(answer).encode()

    return handle


def _trickle():
    yield b'{"registered_models": ['
    while True:
        time.sleep(0.1)
        yield b" "


def test_a_server_that_trickles_for_ever_stops_at_the_overall_deadline(loopback_http, tmp_path):
    slow = loopback_http(lambda exchange: (200, JSON, _trickle()))
    settings = MlflowSettings(timeout_seconds=5, max_retries=0, deadline_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(ExternalServiceError, match=r"did not finish within the import's 1.5 s deadline"):
        read_mlflow_registry(slow.uri, work_dir=tmp_path, settings=settings)
    assert time.monotonic() - started < 5  # each byte came well within the 5 s read timeout


def test_cancel_stops_a_slow_answer(loopback_http, tmp_path):
    slow = loopback_http(lambda exchange: (200, JSON, _trickle()))
    started = time.monotonic()
    with pytest.raises(Cancelled):
        read_mlflow_registry(
            slow.uri, work_dir=tmp_path, settings=QUICK, cancelled=lambda: time.monotonic() - started > 0.5
        )
    assert time.monotonic() - started < 5


def test_a_page_token_that_never_ends_is_refused_after_the_page_limit(loopback_http, tmp_path):
    counter = itertools.count()
    endless = loopback_http(
        lambda exchange: (
            200,
            JSON,
            json.dumps({"registered_models": [], "next_page_token": f"t{next(counter)}"}).encode(),
        )
    )
    settings = MlflowSettings(timeout_seconds=5, max_retries=0, max_pages=7)
    with pytest.raises(ExternalServiceError, match="kept answering more pages of registered_models after 7"):
        read_mlflow_registry(endless.uri, work_dir=tmp_path, settings=settings)
    assert len(endless.requests) == 7


def test_a_huge_answer_is_refused_at_the_size_limit(loopback_http, tmp_path):
    huge = json.dumps({"registered_models": [], "padding": "x" * (3 * 1024 * 1024)}).encode()
    server = loopback_http(lambda exchange: (200, JSON, huge))
    chunked = loopback_http(
        lambda exchange: (200, JSON, iter([huge[i : i + 65536] for i in range(0, len(huge), 65536)]))
    )
    settings = MlflowSettings(timeout_seconds=5, max_retries=0, max_response_bytes=1024 * 1024)
    for target in (server, chunked):  # with and without a Content-Length
        with pytest.raises(ExternalServiceError, match="sent more than 1048576 bytes"):
            read_mlflow_registry(target.uri, work_dir=tmp_path, settings=settings)


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ([{"name": "m", "aliases": "champion", "tags": []}], "unexpected shape"),
        ([{"name": "m", "tags": 5}], "unexpected shape"),
        ([{"name": "m", "creation_timestamp": 10**30}], "unexpected shape"),
        ([{"name": "m\u0000x"}], "a text contains a NUL character"),
    ],
)
def test_wrong_json_types_and_nul_bytes_give_a_clear_error(loopback_http, tmp_path, models, message):
    server = loopback_http(
        _registry(
            {
                f"{API}/registered-models/search": {"registered_models": models},
                f"{API}/model-versions/search": {"model_versions": []},
            }
        )
    )
    with pytest.raises(ExternalServiceError, match=message):
        read_mlflow_registry(server.uri, work_dir=tmp_path, settings=QUICK)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"registered_models": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "malformed JSON"),
        (
            json.dumps({"registered_models": [], "x": json.loads("[" * 200 + "]" * 200)}).encode(),
            "nested more than 64 levels deep",
        ),
    ],
)
def test_deeply_nested_json_gives_a_clear_error(loopback_http, tmp_path, body, message):
    server = loopback_http(lambda exchange: (200, JSON, body))
    with pytest.raises(ExternalServiceError, match=message):
        read_mlflow_registry(server.uri, work_dir=tmp_path, settings=QUICK)


def test_a_redirect_to_another_host_is_refused(loopback_http, tmp_path):
    elsewhere = loopback_http(_registry({f"{API}/registered-models/search": {"registered_models": []}}))
    redirecting = loopback_http(lambda exchange: (302, {"Location": elsewhere.uri + exchange.path}, b""))
    with pytest.raises(
        ExternalServiceError, match=r"redirected registered models .* to another server"
    ) as refused:
        read_mlflow_registry(redirecting.uri, work_dir=tmp_path, settings=QUICK)
    assert elsewhere.uri.removeprefix("http://") in str(refused.value)
    assert elsewhere.requests == []  # nothing was read from the other host


def test_over_long_file_names_are_listed_not_written_and_a_huge_description_is_cut(loopback_http, tmp_path):
    long_name = "model." + "x" * 5000
    description = "d" * (MAX_DESCRIPTION_CHARS * 3)
    version = {
        "name": "m",
        "version": "1",
        "description": description,
        "source": "models:/m-0123abcd",
        "model_id": "m-0123abcd",
    }
    server = loopback_http(
        _registry(
            {
                f"{API}/registered-models/search": {"registered_models": [{"name": "m"}]},
                f"{API}/model-versions/search": {"model_versions": [version]},
                f"{API}/experiments/search": {"experiments": []},
                f"{API}/logged-models/search": {"models": []},
                f"{API}/logged-models/m-0123abcd/artifacts/directories": {
                    "files": [{"path": long_name, "is_dir": False, "file_size": 10}]
                },
            }
        )
    )
    snapshot = read_mlflow_registry(server.uri, work_dir=tmp_path / "work", settings=QUICK)
    (record,) = snapshot.models[0].versions
    (artifact,) = record.artifacts
    assert artifact.note == "not downloaded: its name is 5006 characters long"
    assert not any((tmp_path / "work").iterdir())
    assert record.description.startswith("d" * MAX_DESCRIPTION_CHARS)
    assert record.description[MAX_DESCRIPTION_CHARS:] == (
        "\n[cut at import: the registry's description is 196,608 characters long; the first 65,536 are kept]"
    )
