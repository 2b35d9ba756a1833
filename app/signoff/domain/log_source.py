"""External log sources: a prediction log that stays in a warehouse or a lake and is asked, not copied.

A source is named by a URL (``duckdb:///path/*.parquet``, ``postgresql+psycopg://host/db``,
``sc://host:15002``) and a table or query. What Signoff keeps is the URL without credentials, the query
text, the engine and its version, the schema, the row count and a fingerprint that says when it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from signoff.domain.errors import InputError

# Columns of a count table fetched from a source, beside the grouped columns themselves.
ROWS = "__rows"  # how many log rows a fetched row stands for
SCORE_SUM = "__score_sum"  # sum of the scores in the fetched row's cell
SCORE_SQUARES = "__score_squares"  # sum of the squared scores
ECE_BIN = "__ece_bin"  # the calibration bin the engine put the scores in

SOURCE_MEDIA_TYPE = "application/vnd.signoff.log-source+json"
ENGINES = {"duckdb": "duckdb", "postgresql": "postgres", "postgresql+psycopg": "postgres", "sc": "spark"}
UNKNOWN_SCHEME = (
    "the source URL {url!r} names no engine Signoff can ask; use duckdb:///path/to/*.parquet, "
    "postgresql+psycopg://host/database or sc://host:15002"
)


def engine_of(url: str) -> str:
    """``duckdb``, ``postgres`` or ``spark``, from the URL's scheme."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ENGINES:
        raise InputError(UNKNOWN_SCHEME.format(url=redact_url(url)))
    return ENGINES[scheme]


def redact_url(url: str) -> str:
    """The URL with user name and password removed: what may be stored and shown."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<an unreadable URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, _without_secrets(parts.query), parts.fragment))


def _without_secrets(query: str) -> str:
    kept = [
        p for p in query.split("&") if p and p.split("=", 1)[0].lower() not in {"password", "user", "token"}
    ]
    return "&".join(kept)


@dataclass(frozen=True)
class LogSource:
    """A registered external source of a log (``log_id`` is the prediction log it stands for)."""

    log_id: int
    engine: str  # duckdb, postgres, spark
    url: str  # without credentials
    table: str | None
    query: str | None
    engine_version: str
    fingerprint: dict[str, Any] = field(default_factory=dict)
    schema: dict[str, str] = field(default_factory=dict)

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
        }

    @property
    def described(self) -> str:
        """How a person recognises it: the URL and the table or query."""
        what = self.table or (self.query and f"query {self.query[:80]!r}")
        return f"{self.url} ({what})" if what else self.url
