"""mockbank.records.Record: the stored shape a record's fields give it, and reading it back."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import pytest

from mockbank.records import Record, Stored


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Part(Record):
    part_no: str
    count: int = 1


@dataclass(frozen=True)
class Outer(Record):
    name: str
    created_at_ms: Annotated[int, Stored(text=True)]
    colour: Colour
    price: Decimal
    parts: tuple[Part, ...]
    main: Part | None
    label: Annotated[str, Stored(key="title")]
    extra: dict[str, Any] = field(default_factory=dict)
    note: Annotated[str | None, Stored(omit=True)] = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flat(Record, keys="snake"):
    part: Annotated[Part, Stored(flat=True)]
    owner_id: str
    reference: Annotated[str, Stored(absent="")]


def outer(**changes: Any) -> Outer:
    fields: dict[str, Any] = dict(
        name="n",
        created_at_ms=1767225600000,
        colour=Colour.BLUE,
        price=Decimal("10.50"),
        parts=(Part("p-1", 2), Part("p-2")),
        main=Part("p-3"),
        label="L",
    )
    return Outer(**{**fields, **changes})


def test_fields_are_stored_under_camel_case_names_with_their_values_converted() -> None:
    assert outer(note="hi", extra={"a": 1}).to_value() == {
        "name": "n",
        "createdAtMs": "1767225600000",
        "colour": "blue",
        "price": "10.50",
        "parts": [{"partNo": "p-1", "count": 2}, {"partNo": "p-2", "count": 1}],
        "main": {"partNo": "p-3", "count": 1},
        "title": "L",
        "extra": {"a": 1},
        "note": "hi",
        "tags": [],
    }


def test_an_omitted_field_is_left_out_at_its_default_and_a_none_record_is_stored_null() -> None:
    value = outer(main=None).to_value()
    assert "note" not in value
    assert value["main"] is None


def test_a_stored_value_reads_back_to_an_equal_record_of_the_fields_types() -> None:
    record = outer(note="hi", tags=("x",))
    back = Outer.from_value(record.to_value())
    assert back == record
    assert isinstance(back.colour, Colour)
    assert isinstance(back.parts, tuple)
    assert isinstance(back.price, Decimal)


def test_absent_or_null_keys_read_as_the_defaults_and_an_empty_record_as_none() -> None:
    stored = outer().to_value()
    stored.update(extra=None, main={})
    del stored["tags"]
    back = Outer.from_value(stored)
    assert (back.extra, back.main, back.tags, back.note) == ({}, None, (), None)


def test_a_required_key_that_is_absent_is_a_key_error_naming_it() -> None:
    stored = outer().to_value()
    del stored["title"]
    with pytest.raises(KeyError, match="title"):
        Outer.from_value(stored)


def test_a_flat_record_merges_its_keys_and_an_absent_key_reads_as_stored_absent() -> None:
    record = Flat(Part("p-1", 3), "m-1", "ref")
    assert record.to_value() == {"partNo": "p-1", "count": 3, "owner_id": "m-1", "reference": "ref"}
    assert Flat.from_value(record.to_value()) == record
    assert Flat.from_value({"partNo": "p-1", "owner_id": "m-1"}) == Flat(Part("p-1"), "m-1", "")


def test_a_copy_is_stored_so_the_record_and_its_value_share_no_dict() -> None:
    record = outer(extra={"a": 1})
    value = record.to_value()
    value["extra"]["a"] = 2
    assert record.extra == {"a": 1}
    assert Outer.from_value(value).extra is not value["extra"]


def test_a_field_with_no_stored_form_is_refused_naming_it() -> None:
    @dataclass(frozen=True)
    class Odd(Record):
        when: set[str]

    with pytest.raises(TypeError, match=r"Odd\.when"):
        Odd({"x"}).to_value()
