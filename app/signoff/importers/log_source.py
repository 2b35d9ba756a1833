"""Asking a log where it lives (DuckDB over files or a Delta or Iceberg table, PostgreSQL, Spark Connect)
through one ibis expression.

ibis compiles the same table expression to each engine's SQL, so the schema check, the fingerprint and
the count tables are written once. Only small frames come back: the schema, one row of aggregates, and
GROUP BY results over segment x label x prediction (x score). A Delta table's log is read by delta-rs
(``deltalake``), an Iceberg table's metadata by pyiceberg (optional), and DuckDB scans the data files
they list: DuckDB's own delta and iceberg extensions download at run time, which an offline desktop
cannot do. Credentials come from the URL given now, else the environment (PGUSER, PGPASSWORD, ...),
else the user's keyring, and are never part of what is returned.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pandas as pd

from signoff.domain.canonical import canonical_json, sha256_hex
from signoff.domain.errors import Cancelled, ExternalServiceError, InputError
from signoff.domain.log_source import ECE_BIN, ROWS, SCORE_SQUARES, SCORE_SUM, engine_of, redact_url
from signoff.domain.prediction_log import ColumnMapping
from signoff.domain.profiles import PROFILE_QUANTILES, CategoryCount, ColumnKind, ColumnProfile, LogProfile
from signoff.importers.source_credentials import keyring_password, postgres_account

FILE_SUFFIXES = (".parquet", ".csv", ".json", ".jsonl", ".ndjson")
# Up to this many distinct scores, AUC is exact (GROUP BY the score itself); beyond, a histogram.
EXACT_SCORE_LIMIT = 10_000
ECE_BINS = 10  # the calibration bins of signoff.analysis.metrics, which this layer cannot import
# Histogram bins per calibration bin: 1,000 bins of width 0.001 on [0, 1].
HISTOGRAM_BINS = 100 * ECE_BINS

IsCancelled = Callable[[], bool]


@dataclass
class OpenSource:
    """A connection to a source and the table expression standing for the log."""

    engine: str
    url: str  # without credentials
    table_name: str | None
    query: str | None
    engine_version: str
    backend: Any
    table: Any  # ibis Table
    _interrupt: Callable[[], None]
    parquet_glob: str | None = None  # Parquet files named by the URL: their footers fingerprint them
    table_version: dict[str, Any] | None = None  # a Delta or Iceberg table's: format, id, version, rows

    @property
    def described(self) -> str:
        what = self.table_name or (self.query and "the given query") or "the files the URL names"
        return f"{self.url} ({what})"

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a connection that already failed is not news
            self.backend.disconnect()

    def __enter__(self) -> OpenSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sql(self, expression: Any) -> str:
        """The SQL this engine runs for ``expression``: recorded as evidence."""
        import ibis

        dialect = {"duckdb": "duckdb", "postgres": "postgres", "spark": "pyspark"}[self.engine]
        return str(ibis.to_sql(expression, dialect=dialect))

    def fetch(self, expression: Any, cancelled: IsCancelled | None = None) -> pd.DataFrame:
        """Run ``expression`` and return its (small) result; interrupts the engine on cancel."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["frame"] = expression.to_pandas()
            except BaseException as exc:  # handed to the waiting thread
                box["error"] = exc

        thread = threading.Thread(target=work, name="signoff-source-query", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.1)
            if cancelled is not None and thread.is_alive() and cancelled():
                self._interrupt()
                thread.join(30)
                raise Cancelled(f"the query to the source {self.described} was cancelled; nothing was stored")
        if "error" in box:
            raise InputError(
                f"the source {self.described} refused the query: {_first_line(box['error'], self.url)}"
            ) from None
        return box["frame"]


def _first_line(error: BaseException, url: str) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    password = urlsplit(url).password if "://" in url else None
    return text.replace(password, "***") if password else text


