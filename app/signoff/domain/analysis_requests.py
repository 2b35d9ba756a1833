"""What an analysis is asked to do: one frozen, keyword-only request type per analysis kind.

A request carries the prediction log(s) it reads and every parameter with its default, so a
parameter is written out once: here, in the computation that uses it and in the front end that
offers it. A request knows which evidence it reads (``inputs``), which columns of each log it needs
(``columns``, for Parquet column projection) and its stored ``parameters`` (the cache key of a run).
``from_parameters`` rebuilds the request of a stored run, so a page shows the run's own settings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from signoff.domain.analysis_run import SHAP_KIND
from signoff.domain.drift import DEFAULT_BINS, DriftThresholds
from signoff.domain.errors import InputError
from signoff.domain.prediction_log import PredictionLog

DEFAULT_MIN_GROUP_SIZE = 30  # smaller groups are "insufficient data": reported, never judged
DEFAULT_MIN_GROUP_SHARE = 0.02  # NYC LL144: groups under 2% of rows are left out of impact ratios
DEFAULT_SIGNIFICANCE_LEVEL = 0.05  # a group's difference to the reference is significant below this p
DEFAULT_RESAMPLES = 1000
DEFAULT_TOP_CATEGORIES = 10
REFERENCE_RULES = ("largest", "most_favoured")
FREQUENCIES = ("day", "week", "month")
EXPLANATION_SOURCES = ("auto", "model", "log")

Intersections = bool | int | tuple[tuple[str, ...], ...]


def _frozen_bins(bins: Mapping[str, Sequence[float]] | None) -> Mapping[str, tuple[float, ...]]:
    return MappingProxyType({k: tuple(float(e) for e in v) for k, v in sorted((bins or {}).items())})


def _json_bins(bins: Mapping[str, Sequence[float]]) -> dict[str, list[Any]]:
    """Edges as JSON: infinities have no JSON number, so they are written "inf" / "-inf"."""
    return {k: [e if math.isfinite(e) else str(e) for e in map(float, v)] for k, v in bins.items()}


def _bins_from_json(bins: Mapping[str, Sequence[Any]] | None) -> dict[str, list[float]]:
    return {k: [float(e) for e in v] for k, v in (bins or {}).items()}


def _frozen_intersections(value: bool | int | Sequence[Sequence[str]]) -> Intersections:
    if isinstance(value, bool | int):
        return value
    return tuple(tuple(c) for c in value)


def _json_intersections(value: Intersections) -> bool | int | list[list[str]]:
    return value if isinstance(value, bool | int) else [list(c) for c in value]


def _favourable(request: AnalysisRequest, log: PredictionLog) -> None:
    """A request that names no positive label takes the favourable label the log's mapping states."""
    if getattr(request, "positive_label", None) is None and log.mapping.positive_label is not None:
        object.__setattr__(request, "positive_label", log.mapping.positive_label)


def _scores(log: PredictionLog) -> str | None:
    # One score column is the positive class's probability; several are per-class and not used here.
    return log.mapping.scores[0] if len(log.mapping.scores) == 1 else None


