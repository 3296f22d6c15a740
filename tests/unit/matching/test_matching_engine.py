from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panther.matching import (
    DEFAULT_PROFILE,
    ITEMS_SCHEMA,
    ExtractMismatch,
    MatchProfile,
    extract,
    match,
    match_records,
)
from panther.matching.reference import reference_counts, reference_match

PROFILE = MatchProfile.from_dict(
    {
        "name": "test",
        "version": 1,
        "identifierRules": [
            {
                "name": "circuit",
                "supplier": [{"field": "id", "normaliser": "identifier"}],
                "customer": [{"field": "externalId", "normaliser": "identifier"}],
            },
            {
                "name": "order",
                "supplier": [{"field": "order", "normaliser": "identifier"}],
                "customer": [{"field": "order", "normaliser": "identifier"}],
            },
        ],
        "comparedFields": [
            {"name": "status", "field": "status", "comparator": "enum"},
            {"name": "bandwidth", "field": "bw", "comparator": "bandwidth"},
            {
                "name": "mrc",
                "field": "mrc",
                "comparator": "money",
                "params": {"absolute": "0.01"},
            },
        ],
    }
)


def run(supplier, customer, profile=PROFILE):
    """Engine items, checked against the reference implementation on the way."""
    result = match_records(supplier, customer, profile)
    items = list(result.item_dicts())
    assert items == reference_match(supplier, customer, profile)
    assert result.counts == reference_counts(items)
    return items


def by_refs(items):
    return {(tuple(i["supplierRefs"]), tuple(i["customerRefs"])): i for i in items}


def test_matched_and_partial():
    supplier = [
        {"id": "CID-001", "status": "active", "bw": "10G", "mrc": {"unit": "EUR", "value": 100}},
        {"id": "CID-002", "status": "active", "bw": "1G", "mrc": {"unit": "EUR", "value": 100}},
    ]
    customer = [
        {"externalId": "cid 2", "status": "terminated", "bw": "1000 Mbps",
         "mrc": {"unit": "EUR", "value": 100.02}},
        {"externalId": "CID_1", "status": "active.pendingChange", "bw": "10 Gbps",
         "mrc": {"unit": "EUR", "value": "100.01"}},
    ]  # fmt: skip
    items = run(supplier, customer)
    assert [(i["itemNo"], i["class"]) for i in items] == [(0, "matched"), (1, "partial")]
    assert items[0]["supplierRefs"] == [0] and items[0]["customerRefs"] == [1]
    assert items[0]["rule"] == "circuit" and items[0]["differences"] is None
    partial = items[1]
    assert partial["supplierRefs"] == [1] and partial["customerRefs"] == [0]
    assert partial["differences"] == [
        {
            "field": "status",
            "supplierValue": "active",
            "customerValue": "terminated",
            "supplierNormalised": "active",
            "customerNormalised": "terminated",
            "comparator": "enum",
        },
        {
            "field": "mrc",
            "supplierValue": {"unit": "EUR", "value": 100},
            "customerValue": {"unit": "EUR", "value": 100.02},
            "supplierNormalised": "EUR 100",
            "customerNormalised": "EUR 100.02",
            "comparator": "money",
        },
    ]
    result = match_records(supplier, customer, PROFILE)
    assert result.items.column("diff_fields").to_pylist() == [[], ["status", "mrc"]]
    assert result.items.schema == ITEMS_SCHEMA


def test_missing_on_either_side():
    items = run([{"id": "A"}, {"id": "B"}], [{"externalId": "B"}, {"externalId": "C"}, {}])
    assert [(i["class"], i["reason"], i["supplierRefs"], i["customerRefs"]) for i in items] == [
        ("matched", None, [1], [0]),
        ("mismatch", "missingAtCustomer", [0], []),
        ("mismatch", "missingAtSupplier", [], [1]),
        ("mismatch", "missingAtSupplier", [], [2]),
    ]
    assert all(i["rule"] is None for i in items[1:])


def test_duplicate_on_supplier_side_is_ambiguous():
    items = run(
        [{"id": "X-1"}, {"id": "x1"}, {"id": "Y"}], [{"externalId": "X01"}, {"externalId": "Y"}]
    )
    ambiguous = by_refs(items)[((0, 1), (0,))]
    assert (ambiguous["class"], ambiguous["reason"], ambiguous["rule"]) == (
        "mismatch",
        "ambiguous",
        "circuit",
    )
    assert len(items) == 2


def test_duplicate_on_customer_side_and_one_to_many():
    items = run([{"id": "X"}], [{"externalId": "X"}, {"externalId": "x"}, {"externalId": " X "}])
    assert len(items) == 1
    assert items[0]["reason"] == "ambiguous"
    assert (items[0]["supplierRefs"], items[0]["customerRefs"]) == ([0], [0, 1, 2])


