"""Recording analyses (fairness, drift, SHAP, ...) so that each is computed once, cited and reproducible.

``run_analysis`` is the usual entry: it returns the stored run of an identical request (same kind,
model version, input hashes, parameters and engine version), and otherwise computes the result
outside any transaction and stores it with its audit event in one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.prediction_log import PredictionLog
from signoff.services.identity import actor_or_login
from signoff.storage import Database


def find_analysis(
    db: Database,
    *,
    kind: str,
    model_version_id: int | None,
    inputs: dict[str, str],
    parameters: dict[str, Any],
    engine_version: str | None = None,
) -> AnalysisRun | None:
    with db.transaction(write=False) as uow:
        return uow.analysis_runs.find(
            kind, model_version_id, inputs, parameters, engine_version=engine_version
        )


def record_analysis(
    db: Database,
    *,
    kind: str,
    model_version_id: int | None,
    inputs: dict[str, str],
    parameters: dict[str, Any],
    engine_version: str,
    result: dict[str, Any],
    actor: str | None = None,
) -> AnalysisRun:
    """Store a computed result, or return the stored run of an identical request (no second event).

    ``result`` must be plain JSON values; NaN and infinities have no JSON form (use None).
    """
    with db.transaction() as uow:
        existing = uow.analysis_runs.find(
            kind, model_version_id, inputs, parameters, engine_version=engine_version
        )
        if existing is not None:
            return existing
        run = uow.analysis_runs.add(
            kind=kind,
            model_version_id=model_version_id,
            inputs=inputs,
            parameters=parameters,
            engine_version=engine_version,
            result=result,
            created_by=actor_or_login(actor),
        )
        uow.audit.append(
            actor=run.created_by,
            action="analysis.recorded",
            entity=f"analysis_run:{run.id}",
            payload={
                "kind": kind,
                "model_version_id": model_version_id,
                "inputs": inputs,
                "parameters": parameters,
                "engine_version": engine_version,
                "result_sha256": run.result_sha256,
            },
        )
    return run


def run_analysis(
    db: Database,
    *,
    kind: str,
    model_version_id: int | None,
    inputs: dict[str, str],
    parameters: dict[str, Any],
    engine_version: str,
    compute: Callable[[], dict[str, Any]],
    actor: str | None = None,
) -> AnalysisRun:
    """The stored run of this request, or ``compute()`` (run with no transaction open) recorded now."""
    found = find_analysis(
        db,
        kind=kind,
        model_version_id=model_version_id,
        inputs=inputs,
        parameters=parameters,
        engine_version=engine_version,
    )
    if found is not None:
        return found
    return record_analysis(
        db,
        kind=kind,
        model_version_id=model_version_id,
        inputs=inputs,
        parameters=parameters,
        engine_version=engine_version,
        result=compute(),
        actor=actor,
    )


def get_analysis(db: Database, run_id: int) -> AnalysisRun:
    with db.transaction(write=False) as uow:
        return uow.analysis_runs.get(run_id)


def list_analyses(
    db: Database, *, kind: str | None = None, model_version_id: int | None = None
) -> list[AnalysisRun]:
    with db.transaction(write=False) as uow:
        return uow.analysis_runs.list(kind=kind, model_version_id=model_version_id)


def latest_analysis(
    db: Database, *, kind: str, model_version_id: int, reading: Collection[str] | None = None
) -> AnalysisRun | None:
    """The newest stored run of ``kind`` for a version (what a page shows before anything is run);
    with ``reading``, the newest that read one of those evidence hashes."""
    with db.transaction(write=False) as uow:
        return uow.analysis_runs.latest(kind=kind, model_version_id=model_version_id, reading=reading)


def latest_analysis_of_log(db: Database, *, kind: str, log: PredictionLog) -> AnalysisRun | None:
    """The newest run of ``kind`` that read this log."""
    return latest_analysis(
        db, kind=kind, model_version_id=log.model_version_id, reading={log.evidence_sha256}
    )
