"""validate_record: the TMF637 / MEF 116 product shape, one rule at a time."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from panther.inventory.records import MAX_ID_LENGTH, json_pointer, validate_record

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

# (pointer to change, new value, pointer of the error, message fragment)
CORRUPTIONS: list[tuple[str, Any, str, str]] = [
    ("/id", DELETE, "/id", "required"),
    ("/id", "", "/id", "non-empty string"),
    ("/id", 17, "/id", "not number"),
    ("/id", "x" * (MAX_ID_LENGTH + 1), "/id", f"longer than {MAX_ID_LENGTH}"),
    ("/status", DELETE, "/status", "required"),
    ("/status", None, "/status", "not null"),
    ("/externalId", 5, "/externalId", "must be a string"),
    ("/externalId", 7, "/externalId", "must be a string"),
    ("/startDate", "2024-13-01", "/startDate", "no such calendar date"),
    ("/startDate", "2023-02-29T00:00:00Z", "/startDate", "no such calendar date"),
    ("/startDate", "2024-03-01T24:00:00Z", "/startDate", "time out of range"),
    ("/startDate", "2024-03-01T10:00:00", "/startDate", "RFC 3339"),
    ("/startDate", "2024-03-01 10:00:00Z", "/startDate", "RFC 3339"),
    ("/startDate", "2024-03-01T10:00:00+25:00", "/startDate", "offset out of range"),
    ("/startDate", "01.03.2024", "/startDate", "RFC 3339"),
    ("/startDate", "２０２４-03-01", "/startDate", "RFC 3339"),
    ("/terminationDate", 20240301, "/terminationDate", "must be a date"),
    ("/productOffering", "EPL", "/productOffering", "must be an object"),
    ("/productOffering/id", DELETE, "/productOffering/id", "required"),
    ("/productSpecification/id", 3, "/productSpecification/id", "non-empty string"),
    ("/billingAccount", [], "/billingAccount", "not array"),
    ("/place", {}, "/place", "must be an array"),
    ("/place/1", "LON3", "/place/1", "must be an object"),
    ("/place/1/role", DELETE, "/place/1/role", "required"),
    ("/place/0/id", None, "/place/0/id", "non-empty string"),
    ("/productPrice", "1250 EUR", "/productPrice", "must be an array"),
    ("/productPrice/1/priceType", DELETE, "/productPrice/1/priceType", "required"),
    ("/productPrice/0/price", DELETE, "/productPrice/0/price", "required"),
    ("/productPrice/0/price", 1250, "/productPrice/0/price", "must be an object"),
    (MONEY, 1250, MONEY, "Money object"),
    (MONEY + "/value", True, MONEY + "/value", "not boolean"),
    (MONEY + "/value", "1250", MONEY + "/value", "must be a number"),
    (MONEY + "/value", DELETE, MONEY + "/value", "required"),
    (MONEY + "/value", float("inf"), MONEY + "/value", "finite"),
    (MONEY + "/unit", "eur", MONEY + "/unit", "currency code"),
    (MONEY + "/unit", "EURO", MONEY + "/unit", "currency code"),
    (MONEY + "/unit", ["EUR"], MONEY + "/unit", "currency code"),
    (MONEY + "/unit", DELETE, MONEY + "/unit", "required"),
    (
        "/productPrice/0/price/taxIncludedAmount",
        {"unit": "EUR", "value": None},
        "/productPrice/0/price/taxIncludedAmount/value",
        "must be a number",
    ),
    ("/productCharacteristic/0/name", DELETE, "/productCharacteristic/0/name", "required"),
    (
        "/productCharacteristic/1/value",
        {"gbps": 10},
        "/productCharacteristic/1/value",
        "string, number, boolean or null",
    ),
    ("/productCharacteristic/1/value", DELETE, "/productCharacteristic/1/value", "required"),
    ("/productCharacteristic", {"bandwidth": 1}, "/productCharacteristic", "array"),
    ("/productTerm", "36 months", "/productTerm", "must be an array"),
    ("/productTerm/0", 36, "/productTerm/0", "must be an object"),
    ("/productOrderItem/0", "PO-1", "/productOrderItem/0", "must be an object"),
    ("/relatedParty", {"id": "x"}, "/relatedParty", "must be an array"),
]


def test_the_documented_sample_is_valid(make_record: MakeRecord) -> None:
    assert validate_record(make_record()) == []
    assert validate_record(make_record(), parsed_json=True) == []


@pytest.mark.parametrize(
    ("where", "value", "pointer", "fragment"),
    CORRUPTIONS,
    ids=[f"{c[0]}={c[1]!r:.20}" for c in CORRUPTIONS],
)
def test_each_corruption_is_reported_at_its_pointer(
    where: str, value: Any, pointer: str, fragment: str, make_record: MakeRecord
) -> None:
    record = make_record()
    set_at(record, where, value)
    problems = validate_record(record)
    assert [p for p, _ in problems] == [pointer]
    assert fragment in problems[0][1]


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-01",
        "2024-02-29",
        "2024-03-01T00:00:00Z",
        "2024-03-01t23:59:59z",
        "2024-03-01T10:00:00.123456+05:30",
        "2024-03-01T10:00:00-08:00",
        None,
    ],
)
def test_accepted_dates(value: Any, make_record: MakeRecord) -> None:
    assert validate_record(make_record(startDate=value, terminationDate=value)) == []


@pytest.mark.parametrize("name", ["externalId", "productOffering", "place", "productPrice",
                                  "productCharacteristic", "productOrderItem", "billingAccount"])
def test_optional_fields_may_be_null(name: str, make_record: MakeRecord) -> None:
    record = make_record()
    record[name] = None
    assert validate_record(record) == []


def test_optional_fields_may_be_absent() -> None:
    assert validate_record({"id": "x", "status": "active"}) == []


def test_money_accepts_integers_and_negative_values(make_record: MakeRecord) -> None:
    record = make_record()
    record["productPrice"][0]["price"]["taxIncludedAmount"] = {"unit": "USD", "value": -3}
    assert validate_record(record) == []


def test_every_problem_of_a_record_is_listed(make_record: MakeRecord) -> None:
    record = make_record(id="", status=1, place=[{"id": "A"}, 3])
    assert [p for p, _ in validate_record(record)] == [
        "/id",
        "/status",
        "/place/1",
        "/place/0/role",
    ]


@pytest.mark.parametrize("value", [[], "record", None, 3])
def test_a_record_must_be_an_object(value: Any) -> None:
    assert validate_record(value) == [
        ("", f"a record must be a JSON object, not {_json_kind(value)}")
    ]


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", type(None): "null", int: "number"}[type(value)]


def test_unknown_fields_must_be_json_values(make_record: MakeRecord) -> None:
    record = make_record(
        extension={"a/b": {"~t": float("nan")}, "when": datetime.date(2024, 1, 1)},
        tags={"x"},
    )
    record["productTerm"][0][3] = "not a string key"
    problems = dict(validate_record(record))
    assert set(problems) == {"/extension/a~1b/~0t", "/extension/when", "/tags", "/productTerm/0"}
    assert "not a JSON number" in problems["/extension/a~1b/~0t"]
    assert "date is not a JSON value" in problems["/extension/when"]
    # Records straight from a JSON parser skip that walk (they cannot hold such values).
    assert validate_record(record, parsed_json=True) == []


def test_json_pointer_escapes_per_rfc6901() -> None:
    assert json_pointer("a/b", "m~n", 0, "") == "/a~1b/m~0n/0/"
    assert json_pointer() == ""
