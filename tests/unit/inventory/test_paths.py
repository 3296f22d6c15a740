"""Field paths: how profiles and CSV mappings read and write fields of a record."""

from __future__ import annotations

from typing import Any

import pytest

from panther.inventory.paths import InvalidPath, compile_path

RECORD: dict[str, Any] = {
    "id": "CID-1",
    "productCharacteristic": [
        {"name": "serviceType", "value": "EPL"},
        {"name": "bandwidth", "value": "10 Gbps"},
        {"name": "bandwidth", "value": "ignored: the first match wins"},
    ],
    "productPrice": [
        {"priceType": "recurring", "price": {"dutyFreeAmount": {"unit": "EUR", "value": 1250}}}
    ],
    "productOrderItem": [{"productOrderId": "PO-1"}, {"productOrderId": "PO-2"}],
    "@type": "Product",
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("id", "CID-1"),
        ("@type", "Product"),
        ("productCharacteristic[name=bandwidth].value", "10 Gbps"),
        ("productPrice[priceType=recurring].price.dutyFreeAmount.value", 1250),
        ("productOrderItem[1].productOrderId", "PO-2"),
        ("productOrderItem[0]", {"productOrderId": "PO-1"}),
    ],
)
def test_get(path: str, value: Any) -> None:
    assert compile_path(path).get(RECORD) == value


@pytest.mark.parametrize(
    "path",
    [
        "externalId",
        "productCharacteristic[name=colour].value",
        "productOrderItem[5].productOrderId",
        "id.deeper",  # a string has no fields
        "productPrice.price",  # a list has no keys
        "productOrderItem[name=x]",
        "id[0]",
    ],
)
def test_get_missing_is_none(path: str) -> None:
    assert compile_path(path).get(RECORD) is None


def test_set_builds_nested_records() -> None:
    record: dict[str, Any] = {}
    compile_path("place[role=A-End].id").set(record, "FRA1")
    compile_path("place[role=B-End].id").set(record, "LON3")
    compile_path("place[role=A-End].name").set(record, "Frankfurt")
    compile_path("productOrderItem[1].productOrderId").set(record, "PO-2")
    compile_path("productOffering.id").set(record, "EPL")
    assert record == {
        "place": [
            {"role": "A-End", "id": "FRA1", "name": "Frankfurt"},
            {"role": "B-End", "id": "LON3"},
        ],
        "productOrderItem": [{}, {"productOrderId": "PO-2"}],
        "productOffering": {"id": "EPL"},
    }


def test_set_then_get_round_trips() -> None:
    path = compile_path("productPrice[priceType=recurring].price.dutyFreeAmount.value")
    record: dict[str, Any] = {}
    path.set(record, 99.5)
    assert path.get(record) == 99.5
    path.set(record, 100)
    assert path.get(record) == 100
    assert len(record["productPrice"]) == 1


def test_set_refuses_a_path_ending_in_a_list_element() -> None:
    with pytest.raises(InvalidPath, match="must end in a key"):
        compile_path("place[role=A-End]").set({}, "x")


@pytest.mark.parametrize(
    "text", ["", "a..b", "a.", "1abc", "a[]", "a[=x]", "a[x=]", "a[x]", "a b", "a[0"]
)
def test_invalid_paths(text: str) -> None:
    with pytest.raises(InvalidPath) as info:
        compile_path(text)
    assert info.value.path == text
    assert text in str(info.value) or text == ""


def test_compiled_paths_are_cached() -> None:
    assert compile_path("place[role=A-End].id") is compile_path("place[role=A-End].id")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("place[role=A-End].id", "FRA1"),
        ("place[role=a-end].id", "FRA1"),
        ("place[role=A-END].id", "FRA1"),
        ("place[role=b-END].id", "LON3"),
        # Only ASCII letters fold: a value that differs in another letter finds nothing.
        ("place[role=A-\u00c9nd].id", None),
        # A selector picks strings only.
        ("place[role=1].id", None),
        # An exact match wins over an earlier one that differs in case.
        ("place[role=B-end].id", "LON3"),
        ("place[role=b-end].id", "lon3"),
        ("place[role=B-END].id", "LON3"),
    ],
)
def test_selector_values_match_exactly_else_without_regard_to_ascii_case(
    path: str, value: Any
) -> None:
    record = {
        "place": [
            {"role": 1, "id": "number"},
            {"role": "a-End", "id": "FRA1"},
            {"role": "B-end", "id": "LON3"},
            {"role": "b-end", "id": "lon3"},
            {"role": "A-\u00e9nd", "id": "accented"},
        ]
    }
    assert compile_path(path).get(record) == value
