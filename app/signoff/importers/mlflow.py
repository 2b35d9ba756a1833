"""Read an MLflow model registry over the REST API 2.0 into a ``RegistrySnapshot``.

Searches are batched: registered models and model versions are read page by page (``page_token``), runs
by ``runs/search`` on up to ``RUN_BATCH`` run ids at a time, MLflow 3 logged models by
``logged-models/search`` likewise, so the request count grows with pages, not with versions. Only the
model files are fetched one by one: ``MLmodel``, the model file (``model.skops``, ``model.pkl``, an XGBoost
or LightGBM file), ``requirements.txt``, ``conda.yaml`` and ``python_env.yaml``, streamed to ``work_dir``
with their SHA-256. Nothing downloaded is loaded or executed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signoff.domain.errors import Cancelled, ExternalServiceError, InputError
from signoff.domain.registry_snapshot import (
    ArtifactFile,
    DatasetInput,
    LoggedModelInfo,
    ModelVersionRecord,
    RegisteredModelRecord,
    RegistrySnapshot,
    RunLineage,
    cut_description,
    metric_value,
)
from signoff.importers.mlflow_rest import MlflowRestClient, MlflowSettings

API = "/api/2.0/mlflow"
MAX_PAGE_SIZE = 1000  # the server refuses more registered models per page
RUN_BATCH = 100  # run ids (and logged model ids) per search filter
NAME_BATCH = 50  # registered model names per version search filter
DOWNLOAD_THREADS = 4
DEFAULT_MAX_ARTIFACT_BYTES = 2 * 1024**3  # a larger file is listed with its size but not downloaded
MAX_FILE_NAME_BYTES = 200  # a longer artifact name is listed (shortened) but not downloaded
# Files read from a model's artifact folder besides the model file itself (``model.*``).
ENVIRONMENT_FILES = ("MLmodel", "requirements.txt", "conda.yaml", "python_env.yaml")
PROMPT_TAG = "mlflow.prompt.is_prompt"  # MLflow 3 keeps prompts as registered models; they are not models
LOGGED_MODEL_SOURCE = re.compile(r"^models:/(m-[0-9a-f]+)$")

Progress = Callable[[int, int, str], None]


def read_mlflow_registry(
    tracking_uri: str,
    *,
    work_dir: Path,
    models: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    settings: MlflowSettings | None = None,
    page_size: int = MAX_PAGE_SIZE,
    download_artifacts: bool = True,
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
) -> RegistrySnapshot:
    """Everything the registry at ``tracking_uri`` holds (or only ``models``), as one snapshot.

    ``taken_at`` is the moment reading began. Artifacts land in ``work_dir`` (created if missing); the
    caller stores them and removes the folder. ``progress(done, total, what)`` is called as versions'
    files are fetched; ``cancelled()`` returning true stops the read with ``Cancelled``.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InputError(f"page size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    wanted = _unique_names(models)
    taken_at = datetime.now(UTC)
    work_dir.mkdir(parents=True, exist_ok=True)
    cancelled = cancelled or (lambda: False)
    reader = _RegistryReader(
        MlflowRestClient(tracking_uri, settings, cancelled),
        page_size=page_size,
        progress=progress or (lambda done, total, what: None),
        cancelled=cancelled,
    )
    with reader.client:
        try:
            records = reader.read(wanted, work_dir if download_artifacts else None, max_artifact_bytes)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
            # Answers are parsed where they are used; a field of the wrong type or shape from a broken
            # or hostile server lands here instead of as a traceback.
            raise ExternalServiceError(
                f"the MLflow server at {reader.client.base_url} answered JSON of an unexpected shape "
                f"({type(error).__name__}: {str(error)[:200]}); nothing was imported. Is it an MLflow "
                "tracking server of version 2 or 3?"
            ) from None
        return RegistrySnapshot(
            source_kind="mlflow",
            source_uri=reader.client.base_url,
            taken_at=taken_at,
            models=records,
            scope=None if wanted is None else tuple(wanted),
            request_count=reader.client.request_count,
        )


def registered_model_names(
    tracking_uri: str,
    *,
    settings: MlflowSettings | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[str]:
    """The names of every registered model at ``tracking_uri``, sorted as a person reads them (the
    wizard's list to choose from): the same paged, limited reads as a full import."""
    reader = _RegistryReader(
        MlflowRestClient(tracking_uri, settings),
        page_size=MAX_PAGE_SIZE,
        progress=lambda done, total, what: None,
        cancelled=cancelled or (lambda: False),
    )
    with reader.client:
        return sorted((m["name"] for m in reader.registered_models(None)), key=str.casefold)


def _unique_names(models: Sequence[str] | None) -> list[str] | None:
    if models is None:
        return None
    names: list[str] = []
    for name in models:
        if not name.strip():
            raise InputError("a model name to import is empty")
        if name not in names:
            names.append(name)
    return names or None


def _time(milliseconds: Any) -> datetime | None:
    if milliseconds in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(milliseconds) / 1000, UTC)


def _tags(items: Any) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in items or ()}


