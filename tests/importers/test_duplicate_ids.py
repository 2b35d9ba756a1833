"""The out-of-core duplicate-id check against a plain dictionary (issue 18): same rows flagged, same
first rows named, for ids that are short, empty, missing, multi-byte, and spread over many batches."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from signoff.importers.duplicate_ids import DuplicateIds


def _oracle(ids):
    first_seen, repeated, first = {}, [], []
    for position, value in enumerate(ids):
        if value is not None and value in first_seen:
            repeated.append(True)
            first.append(first_seen[value])
        else:
            if value is not None:
                first_seen[value] = position
            repeated.append(False)
            first.append(-1)
    return np.array(repeated), np.array(first)


def test_repeated_ids_and_their_first_rows_match_a_dictionary(tmp_path):
    rng = np.random.default_rng(18)
    alphabet = ["a", "b", "é", "ß", "7", "", "Zoë", "r1", "r10", "x" * 30]
    ids = [
        None if rng.random() < 0.03 else "".join(rng.choice(alphabet, size=rng.integers(1, 3)))
        for _ in range(5_000)
    ]
    finder = DuplicateIds(tmp_path / "ids")
    for start in range(0, len(ids), 700):  # uneven batches, as a reader hands them over
        finder.add(pa.array(ids[start : start + 700], pa.string()))
    mask = finder.find()
    expected, first = _oracle(ids)
    assert expected.sum() > 1000 and mask is not None
    assert np.array_equal(mask, expected)
    assert np.array_equal(np.asarray(finder.first_position)[expected], first[expected])
    finder.discard()
    assert not (tmp_path / "ids").exists()


def test_no_repeats_gives_none(tmp_path):
    finder = DuplicateIds(tmp_path / "ids")
    finder.add(pa.array([f"id-{i}" for i in range(3000)]))
    finder.add(pa.array([None, None, "other"]))  # missing ids never repeat one another
    assert finder.find() is None
