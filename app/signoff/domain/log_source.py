"""External log sources: a prediction log that stays in a warehouse or a lake and is asked, not copied.

A source is named by a URL (``duckdb:///path/*.parquet``, ``duckdb:///path/to/delta_table``,
``postgresql+psycopg://host/db``, ``sc://host:15002``) and a table or query. What Signoff keeps is the URL without credentials, the query
text, the engine and its version, the schema, the row count and a fingerprint that says when it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from signoff.domain.errors import InputError
from signoff.domain.prediction_log import PredictionLog

# Columns of a count table fetched from a source, beside the grouped columns themselves.
ROWS = "__rows"  # how many log rows a fetched row stands for
SCORE_SUM = "__score_sum"  # sum of the scores in the fetched row's cell
SCORE_SQUARES = "__score_squares"  # sum of the squared scores
ECE_BIN = "__ece_bin"  # the calibration bin the engine put the scores in

SOURCE_MEDIA_TYPE = "application/vnd.signoff.log-source+json"
ENGINES = {"duckdb": "duckdb", "postgresql": "postgres", "postgresql+psycopg": "postgres", "sc": "spark"}
UNKNOWN_SCHEME = (
    "the source URL {url!r} names no engine Signoff can ask; use duckdb:///path/to/*.parquet, "
    "duckdb:///path/to/delta_table, "
    "postgresql+psycopg://host/database or sc://host:15002"
)


def engine_of(url: str) -> str:
    """``duckdb``, ``postgres`` or ``spark``, from the URL's scheme."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ENGINES:
        raise InputError(UNKNOWN_SCHEME.format(url=redact_url(url)))
    return ENGINES[scheme]


def redact_url(url: str) -> str:
    """The URL with its password (and any token or password parameter) removed: what may be stored
    and shown. The user name stays: it says whose rights the engine applied, and is no secret."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<an unreadable URL>"
    path = _without_secrets(parts.path, ";")  # Spark Connect: sc://host:15002/;token=...
    if parts.password is None and _without_secrets(parts.query) == parts.query and path == parts.path:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if parts.username is not None:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, path, _without_secrets(parts.query), parts.fragment))


def _without_secrets(text: str, separator: str = "&") -> str:
    parts = text.split(separator)
    kept = [p for p in parts[1:] if p and p.split("=", 1)[0].lower() not in {"password", "token"}]
    first = parts[0] if separator == ";" else None  # before the first ";" is the path itself
    if first is None:
        kept = [p for p in parts if p and p.split("=", 1)[0].lower() not in {"password", "token"}]
        return separator.join(kept)
    return separator.join([first, *kept])


@dataclass(frozen=True)
class LogSource:
    """A registered external source of a log (``log_id`` is the prediction log it stands for)."""

    log_id: int
    engine: str  # duckdb, postgres, spark
    url: str  # without credentials
    table: str | None
    query: str | None
    engine_version: str
    fingerprint: dict[str, Any] = field(default_factory=dict)  # compared at every analysis
    schema: dict[str, str] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)  # per-column facts read at registration

    def to_dict(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "engine": self.engine,
            "url": self.url,
            "table": self.table,
            "query": self.query,
            "engine_version": self.engine_version,
            "fingerprint": self.fingerprint,
            "schema": self.schema,
            "profile": self.profile,
        }

    @property
    def described(self) -> str:
        """How a person recognises it: the URL and the table or query."""
        what = self.table or (self.query and f"query {self.query[:80]!r}")
        return f"{self.url} ({what})" if what else self.url


ROWS_STAY = (
    "log {log_id} is an external source ({source}); its rows stay where they live and are not read "
    "into Signoff; analyses run on it by counting there"
)


def refuse_rows(log: PredictionLog, source: LogSource) -> InputError:
    """The error for a use that needs the rows themselves (features, SHAP, the data table)."""
    return InputError(ROWS_STAY.format(log_id=log.id, source=source.described))
