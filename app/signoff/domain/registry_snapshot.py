"""A registry snapshot: everything one import read from a model registry, at one moment.

Registries (MLflow above all) keep no history of aliases, stages or tags, so Signoff keeps its own: every
import is a ``RegistrySnapshot`` with its time and source, and ``registry_history.diff_snapshots``
turns two consecutive snapshots into history. The records here are plain values read from the source;
nothing in them was loaded or executed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from signoff.domain.audit import format_utc

SOURCE_KINDS = ("mlflow", "sagemaker", "model-card")


def time_to_text(moment: datetime | None) -> str | None:
    return None if moment is None else format_utc(moment)


def time_from_text(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def metric_value(value: float) -> float | str:
    """A metric as JSON can carry it: finite floats as they are, NaN and infinities as text."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


def _metrics(data: dict[str, Any]) -> dict[str, float | str]:
    return {str(k): v if isinstance(v, str) else float(v) for k, v in data.items()}


@dataclass(frozen=True)
class DatasetInput:
    """A dataset a run consumed, as MLflow records it: its digest identifies the exact data."""

    name: str
    digest: str
    source: str = ""
    source_type: str = ""
    context: str = ""  # "training", "evaluation", ... (the ``mlflow.data.context`` tag)
    profile: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "source": self.source,
            "source_type": self.source_type,
            "context": self.context,
            "profile": self.profile,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInput:
        return cls(**data)


@dataclass(frozen=True)
class RunLineage:
    """The run that produced a model version: what it was trained on, with what, from which code."""

    run_id: str
    experiment_id: str = ""
    experiment_name: str = ""
    run_name: str = ""
    user: str = ""
    status: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    params: dict[str, str] = field(default_factory=dict)
    # Latest value of each metric; NaN and infinities (which MLflow accepts) as the text "NaN",
    # "Infinity", "-Infinity", since JSON and hashes cannot carry them as numbers.
    metrics: dict[str, float | str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    datasets: tuple[DatasetInput, ...] = ()

    @property
    def git_commit(self) -> str:
        return self.tags.get("mlflow.source.git.commit", "")

    @property
    def source_name(self) -> str:
        return self.tags.get("mlflow.source.name", "")

    @property
    def source_type(self) -> str:
        return self.tags.get("mlflow.source.type", "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "experiment_name": self.experiment_name,
            "run_name": self.run_name,
            "user": self.user,
            "status": self.status,
            "started_at": time_to_text(self.started_at),
            "ended_at": time_to_text(self.ended_at),
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "tags": dict(self.tags),
            "datasets": [d.to_dict() for d in self.datasets],
            "git_commit": self.git_commit,
            "source_name": self.source_name,
            "source_type": self.source_type,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunLineage:
        return cls(
            run_id=data["run_id"],
            experiment_id=data.get("experiment_id", ""),
            experiment_name=data.get("experiment_name", ""),
            run_name=data.get("run_name", ""),
            user=data.get("user", ""),
            status=data.get("status", ""),
            started_at=time_from_text(data.get("started_at")),
            ended_at=time_from_text(data.get("ended_at")),
            params=dict(data.get("params", {})),
            metrics=_metrics(data.get("metrics", {})),
            tags=dict(data.get("tags", {})),
            datasets=tuple(DatasetInput.from_dict(d) for d in data.get("datasets", ())),
        )


@dataclass(frozen=True)
class LoggedModelInfo:
    """An MLflow 3 logged model (``m-...``): the artifact a registered version points at."""

    model_id: str
    name: str = ""
    model_type: str = ""
    status: str = ""
    artifact_uri: str = ""
    source_run_id: str = ""
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float | str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "name": self.name,
            "model_type": self.model_type,
            "status": self.status,
            "artifact_uri": self.artifact_uri,
            "source_run_id": self.source_run_id,
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "tags": dict(self.tags),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoggedModelInfo:
        return cls(**{**data, "metrics": _metrics(data.get("metrics", {}))})


@dataclass(frozen=True)
class ArtifactFile:
    """One downloaded model file. ``local_path`` is a temporary file until storage takes it by hash.

    ``sha256`` is empty when the file was not downloaded; ``note`` then says why (e.g. over the size limit).
    """

    path: str
    size: int
    sha256: str = ""
    local_path: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        # The temporary path is not part of the record: it means nothing after the import.
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "note": self.note}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArtifactFile:
        return cls(
            path=data["path"],
            size=int(data["size"]),
            sha256=data.get("sha256", ""),
            local_path=data.get("local_path", ""),
            note=data.get("note", ""),
        )


@dataclass(frozen=True)
class MetricsPointer:
    """Where a registry says a model's metrics report lives (SageMaker ``ModelMetrics``); not fetched."""

    kind: str  # e.g. "ModelQuality.Statistics", "Bias.PreTrainingReport"
    s3_uri: str
    content_type: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "s3_uri": self.s3_uri, "content_type": self.content_type}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricsPointer:
        return cls(**data)


