"""Property tests: valid records always parse, the same in every format, and one corrupted
field is reported at its record and pointer."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panther.inventory.errors import ReportRejected
from panther.inventory.parse import parse_report
from panther.inventory.paths import compile_path
from panther.ledger.canonical import canonical_json

KNOWN = {
    "id",
    "status",
    "externalId",
    "startDate",
    "terminationDate",
    "productOffering",
    "productSpecification",
    "billingAccount",
    "place",
    "productPrice",
    "productTerm",
    "productOrderItem",
    "productCharacteristic",
    "relatedParty",
}
SAFE = 2**53 - 1

# What a valid record may hold: no NUL character, no number beyond ±(2^53 - 1) (both are
# refused, see panther.ledger.canonical.not_kept_exactly).
chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
text = st.text(chars, max_size=20)
nonempty = st.text(chars, min_size=1, max_size=20)
numbers = st.integers(-SAFE, SAFE) | st.floats(-SAFE, SAFE, allow_nan=False)
scalars = st.none() | st.booleans() | numbers | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
dates = st.dates().map(lambda d: d.isoformat()) | st.datetimes().map(
    lambda d: d.replace(microsecond=0).isoformat() + "Z"
)
currencies = st.sampled_from(["EUR", "USD", "GBP", "CHF", "JPY"])
money = st.fixed_dictionaries({"unit": currencies, "value": numbers})
refs = st.fixed_dictionaries({"id": nonempty}, optional={"name": text})


def extras(known: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.text(chars, min_size=1, max_size=12).filter(lambda k: k not in known)
    return st.dictionaries(keys, json_values, max_size=3)


prices = st.fixed_dictionaries(
    {
        "priceType": nonempty,
        "price": st.fixed_dictionaries(
            {}, optional={"dutyFreeAmount": money, "taxIncludedAmount": money}
        ),
    },
    optional={"recurringChargePeriod": text},
)
records = st.builds(
    lambda base, more: {**more, **base},
    st.fixed_dictionaries(
        {"id": st.text(chars, min_size=1, max_size=256), "status": nonempty},
        optional={
            "externalId": text,
            "startDate": dates,
            "terminationDate": st.none() | dates,
            "productOffering": refs,
            "productSpecification": refs,
            "billingAccount": refs,
            "place": st.lists(
                st.fixed_dictionaries({"role": nonempty, "id": nonempty}, optional={"name": text}),
                max_size=3,
            ),
            "productPrice": st.lists(prices, max_size=3),
            "productTerm": st.lists(st.dictionaries(text, json_values, max_size=2), max_size=2),
            "productOrderItem": st.lists(
                st.fixed_dictionaries({"productOrderId": text, "orderItemId": text}), max_size=2
            ),
            "productCharacteristic": st.lists(
                st.fixed_dictionaries({"name": nonempty, "value": scalars}), max_size=3
            ),
            "relatedParty": st.lists(st.fixed_dictionaries({"id": text}), max_size=2),
        },
    ),
    extras(KNOWN),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, max_size=6))
def test_valid_records_always_parse_the_same_in_json_and_ndjson(
    batch: list[dict[str, Any]],
) -> None:
    as_json = parse_report(json.dumps(batch, ensure_ascii=False).encode(), "application/json")
    assert as_json.records == batch
    assert as_json.leaves == [canonical_json(r) for r in batch]
    if batch:
        ndjson = b"\n".join(orjson.dumps(r) for r in batch)
        as_ndjson = parse_report(ndjson, "application/x-ndjson")
        assert as_ndjson.content_hash == as_json.content_hash


# (field to overwrite, bad value, pointer of the error): what makes a record unreadable.
CORRUPTIONS: list[tuple[str, Any, str | None]] = [
    ("id", "", "/id"),
    ("id", 7, "/id"),
    ("status", None, "/status"),
    ("status", "s" * 65, "/status"),
    ("big", {"n": 2**60}, "/big/n"),
    ("note", "a\x00b", "/note"),
]
# (field to overwrite, value): shapes the profile interprets, kept as sent.
KEPT: list[tuple[str, Any]] = [
    ("externalId", ["x"]),
    ("startDate", "2024-02-30"),
    ("terminationDate", "tomorrow"),
    ("productOffering", {"name": "no id"}),
    ("billingAccount", "BA-1"),
    ("place", [{"role": "A-End", "id": "X"}, {"role": "B-End", "id": 5}]),
    (
        "productPrice",
        [{"priceType": "recurring", "price": {"dutyFreeAmount": {"unit": "eur", "value": True}}}],
    ),
    ("productCharacteristic", [{"name": "bw", "value": [10]}]),
    ("productTerm", [{"name": "x"}, "36m"]),
    ("productOrderItem", "PO-1"),
    ("relatedParty", [None]),
    ("name", 7),
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, min_size=1, max_size=6), st.data())
def test_one_corrupted_field_is_refused_at_its_pointer_or_kept_as_sent(
    batch: list[dict[str, Any]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(batch) - 1), label="record")
    cases = CORRUPTIONS + [(field, value, None) for field, value in KEPT]
    field, value, pointer = data.draw(st.sampled_from(cases), label="corruption")
    batch[index][field] = value
    for body, media_type, line, held_line in (
        (b"\n".join(orjson.dumps(r) for r in batch), "application/x-ndjson", index + 1, index + 1),
        (orjson.dumps(batch), "application/json", None, 1),  # held out: the element's line
    ):
        if pointer is None:  # a shape the profile interprets: kept byte for byte
            report = parse_report(body, media_type)
            assert report.records == batch
            assert report.leaves == [canonical_json(r) for r in batch]
            continue
        try:
            parse_report(body, media_type)
        except ReportRejected as exc:
            assert [(e.line, e.record, e.pointer) for e in exc.errors] == [(line, index, pointer)]
            assert not exc.truncated and exc.records == 1
        else:
            raise AssertionError("the corrupted report was accepted")
        held = parse_report(body, media_type, hold_out=True)
        assert held.records == batch[:index] + batch[index + 1 :]
        assert [(h.line, h.record) for h in held.held_out] == [(held_line, index)]


CSV_MAPPING = {
    "id": "id",
    "external_id": "externalId",
    "status": "status",
    "start_date": "startDate",
    "offering": "productOffering.id",
    "bandwidth": "productCharacteristic[name=bandwidth].value",
    "site_a": "place[role=A-End].id",
    "mrc": "productPrice[priceType=recurring].price.dutyFreeAmount.value",
    "currency": "productPrice[priceType=recurring].price.dutyFreeAmount.unit",
    "order_id": "productOrderItem[0].productOrderId",
}
cell_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=20
)
csv_rows = st.fixed_dictionaries(
    {"id": cell_text, "status": cell_text},
    optional={
        "external_id": cell_text,
        "start_date": dates,
        "offering": cell_text,
        "bandwidth": cell_text,
        "site_a": cell_text,
        "charge": st.tuples(numbers, currencies),
        "order_id": cell_text,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(csv_rows, max_size=6))
def test_csv_mapping_round_trips(rows: list[dict[str, Any]]) -> None:
    expected: list[dict[str, Any]] = []
    for row in rows:
        cells = {k: v for k, v in row.items() if k != "charge"}
        if "charge" in row:
            cells["mrc"], cells["currency"] = row["charge"]
        record: dict[str, Any] = {}
        for column, path in CSV_MAPPING.items():  # mapping order, as the parser builds
            if column in cells:
                compile_path(path).set(record, cells[column])
        expected.append(record)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(CSV_MAPPING)
    for record in expected:
        writer.writerow(
            [
                ""
                if (v := compile_path(p).get(record)) is None
                else repr(v)
                if type(v) is float
                else str(v)
                for p in CSV_MAPPING.values()
            ]
        )
    report = parse_report(out.getvalue().encode(), "text/csv", csv_mapping=CSV_MAPPING)
    assert report.records == expected
    as_json = parse_report(json.dumps(expected).encode(), "application/json")
    assert report.content_hash == as_json.content_hash
