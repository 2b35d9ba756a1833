"""Logs that stay where they live: registering an external source, and analysing it by its counts.

``register_source`` reads the source's schema, outcomes and fingerprint (no rows) and stores it as a
prediction log whose evidence is that description, so it has a log id like an imported log. The
analyses push one GROUP BY down to the engine, compute from the count table with the same code as
for an imported log, and store the count table as the run's evidence. A run is keyed by the source's
fingerprint at the time, so a changed source is analysed afresh and the result says it changed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from signoff import __version__
from signoff.analysis.counted import CountedRows, ValueCounts
from signoff.domain.analysis_kinds import analysis_kind
from signoff.domain.analysis_requests import (
    AnalysisRequest,
    DriftRequest,
    FairnessRequest,
    MonitoringRequest,
    PerformanceRequest,
    ValidationRequest,
)
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.canonical import canonical_hash, canonical_json, sha256_hex
from signoff.domain.errors import InputError
from signoff.domain.evidence import PARQUET_MEDIA_TYPE
from signoff.domain.log_source import ROWS, SOURCE_MEDIA_TYPE, LogSource, refuse_rows
from signoff.domain.prediction_log import (
    ColumnMapping,
    LogImport,
    LogRole,
    PredictionLog,
    ValidationReport,
)
from signoff.domain.validation import ValidationAnalysis
from signoff.importers.log_source import (
    EXACT_SCORE_LIMIT,
    HISTOGRAM_BINS,
    CountQuery,
    OpenSource,
    check_columns,
    column_profiles,
    count_table,
    fingerprint,
    open_source,
    outcome_pairs,
    profile,
    value_counts,
)
from signoff.services.analyses import computation_of, computed_once, load_frame
from signoff.services.identity import actor_or_login
from signoff.services.models import get_model_version
from signoff.storage import Database

IMPORTER = f"signoff.importers.log_source {__version__}"
SOURCE_CHANGED = (
    "the source {source} has changed since it was registered ({how}); this result describes the "
    "source as it is now"
)

IsCancelled = Callable[[], bool]


def register_source(
    db: Database,
    *,
    model: str,
    version: str,
    url: str,
    mapping: ColumnMapping,
    table: str | None = None,
    query: str | None = None,
    role: LogRole = LogRole.VALIDATION,
    actor: str | None = None,
    cancelled: IsCancelled | None = None,
) -> LogImport:
    """Register the log at ``url`` (with ``table`` or ``query`` unless the URL names files).

    Reads the schema, the outcome pairs and the fingerprint with no transaction open; then stores the
    description, the log row, the source row and the audit event in one. A missing table or column, a
    column of the wrong type, missing outcomes or scores outside [0, 1] raise ``InputError`` naming the
    source and column; an engine that does not answer raises ``ExternalServiceError``. Either way
    nothing is stored. The URL is stored without its credentials.
    """
    model_version = get_model_version(db, model, version)
    if mapping.features or mapping.shap or mapping.id is not None:
        raise InputError(
            "an external source is registered with its label, prediction, score, sensitive and "
            "timestamp columns only; features, ids and SHAP values are read from imported logs"
        )
    with open_source(url, table=table, query=query) as source:
        schema = check_columns(source, mapping)
        pairs = outcome_pairs(source, mapping, cancelled)
        facts = profile(source, mapping, cancelled)
        state = fingerprint(source, mapping, cancelled, known=facts)
        validation = _validation(source, mapping, pairs, facts)
        engine, engine_version, shown = source.engine, source.engine_version, source.url
    identity = {"url": shown, "table": table, "query": query}
    description = {
        **identity,
        "engine": engine,
        "engine_version": engine_version,
        "schema": schema,
        "fingerprint": state,
        "profile": facts,
        "mapping": mapping.to_dict(),
        "registered_at": datetime.now(UTC).isoformat(),
    }
    read_options = {"external_source": True}
    with db.transaction() as uow:
        existing = uow.logs.find_same_import(
            model_version_id=model_version.id,
            role=role,
            source_sha256=canonical_hash(identity),
            mapping=mapping,
            read_options=read_options,
        )
        if existing is not None:
            return LogImport(existing, created=False)
        evidence_sha256 = uow.evidence.put_bytes(canonical_json(description), media_type=SOURCE_MEDIA_TYPE)
        imported_by = actor_or_login(actor)
        times = facts["columns"].get(mapping.timestamp, {}) if mapping.timestamp else {}
        log = uow.logs.add(
            model_version_id=model_version.id,
            role=role,
            source_name=_source_name(shown, table, query),
            source_sha256=canonical_hash(identity),
            evidence_sha256=evidence_sha256,
            quarantine_sha256=None,
            rows=state["rows"],
            mapping=mapping,
            validation=validation,
            read_options=read_options,
            period_start=_utc(times.get("min")),
            period_end=_utc(times.get("max")),
            importer=f"{IMPORTER} via {engine_version}",
            imported_by=imported_by,
        )
        uow.sources.add(
            LogSource(
                log_id=log.id,
                engine=engine,
                url=shown,
                table=table,
                query=query,
                engine_version=engine_version,
                fingerprint=state,
                schema=schema,
                profile=facts,
            )
        )
        uow.audit.append(
            actor=imported_by,
            action="log.imported",
            entity=f"prediction_log:{log.id}",
            payload={
                "model": model_version.name,
                "version": model_version.version,
                "model_version_id": model_version.id,
                "role": str(role),
                "source_name": log.source_name,
                "source_sha256": log.source_sha256,
                "evidence_sha256": log.evidence_sha256,
                "rows": log.rows,
                "mapping": mapping.to_dict(),
                "external_source": {
                    **identity,
                    "engine": engine,
                    "engine_version": engine_version,
                    "fingerprint_sha256": canonical_hash(state),
                },
                "importer": log.importer,
            },
        )
    return LogImport(log, created=True)


def source_columns(url: str, *, table: str | None = None, query: str | None = None) -> dict[str, str]:
    """The columns (name -> type) of a source, read from its schema only: what a form offers to map."""
    with open_source(url, table=table, query=query) as source:
        return {name: str(dtype) for name, dtype in source.table.schema().items()}


def _source_name(url: str, table: str | None, query: str | None) -> str:
    name = f"{url} table {table}" if table else f"{url} query" if query else url
    return name[:500]


def _utc(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _validation(
    source: OpenSource, mapping: ColumnMapping, pairs: Any, facts: dict[str, Any]
) -> ValidationReport:
    """The registration's checks: complete outcomes and probabilities; a source's rows cannot be
    quarantined, so a failing check refuses the source (a query can filter the rows)."""
    rows = facts["rows"]
    for role, column in (("label", mapping.label), ("prediction", mapping.prediction)):
        missing = rows - facts["columns"][column]["present"]
        if missing:
            raise InputError(
                f"the source {source.described} has {missing:,} rows without a {role}; outcomes must be "
                "complete: register a query that leaves those rows out",
                column=column,
            )
    for column in mapping.scores:
        score = facts["columns"][column]
        if score["present"] < rows or score["outside_0_1"]:
            raise InputError(
                f"the source {source.described} has {rows - score['present']:,} rows without a score and "
                f"{score['outside_0_1']:,} scores outside [0, 1]; scores must be probabilities of the "
                "positive outcome",
                column=column,
            )
    labels = sorted({str(v) for v in pairs[mapping.label]})
    predictions = sorted({str(v) for v in pairs[mapping.prediction]})
    task = "binary" if len(set(labels) | set(predictions)) <= 2 else "multiclass"
    return ValidationReport(
        rows_read=rows,
        rows_kept=rows,
        label_domain=tuple(labels),
        prediction_domain=tuple(predictions),
        task=task,
        notes=(
            f"an external source on {source.engine_version}: its rows stay where they live; "
            "analyses count there",
        ),
    )


# -- analyses --------------------------------------------------------------------------------------


def find_source(db: Database, log: PredictionLog) -> LogSource | None:
    """The external source a log stands for, or None for an imported log."""
    with db.transaction(write=False) as uow:
        return uow.sources.find(log.id)


def get_source(db: Database, log_id: int) -> LogSource:
    with db.transaction(write=False) as uow:
        log = uow.logs.get(log_id)
        source = uow.sources.find(log.id)
    if source is None:
        raise InputError(f"log {log_id} is an imported log, not an external source")
    return source


def group_counts(
    log: PredictionLog, sensitive: Sequence[str], scores: str | None
) -> Callable[[OpenSource, dict[str, Any], IsCancelled | None], CountQuery]:
    """The GROUP BY of fairness and performance: sensitive x label x prediction (x score)."""

    def fetch(source: OpenSource, facts: dict[str, Any], cancelled: IsCancelled | None) -> CountQuery:
        # the number of distinct scores seen at registration decides exact AUC or a histogram
        distinct = facts.get("columns", {}).get(scores, {}).get("distinct", 0) if scores else 0
        return count_table(
            source,
            keys=list(sensitive),
            outcomes=[log.mapping.label, log.mapping.prediction],
            score=scores,
            exact_scores=distinct <= EXACT_SCORE_LIMIT,
            cancelled=cancelled,
        )

    return fetch


def window_counts(
    log: PredictionLog,
) -> Callable[[OpenSource, dict[str, Any], IsCancelled | None], CountQuery]:
    """The GROUP BY of monitoring: UTC day x prediction."""

    def fetch(source: OpenSource, facts: dict[str, Any], cancelled: IsCancelled | None) -> CountQuery:
        return count_table(
            source, keys=[], outcomes=[log.mapping.prediction], day=log.mapping.timestamp, cancelled=cancelled
        )

    return fetch


@dataclass(frozen=True)
class _Measured:
    """What an analysis of a source produced: its result, and the count table it came from (if any)."""

    result: dict[str, Any]
    sql: str | None = None
    count_table: bytes | None = None
    count_table_rows: int | None = None
    score_resolution: float | None = None


def run_on_source(
    db: Database,
    *,
    kind: str,
    model_version_id: int,
    log: PredictionLog,
    source: LogSource,
    parameters: dict[str, Any],
    engine_version: str,
    counts: Callable[[OpenSource, dict[str, Any], IsCancelled | None], CountQuery],
    compute: Callable[[CountedRows], dict[str, Any]],
    actor: str | None = None,
    cancelled: IsCancelled | None = None,
) -> AnalysisRun:
    """The stored run for the source as it is now, or: fetch the count table, compute, record.

    The run's inputs are the log (the source's description) and the source's current fingerprint; its
    result carries a ``source`` section (engine, SQL, fingerprint, whether the source changed since it
    was registered, the count table's hash) and the count table is stored as evidence with it.
    """

    def measure(live: OpenSource) -> _Measured:
        fetched = counts(live, source.profile, cancelled)
        return _Measured(
            compute(CountedRows(fetched.frame, fetched.score_resolution)),
            fetched.sql,
            _parquet(fetched),
            len(fetched.frame),
            fetched.score_resolution,
        )

    return _run_measured(
        db,
        kind=kind,
        model_version_id=model_version_id,
        log=log,
        source=source,
        parameters=parameters,
        engine_version=engine_version,
        measure=measure,
        actor=actor,
        cancelled=cancelled,
    )


def validate_source(
    db: Database,
    *,
    model_version_id: int,
    log: PredictionLog,
    source: LogSource,
    top: int,
    engine_version: str,
    actor: str | None = None,
) -> AnalysisRun:
    """The ``validation`` run of a source: its registration checks and every mapped column's profile,
    computed by the engine."""

    def measure(live: OpenSource) -> _Measured:
        profile = column_profiles(live, log.mapping, top=top)
        return _Measured(ValidationAnalysis(report=log.validation, profile=profile).to_dict())

    return _run_measured(
        db,
        kind="validation",
        model_version_id=model_version_id,
        log=log,
        source=source,
        parameters={"top_categories": top},
        engine_version=engine_version,
        measure=measure,
        actor=actor,
    )


def _run_measured(
    db: Database,
    *,
    kind: str,
    model_version_id: int,
    log: PredictionLog,
    source: LogSource,
    parameters: dict[str, Any],
    engine_version: str,
    measure: Callable[[OpenSource], _Measured],
    actor: str | None = None,
    cancelled: IsCancelled | None = None,
) -> AnalysisRun:
    with open_source(source.url, table=source.table, query=source.query) as live:
        state = fingerprint(live, log.mapping, cancelled)
        inputs = {"log": log.evidence_sha256, "source_state": canonical_hash(state)}
        with db.transaction(write=False) as uow:
            found = uow.analysis_runs.find(
                kind, model_version_id, inputs, parameters, engine_version=engine_version
            )
        if found is not None:
            return found
        measured = measure(live)
        live_version = live.engine_version
    changed = state != source.fingerprint
    result = measured.result
    result["source"] = {
        "url": source.url,
        "table": source.table,
        "query": source.query,
        "engine": source.engine,
        "engine_version": live_version,
        "sql": measured.sql,
        "fingerprint": state,
        "changed_since_registration": changed,
        "change_note": _change_note(source, state) if changed else None,
        "count_table_sha256": None if measured.count_table is None else sha256_hex(measured.count_table),
        "count_table_rows": measured.count_table_rows,
        "score_resolution": measured.score_resolution,
    }
    with db.transaction() as uow:
        existing = uow.analysis_runs.find(
            kind, model_version_id, inputs, parameters, engine_version=engine_version
        )
        if existing is not None:
            return existing
        if measured.count_table is not None:
            uow.evidence.put_bytes(measured.count_table, media_type=PARQUET_MEDIA_TYPE)
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
                "external_source": {"url": source.url, "engine": source.engine, "changed": changed},
            },
        )
    return run


def _change_note(source: LogSource, state: dict[str, Any]) -> str:
    before = source.fingerprint
    if "table_version" in state and "table_version" in before:
        table = str(state.get("format", "")).capitalize()
        how = f"{table} table version {before['table_version']} then, {state['table_version']} now"
        if state.get("table_id") != before.get("table_id"):
            how = f"a different {table} table at the same place ({how})"
    elif "parquet_footers_sha256" in state:
        how = "its Parquet files' footers differ"
    else:
        how = "its row count or column aggregates differ"
    if state.get("rows") != before.get("rows"):
        how += f"; {before.get('rows', 0):,} rows then, {state.get('rows', 0):,} now"
    return SOURCE_CHANGED.format(source=source.described, how=how)


def _parquet(fetched: CountQuery) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(fetched.frame, preserve_index=False), sink, compression="zstd")
    return sink.getvalue()


# -- drift -----------------------------------------------------------------------------------------


def source_state(source: LogSource, log: PredictionLog, cancelled: IsCancelled | None = None) -> str:
    """The hash of the source's fingerprint now: what keys a run that read it."""
    with open_source(source.url, table=source.table, query=source.query) as live:
        return canonical_hash(fingerprint(live, log.mapping, cancelled))


def counted_columns(
    source: LogSource, log: PredictionLog, columns: Sequence[str], cancelled: IsCancelled | None = None
) -> dict[str, ValueCounts]:
    """Each column of the source as value counts (a GROUP BY per column), for drift. Scores with more
    distinct values than ``EXACT_SCORE_LIMIT`` come in 0.001-wide bins, which drift's quantile bins and
    statistics then see at that resolution; drift states the bound that puts on each statistic."""
    facts = source.profile.get("columns", {})
    binned = [c for c in columns if facts.get(c, {}).get("distinct", 0) > EXACT_SCORE_LIMIT]
    with open_source(source.url, table=source.table, query=source.query) as live:
        frames = value_counts(live, columns, histogram=binned, cancelled=cancelled)
    return {
        column: ValueCounts(
            frame[column].rename(column),
            frame[ROWS].to_numpy(dtype="int64"),
            1 / HISTOGRAM_BINS if column in binned else None,
        )
        for column, frame in frames.items()
    }


# -- the analysis spine's entry for a request that reads a source ----------------------------------


def run_request(
    db: Database,
    request: AnalysisRequest,
    placed: Mapping[str, LogSource | None],
    *,
    engine: str,
    actor: str | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: IsCancelled | None = None,
) -> AnalysisRun:
    """``services.analyses.run`` for a request one of whose logs stays where it lives.

    Fairness, performance and monitoring read one GROUP BY; validation profiles in the engine; drift
    reads each column's value counts from whichever side is a source (an imported side is read as
    rows) and is keyed by each source's state. Row-level kinds (SHAP) are refused with the reason."""
    kind = analysis_kind(request.kind)
    log = request.subject
    if kind.computation is None:
        source = next(s for s in placed.values() if s is not None)
        raise refuse_rows(log, source)
    compute = computation_of(kind)
    if isinstance(request, DriftRequest):
        return _run_drift(db, request, placed, engine, actor, progress, cancelled)
    source = placed["log"]
    assert source is not None
    if isinstance(request, ValidationRequest):
        return validate_source(
            db,
            model_version_id=request.model_version_id,
            log=log,
            source=source,
            top=request.top_categories,
            engine_version=engine,
            actor=actor,
        )
    if isinstance(request, MonitoringRequest):
        counts = window_counts(log)
    elif isinstance(request, (FairnessRequest, PerformanceRequest)):
        counts = group_counts(log, request.attributes, request.scores)
    else:
        raise refuse_rows(log, source)
    return run_on_source(
        db,
        kind=kind.name,
        model_version_id=request.model_version_id,
        log=log,
        source=source,
        parameters=request.parameters(),
        engine_version=engine,
        counts=counts,
        compute=lambda counted: compute(
            request, {"log": counted}, progress=progress, cancelled=cancelled
        ).to_dict(),
        actor=actor,
        cancelled=cancelled,
    )


def _run_drift(
    db: Database,
    request: DriftRequest,
    placed: Mapping[str, LogSource | None],
    engine: str,
    actor: str | None,
    progress: Callable[[float], None] | None,
    cancelled: IsCancelled | None,
) -> AnalysisRun:
    logs = request.logs()
    states = {
        f"{role.removesuffix('_log')}_state": source_state(source, logs[role], cancelled)
        for role, source in placed.items()
        if source is not None
    }
    inputs = {**request.inputs(), **states}

    def read_frames() -> dict[str, Any]:
        return {
            role: load_frame(db, log)
            if placed.get(role) is None
            else counted_columns(placed[role], log, request.compared, cancelled)
            for role, log in logs.items()
        }

    return computed_once(
        db, request, inputs, engine, read_frames, actor=actor, progress=progress, cancelled=cancelled
    )