@dataclass(frozen=True)
class EvaluationResult:
    """One reported evaluation figure (a model card's ``model-index`` or a SageMaker card's metric)."""

    metric: str
    value: float | str | None
    dataset: str = ""
    task: str = ""
    split: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "dataset": self.dataset,
            "task": self.task,
            "split": self.split,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        return cls(**data)


@dataclass(frozen=True)
class ModelCard:
    """What a model's documentation says about its use and its limits (SageMaker or Hugging Face card)."""

    summary: str = ""
    intended_uses: str = ""
    risk_rating: str = ""
    training_details: str = ""
    evaluation_details: str = ""
    ethical_considerations: str = ""
    limitations: str = ""
    evaluation_results: tuple[EvaluationResult, ...] = ()
    source: str = ""  # the file or card name it came from

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "intended_uses": self.intended_uses,
            "risk_rating": self.risk_rating,
            "training_details": self.training_details,
            "evaluation_details": self.evaluation_details,
            "ethical_considerations": self.ethical_considerations,
            "limitations": self.limitations,
            "evaluation_results": [r.to_dict() for r in self.evaluation_results],
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        return cls(
            **{
                **data,
                "evaluation_results": tuple(
                    EvaluationResult.from_dict(r) for r in data.get("evaluation_results", ())
                ),
            }
        )


MAX_DESCRIPTION_CHARS = 65_536
DESCRIPTION_CUT = (
    "\n[cut at import: the registry's description is {chars:,} characters long; the first {kept:,} are kept]"
)


def cut_description(text: str) -> str:
    """A registry description as kept: a longer one (a 400 MB text) is cut, and the cut says so."""
    if len(text) <= MAX_DESCRIPTION_CHARS:
        return text
    return text[:MAX_DESCRIPTION_CHARS] + DESCRIPTION_CUT.format(chars=len(text), kept=MAX_DESCRIPTION_CHARS)


@dataclass(frozen=True)
class ModelVersionRecord:
    """One model version as the registry described it at the snapshot's time."""

    name: str
    version: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    stage: str = ""  # MLflow's deprecated stages: "None", "Staging", "Production", "Archived"
    status: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    source_uri: str = ""
    run: RunLineage | None = None
    logged_model: LoggedModelInfo | None = None
    artifacts: tuple[ArtifactFile, ...] = ()
    # SageMaker model packages
    approval_status: str = ""
    approval_description: str = ""
    created_by: str = ""
    metrics_pointers: tuple[MetricsPointer, ...] = ()
    card: ModelCard | None = None

    @property
    def logged_model_id(self) -> str:
        return self.logged_model.model_id if self.logged_model else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "tags": dict(self.tags),
            "stage": self.stage,
            "status": self.status,
            "created_at": time_to_text(self.created_at),
            "updated_at": time_to_text(self.updated_at),
            "source_uri": self.source_uri,
            "run": self.run.to_dict() if self.run else None,
            "logged_model": self.logged_model.to_dict() if self.logged_model else None,
            "artifacts": [a.to_dict() for a in self.artifacts],
            "approval_status": self.approval_status,
            "approval_description": self.approval_description,
            "created_by": self.created_by,
            "metrics_pointers": [p.to_dict() for p in self.metrics_pointers],
            "card": self.card.to_dict() if self.card else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelVersionRecord:
        return cls(
            name=data["name"],
            version=str(data["version"]),
            description=data.get("description", ""),
            tags=dict(data.get("tags", {})),
            stage=data.get("stage", ""),
            status=data.get("status", ""),
            created_at=time_from_text(data.get("created_at")),
            updated_at=time_from_text(data.get("updated_at")),
            source_uri=data.get("source_uri", ""),
            run=RunLineage.from_dict(data["run"]) if data.get("run") else None,
            logged_model=LoggedModelInfo.from_dict(data["logged_model"])
            if data.get("logged_model")
            else None,
            artifacts=tuple(ArtifactFile.from_dict(a) for a in data.get("artifacts", ())),
            approval_status=data.get("approval_status", ""),
            approval_description=data.get("approval_description", ""),
            created_by=data.get("created_by", ""),
            metrics_pointers=tuple(MetricsPointer.from_dict(p) for p in data.get("metrics_pointers", ())),
            card=ModelCard.from_dict(data["card"]) if data.get("card") else None,
        )