def open_source(url: str, *, table: str | None = None, query: str | None = None) -> OpenSource:
    """Connect to the engine the URL names and find the log's table; nothing is read yet."""
    engine = engine_of(url)
    if table is not None and query is not None:
        raise InputError("name either a table or a query for the source, not both")
    shown = redact_url(url)
    try:
        if engine == "duckdb":
            source = _open_duckdb(url, shown, table, query)
        elif engine == "postgres":
            source = _open_postgres(url, shown, table, query)
        else:
            source = _open_spark(url, shown, table, query)
    except InputError:
        raise
    except Exception as exc:
        raise ExternalServiceError(
            f"cannot reach the {engine} source {shown}: {_first_line(exc, url)}; check the address and "
            "that the engine is running, and that the credentials (in the environment, or the keyring's for "
            "user@host) are right"
        ) from None
    return source


def _pick(backend: Any, shown: str, table: str | None, query: str | None) -> Any:
    try:
        return _table_or_query(backend, shown, table, query)
    except InputError:
        with contextlib.suppress(Exception):  # the refusal is the news, not the closing
            backend.disconnect()
        raise


def _table_or_query(backend: Any, shown: str, table: str | None, query: str | None) -> Any:
    if query is not None:
        try:
            return backend.sql(query)
        except Exception as exc:
            raise InputError(f"the source {shown} cannot run the query: {_first_line(exc, shown)}") from None
    if table is None:
        raise InputError(f"the source {shown} is a database: name the log's table or give a query")
    try:
        return backend.table(table)
    except Exception:
        raise InputError(f"the source {shown} has no table {table!r}") from None


def _open_duckdb(url: str, shown: str, table: str | None, query: str | None) -> OpenSource:
    import duckdb
    import ibis

    path = url.split("://", 1)[1]  # duckdb:///data/*.parquet names /data/*.parquet
    if path and (Path(path) / "_delta_log").is_dir():
        return _open_delta(path, shown, table, query)
    if (
        path
        and (Path(path) / "metadata").is_dir()
        and list((Path(path) / "metadata").glob("*.metadata.json"))
    ):
        return _open_iceberg(path, shown, table, query)
    names_files = path.lower().endswith(FILE_SUFFIXES) or any(c in path for c in "*?[")
    if names_files:
        backend = ibis.duckdb.connect()
        if table is not None or query is not None:
            backend.disconnect()
            raise InputError(f"the source {shown} names its files itself; give neither a table nor a query")
        if not any(c in path for c in "*?[") and not Path(path).exists():
            raise InputError(f"the source {shown} names a file that does not exist: {path}")
        lowered = path.lower()
        try:
            if lowered.endswith(".csv"):
                expr = backend.read_csv(path)
            elif lowered.endswith((".json", ".jsonl", ".ndjson")):
                expr = backend.read_json(path)
            else:
                expr = backend.read_parquet(path)
        except Exception as exc:
            raise InputError(f"the source {shown} cannot be read: {_first_line(exc, url)}") from None
    else:
        if not path or not Path(path).exists():
            raise InputError(
                f"the DuckDB database file of the source {shown} does not exist: {path or '(none)'}"
            )
        backend = ibis.duckdb.connect(path, read_only=True)
        expr = _pick(backend, shown, table, query)
    parquet = path if names_files and not path.lower().endswith(FILE_SUFFIXES[1:]) else None
    return OpenSource(
        "duckdb",
        shown,
        table,
        query,
        f"DuckDB {duckdb.__version__}",
        backend,
        expr,
        backend.con.interrupt,
        parquet,
    )


TABLE_VIEW = "log_table"  # the name a Delta or Iceberg table's rows have inside DuckDB


