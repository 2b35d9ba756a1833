"""``signoff audit verify`` over 100,000 events: target under 2 s (issue 2).

Fills a fresh SQLite file (and, with ``--postgresql URL``, an empty PostgreSQL database) with 100,000
chained events, then times the verification the command runs, streaming the events in order.

    python benchmarks/audit_verify.py [--events 100000] [--postgresql postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy

from signoff.domain.audit import chain_event
from signoff.domain.canonical import canonical_json
from signoff.services.audit import verify_audit_log
from signoff.storage import open_database


def fill(url: str, count: int) -> None:
    """Chain ``count`` events and write them in bulk (appending one by one would time the setup)."""
    db = open_database(url)
    db.close()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows, previous = [], None
    for i in range(count):
        previous = chain_event(
            previous,
            occurred_at=start + timedelta(seconds=i),
            actor="reviewer@example.com",
            action="log.imported",
            entity=f"prediction_log:{i}",
            payload={"rows": 1_000_000 + i, "sha256": f"{i:064x}", "model": "credit risk", "version": "3"},
        )
        rows.append(
            {
                "sequence": previous.sequence,
                "occurred_at": previous.occurred_at
                if "postgresql" in url
                else previous.occurred_at.replace(tzinfo=None),
                "actor": previous.actor,
                "action": previous.action,
                "entity": previous.entity,
                "payload": canonical_json(previous.payload).decode(),
                "previous_hash": previous.previous_hash,
                "hash": previous.hash,
            }
        )
    engine = sqlalchemy.create_engine(url)
    table = sqlalchemy.Table("audit_event", sqlalchemy.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
        connection.execute(
            sqlalchemy.text("UPDATE audit_head SET sequence = :s, hash = :h"),
            {"s": previous.sequence, "h": previous.hash},
        )
    engine.dispose()


def measure(label: str, url: str, count: int) -> None:
    fill(url, count)
    db = open_database(url)
    started, cpu_started = time.perf_counter(), time.process_time()
    verdict = verify_audit_log(db)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    db.close()
    assert verdict.ok and verdict.events_checked == count, verdict
    print(
        f"{label:<12} {count:>9,} events verified in {seconds:6.2f} s wall, {cpu_seconds:5.2f} s CPU in Signoff's "
        "process   (target < 2 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--postgresql", metavar="URL", help="an empty PostgreSQL database to fill")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args.events)
    if args.postgresql:
        measure("PostgreSQL", args.postgresql, args.events)


if __name__ == "__main__":
    main()
