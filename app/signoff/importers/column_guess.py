"""Guess which column of a prediction log plays which role, from names and a few sample values.

``guess_mapping`` is pure Python; ``propose_mapping`` reads the first rows of a file with the importer's
own readers and format detection, so the wizard's preview and ``signoff import log --guess`` see the file
as the import will. A guess is only a starting point: nothing is imported until a person has seen it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from signoff.domain.errors import InputError
from signoff.importers.log_formats import PREVIEW_ROWS, preview_log
from signoff.importers.timestamp_formats import detect_timestamp_format

LABEL_NAMES = ("label", "target", "y_true", "actual", "ground_truth", "truth", "outcome", "y", "class")
PREDICTION_NAMES = (
    "prediction",
    "predicted",
    "pred",
    "y_pred",
    "yhat",
    "y_hat",
    "decision",
    "predicted_label",
)
SCORE_WORDS = ("score", "proba", "probability", "prob", "confidence", "likelihood")
ID_NAMES = ("id", "row_id", "record_id", "request_id", "prediction_id", "uuid", "key", "applicant_id")
TIMESTAMP_WORDS = ("timestamp", "time", "date", "datetime", "created_at", "ts", "event_time")
SENSITIVE_WORDS = (
    "sex", "gender", "race", "ethnicity", "ethnic", "age", "age_group", "religion", "nationality",
    "native_country", "national_origin", "disability", "marital_status", "sexual_orientation", "pregnancy",
)  # fmt: skip


@dataclass(frozen=True)
class GuessedMapping:
    """One role per column, as the wizard shows it; ``None`` where no column looked right."""

    label: str | None = None
    prediction: str | None = None
    scores: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    id: str | None = None
    timestamp: str | None = None
    ignored: tuple[str, ...] = field(default=())


def _words(column: str) -> tuple[str, str]:
    """The name lower-cased with separators as ``_``, and the same without the separators."""
    norm = re.sub(r"[^0-9a-z]+", "_", column.casefold()).strip("_")
    return norm, norm.replace("_", "")


def _name_is(column: str, names: Sequence[str]) -> bool:
    norm, squashed = _words(column)
    return norm in names or squashed in {n.replace("_", "") for n in names}


def _name_has(column: str, words: Sequence[str]) -> bool:
    norm, _ = _words(column)
    parts = norm.split("_")
    return any(w in parts or norm == w or norm.startswith(w + "_") or norm.endswith("_" + w) for w in words)


def _looks_like_probability(values: Sequence[object]) -> bool:
    numbers = []
    for value in values:
        try:
            numbers.append(float(str(value)))
        except ValueError:
            return False
    # Fractions strictly inside (0, 1) somewhere: a 0/1 label is not a score.
    return bool(numbers) and all(0.0 <= n <= 1.0 for n in numbers) and any(0.0 < n < 1.0 for n in numbers)


def guess_mapping(
    columns: Sequence[str], samples: Mapping[str, Sequence[object]] | None = None
) -> GuessedMapping:
    """Guess the role of every column in ``columns``; ``samples`` (column -> first values) sharpen scores."""
    samples = samples or {}
    remaining = list(columns)

    def take(predicate) -> str | None:
        for column in remaining:
            if predicate(column):
                remaining.remove(column)
                return column
        return None

    # Exact names first, so "prediction" wins over "prediction_score" for the prediction role.
    label = take(lambda c: _name_is(c, LABEL_NAMES))
    prediction = take(lambda c: _name_is(c, PREDICTION_NAMES))
    identifier = take(lambda c: _name_is(c, ID_NAMES))
    timestamp = take(lambda c: _name_is(c, TIMESTAMP_WORDS)) or take(lambda c: _name_has(c, TIMESTAMP_WORDS))
    scores = [c for c in remaining if _name_has(c, SCORE_WORDS)]
    for column in scores:
        remaining.remove(column)
    if identifier is None:
        identifier = take(lambda c: _words(c)[0].endswith("_id") or _words(c)[0].startswith("id_"))
    if prediction is None:
        prediction = take(lambda c: _name_has(c, ("pred", "prediction", "predicted", "decision")))
    if label is None:
        label = take(lambda c: _name_has(c, ("label", "target", "actual", "outcome")))
    sensitive = [c for c in remaining if _name_has(c, SENSITIVE_WORDS)]
    for column in sensitive:
        remaining.remove(column)
    # Unnamed probability columns are scores only when the name hints at it; otherwise they are features.
    if not scores:
        scores = [
            c for c in remaining if _name_has(c, ("p", "pr")) and _looks_like_probability(samples.get(c, ()))
        ]
        for column in scores:
            remaining.remove(column)
    return GuessedMapping(
        label=label,
        prediction=prediction,
        scores=tuple(scores),
        sensitive=tuple(sensitive),
        features=tuple(remaining),
        id=identifier,
        timestamp=timestamp,
    )


@dataclass(frozen=True)
class MappingProposal:
    """What a file looks like to the importer, and the mapping proposed for it."""

    preview: Any  # pandas DataFrame of the first rows, as text
    guess: GuessedMapping
    timestamp_format: str | None  # decided from the first rows; None when there is no timestamp
    timestamp_note: str | None  # why, or why it could not be decided
    prediction_map_needed: bool  # predictions and labels use different words
    label_values: tuple[str, ...]
    prediction_values: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.guess.label,
            "prediction": self.guess.prediction,
            "scores": list(self.guess.scores),
            "sensitive": list(self.guess.sensitive),
            "features": list(self.guess.features),
            "id": self.guess.id,
            "timestamp": self.guess.timestamp,
            "timestamp_format": self.timestamp_format,
            "timestamp_note": self.timestamp_note,
            "prediction_map_needed": self.prediction_map_needed,
            "label_values": list(self.label_values),
            "prediction_values": list(self.prediction_values),
            "preview_rows": len(self.preview),
        }


def propose_mapping(
    path: Path, *, encoding: str = "utf-8", delimiter: str | None = None, rows: int = PREVIEW_ROWS
) -> MappingProposal:
    """Read the first ``rows`` rows of ``path`` as the importer reads them and propose a mapping."""
    frame = preview_log(path, encoding=encoding, delimiter=delimiter, rows=rows)
    columns = [str(c) for c in frame.columns]
    samples = {c: frame[c].dropna().head(50).tolist() for c in columns}
    guess = guess_mapping(columns, samples)
    fmt = note = None
    if guess.timestamp is not None:
        values = pa.array(frame[guess.timestamp].dropna().tolist(), pa.string())
        try:
            detected = detect_timestamp_format([values], column=guess.timestamp, file=str(path))
        except InputError as error:
            note = error.reason
        else:
            if detected is not None:
                fmt, note = detected.format, detected.reason
    labels = _distinct_text(frame, guess.label)
    predictions = _distinct_text(frame, guess.prediction)
    needed = bool(labels and predictions and not set(labels) & set(predictions))
    return MappingProposal(frame, guess, fmt, note, needed, labels, predictions)


def _distinct_text(frame: Any, column: str | None) -> tuple[str, ...]:
    if column is None:
        return ()
    values = sorted({str(v).strip() for v in frame[column].dropna().tolist() if str(v).strip()})
    return tuple(values) if len(values) <= 20 else ()
