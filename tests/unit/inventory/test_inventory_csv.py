"""CSV reports: building nested records through the profile's csvMapping, and CSV errors."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from panther.inventory.errors import InvalidCsvMapping, ReportRejected
from panther.inventory.parse import check_csv_mapping, parse_report
from panther.inventory.paths import compile_path

CSV = "text/csv"
MakeRecord = Callable[..., dict[str, Any]]
MRC = "productPrice[priceType=recurring].price.dutyFreeAmount.value"
SMALL = {
    "id": "id",
    "status": "status",
    "mrc": MRC,
    "currency": "productPrice[priceType=recurring].price.dutyFreeAmount.unit",
}


def project(record: dict[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """The part of a record a CSV with this mapping can carry, built in mapping order."""
    out: dict[str, Any] = {}
    for path in mapping.values():
        value = compile_path(path).get(record)
        if value is not None:
            compile_path(path).set(out, value)
    return out


def to_csv(
    records: list[dict[str, Any]], mapping: Mapping[str, str], *, order: Any = None
) -> bytes:
    columns = list(order or mapping)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        cells = []
        for column in columns:
            value = compile_path(mapping[column]).get(record)
            cells.append(
                "" if value is None else repr(value) if isinstance(value, float) else str(value)
            )
        writer.writerow(cells)
    return out.getvalue().encode()


def rejected(body: bytes, mapping: Mapping[str, str], **kwargs: Any) -> ReportRejected:
    with pytest.raises(ReportRejected) as info:
        parse_report(body, CSV, csv_mapping=mapping, **kwargs)
    return info.value


# --- building records ----------------------------------------------------------------------


def test_a_row_becomes_the_nested_record(doc_mapping: dict[str, str]) -> None:
    body = (
        ",".join(doc_mapping).encode()
        + b"\nCID-1,ORD-1,active,2024-03-01,,EPL,10 Gbps,EPL,FRA1,LON3,1250.50,EUR,PO-1,BA-1\n"
    )
    [record] = parse_report(body, CSV, csv_mapping=doc_mapping).records
    assert record == {
        "id": "CID-1",
        "externalId": "ORD-1",
        "status": "active",
        "startDate": "2024-03-01",
        "productOffering": {"id": "EPL"},
        "productCharacteristic": [
            {"name": "bandwidth", "value": "10 Gbps"},
            {"name": "serviceType", "value": "EPL"},
        ],
        "place": [{"role": "A-End", "id": "FRA1"}, {"role": "B-End", "id": "LON3"}],
        "productPrice": [
            {
                "priceType": "recurring",
                "price": {"dutyFreeAmount": {"value": 1250.5, "unit": "EUR"}},
            }
        ],
        "productOrderItem": [{"productOrderId": "PO-1"}],
        "billingAccount": {"id": "BA-1"},
    }


def test_csv_round_trip_and_same_hash_as_json(
    make_record: MakeRecord, doc_mapping: dict[str, str]
) -> None:
    records = [project(make_record(i), doc_mapping) for i in range(6)]
    records[2]["productPrice"][0]["price"]["dutyFreeAmount"]["value"] = 99.99
    from_csv = parse_report(to_csv(records, doc_mapping), CSV, csv_mapping=doc_mapping)
    assert from_csv.records == records
    from_json = parse_report(json.dumps(records).encode(), "application/json")
    ndjson = b"\n".join(json.dumps(r).encode() for r in records)
    from_ndjson = parse_report(ndjson, "application/x-ndjson")
    assert from_csv.content_hash == from_json.content_hash == from_ndjson.content_hash
    assert from_csv.leaves == from_json.leaves


def test_column_order_does_not_change_the_records(
    make_record: MakeRecord, doc_mapping: dict[str, str]
) -> None:
    records = [project(make_record(i), doc_mapping) for i in range(3)]
    reversed_columns = list(doc_mapping)[::-1]
    a = parse_report(to_csv(records, doc_mapping), CSV, csv_mapping=doc_mapping)
    b = parse_report(
        to_csv(records, doc_mapping, order=reversed_columns), CSV, csv_mapping=doc_mapping
    )
    assert a.content_hash == b.content_hash


def test_empty_cells_mean_absent_fields() -> None:
    body = b"id,status,mrc,currency\nCID-1,active,,\n"
    [record] = parse_report(body, CSV, csv_mapping=SMALL).records
    assert record == {"id": "CID-1", "status": "active"}


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("1250", 1250),
        ("-3", -3),
        ("1250.50", 1250.5),
        (" 12.5 ", 12.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("+7.25", 7.25),
        ("9007199254740991", 2**53 - 1),
    ],
)
def test_money_value_cells_become_numbers(cell: str, value: float) -> None:
    body = f"id,status,mrc,currency\nCID-1,active,{cell},EUR\n".encode()
    [record] = parse_report(body, CSV, csv_mapping=SMALL).records
    amount = record["productPrice"][0]["price"]["dutyFreeAmount"]["value"]
    assert amount == value
    assert type(amount) is type(value)


@pytest.mark.parametrize(
    "cell",
    [
        "abc",
        "1,250.00",
        "12,50",
        "1_000",
        "nan",
        "Infinity",
        "0x10",
        "1e999",
        "12345678901234567.89",
        "9007199254740992",
        "9" * 5000,
    ],
)
def test_money_cells_that_are_no_exact_number_are_kept_as_the_text_sent(cell: str) -> None:
    """Ingest keeps what was sent: a money cell that spells no number a double keeps exactly
    stays the text it is (the profile's money normaliser reads it or not); nothing rounds."""
    body = f'id,status,mrc,currency\nCID-0,active,1,EUR\nCID-1,active,"{cell}",EUR\n'.encode()
    report = parse_report(body, CSV, csv_mapping=SMALL)
    assert report.records[1]["productPrice"][0]["price"]["dutyFreeAmount"]["value"] == cell


def test_csv_values_are_checked_like_json() -> None:
    """A lower-case currency is kept as sent; a row without an id cannot be read."""
    body = b"id,status,mrc,currency\nCID-1,active,10,eur\n,active,1,EUR\n"
    exc = rejected(body, SMALL)
    assert [(e.line, e.record, e.pointer, e.kind) for e in exc.errors] == [
        (3, 1, "/id", "idMissing"),
    ]
    body = b"id,status,mrc,currency\nCID-1,active,10,eur\n"
    [record] = parse_report(body, CSV, csv_mapping=SMALL).records
    assert record["productPrice"][0]["price"]["dutyFreeAmount"] == {"value": 10, "unit": "eur"}


def test_held_out_rows_are_digested_as_sent() -> None:
    body = b'id,status\nCID-1,active\n,active\n"CID-3\nwrapped",active\nCID-4\n'
    report = parse_report(body, CSV, csv_mapping=SMALL, hold_out=True)
    assert [r["id"] for r in report.records] == ["CID-1", "CID-3\nwrapped"]
    assert [(h.line, h.record, h.problems[0].kind) for h in report.held_out] == [
        (3, 1, "idMissing"),
        (6, 3, "csvRow"),
    ]
    assert report.held_out[0].digest == hashlib.sha256(b",active").digest()
    assert report.held_out[1].digest == hashlib.sha256(b"CID-4").digest()


def test_a_header_that_cannot_be_read_refuses_even_when_holding_out() -> None:
    exc = rejected(b"id,colour\nCID-1,blue\n", SMALL, hold_out=True)
    assert exc.errors[0].kind == "csvHeader"
    exc = rejected(b'id,status\nCID-1,active\nCID-2,"act"ive\n', SMALL, hold_out=True)
    assert exc.errors[0].kind == "malformedCsv"


def test_header_only_is_an_empty_report() -> None:
    report = parse_report(b"id,status\r\n", CSV, csv_mapping=SMALL)
    assert report.count == 0


def test_crlf_bom_and_blank_lines() -> None:
    body = b"\xef\xbb\xbfid,status\r\nCID-1,active\r\n\r\nCID-2,active\r\n"
    report = parse_report(body, CSV, csv_mapping=SMALL)
    assert [r["id"] for r in report.records] == ["CID-1", "CID-2"]


# --- CSV errors ----------------------------------------------------------------------------


def test_unknown_header_column_is_named() -> None:
    body = b"id,status,colour,size\nCID-1,active,red,XL\n"
    exc = rejected(body, SMALL)
    assert [(e.line, e.record, e.pointer) for e in exc.errors] == [(1, None, "")] * 2
    assert "'colour'" in exc.errors[0].message
    assert "'size'" in exc.errors[1].message


def test_duplicate_and_empty_header_cells() -> None:
    exc = rejected(b"id,status,id,\nA,b,c,d\n", SMALL)
    messages = [e.message for e in exc.errors]
    assert messages == ["column 'id' appears twice", "header cell 4 is empty"]


def test_missing_header() -> None:
    [error] = rejected(b"CID-1,active\nCID-2,active\n", SMALL).errors
    assert error.line == 1
    assert error.message.startswith("missing header")
    assert "currency" in error.message


def test_header_without_the_required_columns() -> None:
    exc = rejected(b"mrc,currency\n1,EUR\n", SMALL)
    assert [e.message for e in exc.errors] == [
        "missing column 'id' (the record's id)",
        "missing column 'status' (the record's status)",
    ]


def test_wrong_cell_count_reports_the_physical_line_of_the_row() -> None:
    body = (
        b"id,status\n"
        b'CID-1,"active\nwith a line break"\n'  # lines 2-3
        b"CID-2,active,extra\n"  # line 4
        b"CID-3\n"  # line 5
        b"CID-4,active\n"
    )
    exc = rejected(body, SMALL)
    assert [(e.line, e.record, e.message) for e in exc.errors] == [
        (4, 1, "the row has 3 cells, the header has 2"),
        (5, 2, "the row has 1 cells, the header has 2"),
    ]


def test_malformed_quoting_is_reported_with_its_line() -> None:
    body = b'id,status\nCID-1,active\nCID-2,"act"ive\n'
    [error] = rejected(body, SMALL).errors
    assert error.line == 3
    assert error.message.startswith("malformed CSV")


def test_csv_error_cap() -> None:
    rows = "".join(f"CID-{i},\n" for i in range(20))  # status missing everywhere
    exc = rejected(("id,status\n" + rows).encode(), SMALL, max_errors=5)
    assert len(exc.errors) == 5
    assert exc.truncated
    assert [e.line for e in exc.errors] == [2, 3, 4, 5, 6]


def test_invalid_utf8_in_csv() -> None:
    body = b"id,status\nCID-\xff,active\n"
    [error] = rejected(body, SMALL).errors
    assert error.line == 2
    assert "byte offset 14" in error.message


# --- the mapping itself --------------------------------------------------------------------


def test_documented_mapping_is_valid(doc_mapping: dict[str, str]) -> None:
    check_csv_mapping(doc_mapping)


@pytest.mark.parametrize(
    ("mapping", "column", "fragment"),
    [
        ({"a": "id", "b": "place[role=A-End]"}, "b", "must end in a key"),
        ({"a": "id", "b": "bad path!"}, "b", "bad segment"),
        ({"a": "", "b": "id"}, "a", "empty"),
        ({"a": "productOffering", "b": "productOffering.id"}, "b", "needs an object or list"),
        ({"a": "productOffering.id", "b": "productOffering"}, "b", "needs an object or list"),
        ({"a": "externalId", "b": "externalId"}, "b", "writes the same field"),
        ({"a": "place[0].id", "b": "place.id"}, "b", "needs a list"),
        ({"a": "place[role=A-End].role"}, "a", "selector"),
        ({"a": "x[k=v].k.z"}, "a", "selector"),
        ({"": "id"}, "", "column name is empty"),
    ],
)
def test_broken_mappings_are_refused(mapping: dict[str, str], column: str, fragment: str) -> None:
    with pytest.raises(InvalidCsvMapping) as info:
        check_csv_mapping(mapping)
    assert info.value.column == column
    assert fragment in str(info.value)
    with pytest.raises(InvalidCsvMapping):
        parse_report(b"id\nx\n", CSV, csv_mapping=mapping)


def test_different_list_elements_do_not_clash() -> None:
    check_csv_mapping(
        {"a": "place[role=A-End].id", "b": "place[role=B-End].id", "c": "place[role=A-End].name"}
    )


def test_columns_that_alias_one_element_at_run_time_are_reported() -> None:
    # Valid on paper; only this row's data makes both columns land on the same element.
    mapping = {"id": "id", "status": "status", "m": "x[0].m", "k": "x[0].k", "z": "x[k=v].m.z"}
    body = b"id,status,m,k,z\nCID-1,active,text,v,1\nCID-2,active,text,w,1\n"
    [error] = rejected(body, mapping).errors
    assert (error.line, error.record, error.pointer) == (2, 0, "")
    assert error.message == "column 'z' clashes with another column"
