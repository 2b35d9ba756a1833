"""Champion vs challenger, recorded as an analysis run of kind ``compare`` on the challenger's version.

The inputs are one stored log holding both versions' columns, or one log of each version: joined by
their row ids (paired: shadow mode, a back-test) or taken as they are (unpaired: an A/B test). The run
cites every log it read by hash, so it enters the challenger's evidence bundle and can be judged by a
policy's comparison rules; an identical request returns the stored run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from signoff import __version__
from signoff.domain.analysis_run import SHAP_KIND, AnalysisRun
from signoff.domain.comparison import ComparisonResult, reliance_changes
from signoff.domain.errors import InputError
from signoff.domain.explanation import Explanation
from signoff.domain.policy import Policy
from signoff.domain.prediction_log import PredictionLog
from signoff.domain.registry import ModelVersion
from signoff.services.analysis_runs import latest_analysis, list_analyses, run_analysis
from signoff.services.models import get_model_version
from signoff.storage import Database

KIND = "compare"
ENGINE = f"signoff.analysis.compare {__version__}"
ONE_LOG_NEEDS_COLUMNS = (
    "log {log_id} is one log for both versions: name the champion's and the challenger's prediction "
    "columns (and their score columns, for AUC); the log has {columns}"
)
NOT_IN_LOG = (
    "column {column!r} is not in stored log {log_id}, which keeps only mapped columns {columns}; map it "
    "when importing the log (as a score or feature column)"
)


@dataclass(frozen=True)
class ComparisonRun:
    run: AnalysisRun
    result: ComparisonResult
    champion: ModelVersion
    challenger: ModelVersion


def _score(log: PredictionLog) -> str | None:
    # One score column is the positive class's probability; several are per-class and not used here.
    return log.mapping.scores[0] if len(log.mapping.scores) == 1 else None


def _own_log(db: Database, log_id: int, version: ModelVersion, whose: str) -> PredictionLog:
    from signoff.services.logs import get_log

    log = get_log(db, log_id)
    if log.model_version_id != version.id:
        raise InputError(
            f"log {log_id} belongs to another model version, not the {whose} {version.name} version "
            f"{version.version}; give the champion's log first and the challenger's second"
        )
    return log


def compare_versions(
    db: Database,
    *,
    name: str,
    champion: str,
    challenger: str,
    log_ids: Sequence[int],
    unpaired: bool = False,
    prediction_columns: tuple[str, str] | None = None,
    score_columns: tuple[str, str] | None = None,
    sensitive: Sequence[str] | None = None,
    intersections: bool | int | Sequence[Sequence[str]] = True,
    bins: Mapping[str, Sequence[float]] | None = None,
    positive_label: str | None = None,
    min_group_size: int = 30,
    excluded_share: float = 0.02,
    confidence_level: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    actor: str | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ComparisonRun:
    """Compare ``challenger`` with ``champion`` (two versions of model ``name``) on the given logs.

    One log: it belongs to either version and holds both versions' ``prediction_columns`` (champion's
    first) and optionally ``score_columns``. Two logs: the champion's, then the challenger's; paired by
    row id unless ``unpaired``.
    """
    from signoff.services.logs import get_log

    versions = (get_model_version(db, name, champion), get_model_version(db, name, challenger))
    if versions[0].id == versions[1].id:
        raise InputError("the champion and the challenger are the same version; name two versions")
    if len(log_ids) not in (1, 2):
        raise InputError(
            f"a comparison reads one log (both versions' columns) or two logs, got {len(log_ids)}"
        )
    parameters: dict[str, Any] = {
        "champion": {"version": versions[0].version, "model_version_id": versions[0].id},
        "sensitive": list(sensitive or ()),
        "intersections": intersections
        if isinstance(intersections, (bool, int))
        else [list(c) for c in intersections],
        "bins": {k: [str(float(e)) for e in v] for k, v in sorted((bins or {}).items())},
        "positive_label": positive_label,
        "min_group_size": min_group_size,
        "excluded_share": excluded_share,
        "confidence_level": confidence_level,
        "n_resamples": n_resamples,
        "seed": seed,
    }

    if len(log_ids) == 1:
        log = get_log(db, log_ids[0])
        if log.model_version_id not in (versions[0].id, versions[1].id):
            raise InputError(
                f"log {log.id} belongs to neither {name} version {champion} nor version {challenger}"
            )
        if unpaired:
            raise InputError(
                "an unpaired comparison (an A/B test) needs each version's own log: give two logs"
            )
        columns = log.mapping.mapped_columns()
        if prediction_columns is None:
            raise InputError(ONE_LOG_NEEDS_COLUMNS.format(log_id=log.id, columns=list(columns)))
        for column in (*prediction_columns, *(score_columns or ())):
            if column not in columns:
                raise InputError(NOT_IN_LOG.format(column=column, log_id=log.id, columns=list(columns)))
        chosen = list(sensitive) if sensitive else list(log.mapping.sensitive)
        logs: tuple[PredictionLog, ...] = (log,)
        a = {"label": log.mapping.label, "prediction": prediction_columns[0]}
        b = {"label": log.mapping.label, "prediction": prediction_columns[1]}
        a["score"], b["score"] = score_columns if score_columns else (None, None)
        inputs = {"log": log.evidence_sha256}
        parameters.update(design="paired", columns={"champion": a, "challenger": b})
    else:
        logs = (
            _own_log(db, log_ids[0], versions[0], "champion"),
            _own_log(db, log_ids[1], versions[1], "challenger"),
        )
        if prediction_columns is not None or score_columns is not None:
            raise InputError(
                "with one log per version, each log's own mapped prediction and score are compared"
            )
        chosen = list(sensitive) if sensitive else list(logs[0].mapping.sensitive)
        inputs = {"champion_log": logs[0].evidence_sha256, "challenger_log": logs[1].evidence_sha256}
        parameters.update(design="unpaired" if unpaired else "paired")
        ids = (logs[0].mapping.id, logs[1].mapping.id)
        if not unpaired and (ids[0] is None or ids[1] is None):
            missing = [log.id for log, column in zip(logs, ids, strict=True) if column is None]
            raise InputError(
                f"log {missing[0]} maps no row id, so the two logs cannot be paired row by row; import it "
                "with its id column, or compare the versions as unpaired (an A/B test)"
            )

    def compute() -> dict[str, Any]:
        from signoff.analysis.compare import comparison_from_counts
        from signoff.analysis.progress import Stages

        stages = Stages(progress, cancelled)
        return comparison_from_counts(comparison_counts(db, logs, parameters, stages), stages).to_dict()

    if not chosen:
        raise InputError("the champion's log maps no sensitive attributes; name the attributes to compare by")
    parameters["sensitive"] = chosen
    # SHAP reliance: where both versions have an explanation, the newest of each is an input too.
    explanations = [latest_analysis(db, kind=SHAP_KIND, model_version_id=v.id) for v in versions]
    compare_rows = compute
    if explanations[0] is not None and explanations[1] is not None:
        shap_a, shap_b = explanations
        inputs.update(champion_explanation=shap_a.result_sha256, challenger_explanation=shap_b.result_sha256)

        def compute() -> dict[str, Any]:
            result = ComparisonResult.from_dict(compare_rows())
            changes = reliance_changes(
                Explanation.from_dict(shap_a.result), Explanation.from_dict(shap_b.result)
            )
            return result.with_reliance(changes).to_dict()

    run = run_analysis(
        db,
        kind=KIND,
        model_version_id=versions[1].id,
        inputs=inputs,
        parameters=parameters,
        engine_version=ENGINE,
        compute=compute,
        actor=actor,
    )
    return ComparisonRun(run, ComparisonResult.from_dict(run.result), *versions)


def comparison_counts(
    db: Database, logs: Sequence[PredictionLog], parameters: Mapping[str, Any], stages: Any = None
) -> Any:
    """The count tables of a comparison (``analysis.compare.ComparisonCounts``) from its logs' rows and its
    stored ``parameters``: the one reading of both the run and, at a report's export, its count tables.
    ``logs``: one log holding both versions' columns (``parameters["columns"]``), or the champion's and
    the challenger's, each compared on its own mapped prediction and score."""
    from signoff.analysis import compare as engine
    from signoff.services.logs import load_log_frame

    options: dict[str, Any] = {
        "sensitive": list(parameters["sensitive"]),
        "intersections": parameters["intersections"],
        "bins": {k: [float(e) for e in v] for k, v in parameters["bins"].items()},
        "positive_label": parameters["positive_label"],
        "min_group_size": parameters["min_group_size"],
        "excluded_share": parameters["excluded_share"],
        "confidence_level": parameters["confidence_level"],
        "n_resamples": parameters["n_resamples"],
        "seed": parameters["seed"],
        "stages": stages,
    }
    if len(logs) == 1:
        columns = parameters["columns"]
        return engine.count_paired_comparison(
            load_log_frame(db, logs[0].id),
            champion=engine.VersionColumns(**columns["champion"]),
            challenger=engine.VersionColumns(**columns["challenger"]),
            **options,
        )
    a = engine.VersionColumns(logs[0].mapping.label, logs[0].mapping.prediction, _score(logs[0]))
    b = engine.VersionColumns(logs[1].mapping.label, logs[1].mapping.prediction, _score(logs[1]))
    if (a.score is None) != (b.score is None):
        a, b = engine.VersionColumns(a.label, a.prediction), engine.VersionColumns(b.label, b.prediction)
    frames = (load_log_frame(db, logs[0].id), load_log_frame(db, logs[1].id))
    if parameters["design"] == "unpaired":
        return engine.count_unpaired_comparison(*frames, champion=a, challenger=b, **options)
    left, right, coverage = engine.join_logs(
        *frames, champion_id=logs[0].mapping.id or "", challenger_id=logs[1].mapping.id or ""
    )
    mine = {b.label: "challenger label", b.prediction: "challenger prediction"}
    if b.score is not None:
        mine[b.score] = "challenger score"
    joined = left.assign(**{new: right[old].to_numpy() for old, new in mine.items()})
    theirs = engine.VersionColumns(
        "challenger label", "challenger prediction", "challenger score" if b.score else None
    )
    return engine.count_paired_comparison(joined, champion=a, challenger=theirs, coverage=coverage, **options)


def latest_comparison(
    db: Database, *, model_version_id: int, reading: set[str] | None = None
) -> ComparisonRun | None:
    """The newest comparison in which this version is the challenger (what pages and reports show)."""
    run = latest_analysis(db, kind=KIND, model_version_id=model_version_id, reading=reading)
    if run is None:
        return None
    with db.transaction(write=False) as uow:
        challenger = uow.models.get(run.model_version_id or model_version_id)
        champion = uow.models.get(run.parameters["champion"]["model_version_id"])
    return ComparisonRun(run, ComparisonResult.from_dict(run.result), champion, challenger)


def comparison_evidence(
    db: Database, policy: Policy, model_version_id: int, reading: set[str] | None
) -> AnalysisRun | None:
    """The newest comparison a policy judges: this version as the challenger, reading one of ``reading``
    (when given), at the confidence level the policy states (``settings.compare.confidence_level``)."""
    level = policy.settings.get("compare", {}).get("confidence_level")
    runs = [
        run
        for run in list_analyses(db, kind=KIND, model_version_id=model_version_id)
        if (reading is None or reading & set(run.inputs.values()))
        and (level is None or run.parameters.get("confidence_level") == level)
    ]
    return max(runs, key=lambda run: run.id, default=None)
