"""Column values of a prediction log: parsing text into numbers, timestamps and classes, vectorised.

A log column arrives as text (CSV, JSON Lines) or as a native Arrow type (Parquet). These functions turn
either into the canonical type of the column's role and say, as a boolean mask, which values could not
be used. They never loop over rows in Python on the normal path; a slow path exists only to explain the
few values Arrow refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from signoff.domain.errors import InputError
from signoff.importers.timestamp_formats import ISO_8601, parse_with_format

# Text read as "no value" in any column. Deliberately short: a sensitive-attribute value such as "None"
# or "NA" (North America) should not vanish because a spreadsheet convention says so.
NULL_TOKENS = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", "#N/A")

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

# A numeric label is a class code when it is integral and has at most this many distinct values;
# otherwise the log is a regression log. Text labels are classes up to MAX_TEXT_CLASSES values, beyond
# that they are free text, not an outcome.
MAX_NUMERIC_CLASSES = 20
MAX_TEXT_CLASSES = 100
# Distinct values are tracked up to this many per column; beyond it a column is "many-valued".
DISTINCT_CAP = 1000

_NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_DECIMAL_COMMA_RE = r"^\s*[-+]?(\d+,\d*|,\d+)([eE][-+]?\d+)?\s*$"
_ZONED_RE = r"[T ]\d{2}.*([Zz]|[+-]\d{2}(:?\d{2})?)$"
_BOOL_WORDS = ("true", "false")


class UnsupportedType(Exception):
    """A column of a type no log role can hold (lists, structs, binary blobs)."""

    def __init__(self, arrow_type: pa.DataType) -> None:
        super().__init__(str(arrow_type))
        self.arrow_type = arrow_type


def shown(value: object, limit: int = 40) -> str:
    """A value as it appears in a message: quoted, shortened."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def plain(array: pa.Array) -> pa.Array:
    """Decode dictionaries and widen large strings, so that every function sees one representation."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    return array


def is_text(array: pa.Array) -> bool:
    return pa.types.is_string(array.type)


def as_text(array: pa.Array) -> pa.Array:
    """Any scalar column as text (numbers in their shortest round-trip form, booleans as true/false)."""
    array = plain(array)
    if is_text(array):
        return array
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        return as_timestamps_native(array).cast(pa.string())
    if pa.types.is_nested(array.type) or pa.types.is_binary(array.type):
        raise UnsupportedType(array.type)
    return array.cast(pa.string())


def null_mask(array: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(array, nan_is_null=False).to_numpy(zero_copy_only=False), dtype=bool)


def to_bool_mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array (nulls as False) as numpy."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def parse_numbers(array: pa.Array, *, decimal_comma: bool = False) -> tuple[pa.Array, np.ndarray]:
    """Text or numbers -> float64. Returns the values (null where missing or unusable) and a mask of
    values that were present but are not numbers. NaN and infinities parse; callers decide on them."""
    array = plain(array)
    n = len(array)
    no_text = np.zeros(n, dtype=bool)
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
        return array.cast(pa.float64()), no_text
    if pa.types.is_null(array.type):
        return pa.nulls(n, pa.float64()), no_text
    if not is_text(array):
        # booleans, dates, nested values: present but not numbers
        return pa.nulls(n, pa.float64()), ~null_mask(array)
    try:
        return array.cast(pa.float64()), no_text
    except pa.ArrowInvalid:
        pass
    # Slow path: find the values Arrow refused; keep the rest. Spaces around a number are tolerated,
    # and a decimal comma when the file separates fields with semicolons (European spreadsheets).
    trimmed = pc.utf8_trim_whitespace(array)
    good = to_bool_mask(pc.match_substring_regex(trimmed, _NUMBER_RE))
    words = to_bool_mask(pc.is_in(pc.utf8_lower(trimmed), value_set=pa.array(_SPECIAL_NUMBERS)))
    good |= words
    if decimal_comma:
        comma = to_bool_mask(pc.match_substring_regex(trimmed, _DECIMAL_COMMA_RE))
        trimmed = pc.if_else(pa.array(comma), pc.replace_substring(trimmed, ",", "."), trimmed)
        good |= comma
    usable = pc.if_else(pa.array(good), trimmed, pa.scalar(None, pa.string()))
    present = ~null_mask(array)
    return usable.cast(pa.float64()), present & ~good


_SPECIAL_NUMBERS = ("nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity")


def as_timestamps_native(array: pa.Array) -> pa.Array:
    """A native timestamp or date column -> timestamp[us, UTC]. Values without a zone are taken as UTC."""
    if pa.types.is_date(array.type):
        array = array.cast(pa.timestamp("us"))
    if array.type.tz is None:
        array = array.cast(pa.timestamp("us"), safe=False)
        return array.cast(TIMESTAMP_TYPE)
    return array.cast(TIMESTAMP_TYPE, safe=False)


@dataclass
class ParsedTimestamps:
    values: pa.Array  # timestamp[us, UTC], null where missing or unparseable
    unparseable: np.ndarray  # present but not a timestamp
    naive: bool  # some values had no time zone and were read as UTC


def parse_timestamps(array: pa.Array, fmt: str | None = None) -> ParsedTimestamps:
    """ISO 8601 text (with or without a zone; without one it is UTC) or native timestamps/dates; with
    ``fmt`` (a strftime form or an epoch unit, see ``timestamp_formats``) values in that form."""
    array = plain(array)
    n = len(array)
    if (
        fmt is not None
        and fmt != ISO_8601
        and not (pa.types.is_timestamp(array.type) or pa.types.is_date(array.type))
    ):
        values, unparseable, naive = parse_with_format(array, fmt)
        return ParsedTimestamps(values, unparseable, naive)
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        naive = pa.types.is_date(array.type) or array.type.tz is None
        return ParsedTimestamps(as_timestamps_native(array), np.zeros(n, dtype=bool), naive)
    if pa.types.is_null(array.type):
        return ParsedTimestamps(pa.nulls(n, TIMESTAMP_TYPE), np.zeros(n, dtype=bool), False)
    if not is_text(array):
        # Epoch numbers are ambiguous (seconds? milliseconds?); only ISO 8601 is accepted.
        return ParsedTimestamps(pa.nulls(n, TIMESTAMP_TYPE), ~null_mask(array), False)
    # A failed cast is expensive, so try first the form the first value has (zoned or naive).
    first = pc.drop_null(array.slice(0, 1000))
    zoned_first = len(first) == 0 or bool(pc.match_substring_regex(first[0:1], _ZONED_RE)[0].as_py())
    attempts = ((TIMESTAMP_TYPE, False), (pa.timestamp("us"), True))
    for target, naive in attempts if zoned_first else attempts[::-1]:
        try:
            return ParsedTimestamps(array.cast(target).cast(TIMESTAMP_TYPE), np.zeros(n, dtype=bool), naive)
        except pa.ArrowInvalid:
            pass
    # Slow path: a mix of zoned and naive values, or some that are not timestamps at all.
    trimmed = pc.utf8_trim_whitespace(array)
    zoned = to_bool_mask(pc.match_substring_regex(trimmed, _ZONED_RE))
    null = pa.scalar(None, pa.string())
    zoned_values = _cast_each(pc.if_else(pa.array(zoned), trimmed, null), TIMESTAMP_TYPE)
    naive_values = _cast_each(pc.if_else(pa.array(~zoned), trimmed, null), pa.timestamp("us"))
    values = pc.if_else(pa.array(zoned), zoned_values, naive_values.cast(TIMESTAMP_TYPE))
    present = ~null_mask(array)
    unparseable = present & null_mask(values)
    naive = bool(np.any(~zoned & present & ~unparseable))
    return ParsedTimestamps(values, unparseable, naive)


def _cast_each(array: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast, turning the values Arrow refuses into nulls (value by value, only when some fail)."""
    try:
        return array.cast(target)
    except pa.ArrowInvalid:
        pass
    cache: dict[str, object] = {}
    out = []
    for value in array.to_pylist():
        if value is None:
            out.append(None)
            continue
        if value not in cache:
            try:
                cache[value] = pa.array([value]).cast(target)[0].as_py()
            except pa.ArrowInvalid:
                cache[value] = None
        out.append(cache[value])
    return pa.array(out, type=target)


