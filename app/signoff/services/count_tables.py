"""The count tables behind a report's numbers, gathered when the report is exported.

Each cited run whose numbers are functions of count tables (``COUNTED_KINDS``) is counted again from
its log's stored rows, or from the count table an external source's run stored as evidence, into the
tables its analysis derives every number from, with its parameters (seed, resamples, reference ...).
The report carries them as ``count-tables.json``; ``services/report_numbers.py`` derives the numbers
from them again when the report is verified, with neither the log nor the database.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from signoff.analysis import drift, fairness, monitoring, performance, profiles
from signoff.analysis.counted import CountedRows
from signoff.domain.analysis_requests import (
    AnalysisRequest,
    DriftRequest,
    FairnessRequest,
    MonitoringRequest,
    PerformanceRequest,
    ValidationRequest,
)
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.canonical import canonical_json
from signoff.domain.drift import DriftThresholds
from signoff.domain.prediction_log import PredictionLog
from signoff.reporting.archive import Attachment
from signoff.reporting.file_names import COUNT_TABLES_NAME, COUNT_TABLES_SCHEMA
from signoff.services.analyses import load_frames
from signoff.services.compare import comparison_counts
from signoff.storage import Database

# How a run reads its logs: (database, the run, the stored logs by hash) -> tables with ``to_dict``.
Counting = Callable[[Database, AnalysisRun, Mapping[str, PredictionLog]], Any]


def _by_request(request_type: type[AnalysisRequest], count: Callable[..., Any]) -> Counting:
    """A kind with a request type: the run's request rebuilt from its parameters, its log counted."""

    def counting(db: Database, run: AnalysisRun, logs: Mapping[str, PredictionLog]) -> Any:
        log = logs[run.inputs["log"]]
        request = request_type.from_parameters(log, run.parameters)  # type: ignore[attr-defined]
        return count(request, _frames(db, run, request))

    return counting


def _comparison(db: Database, run: AnalysisRun, logs: Mapping[str, PredictionLog]) -> Any:
    """A comparison reads one log (both versions' columns) or the champion's and the challenger's."""
    read = ("log",) if "log" in run.inputs else ("champion_log", "challenger_log")
    return comparison_counts(db, [logs[run.inputs[role]] for role in read], run.parameters)


def _drift(db: Database, run: AnalysisRun, logs: Mapping[str, PredictionLog]) -> Any:
    """Drift reads a reference and a current log: its request rebuilt from the run's parameters."""
    parameters = run.parameters
    request = DriftRequest(
        reference=logs[run.inputs["reference_log"]],
        current=logs[run.inputs["current_log"]],
        drift_columns=tuple(parameters["columns"]),
        categorical=tuple(parameters["categorical"]),
        bins=int(parameters["bins"]),
        thresholds=DriftThresholds.from_dict(parameters["thresholds"]),
    )
    return drift.request_counts(request, _frames(db, run, request))


# kind -> the analysis' counting step for a stored run
COUNTED_KINDS: dict[str, Counting] = {
    "fairness": _by_request(FairnessRequest, fairness.request_counts),
    "performance": _by_request(PerformanceRequest, performance.request_counts),
    "monitoring": _by_request(MonitoringRequest, monitoring.request_counts),
    "compare": _comparison,
    "validation": _by_request(ValidationRequest, profiles.request_counts),
    "drift": _drift,
}


class _NotCounted(Exception):
    """A run whose numbers an engine computed where the data lives, from no count table it stored."""


def count_tables(db: Database, runs: Sequence[AnalysisRun]) -> dict[str, Any]:
    """Every counted run's tables, by run id, and the cited runs of other kinds (not counted)."""
    with db.transaction(write=False) as uow:
        logs = {log.evidence_sha256: log for log in uow.logs.list()}
    counted = []
    not_counted = []
    for run in sorted(runs, key=lambda r: r.id):
        if run.kind not in COUNTED_KINDS:
            not_counted.append({"run_id": run.id, "kind": run.kind, "reason": "not computed from counts"})
            continue
        try:
            tables = COUNTED_KINDS[run.kind](db, run, logs)
        except _NotCounted:
            reason = "computed by the engine where the data lives, which kept no count table"
            not_counted.append({"run_id": run.id, "kind": run.kind, "reason": reason})
            continue
        counted.append(
            {
                "run_id": run.id,
                "kind": run.kind,
                "result_sha256": run.result_sha256,
                "tables": tables.to_dict(),
            }
        )
    return {"schema": COUNT_TABLES_SCHEMA, "runs": counted, "not_counted": not_counted}


def count_tables_attachment(db: Database, runs: Sequence[AnalysisRun]) -> Attachment:
    return Attachment(
        COUNT_TABLES_NAME,
        canonical_json(count_tables(db, runs)),
        "application/json",
        "the count tables and parameters every printed number of the cited analyses is derived from "
        "(canonical JSON)",
    )


def _frames(db: Database, run: AnalysisRun, request: AnalysisRequest) -> Mapping[str, Any]:
    """The run's rows, or for a run of an external source the count table it stored as evidence."""
    source = run.result.get("source")
    if isinstance(source, Mapping) and source.get("count_table_sha256"):
        import pyarrow.parquet as pq  # only for a source's run: the rows of an imported log come as pandas

        with db.transaction(write=False) as uow:
            data = uow.evidence.read_bytes(str(source["count_table_sha256"]))
        frame = pq.read_table(io.BytesIO(data)).to_pandas()
        return {"log": CountedRows(frame, source.get("score_resolution"))}
    with db.transaction(write=False) as uow:
        # computed by the engine where the data lives (a profile, value counts): no rows to read again
        if any(uow.sources.find(log.id) is not None for log in request.logs().values()):
            raise _NotCounted(run.id)
    return load_frames(db, request)
