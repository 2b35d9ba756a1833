"""Repositories: model versions, prediction logs, analysis runs and log sources, handed upward as domain objects.

Each repository works inside one unit of work (``Database.transaction``) and returns frozen domain
objects, never ORM rows, so nothing above ``storage/`` can lazily load or modify a row by accident.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from signoff.domain.analysis_run import AnalysisRun, request_hash
from signoff.domain.canonical import canonical_hash
from signoff.domain.errors import InputError, NotFoundError
from signoff.domain.log_source import LogSource
from signoff.domain.prediction_log import ColumnMapping, LogRole, PredictionLog, ValidationReport
from signoff.domain.registry import ModelVersion
from signoff.storage.schema import (
    AnalysisRunRow,
    LogSourceRow,
    ModelVersionRow,
    PredictionLogRow,
)


class ModelVersionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        *,
        name: str,
        version: str,
        description: str = "",
        source: str = "manual",
        attributes: dict[str, Any] | None = None,
    ) -> ModelVersion:
        if self.find(name, version) is not None:
            raise InputError(f"model {name!r} version {version!r} already exists")
        row = ModelVersionRow(
            name=name,
            version=version,
            description=description,
            source=source,
            created_at=datetime.now(UTC),
            attributes=attributes or {},
        )
        self._session.add(row)
        self._session.flush()
        return _model_version(row)

    def get(self, model_version_id: int) -> ModelVersion:
        row = self._session.get(ModelVersionRow, model_version_id)
        if row is None:
            raise NotFoundError(f"there is no model version with id {model_version_id}")
        return _model_version(row)

    def find(self, name: str, version: str) -> ModelVersion | None:
        row = self._session.scalars(
            select(ModelVersionRow).where(ModelVersionRow.name == name, ModelVersionRow.version == version)
        ).first()
        return None if row is None else _model_version(row)

    def list(self, *, name: str | None = None) -> list[ModelVersion]:
        statement = select(ModelVersionRow).order_by(ModelVersionRow.name, ModelVersionRow.id)
        if name is not None:
            statement = statement.where(ModelVersionRow.name == name)
        return [_model_version(row) for row in self._session.scalars(statement)]


def _model_version(row: ModelVersionRow) -> ModelVersion:
    return ModelVersion(
        id=row.id,
        name=row.name,
        version=row.version,
        description=row.description,
        source=row.source,
        created_at=row.created_at,
        attributes=dict(row.attributes),
    )


class PredictionLogRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        *,
        model_version_id: int,
        role: LogRole,
        source_name: str,
        source_sha256: str,
        evidence_sha256: str,
        quarantine_sha256: str | None,
        rows: int,
        mapping: ColumnMapping,
        validation: ValidationReport,
        read_options: dict[str, Any],
        period_start: datetime | None,
        period_end: datetime | None,
        importer: str,
        imported_by: str,
    ) -> PredictionLog:
        settings = _settings(mapping, read_options)
        row = PredictionLogRow(
            model_version_id=model_version_id,
            role=str(role),
            source_name=source_name,
            source_sha256=source_sha256,
            settings_sha256=canonical_hash(settings),
            settings=settings,
            evidence_sha256=evidence_sha256,
            quarantine_sha256=quarantine_sha256,
            rows=rows,
            mapping=mapping.to_dict(),
            validation=validation.to_dict(),
            period_start=period_start,
            period_end=period_end,
            importer=importer,
            imported_at=datetime.now(UTC),
            imported_by=imported_by,
            attributes={},
        )
        self._session.add(row)
        self._session.flush()
        return _prediction_log(row)

    def find_same_import(
        self,
        *,
        model_version_id: int,
        role: LogRole,
        source_sha256: str,
        mapping: ColumnMapping,
        read_options: dict[str, Any],
    ) -> PredictionLog | None:
        """The log stored by an earlier import of the same file, the same way, for the same purpose."""
        row = self._session.scalars(
            select(PredictionLogRow).where(
                PredictionLogRow.model_version_id == model_version_id,
                PredictionLogRow.role == str(role),
                PredictionLogRow.source_sha256 == source_sha256,
                PredictionLogRow.settings_sha256 == canonical_hash(_settings(mapping, read_options)),
            )
        ).first()
        return None if row is None else _prediction_log(row)

    def get(self, log_id: int) -> PredictionLog:
        row = self._session.get(PredictionLogRow, log_id)
        if row is None:
            raise NotFoundError(f"there is no prediction log with id {log_id}")
        return _prediction_log(row)

    def list(self, *, model_version_id: int | None = None) -> list[PredictionLog]:
        statement = select(PredictionLogRow).order_by(PredictionLogRow.id)
        if model_version_id is not None:
            statement = statement.where(PredictionLogRow.model_version_id == model_version_id)
        return [_prediction_log(row) for row in self._session.scalars(statement)]


def _settings(mapping: ColumnMapping, read_options: dict[str, Any]) -> dict[str, Any]:
    return {"mapping": mapping.to_dict(), "read_options": read_options}


def _prediction_log(row: PredictionLogRow) -> PredictionLog:
    return PredictionLog(
        id=row.id,
        model_version_id=row.model_version_id,
        role=LogRole(row.role),
        source_name=row.source_name,
        source_sha256=row.source_sha256,
        evidence_sha256=row.evidence_sha256,
        rows=row.rows,
        mapping=ColumnMapping.from_dict(row.mapping),
        validation=ValidationReport.from_dict(row.validation),
        quarantine_sha256=row.quarantine_sha256,
        period_start=row.period_start,
        period_end=row.period_end,
        imported_at=row.imported_at,
        imported_by=row.imported_by,
        importer=row.importer,
        read_options=dict(row.settings["read_options"]),
        attributes=dict(row.attributes),
    )


class AnalysisRunRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        *,
        kind: str,
        model_version_id: int | None,
        inputs: dict[str, str],
        parameters: dict[str, Any],
        engine_version: str,
        result: dict[str, Any],
        created_by: str,
    ) -> AnalysisRun:
        row = AnalysisRunRow(
            kind=kind,
            model_version_id=model_version_id,
            request_sha256=request_hash(
                kind=kind,
                model_version_id=model_version_id,
                inputs=inputs,
                parameters=parameters,
                engine_version=engine_version,
            ),
            inputs=inputs,
            parameters=parameters,
            engine_version=engine_version,
            result=result,
            result_sha256=canonical_hash(result),
            created_at=datetime.now(UTC),
            created_by=created_by,
        )
        self._session.add(row)
        self._session.flush()
        return _analysis_run(row)

    def find(
        self,
        kind: str,
        model_version_id: int | None,
        inputs: dict[str, str],
        parameters: dict[str, Any],
        *,
        engine_version: str | None = None,
    ) -> AnalysisRun | None:
        """The stored run of this request; without ``engine_version``, the newest from any engine."""
        if engine_version is not None:
            statement = select(AnalysisRunRow).where(
                AnalysisRunRow.request_sha256
                == request_hash(
                    kind=kind,
                    model_version_id=model_version_id,
                    inputs=inputs,
                    parameters=parameters,
                    engine_version=engine_version,
                )
            )
        else:
            # Inputs and parameters are stored as canonical JSON text, so equal values compare equal.
            statement = (
                select(AnalysisRunRow)
                .where(
                    AnalysisRunRow.kind == kind,
                    AnalysisRunRow.model_version_id.is_(None)
                    if model_version_id is None
                    else AnalysisRunRow.model_version_id == model_version_id,
                    AnalysisRunRow.inputs == inputs,
                    AnalysisRunRow.parameters == parameters,
                )
                .order_by(AnalysisRunRow.id.desc())
            )
        row = self._session.scalars(statement).first()
        return None if row is None else _analysis_run(row)

    def get(self, run_id: int) -> AnalysisRun:
        row = self._session.get(AnalysisRunRow, run_id)
        if row is None:
            raise NotFoundError(f"there is no analysis run with id {run_id}")
        return _analysis_run(row)

    def list(self, *, kind: str | None = None, model_version_id: int | None = None) -> list[AnalysisRun]:
        statement = select(AnalysisRunRow).order_by(AnalysisRunRow.id)
        if kind is not None:
            statement = statement.where(AnalysisRunRow.kind == kind)
        if model_version_id is not None:
            statement = statement.where(AnalysisRunRow.model_version_id == model_version_id)
        return [_analysis_run(row) for row in self._session.scalars(statement)]

    def ids(self) -> list[int]:
        return list(self._session.scalars(select(AnalysisRunRow.id).order_by(AnalysisRunRow.id)))

    def iter_all(self) -> Iterator[AnalysisRun]:
        """Every run in id order, streamed (results can be large)."""
        statement = select(AnalysisRunRow).order_by(AnalysisRunRow.id).execution_options(yield_per=50)
        for row in self._session.scalars(statement):
            yield _analysis_run(row)

    def latest(
        self, *, kind: str, model_version_id: int, reading: Collection[str] | None = None
    ) -> AnalysisRun | None:
        """The newest run of ``kind``; with ``reading``, the newest whose inputs include one of those hashes.

        Only ids and inputs are read, newest first, until one matches; results (the large column) only
        for that one run.
        """
        statement = (
            select(AnalysisRunRow.id, AnalysisRunRow.inputs)
            .where(AnalysisRunRow.kind == kind, AnalysisRunRow.model_version_id == model_version_id)
            .order_by(AnalysisRunRow.id.desc())
        )
        wanted = None if reading is None else set(reading)
        for run_id, inputs in self._session.execute(statement):
            if wanted is None or wanted & set(inputs.values()):
                return self.get(run_id)
        return None


def _analysis_run(row: AnalysisRunRow) -> AnalysisRun:
    return AnalysisRun(
        id=row.id,
        kind=row.kind,
        model_version_id=row.model_version_id,
        inputs=dict(row.inputs),
        parameters=row.parameters,
        engine_version=row.engine_version,
        result=row.result,
        result_sha256=row.result_sha256,
        created_at=row.created_at,
        created_by=row.created_by,
    )


class LogSourceRepository:
    """Where external logs live; a log without a row here is an imported one."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, source: LogSource) -> LogSource:
        self._session.add(
            LogSourceRow(
                log_id=source.log_id,
                engine=source.engine,
                url=source.url,
                table_name=source.table,
                query=source.query,
                engine_version=source.engine_version,
                fingerprint=source.fingerprint,
                columns=source.schema,
                profile=source.profile,
            )
        )
        self._session.flush()
        return source

    def find(self, log_id: int) -> LogSource | None:
        row = self._session.get(LogSourceRow, log_id)
        if row is None:
            return None
        return LogSource(
            log_id=row.log_id,
            engine=row.engine,
            url=row.url,
            table=row.table_name,
            query=row.query,
            engine_version=row.engine_version,
            fingerprint=dict(row.fingerprint),
            schema=dict(row.columns),
            profile=dict(row.profile),
        )