# ---------------------------------------------------------------------------------------------------
# Label and prediction: what kind of outcome a column holds, learned over the whole file.


@dataclass
class OutcomeStats:
    """What one pass over a label or prediction column saw, enough to decide the task afterwards."""

    column: str
    present: int = 0
    numbers: int = 0
    non_integral: int = 0  # numbers that are not whole (or not finite)
    bool_words: int = 0
    native_bool: bool = False
    numeric_values: set[float] = field(default_factory=set)
    text_values: set[str] = field(default_factory=set)
    many_numeric: bool = False
    many_text: bool = False
    first_text_row: int | None = None
    first_text_value: str | None = None

    def observe(self, array: pa.Array, rows: np.ndarray, *, decimal_comma: bool) -> None:
        array = plain(array)
        present = ~null_mask(array)
        self.present += int(present.sum())
        if pa.types.is_boolean(array.type):
            self.native_bool = True
            self.bool_words += int(present.sum())
            self._add_text(as_text(pc.unique(array)))
            return
        numbers, not_number = parse_numbers(array, decimal_comma=decimal_comma)
        is_number = present & ~not_number
        self.numbers += int(is_number.sum())
        if is_number.any():
            values = numbers.to_numpy(zero_copy_only=False)[is_number]
            with np.errstate(invalid="ignore"):
                self.non_integral += int(
                    np.count_nonzero(~np.isfinite(values) | (values != np.floor(values)))
                )
            if not self.many_numeric:
                self.numeric_values.update(float(v) for v in np.unique(values[np.isfinite(values)]))
                if len(self.numeric_values) > DISTINCT_CAP:
                    self.many_numeric = True
                    self.numeric_values = set()
        if not_number.any():
            text = as_text(array).filter(pa.array(not_number))
            lowered = pc.utf8_lower(pc.utf8_trim_whitespace(text))
            self.bool_words += int(pc.sum(pc.is_in(lowered, value_set=pa.array(_BOOL_WORDS))).as_py() or 0)
            if self.first_text_row is None:
                first = int(np.argmax(not_number))
                self.first_text_row = int(rows[first])
                self.first_text_value = str(array[first].as_py())
            self._add_text(pc.unique(text))

    def _add_text(self, values: pa.Array) -> None:
        if self.many_text:
            return
        self.text_values.update(v for v in values.to_pylist() if v is not None)
        if len(self.text_values) > DISTINCT_CAP:
            self.many_text = True
            self.text_values = set()

    @property
    def all_bool(self) -> bool:
        return self.present > 0 and self.bool_words == self.present

    @property
    def numeric_looking(self) -> bool:
        """Mostly numbers: the few text values in it are then errors, not classes."""
        return self.present > 0 and self.numbers * 2 > self.present


