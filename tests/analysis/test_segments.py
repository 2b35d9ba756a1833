"""Binning a sensitive attribute: the same groups whether the log holds numbers, text or categories.

The oracle is ``pandas.cut`` with left-closed bins, applied row by row to the numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signoff.analysis.segments import encode_attribute
from signoff.domain.errors import InputError

EDGES = [0, 25, 45, 65, np.inf]


def _oracle(values: list[float | None]) -> list[str]:
    binned = pd.cut(
        pd.Series(values, dtype=float), EDGES, right=False, labels=["0-25", "25-45", "45-65", "65+"]
    )
    return ["Unknown" if pd.isna(b) else str(b) for b in binned]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 110)), min_size=1, max_size=60))
def test_binned_groups_do_not_depend_on_how_the_column_is_stored(values):
    expected = _oracle(values)
    as_numbers = pd.Series(values, dtype="Float64")
    as_text = pd.Series([None if v is None else str(v) for v in values], dtype="str")
    as_category = as_text.astype("category")
    columns = [as_numbers, as_text, as_category, as_numbers.astype(float)]
    if None not in values:  # plain numpy integers cannot hold a missing value
        columns += [pd.Series(values, dtype=np.int16), pd.Series(values, dtype=np.uint8)]
    for column in columns:
        attribute = encode_attribute(column, "age", EDGES)
        assert [attribute.labels[c] for c in attribute.codes] == expected


def test_a_value_outside_the_edges_names_its_row_even_when_stored_as_text():
    column = pd.Series(["30", "41", "-3", "50", "-3"], dtype="str")
    with pytest.raises(InputError, match="outside the stated bin edges") as err:
        encode_attribute(column, "age", EDGES)
    assert err.value.row == 3
    assert err.value.column == "age"


def test_integers_spread_wider_than_the_log_are_binned_row_by_row():
    column = pd.Series([30, 10**12, 0, 64, 65], dtype=np.int64)
    attribute = encode_attribute(column, "income", EDGES)
    assert [attribute.labels[c] for c in attribute.codes] == _oracle([30, 10**12, 0, 64, 65])
    with pytest.raises(InputError, match="outside the stated bin edges") as err:
        encode_attribute(pd.Series([5, 7, -(10**12)], dtype=np.int64), "income", EDGES)
    assert err.value.row == 3


def test_text_that_is_not_a_number_cannot_be_binned():
    with pytest.raises(InputError, match="cannot bin a non-numeric attribute"):
        encode_attribute(pd.Series(["30", "forty"], dtype="str"), "age", EDGES)
