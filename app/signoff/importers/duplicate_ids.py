"""Finding repeated ids in a log of any length in bounded memory: hashed partitions on disk.

Each batch's ids go, with their row positions, to one of ``PARTITIONS`` Arrow files chosen by the ids'
last two bytes, so equal ids always meet in the same file. Afterwards each file alone is sorted by
(id, position): an id equal to its predecessor repeats it. Memory is one batch while writing and one
partition (about rows / 64) while sorting, plus one byte and one int64 per row kept in a disk-backed array,
instead of every id string of the log held at once (about 50 bytes a row).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import ipc

PARTITIONS = 64
_SCHEMA = pa.schema([("id", pa.string()), ("position", pa.int64())])


class DuplicateIds:
    """Feed ``add`` the id column batch by batch, in file order; then ``find`` once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows = 0
        self._writers: dict[int, tuple[pa.NativeFile, ipc.RecordBatchStreamWriter]] = {}
        self.first_position: np.ndarray | None = None  # per row: the row where its id was first seen

    def add(self, ids: pa.Array) -> None:
        positions = pa.array(np.arange(self.rows, self.rows + len(ids), dtype=np.int64))
        self.rows += len(ids)
        present = pc.is_valid(ids)
        ids, positions = (
            pc.filter(ids, present),
            pc.filter(positions, present),
        )  # a missing id repeats nothing
        if len(ids) == 0:
            return
        partition = _partition_of(ids)
        for number in np.unique(partition):
            chosen = pa.array(partition == number)
            batch = pa.record_batch([pc.filter(ids, chosen), pc.filter(positions, chosen)], schema=_SCHEMA)
            self._writer(int(number)).write_batch(batch)

    def find(self) -> np.ndarray | None:
        """A mask over all rows of ids already seen in an earlier row, or None when no id repeats."""
        self._close_writers()
        repeated: np.ndarray | None = None
        for path in sorted(self.folder.glob("part-*.arrow")):
            with pa.memory_map(str(path)) as source:
                table = ipc.open_stream(source).read_all()
            order = pc.sort_indices(table, sort_keys=[("id", "ascending"), ("position", "ascending")])
            ids = table.column("id").take(order)
            positions = table.column("position").take(order).to_numpy()
            same = np.zeros(len(ids), dtype=bool)
            if len(ids) > 1:
                same[1:] = pc.equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
            if not same.any():
                continue
            if repeated is None:
                repeated = np.zeros(self.rows, dtype=bool)
                self.first_position = np.lib.format.open_memmap(
                    self.folder / "first-position.npy", mode="w+", dtype=np.int64, shape=(max(self.rows, 1),)
                )
            # The first row of each run of equal ids is where the id was first seen.
            starts = np.flatnonzero(~same)
            run = np.cumsum(~same) - 1
            first = positions[starts][run]
            repeated[positions[same]] = True
            self.first_position[positions[same]] = first[same]
        return repeated

    def discard(self) -> None:
        self._close_writers()
        self.first_position = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def _writer(self, number: int) -> ipc.RecordBatchStreamWriter:
        if number not in self._writers:
            self.folder.mkdir(parents=True, exist_ok=True)
            sink = pa.OSFile(str(self.folder / f"part-{number:02d}.arrow"), "wb")
            self._writers[number] = (sink, ipc.new_stream(sink, _SCHEMA))
        return self._writers[number][1]

    def _close_writers(self) -> None:
        for sink, writer in self._writers.values():
            writer.close()
            sink.close()
        self._writers.clear()


def _partition_of(ids: pa.Array) -> np.ndarray:
    """The partition of each id from its last two bytes: equal ids, equal partition."""
    tail = pc.binary_slice(pc.utf8_lpad(ids, 2, " ").cast(pa.binary()), -2)
    fixed = tail.cast(pa.binary(2))
    codes = np.frombuffer(fixed.buffers()[1], dtype=np.uint16, count=len(fixed) + fixed.offset)[
        fixed.offset :
    ]
    return (codes % PARTITIONS).astype(np.int64)