@dataclass(frozen=True)
class OutcomeDomain:
    """The task of a log and the classes its label and prediction may take."""

    task: str  # "binary", "multiclass", "regression"
    kind: str  # "bool", "int", "text" for classification; "float" for regression
    classes: tuple[object, ...]  # the label classes (empty for regression), sorted

    @property
    def arrow_type(self) -> pa.DataType:
        return {"bool": pa.bool_(), "int": pa.int64(), "text": pa.string(), "float": pa.float64()}[self.kind]

    def class_names(self) -> tuple[str, ...]:
        return tuple(_class_name(c) for c in self.classes)


def _class_name(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def decide_outcome(
    label: OutcomeStats, prediction: OutcomeStats, *, task: str | None, file: str
) -> OutcomeDomain:
    """Decide binary / multiclass / regression from what the label column holds.

    Binary when the label has at most two classes, multiclass when more but few, regression when it is
    numeric with many distinct or fractional values. ``task`` (when the user named it) overrides the
    guess between classification and regression.
    """
    if label.present == 0:
        raise InputError(
            "the label column has no values at all; map the column that holds the true outcome.",
            file=file,
            column=label.column,
        )
    if task not in (None, "binary", "multiclass", "regression"):
        raise InputError(f"unknown task {task!r}; use binary, multiclass or regression.", file=file)
    if label.all_bool and (prediction.all_bool or prediction.present == 0):
        return _classification(task, "bool", (False, True), label, file)
    if label.numeric_looking:
        few = not label.many_numeric and len(label.numeric_values) <= MAX_NUMERIC_CLASSES
        whole = label.non_integral == 0
        if task == "regression" or (task is None and not (few and whole)):
            return OutcomeDomain("regression", "float", ())
        if not whole:
            raise InputError(
                f"the task is {task} but the label column holds fractional numbers; "
                "classes must be whole numbers or text.",
                file=file,
                column=label.column,
            )
        if not few:
            raise InputError(
                f"the label column holds more than {MAX_NUMERIC_CLASSES} distinct whole numbers, too many "
                "for classes; import it as a regression log.",
                file=file,
                column=label.column,
            )
        classes = tuple(sorted(int(v) for v in label.numeric_values))
        if len(classes) == 1 and classes[0] in (0, 1):
            classes = (0, 1)  # a log in which every outcome was the same is still a 0/1 log
        return _classification(task, "int", classes, label, file)
    # Mostly text.
    if task == "regression":
        raise InputError(
            f"the task is regression but the label column holds text (first at row "
            f"{label.first_text_row}: {shown(label.first_text_value)}).",
            file=file,
            row=label.first_text_row,
            column=label.column,
        )
    if label.many_text or len(label.text_values) > MAX_TEXT_CLASSES:
        raise InputError(
            f"the label column looks like free text, not an outcome: more than {MAX_TEXT_CLASSES} distinct "
            f"values (first at row {label.first_text_row}: {shown(label.first_text_value)}). Map the column "
            "that holds the true class or value.",
            file=file,
            row=label.first_text_row,
            column=label.column,
        )
    if prediction.numeric_looking and not label.numbers:
        raise InputError(
            f"the label column holds text (first at row {label.first_text_row}: "
            f"{shown(label.first_text_value)}) but the prediction column holds numbers, so no prediction "
            "can match a label. Map a label and a prediction that use the same classes.",
            file=file,
            row=label.first_text_row,
            column=label.column,
        )
    classes = tuple(sorted(label.text_values))
    if len(classes) == 1 and not prediction.many_text:
        union = set(classes) | prediction.text_values
        if len(union) == 2:
            classes = tuple(sorted(union))
    return _classification(task, "text", classes, label, file)


def _classification(
    task: str | None, kind: str, classes: tuple[object, ...], label: OutcomeStats, file: str
) -> OutcomeDomain:
    guessed = "binary" if len(classes) <= 2 else "multiclass"
    if task == "binary" and guessed != "binary":
        raise InputError(
            f"the task is binary but the label column has {len(classes)} classes: "
            f"{', '.join(_class_name(c) for c in classes[:10])}.",
            file=file,
            column=label.column,
        )
    return OutcomeDomain(task or guessed, kind, classes)


def outcome_values(
    array: pa.Array, domain: OutcomeDomain, *, decimal_comma: bool
) -> tuple[pa.Array, np.ndarray]:
    """A label or prediction column in the domain's type, and a mask of values outside the domain.

    Missing values are not flagged here (they were counted as missing already); they stay null.
    """
    array = plain(array)
    present = ~null_mask(array)
    if domain.kind == "float":
        numbers, _ = parse_numbers(array, decimal_comma=decimal_comma)
        finite = to_bool_mask(pc.is_finite(numbers))
        return pc.if_else(pa.array(finite), numbers, pa.scalar(None, pa.float64())), present & ~finite
    if domain.kind == "bool":
        if pa.types.is_boolean(array.type):
            return array, np.zeros(len(array), dtype=bool)
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(as_text(array)))
        ok = to_bool_mask(pc.is_in(lowered, value_set=pa.array(_BOOL_WORDS)))
        values = pc.if_else(pa.array(ok), pc.equal(lowered, "true"), pa.scalar(None, pa.bool_()))
        return values, present & ~ok
    if domain.kind == "int":
        numbers, _ = parse_numbers(array, decimal_comma=decimal_comma)
        in_domain = to_bool_mask(pc.is_in(numbers, value_set=pa.array([float(c) for c in domain.classes])))
        values = pc.if_else(pa.array(in_domain), numbers, pa.scalar(None, pa.float64())).cast(pa.int64())
        return values, present & ~in_domain
    text = as_text(array)
    in_domain = to_bool_mask(pc.is_in(text, value_set=pa.array(list(domain.classes), pa.string())))
    return pc.if_else(pa.array(in_domain), text, pa.scalar(None, pa.string())), present & ~in_domain


