"""Prediction-log import speed and memory (issue 2), measured against pyarrow in the same run.

1. A 1,000,000-row x 20-column CSV through Signoff's full import service (validation, canonical
   Parquet, evidence store, log row, audit event; SQLite) versus ``pyarrow.csv.read_csv`` +
   ``pyarrow.parquet.write_table`` of the same file. Target: at most 2x.
2. With ``--big``: a 10,000,000-row log imported in a separate process, which reports its own peak
   resident memory (``resource.getrusage``). Target: under 4 GiB.

    python benchmarks/log_import.py [--rows 1000000] [--big] [--big-rows 10000000]
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

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FEATURES = 13  # with id, timestamp, label, prediction, score, sex, race: 20 columns
BATCH = 500_000


def write_csv(path: Path, rows: int, seed: int = 11) -> Path:
    """A binary-classification log with 20 columns, written in batches (any size fits in memory)."""
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, BATCH):
        n = min(BATCH, rows - start)
        score = rng.random(n)
        columns = {
            "id": np.arange(start + 1, start + n + 1),
            "ts": pa.array(
                np.datetime64("2026-01-01T00:00:00") + ((start + np.arange(n)) * 3).astype("timedelta64[s]")
            ).cast(pa.string()),
            "label": (rng.random(n) < 0.3).astype(np.int8),
            "prediction": (score > 0.5).astype(np.int8),
            "score": np.round(score, 6),
            "sex": rng.choice(["Female", "Male"], n),
            "race": rng.choice(["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"], n),
        }
        for i in range(FEATURES):
            columns[f"f{i}"] = np.round(rng.normal(size=n), 5)
        table = pa.table(columns)
        if writer is None:
            writer = pacsv.CSVWriter(path, table.schema)
        writer.write_table(table)
    writer.close()
    return path


def mapping():
    from signoff.domain.prediction_log import ColumnMapping

    return ColumnMapping(
        label="label",
        prediction="prediction",
        scores=("score",),
        sensitive=("sex", "race"),
        features=tuple(f"f{i}" for i in range(FEATURES)),
        id="id",
        timestamp="ts",
    )


def signoff_import(csv: Path, folder: Path) -> tuple[float, int]:
    from signoff.services.logs import import_log
    from signoff.services.models import add_model_version
    from signoff.storage import open_database

    db = open_database(f"sqlite:///{folder / 'bench.db'}")
    add_model_version(db, name="bench", version="1")
    started = time.perf_counter()
    outcome = import_log(db, csv, model="bench", version="1", mapping=mapping())
    seconds = time.perf_counter() - started
    db.close()
    return seconds, outcome.log.rows


def pyarrow_reference(csv: Path, folder: Path) -> float:
    started = time.perf_counter()
    table = pacsv.read_csv(csv)
    pq.write_table(table, folder / "reference.parquet")
    return time.perf_counter() - started


def child(csv: str, folder: str) -> None:
    """Run in a fresh process: import, then report this process's own peak memory."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    seconds, rows = signoff_import(Path(csv), Path(folder))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_bytes": peak_kib * 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big", action="store_true", help="also import a 10,000,000-row log for peak memory")
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--only-big", action="store_true", help="skip the side-by-side 1M-row run")
    parser.add_argument("--child", nargs=2, metavar=("CSV", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        folder = Path(tmp)
        if not args.only_big:
            csv = write_csv(folder / "log.csv", args.rows)
            size = csv.stat().st_size
            reference = pyarrow_reference(csv, folder)
            seconds, rows = signoff_import(csv, folder)
            assert rows == args.rows
            print(f"{args.rows:,} rows x 20 columns, CSV {size / 1e6:,.0f} MB")
            print(f"  pyarrow read_csv + write_table   {reference:7.2f} s")
            print(f"  signoff import log (full)        {seconds:7.2f} s")
            print(f"  ratio                            {seconds / reference:7.2f}x   (target <= 2x)")

        if args.big or args.only_big:
            big = write_csv(folder / "big.csv", args.big_rows, seed=12)
            run = subprocess.run(
                [sys.executable, __file__, "--child", str(big), str(folder / "big")],
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode != 0:
                sys.exit(f"the 10M-row import failed:\n{run.stderr}")
            figures = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{figures['rows']:,} rows x 20 columns, CSV {big.stat().st_size / 1e9:,.2f} GB")
            print(
                f"  signoff import log: {figures['seconds']:.1f} s, peak RSS {figures['peak_bytes'] / 2**30:.2f} GiB"
                "   (target < 4 GiB)"
            )


if __name__ == "__main__":
    main()