@dataclass(frozen=True)
class RegisteredModelRecord:
    """A registered model with its versions; ``aliases`` maps alias -> version."""

    name: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    versions: tuple[ModelVersionRecord, ...] = ()

    def version(self, version: str) -> ModelVersionRecord | None:
        return next((v for v in self.versions if v.version == version), None)

    def aliases_of(self, version: str) -> tuple[str, ...]:
        return tuple(sorted(alias for alias, target in self.aliases.items() if target == version))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "tags": dict(self.tags),
            "aliases": dict(self.aliases),
            "created_at": time_to_text(self.created_at),
            "updated_at": time_to_text(self.updated_at),
            "versions": [v.to_dict() for v in self.versions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegisteredModelRecord:
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            tags=dict(data.get("tags", {})),
            aliases={k: str(v) for k, v in data.get("aliases", {}).items()},
            created_at=time_from_text(data.get("created_at")),
            updated_at=time_from_text(data.get("updated_at")),
            versions=tuple(ModelVersionRecord.from_dict(v) for v in data.get("versions", ())),
        )


@dataclass(frozen=True)
class RegistrySnapshot:
    """What one import read. ``scope`` lists the models asked for; ``None`` means the whole registry.

    The scope matters for history: a model missing from a partial snapshot was not looked at, so it
    must not be reported as deleted.
    """

    source_kind: str
    source_uri: str
    taken_at: datetime
    models: tuple[RegisteredModelRecord, ...] = ()
    scope: tuple[str, ...] | None = None
    request_count: int = 0

    def __post_init__(self) -> None:
        if self.source_kind not in SOURCE_KINDS:
            raise ValueError(f"unknown registry source kind {self.source_kind!r}")
        if self.taken_at.tzinfo is None:
            raise ValueError("snapshot times must be timezone-aware")

    def model(self, name: str) -> RegisteredModelRecord | None:
        return next((m for m in self.models if m.name == name), None)

    def covers(self, name: str) -> bool:
        """Whether this snapshot looked at model ``name`` (so its absence means it is gone)."""
        return self.scope is None or name in self.scope

    @property
    def version_count(self) -> int:
        return sum(len(m.versions) for m in self.models)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_kind": self.source_kind,
            "source_uri": self.source_uri,
            "taken_at": format_utc(self.taken_at),
            "models": [m.to_dict() for m in self.models],
            "scope": None if self.scope is None else list(self.scope),
            "request_count": self.request_count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistrySnapshot:
        taken_at = time_from_text(data["taken_at"])
        assert taken_at is not None
        return cls(
            source_kind=data["source_kind"],
            source_uri=data["source_uri"],
            taken_at=taken_at,
            models=tuple(RegisteredModelRecord.from_dict(m) for m in data.get("models", ())),
            scope=None if data.get("scope") is None else tuple(data["scope"]),
            request_count=int(data.get("request_count", 0)),
        )