def _open_delta(path: str, shown: str, table: str | None, query: str | None) -> OpenSource:
    import deltalake

    if table is not None or query is not None:
        raise InputError(f"the source {shown} is a Delta table itself; give neither a table nor a query")
    try:
        delta = deltalake.DeltaTable(path)
        metadata, protocol = delta.metadata(), delta.protocol()
        # A table whose files hold its rows as they are (no partition values kept in the log, no
        # renamed columns, no deletion vectors) is read by DuckDB's own Parquet reader, which streams
        # in bounded memory; DuckDB's scan of an Arrow dataset grew with the rows (benchmarks/sources.py).
        plain = (
            not metadata.partition_columns
            and metadata.configuration.get("delta.columnMapping.mode", "none") == "none"
            and "deletionVectors" not in (protocol.reader_features or [])
        )
        data: Any = (delta.file_uris() if plain else None) or delta.to_pyarrow_dataset()
        version = {
            "format": "delta",
            "table_id": metadata.id,
            "table_version": int(delta.version()),
            "rows": _delta_rows(delta) if isinstance(data, list) else int(data.count_rows()),
        }
    except Exception as exc:
        raise InputError(
            f"the Delta table of the source {shown} cannot be read: {_first_line(exc, shown)}"
        ) from None
    return _over_dataset(shown, data, version, f"Delta through deltalake {deltalake.__version__}")


def _delta_rows(delta: Any) -> int:
    """Rows of a Delta table from its log's per-file record counts, else its files' footers."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    counts = pa.table(delta.get_add_actions(flatten=True)).column("num_records")
    if counts.null_count == 0:
        return int(pc.sum(counts).as_py() or 0)
    return int(ds.dataset(delta.file_uris(), format="parquet").count_rows())


ICEBERG_EXTRA = (
    "the source {url} is an Iceberg table; reading it needs pyiceberg, which this installation of Signoff "
    "lacks: install Signoff with its optional 'iceberg' extra (pip install 'signoff[iceberg]')"
)


def _open_iceberg(path: str, shown: str, table: str | None, query: str | None) -> OpenSource:
    """An Iceberg table by its folder: the newest metadata file is the current one (commits to a
    table are linear), its snapshot the version; the snapshot's Parquet data files are scanned by
    DuckDB's reader, which holds for files with the current schema and no delete files."""
    import pyarrow.dataset as ds

    try:
        import pyiceberg
        from pyiceberg.table import StaticTable
    except ImportError:
        raise InputError(ICEBERG_EXTRA.format(url=shown)) from None
    if table is not None or query is not None:
        raise InputError(f"the source {shown} is an Iceberg table itself; give neither a table nor a query")
    try:
        newest = max(Path(path, "metadata").glob("*.metadata.json"), key=_metadata_number)
        iceberg = StaticTable.from_metadata(str(newest))
        tasks = list(iceberg.scan().plan_files())
        evolved = len(iceberg.metadata.schemas) > 1
        arrow_schema = iceberg.schema().as_arrow()
    except Exception as exc:
        raise InputError(
            f"the Iceberg table of the source {shown} cannot be read: {_first_line(exc, shown)}"
        ) from None
    # Rows deleted by delete files, or columns renamed since files were written, need Iceberg's own
    # reader, which only materialises the whole table: refused rather than counted wrongly.
    if any(task.delete_files for task in tasks):
        raise InputError(
            f"the Iceberg table of the source {shown} has delete files (merge-on-read deletes); "
            "compact it (rewrite its data files) and register it again"
        )
    if evolved:
        raise InputError(
            f"the Iceberg table of the source {shown} has changed its schema since its first files were "
            "written; register a query over it in an engine that reads Iceberg (Spark) instead"
        )
    files = [urlsplit(task.file.file_path).path or task.file.file_path for task in tasks]
    # DuckDB reads the files itself (bounded memory, as for Delta); a table with no files yet is an
    # empty Arrow dataset with the table's columns
    data = files or ds.dataset([], format="parquet", schema=arrow_schema)
    snapshot = iceberg.current_snapshot()
    version = {
        "format": "iceberg",
        "table_id": str(iceberg.metadata.table_uuid),
        "table_version": int(iceberg.metadata.last_sequence_number),
        "snapshot_id": None if snapshot is None else int(snapshot.snapshot_id),
        "rows": int(sum(task.file.record_count for task in tasks)),
    }
    return _over_dataset(shown, data, version, f"Iceberg through pyiceberg {pyiceberg.__version__}")


