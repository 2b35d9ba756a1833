"""Fairness, performance and monitoring of a stored prediction log, recorded as analysis runs.

Thin use cases for callers that name a model version and a log id: each resolves the log, builds the
request (``domain/analysis_requests.py``) and hands it to ``services.analyses.run``, which returns a
stored run of an identical request before reading any row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from signoff.domain.analysis_requests import (
    DEFAULT_MIN_GROUP_SHARE,
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_RESAMPLES,
    DEFAULT_SIGNIFICANCE_LEVEL,
    FairnessRequest,
    MonitoringRequest,
    PerformanceRequest,
)
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.fairness import FairnessResult, MonitoringResult
from signoff.domain.performance import PerformanceResult
from signoff.services.analyses import run, version_log
from signoff.storage import Database

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
    excluded_share: float = DEFAULT_MIN_GROUP_SHARE,
    significance_level: float = DEFAULT_SIGNIFICANCE_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> FairnessRun:
    request = FairnessRequest(
        log=version_log(db, name, version, log_id),
        sensitive=tuple(sensitive or ()),
        intersections=intersections,
        bins=bins or {},
        reference=reference,
        positive_label=positive_label,
        min_group_size=min_group_size,
        excluded_share=excluded_share,
        significance_level=significance_level,
        n_resamples=n_resamples,
        seed=seed,
    )
    done = run(db, request, actor=actor, progress=progress, cancelled=cancelled)
    return FairnessRun(done, done.result_as(FairnessResult))


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
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> PerformanceRun:
    request = PerformanceRequest(
        log=version_log(db, name, version, log_id),
        sensitive=tuple(sensitive or ()),
        intersections=intersections,
        bins=bins or {},
        positive_label=positive_label,
        min_group_size=min_group_size,
        n_resamples=n_resamples,
        seed=seed,
    )
    done = run(db, request, actor=actor, progress=progress, cancelled=cancelled)
    return PerformanceRun(done, done.result_as(PerformanceResult))


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
    request = MonitoringRequest(
        log=version_log(db, name, version, log_id),
        frequency=frequency,
        sigmas=sigmas,
        positive_label=positive_label,
    )
    done = run(db, request, actor=actor, progress=progress, cancelled=cancelled)
    return MonitoringRun(done, done.result_as(MonitoringResult))