def test_many_to_many_is_one_item():
    items = run([{"id": "X"}, {"id": "X"}], [{"externalId": "X"}, {"externalId": "X"}])
    assert [(i["reason"], i["supplierRefs"], i["customerRefs"]) for i in items] == [
        ("ambiguous", [0, 1], [0, 1])
    ]


def test_ambiguous_records_do_not_take_part_in_later_rules():
    supplier = [{"id": "X", "order": "O1"}, {"id": "X", "order": "O2"}]
    customer = [{"externalId": "X", "order": "O1"}]
    items = run(supplier, customer)
    assert [(i["reason"], i["supplierRefs"], i["customerRefs"]) for i in items] == [
        ("ambiguous", [0, 1], [0])
    ]


def test_duplicates_without_counterpart_are_ambiguous_not_missing():
    items = run([{"id": "D"}, {"id": "d"}, {"id": "E"}], [{"externalId": "F"}, {"externalId": "F"}])
    summary = [(i["reason"], i["rule"], i["supplierRefs"], i["customerRefs"]) for i in items]
    assert summary == [
        ("ambiguous", "circuit", [0, 1], []),
        ("missingAtCustomer", None, [2], []),
        ("ambiguous", "circuit", [], [0, 1]),
    ]


def test_one_sided_duplicate_key_falls_to_the_next_rule():
    # Both supplier records carry id X (the customer has no X): the order rule still links
    # the first; the second is left alone, so it is missing, not a duplicate.
    supplier = [{"id": "X", "order": "O-1"}, {"id": "X", "order": "O-2"}]
    customer = [{"externalId": "Z", "order": "o 1"}]
    items = run(supplier, customer)
    summary = [
        (i["class"], i["reason"], i["rule"], i["supplierRefs"], i["customerRefs"]) for i in items
    ]
    assert summary == [
        ("matched", None, "order", [0], [0]),
        ("mismatch", "missingAtCustomer", None, [1], []),
    ]


def test_fallback_to_second_rule_when_first_key_is_missing():
    supplier = [{"id": "A", "order": "PO-7"}, {"id": "B", "order": "PO-8"}]
    customer = [{"order": "po7"}, {"externalId": "", "order": "PO 8"}, {"externalId": "B"}]
    items = run(supplier, customer)
    links = {(i["rule"], tuple(i["supplierRefs"]), tuple(i["customerRefs"])) for i in items}
    assert ("order", (0,), (0,)) in links
    assert ("circuit", (1,), (2,)) in links
    assert (None, (), (1,)) in links  # its order key was taken by nobody: B linked by circuit


def test_cross_field_composite_key_and_null_components():
    profile = MatchProfile.from_dict(
        {
            "name": "composite",
            "version": 1,
            "identifierRules": [
                {
                    "name": "siteAndRef",
                    "supplier": [
                        {"field": "place[role=A-End].id", "normaliser": "text"},
                        {"field": "id", "normaliser": "identifier"},
                    ],
                    "customer": [
                        {"field": "site", "normaliser": "text"},
                        {"field": "externalId", "normaliser": "identifier"},
                    ],
                }
            ],
            "comparedFields": [],
        }
    )
    supplier = [
        {"id": "C-1", "place": [{"role": "A-End", "id": "FRA1"}]},
        {"id": "C-1", "place": [{"role": "A-End", "id": "LON3"}]},
        {"id": "C-2"},  # no site: takes no part
    ]
    customer = [
        {"site": "lon3", "externalId": "c1"},
        {"site": "FRA1", "externalId": "C1"},
        {"externalId": "C2"},
    ]
    items = run(supplier, customer, profile)
    assert [(i["class"], i["supplierRefs"], i["customerRefs"]) for i in items] == [
        ("matched", [0], [1]),
        ("matched", [1], [0]),
        ("mismatch", [2], []),
        ("mismatch", [], [2]),
    ]


def test_extract_columns_and_metadata():
    records = [
        {"id": "CID-1", "status": "Active", "bw": "10G", "mrc": {"unit": "eur", "value": 1.5}},
        {"status": " "},
    ]
    table = extract(records, PROFILE, "supplier")
    assert table.column_names == [
        "ref", "key0", "key1", "f0_raw", "f0", "f1_raw", "f1", "f2_raw", "f2",
    ]  # fmt: skip
    rows = table.to_pylist()
    assert rows[0]["ref"] == 0 and rows[1]["ref"] == 1
    assert rows[0]["key0"] == "CID1" and rows[1]["key0"] is None
    assert rows[0]["f0_raw"] == '"Active"' and rows[0]["f0"] == "active"
    assert rows[1]["f0_raw"] is None and rows[1]["f0"] is None
    assert rows[0]["f1"] == 10_000_000_000
    assert rows[0]["f2"] == {"currency": "EUR", "value": Decimal("1.5")}
    with pytest.raises(ExtractMismatch) as info:
        match(table, table, PROFILE)
    assert info.value.side == "customer"
    with pytest.raises(ExtractMismatch):
        match(table, extract(records, DEFAULT_PROFILE, "customer"), PROFILE)


