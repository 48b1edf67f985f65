"""Stored records: frozen dataclasses whose stored shape follows from their fields.

A provider's record subclasses `Record` and gets ``to_value()`` (the JSON-able dict a store
keeps) and ``from_value()`` (the record back from it), derived once per class from the fields'
types and their `Stored` notes:

- each field is kept under its name in the class's spelling (``keys="camel"``, the default:
  ``created_at_ms`` as ``createdAtMs``; or ``keys="snake"``, the name as is), or under
  ``Stored(key=...)`` where the stored name differs;
- a nested record is kept as its own value, a tuple as a list, a dict copied, an enum as its
  value, a `Decimal` as text, ``Stored(text=True)`` keeps a number as text;
- ``Stored(omit=True)`` leaves a field out while it is at its default; ``Stored(flat=True)``
  merges a nested record's keys into this one's.

Reading back is as tolerant as the hand-written readers were, so values an older version stored
still read: an absent or null key reads as the field's default (None for an optional field, an
empty nested record as None), or as ``Stored(absent=...)``. A record whose stored shape is
genuinely irregular (keys that depend on a value, a union of kinds) overrides the two methods
and says why.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, Self

Convert = Callable[[Any], Any]
MISSING: Any = dataclasses.MISSING
UNSET: Any = object()  # Stored.absent not given (MISSING would read as "no default")


@dataclass(frozen=True)
class Stored:
    """How one field is stored, where the class's rule does not say it (see the module)."""

    key: str | None = None
    omit: bool = False  # left out while the field is at its default
    text: bool = False  # a number kept as text ("1767225600000")
    flat: bool = False  # a nested record's keys merged into the parent's
    absent: Any = UNSET  # read when the key is absent and the field has no default


@dataclass(frozen=True)
class _Field:
    """One field's stored name and conversions, worked out once per class."""

    name: str
    key: str
    write: Convert | None  # None: stored as it is
    read: Convert | None
    default: Any  # MISSING when the field has none
    optional: bool  # None is a value of the field
    omit: bool
    flat: bool
    absent: Any
    record: bool  # a nested record (an empty stored value reads as None when optional)


def _camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def _is_record(kind: Any) -> bool:
    return isinstance(kind, type) and callable(getattr(kind, "from_value", None))


def _items(write: Convert | None, read: Convert | None) -> tuple[Convert, Convert]:
    """A tuple's conversions from its items' (a list when stored, a tuple when read)."""

    def write_all(items: Any) -> list[Any]:
        return list(items) if write is None else [write(i) for i in items]

    def read_all(items: Any) -> tuple[Any, ...]:
        return tuple(items) if read is None else tuple(map(read, items))

    return write_all, read_all


def _conversions(kind: Any, where: str) -> tuple[Convert | None, Convert | None]:
    """(write, read) for a value of `kind` (not optional, not annotated)."""
    origin = typing.get_origin(kind)
    if kind is Any:
        return None, None
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"{where}: only tuple[X, ...] is stored, not {kind}")
        return _items(*_conversions(args[0], where))
    if origin in (dict, Mapping) or kind in (dict, Mapping):
        return dict, dict
    if _is_record(kind):
        return operator.methodcaller("to_value"), kind.from_value
    if isinstance(kind, type) and issubclass(kind, Enum):
        return operator.attrgetter("value"), kind
    if kind is Decimal:
        return str, lambda v: Decimal(str(v))
    if kind in (str, int, float, bool):
        return None, kind
    raise TypeError(f"{where}: no stored form for {kind}")


def _optional(kind: Any) -> tuple[Any, bool]:
    """(`kind` without None, whether None was in it)."""
    if typing.get_origin(kind) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(args) < len(typing.get_args(kind)):
            return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True  # noqa: UP007
    return kind, False


def _plan_field(field: dataclasses.Field[Any], hint: Any, keys: str, where: str) -> _Field:
    note = Stored()
    if typing.get_origin(hint) is Annotated:
        hint, *extras = typing.get_args(hint)
        note = next((e for e in extras if isinstance(e, Stored)), note)
    kind, optional = _optional(hint)
    write, read = _conversions(kind, f"{where}.{field.name}")
    if note.text:
        write, read = str, read or str
    default = field.default
    if callable(field.default_factory):
        default = field.default_factory()
    return _Field(
        name=field.name,
        key=note.key or (_camel(field.name) if keys == "camel" else field.name),
        write=write,
        read=read,
        default=default,
        optional=optional,
        omit=note.omit,
        flat=note.flat,
        absent=note.absent,
        record=_is_record(kind),
    )


