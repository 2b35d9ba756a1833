"""``signoff verify`` in full over 100,000 audit events and GBs of evidence: target under 60 s for 10 GB.

Fills a fresh SQLite file with 100,000 chained events (as ``audit_verify.py`` does) and ``--gigabytes``
of evidence blobs (256 MiB each, written straight into the chunk table with their true SHA-256), then
times ``verify_database`` in full (every blob re-hashed) and with ``quick=True``. The default is 2 GB,
a fifth of the issue's 10 GB, because writing 10 GB first takes minutes on a shared machine; the full
check is one sequential pass, so its time scales linearly (measured figures: docs/performance.md).

    python benchmarks/verify_full.py [--events 100000] [--gigabytes 2] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_verify import fill as fill_events

from signoff.services.verify import verify_database
from signoff.storage import open_database

CHUNK = 4 * 1024 * 1024
BLOB = 256 * 1024 * 1024


def fill_evidence(url: str, gigabytes: float) -> int:
    """Write distinct blobs of random-looking bytes (a random chunk, numbered) totalling ``gigabytes``."""
    engine = sqlalchemy.create_engine(url)
    metadata = sqlalchemy.MetaData()
    blobs = sqlalchemy.Table("evidence_blob", metadata, autoload_with=engine)
    chunks = sqlalchemy.Table("evidence_chunk", metadata, autoload_with=engine)
    base = os.urandom(CHUNK)
    total = int(gigabytes * 1024**3)
    written = 0
    blob_index = 0
    while written < total:
        size = min(BLOB, total - written)
        digest = hashlib.sha256()
        rows = []
        for index, start in enumerate(range(0, size, CHUNK)):
            data = f"{blob_index:08d}:{index:08d}".encode() + base[17 : min(CHUNK, size - start)]
            digest.update(data)
            rows.append({"chunk_index": index, "data": data})
        sha = digest.hexdigest()
        with engine.begin() as connection:
            connection.execute(
                blobs.insert().values(
                    sha256=sha,
                    size=sum(len(r["data"]) for r in rows),
                    media_type="application/vnd.apache.parquet",
                    created_at=datetime.now(UTC)
                    if "postgresql" in url
                    else datetime.now(UTC).replace(tzinfo=None),
                )
            )
            for row in rows:
                connection.execute(chunks.insert().values(blob_sha256=sha, **row))
        written += size
        blob_index += 1
    engine.dispose()
    return blob_index


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--postgresql", help="an empty PostgreSQL database URL to measure as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = [f"sqlite:///{Path(folder) / 'verify.db'}"] + ([args.postgresql] if args.postgresql else [])
        for url in urls:
            started = time.perf_counter()
            fill_events(url, args.events)
            count = fill_evidence(url, args.gigabytes)
            print(f"{url.split(':')[0]}: filled {args.events} events, {count} blobs, "
                  f"{args.gigabytes} GB in {time.perf_counter() - started:.0f} s")  # fmt: skip
            with open_database(url) as db:
                for quick in (True, False):
                    started = time.perf_counter()
                    verdict = verify_database(db, quick=quick)
                    elapsed = time.perf_counter() - started
                    assert verdict.ok, verdict.to_dict()
                    rate = "" if quick else f", {args.gigabytes / elapsed:.2f} GB/s"
                    print(f"  verify{' --quick' if quick else ''}: {elapsed:.1f} s{rate}")


if __name__ == "__main__":
    main()
