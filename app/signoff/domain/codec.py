"""One codec between the frozen domain dataclasses and plain JSON values, read from their type hints.

``encode`` writes a dataclass as a dict of its fields by name (tuples as lists, enums as their values,
dates in ISO form, nested dataclasses alike); ``decode`` rebuilds one from such a dict, giving a field
that the dict lacks its default (so results stored before a field existed still read). Numbers are kept
exactly as stored: an int stays an int even where the hint says float, because the canonical JSON of a
result is hashed and must come out byte for byte as it went in (``tests/storage/test_previous_release``).

A class takes part by inheriting ``Record``. ``JSON_CONSTANTS`` adds fixed keys (``{"kind": "fairness"}``)
and ``JSON_PROPERTIES`` the values of named properties or methods (``drifted_columns``): written for readers of the
JSON, not read back. ``field(metadata=OMIT)`` keeps a field out of the JSON; ``WHEN_SET`` writes it
only when it is not None.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime
from functools import cache
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin

from signoff.domain.audit import format_utc
from signoff.domain.errors import InputError

T = TypeVar("T")
OMIT = {"json": False}  # dataclasses.field(metadata=OMIT): a field the JSON form leaves out
# field(default=None, metadata=WHEN_SET): written only when not None, for a field added after results
# were stored without it (writing null would change their bytes)
WHEN_SET = {"json": "when set"}


def encode(value: Any) -> Any:
    """``value`` as JSON values (dict, list, str, int, float, bool, None)."""
    if value is None or type(value) in _PLAIN:
        return value
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value)
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _record_encoder(type(value))(value)
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no JSON form for a {type(value).__name__}")


def decode(kind: Any, data: Any) -> Any:
    """``data`` (JSON values) rebuilt as ``kind``, a type hint such as ``FairnessResult`` or
    ``tuple[str, ...]``. Raises ``InputError`` naming the class and field when the data does not fit."""
    try:
        return _decoder(kind)(data)
    except _Mismatch as mismatch:
        name = kind.__name__ if isinstance(kind, type) else str(kind)
        raise InputError(f"{name}{''.join(reversed(mismatch.path))}: {mismatch.reason}") from None


class Record:
    """Mixin for a frozen dataclass whose JSON form is exactly its fields (see the module docstring)."""

    JSON_CONSTANTS: ClassVar[dict[str, Any]] = {}
    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        return encode(self)

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        return decode(cls, data)


_PLAIN = frozenset({str, int, float, bool})
_ENCODERS: dict[type, Any] = {
    tuple: lambda value: [encode(v) for v in value],
    list: lambda value: [encode(v) for v in value],
    dict: lambda value: {k: encode(v) for k, v in value.items()},
}


class _Mismatch(Exception):
    """Data that does not fit its type; ``path`` grows (innermost first) as it is raised outwards."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


@cache
def _fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return tuple(f for f in dataclasses.fields(cls) if f.metadata.get("json", True))


@cache
def _record_encoder(cls: type) -> Any:
    """One function per class, built once from its type hints: a result holds thousands of records."""
    if not issubclass(cls, Record) and hasattr(cls, "to_dict"):
        _ENCODERS[cls] = cls.to_dict  # a type that keeps a JSON form of its own
        return cls.to_dict
    hints = typing.get_type_hints(cls)
    marker = WHEN_SET["json"]
    plan = tuple((f.name, _encoder(hints[f.name]), f.metadata.get("json") == marker) for f in _fields(cls))
    constants = dict(getattr(cls, "JSON_CONSTANTS", {}))
    properties = tuple(getattr(cls, "JSON_PROPERTIES", ()))

    def encode_record(value: Any) -> dict[str, Any]:
        out = dict(constants)
        for name, encoder, when_set in plan:
            item = getattr(value, name)
            if item is not None or not when_set:
                out[name] = encoder(item)
        for name in properties:
            derived = getattr(value, name)
            out[name] = encode(derived() if callable(derived) else derived)
        return out

    _ENCODERS[cls] = encode_record
    return encode_record