def _metadata_number(path: Path) -> int:
    """The commit number in ``00003-<uuid>.metadata.json`` or ``v3.metadata.json``."""
    head = path.name.split("-", 1)[0].split(".", 1)[0].lstrip("v")
    return int(head) if head.isdigit() else -1


def _over_dataset(shown: str, data: Any, version: dict[str, Any], reader: str) -> OpenSource:
    """DuckDB over Parquet files (a list of paths) or an Arrow dataset, with projection pushdown."""
    import duckdb
    import ibis

    backend = ibis.duckdb.connect()
    if isinstance(data, list):
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in data)
        backend.con.execute(f"CREATE VIEW {TABLE_VIEW} AS SELECT * FROM read_parquet([{listed}])")
    else:
        backend.con.register(TABLE_VIEW, data)
    return OpenSource(
        "duckdb",
        shown,
        None,
        None,
        f"DuckDB {duckdb.__version__} ({reader})",
        backend,
        backend.table(TABLE_VIEW),
        backend.con.interrupt,
        table_version=version,
    )


def _open_postgres(url: str, shown: str, table: str | None, query: str | None) -> OpenSource:
    import ibis

    parts = urlsplit(url)
    user, host = postgres_account(url)
    password = unquote(parts.password) if parts.password else os.environ.get("PGPASSWORD")
    if password is None and user is not None:
        password = keyring_password(user, host)
    backend = ibis.postgres.connect(
        host=host,
        port=parts.port or int(os.environ.get("PGPORT", "5432")),
        user=user,
        password=password,
        database=parts.path.lstrip("/") or os.environ.get("PGDATABASE"),
        connect_timeout=10,
    )
    expr = _pick(backend, shown, table, query)
    version = f"PostgreSQL {'.'.join(map(str, backend.version)) if isinstance(backend.version, tuple) else backend.version}"
    return OpenSource("postgres", shown, table, query, version, backend, expr, backend.con.cancel_safe)


SPARK_EXTRA = (
    "a Spark Connect source ({url}) needs pyspark, which this installation of Signoff lacks: install "
    "Signoff with its optional 'spark' extra (pip install 'signoff[spark]'), or register the log "
    "through DuckDB or PostgreSQL"
)


def _open_spark(url: str, shown: str, table: str | None, query: str | None) -> OpenSource:
    import ibis

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError(SPARK_EXTRA.format(url=shown)) from None

    # The Spark Connect client retries an unreachable server for minutes; ask the socket first.
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "localhost", parts.port or 15002), timeout=10):
        pass
    token = os.environ.get("SIGNOFF_SPARK_TOKEN")  # the stored URL never holds one
    if token and "token=" not in url:
        url = f"{url.rstrip('/')}/;token={token}"
    session = SparkSession.builder.remote(url).getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")  # days are UTC days, as for imported logs
    session.sql("SELECT 1").collect()  # fails here, clearly, when nothing answers
    backend = ibis.pyspark.connect(session)
    expr = _pick(backend, shown, table, query)
    return OpenSource(
        "spark", shown, table, query, f"Spark {session.version}", backend, expr, session.interruptAll
    )


# -- what registering reads ------------------------------------------------------------------------


OUTCOME_TYPES = ("boolean", "integer", "string")


def check_columns(source: OpenSource, mapping: ColumnMapping) -> dict[str, str]:
    """The source's schema (column -> type), after checking every mapped column is there and fits."""
    schema = {name: str(dtype) for name, dtype in source.table.schema().items()}
    for column in mapping.mapped_columns():
        if column not in schema:
            raise InputError(
                f"the source {source.described} has no column {column!r}; it has {sorted(schema)}",
                column=column,
            )
    types = dict(source.table.schema().items())
    for column in (mapping.label, mapping.prediction):
        kind = types[column]
        if not (kind.is_boolean() or kind.is_integer() or kind.is_string()):
            raise InputError(
                f"the source {source.described} holds {schema[column]} in {column!r}, not an outcome "
                "(boolean, integer or text)",
                column=column,
            )
    for column in mapping.scores:
        if not types[column].is_numeric():
            raise InputError(
                f"the source {source.described} holds {schema[column]} in the score column {column!r}, "
                "not numbers",
                column=column,
            )
    if mapping.timestamp is not None and not (types[mapping.timestamp].is_temporal()):
        raise InputError(
            f"the source {source.described} holds {schema[mapping.timestamp]} in the timestamp column "
            f"{mapping.timestamp!r}, not dates or times",
            column=mapping.timestamp,
        )
    return schema


