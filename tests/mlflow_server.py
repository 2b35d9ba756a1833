"""A real MLflow tracking server for tests, started as ``mlflow server`` on a loopback port.

One worker, job execution off, SQLite backend and proxied artifacts in a temporary folder, its own
process group so teardown can end the server and its workers by the group of the PID it started.
Used by the session-scoped ``mlflow_server`` fixture in ``tests/conftest.py``; ``populate_registry``
fills it the MLflow 3.17 way (sklearn models saved as skops, dataset inputs, aliases, tags, a deprecated
stage, non-ASCII names, an MLflow 2 style version, enough small models to need several pages).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_TIMEOUT_SECONDS = 180  # a loaded 2-core machine has taken over 60 s to import mlflow and start


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class MlflowServer:
    uri: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        # The server forks a uvicorn worker; its group is the one this process leads.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def start_mlflow_server(folder: Path) -> MlflowServer:
    """Start a server keeping its data in ``folder``; return once ``/health`` answers."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_loopback_port()
    log_path = folder / "server.log"
    env = dict(os.environ)
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    # The test process may set these for the client; the server must not inherit client auth.
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME"):
        env.pop(name, None)
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination",
        str(folder / "artifacts"),
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=folder,
            start_new_session=True,
        )
    server = MlflowServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited early:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{server.uri}/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"mlflow server did not answer /health:\n{log_path.read_text(errors='replace')}")


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


def populate_registry(mlflow_server: str) -> CreatedRegistry:
    """Create the models above with the real MLflow client; returns what was created (the oracle's keys)."""
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
        mlflow.log_metric("calibration_error", float("nan"))  # MLflow accepts it; JSON has no NaN
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
