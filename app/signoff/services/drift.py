"""Data validation and drift of stored prediction logs, recorded as analysis runs.

``analyze_validation`` joins a log's import report with its column profiles; ``analyze_drift``
compares a current log of a model version with a reference log column by column. Both read the
canonical evidence (hash verified), compute with no transaction open and store the result once per
identical request, with its audit event.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from signoff import __version__
from signoff.analysis.drift import run_drift
from signoff.analysis.profiles import DEFAULT_TOP_CATEGORIES, profile_log
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.drift import DEFAULT_BINS, DriftResult, DriftThresholds
from signoff.domain.errors import InputError
from signoff.domain.prediction_log import PredictionLog
from signoff.domain.validation import ValidationAnalysis
from signoff.importers.prediction_log import SOURCE_ROW
from signoff.services.analysis_runs import run_analysis
from signoff.services.logs import get_log, load_log_frame
from signoff.services.models import get_model_version
from signoff.services.sources import counted_columns, find_source, source_state, validate_source
from signoff.storage import Database

DRIFT_ENGINE = f"signoff.analysis.drift {__version__}; scipy {importlib.metadata.version('scipy')}"
VALIDATION_ENGINE = f"signoff.analysis.profiles {__version__}"


@dataclass(frozen=True)
class DriftRun:
    run: AnalysisRun
    result: DriftResult


@dataclass(frozen=True)
class ValidationRun:
    run: AnalysisRun
    result: ValidationAnalysis


def _log_of(db: Database, log_id: int, model_version_id: int, what: str) -> PredictionLog:
    log = get_log(db, log_id)
    if log.model_version_id != model_version_id:
        raise InputError(f"log {log_id} ({what}) belongs to another model version; give a log of this one")
    return log


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
    model_version = get_model_version(db, name, version)
    log = _log_of(db, log_id, model_version.id, "to validate")
    source = find_source(db, log)
    if source is not None:  # a log that stays where it lives: the engine profiles it
        run = validate_source(
            db,
            model_version_id=model_version.id,
            log=log,
            source=source,
            top=top_categories,
            engine_version=VALIDATION_ENGINE,
            actor=actor,
        )
        return ValidationRun(run=run, result=ValidationAnalysis.from_dict(run.result))

    def compute() -> dict:
        # The source row number is bookkeeping of the import, not data of the log.
        frame = load_log_frame(db, log_id).drop(columns=[SOURCE_ROW], errors="ignore")
        return ValidationAnalysis(
            report=log.validation, profile=profile_log(frame, top=top_categories)
        ).to_dict()

    run = run_analysis(
        db,
        kind="validation",
        model_version_id=model_version.id,
        inputs={"log": log.evidence_sha256},
        parameters={"top_categories": top_categories},
        engine_version=VALIDATION_ENGINE,
        compute=compute,
        actor=actor,
    )
    return ValidationRun(run=run, result=ValidationAnalysis.from_dict(run.result))


def default_drift_columns(log: PredictionLog) -> tuple[list[str], list[str]]:
    """(columns, categorical): the log's features, scores and prediction; the prediction is a category
    unless the task is regression."""
    mapping = log.mapping
    columns = list(dict.fromkeys([*mapping.features, *mapping.scores, mapping.prediction]))
    categorical = [] if log.validation.task == "regression" else [mapping.prediction]
    return columns, categorical


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
    model_version = get_model_version(db, name, version)
    current = _log_of(db, current_log_id, model_version.id, "current")
    reference = get_log(db, reference_log_id)
    if reference_log_id == current_log_id:
        raise InputError("the reference and the current log are the same log; drift needs two")
    default_columns, default_categorical = default_drift_columns(current)
    chosen = list(columns) if columns else default_columns
    as_categories = sorted(set(categorical if categorical is not None else default_categorical) & set(chosen))
    thresholds = thresholds or DriftThresholds()

    # A log that stays where it lives is read as value counts, and its state now keys the run.
    where = {"reference": find_source(db, reference), "current": find_source(db, current)}
    states = {
        f"{side}_state": source_state(source, log, cancelled)
        for (side, source), log in zip(where.items(), (reference, current), strict=True)
        if source is not None
    }

    def read(side: str, log: PredictionLog) -> Any:
        source = where[side]
        if source is None:
            return load_log_frame(db, log.id)
        return counted_columns(source, log, chosen, cancelled)

    def compute() -> dict:
        result = run_drift(
            read("reference", reference),
            read("current", current),
            columns=chosen,
            categorical=as_categories,
            bins=bins,
            thresholds=thresholds,
            progress=progress,
            cancelled=cancelled,
        )
        return result.to_dict()

    run = run_analysis(
        db,
        kind="drift",
        model_version_id=model_version.id,
        inputs={
            "reference_log": reference.evidence_sha256,
            "current_log": current.evidence_sha256,
            **states,
        },
        parameters={
            "columns": chosen,
            "categorical": as_categories,
            "bins": bins,
            "thresholds": thresholds.to_dict(),
        },
        engine_version=DRIFT_ENGINE,
        compute=compute,
        actor=actor,
    )
    return DriftRun(run=run, result=DriftResult.from_dict(run.result))
