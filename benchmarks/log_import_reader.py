"""Prediction-log import speed and memory: ``canonicalise_log`` against plain pyarrow, side by side.

Default: writes a 1,000,000-row x 20-column CSV log to a temporary folder, then times, alternately and
several times, (a) ``pyarrow.csv.read_csv`` + ``pyarrow.parquet.write_table`` of that file and (b)
``canonicalise_log`` (validation included) of the same file, and prints the best time of each and
their ratio (target: <= 2). ``--rows 10000000`` instead imports a log of that size in a separate
process and prints that process's peak resident memory (target: < 4 GiB).

    PYTHONPATH=app .venv/bin/python benchmarks/log_import_reader.py [--rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from signoff.domain.prediction_log import ColumnMapping
from signoff.importers.prediction_log import canonicalise_log

MAPPING = ColumnMapping(
    id="id",
    timestamp="timestamp",
    label="label",
    prediction="prediction",
    scores=("score",),
    sensitive=("sex", "race", "age_band"),
    features=tuple(f"f{i}" for i in range(8)) + tuple(f"n{i}" for i in range(4)),
)


def write_log(path: Path, rows: int, *, seed: int = 0, chunk: int = 1_000_000) -> None:
    """A realistic 20-column log: ids, ISO timestamps, 0/1 label and prediction, a score, three
    sensitive attributes, eight float and four integer features. Written in chunks (bounded memory)."""
    rng = np.random.default_rng(seed)
    with pa_csv.CSVWriter(path, _schema()) as writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            seconds = rng.integers(0, 86_400 * 90, n).astype("timedelta64[s]")
            columns = {
                "id": pa.array(np.char.add("row-", np.arange(start, start + n).astype(str))),
                "timestamp": pa.array(
                    np.datetime_as_string(np.datetime64("2024-01-01T00:00:00") + seconds) + "Z"
                ),
                "label": rng.integers(0, 2, n),
                "prediction": rng.integers(0, 2, n),
                "score": np.round(rng.random(n), 6),
                "sex": pa.array(np.array(["female", "male"])[rng.integers(0, 2, n)]),
                "race": pa.array(np.array(["a", "b", "c", "d", "e"])[rng.integers(0, 5, n)]),
                "age_band": pa.array(np.array(["18-25", "26-40", "41-65", "65+"])[rng.integers(0, 4, n)]),
            }
            for i in range(8):
                columns[f"f{i}"] = np.round(rng.normal(size=n), 5)
            for i in range(4):
                columns[f"n{i}"] = rng.integers(0, 1000, n)
            writer.write_table(pa.table(columns, schema=_schema()))


def _schema() -> pa.Schema:
    fields = [
        ("id", pa.string()),
        ("timestamp", pa.string()),
        ("label", pa.int64()),
        ("prediction", pa.int64()),
    ]
    fields += [
        ("score", pa.float64()),
        ("sex", pa.string()),
        ("race", pa.string()),
        ("age_band", pa.string()),
    ]
    fields += [(f"f{i}", pa.float64()) for i in range(8)] + [(f"n{i}", pa.int64()) for i in range(4)]
    return pa.schema(fields)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return usage.ru_utime + usage.ru_stime


def reference(csv_path: Path, out: Path) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _cpu()
    pq.write_table(pa_csv.read_csv(csv_path), out)
    return time.perf_counter() - start, _cpu() - cpu


def signoff_import(csv_path: Path, work_dir: Path) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _cpu()
    result = canonicalise_log(csv_path, MAPPING, work_dir=work_dir)
    elapsed = time.perf_counter() - start, _cpu() - cpu
    result.parquet_path.unlink()
    return elapsed


def compare(rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "log.csv"
        write_log(csv_path, rows)
        size = csv_path.stat().st_size
        print(f"log: {rows:,} rows x 20 columns, {size / 1e6:.0f} MB CSV")
        ours, theirs = [], []
        for _ in range(repeat):
            theirs.append(reference(csv_path, folder / "reference.parquet"))
            ours.append(signoff_import(csv_path, folder / "work"))
        best_ref, best_ours = min(t for t, _ in theirs), min(t for t, _ in ours)
        cpu_ref, cpu_ours = min(c for _, c in theirs), min(c for _, c in ours)
        print(
            f"pyarrow read_csv + write_table : {best_ref:6.2f} s  cpu {cpu_ref:5.2f} s  (runs: {_list(theirs)})"
        )
        print(
            f"signoff canonicalise_log       : {best_ours:6.2f} s  cpu {cpu_ours:5.2f} s  (runs: {_list(ours)})"
        )
        print(f"ratio (best wall time)         : {best_ours / best_ref:6.2f}  (target <= 2.00)")
        print(f"ratio (cpu time)               : {cpu_ours / cpu_ref:6.2f}")


def memory(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "log.csv"
        write_log(csv_path, rows)
        print(f"log: {rows:,} rows x 20 columns, {csv_path.stat().st_size / 1e9:.2f} GB CSV")
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(csv_path), str(folder / "work")],
            capture_output=True,
            text=True,
            check=True,
        )
        print(child.stdout.strip())


def child(csv_path: Path, work_dir: Path) -> None:
    start = time.perf_counter()
    result = canonicalise_log(csv_path, MAPPING, work_dir=work_dir)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(
        f"imported {result.rows:,} rows in {elapsed:.1f} s; peak RSS {peak / 2**30:.2f} GiB (target < 4 GiB)"
    )


def _list(runs: list[tuple[float, float]]) -> str:
    return ", ".join(f"{wall:.2f}" for wall, _ in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("CSV", "WORK_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
    elif args.rows > 2_000_000:
        memory(args.rows)
    else:
        compare(args.rows, args.repeat)


if __name__ == "__main__":
    main()
