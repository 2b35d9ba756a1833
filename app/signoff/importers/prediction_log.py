"""Importing a prediction log: validate it and write it as canonical Parquet, the log's evidence.

``canonicalise_log`` reads the source block by block (``log_formats``), checks every row of every
mapped column (``log_columns``), and writes the valid rows as canonical Parquet (``log_writing``); in
quarantine mode the invalid ones go to a second file with a reason per row. A valid log is read once;
a log whose later blocks contradict what the first block suggested, or whose ids repeat, is read again
in two passes (see ``_Import``). The same input bytes and mapping always give the same output bytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from signoff.domain.errors import InputError, setting
from signoff.domain.prediction_log import (
    ColumnMapping,
    LogReadOptions,
    LogRejectedError,
    ValidationIssue,
    ValidationReport,
)
from signoff.importers.canonical_table import SOURCE_ROW, read_canonical_table
from signoff.importers.duplicate_ids import DuplicateIds
from signoff.importers.log_columns import (
    FeatureStats,
    OutcomeDomain,
    OutcomeStats,
    UnsupportedType,
    as_text,
    decide_outcome,
    feature_type,
    feature_values,
    null_mask,
    outcome_values,
    parse_numbers,
    parse_timestamps,
    plain,
    shown,
)
from signoff.importers.log_formats import LogBatch, LogSource, file_sha256, open_log_source
from signoff.importers.log_writing import RowGroupWriter, in_background
from signoff.importers.timestamp_formats import (
    ISO_8601,
    check_format,
    detect_timestamp_format,
)
from signoff.importers.timestamp_formats import (
    describe as describe_format,
)

REASON = "reason"
FIRST_ROWS = 20  # rows listed per issue
# A categorical column with more distinct values than this is free text: its spellings are not compared.
DISTINCT_CATEGORIES = 1000
_PASS_A_SHARE = 0.85  # of the progress bar; the second pass reads a local staging file and is quicker
_CHECK_ORDER = (
    "missing",
    "invalid_number",
    "non_finite",
    "score_range",
    "invalid_timestamp",
    "label_domain",
    "prediction_domain",
    "duplicate_id",
)


READ_AS_WRITTEN = LogReadOptions()  # frozen, so one shared default is safe


@dataclass(frozen=True)
class CanonicalLog:
    """A validated log written as canonical Parquet in the work folder, ready to be stored as evidence."""

    parquet_path: Path
    sha256: str  # of the canonical Parquet: the log's identity
    rows: int
    source_name: str
    source_sha256: str  # of the file as given
    validation: ValidationReport
    quarantine_path: Path | None
    quarantine_sha256: str | None
    period_start: datetime | None
    period_end: datetime | None
    # The mapping as applied: the request plus what the importer decided (the timestamp format).
    mapping: ColumnMapping | None = None


def canonicalise_log(
    path: Path,
    mapping: ColumnMapping,
    *,
    work_dir: Path,
    options: LogReadOptions = READ_AS_WRITTEN,
    progress: Callable[[int, int], None] | None = None,
) -> CanonicalLog:
    """Validate the log at ``path`` and write its canonical Parquet into ``work_dir``.

    Raises ``InputError`` for a file that cannot be read as a log (nothing is left in ``work_dir``), and
    ``LogRejectedError`` when rows are invalid in strict mode (the default) or when no row is valid.
    ``progress(done_bytes, total_bytes)`` is called as the work advances; an exception raised from it
    cancels the import.
    """
    work_dir = Path(work_dir)
    mapping, timestamp_note = resolve_mapping(Path(path), mapping, options)
    created = not work_dir.exists()
    work_dir.mkdir(parents=True, exist_ok=True)
    reporter = _Progress(progress)
    jobs = [_Import(Path(path), mapping, work_dir, options, reporter, single_pass=True)]
    try:
        try:
            result = jobs[0].run()
        except _Replan:
            jobs[0].cleanup()
            jobs.append(_Import(Path(path), mapping, work_dir, options, reporter, single_pass=False))
            result = jobs[1].run()
        merges = _spelling_merges(result.validation) if options.merge_spellings else ()
        if merges:  # read again with the merges stated, so the evidence and the mapping both hold them
            for job in jobs:
                job.discard()
            mapping = dataclasses.replace(mapping, category_map=(*mapping.category_map, *merges))
            jobs.append(_Import(Path(path), mapping, work_dir, options, reporter, single_pass=False))
            result = jobs[-1].run()
        if timestamp_note:
            notes = (timestamp_note, *result.validation.notes)
            result = dataclasses.replace(
                result, validation=dataclasses.replace(result.validation, notes=notes)
            )
        return dataclasses.replace(result, mapping=mapping)
    except BaseException:
        for job in jobs:
            job.discard()
            job.cleanup()
        if created:
            _remove_empty_dir(work_dir)
        raise
    finally:
        for job in jobs:
            job.cleanup()


def resolve_mapping(
    path: Path, mapping: ColumnMapping, options: LogReadOptions = READ_AS_WRITTEN
) -> tuple[ColumnMapping, str | None]:
    """The mapping with the timestamp format decided (when the user stated none), and a note saying
    why. Reads only the timestamp column, and only until a value settles the form (``20/04/2026``)."""
    where = str(path)
    _check_value_maps(mapping, where)
    if mapping.timestamp is None:
        return mapping, None
    if mapping.timestamp_format is not None:
        fmt = check_format(mapping.timestamp_format, mapping.timestamp)
        return (
            mapping,
            f"timestamps in column {mapping.timestamp!r} read as {describe_format(fmt)}, as stated.",
        )
    source = open_log_source(
        path, mapping.mapped_columns(), encoding=options.encoding, delimiter=options.delimiter
    )
    source.mapped = (mapping.timestamp,)  # every mapped column was looked for; only this one is read
    batches = source.batches()
    try:
        detected = detect_timestamp_format(
            (plain(batch.columns[mapping.timestamp]) for batch in batches),
            column=mapping.timestamp,
            file=where,
        )
    finally:
        batches.close()
    if detected is None:
        return mapping, None
    note = f"timestamps in column {mapping.timestamp!r} read as {describe_format(detected.format)}: {detected.reason}."
    return dataclasses.replace(mapping, timestamp_format=detected.format), note


def _check_value_maps(mapping: ColumnMapping, where: str) -> None:
    columns = set(mapping.mapped_columns())
    for column, _written, _becomes in mapping.category_map:
        if column not in columns:
            raise InputError(
                f"a category merge names column {column!r}, which is not mapped; merge values of a "
                "sensitive attribute or feature.",
                file=where,
                column=column,
            )
        if column in (mapping.label, mapping.prediction):
            raise InputError(
                "label and prediction values are not merged as categories; state the prediction's "
                f"meaning with a prediction map instead{setting('prediction_map')}.",
                file=where,
                column=column,
            )


def read_canonical_log(source: Path | bytes, columns: Sequence[str] | None = None) -> pandas.DataFrame:
    """A canonical log (a path or the stored bytes) as a DataFrame (``canonical_table``)."""
    return read_canonical_table(source, columns).to_pandas()


# ---------------------------------------------------------------------------------------------------


def _roles(mapping: ColumnMapping, where: str) -> dict[str, str]:
    """The role of each mapped column. Only a sensitive attribute may also be a feature."""
    if not mapping.label or not mapping.prediction:
        raise InputError("a log needs both a label column and a prediction column.", file=where)
    roles: dict[str, str] = {}
    clashes: list[tuple[str, str]] = []
    assigned = [
        (mapping.id, "id"),
        (mapping.timestamp, "timestamp"),
        (mapping.label, "label"),
        (mapping.prediction, "prediction"),
        *((c, "score") for c in mapping.scores),
        *((c, "sensitive") for c in mapping.sensitive),
        *((c, "feature") for c in mapping.features),
        *((c, "shap") for _feature, c in mapping.shap),
        (mapping.shap_base, "shap"),
    ]
    for column, role in assigned:
        if column is None:
            continue
        if column in (SOURCE_ROW, REASON):
            raise InputError(
                f"a mapped column may not be named {column!r}: Signoff adds that column itself.",
                file=where,
                column=column,
            )
        previous = roles.get(column)
        if previous is None:
            roles[column] = role
        elif {previous, role} == {"sensitive", "feature"}:
            roles[column] = "feature"  # keeps the feature's type; analysis groups by its values
        elif previous != role:
            clashes.append((column, f"{column!r} as {previous} and as {role}"))
    if clashes:  # all of them at once, so one correction fixes the mapping
        raise InputError(
            f"{'a column is' if len(clashes) == 1 else 'columns are'} mapped to two roles: "
            f"{'; '.join(text for _column, text in clashes)}. A column plays one role (only a sensitive "
            "attribute may also be a feature).",
            file=where,
            column=clashes[0][0],
        )
    return {column: roles[column] for column in mapping.mapped_columns()}


@dataclass
class _Tally:
    """One check on one column: how many rows failed, and the first few of them."""

    check: str
    column: str
    describe: str  # what the failing values are, e.g. "not a number"
    count: int = 0
    rows: list[int] = field(default_factory=list)
    example: str | None = None

    def add(self, mask: np.ndarray, rows: np.ndarray, values: pa.Array | None = None) -> bool:
        hits = int(np.count_nonzero(mask))
        if not hits:
            return False
        if len(self.rows) < FIRST_ROWS:
            self.rows.extend(int(r) for r in rows[mask][: FIRST_ROWS - len(self.rows)])
        if self.example is None and values is not None:
            self.example = str(values[int(np.argmax(mask))].as_py())
        self.count += hits
        return True

    def summary(self, shown_rows: int = FIRST_ROWS) -> str:
        listed = ", ".join(str(r) for r in self.rows[:shown_rows])
        more = ", ..." if self.count > min(len(self.rows), shown_rows) else ""
        example = f"; first value {shown(self.example)}" if self.example is not None else ""
        rows = "row" if self.count == 1 else "rows"
        return (
            f"column {self.column!r}: {self.describe} in {self.count} {rows} ({rows} {listed}{more}{example})"
        )

    def issue(self) -> ValidationIssue:
        return ValidationIssue(self.check, self.column, self.count, tuple(self.rows), self.summary())

    def note(self, fix: str) -> str:
        """One line of a rejection, as a colleague would write it: where, what, and the way out."""
        first = self.rows[0] if self.rows else None
        value = f"{shown(self.example)} is " if self.example is not None else ""
        more = ""
        if self.count > 1:
            others = ", ".join(str(r) for r in self.rows[1:6])
            etc = ", ..." if self.count > min(len(self.rows), 6) else ""
            more = f" (and {self.count - 1:,} more {'row' if self.count == 2 else 'rows'}: {others}{etc})"
        return f"row {first}, column {self.column!r}: {value}{self.describe}{more}. {fix}"


@dataclass(frozen=True)
class _Judged:
    """One staged batch after the second pass's checks."""

    kept: pa.Table | None  # None once the log is rejected (strict mode): only counting goes on
    quarantined: pa.Table | None
    position: int  # rows judged so far
    invalid: bool  # the batch had invalid rows