@dataclass(frozen=True, kw_only=True)
class AnalysisRequest:
    """Common ground of every request: the kind's name and the log whose model version it is about."""

    kind: ClassVar[str]

    @property
    def subject(self) -> PredictionLog:
        """The log whose model version the run belongs to."""
        raise NotImplementedError

    @property
    def model_version_id(self) -> int:
        return self.subject.model_version_id

    def logs(self) -> dict[str, PredictionLog]:
        """The evidence read, by role (the keys of the run's ``inputs``)."""
        return {"log": self.subject}

    def inputs(self) -> dict[str, str]:
        return {role: log.evidence_sha256 for role, log in self.logs().items()}

    def columns(self) -> dict[str, list[str] | None]:
        """The columns each log role needs (None: every column)."""
        return dict.fromkeys(self.logs())

    def parameters(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class FairnessRequest(AnalysisRequest):
    """Per-group rates and comparisons of one log (``analysis/fairness.py``)."""

    kind: ClassVar[str] = "fairness"
    log: PredictionLog
    sensitive: tuple[str, ...] = ()  # empty: the log's mapped sensitive attributes
    intersections: Intersections = True
    bins: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    reference: str | Mapping[str, str] = "largest"
    positive_label: str | None = None
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    excluded_share: float = DEFAULT_MIN_GROUP_SHARE
    significance_level: float = DEFAULT_SIGNIFICANCE_LEVEL
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sensitive", tuple(self.sensitive))
        object.__setattr__(self, "intersections", _frozen_intersections(self.intersections))
        object.__setattr__(self, "bins", _frozen_bins(self.bins))
        _favourable(self, self.log)
        if isinstance(self.reference, Mapping):
            object.__setattr__(self, "reference", MappingProxyType(dict(self.reference)))
        elif self.reference not in REFERENCE_RULES:
            raise InputError(
                f"the reference group is 'largest', 'most_favoured' or a group per segment, "
                f"not {self.reference!r}"
            )
        if not 0 < self.significance_level < 1:
            raise InputError(
                f"the significance level must lie between 0 and 1, not {self.significance_level}"
            )
        if not 0 <= self.excluded_share < 1:
            raise InputError(f"the minimum group share must lie in [0, 1), not {self.excluded_share}")

    @property
    def subject(self) -> PredictionLog:
        return self.log

    @property
    def attributes(self) -> list[str]:
        chosen = list(self.sensitive) or list(self.log.mapping.sensitive)
        if not chosen:
            raise InputError(
                f"log {self.log.id} maps no sensitive attributes; name the sensitive attributes to analyse"
            )
        return chosen

    @property
    def scores(self) -> str | None:
        return _scores(self.log)

    def columns(self) -> dict[str, list[str] | None]:
        mapping = self.log.mapping
        wanted = [mapping.label, mapping.prediction, self.scores, *self.attributes]
        return {"log": list(dict.fromkeys(c for c in wanted if c))}

    def parameters(self) -> dict[str, Any]:
        parameters = {
            "label": self.log.mapping.label,
            "prediction": self.log.mapping.prediction,
            "scores": self.scores,
            "sensitive": self.attributes,
            "intersections": _json_intersections(self.intersections),
            "bins": _json_bins(self.bins),
            "reference": dict(self.reference) if isinstance(self.reference, Mapping) else self.reference,
            "positive_label": self.positive_label,
            "min_group_size": self.min_group_size,
            "excluded_share": self.excluded_share,
            "n_resamples": self.n_resamples,
            "seed": self.seed,
        }
        # Written only when chosen, so that runs recorded before it existed keep their cache key.
        if self.significance_level != DEFAULT_SIGNIFICANCE_LEVEL:
            parameters["significance_level"] = self.significance_level
        return parameters

    @classmethod
    def from_parameters(cls, log: PredictionLog, parameters: Mapping[str, Any]) -> FairnessRequest:
        return cls(
            log=log,
            sensitive=tuple(parameters.get("sensitive") or ()),
            intersections=parameters.get("intersections", True),
            bins=_bins_from_json(parameters.get("bins")),
            reference=parameters.get("reference", "largest"),
            positive_label=parameters.get("positive_label"),
            min_group_size=int(parameters.get("min_group_size", DEFAULT_MIN_GROUP_SIZE)),
            excluded_share=float(parameters.get("excluded_share", DEFAULT_MIN_GROUP_SHARE)),
            significance_level=float(parameters.get("significance_level", DEFAULT_SIGNIFICANCE_LEVEL)),
            n_resamples=int(parameters.get("n_resamples", DEFAULT_RESAMPLES)),
            seed=int(parameters.get("seed", 0)),
        )


@dataclass(frozen=True, kw_only=True)
class PerformanceRequest(AnalysisRequest):
    """Performance overall and per group of one log (``analysis/performance.py``)."""

    kind: ClassVar[str] = "performance"
    log: PredictionLog
    sensitive: tuple[str, ...] = ()  # empty: the log's mapped sensitive attributes (maybe none)
    intersections: Intersections = True
    bins: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    positive_label: str | None = None
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sensitive", tuple(self.sensitive))
        object.__setattr__(self, "intersections", _frozen_intersections(self.intersections))
        object.__setattr__(self, "bins", _frozen_bins(self.bins))
        _favourable(self, self.log)

    @property
    def subject(self) -> PredictionLog:
        return self.log

    @property
    def attributes(self) -> list[str]:
        return list(self.sensitive) or list(self.log.mapping.sensitive)

    @property
    def task(self) -> str | None:
        """The task the import found; None lets the computation detect it."""
        task = self.log.validation.task
        return task if task in ("binary", "multiclass", "regression") else None

    @property
    def scores(self) -> str | None:
        return _scores(self.log) if self.task in (None, "binary") else None

    def columns(self) -> dict[str, list[str] | None]:
        mapping = self.log.mapping
        wanted = [mapping.label, mapping.prediction, self.scores, *self.attributes]
        return {"log": list(dict.fromkeys(c for c in wanted if c))}

    def parameters(self) -> dict[str, Any]:
        return {
            "label": self.log.mapping.label,
            "prediction": self.log.mapping.prediction,
            "scores": self.scores,
            "task": self.task,
            "sensitive": self.attributes,
            "intersections": _json_intersections(self.intersections),
            "bins": _json_bins(self.bins),
            "positive_label": self.positive_label,
            "min_group_size": self.min_group_size,
            "n_resamples": self.n_resamples,
            "seed": self.seed,
        }

    @classmethod
    def from_parameters(cls, log: PredictionLog, parameters: Mapping[str, Any]) -> PerformanceRequest:
        return cls(
            log=log,
            sensitive=tuple(parameters.get("sensitive") or ()),
            intersections=parameters.get("intersections", True),
            bins=_bins_from_json(parameters.get("bins")),
            positive_label=parameters.get("positive_label"),
            min_group_size=int(parameters.get("min_group_size", DEFAULT_MIN_GROUP_SIZE)),
            n_resamples=int(parameters.get("n_resamples", DEFAULT_RESAMPLES)),
            seed=int(parameters.get("seed", 0)),
        )


@dataclass(frozen=True, kw_only=True)
class MonitoringRequest(AnalysisRequest):
    """The positive rate per time window against a control band (``analysis/monitoring.py``)."""

    kind: ClassVar[str] = "monitoring"
    log: PredictionLog
    frequency: str = "week"
    sigmas: float = 3.0
    positive_label: str | None = None

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise InputError(f"the window is a day, week or month, not {self.frequency!r}")
        if self.log.mapping.timestamp is None:
            raise InputError(f"log {self.log.id} has no timestamp column mapped; monitoring needs one")
        _favourable(self, self.log)

    @property
    def subject(self) -> PredictionLog:
        return self.log

    @property
    def timestamp(self) -> str:
        return self.log.mapping.timestamp or ""

    def columns(self) -> dict[str, list[str] | None]:
        return {"log": [self.timestamp, self.log.mapping.prediction]}

    def parameters(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "prediction": self.log.mapping.prediction,
            "frequency": self.frequency,
            "sigmas": self.sigmas,
            "positive_label": self.positive_label,
        }

    @classmethod
    def from_parameters(cls, log: PredictionLog, parameters: Mapping[str, Any]) -> MonitoringRequest:
        return cls(
            log=log,
            frequency=parameters.get("frequency", "week"),
            sigmas=float(parameters.get("sigmas", 3.0)),
            positive_label=parameters.get("positive_label"),
        )


def default_drift_columns(log: PredictionLog) -> tuple[list[str], list[str]]:
    """(columns, categorical): the log's features, scores and prediction; the prediction is a category
    unless the task is regression."""
    mapping = log.mapping
    columns = list(dict.fromkeys([*mapping.features, *mapping.scores, mapping.prediction]))
    categorical = [] if log.validation.task == "regression" else [mapping.prediction]
    return columns, categorical


@dataclass(frozen=True, kw_only=True)
class DriftRequest(AnalysisRequest):
    """Drift of a current log against a reference log, column by column (``analysis/drift.py``).

    The reference may belong to another model version (the training data of the previous one); the
    run belongs to the current log's version.
    """

    kind: ClassVar[str] = "drift"
    reference: PredictionLog
    current: PredictionLog
    drift_columns: tuple[str, ...] = ()  # empty: the current log's features, scores and prediction
    categorical: tuple[str, ...] | None = None  # None: the prediction of a classifier
    bins: int = DEFAULT_BINS
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)

    def __post_init__(self) -> None:
        object.__setattr__(self, "drift_columns", tuple(self.drift_columns))
        if self.categorical is not None:
            object.__setattr__(self, "categorical", tuple(self.categorical))
        if self.reference.id == self.current.id:
            raise InputError("the reference and the current log are the same log; drift needs two")

    @property
    def subject(self) -> PredictionLog:
        return self.current

    @property
    def compared(self) -> list[str]:
        return list(self.drift_columns) or default_drift_columns(self.current)[0]

    @property
    def as_categories(self) -> list[str]:
        chosen = self.categorical if self.categorical is not None else default_drift_columns(self.current)[1]
        return sorted(set(chosen) & set(self.compared))

    def logs(self) -> dict[str, PredictionLog]:
        return {"reference_log": self.reference, "current_log": self.current}

    def columns(self) -> dict[str, list[str] | None]:
        return {"reference_log": self.compared, "current_log": self.compared}

    def parameters(self) -> dict[str, Any]:
        return {
            "columns": self.compared,
            "categorical": self.as_categories,
            "bins": self.bins,
            "thresholds": self.thresholds.to_dict(),
        }


