"""The fast path equals the slow path: extract_json == extract(orjson.loads(...)), and
item_columns == the per-item canonical JSON and columns a match run stores."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panther.demo.generator import generate_pair
from panther.ledger.canonical import canonical_json
from panther.matching import DEFAULT_PROFILE, MatchProfile, extract, match
from panther.matching.fastpath import (
    InvalidRecordText,
    extract_json,
    item_columns,
    item_leaves,
)

# Paths that disagree on the shape of a node (`a` is a leaf and an object, `l` is indexed
# and selected, `id` and `ID` collide in DuckDB's case-insensitive struct names), composite
# keys, and every normaliser.
EDGE_PROFILE = MatchProfile.from_dict(
    {
        "name": "edges",
        "version": 1,
        "identifierRules": [
            {
                "name": 'r\u00fcle "one"\\',
                "supplier": [{"field": "id"}, {"field": "a.b", "normaliser": "text"}],
                "customer": [{"field": "ID"}, {"field": "a.b", "normaliser": "text"}],
            },
            {
                "name": "second",
                "supplier": [{"field": "l[0].v", "params": {"stripPrefixes": ["CID"]}}],
                "customer": [{"field": "l[k=x].v"}],
            },
        ],
        "comparedFields": [
            {"name": "whole", "field": "a", "comparator": "exact"},
            {"name": "num", "field": "a.b", "comparator": "number"},
            {"name": "sel", "field": "l[k=x].v", "comparator": "bandwidth"},
            {"name": "deep", "field": "l[k=x].v.w", "comparator": "date"},
            {"name": "cash", "field": "m[t=r].p", "comparator": "money"},
            {"name": "cash2", "field": "m[1].p", "comparator": "money"},
            {"name": "kind", "field": "@type", "comparator": "enum"},
            {"name": "other", "supplierField": "ID", "customerField": "id", "comparator": "exact"},
        ],
    }
)

TRICKY_TEXT = [
    "", " ", "  ", "\u00a0", "\u2003x", "\t x ", "x\n", "a\"b", "a\\b", "/", "\u2028", "\x7f",
    "\x00", "\x1f", "\u00e9", "\u0131", "\ufb00", "\U0001f600", "10 Gbps", "1000 Mbps", "10G",
    "1e3", "0012.50", " 12.5 ", "-0", "1_000", "Infinity", "NaN", "12345678901234567",
    "123456789012345678", "0.12345678901", "EUR", " eur ", "Eu", "US D", "2025-01-04T00:00:00Z",
    "2025-01-04", "2025-02-30", "2025-01-04T23:30:00-02:00", "active", "ACTIVE ", "E-Line",
    "CID-000123", "cid 123", "PO-2024-000123", "x", "r", "bandwidth", "serviceType",
]  # fmt: skip
TRICKY_NUMBERS = [
    0, -1, 1, 2**53 - 1, -(2**53) + 1, 10**15, 0.1, -0.0, 2474.37, 1250.0, 1e16, 1e21,
    1e-7, 5e-324, 123456789.123456789, 0.30000000000000004, 99999999999999.99, 1.5e300,
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(TRICKY_NUMBERS),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(TRICKY_TEXT),
    st.text(max_size=6),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
money_values = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "unit": st.one_of(
                st.sampled_from(["EUR", " eur ", "US", "\u0131sd", "\ufb00x"]), scalars
            ),
            "value": scalars,
            "extra": scalars,
        },
    ),
)


def element(selectors: dict[str, list[Any]], inner: dict[str, st.SearchStrategy[Any]]) -> Any:
    keyed = {
        key: st.one_of(st.sampled_from(options), scalars) for key, options in selectors.items()
    }
    return st.one_of(scalars, st.fixed_dictionaries({}, optional={**keyed, **inner}))


def listish(items: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(items, max_size=4), json_values)


default_records = st.fixed_dictionaries(
    {},
    optional={
        "id": scalars,
        "externalId": scalars,
        "status": scalars,
        "startDate": scalars,
        "terminationDate": scalars,
        "productOrderItem": listish(element({}, {"productOrderId": scalars})),
        "productCharacteristic": listish(
            element({"name": ["bandwidth", "serviceType", "x"]}, {"value": json_values})
        ),
        "productPrice": listish(
            element(
                {"priceType": ["recurring", "nonRecurring"]},
                {
                    "price": st.one_of(
                        json_values, st.fixed_dictionaries({"dutyFreeAmount": money_values})
                    )
                },
            )
        ),
        "place": listish(
            # Selectors fold ASCII case only: "a-END" is A-End, "A-\u00c9nd" is not; an exact
            # match wins over an earlier folded one.
            element({"role": ["A-End", "B-End", "a-END", "b-end", "A-\u00c9nd"]}, {"id": scalars})
        ),
    },
)
edge_records = st.fixed_dictionaries(
    {},
    optional={
        "id": scalars,
        "ID": scalars,
        "@type": scalars,
        "a": st.one_of(json_values, st.fixed_dictionaries({}, optional={"b": json_values})),
        "l": listish(
            element(
                {"k": ["x", "y", "X"]},
                {"v": st.one_of(json_values, st.fixed_dictionaries({"w": scalars}))},
            )
        ),
        "m": listish(element({"t": ["r", "s", "R"]}, {"p": money_values})),
    },
)


def bodies_of(records: list[Any]) -> pa.Array:
    return pa.array([canonical_json(r).decode() for r in records], pa.string())


def slow_extract(bodies: pa.Array, profile: MatchProfile, side: str) -> pa.Table:
    return extract([orjson.loads(b) for b in bodies.to_pylist()], profile, side)  # type: ignore[arg-type]


def assert_tables_equal(fast: pa.Table, slow: pa.Table) -> None:
    assert fast.schema.equals(slow.schema, check_metadata=True)
    for name in slow.column_names:
        assert fast.column(name).to_pylist() == slow.column(name).to_pylist(), name
    assert fast.equals(slow, check_metadata=True)


# -- extract_json ------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["supplier", "customer"])
def test_generated_reports_extract_the_same(side):
    pair = generate_pair(400, seed=11)
    records = pair.supplier if side == "supplier" else pair.customer
    assert any(r.get("externalId", "") is None for r in records) or side == "supplier"
    bodies = bodies_of(records)
    assert_tables_equal(
        extract_json(bodies, DEFAULT_PROFILE, side), slow_extract(bodies, DEFAULT_PROFILE, side)
    )


def test_chunks_and_threads_give_the_same_table():
    pair = generate_pair(300, seed=5)
    bodies = pa.chunked_array([bodies_of(pair.customer[:100]), bodies_of(pair.customer[100:])])
    whole = slow_extract(bodies.combine_chunks(), DEFAULT_PROFILE, "customer")
    threaded = extract_json(bodies, DEFAULT_PROFILE, "customer", workers=3)
    assert_tables_equal(threaded, whole)
    chunks = [
        extract_json(bodies.slice(start, 70), DEFAULT_PROFILE, "customer", first_ref=start)
        for start in range(0, len(bodies), 70)
    ]
    assert pa.concat_tables(chunks).equals(whole, check_metadata=True)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(default_records, min_size=1, max_size=6), st.sampled_from(["supplier", "customer"]))
def test_random_records_extract_the_same_default_profile(records, side):
    bodies = bodies_of(records)
    assert_tables_equal(
        extract_json(bodies, DEFAULT_PROFILE, side), slow_extract(bodies, DEFAULT_PROFILE, side)
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edge_records, min_size=1, max_size=6), st.sampled_from(["supplier", "customer"]))
def test_random_records_extract_the_same_edge_profile(records, side):
    bodies = bodies_of(records)
    assert_tables_equal(
        extract_json(bodies, EDGE_PROFILE, side), slow_extract(bodies, EDGE_PROFILE, side)
    )


def test_hand_made_edge_cases():
    records: list[Any] = [
        {"id": "CID-1", "externalId": None, "status": " Active ", "startDate": "2025-01-04"},
        {"id": 123, "status": 1, "productCharacteristic": [{"name": "bandwidth", "value": 10**9}]},
        {"id": "x", "productCharacteristic": [
            {"name": "bandwidth", "value": "1G"}, {"name": "bandwidth", "value": "10G"}]},
        {"id": "y", "productCharacteristic": [
            "bandwidth", {"name": 1, "value": "1G"}, {"value": "2G"}, {"name": "bandwidth"}]},
        {"id": "\u00e9t\u00e9", "place": {"role": "A-End", "id": "FRA1"}},
        {"id": "z", "productPrice": [{"priceType": "recurring", "price": {
            "dutyFreeAmount": {"unit": "eur", "value": "1250.50"}}}]},
        {"id": "w", "productPrice": [{"priceType": "recurring", "price": {
            "dutyFreeAmount": {"unit": "EUR", "value": 1e16}}}]},
        {"id": "v", "productOrderItem": [], "place": [None, {"role": "B-End", "id": "  "}]},
        [1, 2],
        "just text",
        {},
    ]  # fmt: skip
    bodies = bodies_of(records)
    for side in ("supplier", "customer"):
        assert_tables_equal(
            extract_json(bodies, DEFAULT_PROFILE, side), slow_extract(bodies, DEFAULT_PROFILE, side)
        )


def test_large_string_input_and_first_ref():
    pair = generate_pair(50, seed=3)
    bodies = bodies_of(pair.supplier).cast(pa.large_string())
    table = extract_json(bodies, DEFAULT_PROFILE, "supplier", first_ref=1000)
    assert table.column("ref").to_pylist() == list(range(1000, 1000 + len(bodies)))
    assert table.drop_columns(["ref"]).equals(
        slow_extract(bodies, DEFAULT_PROFILE, "supplier").drop_columns(["ref"])
    )


def test_empty_input():
    empty = pa.array([], pa.string())
    assert_tables_equal(
        extract_json(empty, DEFAULT_PROFILE, "supplier"), extract([], DEFAULT_PROFILE, "supplier")
    )


def test_invalid_text_is_reported_with_its_position():
    bodies = pa.array(['{"id": "a"}', '{"id": "b"}', '{"id": ', '{"id": "c"}'])
    with pytest.raises(InvalidRecordText) as caught:
        extract_json(bodies, DEFAULT_PROFILE, "supplier")
    assert caught.value.position == 2
    with pytest.raises(InvalidRecordText) as threaded:
        extract_json(bodies, DEFAULT_PROFILE, "supplier", workers=2)
    assert threaded.value.position == 2


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="side"):
        extract_json(pa.array(["{}"]), DEFAULT_PROFILE, "seller")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        extract_json(pa.array([1]), DEFAULT_PROFILE, "supplier")


# -- item columns ------------------------------------------------------------------------


def service_columns(result: Any) -> tuple[list[bytes], list[str], list[str], list[str]]:
    """The per-item values the match service computes one item at a time."""
    leaves, srefs, crefs, fields = [], [], [], []
    for item in result.item_dicts():
        leaves.append(canonical_json(item))
        diffs = item.get("differences") or []
        fields.append("," + ",".join(d["field"] for d in diffs) + "," if diffs else "")
        srefs.append(orjson.dumps(item["supplierRefs"]).decode())
        crefs.append(orjson.dumps(item["customerRefs"]).decode())
    return leaves, srefs, crefs, fields


def assert_items_equal(result: Any) -> None:
    leaves, srefs, crefs, fields = service_columns(result)
    columns = item_columns(result)
    assert columns.leaves() == leaves
    assert item_leaves(result) == leaves
    assert columns.bodies.to_pylist() == [leaf.decode() for leaf in leaves]
    assert columns.supplier_refs.to_pylist() == srefs
    assert columns.customer_refs.to_pylist() == crefs
    assert columns.diff_fields.to_pylist() == fields


def test_generated_match_items_equal_the_slow_path():
    pair = generate_pair(600, seed=2)
    result = match(
        extract(pair.supplier, DEFAULT_PROFILE, "supplier"),
        extract(pair.customer, DEFAULT_PROFILE, "customer"),
        DEFAULT_PROFILE,
    )
    assert {"matched", "partial", "ambiguous", "missingAtSupplier"} <= {
        k for k, v in result.counts.items() if v
    }
    assert_items_equal(result)


# Few key values, so records link, collide (ambiguous) and differ (partial).
linked_records = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["c1", "C-1", "c2", "c3", ""]),
        "ID": st.sampled_from(["c1", "c2", "C_2", "c4"]),
        "a": st.fixed_dictionaries({"b": st.sampled_from(["x", "X ", "1.5"])}),
    },
    optional={
        "l": listish(
            element({"k": ["x"]}, {"v": st.sampled_from(["10G", "10 Gbps", "1G", "CID-7"])})
        ),
        "m": listish(element({"t": ["r"]}, {"p": money_values})),
        "@type": st.sampled_from(["active", "ACTIVE", "created", '\u00e9"x']),
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(linked_records, max_size=8), st.lists(linked_records, max_size=8))
def test_random_match_items_equal_the_slow_path(supplier, customer):
    result = match(
        extract_json(bodies_of(supplier), EDGE_PROFILE, "supplier"),
        extract_json(bodies_of(customer), EDGE_PROFILE, "customer"),
        EDGE_PROFILE,
    )
    assert_items_equal(result)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=120), st.integers(min_value=0, max_value=2**32))
def test_generated_pairs_items_equal_the_slow_path(n, seed):
    pair = generate_pair(n, seed=seed)
    result = match(
        extract_json(bodies_of(pair.supplier), DEFAULT_PROFILE, "supplier"),
        extract_json(bodies_of(pair.customer), DEFAULT_PROFILE, "customer"),
        DEFAULT_PROFILE,
    )
    assert_items_equal(result)


def test_no_items():
    empty = pa.array([], pa.string())
    result = match(
        extract_json(empty, DEFAULT_PROFILE, "supplier"),
        extract_json(empty, DEFAULT_PROFILE, "customer"),
        DEFAULT_PROFILE,
    )
    assert item_leaves(result) == []