class _Replan(Exception):
    """The one-pass import met something only two passes can handle; start again with two."""


class _Progress:
    """``progress(done, total)``, never going backwards (a replanned import starts again at zero)."""

    def __init__(self, callback: Callable[[int, int], None] | None) -> None:
        self._callback = callback
        self._done = 0

    def __call__(self, done: int, total: int) -> None:
        if self._callback is None:
            return
        self._done = max(self._done, min(done, total))
        self._callback(self._done, total)


class _Import:
    """One run of ``canonicalise_log``: the state shared by its passes.

    Most logs are valid, and then one pass does: the task, label classes and feature types are assumed
    from the first batch and each batch is checked and written as it is read. If a later batch
    contradicts that assumption, or ids repeat (known only at the end), the run raises ``_Replan`` and
    the import starts again with two passes: the first learns the whole file, the second judges and
    writes. Both plans run the same checks and conversions, so they give the same bytes.
    """

    def __init__(
        self,
        path: Path,
        mapping: ColumnMapping,
        work_dir: Path,
        options: LogReadOptions,
        progress: _Progress,
        *,
        single_pass: bool,
    ) -> None:
        self.single_pass = single_pass
        self.path = path
        self.where = str(path)
        self.mapping = mapping
        self.work_dir = work_dir
        self.options = options
        self.progress = progress
        token = uuid.uuid4().hex
        self.staging_path = work_dir / f".{token}.staging.arrow"
        self.canonical_tmp = work_dir / f".{token}.canonical.parquet"
        self.quarantine_tmp = work_dir / f".{token}.quarantine.parquet"
        self.finished: list[Path] = []
        self.tallies: dict[tuple[str, str], _Tally] = {}
        self.notes: list[str] = []
        self.rows_read = 0
        self.rows_invalid = 0
        self.first_invalid_row: int | None = None
        self.ids = DuplicateIds(work_dir / f".{token}.ids")
        self.naive_timestamps = False
        self.rows_unlabelled = 0
        self.value_maps = mapping.value_maps()
        # Per categorical column: value as written -> [rows, first row], for the spelling warnings.
        self.categories: dict[str, dict[str, list[int]]] = {}
        self.free_text: set[str] = set()

    # -- the whole run ---------------------------------------------------------------------------

    def run(self) -> CanonicalLog:
        roles = _roles(self.mapping, self.where)
        source = open_log_source(
            self.path, tuple(roles), encoding=self.options.encoding, delimiter=self.options.delimiter
        )
        self.source = source
        self.roles = roles
        self.label_stats = OutcomeStats(self.mapping.label)
        self.prediction_stats = OutcomeStats(self.mapping.prediction)
        self.features = {c: FeatureStats(c) for c, r in roles.items() if r == "feature"}
        if self.single_pass:
            result = self._single_pass(source)
        else:
            self._first_pass(source)
            domain = self._decide()
            self.kinds = {c: stats.kind for c, stats in self.features.items()}
            duplicates = self._duplicate_ids()
            self._collect_notes()
            result = self._second_pass(domain, duplicates, self._staged_batches())
        self._report_progress(source.total_bytes, source.total_bytes)
        return result

    def _decide(self) -> OutcomeDomain:
        # A log in which no outcome is known yet still has classes: the prediction's.
        label = self.label_stats if self.label_stats.present else self.prediction_stats
        domain = decide_outcome(label, self.prediction_stats, task=self.options.task, file=self.where)
        favourable = self.mapping.positive_label
        if favourable is not None and domain.task != "regression" and favourable not in domain.class_names():
            raise InputError(
                f"the favourable label {favourable!r} is not one of the label values "
                f"{', '.join(map(repr, domain.class_names()))}{setting('positive_label')}.",
                file=self.where,
                column=self.mapping.label,
            )
        return domain

    def _single_pass(self, source: LogSource) -> CanonicalLog:
        batches = in_background(source.batches())
        try:
            return self._check_and_write(source, batches)
        finally:
            batches.close()

    def _check_and_write(self, source: LogSource, batches: Iterator[LogBatch]) -> CanonicalLog:
        first = self._check_batch(next(batches))
        try:
            assumed = self._decide()
        except InputError as exc:  # perhaps only this batch looks that way; the whole file decides
            raise _Replan from exc
        self.kinds = {c: stats.kind for c, stats in self.features.items()}

        def checked() -> Iterator[pa.RecordBatch]:
            yield first
            for batch in batches:
                staged = self._check_batch(batch)
                if self.kinds != {c: stats.kind for c, stats in self.features.items()}:
                    raise _Replan
                try:
                    if self._decide() != assumed:
                        raise _Replan
                except InputError as exc:
                    raise _Replan from exc
                yield staged
            self.source_sha256 = source.sha256
            if self._duplicate_ids() is not None:
                raise _Replan  # which rows repeat an id is known only now: judge them in a second pass
            self._collect_notes()

        return self._second_pass(assumed, None, checked())

    def discard(self) -> None:
        for path in self.finished:
            path.unlink(missing_ok=True)

    def cleanup(self) -> None:
        for path in (self.staging_path, self.canonical_tmp, self.quarantine_tmp):
            path.unlink(missing_ok=True)
        self.ids.discard()

    def _report_progress(self, done: int, total: int) -> None:
        self.progress(done, total)

    def _tally(self, check: str, column: str, describe: str) -> _Tally:
        key = (check, column)
        if key not in self.tallies:
            self.tallies[key] = _Tally(check, column, describe)
        return self.tallies[key]

    # -- pass A: source -> staging ----------------------------------------------------------------

    def _first_pass(self, source: LogSource) -> None:
        writer: ipc.RecordBatchStreamWriter | None = None
        sink = None
        schema: pa.Schema | None = None
        try:
            # The source is parsed in a worker thread while this one checks and stages the batch before.
            for batch in in_background(source.batches()):
                staged = self._check_batch(batch)
                if writer is None:
                    schema = staged.schema
                    sink = pa.OSFile(str(self.staging_path), "wb")
                    writer = ipc.new_stream(sink, schema)
                elif staged.schema != schema:
                    staged = staged.cast(schema)
                writer.write_batch(staged)
                self._report_progress(int(source.bytes_done * _PASS_A_SHARE), source.total_bytes)
        finally:
            if writer is not None:
                writer.close()
            if sink is not None:
                sink.close()
        self.source_sha256 = source.sha256

    def _check_batch(self, batch: LogBatch) -> pa.RecordBatch:
        rows = batch.rows
        staged: dict[str, pa.Array] = {}
        reasons: list[pa.Array] = []
        decimal_comma = self.source.decimal_comma
        for column, role in self.roles.items():
            try:
                values = plain(batch.columns[column])
                if column in self.value_maps:
                    values = _rewrite(values, self.value_maps[column])
                if role == "sensitive" or (role == "feature" and pa.types.is_string(values.type)):
                    self._count_categories(column, values, rows)
                staged[column] = self._check_column(column, role, values, rows, reasons, decimal_comma)
            except UnsupportedType as exc:
                raise InputError(
                    f"the column holds values of type {exc.arrow_type}; a log column must hold plain "
                    "numbers, text, booleans or timestamps.",
                    file=self.where,
                    column=column,
                ) from exc
        staged[SOURCE_ROW] = pa.array(rows, pa.int64())
        staged[REASON] = _join_reasons(reasons, len(rows))
        self.rows_read += batch.num_rows
        return pa.RecordBatch.from_pydict(staged)

    def _check_column(
        self,
        column: str,
        role: str,
        values: pa.Array,
        rows: np.ndarray,
        reasons: list[pa.Array],
        decimal_comma: bool,
    ) -> pa.Array:
        if role == "sensitive":
            return as_text(values)  # missing stays missing: it becomes the "Unknown" group later
        if role == "feature":
            typed = self.features[column].observe(values, rows, decimal_comma=decimal_comma)
            # One pass converts now (the kinds are settled or the import replans); two passes must
            # keep the text until the kind is known for the whole file.
            return typed if self.single_pass and typed is not None else values
        if role in ("label", "prediction") and pa.types.is_floating(values.type):
            values = pc.if_else(pc.is_nan(values), pa.scalar(None, values.type), values)
        missing = null_mask(values)
        if role == "label":
            # The outcome is not known yet (as in most production logs): the row is kept, unlabelled.
            self.rows_unlabelled += int(missing.sum())
        elif self._tally("missing", column, "no value (empty, NA or NaN)").add(missing, rows):
            reasons.append(_reason(missing, f"{column}: missing"))
        if role == "id":
            text = as_text(values)
            self.ids.add(text)
            return text
        if role == "timestamp":
            fmt = self.mapping.timestamp_format
            parsed = parse_timestamps(values, fmt)
            self.naive_timestamps |= parsed.naive
            text = _text_or_none(values)
            form = "an ISO 8601 timestamp" if fmt in (None, ISO_8601) else f"a timestamp in the form {fmt}"
            tally = self._tally("invalid_timestamp", column, f"not {form}")
            if tally.add(parsed.unparseable, rows, text):
                reasons.append(_reason(parsed.unparseable, f"{column}: ", text, f" is not {form}"))
            return parsed.values
        if role in ("label", "prediction"):
            stats = self.label_stats if role == "label" else self.prediction_stats
            stats.observe(values, rows, decimal_comma=decimal_comma)
            return values
        # a score (a probability) or a SHAP value (any finite number)
        numbers, not_number = parse_numbers(values, decimal_comma=decimal_comma)
        text = _text_or_none(values)
        if self._tally("invalid_number", column, "not a number").add(not_number, rows, text):
            reasons.append(_reason(not_number, f"{column}: ", text, " is not a number"))
        array = numbers.to_numpy(zero_copy_only=False)
        number = ~missing & ~not_number
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(array)
            non_finite = number & ~finite
            out_of_range = number & finite & ((array < 0.0) | (array > 1.0)) & (role == "score")
        if non_finite.any() or out_of_range.any():
            shown_numbers = numbers.cast(pa.string())
            if self._tally("non_finite", column, "NaN or infinite").add(non_finite, rows, shown_numbers):
                reasons.append(_reason(non_finite, f"{column}: ", shown_numbers, " is not a finite number"))
            if self._tally("score_range", column, "outside [0, 1]").add(out_of_range, rows, shown_numbers):
                reasons.append(_reason(out_of_range, f"{column}: ", shown_numbers, " is outside [0, 1]"))
        return numbers

    # -- between the passes -----------------------------------------------------------------------

    def _duplicate_ids(self) -> np.ndarray | None:
        """A mask over all rows (in file order) of ids already seen in an earlier row, or None.

        Found out of core (``importers/duplicate_ids.py``): a 20M-row log costs a few bytes a row."""
        return self.ids.find()

    def _count_categories(self, column: str, values: pa.Array, rows: np.ndarray) -> None:
        seen = self.categories.setdefault(column, {})
        if column in self.free_text:
            return
        text = as_text(values)
        counts = pc.value_counts(pc.drop_null(text))
        found = counts.field("values")
        new = pc.invert(pc.is_in(found, value_set=pa.array(list(seen), pa.string())))
        if len(seen) + int(pc.sum(new).as_py() or 0) > DISTINCT_CATEGORIES:
            self.free_text.add(column)  # free text or numbers, not categories: spellings are not compared
            return
        # The first row of each value not seen before: one vectorised pass over the batch.
        first_rows: dict[str, int] = {}
        fresh = found.filter(new)
        if len(fresh):
            codes = pc.fill_null(pc.index_in(text, value_set=fresh), -1).to_numpy(zero_copy_only=False)
            found_codes, first = np.unique(codes, return_index=True)
            names = fresh.to_pylist()
            for code, at in zip(found_codes, first, strict=True):
                if code >= 0:
                    first_rows[names[code]] = int(rows[at])
        for value, count in zip(found.to_pylist(), counts.field("counts").to_pylist(), strict=True):
            if value in seen:
                seen[value][0] += count
            else:
                seen[value] = [count, first_rows[value]]

    def _spelling_warnings(self) -> list[ValidationIssue]:
        """Values of one column that differ only in case, surrounding space or Unicode form."""
        warnings = []
        for column, seen in self.categories.items():
            if column in self.free_text:
                continue
            if self.roles[column] == "feature" and self.kinds.get(column) not in (None, "text"):
                continue
            groups: dict[str, list[str]] = {}
            for value in seen:
                groups.setdefault(_spelling_key(value), []).append(value)
            for spellings in groups.values():
                if len(spellings) < 2:
                    continue
                spellings.sort(key=lambda v: (-seen[v][0], v))
                listed = [f"{v!r} ({seen[v][0]:,})" for v in spellings]
                words = " and ".join([", ".join(listed[:-1]), listed[-1]])
                major = spellings[0]
                merges = " ".join(f'"{column}:{v}={major}"' for v in spellings[1:])
                message = (
                    f"{column}: {words} differ only in {_spelling_difference(spellings)}; they are counted as "
                    f"different groups. If they are the same, merge them in the category map: {merges}."
                )
                minor = spellings[1:]
                warnings.append(
                    ValidationIssue(
                        "category_spelling",
                        column,
                        sum(seen[v][0] for v in minor),
                        tuple(sorted(seen[v][1] for v in minor)),
                        message,
                        merges=tuple((column, v, major) for v in minor),
                    )
                )
        return warnings

    def _collect_notes(self) -> None:
        if self.rows_unlabelled:
            self.notes.append(
                f"{self.rows_unlabelled:,} rows have no label yet (column {self.mapping.label!r}); they are "
                "kept and count for selection rates, drift and monitoring, not for error rates or AUC."
            )
        if self.naive_timestamps:
            self.notes.append(
                f"timestamps in column {self.mapping.timestamp!r} without a time zone were read as UTC."
            )
        for stats in self.features.values():
            if stats.kind == "text" and stats.numbers_seen:
                self.notes.append(
                    f"feature {stats.column!r} is stored as text: it mixes numbers with text (first at row "
                    f"{stats.first_text_row}: {shown(stats.first_text_value)})."
                )

    # -- pass B: staging -> canonical (+ quarantine) -----------------------------------------------

    def _second_pass(
        self, domain: OutcomeDomain, duplicates: np.ndarray | None, staged: Iterator[pa.RecordBatch]
    ) -> CanonicalLog:
        strict = not self.options.quarantine_invalid
        schema = self._canonical_schema(domain)
        dictionary = self._dictionary_columns()
        rejected = strict and any(t.count for t in self.tallies.values())
        canonical = None if rejected else RowGroupWriter(self.canonical_tmp, schema, dictionary)
        quarantine: RowGroupWriter | None = None
        period: tuple[object, object] | None = None
        try:
            # Judging a batch and writing the previous one overlap: both spend their time in Arrow,
            # which releases the GIL.
            for judged in in_background(self._judged_batches(domain, duplicates, schema, rejected, staged)):
                if judged.invalid and strict and canonical is not None:
                    canonical.abort()
                    canonical = None
                if canonical is not None and judged.kept is not None:
                    canonical.write(judged.kept)
                    period = _widen_period(period, judged.kept, self.mapping.timestamp)
                if judged.quarantined is not None:
                    if quarantine is None:
                        quarantine_schema = self._quarantine_schema(schema)
                        quarantine = RowGroupWriter(self.quarantine_tmp, quarantine_schema, dictionary)
                    quarantine.write(judged.quarantined)
                self._report_progress(self._judged_progress(judged.position), self.source.total_bytes)
        except BaseException:
            for writer in (canonical, quarantine):
                if writer is not None:
                    writer.abort()
            raise
        report = self._report(domain)
        if canonical is not None:
            canonical.close()
        if quarantine is not None:
            quarantine.close()
        if canonical is None or canonical.rows == 0:
            raise self._rejection(report)
        return self._finish(report, canonical.rows, quarantine is not None, period)

    def _judged_progress(self, position: int) -> int:
        if self.single_pass:
            return self.source.bytes_done
        share = _PASS_A_SHARE + (1 - _PASS_A_SHARE) * position / max(self.rows_read, 1)
        return int(self.source.total_bytes * share)

    def _judged_batches(
        self,
        domain: OutcomeDomain,
        duplicates: np.ndarray | None,
        schema: pa.Schema,
        rejected: bool,
        staged: Iterator[pa.RecordBatch],
    ) -> Iterator[_Judged]:
        """Each staged batch with labels and predictions checked against the classes and ids against
        repeats, split into the rows to keep and (in quarantine mode) the rows to quarantine."""
        label, prediction = self.mapping.label, self.mapping.prediction
        quarantining = self.options.quarantine_invalid
        regression = domain.task == "regression"
        checks = (
            (label, "label_domain", "not a finite number" if regression else "not a class"),
            (
                prediction,
                "prediction_domain",
                "not a finite number" if regression else "not one of the label classes",
            ),
        )
        quarantine_schema = self._quarantine_schema(schema)
        position = 0
        for batch in staged:
            rows = batch.column(SOURCE_ROW).to_numpy()
            reasons = [batch.column(REASON)]
            invalid = ~null_mask(batch.column(REASON))
            outcomes: dict[str, pa.Array] = {}
            for column, check, describe in checks:
                raw = batch.column(column)
                values, bad = outcome_values(raw, domain, decimal_comma=self.source.decimal_comma)
                outcomes[column] = values
                text = _text_or_none(raw)
                if self._tally(check, column, describe).add(bad, rows, text):
                    reasons.append(_reason(bad, f"{column}: ", text, f" is {describe}"))
                    invalid |= bad
            if duplicates is not None:
                repeated = duplicates[position : position + len(rows)]
                id_column = self.mapping.id
                assert id_column is not None
                ids = batch.column(id_column)
                tally = self._tally("duplicate_id", id_column, "an id already seen in an earlier row")
                if tally.add(repeated, rows, ids):
                    first_rows = self._first_rows_of_ids(position, len(rows))
                    reasons.append(
                        _reason(repeated, f"{id_column}: ", ids, " repeats the id of row ", first_rows)
                    )
                    invalid |= repeated
            position += len(rows)
            any_invalid = bool(invalid.any())
            if any_invalid:
                self.rows_invalid += int(invalid.sum())
                if self.first_invalid_row is None:
                    self.first_invalid_row = int(rows[int(np.argmax(invalid))])
                rejected = rejected or not quarantining
            if rejected:
                yield _Judged(None, None, position, any_invalid)  # only counting from here on
                continue
            table = self._canonical_table(batch, outcomes, schema)
            if not any_invalid:
                yield _Judged(table, None, position, False)
                continue
            quarantined = None
            if quarantining:
                quarantined = self._quarantine_table(batch, table, invalid, reasons, quarantine_schema)
            yield _Judged(table.filter(pa.array(~invalid)), quarantined, position, True)

    def _staged_batches(self) -> Iterator[pa.RecordBatch]:
        with pa.OSFile(str(self.staging_path), "rb") as source:
            reader = ipc.open_stream(source)
            yield from reader

    def _first_rows_of_ids(self, position: int, count: int) -> pa.Array:
        assert self.ids.first_position is not None  # asked only when some id repeats
        first = np.asarray(self.ids.first_position[position : position + count]) + 1
        return pa.array(first, pa.int64()).cast(pa.string())

    def _canonical_schema(self, domain: OutcomeDomain) -> pa.Schema:
        fields = []
        for column, role in self.roles.items():
            if role in ("id", "sensitive"):
                arrow_type = pa.string()
            elif role == "timestamp":
                arrow_type = pa.timestamp("us", tz="UTC")
            elif role in ("label", "prediction"):
                arrow_type = domain.arrow_type
            elif role in ("score", "shap"):
                arrow_type = pa.float64()
            else:
                arrow_type = feature_type(self.kinds[column])
            fields.append(pa.field(column, arrow_type))
        fields.append(pa.field(SOURCE_ROW, pa.int64(), nullable=False))
        return pa.schema(fields)

    def _dictionary_columns(self) -> list[str]:
        """Columns of few distinct values, where dictionary pages pay; numbers and ids rarely repeat."""
        few_valued = {"label", "prediction", "sensitive"}
        return [
            column
            for column, role in self.roles.items()
            if role in few_valued or (role == "feature" and self.kinds[column] in (None, "text", "bool"))
        ]

    def _quarantine_schema(self, canonical_schema: pa.Schema) -> pa.Schema:
        """Like the canonical schema, but label and prediction hold the text as given (it may be invalid)."""
        fields = []
        for f in canonical_schema:
            if f.name in (self.mapping.label, self.mapping.prediction):
                fields.append(pa.field(f.name, pa.string()))
            else:
                fields.append(f)
        fields.append(pa.field(REASON, pa.string(), nullable=False))
        return pa.schema(fields)

    def _canonical_table(
        self, batch: pa.RecordBatch, outcomes: dict[str, pa.Array], schema: pa.Schema
    ) -> pa.Table:
        arrays = []
        for column, role in self.roles.items():
            if role in ("label", "prediction"):
                arrays.append(outcomes[column])
            elif role == "feature":
                arrays.append(
                    feature_values(
                        batch.column(column), self.kinds[column], decimal_comma=self.source.decimal_comma
                    )
                )
            else:
                arrays.append(batch.column(column))
        arrays.append(batch.column(SOURCE_ROW))
        return pa.Table.from_arrays(arrays, schema=schema)

    def _quarantine_table(
        self,
        batch: pa.RecordBatch,
        table: pa.Table,
        invalid: np.ndarray,
        reasons: list[pa.Array],
        schema: pa.Schema,
    ) -> pa.Table:
        mask = pa.array(invalid)
        arrays = []
        for f in schema:
            if f.name == REASON:
                arrays.append(_join_reasons(reasons, len(invalid)).filter(mask))
            elif f.name in (self.mapping.label, self.mapping.prediction):
                arrays.append(as_text(batch.column(f.name)).filter(mask))
            else:
                arrays.append(table.column(f.name).filter(mask))
        return pa.Table.from_arrays(arrays, schema=schema)

    # -- the result ---------------------------------------------------------------------------------

    def _report(self, domain: OutcomeDomain) -> ValidationReport:
        order = {column: i for i, column in enumerate(self.roles)}
        tallies = sorted(
            (t for t in self.tallies.values() if t.count),
            key=lambda t: (order[t.column], _CHECK_ORDER.index(t.check)),
        )
        predictions: tuple[str, ...] = ()
        stats = self.prediction_stats
        if domain.task != "regression" and not (stats.many_text or stats.many_numeric):
            found = set(stats.text_values)
            found |= {str(int(v)) if v.is_integer() else str(v) for v in stats.numeric_values}
            predictions = tuple(sorted(found, key=_natural))
        return ValidationReport(
            rows_read=self.rows_read,
            rows_kept=self.rows_read - self.rows_invalid,
            issues=tuple(t.issue() for t in tallies),
            label_domain=domain.class_names(),
            prediction_domain=predictions,
            task=domain.task,
            notes=tuple(self.notes),
            warnings=tuple(self._spelling_warnings()),
            rows_unlabelled=self.rows_unlabelled,
        )

    def _rejection(self, report: ValidationReport) -> LogRejectedError:
        """One line per problem: the row and column, the value, what is wrong and what fixes it."""
        tallies = sorted(
            (t for t in self.tallies.values() if t.count),
            key=lambda t: (t.rows[0] if t.rows else 0, _CHECK_ORDER.index(t.check)),
        )
        kept = report.rows_kept
        if kept == 0:
            head = f"none of its {report.rows_read} rows is valid, so the log was not imported"
            set_aside = "Fix the file and import it again."
        else:
            head = (
                f"{self.rows_invalid} of its {report.rows_read} rows are invalid, so the log was not imported"
            )
            set_aside = (
                f"Fix the file, or set such rows aside{setting('quarantine_invalid')} to keep the "
                f"{kept} valid rows and record the rejected ones with their reasons."
            )
        lines = [t.note(self._fix(t, report, set_aside)) for t in tallies[:6]]
        if len(tallies) > 6:
            lines.append(f"and {len(tallies) - 6} more checks failed (see the report).")
        message = f"{head}:\n" + "\n".join(f"- {line}" for line in lines)
        first = tallies[0] if tallies else None
        return LogRejectedError(
            message,
            report=report,
            file=self.where,
            row=self.first_invalid_row,
            column=first.column if first else None,
        )

    def _fix(self, tally: _Tally, report: ValidationReport, set_aside: str) -> str:
        if tally.check == "invalid_timestamp":
            return (
                "Correct the value, or state the date format if the column is written another way"
                f"{setting('date_format', 'e.g. %d/%m/%Y %H:%M')}. {set_aside}"
            )
        if tally.check == "prediction_domain":
            predicted = sorted(self.prediction_stats.text_values)
            labels = list(report.label_domain)
            if predicted and not set(predicted) & set(labels):
                pairs = " ".join(f"{p}=<label>" for p in predicted[:4])
                return (
                    f"The predictions ({', '.join(map(repr, predicted[:4]))}) use other words than the labels "
                    f"({', '.join(map(repr, labels[:4]))}): say which prediction means which label"
                    f"{setting('prediction_map', pairs)}."
                )
            hint = _probability_hint([tally])
            return f"{hint}{set_aside}"
        return set_aside

    def _finish(
        self, report: ValidationReport, rows: int, quarantined: bool, period: tuple[object, object] | None
    ) -> CanonicalLog:
        sha = file_sha256(self.canonical_tmp)
        quarantine_sha = file_sha256(self.quarantine_tmp) if quarantined else None
        parquet_path = self.work_dir / f"{sha}.parquet"
        os.replace(self.canonical_tmp, parquet_path)
        self.finished.append(parquet_path)
        quarantine_path = None
        if quarantine_sha is not None:
            quarantine_path = self.work_dir / f"{quarantine_sha}.quarantine.parquet"
            os.replace(self.quarantine_tmp, quarantine_path)
            self.finished.append(quarantine_path)
        start, end = period if period is not None else (None, None)
        return CanonicalLog(
            parquet_path=parquet_path,
            sha256=sha,
            rows=rows,
            source_name=self.path.name,
            source_sha256=self.source_sha256,
            validation=report,
            quarantine_path=quarantine_path,
            quarantine_sha256=quarantine_sha,
            period_start=_utc(start),
            period_end=_utc(end),
        )