@dataclass(frozen=True, kw_only=True)
class ValidationRequest(AnalysisRequest):
    """The import report of a log with a profile of every column (``analysis/profiles.py``)."""

    kind: ClassVar[str] = "validation"
    log: PredictionLog
    top_categories: int = DEFAULT_TOP_CATEGORIES

    @property
    def subject(self) -> PredictionLog:
        return self.log

    def columns(self) -> dict[str, list[str] | None]:
        # Every column of the log as imported; its source row number is bookkeeping, not data.
        return {"log": list(self.log.mapping.mapped_columns())}

    def parameters(self) -> dict[str, Any]:
        return {"top_categories": self.top_categories}

    @classmethod
    def from_parameters(cls, log: PredictionLog, parameters: Mapping[str, Any]) -> ValidationRequest:
        return cls(log=log, top_categories=int(parameters.get("top_categories", DEFAULT_TOP_CATEGORIES)))


@dataclass(frozen=True, kw_only=True)
class ExplainRequest(AnalysisRequest):
    """SHAP explanation of the model version on a log (``analysis/explain.py``).

    Its inputs also name the model file, which ``services/explain.py`` resolves and loads only after
    the model-trust decision; that use case records the run the same way as the others.
    """

    kind: ClassVar[str] = SHAP_KIND
    log: PredictionLog
    reference_log: PredictionLog | None = None  # None: the version's latest reference log
    sample_size: int | None = None  # None: the computation's default for the model's cost
    rows: tuple[str, ...] = ()  # ids of rows explained one by one
    seed: int = 0
    target_class: str | None = None
    source: str = "auto"  # "model": from the model file, "log": SHAP columns of the log, "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", tuple(self.rows))
        if self.source not in EXPLANATION_SOURCES:
            raise InputError(f"explain from 'model', 'log' or 'auto', not {self.source!r}")
        if (
            self.reference_log is not None
            and self.reference_log.model_version_id != self.log.model_version_id
        ):
            raise InputError(f"reference log {self.reference_log.id} belongs to another model version")

    @property
    def subject(self) -> PredictionLog:
        return self.log

    @property
    def favourable_class(self) -> str | None:
        """The log's favourable label, explained when the model has that class and none was chosen."""
        return self.log.mapping.positive_label if self.target_class is None else None

    def logs(self) -> dict[str, PredictionLog]:
        return {"log": self.log} | ({} if self.reference_log is None else {"reference": self.reference_log})

    def columns(self) -> dict[str, list[str] | None]:
        """The model's inputs, the pipeline's SHAP columns, the groups and the row ids; the reference
        log is the background of model inputs only."""
        mapping = self.log.mapping
        wanted = [*mapping.features, *(c for _f, c in mapping.shap), *(f for f, _c in mapping.shap)]
        wanted += [mapping.shap_base, *mapping.sensitive, mapping.id]
        return {
            "log": list(dict.fromkeys(c for c in wanted if c)),
            "reference": list(mapping.features),
        }
