"""Explain a model version on one of its prediction logs, once, and keep the result as evidence.

The model file comes from the evidence store (imported from a registry or attached by hand) and is
loaded only in a safe format or, for a pickle, when its hash was trusted (``services.trust``). The
background is the version's reference log. The result is an analysis run keyed by the model file's
hash, the logs' hashes and the parameters: asking again returns the stored run without loading
anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from signoff.analysis.explain import (
    DEFAULT_BACKGROUND_SIZE,
    DEFAULT_BOOTSTRAP_RESAMPLES,
    Cancelled,
    Progress,
    explain_precomputed,
    run_explanation,
)
from signoff.analysis.model_loading import load_model, plan_model_load, sha256_file
from signoff.domain.analysis_kinds import ANALYSIS_KINDS
from signoff.domain.analysis_requests import ExplainRequest
from signoff.domain.analysis_run import SHAP_KIND, AnalysisRun
from signoff.domain.errors import InputError
from signoff.domain.explanation import Explanation
from signoff.domain.prediction_log import LogRole, PredictionLog
from signoff.services.analyses import engine_version, load_frame
from signoff.services.analysis_runs import find_analysis, record_analysis
from signoff.services.logs import get_log
from signoff.services.model_artifacts import materialised_artifacts, model_artifacts
from signoff.services.models import get_model_version
from signoff.services.trust import trusted_artifact_hashes
from signoff.storage import Database

ENGINE_VERSION = engine_version(ANALYSIS_KINDS[SHAP_KIND])  # "signoff.analysis.explain <v>; shap <v>"


@dataclass(frozen=True)
class ExplanationRun:
    run: AnalysisRun
    explanation: Explanation
    reused: bool  # True when an identical request had been computed before

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis_run_id": self.run.id,
            "reused": self.reused,
            "inputs": dict(self.run.inputs),
            "parameters": dict(self.run.parameters),
            "engine_version": self.run.engine_version,
            "result_sha256": self.run.result_sha256,
            "explanation": self.explanation.to_dict(),
        }


def _latest_reference(db: Database, log: PredictionLog) -> PredictionLog | None:
    with db.transaction(write=False) as uow:
        logs = uow.logs.list(model_version_id=log.model_version_id)
    candidates = [other for other in logs if other.role is LogRole.REFERENCE and other.id != log.id]
    return candidates[-1] if candidates else None  # the latest imported reference log


def explain_model_version(
    db: Database,
    *,
    name: str,
    version: str,
    log_id: int,
    reference_log_id: int | None = None,
    sample_size: int | None = None,
    rows: Sequence[str] = (),
    seed: int = 0,
    target_class: str | None = None,
    source: str = "auto",
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExplanationRun:
    """SHAP explanation of ``name`` ``version`` on log ``log_id``: the ``ExplainRequest`` for ``explain``."""
    model_version = get_model_version(db, name, version)
    log = get_log(db, log_id)
    if log.model_version_id != model_version.id:
        raise InputError(f"log {log_id} was imported for another model version, not {model_version.ref}")
    request = ExplainRequest(
        log=log,
        reference_log=None if reference_log_id is None else get_log(db, reference_log_id),
        sample_size=sample_size,
        rows=tuple(str(r) for r in rows),
        seed=seed,
        target_class=target_class,
        source=source,
    )
    return explain(db, request, actor=actor, progress=progress, cancelled=cancelled)


def explain(
    db: Database,
    request: ExplainRequest,
    *,
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExplanationRun:
    """SHAP explanation of the request's model version on its log; stored once per identical request.

    ``request.source`` says where the SHAP values come from: ``"model"`` computes them from the stored
    model file, ``"log"`` summarises the values a team's pipeline wrote into the log (its SHAP columns),
    ``"auto"`` uses the model file when the version has one and the log's columns otherwise.
    """
    log = request.log
    with db.transaction(write=False) as uow:
        model_version = uow.models.get(log.model_version_id)
    mapping = log.mapping
    if request.source == "log" or (
        request.source == "auto" and mapping.shap and not model_artifacts(db, model_version)
    ):
        return _explain_from_log(db, request, actor=actor, progress=progress, cancelled=cancelled)
    if not mapping.features:
        raise InputError(
            f"log {log.id} maps no feature columns; re-import it with each model input mapped as a feature"
        )
    reference = request.reference_log or _latest_reference(db, log)
    columns = request.columns()
    rows = list(request.rows)
    parameters = {
        "features": list(mapping.features),
        "sensitive": list(mapping.sensitive),
        "id_column": mapping.id,
        "rows": rows,
        "sample_size": request.sample_size,
        "seed": request.seed,
        "background_size": DEFAULT_BACKGROUND_SIZE,
        "bootstrap_resamples": DEFAULT_BOOTSTRAP_RESAMPLES,
        "target_class": request.target_class,
    }
    if request.favourable_class is not None:  # only then, so runs of logs without one keep their key
        parameters["favourable_class"] = request.favourable_class
    with materialised_artifacts(db, model_version) as files:
        plan = plan_model_load(files)
        inputs = {"model": sha256_file(plan.path), "log": log.evidence_sha256}
        if reference is not None:
            inputs["reference"] = reference.evidence_sha256
        key = dict(
            kind=SHAP_KIND,
            model_version_id=model_version.id,
            inputs=inputs,
            parameters=parameters,
            engine_version=ENGINE_VERSION,
        )
        found = find_analysis(db, **key)
        if found is not None:
            return ExplanationRun(found, found.result_as(Explanation), reused=True)
        # Loading happens here, after the hash check and only in a safe format or for a trusted hash.
        model = load_model(files, trusted_pickle_sha256=trusted_artifact_hashes(db))
        frame = load_frame(db, log, columns["log"])
        background = None if reference is None else load_frame(db, reference, columns["reference"])
        explanation = run_explanation(
            model,
            frame,
            features=mapping.features,
            background=background,
            sensitive=mapping.sensitive,
            id_column=mapping.id,
            rows=rows,
            sample_size=request.sample_size,
            seed=request.seed,
            target_class=request.target_class,
            favourable_class=request.favourable_class,
            progress=progress,
            cancelled=cancelled,
        )
    run = record_analysis(db, **key, result=explanation.to_dict(), actor=actor)
    return ExplanationRun(run, run.result_as(Explanation), reused=False)


def _explain_from_log(
    db: Database,
    request: ExplainRequest,
    *,
    actor: str | None,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> ExplanationRun:
    log = request.log
    mapping = log.mapping
    if not mapping.shap:
        raise InputError(
            f"log {log.id} holds no SHAP values; re-import it with the SHAP value column of each feature "
            "and the base-value column mapped, or explain from the model file"
        )
    rows = list(request.rows)
    parameters = {
        "source": "log",
        "shap_columns": dict(mapping.shap),
        "shap_base": mapping.shap_base,
        "sensitive": list(mapping.sensitive),
        "id_column": mapping.id,
        "rows": rows,
        "sample_size": request.sample_size,
        "seed": request.seed,
        "bootstrap_resamples": DEFAULT_BOOTSTRAP_RESAMPLES,
    }
    key = dict(
        kind=SHAP_KIND,
        model_version_id=log.model_version_id,
        inputs={"log": log.evidence_sha256},
        parameters=parameters,
        engine_version=ENGINE_VERSION,
    )
    found = find_analysis(db, **key)
    if found is not None:
        return ExplanationRun(found, found.result_as(Explanation), reused=True)
    explanation = explain_precomputed(
        load_frame(db, log, request.columns()["log"]),
        shap_columns=dict(mapping.shap),
        base_value=mapping.shap_base,
        sensitive=mapping.sensitive,
        id_column=mapping.id,
        rows=rows,
        sample_size=request.sample_size,
        seed=request.seed,
        progress=progress,
        cancelled=cancelled,
    )
    run = record_analysis(db, **key, result=explanation.to_dict(), actor=actor)
    return ExplanationRun(run, run.result_as(Explanation), reused=False)