def profile(
    source: OpenSource, mapping: ColumnMapping, cancelled: IsCancelled | None = None
) -> dict[str, Any]:
    """Row count and per-column aggregates of the mapped columns, and the scores' distinct values and
    values outside [0, 1], in one query: what registering checks and keeps."""
    import ibis

    t = source.table
    types = dict(t.schema().items())
    aggregates: dict[str, Any] = {"rows": t.count()}
    for i, column in enumerate(mapping.mapped_columns()):
        value = t[column]
        kind = types[column]
        if kind.is_boolean():  # PostgreSQL has no min/max of booleans nor a cast to integers
            value = ibis.cases((value, 1), (~value, 0))
        aggregates[f"c{i}_present"] = value.count()
        aggregates[f"c{i}_min"] = value.min()
        aggregates[f"c{i}_max"] = value.max()
        if kind.is_numeric() or kind.is_boolean():
            aggregates[f"c{i}_sum"] = value.cast("float64").sum()
    for i, column in enumerate(mapping.scores):
        aggregates[f"s{i}_distinct"] = t[column].nunique()
        aggregates[f"s{i}_outside"] = ((t[column] < 0) | (t[column] > 1)).ifelse(1, 0).sum()
    row = source.fetch(t.aggregate(**aggregates), cancelled).iloc[0]
    out: dict[str, Any] = {"rows": int(row["rows"]), "columns": {}}
    for i, column in enumerate(mapping.mapped_columns()):
        out["columns"][column] = {
            "present": int(row[f"c{i}_present"]),
            "min": _plain(row[f"c{i}_min"]),
            "max": _plain(row[f"c{i}_max"]),
            **({"sum": _rounded(row[f"c{i}_sum"])} if f"c{i}_sum" in row else {}),
        }
    for i, column in enumerate(mapping.scores):
        out["columns"][column]["distinct"] = int(row[f"s{i}_distinct"])
        out["columns"][column]["outside_0_1"] = int(row[f"s{i}_outside"] or 0)
    return out


