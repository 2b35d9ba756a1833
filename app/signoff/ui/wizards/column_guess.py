"""Guess which column of a prediction log plays which role, from names and a few sample values.

Pure Python and no Qt, so it is tested on its own; the log wizard shows the guess and the user corrects
it. A guess is only a starting point: nothing is imported until the user has seen the mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
    if prediction is None:
        prediction = take(lambda c: _name_has(c, ("pred", "prediction", "predicted")))
    if label is None:
        label = take(lambda c: _name_has(c, ("label", "target", "actual")))
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
