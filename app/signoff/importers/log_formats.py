"""Reading prediction-log files (CSV, Parquet, JSON Lines) as a stream of record batches.

``open_log_source`` checks the path, recognises the format (Parquet by its magic bytes, text formats by
extension), reads the header and checks that every mapped column exists. Its ``batches()`` then yields
only the mapped columns, a block at a time, with each row's 1-based data-row number, so no file is ever
held whole in memory. Every problem a user can cause is an ``InputError`` naming the file, and the row
and column when they can be known.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from signoff.domain.errors import InputError
from signoff.importers.log_columns import NULL_TOKENS, as_text, plain, shown

CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
JSONL_EXTENSIONS = (".jsonl", ".ndjson")
PARQUET_EXTENSIONS = (".parquet", ".pq")
SUPPORTED = ", ".join(CSV_EXTENSIONS + PARQUET_EXTENSIONS + JSONL_EXTENSIONS)

# The CSV reader works in blocks of this size; a single row longer than a block cannot be read.
CSV_BLOCK_BYTES = 4 << 20
# A prediction-log field longer than this is not a value but a mistake (a broken quote, a blob).
MAX_FIELD_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 65_536
PREVIEW_ROWS = 200  # rows a preview (the wizard's, ``--guess``) reads
JSONL_BATCH_ROWS = 65_536
_DELIMITERS = (",", ";", "\t", "|")
_HEAD_BYTES = 1 << 20
_PARQUET_MAGIC = b"PAR1"
_UNCLOSED_QUOTE = 'a quote (") is opened in this row and never closed, so the rows after it would be lost.'


@dataclass(frozen=True)
class LogBatch:
    columns: dict[str, pa.Array]  # the mapped columns, text or native Arrow types
    rows: np.ndarray  # int64, 1-based data-row number (header excluded) of each row

    @property
    def num_rows(self) -> int:
        return len(self.rows)


class _HashingReader(io.RawIOBase):
    """A file wrapper that hashes and counts every byte read through it (the source's SHA-256)."""

    def __init__(self, raw: io.BufferedReader, *, count_quotes: bool = False) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0
        self._count_quotes = count_quotes
        self.quotes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = self._raw.readinto(buffer)
        if n:
            view = memoryview(buffer)[:n]
            self.sha256.update(view)
            self.bytes_read += n
            if self._count_quotes:
                self.quotes += view.tobytes().count(b'"')
        return n or 0

    def drain(self) -> None:
        while self.read(1 << 20):
            pass


class LogSource:
    """An opened log file. ``batches()`` reads it once; afterwards ``sha256`` is the file's hash."""

    format: str = ""
    decimal_comma: bool = False

    def __init__(self, path: Path, mapped: tuple[str, ...]) -> None:
        self.path = path
        self.name = path.name
        self.mapped = mapped
        self.total_bytes = path.stat().st_size
        self.bytes_done = 0
        self.sha256 = ""
        self.columns: tuple[str, ...] = ()

    def batches(self) -> Iterator[LogBatch]:
        raise NotImplementedError

    def error(self, message: str, *, row: int | None = None, column: str | None = None) -> InputError:
        resolved = self.path.resolve()
        if resolved != self.path.absolute():  # say where the bytes really come from
            message = f"{message} (the path is a link to {resolved})"
        return InputError(message, file=str(self.path), row=row, column=column)

    def check_columns(self, present: list[str], what: str = "column") -> None:
        # A repeated name matters only when it is mapped: then it is unclear which column is meant.
        duplicates = [c for c in self.mapped if present.count(c) > 1]
        if duplicates:
            raise self.error(
                f"the header names {', '.join(map(repr, duplicates))} more than once, so it is unclear which "
                "column is meant. Give every column a distinct name.",
                column=duplicates[0],
            )
        for column in self.mapped:
            if column not in present:
                if not _looks_like_header(present):
                    # The first line may be anything (a link to /etc/shadow): never echo it.
                    raise self.error(
                        f"there is no {what} named {column!r}, and the first line does not look like a "
                        "header of column names (it is not shown). Is this the prediction log?",
                        column=column,
                    )
                close = difflib.get_close_matches(column, present, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                listed = ", ".join(map(repr, present[:40])) + (", ..." if len(present) > 40 else "")
                raise self.error(
                    f"there is no {what} named {column!r}.{hint} The {what}s are: {listed}.",
                    column=column,
                )


# One lone "name" is shown only when it reads as column names, perhaps joined by another delimiter than
# the one given (then seeing it is the hint the user needs).
_COLUMN_NAMES = re.compile(r"[\w][\w .()%#/+,;|\t-]{0,4000}")


def _looks_like_header(names: list[str]) -> bool:
    """Column names as people write them: short, printable words; one lone name must be plain words."""
    if not names or not all(name.replace("\t", " ").isprintable() for name in names):
        return False
    if len(names) > 1:
        return all(len(name) <= 200 for name in names)
    return _COLUMN_NAMES.fullmatch(names[0]) is not None


def open_log_source(
    path: Path, mapped: tuple[str, ...], *, encoding: str = "utf-8", delimiter: str | None = None
) -> LogSource:
    """Open ``path`` as a log with the ``mapped`` columns, or raise ``InputError`` saying why not."""
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise InputError("the file does not exist.", file=where)
    if path.is_dir():
        raise InputError("this is a folder, not a log file.", file=where)
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"the file cannot be read: {exc.strerror}.", file=where) from exc
    if not head.strip():
        raise InputError("the file is empty.", file=where)
    suffix = path.suffix.lower()
    if head.startswith(_PARQUET_MAGIC):
        return ParquetSource(path, mapped)
    if suffix in PARQUET_EXTENSIONS:
        raise InputError(
            "the file is not Parquet (it does not start with the Parquet magic bytes PAR1).", file=where
        )
    if suffix not in CSV_EXTENSIONS + JSONL_EXTENSIONS:
        hint = " JSON Lines files (one object per line) are read as .jsonl." if suffix == ".json" else ""
        raise InputError(
            f"files ending in {suffix or '(no extension)'!r} are not supported; use one of {SUPPORTED}.{hint}",
            file=where,
        )
    _refuse_binary(head, where)
    try:
        codec = codecs.lookup(encoding).name
    except LookupError as exc:
        raise InputError(f"unknown text encoding {encoding!r}.", file=where) from exc
    if suffix in JSONL_EXTENSIONS:
        return JsonLinesSource(path, mapped, codec)
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"the delimiter must be one character, not {delimiter!r}.", file=where)
    return CsvSource(path, mapped, codec, delimiter, head)