def fingerprint(
    source: OpenSource,
    mapping: ColumnMapping,
    cancelled: IsCancelled | None = None,
    *,
    known: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What says whether the source changed. A Delta or Iceberg table: its table id and version (every
    commit makes a new version) and its row count, read from its log or metadata and the files.
    Parquet files: their footers (row groups' row counts, column statistics and sizes), read without
    a scan. Otherwise: row count and per-column aggregates (a scan of the mapped columns), taken from
    ``known`` (a profile) when given; through SQL alone the aggregates notice appended, deleted and
    rewritten rows in all but contrived cases.
    """
    if source.table_version is not None:
        return source.table_version
    if source.parquet_glob is not None:
        return _parquet_fingerprint(source, mapping)
    facts = known or profile(source, mapping, cancelled)
    kept = ("present", "min", "max", "sum")
    return {
        "rows": facts["rows"],
        "columns": {c: {k: v for k, v in f.items() if k in kept} for c, f in facts["columns"].items()},
    }


def _parquet_fingerprint(source: OpenSource, mapping: ColumnMapping) -> dict[str, Any]:
    pattern = str(source.parquet_glob).replace("'", "''")
    wanted = ", ".join("'" + c.replace("'", "''") + "'" for c in mapping.mapped_columns())
    rows = source.backend.con.sql(
        "SELECT file_name, row_group_id, row_group_num_rows, path_in_schema, stats_min, stats_max, "
        f"total_compressed_size FROM parquet_metadata('{pattern}') WHERE path_in_schema IN ({wanted}) "
        "ORDER BY ALL"
    ).fetchall()
    groups = {(r[0], r[1]): r[2] for r in rows}
    return {
        "rows": int(sum(groups.values())),
        "files": len({r[0] for r in rows}),
        "parquet_footers_sha256": sha256_hex(canonical_json([[str(v) for v in r] for r in rows])),
    }


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, (int, str, bool)) else _rounded(value)


def _rounded(value: Any) -> float | None:
    # Engines add floats in parallel in no fixed order: 10 significant digits are stable across runs.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(f"{float(value):.10g}")


def outcome_pairs(
    source: OpenSource, mapping: ColumnMapping, cancelled: IsCancelled | None = None
) -> pd.DataFrame:
    """Rows per (label, prediction), missing ones included: the label domain and missing outcomes."""
    t = source.table
    expr = t.group_by([mapping.label, mapping.prediction]).aggregate(**{ROWS: t.count()})
    return source.fetch(expr, cancelled)


# -- count tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountQuery:
    """A count table fetched from the source (columns: the groups, ``ROWS`` and score sums), the
    histogram's bin width (None: exact scores) and the SQL the engine ran for it."""

    frame: pd.DataFrame
    score_resolution: float | None
    sql: str


def count_table(
    source: OpenSource,
    *,
    keys: Sequence[str],
    outcomes: Sequence[str],
    score: str | None = None,
    exact_scores: bool = True,
    day: str | None = None,
    cancelled: IsCancelled | None = None,
) -> CountQuery:
    """One GROUP BY over ``keys`` (as text, like an imported log's sensitive columns) x ``outcomes``
    (x the score, exactly or in histogram bins) (x ``day``, the timestamp's UTC date)."""
    import ibis

    t = source.table
    groups: dict[str, Any] = {k: t[k].cast("string") for k in keys}
    groups.update({c: t[c] for c in outcomes if c not in groups})
    aggregates: dict[str, Any] = {ROWS: t.count()}
    resolution = None
    if day is not None:
        groups[day] = t[day].cast("timestamp").truncate("D").cast("date")
    if score is not None:
        s = t[score].cast("float64")
        if exact_scores:
            groups[score] = s
        else:
            resolution = 1 / HISTOGRAM_BINS
            groups[score] = (s * HISTOGRAM_BINS).floor()
            groups[ECE_BIN] = ibis.least((s * ECE_BINS).floor(), ECE_BINS - 1)
        aggregates[SCORE_SUM] = s.sum()
        aggregates[SCORE_SQUARES] = (s * s).sum()
    expr = t.group_by(**groups).aggregate(**aggregates)
    frame = source.fetch(expr, cancelled)
    if score is not None and not exact_scores:
        # the bin's lower edge in [0, 1); its width is the stated resolution
        frame[score] = frame[score].astype(float).clip(upper=HISTOGRAM_BINS - 1) / HISTOGRAM_BINS
    frame = frame.sort_values(list(frame.columns[: len(groups)]), kind="stable", na_position="last")
    return CountQuery(frame.reset_index(drop=True), resolution, source.sql(expr))


# -- validation profiles ---------------------------------------------------------------------------


def column_profiles(
    source: OpenSource, mapping: ColumnMapping, *, top: int, cancelled: IsCancelled | None = None
) -> LogProfile:
    """Profiles of the mapped columns as ``signoff.analysis.profiles`` writes them for an imported log,
    computed by the engine: aggregates for numbers (quantiles interpolated linearly, as numpy does) and
    times, value counts for text and booleans (few values: sensitive attributes and outcomes)."""
    t = source.table
    types = dict(t.schema().items())
    columns = mapping.mapped_columns()
    aggregates: dict[str, Any] = {"rows": t.count()}
    for i, column in enumerate(columns):
        value, kind = t[column], types[column]
        if kind.is_boolean() or kind.is_string():
            continue
        aggregates[f"c{i}_present"] = value.count()
        aggregates[f"c{i}_distinct"] = value.nunique()
        aggregates[f"c{i}_min"] = value.min()
        aggregates[f"c{i}_max"] = value.max()
        if kind.is_numeric():
            number = value.cast("float64")
            aggregates[f"c{i}_mean"] = number.mean()
            aggregates[f"c{i}_std"] = number.std()
            for j, p in enumerate(PROFILE_QUANTILES):
                aggregates[f"c{i}_q{j}"] = number.quantile(p)
    row = source.fetch(t.aggregate(**aggregates), cancelled).iloc[0]
    rows = int(row["rows"])
    profiles = []
    for i, column in enumerate(columns):
        kind = types[column]
        if kind.is_boolean() or kind.is_string():
            counts = source.fetch(t.group_by(column).aggregate(**{ROWS: t.count()}), cancelled)
            profiles.append(_category_profile(column, str(kind), rows, counts, top))
            continue
        present = int(row[f"c{i}_present"])
        common = {
            "name": column,
            "dtype": str(kind),
            "rows": rows,
            "missing": rows - present,
            "distinct": int(row[f"c{i}_distinct"]),
        }
        if kind.is_temporal():
            low, high = row[f"c{i}_min"], row[f"c{i}_max"]
            profiles.append(
                ColumnProfile(
                    **common, kind=ColumnKind.DATETIME, minimum=_utc_text(low), maximum=_utc_text(high)
                )
                if present
                else ColumnProfile(**common, kind=ColumnKind.DATETIME)
            )
            continue
        if not present:
            profiles.append(ColumnProfile(**common, kind=ColumnKind.NUMERIC))
            continue
        std = row[f"c{i}_std"]
        profiles.append(
            ColumnProfile(
                **common,
                kind=ColumnKind.NUMERIC,
                minimum=float(row[f"c{i}_min"]),
                maximum=float(row[f"c{i}_max"]),
                mean=float(row[f"c{i}_mean"]),
                std=float(std) if present > 1 and std is not None and not pd.isna(std) else None,
                quantiles=tuple((p, float(row[f"c{i}_q{j}"])) for j, p in enumerate(PROFILE_QUANTILES)),
            )
        )
    return LogProfile(rows=rows, columns=tuple(profiles))


def _category_profile(column: str, dtype: str, rows: int, counts: pd.DataFrame, top: int) -> ColumnProfile:
    present = counts[counts[column].notna()]
    # text as an imported log writes it (a boolean True as "True"); most frequent first, ties by text
    ranked = sorted(
        (
            (str(v.item() if hasattr(v, "item") else v), int(n))
            for v, n in zip(present[column], present[ROWS], strict=True)
        ),
        key=lambda item: (-item[1], item[0]),
    )
    return ColumnProfile(
        name=column,
        kind=ColumnKind.CATEGORICAL,
        dtype=dtype,
        rows=rows,
        missing=rows - sum(n for _, n in ranked),
        distinct=len(ranked),
        top_categories=tuple(
            CategoryCount(value=value, count=n, share=n / rows if rows else 0.0) for value, n in ranked[:top]
        ),
        other_categories=sum(n for _, n in ranked[top:]),
    )


def _utc_text(value: Any) -> str:
    moment = pd.Timestamp(value)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return moment.isoformat()


def value_counts(
    source: OpenSource,
    columns: Sequence[str],
    *,
    histogram: Sequence[str] = (),
    cancelled: IsCancelled | None = None,
) -> dict[str, pd.DataFrame]:
    """Rows per distinct value of each column (``column``, ``ROWS``); columns in ``histogram`` (numbers
    with too many distinct values) per bin of width 1/HISTOGRAM_BINS, named by its lower edge."""
    t = source.table
    out = {}
    for column in columns:
        key = t[column]
        if column in histogram:
            key = (key.cast("float64") * HISTOGRAM_BINS).floor() / HISTOGRAM_BINS
        frame = source.fetch(t.group_by(**{column: key}).aggregate(**{ROWS: t.count()}), cancelled)
        out[column] = frame
    return out
