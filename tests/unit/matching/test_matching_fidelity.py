"""Messy real-world inventories: each kind of mess the default profile (or a relation's
terms in its profile) must see through, and the ones it must report rather than pass."""

from __future__ import annotations

import copy
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panther.ledger.canonical import canonical_json
from panther.matching import DEFAULT_PROFILE, InvalidProfile, MatchProfile, match_records
from panther.matching.engine import extract
from panther.matching.fastpath import extract_json
from panther.matching.reference import reference_counts, reference_match


def service(
    *,
    id: str | None = None,
    external: str | None = None,
    order: str | None = None,
    a: str = "FRA1",
    b: str = "LON3",
    kind: str = "EPL",
    bw: Any = "10 Gbps",
    status: str = "active",
    price: dict[str, Any] | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "status": status,
        "startDate": "2024-03-01",
        "place": [{"role": "A-End", "id": a}, {"role": "B-End", "id": b}],
        "productCharacteristic": [
            {"name": "bandwidth", "value": bw},
            {"name": "serviceType", "value": kind},
        ],
        "productPrice": [
            {
                "priceType": "recurring",
                "price": price or {"dutyFreeAmount": {"unit": "EUR", "value": 1000}},
            }
        ],
    }
    if id is not None:
        record["id"] = id
    if external is not None:
        record["externalId"] = external
    if order is not None:
        record["productOrderItem"] = [{"productOrderId": order}]
    return record


def run(supplier: list[Any], customer: list[Any], profile: MatchProfile = DEFAULT_PROFILE):
    """Engine items, checked against the reference and the JSON fast path on the way."""
    result = match_records(supplier, customer, profile)
    items = list(result.item_dicts())
    assert items == reference_match(supplier, customer, profile)
    assert result.counts == reference_counts(items)
    for side, records in (("supplier", supplier), ("customer", customer)):
        bodies = pa.array([canonical_json(r).decode() for r in records], pa.string())
        fast = extract_json(bodies, profile, side)
        slow = extract(records, profile, side)
        assert fast.to_pylist() == slow.to_pylist()
    return items