@cache
def _encoder(kind: Any) -> Any:
    """A function value -> JSON values for a field hinted ``kind``; ``encode`` where the hint says
    little (Any, unions of several types)."""
    if kind in _PLAIN:
        return _as_stored
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        options = [a for a in get_args(kind) if a is not type(None)]
        if all(option in _PLAIN for option in options):
            return _as_stored
        if len(options) == 1:
            inner = _encoder(options[0])
            return lambda value: None if value is None else inner(value)
        return encode
    if origin is tuple or origin is list:
        args = [a for a in get_args(kind) if a is not Ellipsis]
        if args and all(_encoder(a) is _as_stored for a in args):
            return list
        return encode
    if origin is dict:
        args = get_args(kind)
        if args and _encoder(args[1]) is _as_stored:
            return dict
        return encode
    if dataclasses.is_dataclass(kind):
        return lambda value: _record_encoder(type(value))(value)  # a subclass encodes as itself
    return encode


def _as_stored(data: Any) -> Any:
    return data


@cache
def _decoder(kind: Any) -> Any:
    """A function JSON values -> ``kind``, built once per type hint."""
    if kind is Any or kind is object:
        return _as_stored
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        args = get_args(kind)
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            return _as_stored  # a union of plain JSON types (float | str): kept as stored
        inner = _decoder(options[0])
        if inner is _as_stored:
            return _as_stored
        optional = len(options) < len(args)
        return lambda data: None if (data is None and optional) else inner(data)
    if dataclasses.is_dataclass(kind):
        if not issubclass(kind, Record) and hasattr(kind, "from_dict"):
            return kind.from_dict  # a type that keeps a JSON form of its own
        return _record_decoder(kind)
    if origin is tuple:
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            if item is _as_stored:
                return lambda data: tuple(_sequence(data))
            return lambda data: tuple(_each(item, _sequence(data)))
        parts = tuple(_decoder(a) for a in args)
        plain = all(part is _as_stored for part in parts)  # an interval (low, high): the common case

        def fixed(data: Any) -> tuple[Any, ...]:
            values = _sequence(data)
            if len(values) != len(parts):
                raise _Mismatch(f"expected {len(parts)} values, found {len(values)}")
            return tuple(values) if plain else tuple(_each_of(parts, values))

        return fixed
    if origin is list:
        item = _decoder((get_args(kind) or (Any,))[0])
        return lambda data: list(_each(item, _sequence(data)))
    if origin is dict or kind is dict:
        value = _decoder((get_args(kind) or (Any, Any))[1])
        if value is _as_stored:
            return lambda data: dict(_mapping(data))

        def entries(data: Any) -> dict[Any, Any]:
            out = {}
            key = None
            items = _mapping(data).items()
            try:
                for key, v in items:
                    out[key] = value(v)
            except _Mismatch as mismatch:
                mismatch.path.append(f"[{key!r}]")
                raise
            return out

        return entries
    if isinstance(kind, type) and issubclass(kind, enum.Enum):

        def member(data: Any) -> Any:
            try:
                return kind(data)
            except ValueError:
                raise _Mismatch(f"{data!r} is not a {kind.__name__}") from None

        return member
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    # str, int, float, bool: as stored (an int where a float is hinted stays an int; see the docstring)
    return _as_stored


def _record_decoder(cls: type) -> Any:
    hints = typing.get_type_hints(cls)
    plan = []
    for f in _fields(cls):
        if f.init:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            plan.append((f.name, _decoder(hints[f.name]), required))

    def decode_record(data: Any) -> Any:
        values = {}
        _mapping(data)
        for name, decoder, required in plan:
            if name in data:
                try:
                    values[name] = decoder(data[name])
                except _Mismatch as mismatch:
                    mismatch.path.append(f".{name}")
                    raise
            elif required:
                raise _Mismatch(f"a stored {cls.__name__} has no {name!r}")
        return cls(**values)

    return decode_record


def _each(decoder: Any, values: Any) -> list[Any]:
    # A loop, not _at per item: a result holds thousands of records, and the step's text is needed
    # only when one of them does not fit.
    out = []
    try:
        for v in values:
            out.append(decoder(v))
    except _Mismatch as mismatch:
        mismatch.path.append(f"[{len(out)}]")
        raise
    return out


def _each_of(decoders: tuple[Any, ...], values: Any) -> list[Any]:
    out = []
    try:
        for decoder, v in zip(decoders, values, strict=True):
            out.append(decoder(v))
    except _Mismatch as mismatch:
        mismatch.path.append(f"[{len(out)}]")
        raise
    return out


def _sequence(data: Any) -> Any:
    if not isinstance(data, list | tuple):
        raise _Mismatch(f"expected a list, found {type(data).__name__}")
    return data


def _mapping(data: Any) -> Any:
    if not isinstance(data, dict):
        raise _Mismatch(f"expected an object, found {type(data).__name__}")
    return data
