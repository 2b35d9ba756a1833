"""A registry filled by the real MLflow client, and small loopback HTTP servers for faults.

``mlflow_registry`` creates, once per session, registered models the MLflow 3.17 way (sklearn models
saved as skops, dataset inputs, aliases, tags, a deprecated stage, non-ASCII names) plus enough small
models to need several pages. ``loopback_http`` serves a handler function on 127.0.0.1, to put a
failing or credential-checking proxy in front of the real server.
"""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

PREFIX = "signoff-reg "
CREDIT = f"{PREFIX}credit risk ü model"
FRAUD = f"{PREFIX}fraud score (legacy)"
PAGED = [f"{PREFIX}paged {i:02d}" for i in range(7)]
GIT_COMMIT = "3f2a9c1e5b7d4f60a8e2c9b1d3f5a7c9e1b3d5f7"


@dataclass
class CreatedRegistry:
    uri: str
    names: list[str]
    run_ids: dict[tuple[str, str], str] = field(default_factory=dict)


def _sklearn_data():
    import pandas as pd
    from sklearn.datasets import make_classification

    features, label = make_classification(n_samples=200, n_features=4, random_state=0)
    frame = pd.DataFrame(features, columns=["income", "age", "debt", "tenure"])
    return frame, pd.Series(label, name="approved")


@pytest.fixture(scope="session")
def mlflow_registry(mlflow_server) -> CreatedRegistry:
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    mlflow.set_tracking_uri(mlflow_server)
    client = MlflowClient(mlflow_server)
    experiment_id = mlflow.set_experiment("signoff registry import").experiment_id
    created = CreatedRegistry(mlflow_server, [CREDIT, FRAUD, *PAGED])
    features, label = _sklearn_data()
    training = mlflow.data.from_pandas(
        features.assign(approved=label),
        source="s3://lake/credit/train.parquet",
        name="credit-train",
        targets="approved",
    )
    evaluation = mlflow.data.from_pandas(
        features.head(50).assign(approved=label.head(50)),
        source="s3://lake/credit/holdout.parquet",
        name="credit-holdout",
        targets="approved",
    )

    client.create_registered_model(
        CREDIT, tags={"team": "credit", "pii": "yes"}, description="Scores loan applications."
    )
    for number, estimator, extra in (
        ("1", LogisticRegression(max_iter=200), {}),
        (
            "2",
            DecisionTreeClassifier(max_depth=3, random_state=0),
            {"skops_trusted_types": ["sklearn.tree._tree.Tree"]},
        ),
    ):
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"credit v{number}") as run:
            mlflow.set_tag("mlflow.source.git.commit", GIT_COMMIT)
            mlflow.log_input(training, context="training")
            mlflow.log_input(evaluation, context="evaluation")
            mlflow.log_params({"estimator": type(estimator).__name__, "seed": "0"})
            fitted = estimator.fit(features, label)
            mlflow.log_metric("accuracy", float(fitted.score(features, label)))
            # Stating the requirements skips MLflow's inference, which loads the model in a subprocess (~10 s).
            mlflow.sklearn.log_model(
                fitted, name="model", registered_model_name=CREDIT, pip_requirements=["scikit-learn"], **extra
            )
        created.run_ids[(CREDIT, number)] = run.info.run_id
    client.update_model_version(CREDIT, "1", description="first try, logistic")
    client.set_model_version_tag(CREDIT, "2", "validation_status", "approved")
    client.set_registered_model_alias(CREDIT, "champion", "2")
    client.set_registered_model_alias(CREDIT, "challenger", "1")
    client.transition_model_version_stage(CREDIT, "1", "Archived")

    # An MLflow 2 style version: files in a folder of the run's artifacts, registered by its URI. The
    # "pickle" is arbitrary bytes on purpose: the importer must fetch it, never open it.
    client.create_registered_model(FRAUD)
    with mlflow.start_run(experiment_id=experiment_id, run_name="fraud legacy") as run:
        mlflow.log_metric("recall", 0.71)
        mlflow.log_text("flavors:\n  sklearn:\n    pickled_model: model.pkl\n", "legacy_model/MLmodel")
        mlflow.log_text("scikit-learn==1.5.0\n", "legacy_model/requirements.txt")
        mlflow.log_text("not really a pickle\n", "legacy_model/model.pkl")
        mlflow.log_text("ignored\n", "legacy_model/notes.md")
    client.create_model_version(FRAUD, f"{run.info.artifact_uri}/legacy_model", run_id=run.info.run_id)
    created.run_ids[(FRAUD, "1")] = run.info.run_id

    # Many small models without runs, so a small page size needs several pages of each search.
    for index, name in enumerate(PAGED):
        client.create_registered_model(name, tags={"index": str(index)})
        for _ in range(1 + index % 2):
            client.create_model_version(name, f"s3://bucket/paged/{index}", tags={"cheap": "yes"})
    return created


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes]


@dataclass
class LoopbackHttp:
    uri: str
    requests: list[Exchange]


def forward(upstream: str, exchange: Exchange) -> Reply:
    """Send ``exchange`` on to ``upstream`` unchanged and return its answer (errors included)."""
    headers = {
        k: v
        for k, v in exchange.headers.items()
        if k.lower() not in ("host", "authorization", "content-length")
    }
    request = urllib.request.Request(
        upstream + exchange.path, data=exchange.body or None, method=exchange.method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (
                response.status,
                {"Content-Type": response.headers.get("Content-Type", "")},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {"Content-Type": error.headers.get("Content-Type", "")}, error.read()


@pytest.fixture
def loopback_http() -> Iterator[Callable[[Callable[[Exchange], Reply]], LoopbackHttp]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(handle: Callable[[Exchange], Reply]) -> LoopbackHttp:
        seen: list[Exchange] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                exchange = Exchange(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                seen.append(exchange)
                status, headers, body = handle(exchange)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return LoopbackHttp(f"http://127.0.0.1:{server.server_address[1]}", seen)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
