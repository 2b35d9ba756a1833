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
from signoff.domain.codec import Record
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
    # How the file is to be read, as stated by the user or decided by the importer; the stored log's
    # mapping always holds the decision, so every interpretation is on record with the evidence.
    timestamp_format: str | None = None  # "ISO 8601", "epoch seconds", "epoch milliseconds" or strftime
    prediction_map: tuple[tuple[str, str], ...] = ()  # (prediction value, the label value it means)
    positive_label: str | None = None  # the favourable label value
    category_map: tuple[tuple[str, str, str], ...] = ()  # (column, value as written, value it becomes)

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
        # The same for the interpretations: absent when there is none.
        if self.timestamp_format is not None:
            data["timestamp_format"] = self.timestamp_format
        if self.prediction_map:
            data["prediction_map"] = {given: meant for given, meant in self.prediction_map}
        if self.positive_label is not None:
            data["positive_label"] = self.positive_label
        if self.category_map:
            data["category_map"] = [list(entry) for entry in self.category_map]
        return data

    def interpretations(self) -> list[str]:
        """How the file's values were read, one sentence each, for wherever the log is shown."""
        lines = []
        if self.timestamp is not None and self.timestamp_format is not None:
            lines.append(f"timestamps in {self.timestamp!r} read as {self.timestamp_format}")
        for given, meant in self.prediction_map:
            lines.append(f"prediction {given!r} means label {meant!r}")
        if self.positive_label is not None:
            lines.append(f"the favourable label is {self.positive_label!r}")
        for column, written, becomes in self.category_map:
            lines.append(f"{column}: {written!r} counted as {becomes!r}")
        return lines

    def value_maps(self) -> dict[str, dict[str, str]]:
        """Per column, the values to rewrite before checking: prediction vocabulary and category merges."""
        maps: dict[str, dict[str, str]] = {}
        if self.prediction_map:
            maps[self.prediction] = dict(self.prediction_map)
        for column, written, becomes in self.category_map:
            maps.setdefault(column, {})[written] = becomes
        return maps

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
            timestamp_format=data.get("timestamp_format"),
            prediction_map=tuple((data.get("prediction_map") or {}).items()),
            positive_label=data.get("positive_label"),
            category_map=tuple(tuple(entry) for entry in data.get("category_map", ())),  # type: ignore[misc]
        )


def parse_prediction_map(items: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``["Approved=Repaid", "Declined=Defaulted"]`` -> pairs (prediction value, label value it means)."""
    pairs = []
    for item in items:
        given, sep, meant = item.partition("=")
        if not sep or not given.strip() or not meant.strip():
            raise InputError(
                f"a prediction map entry is PREDICTION=LABEL, e.g. Approved=Repaid; got {item!r}"
            )
        pairs.append((given.strip(), meant.strip()))
    if len({given for given, _meant in pairs}) != len(pairs):
        raise InputError("the prediction map names a prediction value twice")
    return tuple(pairs)


def parse_category_map(items: list[str] | tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    """``["Gender:female=Female"]`` -> (column, value as written, value it becomes). Values are kept
    exactly as written, since surrounding spaces may be the very difference being merged."""
    entries = []
    for item in items:
        column, sep, rest = item.partition(":")
        written, sep2, becomes = rest.partition("=")
        if not sep or not sep2 or not column or not becomes:
            raise InputError(f"a category merge is COLUMN:VALUE=AS, e.g. Gender:female=Female; got {item!r}")
        entries.append((column, written, becomes))
    return tuple(entries)


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in a log: which check, which column, how many rows, the first few rows."""

    check: str  # e.g. "missing", "invalid_number", "label_domain", "score_range", "duplicate_id"
    column: str | None
    count: int
    rows: tuple[int, ...]  # 1-based data row numbers (header excluded), at most the first 20
    message: str
    # For a category_spelling warning: the category-map entries that would merge the spellings.
    merges: tuple[tuple[str, str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "column": self.column,
            "count": self.count,
            "rows": list(self.rows),
            "message": self.message,
            **({"merges": [list(m) for m in self.merges]} if self.merges else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationIssue:
        merges = tuple(tuple(m) for m in data.get("merges", ()))
        return cls(data["check"], data["column"], data["count"], tuple(data["rows"]), data["message"], merges)  # type: ignore[arg-type]


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
    # Things a reviewer should look at that do not make a row invalid, such as category values that
    # differ only in case ("category_spelling"); never merged silently.
    warnings: tuple[ValidationIssue, ...] = ()
    # Rows kept without a label (the outcome is not known yet): they count for selection rates, drift
    # and monitoring, not for error rates or AUC.
    rows_unlabelled: int = 0

    @property
    def rows_quarantined(self) -> int:
        return self.rows_read - self.rows_kept

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_quarantined": self.rows_quarantined,
            "task": self.task,
            "label_domain": list(self.label_domain),
            "prediction_domain": list(self.prediction_domain),
            "issues": [i.to_dict() for i in self.issues],
            "notes": list(self.notes),
        }
        # Absent when empty, so the records (and bundle hashes) of logs imported before stay the same.
        if self.warnings:
            data["warnings"] = [w.to_dict() for w in self.warnings]
        if self.rows_unlabelled:
            data["rows_unlabelled"] = self.rows_unlabelled
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        return cls(
            rows_read=data["rows_read"],
            rows_kept=data["rows_kept"],
            task=data.get("task", "binary"),
            label_domain=tuple(data.get("label_domain", ())),
            prediction_domain=tuple(data.get("prediction_domain", ())),
            issues=tuple(ValidationIssue.from_dict(i) for i in data.get("issues", ())),
            notes=tuple(data.get("notes", ())),
            warnings=tuple(ValidationIssue.from_dict(w) for w in data.get("warnings", ())),
            rows_unlabelled=data.get("rows_unlabelled", 0),
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
class PredictionLog(Record):
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


@dataclass(frozen=True)
class LogImport:
    """The outcome of importing a log: the stored log, and whether this import stored it."""

    log: PredictionLog
    created: bool  # False when the same file, mapping, model version and role was imported before

    def to_dict(self) -> dict[str, Any]:
        return {**self.log.to_dict(), "created": self.created}


def _time_text(moment: datetime | None) -> str | None:
    return None if moment is None else format_utc(moment)


@dataclass(frozen=True)
class LogReadOptions:
    """How to read a log file. ``task`` (binary, multiclass, regression) overrides the guess."""

    encoding: str = "utf-8"
    delimiter: str | None = None
    quarantine_invalid: bool = False
    task: str | None = None
    # Merge category values that differ only in case, surrounding space or Unicode form into their most
    # frequent spelling; the merges are written into the mapping's category map, as if stated.
    merge_spellings: bool = False
