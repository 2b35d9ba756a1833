"""Which form a log's timestamps are written in, decided from the values, and parsing them in that form.

Team exports write times as ISO 8601, as day-first or month-first dates (``03/04/2026 07:45``), or as
epoch seconds or milliseconds. ``detect_timestamp_format`` decides from the values, never from the locale:
day-first against month-first is settled by a value only one of them can read (``20/04/2026``); when
every value reads both ways the import is refused until the format is stated. Parsing is pandas' own
(``pd.to_datetime`` with an explicit format), so no date arithmetic is written here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.tseries.api import guess_datetime_format

from signoff.domain.errors import InputError, setting

ISO_8601 = "ISO 8601"
EPOCH_SECONDS = "epoch seconds"
EPOCH_MILLISECONDS = "epoch milliseconds"
NAMED_FORMATS = (ISO_8601, EPOCH_SECONDS, EPOCH_MILLISECONDS)

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
_SAMPLE_VALUES = 5000  # distinct values kept while deciding; enough to meet a day above 12
_GUESS_FROM = 40  # values handed to pandas' format guesser
# Forms pandas' guesser does not propose (two-digit years, seconds after a 12-hour clock ...).
_EXTRA_FORMATS = tuple(
    f"{date}{time}"
    for first, second in (("%d", "%m"), ("%m", "%d"))
    for separator in ("/", "-", ".")
    for year in ("%Y", "%y")
    for date in (f"{first}{separator}{second}{separator}{year}",)
    for time in ("", " %H:%M", " %H:%M:%S")
)
_ZONED_ISO = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$"
_WHOLE_NUMBER = r"^\s*\d{9,14}\s*$"
# Epoch values a prediction log can hold: from 1973 (1e8 s) to the year 5138 (1e11 s), or the same in ms.
_EPOCH_SECONDS_RANGE = (1e8, 1e11)
_EPOCH_MS_RANGE = (1e11, 1e14)


@dataclass(frozen=True)
class DetectedFormat:
    """The form of a timestamp column and why: ``format`` is ISO_8601, an epoch unit or a strftime form."""

    format: str
    reason: str  # e.g. "day first: '20/04/2026 03:02' has no 20th month"


def describe(fmt: str) -> str:
    """A format as a person reads it: strftime forms get an example (31 December 2026, 23:59:58)."""
    if fmt in NAMED_FORMATS:
        return fmt
    example = pd.Timestamp(2026, 12, 31, 23, 59, 58).strftime(fmt.replace("%z", "").replace("%Z", ""))
    return f"{fmt} (31 December 2026 23:59:58 is written {example.strip()})"


def check_format(fmt: str, column: str) -> str:
    """A format the user stated, refused unless it is a named form or a strftime form."""
    if fmt in NAMED_FORMATS:
        return fmt
    if "%" not in fmt:
        raise InputError(
            f"the date format {fmt!r} is neither a strftime form such as %d/%m/%Y %H:%M nor one of "
            f"{', '.join(NAMED_FORMATS)}.",
            column=column,
        )
    return fmt


def detect_timestamp_format(blocks: Iterable[pa.Array], *, column: str, file: str) -> DetectedFormat | None:
    """Decide the form of the timestamps in ``blocks`` (one column, block after block), reading no more
    blocks than needed. ``None`` when the column holds native timestamps or no value at all.

    Raises ``InputError`` when every value reads both day-first and month-first.
    """
    seen: dict[str, None] = {}
    ambiguous: tuple[str, str] | None = None
    for block in blocks:
        if pa.types.is_timestamp(block.type) or pa.types.is_date(block.type):
            return None
        if pa.types.is_integer(block.type) or pa.types.is_floating(block.type):
            return _epoch_unit(block, column, file)
        if pa.types.is_dictionary(block.type):
            block = block.dictionary_decode()
        text = pc.utf8_trim_whitespace(block.cast(pa.string()))
        for value in pc.unique(pc.drop_null(text)).to_pylist():
            if value and len(seen) < _SAMPLE_VALUES:
                seen[value] = None
        if not seen:
            continue
        values = list(seen)
        if _share_matching(values, _ZONED_ISO) >= 0.5:  # the rest are broken values, named row by row
            return DetectedFormat(ISO_8601, f"values such as {values[0]!r} are ISO 8601")
        if _share_matching(values, _WHOLE_NUMBER) == 1.0:
            return _epoch_unit(pa.array(values).cast(pa.float64()), column, file)
        decided, ambiguous = _day_or_month_first(values)
        if decided is not None:
            return decided
    if ambiguous is not None:
        day_first, month_first = ambiguous
        example = next(iter(seen))
        raise InputError(
            f"every value, such as {example!r}, reads both day first and month first, so the dates "
            f"cannot be told apart. State the date format: {day_first} if the day comes first, "
            f"{month_first} if the month does{setting('date_format')}.",
            file=file,
            column=column,
        )
    return None  # nothing recognisable: the ISO reader will name the values it cannot read


def parse_with_format(array: pa.Array, fmt: str) -> tuple[pa.Array, np.ndarray, bool]:
    """``array`` parsed in ``fmt``: (timestamp[us, UTC] values, mask of present values that do not
    fit, whether values without a zone were read as UTC)."""
    present = np.asarray(pc.is_valid(array).to_numpy(zero_copy_only=False), dtype=bool)
    series = array.to_pandas()
    if fmt in (EPOCH_SECONDS, EPOCH_MILLISECONDS):
        numbers = pd.to_numeric(series, errors="coerce")
        unit = "s" if fmt == EPOCH_SECONDS else "ms"
        # Too large for a timestamp: treated like any value that does not fit.
        numbers = numbers.where(numbers.abs() < 1e16)
        parsed = pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce")
        naive = False
    else:
        if pa.types.is_string(array.type):
            series = series.str.strip()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(series, format=fmt, errors="coerce")
        naive = parsed.dt.tz is None
        parsed = parsed.dt.tz_localize("UTC") if naive else parsed.dt.tz_convert("UTC")
    utc = parsed.dt.tz_convert(None).astype("datetime64[us]").to_numpy()  # UTC wall time, NaT missing
    values = pa.array(utc, type=pa.timestamp("us"), from_pandas=True).cast(TIMESTAMP_TYPE)
    unparsed = present & ~np.asarray(parsed.notna().to_numpy(), dtype=bool)
    return values, unparsed, naive and bool(present.any())


def _share_matching(values: list[str], pattern: str) -> float:
    matches = pc.sum(pc.match_substring_regex(pa.array(values, pa.string()), pattern)).as_py() or 0
    return matches / len(values)


def _epoch_unit(numbers: pa.Array, column: str, file: str) -> DetectedFormat:
    finite = pc.drop_null(numbers.cast(pa.float64()))
    if len(finite) == 0:
        return DetectedFormat(EPOCH_SECONDS, "no values")
    low, high = float(pc.min(finite).as_py()), float(pc.max(finite).as_py())
    for fmt, (start, end) in ((EPOCH_SECONDS, _EPOCH_SECONDS_RANGE), (EPOCH_MILLISECONDS, _EPOCH_MS_RANGE)):
        if start <= low and high < end:
            first = pd.to_datetime(low, unit="s" if fmt == EPOCH_SECONDS else "ms", utc=True)
            return DetectedFormat(fmt, f"numbers such as {low:.0f} are {fmt} ({first:%Y-%m-%d %H:%M} UTC)")
    raise InputError(
        f"the timestamps are numbers from {low:.0f} to {high:.0f}, neither all epoch seconds nor all "
        f"epoch milliseconds. State the format{setting('date_format', ', '.join(NAMED_FORMATS) + ' or a strftime form')}.",
        file=file,
        column=column,
    )


def _day_or_month_first(values: list[str]) -> tuple[DetectedFormat | None, tuple[str, str] | None]:
    """The one form that reads the most values, or (None, (day-first, month-first)) when both read
    them equally well."""
    candidates: dict[str, None] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for value in values[:_GUESS_FROM]:
            for dayfirst in (True, False):
                guessed = guess_datetime_format(value, dayfirst=dayfirst)
                if guessed is not None:
                    candidates[guessed] = None
        candidates.update(dict.fromkeys(_EXTRA_FORMATS))
        sample = pd.Series(values, dtype="string")
        read = {
            fmt: int(pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum()) for fmt in candidates
        }
    best = max(read.values(), default=0)
    if best == 0:
        return None, None
    winners = [fmt for fmt, count in read.items() if count == best]
    orders = {_order(fmt) for fmt in winners}
    if len(orders) > 1 and {"day", "month"} <= orders:
        day_first = next(fmt for fmt in winners if _order(fmt) == "day")
        month_first = next(fmt for fmt in winners if _order(fmt) == "month")
        return None, (day_first, month_first)
    chosen = winners[0]
    order = _order(chosen)
    reason = f"values such as {values[0]!r} read as {chosen}"
    if order in ("day", "month"):
        witness = _witness(values, chosen, order)
        if witness is not None:
            other = "month" if order == "day" else "day"
            reason = f"{order} first: {witness!r} cannot be read {other} first"
    if best < len(values):
        reason += f"; {len(values) - best} of {len(values)} distinct values do not fit it"
    return DetectedFormat(chosen, reason), None


def _order(fmt: str) -> str:
    day, month = fmt.find("%d"), fmt.find("%m")
    if day < 0 or month < 0:
        return "other"
    if fmt.find("%Y") == 0 or fmt.find("%y") == 0:
        return "year"
    return "day" if day < month else "month"


def _witness(values: list[str], chosen: str, order: str) -> str | None:
    """A value that only the chosen order can read: the evidence for the decision."""
    swapped = chosen.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = pd.Series(values, dtype="string")
        fits = pd.to_datetime(sample, format=chosen, errors="coerce").notna()
        other = pd.to_datetime(sample, format=swapped, errors="coerce").notna()
    only = sample[fits & ~other]
    return None if only.empty else str(only.iloc[0])


def strftime_hint(values: Iterable[str]) -> str | None:
    """A guessed strftime form for the first value pandas can guess (for error messages)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for value in values:
            guessed = guess_datetime_format(value.strip(), dayfirst=True)
            if guessed is not None:
                return guessed
    return None
