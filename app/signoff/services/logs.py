"""Importing prediction logs as evidence, and reading them back.

``import_log`` validates and canonicalises the file in a temporary folder first (no transaction
open, however long that takes), then stores the canonical Parquet, the quarantine file, the log row
and its audit event in one transaction: an import lands whole or not at all. Importing the same file
with the same mapping and options for the same model version and role returns the stored log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas

from signoff import __version__
from signoff.domain.errors import InputError
from signoff.domain.evidence import PARQUET_MEDIA_TYPE
from signoff.domain.log_source import refuse_rows
from signoff.domain.prediction_log import ColumnMapping, LogImport, LogReadOptions, LogRole, PredictionLog
from signoff.domain.registry import ModelVersion

# Reading a file as the import will, for a preview or a proposed mapping before anything is stored: the
# front ends take these from here, never from the importers (an import-linter contract).
from signoff.importers.column_guess import MappingProposal, guess_mapping, propose_mapping  # noqa: F401
from signoff.importers.log_formats import PREVIEW_ROWS, preview_log  # noqa: F401
from signoff.importers.prediction_log import (
    CanonicalLog,
    canonicalise_log,
    read_canonical_log,
)
from signoff.services.identity import actor_or_login
from signoff.services.models import get_model_version
from signoff.services.sources import find_source
from signoff.services.work_folders import work_folder
from signoff.storage import Database

IMPORTER = f"signoff.importers.prediction_log {__version__}"
READING, STORING = "reading", "storing"

# (stage, done, total): stage is READING (bytes of the source file) or STORING (bytes of evidence).
ImportProgress = Callable[[str, int, int], None]


def import_log(
    db: Database,
    path: Path,
    *,
    model: str,
    version: str,
    mapping: ColumnMapping,
    role: LogRole = LogRole.VALIDATION,
    options: LogReadOptions | None = None,
    actor: str | None = None,
    progress: ImportProgress | None = None,
) -> LogImport:
    """Validate, canonicalise and store the log at ``path`` for a registered model version.

    Raises ``NotFoundError`` for an unknown model version, ``InputError`` for a file that cannot be
    read as a log, and ``LogRejectedError`` (with its report) for invalid rows in strict mode; in
    each case the database is unchanged.
    """
    path = Path(path)
    options = options or LogReadOptions()
    model_version = get_model_version(db, model, version)
    read_options = dataclasses.asdict(options)
    if not options.merge_spellings:
        del read_options["merge_spellings"]  # as before the option existed: same settings, same log
    with work_folder("import") as work_dir:
        canonical = canonicalise_log(
            path,
            mapping,
            work_dir=Path(work_dir),
            options=options,
            progress=None if progress is None else lambda done, total: progress(READING, done, total),
        )
        # The mapping as applied, with what the importer decided (the timestamp format): on record.
        mapping = canonical.mapping or mapping
        with db.transaction() as uow:
            existing = uow.logs.find_same_import(
                model_version_id=model_version.id,
                role=role,
                source_sha256=canonical.source_sha256,
                mapping=mapping,
                read_options=read_options,
            )
            if existing is not None:
                return LogImport(existing, created=False)
            store_progress = _StoringProgress(canonical, progress)
            evidence_sha256 = uow.evidence.put_file(
                canonical.parquet_path,
                media_type=PARQUET_MEDIA_TYPE,
                expected_sha256=canonical.sha256,
                progress=store_progress.main,
            )
            quarantine_sha256 = None
            if canonical.quarantine_path is not None:
                quarantine_sha256 = uow.evidence.put_file(
                    canonical.quarantine_path,
                    media_type=PARQUET_MEDIA_TYPE,
                    expected_sha256=canonical.quarantine_sha256,
                    progress=store_progress.quarantine,
                )
            imported_by = actor_or_login(actor)
            log = uow.logs.add(
                model_version_id=model_version.id,
                role=role,
                source_name=canonical.source_name,
                source_sha256=canonical.source_sha256,
                evidence_sha256=evidence_sha256,
                quarantine_sha256=quarantine_sha256,
                rows=canonical.rows,
                mapping=mapping,
                validation=canonical.validation,
                read_options=read_options,
                period_start=canonical.period_start,
                period_end=canonical.period_end,
                importer=IMPORTER,
                imported_by=imported_by,
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
                    # A link is followed: record the file that was actually read.
                    "source_path": str(Path(path).resolve()),
                    "source_sha256": log.source_sha256,
                    "evidence_sha256": log.evidence_sha256,
                    "quarantine_sha256": log.quarantine_sha256,
                    "rows": log.rows,
                    "rows_read": log.validation.rows_read,
                    "rows_quarantined": log.validation.rows_quarantined,
                    "mapping": mapping.to_dict(),
                    "read_options": read_options,
                    "importer": IMPORTER,
                },
            )
    return LogImport(log, created=True)


class _StoringProgress:
    """One STORING bar over the canonical Parquet and the quarantine file together."""

    def __init__(self, canonical: CanonicalLog, progress: ImportProgress | None) -> None:
        self._progress = progress
        self._main_size = canonical.parquet_path.stat().st_size
        quarantine = canonical.quarantine_path
        self._total = self._main_size + (quarantine.stat().st_size if quarantine is not None else 0)

    def main(self, done: int, _total: int) -> None:
        if self._progress is not None:
            self._progress(STORING, done, self._total)

    def quarantine(self, done: int, _total: int) -> None:
        if self._progress is not None:
            self._progress(STORING, self._main_size + done, self._total)


def list_logs(db: Database, *, model: str | None = None, version: str | None = None) -> list[PredictionLog]:
    """Logs in import order; with ``model`` and ``version``, only that model version's."""
    model_version_id = None
    if model is not None or version is not None:
        if model is None or version is None:
            raise InputError("name both the model and its version, or neither")
        model_version_id = get_model_version(db, model, version).id
    with db.transaction(write=False) as uow:
        return uow.logs.list(model_version_id=model_version_id)


def get_log(db: Database, log_id: int) -> PredictionLog:
    with db.transaction(write=False) as uow:
        return uow.logs.get(log_id)


def get_log_with_model(db: Database, log_id: int) -> tuple[PredictionLog, ModelVersion]:
    with db.transaction(write=False) as uow:
        log = uow.logs.get(log_id)
        return log, uow.models.get(log.model_version_id)


def load_log_frame(db: Database, log_id: int) -> pandas.DataFrame:
    """The log's canonical rows as a DataFrame, read from the evidence store (hash verified)."""
    log = get_log(db, log_id)
    source = find_source(db, log)
    if source is not None:  # an external source keeps its rows where they live
        raise refuse_rows(log, source)
    with work_folder("log") as folder:
        target = Path(folder) / "log.parquet"
        with db.transaction(write=False) as uow:
            uow.evidence.write_to(log.evidence_sha256, target)
        return read_canonical_log(target)
