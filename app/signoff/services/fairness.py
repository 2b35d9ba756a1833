"""Fairness, performance and monitoring of a stored prediction log, recorded as analysis runs.

Each use case reads the log's canonical Parquet from the evidence store, runs the pure analysis with
no transaction open, and records the run (the log's hash, the parameters, the engine version, the
result) with its audit event. An identical request returns the stored run instead of recomputing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from signoff import __version__
from signoff.analysis.fairness import DEFAULT_EXCLUDED_SHARE, DEFAULT_MIN_GROUP_SIZE, run_fairness
from signoff.analysis.monitoring import run_monitoring
from signoff.analysis.performance import run_performance
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.errors import InputError
from signoff.domain.fairness import FairnessResult, MonitoringResult
from signoff.domain.performance import PerformanceResult
from signoff.domain.prediction_log import PredictionLog
from signoff.importers.prediction_log import read_canonical_log
from signoff.services.analysis_runs import run_analysis
from signoff.services.models import get_model_version
from signoff.storage import Database

ENGINE = f"signoff.analysis {__version__}"

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class FairnessRun:
    run: AnalysisRun
    result: FairnessResult


@dataclass(frozen=True)
class PerformanceRun:
    run: AnalysisRun
    result: PerformanceResult


@dataclass(frozen=True)
class MonitoringRun:
    run: AnalysisRun
    result: MonitoringResult


def _load(db: Database, name: str, version: str, log_id: int) -> tuple[int, PredictionLog, pd.DataFrame]:
    model = get_model_version(db, name, version)
    with db.transaction(write=False) as uow:
        log = uow.logs.get(log_id)
        if log.model_version_id != model.id:
            raise InputError(
                f"log {log_id} belongs to another model version, not {name} version {version}; "
                "list this version's logs and pick one of them"
            )
        data = uow.evidence.read_bytes(log.evidence_sha256)
    return model.id, log, read_canonical_log(data)


def _sensitive(log: PredictionLog, sensitive: Sequence[str] | None) -> list[str]:
    chosen = list(sensitive) if sensitive else list(log.mapping.sensitive)
    if not chosen:
        raise InputError(f"log {log.id} maps no sensitive attributes; name the columns with --sensitive")
    return chosen


def _scores(log: PredictionLog) -> str | None:
    # One score column is the positive class's probability; several are per-class and not used here.
    return log.mapping.scores[0] if len(log.mapping.scores) == 1 else None


def _json_bins(bins: Mapping[str, Sequence[float]] | None) -> dict[str, list[Any]]:
    return {
        k: [e if e not in (float("inf"), float("-inf")) else str(e) for e in map(float, v)]
        for k, v in sorted((bins or {}).items())
    }


def analyze_fairness(
    db: Database,
    *,
    name: str,
    version: str,
    log_id: int,
    sensitive: Sequence[str] | None = None,
    intersections: bool | int | Sequence[Sequence[str]] = True,
    bins: Mapping[str, Sequence[float]] | None = None,
    reference: str | Mapping[str, str] = "largest",
    positive_label: str | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    excluded_share: float = DEFAULT_EXCLUDED_SHARE,
    n_resamples: int = 1000,
    seed: int = 0,
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> FairnessRun:
    model_id, log, frame = _load(db, name, version, log_id)
    positive_label = positive_label if positive_label is not None else log.mapping.positive_label
    chosen = _sensitive(log, sensitive)
    scores = _scores(log)
    parameters = {
        "label": log.mapping.label,
        "prediction": log.mapping.prediction,
        "scores": scores,
        "sensitive": chosen,
        "intersections": intersections
        if isinstance(intersections, (bool, int))
        else [list(c) for c in intersections],
        "bins": _json_bins(bins),
        "reference": dict(reference) if isinstance(reference, Mapping) else reference,
        "positive_label": positive_label,
        "min_group_size": min_group_size,
        "excluded_share": excluded_share,
        "n_resamples": n_resamples,
        "seed": seed,
    }

    def compute() -> dict[str, Any]:
        return run_fairness(
            frame,
            label=log.mapping.label,
            prediction=log.mapping.prediction,
            scores=scores,
            sensitive=chosen,
            intersections=intersections,
            bins=bins,
            reference=reference,
            positive_label=positive_label,
            min_group_size=min_group_size,
            excluded_share=excluded_share,
            n_resamples=n_resamples,
            seed=seed,
            progress=progress,
            cancelled=cancelled,
        ).to_dict()

    run = run_analysis(
        db,
        kind="fairness",
        model_version_id=model_id,
        inputs={"log": log.evidence_sha256},
        parameters=parameters,
        engine_version=ENGINE,
        compute=compute,
        actor=actor,
    )
    return FairnessRun(run, FairnessResult.from_dict(run.result))


def analyze_performance(
    db: Database,
    *,
    name: str,
    version: str,
    log_id: int,
    sensitive: Sequence[str] | None = None,
    intersections: bool | int | Sequence[Sequence[str]] = True,
    bins: Mapping[str, Sequence[float]] | None = None,
    positive_label: str | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    n_resamples: int = 1000,
    seed: int = 0,
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> PerformanceRun:
    model_id, log, frame = _load(db, name, version, log_id)
    positive_label = positive_label if positive_label is not None else log.mapping.positive_label
    chosen = list(sensitive) if sensitive else list(log.mapping.sensitive)
    task = log.validation.task if log.validation.task in ("binary", "multiclass", "regression") else None
    scores = _scores(log) if task in (None, "binary") else None
    parameters = {
        "label": log.mapping.label,
        "prediction": log.mapping.prediction,
        "scores": scores,
        "task": task,
        "sensitive": chosen,
        "intersections": intersections
        if isinstance(intersections, (bool, int))
        else [list(c) for c in intersections],
        "bins": _json_bins(bins),
        "positive_label": positive_label,
        "min_group_size": min_group_size,
        "n_resamples": n_resamples,
        "seed": seed,
    }

    def compute() -> dict[str, Any]:
        return run_performance(
            frame,
            label=log.mapping.label,
            prediction=log.mapping.prediction,
            scores=scores,
            task=task,
            sensitive=chosen,
            intersections=intersections,
            bins=bins,
            positive_label=positive_label,
            min_group_size=min_group_size,
            n_resamples=n_resamples,
            seed=seed,
            progress=progress,
            cancelled=cancelled,
        ).to_dict()

    run = run_analysis(
        db,
        kind="performance",
        model_version_id=model_id,
        inputs={"log": log.evidence_sha256},
        parameters=parameters,
        engine_version=ENGINE,
        compute=compute,
        actor=actor,
    )
    return PerformanceRun(run, PerformanceResult.from_dict(run.result))


def analyze_monitoring(
    db: Database,
    *,
    name: str,
    version: str,
    log_id: int,
    frequency: str = "week",
    sigmas: float = 3.0,
    positive_label: str | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> MonitoringRun:
    model_id, log, frame = _load(db, name, version, log_id)
    positive_label = positive_label if positive_label is not None else log.mapping.positive_label
    if log.mapping.timestamp is None:
        raise InputError(f"log {log_id} has no timestamp column mapped; monitoring needs one")
    parameters = {
        "timestamp": log.mapping.timestamp,
        "prediction": log.mapping.prediction,
        "frequency": frequency,
        "sigmas": sigmas,
        "positive_label": positive_label,
    }

    def compute() -> dict[str, Any]:
        return run_monitoring(
            frame,
            timestamp=log.mapping.timestamp or "",
            prediction=log.mapping.prediction,
            positive_label=positive_label,
            frequency=frequency,
            sigmas=sigmas,
            progress=progress,
            cancelled=cancelled,
        ).to_dict()

    run = run_analysis(
        db,
        kind="monitoring",
        model_version_id=model_id,
        inputs={"log": log.evidence_sha256},
        parameters=parameters,
        engine_version=ENGINE,
        compute=compute,
        actor=actor,
    )
    return MonitoringRun(run, MonitoringResult.from_dict(run.result))
