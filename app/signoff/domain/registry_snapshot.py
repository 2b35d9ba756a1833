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
from typing import ClassVar

from signoff.domain.codec import OMIT, Record

SOURCE_KINDS = ("mlflow", "sagemaker", "model-card")


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


@dataclass(frozen=True)
class DatasetInput(Record):
    """A dataset a run consumed, as MLflow records it: its digest identifies the exact data."""

    name: str
    digest: str
    source: str = ""
    source_type: str = ""
    context: str = ""  # "training", "evaluation", ... (the ``mlflow.data.context`` tag)
    profile: str = ""


@dataclass(frozen=True)
class RunLineage(Record):
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

    # Written for readers of the stored JSON (the commit, the source), not read back.
    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("git_commit", "source_name", "source_type")

    @property
    def git_commit(self) -> str:
        return self.tags.get("mlflow.source.git.commit", "")

    @property
    def source_name(self) -> str:
        return self.tags.get("mlflow.source.name", "")

    @property
    def source_type(self) -> str:
        return self.tags.get("mlflow.source.type", "")


@dataclass(frozen=True)
class LoggedModelInfo(Record):
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


@dataclass(frozen=True)
class ArtifactFile(Record):
    """One downloaded model file. ``local_path`` is a temporary file until storage takes it by hash.

    ``sha256`` is empty when the file was not downloaded; ``note`` then says why (e.g. over the size limit).
    """

    path: str
    size: int
    sha256: str = ""
    local_path: str = field(default="", metadata=OMIT)  # a temporary file: means nothing after the import
    note: str = ""


@dataclass(frozen=True)
class MetricsPointer(Record):
    """Where a registry says a model's metrics report lives (SageMaker ``ModelMetrics``); not fetched."""

    kind: str  # e.g. "ModelQuality.Statistics", "Bias.PreTrainingReport"
    s3_uri: str
    content_type: str = ""


@dataclass(frozen=True)
class EvaluationResult(Record):
    """One reported evaluation figure (a model card's ``model-index`` or a SageMaker card's metric)."""

    metric: str
    value: float | str | None
    dataset: str = ""
    task: str = ""
    split: str = ""
    note: str = ""


@dataclass(frozen=True)
class ModelCard(Record):
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
class ModelVersionRecord(Record):
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


@dataclass(frozen=True)
class RegisteredModelRecord(Record):
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


@dataclass(frozen=True)
class RegistrySnapshot(Record):
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