def _plan(kind: type[Record]) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(kind, include_extras=True)
    where = f"{kind.__module__}.{kind.__qualname__}"
    return tuple(
        _plan_field(field, hints[field.name], kind.record_keys, where)
        for field in dataclasses.fields(kind)  # type: ignore[arg-type]
        if field.init
    )


def _write_line(at: int, field: _Field, env: dict[str, Any]) -> str:
    """The line of the generated ``to_value`` that stores one field."""
    item = f"record.{field.name}"
    env[f"write{at}"], env[f"default{at}"] = field.write, field.default
    if field.flat:
        line = f"value.update({item}.to_value())"
    elif field.write is None:
        line = f"value[{field.key!r}] = {item}"
    elif field.optional:
        line = f"value[{field.key!r}] = None if {item} is None else write{at}({item})"
    else:
        line = f"value[{field.key!r}] = write{at}({item})"
    return f"if {item} != default{at}: {line}" if field.omit else line


def _absent_line(at: int, field: _Field, env: dict[str, Any]) -> str:
    """What the generated ``from_value`` does with an absent or null key (see the module)."""
    target = f"arguments[{field.name!r}]"
    if field.optional:
        return f"{target} = None"
    if field.default is not MISSING:
        return "pass  # the dataclass default"
    if field.absent is not UNSET:  # read as a stored value would be (a dict copied)
        env[f"absent{at}"] = field.absent
        return f"{target} = absent{at} if read{at} is None else read{at}(absent{at})"
    return f"{target} = value[{field.key!r}]  # a KeyError names the key"


def _read_lines(at: int, field: _Field, env: dict[str, Any]) -> list[str]:
    """The lines of the generated ``from_value`` that read one field back."""
    env[f"read{at}"] = field.read
    target = f"arguments[{field.name!r}]"
    if field.flat:
        return [f"{target} = read{at}(value)"]
    empty = " or not item" if field.record and field.optional else ""
    read = "item" if field.read is None else f"read{at}(item)"
    return [
        f"item = get({field.key!r})",
        f"if item is None{empty}: {_absent_line(at, field, env)}",
        f"else: {target} = {read}",
    ]


def _compile(kind: type[Record]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``to_value`` and ``from_value`` written out for `kind`'s fields, as dataclasses writes
    ``__init__``: one straight function each, as fast as a hand-written one."""
    plan = _plan(kind)
    env: dict[str, Any] = {}
    write = [_write_line(at, field, env) for at, field in enumerate(plan)]
    read = [line for at, field in enumerate(plan) for line in _read_lines(at, field, env)]
    source = "\n".join(
        ["def to_value(record):", "    value = {}"]
        + [f"    {line}" for line in write]
        + ["    return value", "def from_value(cls, value):", "    get = value.get"]
        + ["    arguments = {}"]
        + [f"    {line}" for line in read]
        + ["    return cls(**arguments)"]
    )
    exec(compile(source, f"<stored record {kind.__qualname__}>", "exec"), env)
    return env["to_value"], env["from_value"]


_COMPILED: dict[type, tuple[Callable[..., Any], Callable[..., Any]]] = {}


def _compiled(kind: type[Record]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    found = _COMPILED.get(kind)
    if found is None:
        found = _COMPILED[kind] = _compile(kind)
    return found


class Record:
    """A stored record (subclassed by a frozen dataclass): see the module for the rules.

    ``class Token(Record, keys="snake")`` keeps the attribute names as the stored keys.
    """

    record_keys: ClassVar[Literal["camel", "snake"]] = "camel"

    def __init_subclass__(cls, *, keys: Literal["camel", "snake"] | None = None) -> None:
        super().__init_subclass__()
        if keys is not None:
            cls.record_keys = keys

    def to_value(self) -> dict[str, Any]:
        """The stored value: a dict of JSON values."""
        value: dict[str, Any] = _compiled(type(self))[0](self)
        return value

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Self:
        """The record back from its stored value."""
        record: Self = _compiled(cls)[1](cls, value)
        return record