def test_empty_reports():
    assert run([], []) == []
    items = run([], [{"externalId": "A"}])
    assert items[0]["reason"] == "missingAtSupplier"


def test_default_profile_on_documented_record():
    record = {
        "id": "CID-000123",
        "externalId": "ORD77-000123",
        "status": "active",
        "startDate": "2024-03-01T00:00:00Z",
        "terminationDate": None,
        "place": [{"role": "A-End", "id": "FRA1"}, {"role": "B-End", "id": "LON3"}],
        "productPrice": [
            {
                "priceType": "recurring",
                "price": {"dutyFreeAmount": {"unit": "EUR", "value": 1250.0}},
            }
        ],
        "productOrderItem": [{"productOrderId": "PO-2024-000123", "orderItemId": "1"}],
        "productCharacteristic": [
            {"name": "bandwidth", "value": "10 Gbps"},
            {"name": "serviceType", "value": "EPL"},
        ],
    }
    customer = dict(record, id="B-9", externalId="cid 123", status="pendingActive",
                    startDate="2024-03-02")  # fmt: skip
    customer["productCharacteristic"] = [
        {"name": "bandwidth", "value": "10000 Mbps"},
        {"name": "serviceType", "value": "Ethernet Private Line"},
    ]
    items = run([record], [customer], DEFAULT_PROFILE)
    assert items[0]["class"] == "partial"
    assert [d["field"] for d in items[0]["differences"]] == ["status"]


# -- properties --------------------------------------------------------------------------

_ids = st.sampled_from(["A1", "a-01", "B2", "C3", "c 3", "D4", "", None])
_orders = st.sampled_from(["PO-1", "po1", "PO-2", "PO-3", None])
_status = st.sampled_from(["active", "created", "pendingActive", "terminated", None])
_bw = st.sampled_from(["10G", "10000 Mbps", "1G", "fast", None])
_mrc = st.one_of(
    st.none(),
    st.builds(
        lambda v, u: {"unit": u, "value": v},
        st.sampled_from([100, 100.0, "100.01", 100.02, "x"]),
        st.sampled_from(["EUR", "USD"]),
    ),
)
_day = st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 1, 5)).map(str)


def _record(id_field):
    return st.fixed_dictionaries(
        {},
        optional={
            id_field: _ids,
            "order": _orders,
            "status": _status,
            "bw": _bw,
            "mrc": _mrc,
            "start": _day,
        },
    )


PROPERTY_PROFILE = MatchProfile.from_dict(
    {
        **PROFILE.to_dict(),
        "comparedFields": PROFILE.to_dict()["comparedFields"]
        + [
            {
                "name": "start",
                "field": "start",
                "comparator": "date",
                "params": {"toleranceDays": 1},
            },
            {"name": "exactStatus", "field": "status", "comparator": "exact"},
        ],
    }
)

_inventories = st.tuples(
    st.lists(_record("id"), max_size=12), st.lists(_record("externalId"), max_size=12)
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_inventories)
def test_engine_equals_reference(inventories):
    supplier, customer = inventories
    result = match_records(supplier, customer, PROPERTY_PROFILE)
    items = list(result.item_dicts())
    assert items == reference_match(supplier, customer, PROPERTY_PROFILE)
    assert result.counts == reference_counts(items)
    # Every record appears in exactly one item.
    assert sorted(r for i in items for r in i["supplierRefs"]) == list(range(len(supplier)))
    assert sorted(r for i in items for r in i["customerRefs"]) == list(range(len(customer)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_inventories)
def test_mirrored_profile_gives_mirrored_results(inventories):
    supplier, customer = inventories
    forward = list(match_records(supplier, customer, PROPERTY_PROFILE).item_dicts())
    backward = list(match_records(customer, supplier, PROPERTY_PROFILE.mirrored()).item_dicts())
    swap_reason = {
        "missingAtSupplier": "missingAtCustomer",
        "missingAtCustomer": "missingAtSupplier",
    }

    def key(item, mirrored):
        s, c = item["supplierRefs"], item["customerRefs"]
        if mirrored:
            s, c = c, s
        reason = swap_reason.get(item["reason"], item["reason"]) if mirrored else item["reason"]
        differences = item["differences"]
        if mirrored and differences:
            differences = [
                {
                    **d,
                    "supplierValue": d["customerValue"],
                    "customerValue": d["supplierValue"],
                    "supplierNormalised": d["customerNormalised"],
                    "customerNormalised": d["supplierNormalised"],
                }
                for d in differences
            ]
        return (item["class"], reason, item["rule"], tuple(s), tuple(c), repr(differences))

    assert sorted(key(i, False) for i in forward) == sorted(key(i, True) for i in backward)
