"""Import 1,000 MLflow model versions over loopback, against the issue's target of 15 s.

Fills an MLflow store with the MLflow client (50 registered models of 20 versions, each version an
MLflow 3 logged model with its own run, params, metrics, a dataset input and three small files), starts a
real ``mlflow server`` (one worker) on it. Then times ``read_mlflow_registry`` on the whole registry, with and without the
model files, and prints the request counts beside the time.

    PYTHONPATH=app .venv/bin/python benchmarks/mlflow_import.py [--models 50] [--versions 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "app"), str(ROOT / "tests")]

from mlflow_server import start_mlflow_server  # noqa: E402
from signoff.importers.mlflow import read_mlflow_registry  # noqa: E402

TARGET_SECONDS = 15.0


def populate(folder: Path, models: int, versions: int) -> None:
    """Write the registry straight into the server's SQLite store and artifact folder before it starts.

    Filling it over HTTP would take far longer than the import being measured; the import still reads
    everything through the server's REST API.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Dataset as MlflowDataset
    from mlflow.entities import DatasetInput, InputTag, Metric, Param

    store = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(store)  # the registry store resolves ``models:/`` sources through it
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    experiment = client.create_experiment("benchmark", artifact_location="mlflow-artifacts:/benchmark")
    files = {
        "MLmodel": b"flavors:\n  sklearn:\n    pickled_model: model.skops\n",
        "requirements.txt": b"scikit-learn\n",
    }
    for m in range(models):
        name = f"bench model {m:03d}"
        client.create_registered_model(name, tags={"team": "bench"})
        for number in range(1, versions + 1):
            run = client.create_run(experiment, run_name=f"{name} v{number}")
            run_id = run.info.run_id
            client.log_batch(
                run_id, metrics=[Metric("auc", 0.8 + number / 1000, 0, 0)], params=[Param("depth", "3")]
            )
            dataset = MlflowDataset(f"train-{m}", f"{m:08x}", "local", '{"uri": "/data/train.csv"}')
            client.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])])
            logged = client.create_logged_model(experiment, name="model", source_run_id=run_id)
            target = folder / "artifacts" / "benchmark" / "models" / logged.model_id / "artifacts"
            target.mkdir(parents=True)
            for file_name, content in files.items():
                (target / file_name).write_bytes(content)
            # Distinct bytes per version, so no two versions share a model file.
            (target / "model.skops").write_bytes(logged.model_id.encode() * 128)
            client.finalize_logged_model(logged.model_id, "READY")
            client.set_terminated(run_id)
            client.create_model_version(
                name, f"models:/{logged.model_id}", run_id=run_id, model_id=logged.model_id
            )
        client.set_registered_model_alias(name, "champion", str(versions))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--versions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as folder:
        scratch = Path(folder)
        (scratch / "server").mkdir()
        started = time.perf_counter()
        populate(scratch / "server", args.models, args.versions)
        print(
            f"filled {args.models * args.versions} versions in {time.perf_counter() - started:.1f} s (not timed)"
        )
        server = start_mlflow_server(scratch / "server")
        try:
            started = time.perf_counter()
            metadata = read_mlflow_registry(server.uri, work_dir=scratch / "a", download_artifacts=False)
            metadata_seconds = time.perf_counter() - started
            started = time.perf_counter()
            full = read_mlflow_registry(server.uri, work_dir=scratch / "b")
            full_seconds = time.perf_counter() - started
        finally:
            server.stop()
    files = sum(1 for m in full.models for v in m.versions for a in v.artifacts if a.sha256)
    print()
    print(
        f"{'import of ' + str(full.version_count) + ' versions':<44} {'seconds':>8} {'requests':>9}  target"
    )
    print(
        f"{'  registry, runs, datasets, logged models':<44} {metadata_seconds:8.2f} {metadata.request_count:9d}  < {TARGET_SECONDS:g} s"
    )
    print(
        f"{'  ... plus ' + str(files) + ' model files (SHA-256)':<44} {full_seconds:8.2f} {full.request_count:9d}  < {TARGET_SECONDS:g} s"
    )
    return 0 if full_seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