# ---------------------------------------------------------------------------------------------------
# Features: stored as numbers when every value in the file is one, else as text.


@dataclass
class FeatureStats:
    """The narrowest type that holds every value of a feature column seen so far."""

    column: str
    kind: str | None = None  # None (no value yet), "int", "float", "bool", "timestamp", "text"
    first_text_row: int | None = None
    first_text_value: str | None = None
    numbers_seen: bool = False

    def observe(self, array: pa.Array, rows: np.ndarray, *, decimal_comma: bool) -> pa.Array | None:
        """Widen the kind to hold this batch; return the batch converted to that kind when parsing
        text produced it anyway (None when there is nothing to reuse)."""
        array = plain(array)
        if pa.types.is_null(array.type) or array.null_count == len(array):
            return None
        native = _native_kind(array.type)
        if native is None:
            raise UnsupportedType(array.type)
        if native != "text":
            self.numbers_seen |= native in ("int", "float")
            self.kind = _wider(self.kind, native)
            return None
        if self.kind == "text":
            return None
        # A failed cast costs far more than a successful one, so only try int64 when it should work:
        # the column was whole numbers so far, or this batch's numbers are all whole.
        if self.kind == "int":
            whole_numbers = _int_or_none(array)
            if whole_numbers is not None:
                return whole_numbers
        numbers, not_number = parse_numbers(array, decimal_comma=decimal_comma)
        self.numbers_seen |= numbers.null_count < len(numbers)
        if not_number.any():
            first = int(np.argmax(not_number))
            self.first_text_row = int(rows[first])
            self.first_text_value = str(array[first].as_py())
            self.kind = "text"
            return None
        values = numbers.to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            whole = bool(np.all(np.isnan(values) | (values == np.floor(values))))
        if self.kind is None and whole:
            whole_numbers = _int_or_none(array)
            if whole_numbers is not None:
                self.kind = "int"
                return whole_numbers
        self.kind = "float"
        return numbers


def feature_type(kind: str | None) -> pa.DataType:
    """The canonical Arrow type of a feature of this kind (a column with no value at all is text)."""
    return {
        None: pa.string(),
        "text": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": TIMESTAMP_TYPE,
    }[kind]


def feature_values(array: pa.Array, kind: str | None, *, decimal_comma: bool) -> pa.Array:
    """A feature column converted to the canonical type of ``kind``."""
    array = plain(array)
    if kind in (None, "text"):
        return as_text(array)
    if kind == "timestamp":
        return as_timestamps_native(array)
    if kind == "bool":
        return array.cast(pa.bool_())
    if kind == "int":
        return array.cast(pa.int64())
    return parse_numbers(array, decimal_comma=decimal_comma)[0]


def _int_or_none(array: pa.Array) -> pa.Array | None:
    try:
        return array.cast(pa.int64())
    except pa.ArrowInvalid:
        return None


def _native_kind(arrow_type: pa.DataType) -> str | None:
    if pa.types.is_string(arrow_type):
        return "text"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    if pa.types.is_integer(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "timestamp"
    return None


def _wider(current: str | None, new: str) -> str:
    if current is None or current == new:
        return new
    if {current, new} == {"int", "float"}:
        return "float"
    return "text"