def _quote(value: str) -> str:
    # MLflow's filter grammar has no escapes: pick the quote the value does not contain.
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    raise InputError(f"a name containing both kinds of quote cannot be searched for in MLflow: {value!r}")


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _RegistryReader:
    def __init__(
        self,
        client: MlflowRestClient,
        *,
        page_size: int,
        progress: Progress,
        cancelled: Callable[[], bool],
    ) -> None:
        self.client = client
        self.page_size = page_size
        self.progress = progress
        self.cancelled = cancelled

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise Cancelled("the MLflow import was cancelled; nothing was stored")

    # -- paging ---------------------------------------------------------------------------------

    def _pages(self, fetch: Callable[[str | None], dict[str, Any]], key: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        seen_tokens: set[str] = set()
        for _page in range(self.client.settings.max_pages):
            self.check_cancelled()
            body = fetch(token)
            items = body.get(key, [])
            if not isinstance(items, list):
                raise ExternalServiceError(f"the MLflow server answered {key!r} that is not a list")
            yield from items
            token = body.get("next_page_token") or None
            if token is None:
                return
            if token in seen_tokens:  # a server bug would otherwise loop for ever
                raise ExternalServiceError(f"the MLflow server repeated a page token while listing {key}")
            seen_tokens.add(token)
        raise ExternalServiceError(
            f"the MLflow server at {self.client.base_url} kept answering more pages of {key} after "
            f"{self.client.settings.max_pages}; refused as a loop, nothing was imported"
        )

    # -- registered models and versions -----------------------------------------------------------

    def registered_models(self, wanted: list[str] | None) -> list[dict[str, Any]]:
        if wanted is not None:
            return [
                self.client.get_json(
                    f"{API}/registered-models/get", f"registered model {name!r}", {"name": name}
                )["registered_model"]
                for name in wanted
            ]
        page = [0]

        def fetch(token: str | None) -> dict[str, Any]:
            page[0] += 1
            params: dict[str, Any] = {"max_results": self.page_size}
            if token:
                params["page_token"] = token
            return self.client.get_json(
                f"{API}/registered-models/search", f"registered models (page {page[0]})", params
            )

        return list(self._pages(fetch, "registered_models"))

    def model_versions(self, names: list[str], everything: bool) -> list[dict[str, Any]]:
        """Versions of ``names``: one unfiltered paged search for a whole registry, else by name batches."""
        if everything:
            return list(self._version_pages(None))
        found: list[dict[str, Any]] = []
        for batch in _chunks(names, NAME_BATCH):
            found.extend(self._version_pages(f"name IN ({', '.join(_quote(n) for n in batch)})"))
        return found

    def _version_pages(self, filter_string: str | None) -> Iterator[dict[str, Any]]:
        page = [0]

        def fetch(token: str | None) -> dict[str, Any]:
            page[0] += 1
            params: dict[str, Any] = {"max_results": self.page_size}
            if filter_string:
                params["filter"] = filter_string
            if token:
                params["page_token"] = token
            return self.client.get_json(
                f"{API}/model-versions/search", f"model versions (page {page[0]})", params
            )

        return self._pages(fetch, "model_versions")

    # -- runs and logged models -------------------------------------------------------------------

    def experiments(self) -> dict[str, str]:
        def fetch(token: str | None) -> dict[str, Any]:
            body: dict[str, Any] = {"max_results": MAX_PAGE_SIZE, "view_type": "ALL"}
            if token:
                body["page_token"] = token
            return self.client.post_json(f"{API}/experiments/search", "experiments", body)

        return {str(e["experiment_id"]): str(e.get("name", "")) for e in self._pages(fetch, "experiments")}

    def runs(
        self, run_ids: list[str], experiments: dict[str, str]
    ) -> tuple[dict[str, RunLineage], dict[str, str]]:
        """Lineage of each run, and each run's artifact root (to find MLflow 2 style model folders)."""
        found: dict[str, RunLineage] = {}
        roots: dict[str, str] = {}
        for batch in _chunks(run_ids, RUN_BATCH):
            self.check_cancelled()
            body = self.client.post_json(
                f"{API}/runs/search",
                f"runs {batch[0]}...",
                {
                    "experiment_ids": list(experiments),
                    "filter": f"attributes.run_id IN ({', '.join(_quote(r) for r in batch)})",
                    "run_view_type": "ALL",
                    "max_results": len(batch),
                },
            )
            for run in body.get("runs", []):
                lineage = _run_lineage(run, experiments)
                found[lineage.run_id] = lineage
                roots[lineage.run_id] = str(run.get("info", {}).get("artifact_uri", ""))
        return found, roots

    def logged_models(self, model_ids: list[str], experiments: dict[str, str]) -> dict[str, LoggedModelInfo]:
        found: dict[str, LoggedModelInfo] = {}
        for batch in _chunks(model_ids, RUN_BATCH):
            self.check_cancelled()
            body = self.client.post_json(
                f"{API}/logged-models/search",
                f"logged models {batch[0]}...",
                {
                    "experiment_ids": list(experiments),
                    "filter": f"model_id IN ({', '.join(_quote(m) for m in batch)})",
                    "max_results": len(batch),
                },
            )
            for model in body.get("models", []):
                info = _logged_model(model)
                found[info.model_id] = info
        return found

    # -- artifacts --------------------------------------------------------------------------------

    def list_model_files(
        self, version: ModelVersionRecord, run_roots: dict[str, str]
    ) -> list[tuple[str, int]] | None:
        """(path, size) of the files directly in the version's model folder, or None if unreachable."""
        if version.logged_model is not None:
            body = self.client.get_json(
                f"{API}/logged-models/{version.logged_model.model_id}/artifacts/directories",
                f"the files of {version.name} v{version.version}",
            )
        else:
            relative = _run_relative_path(version, run_roots)
            if relative is None:
                return None
            body = self.client.get_json(
                f"{API}/artifacts/list",
                f"the files of {version.name} v{version.version}",
                {"run_id": version.run.run_id if version.run else "", "path": relative},
            )
        files = []
        for entry in body.get("files", []):
            if entry.get("is_dir"):
                continue
            path = str(entry["path"]).rsplit("/", 1)[-1]
            if path in ENVIRONMENT_FILES or path.startswith("model."):
                files.append((path, int(entry.get("file_size", 0) or 0)))
        return sorted(files)

    def fetch_artifacts(
        self,
        versions: list[ModelVersionRecord],
        run_roots: dict[str, str],
        work_dir: Path,
        max_bytes: int,
    ) -> dict[tuple[str, str], tuple[ArtifactFile, ...]]:
        """Each version's files. Versions sharing one artifact location share one download."""
        done = [0]
        by_location: dict[str, tuple[ArtifactFile, ...]] = {}

        def location(version: ModelVersionRecord) -> str:
            return version.logged_model.model_id if version.logged_model else version.source_uri

        def one(index: int, version: ModelVersionRecord) -> tuple[ArtifactFile, ...]:
            self.check_cancelled()
            listed = self.list_model_files(version, run_roots)
            files: list[ArtifactFile] = []
            for path, size in listed or ():
                if len(path.encode("utf-8", "replace")) > MAX_FILE_NAME_BYTES or "\x00" in path:
                    files.append(
                        ArtifactFile(
                            path.replace("\x00", "?")[:80] + "…",
                            size,
                            note=f"not downloaded: its name is {len(path)} characters long",
                        )
                    )
                    continue
                if size > max_bytes:
                    files.append(
                        ArtifactFile(path, size, note=f"not downloaded: over the {max_bytes} byte limit")
                    )
                    continue
                target = work_dir / f"{index:06d}-{path}"
                fetched = self.client.download(
                    "/model-versions/get-artifact",
                    f"{path} of {version.name} v{version.version}",
                    {"name": version.name, "version": version.version, "path": path},
                    target,
                    max_bytes,
                )
                if fetched is None:
                    files.append(
                        ArtifactFile(path, size, note=f"not downloaded: over the {max_bytes} byte limit")
                    )
                else:
                    files.append(ArtifactFile(path, fetched[0], fetched[1], str(target)))
            return tuple(files)

        first_of_location: dict[str, tuple[int, ModelVersionRecord]] = {}
        for index, version in enumerate(versions):
            first_of_location.setdefault(location(version), (index, version))
        with ThreadPoolExecutor(max_workers=DOWNLOAD_THREADS, thread_name_prefix="mlflow-download") as pool:
            futures = {key: pool.submit(one, *value) for key, value in first_of_location.items()}
            for key, future in futures.items():
                by_location[key] = future.result()
                done[0] += 1
                self.progress(done[0], len(futures), f"model files ({done[0]} of {len(futures)} folders)")
        return {(v.name, v.version): by_location[location(v)] for v in versions}

    # -- the whole read ---------------------------------------------------------------------------

    def read(
        self, wanted: list[str] | None, work_dir: Path | None, max_bytes: int
    ) -> tuple[RegisteredModelRecord, ...]:
        self.progress(0, 0, "registered models")
        raw_models = [
            m for m in self.registered_models(wanted) if _tags(m.get("tags")).get(PROMPT_TAG) != "true"
        ]
        names = [str(m["name"]) for m in raw_models]
        self.progress(0, 0, "model versions")
        raw_versions = [
            v
            for v in self.model_versions(names, everything=wanted is None)
            if str(v.get("name")) in set(names)
        ]
        versions = [_version_record(v) for v in raw_versions]

        run_ids = sorted({v.run.run_id for v in versions if v.run is not None})
        model_ids = sorted({v.logged_model.model_id for v in versions if v.logged_model is not None})
        experiments = self.experiments() if run_ids or model_ids else {}
        self.progress(0, 0, "runs and logged models")
        runs, run_roots = self.runs(run_ids, experiments) if run_ids else ({}, {})
        logged = self.logged_models(model_ids, experiments) if model_ids else {}
        versions = [
            replace(
                v,
                run=runs.get(v.run.run_id, v.run) if v.run else None,
                logged_model=logged.get(v.logged_model.model_id, v.logged_model) if v.logged_model else None,
            )
            for v in versions
        ]
        if work_dir is not None and versions:
            files = self.fetch_artifacts(versions, run_roots, work_dir, max_bytes)
            versions = [replace(v, artifacts=files[(v.name, v.version)]) for v in versions]

        by_name: dict[str, list[ModelVersionRecord]] = {name: [] for name in names}
        for version in versions:
            by_name[version.name].append(version)
        records = []
        for raw in sorted(raw_models, key=lambda m: str(m["name"])):
            name = str(raw["name"])
            records.append(
                RegisteredModelRecord(
                    name=name,
                    description=cut_description(str(raw.get("description", ""))),
                    tags=_tags(raw.get("tags")),
                    aliases={str(a["alias"]): str(a["version"]) for a in raw.get("aliases", ())},
                    created_at=_time(raw.get("creation_timestamp")),
                    updated_at=_time(raw.get("last_updated_timestamp")),
                    versions=tuple(
                        sorted(by_name[name], key=lambda v: int(v.version) if v.version.isdigit() else 0)
                    ),
                )
            )
        return tuple(records)


def _version_record(raw: dict[str, Any]) -> ModelVersionRecord:
    try:
        source = str(raw.get("source", ""))
        model_id = str(raw.get("model_id") or "")
        if not model_id and (match := LOGGED_MODEL_SOURCE.match(source)):
            model_id = match.group(1)
        run_id = str(raw.get("run_id") or "")
        return ModelVersionRecord(
            name=str(raw["name"]),
            version=str(raw["version"]),
            description=cut_description(str(raw.get("description", ""))),
            tags=_tags(raw.get("tags")),
            stage=str(raw.get("current_stage", "")),
            status=str(raw.get("status", "")),
            created_at=_time(raw.get("creation_timestamp")),
            updated_at=_time(raw.get("last_updated_timestamp")),
            source_uri=source,
            run=RunLineage(run_id=run_id) if run_id else None,
            logged_model=LoggedModelInfo(model_id=model_id) if model_id else None,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ExternalServiceError(
            f"the MLflow server described a model version without {error}: {raw!r:.200}"
        ) from None


def _metric(value: Any) -> float | str:
    # MLflow's JSON writes NaN and infinities as the strings "NaN", "Infinity", "-Infinity".
    try:
        return metric_value(float(value))
    except (TypeError, ValueError):
        raise ExternalServiceError(
            f"the MLflow server sent a metric value that is not a number: {value!r}"
        ) from None


def _run_lineage(run: dict[str, Any], experiments: dict[str, str]) -> RunLineage:
    info = run.get("info", {})
    data = run.get("data", {})
    datasets = []
    for dataset_input in run.get("inputs", {}).get("dataset_inputs", []):
        dataset = dataset_input.get("dataset", {})
        datasets.append(
            DatasetInput(
                name=str(dataset.get("name", "")),
                digest=str(dataset.get("digest", "")),
                source=str(dataset.get("source", "")),
                source_type=str(dataset.get("source_type", "")),
                context=_tags(dataset_input.get("tags")).get("mlflow.data.context", ""),
                profile=str(dataset.get("profile", "")),
            )
        )
    experiment_id = str(info.get("experiment_id", ""))
    tags = _tags(data.get("tags"))
    return RunLineage(
        run_id=str(info.get("run_id") or info.get("run_uuid")),
        experiment_id=experiment_id,
        experiment_name=experiments.get(experiment_id, ""),
        run_name=str(info.get("run_name", "")),
        user=str(info.get("user_id", "")),
        status=str(info.get("status", "")),
        started_at=_time(info.get("start_time")),
        ended_at=_time(info.get("end_time")),
        params={str(p["key"]): str(p.get("value", "")) for p in data.get("params", ())},
        metrics={str(m["key"]): _metric(m.get("value")) for m in data.get("metrics", ())},
        tags=tags,
        datasets=tuple(sorted(datasets, key=lambda d: (d.context, d.name, d.digest))),
    )


def _run_relative_path(version: ModelVersionRecord, run_roots: dict[str, str]) -> str | None:
    """Where an MLflow 2 style version's files sit inside its run's artifacts, if they do."""
    if version.run is None:
        return None
    source = version.source_uri
    prefix = f"runs:/{version.run.run_id}/"
    if source.startswith(prefix):
        return source[len(prefix) :].strip("/")
    root = run_roots.get(version.run.run_id, "").rstrip("/")
    if root and source.startswith(root + "/"):
        return source[len(root) + 1 :].strip("/")
    return None


def _logged_model(model: dict[str, Any]) -> LoggedModelInfo:
    info = model.get("info", {})
    data = model.get("data", {})
    return LoggedModelInfo(
        model_id=str(info["model_id"]),
        name=str(info.get("name", "")),
        model_type=str(info.get("model_type", "")),
        status=str(info.get("status", "")),
        artifact_uri=str(info.get("artifact_uri", "")),
        source_run_id=str(info.get("source_run_id", "")),
        params={str(p["key"]): str(p.get("value", "")) for p in data.get("params", ())},
        metrics={str(m["key"]): _metric(m.get("value")) for m in data.get("metrics", ())},
        tags={k: v for k, v in _tags(info.get("tags")).items() if k != "mlflow.modelVersions"},
    )
