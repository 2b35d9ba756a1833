"""The domain's one JSON codec (``domain/codec.py``), against dicts written out by hand.

The golden test that stored results still re-encode byte for byte is
``tests/storage/test_previous_release.py``; this file pins the rules it relies on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from signoff.domain.codec import OMIT, WHEN_SET, Record, decode, encode
from signoff.domain.errors import InputError
from signoff.domain.fairness import FairnessResult, GroupMetrics


class Colour(enum.StrEnum):
    RED = "red"
    AMBER = "amber"


@dataclass(frozen=True)
class Inner(Record):
    name: str
    share: float | None
    ci: tuple[float | None, float | None] = (None, None)


@dataclass(frozen=True)
class Outer(Record):
    JSON_CONSTANTS: ClassVar[dict[str, Any]] = {"kind": "outer"}
    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("total", "names")

    colour: Colour
    items: tuple[Inner, ...]
    weights: dict[str, float] = field(default_factory=dict)
    best: Inner | None = None
    cache: str = field(default="", metadata=OMIT)

    @property
    def total(self) -> int:
        return len(self.items)

    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.items)


def test_a_record_is_its_fields_plus_constants_and_derived_values():
    value = Outer(Colour.AMBER, (Inner("a", 1, (0.5, None)),), {"x": 2}, Inner("b", None), cache="c")
    assert value.to_dict() == {
        "kind": "outer",
        "colour": "amber",
        "items": [{"name": "a", "share": 1, "ci": [0.5, None]}],
        "weights": {"x": 2},
        "best": {"name": "b", "share": None, "ci": [None, None]},
        "total": 1,
        "names": ["a"],
    }
    assert encode(value) == value.to_dict()


def test_decoding_rebuilds_types_keeps_numbers_as_stored_and_ignores_what_it_wrote_for_readers():
    data = {
        "kind": "outer",
        "total": 99,
        "names": ["ignored"],
        "colour": "red",
        "items": [{"name": "a", "share": 1, "ci": [0.25, 1]}],
        "best": None,
    }
    value = Outer.from_dict(data)
    assert value == Outer(Colour.RED, (Inner("a", 1, (0.25, 1)),))
    # an int where a float is hinted stays an int: its canonical JSON, hence its hash, is unchanged
    assert type(value.items[0].share) is int and type(value.items[0].ci[1]) is int
    assert isinstance(value.items, tuple) and isinstance(value.items[0].ci, tuple)


def test_a_field_missing_from_older_data_takes_its_default_and_a_required_one_is_named():
    assert Inner.from_dict({"name": "a", "share": 0.5}) == Inner("a", 0.5)
    with pytest.raises(InputError, match=r"^Outer\.items\[1\]: a stored Inner has no 'share'$"):
        Outer.from_dict({"colour": "red", "items": [{"name": "a", "share": 1}, {"name": "b"}]})


def test_data_of_the_wrong_shape_is_named_by_its_path():
    with pytest.raises(InputError, match=r"^Outer\.colour: 'green' is not a Colour$"):
        Outer.from_dict({"colour": "green", "items": []})
    with pytest.raises(InputError, match=r"^Outer\.items\[0\]\.ci: expected 2 values, found 3$"):
        Outer.from_dict({"colour": "red", "items": [{"name": "a", "share": 1, "ci": [1, 2, 3]}]})
    with pytest.raises(InputError, match=r"^FairnessResult\.segments: expected a list, found str$"):
        decode(
            FairnessResult,
            {
                "params": {},
                "n_rows": 1,
                "positive_label": "1",
                "overall": {"group": "o", "count": 1, "metrics": {}},
                "segments": "x",
            },
        )


def test_a_fairness_group_reads_as_the_hand_written_form_had_it():
    stored = {
        "group": "Female",
        "count": 120,
        "insufficient": False,
        "unknown": False,
        "metrics": {"selection_rate": 0.25, "tpr": None},
        "bootstrap": {"selection_rate": [0.2, 0.3]},
        "wilson": {"selection_rate": [0.18, 0.33]},
        "significance": {
            "test": "two_proportion_z",
            "statistic": -2.5,
            "p_value": 0.0124,
            "reference": "Male",
        },
    }
    group = GroupMetrics.from_dict(stored)
    assert group.bootstrap == {"selection_rate": (0.2, 0.3)} and group.significance.reference == "Male"
    assert group.to_dict() == stored


@dataclass(frozen=True)
class Later(Record):
    name: str
    bounds: Inner | None = field(default=None, metadata=WHEN_SET)


def test_a_field_added_later_is_written_only_when_set_so_older_bytes_stay():
    assert Later("a").to_dict() == {"name": "a"}
    assert Later.from_dict({"name": "a"}) == Later("a")
    assert Later("a", Inner("b", 0.5)).to_dict() == {
        "name": "a",
        "bounds": {"name": "b", "share": 0.5, "ci": [None, None]},
    }
