"""Prediction logs: what a model predicted, for whom, and how a file's columns map onto that.

A log is evidence: once imported it is stored as canonical Parquet by its SHA-256 and never changes.
The ``ColumnMapping`` says which column plays which role; the ``ValidationReport`` says what was
checked on import and which rows, if any, were quarantined and why.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from signoff.domain.audit import format_utc
from signoff.domain.errors import InputError


class LogRole(enum.StrEnum):
    REFERENCE = "reference"
    VALIDATION = "validation"
    PRODUCTION = "production"


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column plays which role. ``label`` and ``prediction`` are required."""

    label: str
    prediction: str
    scores: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    id: str | None = None
    timestamp: str | None = None
    # SHAP values a team's pipeline computed: (feature, column holding that feature's SHAP value) pairs,
    # and the column holding each row's base value. They let a model without a usable artifact be explained.
    shap: tuple[tuple[str, str], ...] = ()
    shap_base: str | None = None

    def __post_init__(self) -> None:
        if self.shap and self.shap_base is None:
            raise InputError("SHAP value columns need the column of SHAP base values too")
        if self.shap_base is not None and not self.shap:
            raise InputError("a SHAP base-value column was given without any SHAP value columns")

    def mapped_columns(self) -> tuple[str, ...]:
        """Every mapped column once, in a stable order (the order of the canonical Parquet)."""
        ordered: list[str] = []
        for col in (
            self.id,
            self.timestamp,
            self.label,
            self.prediction,
            *self.scores,
            *self.sensitive,
            *self.features,
            *(column for _feature, column in self.shap),
            self.shap_base,
        ):
            if col is not None and col not in ordered:
                ordered.append(col)
        return tuple(ordered)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "label": self.label,
            "prediction": self.prediction,
            "scores": list(self.scores),
            "sensitive": list(self.sensitive),
            "features": list(self.features),
            "id": self.id,
            "timestamp": self.timestamp,
        }
        if self.shap:  # absent otherwise, so mappings stored before SHAP columns existed compare equal
            data["shap"] = {feature: column for feature, column in self.shap}
            data["shap_base"] = self.shap_base
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnMapping:
        return cls(
            label=data["label"],
            prediction=data["prediction"],
            scores=tuple(data.get("scores", ())),
            sensitive=tuple(data.get("sensitive", ())),
            features=tuple(data.get("features", ())),
            id=data.get("id"),
            timestamp=data.get("timestamp"),
            shap=tuple((data.get("shap") or {}).items()),
            shap_base=data.get("shap_base"),
        )


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in a log: which check, which column, how many rows, the first few rows."""

    check: str  # e.g. "missing", "invalid_number", "label_domain", "score_range", "duplicate_id"
    column: str | None
    count: int
    rows: tuple[int, ...]  # 1-based data row numbers (header excluded), at most the first 20
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "column": self.column,
            "count": self.count,
            "rows": list(self.rows),
            "message": self.message,
        }


@dataclass(frozen=True)
class ValidationReport:
    rows_read: int
    rows_kept: int
    issues: tuple[ValidationIssue, ...] = ()
    label_domain: tuple[str, ...] = ()
    prediction_domain: tuple[str, ...] = ()
    task: str = "binary"  # "binary", "multiclass", "regression"
    # What the reader decided on its own and the reviewer should know (e.g. "timestamps without a time
    # zone were read as UTC"); never a problem with rows, those are issues.
    notes: tuple[str, ...] = ()

    @property
    def rows_quarantined(self) -> int:
        return self.rows_read - self.rows_kept

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_quarantined": self.rows_quarantined,
            "task": self.task,
            "label_domain": list(self.label_domain),
            "prediction_domain": list(self.prediction_domain),
            "issues": [i.to_dict() for i in self.issues],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        return cls(
            rows_read=data["rows_read"],
            rows_kept=data["rows_kept"],
            task=data.get("task", "binary"),
            label_domain=tuple(data.get("label_domain", ())),
            prediction_domain=tuple(data.get("prediction_domain", ())),
            issues=tuple(
                ValidationIssue(
                    check=i["check"],
                    column=i["column"],
                    count=i["count"],
                    rows=tuple(i["rows"]),
                    message=i["message"],
                )
                for i in data.get("issues", ())
            ),
            notes=tuple(data.get("notes", ())),
        )


class LogRejectedError(InputError):
    """A log with invalid rows, refused in strict mode. ``report`` holds every check that failed."""

    def __init__(
        self,
        message: str,
        *,
        report: ValidationReport,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message, file=file, row=row, column=column)
        self.report = report


@dataclass(frozen=True)
class PredictionLog:
    """A stored log: its evidence hash (of the canonical Parquet) and what it holds."""

    id: int
    model_version_id: int
    role: LogRole
    source_name: str  # the file name it was imported from
    source_sha256: str  # hash of the file as given
    evidence_sha256: str  # hash of the canonical Parquet: the log's identity
    rows: int
    mapping: ColumnMapping
    validation: ValidationReport
    quarantine_sha256: str | None = None  # canonical Parquet of rejected rows with a reason column
    period_start: datetime | None = None
    period_end: datetime | None = None
    imported_at: datetime | None = None
    imported_by: str = ""
    importer: str = ""  # which reader produced the canonical Parquet, with its version
    read_options: dict[str, Any] = field(default_factory=dict)  # encoding, delimiter, quarantine
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model_version_id": self.model_version_id,
            "role": str(self.role),
            "source_name": self.source_name,
            "source_sha256": self.source_sha256,
            "evidence_sha256": self.evidence_sha256,
            "rows": self.rows,
            "mapping": self.mapping.to_dict(),
            "validation": self.validation.to_dict(),
            "quarantine_sha256": self.quarantine_sha256,
            "period_start": _time_text(self.period_start),
            "period_end": _time_text(self.period_end),
            "imported_at": _time_text(self.imported_at),
            "imported_by": self.imported_by,
            "importer": self.importer,
            "read_options": self.read_options,
            "attributes": self.attributes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PredictionLog:
        return cls(
            id=data["id"],
            model_version_id=data["model_version_id"],
            role=LogRole(data["role"]),
            source_name=data["source_name"],
            source_sha256=data["source_sha256"],
            evidence_sha256=data["evidence_sha256"],
            rows=data["rows"],
            mapping=ColumnMapping.from_dict(data["mapping"]),
            validation=ValidationReport.from_dict(data["validation"]),
            quarantine_sha256=data.get("quarantine_sha256"),
            period_start=_parse_time(data.get("period_start")),
            period_end=_parse_time(data.get("period_end")),
            imported_at=_parse_time(data.get("imported_at")),
            imported_by=data.get("imported_by", ""),
            importer=data.get("importer", ""),
            read_options=dict(data.get("read_options", {})),
            attributes=dict(data.get("attributes", {})),
        )


@dataclass(frozen=True)
class LogImport:
    """The outcome of importing a log: the stored log, and whether this import stored it."""

    log: PredictionLog
    created: bool  # False when the same file, mapping, model version and role was imported before

    def to_dict(self) -> dict[str, Any]:
        return {**self.log.to_dict(), "created": self.created}


def _time_text(moment: datetime | None) -> str | None:
    return None if moment is None else format_utc(moment)


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