def _spelling_merges(report: ValidationReport) -> tuple[tuple[str, str, str], ...]:
    merges = []
    for warning in report.warnings:
        if warning.check == "category_spelling":
            merges.extend(warning.merges)
    return tuple(merges)


def _rewrite(values: pa.Array, replacements: dict[str, str]) -> pa.Array:
    """Values as the mapping says they are meant (a prediction's vocabulary, a merged spelling)."""
    text = as_text(values)
    for written, meant in replacements.items():
        text = pc.if_else(pc.equal(text, written), pa.scalar(meant), text)
    return text


def _spelling_key(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


def _spelling_difference(spellings: list[str]) -> str:
    """What the spellings of one value differ in, in words: case, surrounding space, Unicode form."""
    kinds = []
    if len({unicodedata.normalize("NFKC", v) for v in spellings}) < len(set(spellings)):
        kinds.append("Unicode normalisation")
    if len({v.strip() for v in spellings}) < len(set(spellings)):
        kinds.append("surrounding space")
    if len({unicodedata.normalize("NFKC", v).strip().casefold() for v in spellings}) < len(
        {unicodedata.normalize("NFKC", v).strip() for v in spellings}
    ):
        kinds.append("case")
    return " and ".join(kinds) or "case"


def _probability_hint(tallies: list[_Tally]) -> str:
    """When predictions look like probabilities, the score column was probably mapped as the prediction."""
    for tally in tallies:
        if tally.check == "prediction_domain" and tally.example is not None:
            try:
                value = float(tally.example)
            except ValueError:
                continue
            if 0.0 < value < 1.0:
                return (
                    "The predictions look like probabilities: map that column as a score and the "
                    "predicted class as the prediction. "
                )
    return ""


def _natural(text: str) -> tuple[int, float, str]:
    """Numbers in numeric order, before text in alphabetical order."""
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _text_or_none(values: pa.Array) -> pa.Array | None:
    try:
        return as_text(values)
    except UnsupportedType:
        return None


def _reason(
    mask: np.ndarray,
    prefix: str,
    values: pa.Array | None = None,
    suffix: str = "",
    tail: pa.Array | None = None,
) -> pa.Array:
    """Per row: ``prefix + 'value' + suffix (+ tail)`` where ``mask`` is set, else null."""
    n = len(mask)
    if values is None:
        text = pa.array(np.full(n, prefix, dtype=object), pa.string())
    else:
        quoted = pc.binary_join_element_wise(
            "'", pc.fill_null(pc.utf8_slice_codeunits(values, 0, 40), ""), "'", ""
        )
        parts = [pa.scalar(prefix), quoted, pa.scalar(suffix)]
        if tail is not None:
            parts.append(tail)
        text = pc.binary_join_element_wise(*parts, "")
    return pc.if_else(pa.array(mask), text, pa.scalar(None, pa.string()))


def _join_reasons(reasons: list[pa.Array], n: int) -> pa.Array:
    """Join per-row reasons with "; ", null where a row has none."""
    joined: pa.Array = pa.nulls(n, pa.string())
    for reason in reasons:
        if reason.null_count == len(reason):
            continue
        both = pc.binary_join_element_wise(joined, reason, "; ")
        joined = pc.coalesce(both, joined, reason)
    return joined


def _widen_period(
    period: tuple[object, object] | None, table: pa.Table, column: str | None
) -> tuple[object, object] | None:
    if column is None or table.num_rows == 0:
        return period
    bounds = pc.min_max(table.column(column))
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None:
        return period
    if period is None:
        return (low, high)
    return (min(period[0], low), max(period[1], high))  # type: ignore[type-var]


def _utc(value: object) -> datetime | None:
    if value is None:
        return None
    assert isinstance(value, datetime)
    return value.astimezone(UTC)


def _remove_empty_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not empty: something else put files there, leave them
        path.rmdir()
