"""Explain a model version on one of its prediction logs, once, and keep the result as evidence.

The model file comes from the evidence store (imported from a registry or attached by hand) and is
loaded only in a safe format or, for a pickle, when its hash was trusted (``services.trust``). The
background is the version's reference log. The result is an analysis run keyed by the model file's
hash, the logs' hashes and the parameters: asking again returns the stored run without loading
anything.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from signoff import __version__
from signoff.analysis.explain import (
    DEFAULT_BACKGROUND_SIZE,
    DEFAULT_BOOTSTRAP_RESAMPLES,
    Cancelled,
    Progress,
    explain_precomputed,
    run_explanation,
)
from signoff.analysis.model_loading import load_model, plan_model_load, sha256_file
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.errors import InputError
from signoff.domain.explanation import SHAP_KIND, Explanation
from signoff.domain.prediction_log import LogRole, PredictionLog
from signoff.services.analysis_runs import find_analysis, record_analysis
from signoff.services.logs import get_log, load_log_frame
from signoff.services.model_artifacts import materialised_artifacts, model_artifacts
from signoff.services.models import get_model_version
from signoff.services.trust import trusted_artifact_hashes
from signoff.storage import Database

KIND = SHAP_KIND
ENGINE_VERSION = f"signoff.analysis.explain {__version__}; shap {importlib.metadata.version('shap')}"


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


def _reference_log(db: Database, log: PredictionLog, reference_log_id: int | None) -> PredictionLog | None:
    if reference_log_id is not None:
        reference = get_log(db, reference_log_id)
        if reference.model_version_id != log.model_version_id:
            raise InputError(f"reference log {reference_log_id} belongs to another model version")
        return reference
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
    """SHAP explanation of ``name`` ``version`` on log ``log_id``; stored once per identical request.

    ``source`` says where the SHAP values come from: ``"model"`` computes them from the stored model
    file, ``"log"`` summarises the values a team's pipeline wrote into the log (``--shap`` columns at
    import), ``"auto"`` uses the model file when the version has one and the log's columns otherwise.
    """
    model_version = get_model_version(db, name, version)
    log = get_log(db, log_id)
    if log.model_version_id != model_version.id:
        raise InputError(f"log {log_id} was imported for another model version, not {model_version.ref}")
    mapping = log.mapping
    if source not in ("auto", "model", "log"):
        raise InputError(f"explain from 'model', 'log' or 'auto', not {source!r}")
    if source == "log" or (source == "auto" and mapping.shap and not model_artifacts(db, model_version)):
        return _explain_from_log(
            db,
            model_version.id,
            log,
            rows=rows,
            sample_size=sample_size,
            seed=seed,
            actor=actor,
            progress=progress,
            cancelled=cancelled,
        )
    if not mapping.features:
        raise InputError(
            f"log {log_id} maps no feature columns; re-import it with --feature for each model input"
        )
    reference = _reference_log(db, log, reference_log_id)
    parameters = {
        "features": list(mapping.features),
        "sensitive": list(mapping.sensitive),
        "id_column": mapping.id,
        "rows": [str(r) for r in rows],
        "sample_size": sample_size,
        "seed": seed,
        "background_size": DEFAULT_BACKGROUND_SIZE,
        "bootstrap_resamples": DEFAULT_BOOTSTRAP_RESAMPLES,
        "target_class": target_class,
    }
    if target_class is None and mapping.positive_label is not None:
        # The log says which outcome is favourable; explain that class when the model has it.
        parameters["favourable_class"] = mapping.positive_label
    with materialised_artifacts(db, model_version) as files:
        plan = plan_model_load(files)
        inputs = {"model": sha256_file(plan.path), "log": log.evidence_sha256}
        if reference is not None:
            inputs["reference"] = reference.evidence_sha256
        request = dict(
            kind=KIND,
            model_version_id=model_version.id,
            inputs=inputs,
            parameters=parameters,
            engine_version=ENGINE_VERSION,
        )
        found = find_analysis(db, **request)
        if found is not None:
            return ExplanationRun(found, Explanation.from_dict(found.result), reused=True)
        # Loading happens here, after the hash check and only in a safe format or for a trusted hash.
        model = load_model(files, trusted_pickle_sha256=trusted_artifact_hashes(db))
        frame = load_log_frame(db, log.id)
        background = None if reference is None else load_log_frame(db, reference.id)
        explanation = run_explanation(
            model,
            frame,
            features=mapping.features,
            background=background,
            sensitive=mapping.sensitive,
            id_column=mapping.id,
            rows=[str(r) for r in rows],
            sample_size=sample_size,
            seed=seed,
            target_class=target_class,
            favourable_class=parameters.get("favourable_class"),
            progress=progress,
            cancelled=cancelled,
        )
    run = record_analysis(db, **request, result=explanation.to_dict(), actor=actor)
    return ExplanationRun(run, Explanation.from_dict(run.result), reused=False)


def _explain_from_log(
    db: Database,
    model_version_id: int,
    log: PredictionLog,
    *,
    rows: Sequence[str],
    sample_size: int | None,
    seed: int,
    actor: str | None,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> ExplanationRun:
    mapping = log.mapping
    if not mapping.shap:
        raise InputError(
            f"log {log.id} holds no SHAP values; re-import it with --shap FEATURE=COLUMN for each feature "
            "and --shap-base COLUMN, or explain from the model file"
        )
    parameters = {
        "source": "log",
        "shap_columns": dict(mapping.shap),
        "shap_base": mapping.shap_base,
        "sensitive": list(mapping.sensitive),
        "id_column": mapping.id,
        "rows": [str(r) for r in rows],
        "sample_size": sample_size,
        "seed": seed,
        "bootstrap_resamples": DEFAULT_BOOTSTRAP_RESAMPLES,
    }
    request = dict(
        kind=KIND,
        model_version_id=model_version_id,
        inputs={"log": log.evidence_sha256},
        parameters=parameters,
        engine_version=ENGINE_VERSION,
    )
    found = find_analysis(db, **request)
    if found is not None:
        return ExplanationRun(found, Explanation.from_dict(found.result), reused=True)
    frame = load_log_frame(db, log.id)
    explanation = explain_precomputed(
        frame,
        shap_columns=dict(mapping.shap),
        base_value=mapping.shap_base,
        sensitive=mapping.sensitive,
        id_column=mapping.id,
        rows=[str(r) for r in rows],
        sample_size=sample_size,
        seed=seed,
        progress=progress,
        cancelled=cancelled,
    )
    run = record_analysis(db, **request, result=explanation.to_dict(), actor=actor)
    return ExplanationRun(run, Explanation.from_dict(run.result), reused=False)