def only(items: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(items) == 1, items
    return items[0]


def with_changes(**changes: Any) -> MatchProfile:
    doc = copy.deepcopy(DEFAULT_PROFILE.to_dict())
    for edit in changes.values():
        edit(doc)
    return MatchProfile.from_dict(doc)


def _field(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in doc["comparedFields"] if f["name"] == name)


@pytest.mark.parametrize("written", ["CID-000123", "cid 123", "CID_000123", "cid0123", "Cid-123"])
def test_identifiers_written_differently_link(written: str) -> None:
    item = only(run([service(id="CID-000123")], [service(external=written)]))
    assert (item["class"], item["rule"]) == ("matched", "supplierCircuitId")


def test_a_prefix_one_side_adds_is_stripped_by_the_relations_profile() -> None:
    supplier, customer = [service(id="CID-000123")], [service(external="DTGC-CID-000123")]
    # Without the relation's setting the prefixed identifier is another key; the composite
    # rule still finds the service, and says so.
    assert only(run(supplier, customer))["rule"] == "siteServiceBandwidth"

    def strip(doc: dict[str, Any]) -> None:
        doc["identifierRules"][0]["customer"][0]["params"] = {"stripPrefixes": ["DTGC"]}

    item = only(run(supplier, customer, with_changes(strip=strip)))
    assert (item["class"], item["rule"]) == ("matched", "supplierCircuitId")


def test_a_and_b_ends_swapped_match_and_say_so() -> None:
    item = only(run([service(id="C1")], [service(external="C1", a="lon3 ", b=" Fra1")]))
    assert (item["class"], item["reason"]) == ("matched", "endsSwapped")
    # Crossed only where straight fails: a straight match carries no reason.
    assert only(run([service(id="C1")], [service(external="C1")]))["reason"] is None
    # One end wrong and the ends straight: a difference of that end only.
    item = only(run([service(id="C1")], [service(external="C1", a="PAR2")]))
    assert item["class"] == "partial" and item["reason"] is None
    assert [d["field"] for d in item["differences"]] == ["siteA"]
    # Both ends wrong, crossed or not: both differ, reported on the straight comparison.
    item = only(run([service(id="C1")], [service(external="C1", a="PAR2", b="AMS1")]))
    assert item["class"] == "partial" and item["reason"] is None
    assert [d["field"] for d in item["differences"]] == ["siteA", "siteB"]


@pytest.mark.parametrize(
    ("a", "b", "field", "supplier_value", "customer_value"),
    [
        # the supplier's B-end (LON3) is the customer's A-end; its A-end (FRA1) changed
        ("LON3", "PAR2", "siteA", "FRA1", "PAR2"),
        # the supplier's A-end (FRA1) is the customer's B-end; its B-end (LON3) changed
        ("PAR2", " fra1", "siteB", "LON3", "PAR2"),
    ],
)
def test_swapped_ends_with_one_end_changed_report_that_end_and_the_swap(
    a: str, b: str, field: str, supplier_value: str, customer_value: str
) -> None:
    item = only(run([service(id="C1")], [service(external="C1", a=a, b=b)]))
    assert (item["class"], item["reason"]) == ("partial", "endsSwapped")
    (diff,) = item["differences"]
    # Named after the supplier's end, against the customer's other end.
    assert (diff["field"], diff["supplierValue"], diff["customerValue"]) == (
        field,
        supplier_value,
        customer_value,
    )
    normalised = (diff["supplierNormalised"], diff["customerNormalised"])
    assert normalised == (supplier_value.lower(), customer_value.lower())
    assert diff["crossed"] is True


@pytest.mark.parametrize("notation", ["10G", "10 Gbps", "10000 Mbps", "10GE", "10gbps", 10**10])
def test_bandwidth_notations_are_equal(notation: Any) -> None:
    item = only(run([service(id="C1", bw="10 Gbps")], [service(external="C1", bw=notation)]))
    assert item["class"] == "matched"


def test_a_different_bandwidth_is_reported_with_both_notations() -> None:
    item = only(run([service(id="C1", bw="10G")], [service(external="C1", bw="1000 Mbps")]))
    (diff,) = item["differences"]
    assert diff["field"] == "bandwidth"
    assert (diff["supplierValue"], diff["customerValue"]) == ("10G", "1000 Mbps")
    assert (diff["supplierNormalised"], diff["customerNormalised"]) == (10**10, 10**9)


@pytest.mark.parametrize("alias", ["E-Line", "Ethernet Private Line", " epl "])
def test_service_type_aliases(alias: str) -> None:
    item = only(run([service(id="C1", kind="EPL")], [service(external="C1", kind=alias)]))
    assert item["class"] == "matched"


def test_relation_specific_service_alias_and_status_words() -> None:
    supplier = [service(id="C1", kind="EPL", status="active")]
    customer = [service(external="C1", kind="Carrier Ethernet P2P", status="LIVE")]
    assert {d["field"] for d in only(run(supplier, customer))["differences"]} == {
        "serviceType",
        "status",
    }

    def aliases(doc: dict[str, Any]) -> None:
        _field(doc, "serviceType")["params"]["map"]["Carrier Ethernet P2P"] = "EPL"
        _field(doc, "status")["params"] = {"map": {"live": "active"}}

    assert only(run(supplier, customer, with_changes(a=aliases)))["class"] == "matched"


@pytest.mark.parametrize(
    ("supplier_status", "customer_status"),
    [("active", "ACTIVE"), ("pendingActive", "created"), ("cancelled", "aborted"),
     ("suspended", "suspendedPendingTerminate"), ("active", "active.pendingChange")],
)  # fmt: skip
def test_mef_and_tmf_status_vocabularies_map(supplier_status: str, customer_status: str) -> None:
    item = only(
        run([service(id="C1", status=supplier_status)],
            [service(external="C1", status=customer_status)])
    )  # fmt: skip
    assert item["class"] == "matched"


def test_site_codes_and_addresses_are_normalised() -> None:
    item = only(run([service(id="C1", a="FRA1")], [service(external="C1", a="  fra1")]))
    assert item["class"] == "matched"

    def address(doc: dict[str, Any]) -> None:
        doc["comparedFields"].append(
            {"name": "address", "field": "place[role=A-End].name", "comparator": "address"}
        )

    profile = with_changes(a=address)
    s, c = service(id="C1"), service(external="C1")
    s["place"][0]["name"] = "Hauptstraße 5, Frankfurt"
    c["place"][0]["name"] = "HAUPT STR. 5 FRANKFURT"
    assert only(run([s], [c], profile))["class"] == "matched"
    c["place"][0]["name"] = "Hauptstraße 7, Frankfurt"
    item = only(run([s], [c], profile))
    assert item["differences"][0]["customerNormalised"] == "haupt st 7 frankfurt"


EUR_1000 = {"dutyFreeAmount": {"unit": "EUR", "value": 1000}}


def _priced(doc: dict[str, Any], **params: Any) -> None:
    field = _field(doc, "recurringCharge")
    field["field"] = "productPrice[priceType=recurring].price"
    field["params"] = {"absolute": "0.01", **params}


def test_a_price_in_another_currency_is_a_difference_without_the_relations_rate() -> None:
    usd = {"dutyFreeAmount": {"unit": "USD", "value": 1086.96}}
    profile = with_changes(p=lambda doc: _priced(doc))
    item = only(run([service(id="C1", price=EUR_1000)], [service(external="C1", price=usd)],
                    profile))  # fmt: skip
    (diff,) = item["differences"]
    assert (diff["supplierNormalised"], diff["customerNormalised"]) == ("EUR 1000", "USD 1086.96")


def test_a_price_in_another_currency_is_converted_at_the_relations_rate() -> None:
    terms = {"currency": "EUR", "rates": {"USD": "0.92"}}
    profile = with_changes(p=lambda doc: _priced(doc, **terms))
    usd = {"dutyFreeAmount": {"unit": "USD", "value": 1086.96}}  # 1000.0032 EUR
    item = only(run([service(id="C1", price=EUR_1000)], [service(external="C1", price=usd)],
                    profile))  # fmt: skip
    assert item["class"] == "matched"
    usd_off = {"dutyFreeAmount": {"unit": "USD", "value": 1100}}
    item = only(run([service(id="C1", price=EUR_1000)], [service(external="C1", price=usd_off)],
                    profile))  # fmt: skip
    (diff,) = item["differences"]
    assert diff["customerValue"] == {"dutyFreeAmount": {"unit": "USD", "value": 1100}}
    assert diff["customerNormalised"] == "EUR 1012"  # converted, and shown converted


def test_a_price_with_tax_included_on_one_side_is_compared_net() -> None:
    profile = with_changes(p=lambda doc: _priced(doc, taxRate="0.19"))
    gross = {"taxIncludedAmount": {"unit": "EUR", "value": 1190}}
    item = only(run([service(id="C1", price=EUR_1000)], [service(external="C1", price=gross)],
                    profile))  # fmt: skip
    assert item["class"] == "matched"
    gross_off = {"taxIncludedAmount": {"unit": "EUR", "value": 1200}}
    item = only(run([service(id="C1", price=EUR_1000)], [service(external="C1", price=gross_off)],
                    profile))  # fmt: skip
    assert item["differences"][0]["customerNormalised"] == "EUR 1008.4033613445"
    # Without the relation's tax rate a gross-only price has no net value: a difference.
    plain = with_changes(p=lambda doc: _priced(doc))
    item = only(run([service(id="C1", price=EUR_1000)], [service(external="C1", price=gross)],
                    plain))  # fmt: skip
    assert item["class"] == "partial"
    assert item["differences"][0]["customerNormalised"] is None


def test_rules_fall_back_and_each_link_names_its_rule() -> None:
    supplier = [
        service(id="C1", a="AMS1", b="PAR2"),
        service(id="C2", order="ORD-77", a="MAD1", b="LIS1"),
        service(id="C3", a="BER1", b="WAW1", kind="EPL", bw="10G"),
    ]
    customer = [
        service(external="C1", a="AMS1", b="PAR2"),
        service(order="ord 0077", a="MAD1", b="LIS1"),
        # No id, no order: both sites (crossed), the service type through an alias, the
        # bandwidth in another notation.
        service(a="waw1", b="ber1", kind="Ethernet Private Line", bw="10000 Mbps"),
    ]
    items = run(supplier, customer)
    rules = {(tuple(i["supplierRefs"]), i["rule"], i["reason"]) for i in items}
    assert rules == {
        ((0,), "supplierCircuitId", None),
        ((1,), "orderReference", None),
        ((2,), "siteServiceBandwidth", "endsSwapped"),
    }
    assert all(i["class"] == "matched" for i in items)


def test_duplicates_and_one_to_many_claims_are_ambiguous_with_every_record() -> None:
    supplier = [service(id="C1"), service(id="C9", a="X1", b="Y1")]
    customer = [
        service(external="C1"),
        service(external="c-001"),  # claims the same circuit
        service(external="C9", a="X1", b="Y1"),
        service(external="C9", a="X1", b="Y1"),  # a duplicate line
    ]
    items = run(supplier, customer)
    ambiguous = sorted(
        (i["supplierRefs"], i["customerRefs"]) for i in items if i["reason"] == "ambiguous"
    )
    assert ambiguous == [([0], [0, 1]), ([1], [2, 3])]


def test_parallel_services_are_ambiguous_on_the_composite_never_guessed() -> None:
    # Two customer circuits with the same ends, type and bandwidth and no identifiers: the
    # composite rule cannot tell them apart, so it does not pick one.
    items = run([service(id="C1")], [service(), service()])
    (item,) = items
    assert (item["reason"], item["rule"]) == ("ambiguous", "siteServiceBandwidth")
    assert (item["supplierRefs"], item["customerRefs"]) == ([0], [0, 1])


@pytest.mark.parametrize(
    ("doc_edit", "message"),
    [
        (lambda d: d.update(swappablePairs=[["siteA", "nope"]]), "no compared field"),
        (lambda d: d.update(swappablePairs=[["siteA", "siteA"]]), "itself"),
        (lambda d: d.update(swappablePairs=[["siteA", "status"]]), "same comparator"),
        (lambda d: d["identifierRules"][2].update(unordered=[[0, 9]]), "positions below 4"),
        (lambda d: _priced(d, currency="euro"), "ISO 4217"),
        (lambda d: _priced(d, rates={"USD": "0.9"}), "need a currency"),
        (lambda d: _priced(d, taxRate=19), "taxRate"),
    ],
)
def test_profile_mistakes_are_reported(doc_edit: Any, message: str) -> None:
    doc = copy.deepcopy(DEFAULT_PROFILE.to_dict())
    doc_edit(doc)
    with pytest.raises(InvalidProfile, match=message):
        MatchProfile.from_dict(doc)


_sites = st.sampled_from(["FRA1", "fra1", "LON3", " lon3", "PAR2", "AMS1"])
_prices = st.one_of(
    st.builds(lambda u, v: {"dutyFreeAmount": {"unit": u, "value": v}},
              st.sampled_from(["EUR", "USD", "GBP"]), st.sampled_from([1000, 1086.96, 1190, 920])),
    st.builds(lambda v: {"taxIncludedAmount": {"unit": "EUR", "value": v}},
              st.sampled_from([1190, 1000])),
)  # fmt: skip


def _messy(id_field: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda ident, order, a, b, kind, bw, price: service(
            **{id_field: ident}, order=order, a=a, b=b, kind=kind, bw=bw, price=price
        ),
        st.one_of(st.none(), st.sampled_from(["C1", "c-001", "C2", "CID_2"])),
        st.one_of(st.none(), st.sampled_from(["O1", "o-01"])),
        _sites,
        _sites,
        st.sampled_from(["EPL", "E-Line", "EVPL"]),
        st.sampled_from(["10G", "10000 Mbps", "1G"]),
        _prices,
    )


TERMS_PROFILE = with_changes(
    p=lambda doc: _priced(doc, currency="EUR", rates={"USD": "0.92"}, taxRate="0.19")
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_messy("id"), max_size=8), st.lists(_messy("external"), max_size=8))
def test_engine_equals_reference_on_messy_inventories(supplier: list[Any], customer: list[Any]):
    items = run(supplier, customer, TERMS_PROFILE)
    assert sorted(r for i in items for r in i["supplierRefs"]) == list(range(len(supplier)))
    assert sorted(r for i in items for r in i["customerRefs"]) == list(range(len(customer)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.permutations(["FRA1", "LON3", "PAR2", "AMS1", "MAD2"]),
    st.sampled_from(["siteA", "siteB"]),
    st.booleans(),
)
def test_swapped_ends_with_one_end_changed_in_both_engines(
    sites: list[str], changed: str, respelled: bool
) -> None:
    """Whichever end changed to whatever other site, crossed the customer's ends name the
    supplier's other end: the item says the ends are swapped and only the changed end differs
    (the reference and the engine alike: `run` checks one against the other)."""
    a, b, new = sites[:3]
    ends = {"siteA": a, "siteB": b, changed: new}
    customer_a, customer_b = ends["siteB"], ends["siteA"]  # crossed
    if respelled:
        customer_a = f" {customer_a.lower()}"
    item = only(
        run([service(id="C1", a=a, b=b)], [service(external="C1", a=customer_a, b=customer_b)])
    )
    assert (item["class"], item["reason"]) == ("partial", "endsSwapped")
    (diff,) = item["differences"]
    supplier_value = a if changed == "siteA" else b
    assert (diff["field"], diff["supplierValue"], diff["crossed"]) == (
        changed,
        supplier_value,
        True,
    )
    assert diff["customerNormalised"] == new.lower()