def _refuse_binary(head: bytes, where: str) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(
            "the file is UTF-16 text; save it as UTF-8 (or Latin-1) and import it again.", file=where
        )
    if head.startswith(b"\x1f\x8b"):
        raise InputError("the file is gzip-compressed; decompress it first.", file=where)
    if head.startswith(b"PK\x03\x04"):
        raise InputError("the file is a ZIP archive (an Excel workbook?); export it as CSV.", file=where)
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"the file holds binary data (a NUL byte at offset {nul}), not text; it is not a CSV or "
            "JSON Lines log.",
            file=where,
        )


# ---------------------------------------------------------------------------------------------------
# CSV


class CsvSource(LogSource):
    format = "csv"

    def __init__(
        self, path: Path, mapped: tuple[str, ...], codec: str, delimiter: str | None, head: bytes
    ) -> None:
        super().__init__(path, mapped)
        self.codec = codec
        sample = self._decode_head(self._with_whole_header(head))
        if delimiter is None:
            delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(sample)
        self.delimiter = delimiter
        self.decimal_comma = delimiter == ";"
        # Blank lines before the header are skipped, as the CSV reader skips them.
        header = next((r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r), [])
        self.columns = tuple(header)
        self.check_columns(header)

    def _with_whole_header(self, head: bytes) -> bytes:
        """The head, read further when the header line is longer than it (a 1 MiB+ header was cut)."""
        if len(head) < _HEAD_BYTES or b"\n" in head:
            return head
        with self.path.open("rb") as stream:
            longer = stream.read(CSV_BLOCK_BYTES)
        if b"\n" not in longer and len(longer) == CSV_BLOCK_BYTES:
            raise self.error(
                f"the header line is longer than {CSV_BLOCK_BYTES >> 20} MiB, more than a CSV reader block; "
                "a log's header names its columns and is far shorter. Check the delimiter and the file."
            )
        return longer

    def _decode_head(self, head: bytes) -> str:
        """The head of the file as text, cut at the last complete line; the header must decode."""
        if self.codec == "utf-8" and head.startswith(codecs.BOM_UTF8):
            head = head[len(codecs.BOM_UTF8) :]
        if len(head) >= _HEAD_BYTES and b"\n" in head:
            head = head[: head.rfind(b"\n") + 1]
        try:
            return head.decode(self.codec)
        except UnicodeDecodeError as exc:
            first_line_end = head.find(b"\n")
            if first_line_end < 0 or exc.start < first_line_end:
                raise self.error(
                    f"the header line is not valid {self.codec} text (byte 0x{head[exc.start]:02x}); if the "
                    "file is Latin-1 encoded, import it with encoding latin-1."
                ) from exc
            return head[: exc.start].decode(self.codec)

    def batches(self) -> Iterator[LogBatch]:
        read_options = pa_csv.ReadOptions(
            block_size=CSV_BLOCK_BYTES, encoding="utf8" if self.codec == "utf-8" else self.codec
        )
        parse_options = pa_csv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True)
        # Binary, not string: Arrow's own UTF-8 check names no row; decoding per batch lets us name it.
        convert_options = pa_csv.ConvertOptions(
            include_columns=list(self.mapped),
            column_types={column: pa.binary() for column in self.mapped},
            null_values=list(NULL_TOKENS),
            strings_can_be_null=True,
        )
        rows_done = 0
        with self.path.open("rb") as raw:
            reader = _HashingReader(raw, count_quotes=True)  # type: ignore[arg-type]
            try:
                stream = pa_csv.open_csv(
                    reader,
                    read_options=read_options,
                    parse_options=parse_options,
                    convert_options=convert_options,
                )
                while True:
                    try:
                        batch = stream.read_next_batch()
                    except StopIteration:
                        break
                    rows = np.arange(rows_done + 1, rows_done + batch.num_rows + 1, dtype=np.int64)
                    columns = {name: self._decoded(batch.column(name), name, rows) for name in self.mapped}
                    rows_done += batch.num_rows
                    self.bytes_done = reader.bytes_read
                    if batch.num_rows:
                        yield LogBatch(columns, rows)
            except pa.ArrowInvalid as exc:
                raise self._explain(exc, rows_done) from exc
            reader.drain()
            self.sha256 = reader.sha256.hexdigest()
            self.bytes_done = self.total_bytes
        if reader.quotes % 2:
            # Quotes come in pairs (an escaped quote is doubled), so an odd count means either a quote
            # opened and never closed, which made the CSV reader take the rest of the file as one value,
            # or a literal quote inside an unquoted value (24" monitor), which is harmless. A strict
            # re-read tells the two apart.
            problem = _scan_csv(self.path, self.codec, self.delimiter, len(self.columns), self.columns)
            if problem is not None:
                raise self.error(problem.message, row=problem.row, column=problem.column)
        if rows_done == 0:
            raise self.error("the file has a header line but no data rows.")

    def _decoded(self, array: pa.Array, column: str, rows: np.ndarray) -> pa.Array:
        lengths = pc.binary_length(array)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > MAX_FIELD_BYTES:
            at = int(np.argmax(np.asarray(pc.fill_null(lengths, 0))))
            raise self.error(
                f"a value of {longest:,} bytes; a prediction-log field is at most {MAX_FIELD_BYTES:,} bytes "
                "(is a quote left open?).",
                row=int(rows[at]),
                column=column,
            )
        try:
            return array.cast(pa.string())
        except pa.ArrowInvalid:
            for index, value in enumerate(array.to_pylist()):
                if value is None:
                    continue
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise self.error(
                        f"the value is not valid UTF-8 text (byte 0x{value[exc.start]:02x} in "
                        f"{shown(value.decode('utf-8', 'replace'))}); if the file is Latin-1 encoded, import it "
                        "with encoding latin-1.",
                        row=int(rows[index]),
                        column=column,
                    ) from exc
            raise

    def _explain(self, exc: pa.ArrowInvalid, rows_done: int) -> InputError:
        """Turn an Arrow parse error into a message that names the row (found by a slow re-read)."""
        text = str(exc)
        problem = _scan_csv(self.path, self.codec, self.delimiter, len(self.columns), self.columns)
        if problem is not None:
            return self.error(problem.message, row=problem.row, column=problem.column)
        if "straddling" in text:
            return self.error(
                f"a row after data row {rows_done} is longer than {CSV_BLOCK_BYTES >> 20} MiB "
                "(is a quote left open?).",
                row=rows_done + 1,
            )
        return self.error(
            f"the file cannot be read as CSV after data row {rows_done}: {text}", row=rows_done + 1
        )


