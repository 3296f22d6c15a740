"""validate_record: what makes a record unreadable, one rule at a time, and the shapes that
are kept as sent for the profile to interpret."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from panther.inventory.records import KINDS, MAX_ID_LENGTH, json_pointer, validate_record

MakeRecord = Callable[..., dict[str, Any]]


def set_at(record: dict[str, Any], pointer: str, value: Any) -> None:
    """Set (or with `DELETE`, remove) the value at a JSON pointer of the sample record."""
    *parents, last = [int(t) if t.isdigit() else t for t in pointer.split("/")[1:]]
    node: Any = record
    for token in parents:
        node = node[token]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value


DELETE = object()
MONEY = "/productPrice/0/price/dutyFreeAmount"

# (pointer to change, new value, pointer of the error, message fragment, kind): what makes a
# record unreadable (it cannot be identified, or served as a product).
CORRUPTIONS: list[tuple[str, Any, str, str, str]] = [
    ("/id", DELETE, "/id", "required", "idMissing"),
    ("/id", "", "/id", "non-empty string", "idInvalid"),
    ("/id", 17, "/id", "not number", "idInvalid"),
    ("/id", None, "/id", "not null", "idInvalid"),
    ("/id", "x" * (MAX_ID_LENGTH + 1), "/id", f"longer than {MAX_ID_LENGTH}", "idTooLong"),
    ("/status", DELETE, "/status", "required", "statusMissing"),
    ("/status", None, "/status", "not null", "statusInvalid"),
    ("/status", ["active"], "/status", "not array", "statusInvalid"),
    ("/status", "a" * 65, "/status", "longer than 64", "statusTooLong"),
]

# (pointer to change, new value): shapes the match profile interprets; kept as sent.
KEPT_AS_SENT: list[tuple[str, Any]] = [
    ("/externalId", 5),
    ("/startDate", "2024-13-01"),
    ("/startDate", "01.03.2024"),
    ("/startDate", "２０２４-03-01"),
    ("/terminationDate", 20240301),
    ("/productOffering", "EPL"),
    ("/productOffering/id", DELETE),
    ("/productSpecification/id", 3),
    ("/billingAccount", []),
    ("/place", {}),
    ("/place/1", "LON3"),
    ("/place/1/role", DELETE),
    ("/productPrice", "1250 EUR"),
    ("/productPrice/1/priceType", DELETE),
    ("/productPrice/0/price", 1250),
    (MONEY, 1250),
    (MONEY + "/value", True),
    (MONEY + "/value", "1250,00"),
    (MONEY + "/value", DELETE),
    (MONEY + "/unit", "eur"),
    (MONEY + "/unit", "EURO"),
    (MONEY + "/unit", ["EUR"]),
    ("/productCharacteristic/1/value", {"gbps": 10}),
    ("/productCharacteristic", {"bandwidth": 1}),
    ("/productTerm", "36 months"),
    ("/productOrderItem/0", "PO-1"),
    ("/relatedParty", {"id": "x"}),
    ("/name", 7),
]


def test_the_documented_sample_is_valid(make_record: MakeRecord) -> None:
    assert validate_record(make_record()) == []
    assert validate_record(make_record(), parsed_json=True) == []


@pytest.mark.parametrize(
    ("where", "value", "pointer", "fragment", "kind"),
    CORRUPTIONS,
    ids=[f"{c[0]}={c[1]!r:.20}" for c in CORRUPTIONS],
)
def test_each_unreadable_record_is_reported_at_its_pointer(
    where: str, value: Any, pointer: str, fragment: str, kind: str, make_record: MakeRecord
) -> None:
    record = make_record()
    set_at(record, where, value)
    problems = validate_record(record)
    assert [(p.pointer, p.kind) for p in problems] == [(pointer, kind)]
    assert fragment in problems[0].message
    assert kind in KINDS


@pytest.mark.parametrize(
    ("where", "value"), KEPT_AS_SENT, ids=[f"{c[0]}={c[1]!r:.20}" for c in KEPT_AS_SENT]
)
def test_shapes_the_profile_interprets_are_kept_as_sent(
    where: str, value: Any, make_record: MakeRecord
) -> None:
    record = make_record()
    if where == "/name":
        record["name"] = value
    else:
        set_at(record, where, value)
    assert validate_record(record) == []


@pytest.mark.parametrize(
    "name",
    [
        "externalId",
        "productOffering",
        "place",
        "productPrice",
        "productCharacteristic",
        "productOrderItem",
        "billingAccount",
    ],
)
def test_optional_fields_may_be_null(name: str, make_record: MakeRecord) -> None:
    record = make_record()
    record[name] = None
    assert validate_record(record) == []


def test_optional_fields_may_be_absent() -> None:
    assert validate_record({"id": "x", "status": "active"}) == []


def test_every_problem_of_a_record_is_listed(make_record: MakeRecord) -> None:
    record = make_record(id="", status=1, place=[{"id": "A"}, 3])
    assert [p.pointer for p in validate_record(record)] == ["/id", "/status"]


@pytest.mark.parametrize("value", [[], "record", None, 3])
def test_a_record_must_be_an_object(value: Any) -> None:
    assert validate_record(value) == [
        ("", f"a record must be a JSON object, not {_json_kind(value)}", "notAnObject")
    ]


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", type(None): "null", int: "number"}[type(value)]


def test_unknown_fields_must_be_json_values(make_record: MakeRecord) -> None:
    record = make_record(
        extension={"a/b": {"~t": float("nan")}, "when": datetime.date(2024, 1, 1)},
        tags={"x"},
    )
    record["productTerm"][0][3] = "not a string key"
    problems = {p.pointer: p.message for p in validate_record(record)}
    assert set(problems) == {"/extension/a~1b/~0t", "/extension/when", "/tags", "/productTerm/0"}
    assert "not a JSON number" in problems["/extension/a~1b/~0t"]
    assert "date is not a JSON value" in problems["/extension/when"]
    # Records straight from a JSON parser skip that walk (they cannot hold such values).
    assert validate_record(record, parsed_json=True) == []


def test_json_pointer_escapes_per_rfc6901() -> None:
    assert json_pointer("a/b", "m~n", 0, "") == "/a~1b/m~0n/0/"
    assert json_pointer() == ""
