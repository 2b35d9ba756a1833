"""Count tables: the sufficient statistics every rate-based metric is computed from.

The rows are counted once, with ``np.bincount``, into a sparse table over (joint group x cell): the joint
group combines all sensitive attributes, the cell is (label, prediction) for classification or a
calibration bin for scores. Any segment's table (one attribute, an intersection, the whole log) is a
marginal of that one table, and so is every bootstrap resample of it: nothing is counted twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from signoff.analysis.segments import Attribute, Segment
from signoff.domain.errors import InputError

# Dense joint keys must fit one bincount; beyond this the attributes need coarser bins.
MAX_JOINT_CELLS = 1 << 26


@dataclass(frozen=True)
class JointGroups:
    """All sensitive attributes combined: one joint group code per row (mixed radix)."""

    attributes: tuple[Attribute, ...]
    codes: np.ndarray  # int64 per row

    @classmethod
    def from_attributes(cls, attributes: Sequence[Attribute], n_rows: int) -> JointGroups:
        size = math.prod(a.size for a in attributes) if attributes else 1
        if size * 4 > MAX_JOINT_CELLS:
            raise InputError(
                f"the sensitive attributes {[a.name for a in attributes]} have {size:,} combinations, "
                "too many to tabulate; bin numeric attributes or analyse fewer attributes at once"
            )
        codes = np.zeros(n_rows, dtype=np.int64)
        for a in attributes:
            # Horner's rule: codes = ((c0 * k1) + c1) * k2 + c2 ...
            codes *= a.size
            codes += a.codes
        return cls(tuple(attributes), codes)

    @classmethod
    def from_dict(cls, data: Sequence[Mapping[str, Any]]) -> JointGroups:
        """The groups of a count table carried without its rows (``to_dict``): codes are not needed."""
        attributes = [
            Attribute(str(a["name"]), np.zeros(0, dtype=np.uint8), tuple(map(str, a["labels"])), a["unknown"])
            for a in data
        ]
        return cls.from_attributes(attributes, 0)

    def to_dict(self) -> list[dict[str, Any]]:
        return [{"name": a.name, "labels": list(a.labels), "unknown": a.unknown} for a in self.attributes]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.attributes)

    @property
    def size(self) -> int:
        return math.prod(self.shape) if self.attributes else 1

    def segment_map(self, segment: Segment | None) -> tuple[np.ndarray, int]:
        """For each joint group, its group in ``segment`` (``None``: the whole log, one group)."""
        if segment is None or not segment.attributes:
            return np.zeros(self.size, dtype=np.int64), 1
        digits = np.unravel_index(np.arange(self.size), self.shape)
        position = {a.name: i for i, a in enumerate(self.attributes)}
        picked = tuple(digits[position[a.name]] for a in segment.attributes)
        return np.ravel_multi_index(picked, segment.shape).astype(np.int64), segment.size


@dataclass(frozen=True)
class Tally:
    """Non-zero entries of a (joint group x cell) table, with one or more additive value arrays.

    ``counts`` may carry leading axes (bootstrap resamples); ``sums`` are per-entry totals of row
    weights (scores, squared errors, residuals) and have no leading axes.
    """

    groups: np.ndarray  # joint group of each entry
    cells: np.ndarray  # cell of each entry
    n_cells: int
    counts: np.ndarray
    sums: Mapping[str, np.ndarray]

    def to_dict(self) -> dict[str, Any]:
        """The table as JSON: its entries, cell count and sums (floats exactly, as Python writes them)."""
        return {
            "groups": self.groups.tolist(),
            "cells": self.cells.tolist(),
            "n_cells": self.n_cells,
            "counts": self.counts.tolist(),
            "sums": {name: values.tolist() for name, values in sorted(self.sums.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tally:
        return cls(
            np.asarray(data["groups"], dtype=np.int64),
            np.asarray(data["cells"], dtype=np.int64),
            int(data["n_cells"]),
            np.asarray(data["counts"], dtype=np.int64),
            {name: np.asarray(values, dtype=float) for name, values in data.get("sums", {}).items()},
        )

    def with_counts(self, counts: np.ndarray) -> Tally:
        return Tally(self.groups, self.cells, self.n_cells, counts, self.sums)

    def marginal(
        self, segment_map: np.ndarray, n_groups: int, values: np.ndarray | None = None
    ) -> np.ndarray:
        """Sum entries into ``(..., n_groups, n_cells)`` for a segment (``values`` default: counts)."""
        values = self.counts if values is None else values
        index = segment_map[self.groups] * self.n_cells + self.cells
        size = n_groups * self.n_cells
        if values.ndim == 1:
            out = np.bincount(index, weights=values, minlength=size)
            if np.issubdtype(values.dtype, np.integer):
                out = np.rint(out).astype(np.int64)
            return out.reshape(n_groups, self.n_cells)
        order = np.argsort(index, kind="stable")
        sorted_index = index[order]
        starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
        out = np.zeros((*values.shape[:-1], size), dtype=values.dtype)
        out[..., sorted_index[starts]] = np.add.reduceat(values[..., order], starts, axis=-1)
        return out.reshape(*values.shape[:-1], n_groups, self.n_cells)


def tally(
    joint: JointGroups,
    cells: np.ndarray,
    n_cells: int,
    weights: Mapping[str, np.ndarray] | None = None,
    rows: np.ndarray | None = None,
) -> Tally:
    """Count rows per (joint group, cell) and total each weight array over the same entries.

    ``rows``: how many log rows each input row stands for (a count table fetched from an engine).
    """
    key = joint.codes * n_cells
    key += cells
    size = joint.size * n_cells
    if rows is None:
        counts = np.bincount(key, minlength=size)
    else:  # float64 adds integers exactly below 2**53 rows
        counts = np.rint(np.bincount(key, weights=rows, minlength=size)).astype(np.int64)
    nonzero = np.flatnonzero(counts)
    sums = {name: np.bincount(key, weights=w, minlength=size)[nonzero] for name, w in (weights or {}).items()}
    return Tally(nonzero // n_cells, nonzero % n_cells, n_cells, counts[nonzero], sums)


def binary_cells(label: np.ndarray, prediction: np.ndarray, labelled: np.ndarray | None = None) -> np.ndarray:
    """Cell ``2 * label + prediction`` (both boolean): 0 TN, 1 FP, 2 FN, 3 TP; with ``labelled``, an
    unlabelled row is cell ``4 + prediction`` (counted for selection rates only)."""
    cells = label.astype(np.int64) * 2
    cells += prediction
    if labelled is not None:
        cells[~labelled] = 4 + prediction[~labelled]
    return cells


def confusion(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(tn, fp, fn, tp) from a ``(..., groups, 4)`` binary table."""
    return table[..., 0], table[..., 1], table[..., 2], table[..., 3]