@dataclass(frozen=True)
class _Problem:
    message: str
    row: int
    column: str | None = None


def _scan_csv(path: Path, codec: str, delimiter: str, width: int, header: tuple[str, ...]) -> _Problem | None:
    """Find the first ragged row, over-long field or undecodable line by reading the file the slow way.

    Only called after Arrow refused the file, to name the row that Arrow could not."""
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, 1 << 30))
    try:
        with path.open("r", encoding="utf-8-sig" if codec == "utf-8" else codec, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            row = 0
            try:
                next(reader, None)
                for record in reader:
                    if not record:
                        continue
                    row += 1
                    if len(record) != width:
                        return _Problem(
                            f"the row has {len(record)} fields but the header has {width} "
                            f"(fields are separated by {delimiter!r}).",
                            row,
                        )
                    for name, value in zip(header, record, strict=True):
                        if len(value) > MAX_FIELD_BYTES:
                            return _Problem(
                                f"a value of {len(value):,} characters; a prediction-log field is at most "
                                f"{MAX_FIELD_BYTES:,} bytes (is a quote left open?).",
                                row,
                                name,
                            )
            except UnicodeDecodeError:
                return _Problem(
                    f"the row is not valid {codec} text; if the file is Latin-1 encoded, import it with "
                    "encoding latin-1.",
                    row + 1,
                )
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    return _Problem(_UNCLOSED_QUOTE, row + 1)
                return _Problem(f"the row is not valid CSV: {exc}.", row + 1)
    finally:
        csv.field_size_limit(limit)
    return None


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the first lines into the same number (>1) of fields, widest first."""
    lines = sample.splitlines(keepends=True)[:50]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line may be cut short
    text = "".join(lines)
    scored: list[tuple[bool, int, int, str]] = []
    for rank, candidate in enumerate(_DELIMITERS):
        try:
            records = [r for r in csv.reader(io.StringIO(text), delimiter=candidate) if r][:20]
        except csv.Error:
            continue
        if records and len(records[0]) > 1:
            width = len(records[0])
            consistent = all(len(r) == width for r in records[1:])
            scored.append((consistent, width, -rank, candidate))
    return max(scored)[3] if scored else ","


# ---------------------------------------------------------------------------------------------------
# Parquet


class ParquetSource(LogSource):
    format = "parquet"

    def __init__(self, path: Path, mapped: tuple[str, ...]) -> None:
        super().__init__(path, mapped)
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise self.error(
                f"the file is not a readable Parquet file ({exc}); it may be truncated or damaged."
            ) from exc
        self.columns = tuple(self._file.schema_arrow.names)
        self.check_columns(list(self.columns))
        self.total_rows = self._file.metadata.num_rows

    def batches(self) -> Iterator[LogBatch]:
        if self.total_rows == 0:
            raise self.error("the Parquet file has no rows.")
        rows_done = 0
        try:
            for batch in self._file.iter_batches(
                batch_size=PARQUET_BATCH_ROWS, columns=list(self.mapped), use_threads=True
            ):
                rows = np.arange(rows_done + 1, rows_done + batch.num_rows + 1, dtype=np.int64)
                rows_done += batch.num_rows
                self.bytes_done = int(self.total_bytes * rows_done / self.total_rows)
                yield LogBatch({name: batch.column(name) for name in self.mapped}, rows)
        except (pa.ArrowInvalid, OSError) as exc:
            raise self.error(
                f"the Parquet file is damaged after row {rows_done} ({exc}).", row=rows_done + 1
            ) from exc
        finally:
            self._file.close()
        self.sha256 = file_sha256(self.path)


def preview_log(
    path: Path, *, encoding: str = "utf-8", delimiter: str | None = None, rows: int = PREVIEW_ROWS
) -> Any:
    """The first ``rows`` rows of a log as a pandas DataFrame of text, read by the same readers (and
    the same format recognition) as the import, so a preview never disagrees with the importer."""
    import pandas as pd  # only the preview needs pandas here

    path = Path(path)
    source = open_log_source(path, (), encoding=encoding, delimiter=delimiter)
    columns = source.columns or _jsonl_fields(path, source, rows)
    source = open_log_source(path, tuple(columns), encoding=encoding, delimiter=delimiter)
    batches = source.batches()
    try:
        batch = next(batches, None)
    finally:
        batches.close()
    data = {}
    for column in columns:
        values = batch.columns[column].slice(0, rows) if batch is not None else pa.array([], pa.string())
        data[column] = pd.Series(as_text(plain(values)).to_pylist(), dtype="string")
    return pd.DataFrame(data, columns=list(columns))


def _jsonl_fields(path: Path, source: LogSource, rows: int) -> tuple[str, ...]:
    """The field names of the first ``rows`` JSON Lines records, in the order first met."""
    fields: dict[str, None] = {}
    codec = getattr(source, "codec", "utf-8-sig")
    with path.open("r", encoding=codec, errors="replace") as handle:
        for line_number, line in enumerate(handle, start=1):
            if line_number > rows:
                break
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise source.error(
                    f"line {line_number} is not valid JSON ({exc.msg}).", row=line_number
                ) from exc
            if isinstance(record, dict):
                fields.update(dict.fromkeys(map(str, record)))
    if not fields:
        raise source.error("the file holds no JSON records.")
    return tuple(fields)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------
# JSON Lines


class JsonLinesSource(LogSource):
    """One JSON object per line. Row numbers are line numbers; blank lines are skipped."""

    format = "jsonl"

    def __init__(self, path: Path, mapped: tuple[str, ...], codec: str) -> None:
        super().__init__(path, mapped)
        self.codec = "utf-8-sig" if codec == "utf-8" else codec

    def batches(self) -> Iterator[LogBatch]:
        seen: dict[str, None] = {}
        present = dict.fromkeys(self.mapped, False)
        values: dict[str, list[str | None]] = {name: [] for name in self.mapped}
        rows: list[int] = []
        checked = False
        with self.path.open("rb") as raw:
            reader = _HashingReader(raw)  # type: ignore[arg-type]
            lines = io.BufferedReader(reader, 1 << 20)
            for line_number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                record = self._record(line, line_number)
                if len(seen) < 1000:
                    seen.update(dict.fromkeys(record))
                for name in self.mapped:
                    value = record.get(name)
                    if name in record:
                        present[name] = True
                    values[name].append(_json_text(value))
                rows.append(line_number)
                if len(rows) >= JSONL_BATCH_ROWS:
                    if not checked:
                        self._check_present(present, seen)
                        checked = True
                    self.bytes_done = reader.bytes_read
                    yield self._batch(values, rows)
                    values = {name: [] for name in self.mapped}
                    rows = []
            self.sha256 = reader.sha256.hexdigest()
        if not rows and not checked:
            raise self.error("the file holds no JSON records.")
        self._check_present(present, seen)
        self.bytes_done = self.total_bytes
        if rows:
            yield self._batch(values, rows)

    def _record(self, line: bytes, line_number: int) -> dict:
        try:
            text = line.decode(self.codec if line_number == 1 else self.codec.replace("-sig", ""))
        except UnicodeDecodeError as exc:
            raise self.error(
                f"line {line_number} is not valid {self.codec.replace('-sig', '')} text (byte "
                f"0x{line[exc.start]:02x}); if the file is Latin-1 encoded, import it with encoding latin-1.",
                row=line_number,
            ) from exc
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self.error(
                f"line {line_number} is not valid JSON ({exc.msg} at character {exc.pos + 1}).",
                row=line_number,
            ) from exc
        except RecursionError:
            record = _TOO_DEEP
        if record is _TOO_DEEP or _nesting_depth(record) > MAX_JSONL_DEPTH:
            raise self.error(
                f"line {line_number} nests values more than {MAX_JSONL_DEPTH} levels deep; a log record "
                "holds one value per field: flatten it before importing.",
                row=line_number,
            )
        if not isinstance(record, dict):
            raise self.error(
                f"line {line_number} is a JSON {type(record).__name__}, not an object with named fields.",
                row=line_number,
            )
        return record

    def _check_present(self, present: dict[str, bool], seen: dict[str, None]) -> None:
        missing = [name for name, found in present.items() if not found]
        if missing:
            self.check_columns(list(seen), what="field")

    def _batch(self, values: dict[str, list[str | None]], rows: list[int]) -> LogBatch:
        return LogBatch(
            {name: pa.array(column, type=pa.string()) for name, column in values.items()},
            np.asarray(rows, dtype=np.int64),
        )


MAX_JSONL_DEPTH = 32
_TOO_DEEP = object()  # json.loads gave up: deeper than Python's recursion limit


def _nesting_depth(value: object) -> int:
    """How deep lists and objects nest in ``value``, counted without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_JSONL_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _json_text(value: object) -> str | None:
    """A JSON value as the text a CSV would hold, so both formats read the same way."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
