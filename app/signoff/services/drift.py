"""Data validation and drift of stored prediction logs, recorded as analysis runs.

``analyze_validation`` joins a log's import report with its column profiles; ``analyze_drift``
compares a current log of a model version with a reference log column by column. Both build their
request (``domain/analysis_requests.py``) and hand it to ``services.analyses.run``: a stored run of an
identical request comes back before any row is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from signoff.domain.analysis_requests import DEFAULT_TOP_CATEGORIES, DriftRequest, ValidationRequest
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.drift import DEFAULT_BINS, DriftResult, DriftThresholds
from signoff.domain.validation import ValidationAnalysis
from signoff.services.analyses import run, version_log
from signoff.services.logs import get_log
from signoff.storage import Database


@dataclass(frozen=True)
class DriftRun:
    run: AnalysisRun
    result: DriftResult


@dataclass(frozen=True)
class ValidationRun:
    run: AnalysisRun
    result: ValidationAnalysis


def analyze_validation(
    db: Database,
    *,
    name: str,
    version: str,
    log_id: int,
    top_categories: int = DEFAULT_TOP_CATEGORIES,
    actor: str | None = None,
) -> ValidationRun:
    """The import report of log ``log_id`` with the profile of every column, recorded as ``validation``."""
    log = version_log(db, name, version, log_id, "to validate")
    done = run(db, ValidationRequest(log=log, top_categories=top_categories), actor=actor)
    return ValidationRun(run=done, result=done.result_as(ValidationAnalysis))


def analyze_drift(
    db: Database,
    *,
    name: str,
    version: str,
    reference_log_id: int,
    current_log_id: int,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    bins: int = DEFAULT_BINS,
    thresholds: DriftThresholds | None = None,
    actor: str | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DriftRun:
    """Drift of log ``current_log_id`` (of this model version) against ``reference_log_id`` (which may
    belong to another version, e.g. the training data of the previous one), recorded as ``drift``."""
    current = version_log(db, name, version, current_log_id, "current")
    request = DriftRequest(  # refuses the same log as reference and current
        reference=get_log(db, reference_log_id),
        current=current,
        drift_columns=tuple(columns or ()),
        categorical=None if categorical is None else tuple(categorical),
        bins=bins,
        thresholds=thresholds or DriftThresholds(),
    )
    done = run(db, request, actor=actor, progress=progress, cancelled=cancelled)
    return DriftRun(run=done, result=done.result_as(DriftResult))
