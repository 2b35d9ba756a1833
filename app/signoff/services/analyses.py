"""Running an analysis: a request in, a recorded run out, computed at most once.

``run(db, request)`` takes the model version from the request's log, builds the cache key (kind,
model version, input hashes, parameters, engine version) from the request, and returns a stored run
of the same key before reading a single row. Otherwise it loads only the columns the request needs
(``load_frames``: Parquet column projection), computes with no transaction open and records the run
with its audit event. ``latest_runs`` is how the report, the policy check and the review bundle find
the newest run of each kind. The kinds themselves are listed in ``domain/analysis_kinds.py``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from signoff import __version__
from signoff.domain.analysis_kinds import AnalysisKind, analysis_kind
from signoff.domain.analysis_requests import AnalysisRequest
from signoff.domain.analysis_run import AnalysisRun
from signoff.domain.analysis_run import latest_runs as choose_latest
from signoff.domain.errors import InputError
from signoff.domain.log_source import refuse_rows
from signoff.domain.prediction_log import PredictionLog
from signoff.services.analysis_runs import find_analysis, record_analysis
from signoff.storage import Database

if TYPE_CHECKING:
    import pandas

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]


def engine_version(kind: AnalysisKind) -> str:
    """What computed a run of ``kind``: Signoff's version and that of each package it relies on."""
    parts = [f"{kind.engine} {__version__}"]
    if kind.engine_packages:
        import importlib.metadata  # 20 ms of start-up, for the kinds whose packages are named

        parts += [f"{package} {importlib.metadata.version(package)}" for package in kind.engine_packages]
    return "; ".join(parts)


def log_of_version(db: Database, log_id: int, model_version_id: int, what: str = "") -> PredictionLog:
    """Log ``log_id``, which must belong to the model version (else an error naming both)."""
    with db.transaction(write=False) as uow:
        log = uow.logs.get(log_id)
    if log.model_version_id != model_version_id:
        role = f" ({what})" if what else ""
        raise InputError(
            f"log {log_id}{role} belongs to another model version; list this version's logs and pick one of them"
        )
    return log


def version_log(db: Database, name: str, version: str, log_id: int, what: str = "") -> PredictionLog:
    """Log ``log_id`` of model ``name`` ``version``: what a front end that names both hands a request."""
    from signoff.services.models import get_model_version

    return log_of_version(db, log_id, get_model_version(db, name, version).id, what)


def load_frame(
    db: Database, log: PredictionLog, columns: Sequence[str] | None = None, *, arrow: bool = False
) -> pandas.DataFrame:
    """A stored log's rows (hash verified), only ``columns`` when given (Parquet column projection);
    with ``arrow``, as an Arrow table (pandas not imported)."""
    from signoff.importers.canonical_table import read_canonical_table  # pyarrow: only now

    with db.transaction(write=False) as uow:
        source = uow.sources.find(log.id)
        if source is not None:  # an external source keeps its rows where they live
            raise refuse_rows(log, source)
        data = uow.evidence.read_bytes(log.evidence_sha256)
    table = read_canonical_table(data, columns=columns)
    return table if arrow else table.to_pandas()


def load_frames(
    db: Database, request: AnalysisRequest, *, arrow: bool = False
) -> dict[str, pandas.DataFrame]:
    """The rows each log role of ``request`` reads, only the columns it needs (as Arrow tables with
    ``arrow``: what a kind that ``reads_arrow`` computes from)."""
    needed = request.columns()
    return {role: load_frame(db, log, needed.get(role), arrow=arrow) for role, log in request.logs().items()}


def computation_of(kind: AnalysisKind) -> Callable[..., Any]:
    if kind.computation is None:
        raise InputError(f"a {kind.name} analysis is run through its own use case, not this one")
    module, _, function = kind.computation.partition(":")
    return getattr(importlib.import_module(module), function)


def stored_run(db: Database, request: AnalysisRequest) -> AnalysisRun | None:
    """The recorded run of exactly this request, if any (nothing is read or computed)."""
    kind = analysis_kind(request.kind)
    return find_analysis(
        db,
        kind=kind.name,
        model_version_id=request.model_version_id,
        inputs=request.inputs(),
        parameters=request.parameters(),
        engine_version=engine_version(kind),
    )


def run(
    db: Database,
    request: AnalysisRequest,
    *,
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> AnalysisRun:
    """The stored run of ``request``, or the analysis computed now and recorded (with its audit event)."""
    kind = analysis_kind(request.kind)
    inputs, engine = request.inputs(), engine_version(kind)
    with db.transaction(write=False) as uow:
        placed = {role: uow.sources.find(log.id) for role, log in request.logs().items()}
    if any(placed.values()):  # a log that stays where it lives: its engine counts, keyed by its state
        from signoff.services.sources import run_request  # the engines' clients: only now

        return run_request(
            db, request, placed, engine=engine, actor=actor, progress=progress, cancelled=cancelled
        )
    return computed_once(
        db,
        request,
        inputs,
        engine,
        lambda: load_frames(db, request, arrow=kind.reads_arrow),
        actor=actor,
        progress=progress,
        cancelled=cancelled,
    )


def computed_once(
    db: Database,
    request: AnalysisRequest,
    inputs: dict[str, str],
    engine: str,
    read_frames: Callable[[], Mapping[str, Any]],
    *,
    actor: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> AnalysisRun:
    """The run stored under this key, else: read the frames, compute the kind's ``analyze`` and record it.
    ``inputs`` is the request's own, plus what else keys the run (a source's state)."""
    kind = analysis_kind(request.kind)
    parameters = request.parameters()
    key = {"kind": kind.name, "model_version_id": request.model_version_id, "inputs": inputs}
    found = find_analysis(db, **key, parameters=parameters, engine_version=engine)
    if found is not None:
        return found
    result = computation_of(kind)(request, read_frames(), progress=progress, cancelled=cancelled)
    return record_analysis(
        db, **key, parameters=parameters, engine_version=engine, result=result.to_dict(), actor=actor
    )


def latest_runs(
    db: Database,
    *,
    model_version_id: int,
    kinds: Collection[str] | None = None,
    reading: Collection[str] | None = None,
    not_reading: Collection[str] = (),
) -> list[AnalysisRun]:
    """The newest run of each kind and inputs of a model version (``domain.analysis_run.latest_runs``)."""
    with db.transaction(write=False) as uow:
        runs = uow.analysis_runs.list(model_version_id=model_version_id)
    return choose_latest(runs, kinds=kinds, reading=reading, not_reading=not_reading)
