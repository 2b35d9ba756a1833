"""Fairness of a log that stays in Parquet files: Signoff's pushed-down analysis beside DuckDB's bare GROUP BY.

Generates a Parquet log (default 100M rows: race, sex, label, prediction, score), then, each in a fresh
process so their memory is their own: DuckDB's bare ``GROUP BY race, sex, label, prediction`` over the
files, and Signoff's fairness analysis of the registered source by race x sex with 1,000 bootstrap
resamples (fingerprint from the footers, one GROUP BY, the statistics, the run recorded). Targets
(issue 17): Signoff under 30 s, within 1.5x of the bare GROUP BY, under 1 GiB resident. ``--spark URL``
runs the same analysis through a Spark Connect server already running (e.g. ``local[2]``); ``--delta``
also writes the log as a Delta table (delta-rs) and analyses it through its Arrow dataset.

    python benchmarks/sources.py [--rows 100000000] [--folder DIR] [--spark sc://127.0.0.1:15002] [--delta]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(path: Path, rows: int) -> None:
    import duckdb

    if path.exists():
        return
    con = duckdb.connect()
    con.execute("SELECT setseed(0.17)")
    con.execute(
        f"""
        COPY (
          SELECT
            CASE WHEN r1 < 0.6 THEN 'White' WHEN r1 < 0.75 THEN 'Black' WHEN r1 < 0.87 THEN 'Hispanic'
                 WHEN r1 < 0.97 THEN 'Asian' ELSE 'Other' END AS race,
            CASE WHEN r2 < 0.52 THEN 'Female' ELSE 'Male' END AS sex,
            (r3 < score)::INTEGER AS label,
            (score > CASE WHEN r2 < 0.52 THEN 0.55 ELSE 0.5 END)::INTEGER AS prediction,
            score
          FROM (SELECT random() AS r1, random() AS r2, random() AS r3, round(random(), 3) AS score
                FROM range({rows}))
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
        """
    )
    con.close()


def delta_copy(path: Path) -> Path:
    """The same rows as a Delta table beside the Parquet file (written once, in record batches)."""
    import pyarrow.dataset as ds
    from deltalake import write_deltalake

    folder = path.with_suffix(".delta")
    if not (folder / "_delta_log").is_dir():
        dataset = ds.dataset(path)
        write_deltalake(folder, dataset.scanner(batch_size=1_000_000).to_reader())
    return folder


def bare_group_by(path: Path) -> dict:
    import duckdb

    started = time.perf_counter()
    cells = duckdb.sql(
        f"SELECT race, sex, label, prediction, count(*) FROM read_parquet('{path}') GROUP BY ALL"
    ).fetchall()
    return {"seconds": time.perf_counter() - started, "cells": len(cells)}


def signoff_fairness(path: Path, url: str, query: str | None, folder: Path) -> dict:
    from signoff.domain.prediction_log import ColumnMapping
    from signoff.services.fairness import analyze_fairness
    from signoff.services.models import add_model_version
    from signoff.services.sources import register_source
    from signoff.storage import open_database

    db = open_database(f"sqlite:///{folder / f'signoff-{time.monotonic_ns()}.db'}")
    add_model_version(db, name="bench", version="1")
    mapping = ColumnMapping(label="label", prediction="prediction", sensitive=("race", "sex"))
    started = time.perf_counter()
    log = register_source(db, model="bench", version="1", url=url, query=query, mapping=mapping).log
    registered = time.perf_counter() - started
    started = time.perf_counter()
    run = analyze_fairness(
        db, name="bench", version="1", log_id=log.id, intersections=[("race", "sex")], n_resamples=1000
    )
    seconds = time.perf_counter() - started
    db.close()
    return {
        "register_seconds": registered,
        "seconds": seconds,
        "rows": run.result.n_rows,
        "count_table_rows": run.run.result["source"]["count_table_rows"],
    }


def _child(phase: str, args: argparse.Namespace, path: Path) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--path", str(path), "--folder", str(args.folder)]
    if args.spark:
        command += ["--spark", args.spark]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "signoff-bench-sources")
    parser.add_argument("--spark", help="a running Spark Connect server's URL, to run the analysis there too")
    parser.add_argument("--delta", action="store_true", help="also analyse the log written as a Delta table")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        if args.phase == "bare":
            result = bare_group_by(args.path)
        elif args.phase in ("signoff", "delta"):
            result = signoff_fairness(args.path, f"duckdb://{args.path}", None, args.folder)
        else:
            result = signoff_fairness(
                args.path, args.spark, f"SELECT * FROM parquet.`{args.path}`", args.folder
            )
        result["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    path = args.folder / f"log-{args.rows}.parquet"
    started = time.perf_counter()
    generate(path, args.rows)
    print(
        f"log: {args.rows:,} rows, {path.stat().st_size / 2**20:,.0f} MiB ({time.perf_counter() - started:.1f} s)"
    )
    _child("bare", args, path)  # warms the page cache for both
    bare = _child("bare", args, path)
    ours = _child("signoff", args, path)
    print(f"DuckDB bare GROUP BY:         {bare['seconds']:6.2f} s  RSS {bare['max_rss_mib']:6.0f} MiB")
    print(
        f"Signoff fairness (race x sex, 1000 resamples): {ours['seconds']:6.2f} s  RSS {ours['max_rss_mib']:6.0f} MiB"
        f"  ({ours['seconds'] / bare['seconds']:.2f}x bare; registering took {ours['register_seconds']:.2f} s;"
        f" count table {ours['count_table_rows']} rows)"
    )
    if args.delta:
        folder = delta_copy(path)
        delta = _child("delta", args, folder)
        print(
            f"Signoff fairness on Delta:    {delta['seconds']:6.2f} s  RSS {delta['max_rss_mib']:6.0f} MiB"
            f"  (registering took {delta['register_seconds']:.2f} s)"
        )
    if args.spark:
        spark = _child("spark", args, path)
        print(
            f"Signoff fairness on Spark:    {spark['seconds']:6.2f} s  RSS {spark['max_rss_mib']:6.0f} MiB"
            f"  (registering took {spark['register_seconds']:.2f} s)"
        )


if __name__ == "__main__":
    main()
