"""The seeded inventory generator: determinism, shape, noise rates and a truth that follows
from the records themselves (checked here with small independent oracles, not the engine)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panther.demo.generator import (
    AMBIGUOUS,
    CLASSES,
    COMPARED_FIELDS,
    MATCHED,
    MISSING_AT_CUSTOMER,
    MISSING_AT_SUPPLIER,
    PARTIAL,
    RULE_CIRCUIT_ID,
    RULE_ORDER_REFERENCE,
    GeneratedPair,
    InvalidRates,
    NoiseRates,
    generate_pair,
)
from panther.inventory.paths import compile_path

PATHS = {
    "status": "status",
    "startDate": "startDate",
    "terminationDate": "terminationDate",
    "bandwidth": "productCharacteristic[name=bandwidth].value",
    "serviceType": "productCharacteristic[name=serviceType].value",
    "recurringCharge": "productPrice[priceType=recurring].price.dutyFreeAmount.value",
    "siteA": "place[role=A-End].id",
    "siteB": "place[role=B-End].id",
}
ORDER = compile_path("productOrderItem[0].productOrderId")
NO_NOISE = NoiseRates(**{f.name: 0.0 for f in fields(NoiseRates)})


DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")


def key(value: object) -> str | None:
    """The identifier normaliser as docs/records-and-profiles.md states it."""
    if not isinstance(value, str):
        return None
    # Unicode folded first: full-width forms and Unicode dashes are their ASCII forms.
    value = unicodedata.normalize("NFKC", value).translate(DASHES)
    text = re.sub(r"[\s\-_./]", "", value.upper())
    text = re.sub(r"\d+", lambda m: m.group(0).lstrip("0"), text)
    return text or None


def bits(value: str) -> int:
    m = re.fullmatch(r"(\d+)\s*([MG])(?:bps|E)?", value.strip())
    assert m, value
    return int(m[1]) * (10**6 if m[2] == "M" else 10**9)


@pytest.fixture(scope="module")
def pair() -> GeneratedPair:
    return generate_pair(20_000, seed=11)


def test_same_seed_same_pair_other_seed_other_pair() -> None:
    a, b = generate_pair(800, seed=3), generate_pair(800, seed=3)
    assert a.supplier == b.supplier and a.customer == b.customer
    assert a.truth == b.truth
    c = generate_pair(800, seed=4)
    assert c.supplier != a.supplier


def test_every_record_has_a_consistent_truth_entry(pair: GeneratedPair) -> None:
    truth = pair.truth
    assert len(truth.supplier_classes) == len(pair.supplier)
    assert len(truth.customer_classes) == len(pair.customer)
    assert set(truth.supplier_classes) <= set(CLASSES) - {MISSING_AT_SUPPLIER}
    assert set(truth.customer_classes) <= set(CLASSES) - {MISSING_AT_CUSTOMER}
    for s in range(len(pair.supplier)):
        e = truth.supplier(s)
        if e.expected_class in (MATCHED, PARTIAL):
            assert e.partner is not None
            back = truth.customer(e.partner)
            assert back.partner == s and back.expected_class == e.expected_class
            assert back.rule == e.rule in (RULE_CIRCUIT_ID, RULE_ORDER_REFERENCE)
            assert (e.expected_class == PARTIAL) == bool(e.differing)
            assert set(e.differing) <= set(COMPARED_FIELDS)
        else:
            assert e.partner is None and e.rule is None and e.differing == ()
    linked = sum(p is not None for p in truth.customer_partners)
    assert linked == sum(p is not None for p in truth.supplier_partners)


def test_side_sizes_follow_the_noise_kinds(pair: GeneratedPair) -> None:
    kinds = pair.truth.entity_kinds
    n = sum(kinds.values())
    assert n == 20_000
    assert len(pair.supplier) == n - kinds["missing_at_supplier"] + kinds["duplicate_supplier"]
    assert len(pair.customer) == n - kinds["missing_at_customer"] + kinds["duplicate_customer"]


def test_default_rates_are_roughly_respected(pair: GeneratedPair) -> None:
    rates = NoiseRates()
    n = sum(pair.truth.entity_kinds.values())
    counts = pair.truth.counts()
    sup, cus = counts["supplier"], counts["customer"]

    def near(observed: int, rate: float) -> bool:
        # 6 standard deviations of a binomial count: fails only when the rate is not applied.
        return abs(observed - rate * n) <= 6 * (rate * (1 - rate) * n) ** 0.5 + 1

    # A typo in the customer's circuit id leaves one record over on each side.
    typos = len(pair.truth.candidates)
    assert near(typos, rates.identifier_typo)
    assert near(sup[MISSING_AT_CUSTOMER] - typos, rates.missing_at_customer)
    assert near(cus[MISSING_AT_SUPPLIER] - typos, rates.missing_at_supplier)
    # A duplicated supplier record makes 2 supplier + 1 customer ambiguous, and vice versa.
    duplicated_supplier = (2 * sup[AMBIGUOUS] - cus[AMBIGUOUS]) // 3
    duplicated_customer = (2 * cus[AMBIGUOUS] - sup[AMBIGUOUS]) // 3
    assert near(duplicated_supplier, rates.duplicate_supplier)
    assert near(duplicated_customer, rates.duplicate_customer)
    assert near(len(pair.truth.differing), rates.field_difference + 0.3 * rates.order_reference)
    rules = Counter(pair.truth.supplier_rules)
    assert near(rules[RULE_ORDER_REFERENCE], rates.order_reference)


def test_custom_rates_change_the_mix() -> None:
    rates = NoiseRates(
        missing_at_customer=0.25, missing_at_supplier=0.0, duplicate_customer=0.0, identifier_typo=0
    )
    counts = generate_pair(4000, seed=5, rates=rates).truth.counts()
    assert 0.21 < counts["supplier"][MISSING_AT_CUSTOMER] / 4000 < 0.29
    assert counts["customer"][MISSING_AT_SUPPLIER] == 0


def test_no_noise_means_every_record_matched_with_identical_values() -> None:
    pair = generate_pair(300, seed=1, rates=NO_NOISE)
    assert set(pair.truth.supplier_classes) == set(pair.truth.customer_classes) == {MATCHED}
    for s, sup in enumerate(pair.supplier):
        cus = pair.customer[pair.truth.supplier_partners[s]]  # type: ignore[index]
        assert cus["externalId"] == sup["id"]
        for path in PATHS.values():
            assert compile_path(path).get(cus) == compile_path(path).get(sup)


@pytest.mark.parametrize(
    "bad",
    [
        {"missing_at_customer": -0.1},
        {"field_difference": 1.5},
        {"missing_at_customer": 0.6, "missing_at_supplier": 0.6},
    ],
)
def test_invalid_rates_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(InvalidRates) as raised:
        NoiseRates(**bad)
    assert raised.value.reason


def test_records_have_the_documented_shape(pair: GeneratedPair) -> None:
    typos = set(pair.truth.candidates.values())  # no order reference at the customer
    customer = [r for c, r in enumerate(pair.customer[:400]) if c not in typos]
    for record in pair.supplier[:200] + customer:
        assert isinstance(record["id"], str) and record["id"]
        for name in ("status", "startDate", "bandwidth", "serviceType", "siteA", "siteB"):
            assert compile_path(PATHS[name]).get(record) is not None, name
        amount = compile_path("productPrice[priceType=recurring].price.dutyFreeAmount").get(record)
        assert amount["unit"].upper() == "EUR" and amount["value"] > 0
        assert ORDER.get(record)
    assert all(re.fullmatch(r"DTGC-\d{8}", r["id"]) for r in pair.supplier)
    assert all(re.fullmatch(r"VF-\d{7,}", r["id"]) for r in pair.customer)
    assert len({r["id"] for r in pair.customer}) == len(pair.customer)


def test_records_are_shuffled(pair: GeneratedPair) -> None:
    partners = [p for p in pair.truth.supplier_partners if p is not None]
    in_place = sum(1 for s, c in enumerate(pair.truth.supplier_partners) if s == c)
    assert in_place < len(partners) // 100
    classes = pair.truth.supplier_classes
    assert MISSING_AT_CUSTOMER in classes[: len(classes) // 4]


def test_links_follow_from_the_identifiers(pair: GeneratedPair) -> None:
    """Recompute the default profile's identifier rules with an independent oracle."""
    truth = pair.truth
    sup_ids = Counter(key(r["id"]) for r in pair.supplier)
    cus_ext = Counter(key(r.get("externalId")) for r in pair.customer)
    for s, sup in enumerate(pair.supplier):
        e = truth.supplier(s)
        k = key(sup["id"])
        if e.expected_class == AMBIGUOUS:
            assert sup_ids[k] > 1 or cus_ext[k] > 1
            continue
        assert sup_ids[k] == 1
        if e.expected_class == MISSING_AT_CUSTOMER:
            assert cus_ext[k] == 0
            continue
        cus = pair.customer[e.partner]  # type: ignore[index]
        if e.rule == RULE_CIRCUIT_ID:
            assert key(cus["externalId"]) == k and cus_ext[k] == 1
        else:
            assert cus.get("externalId") is None and cus_ext[k] == 0
            assert key(ORDER.get(cus)) == key(ORDER.get(sup))
    for c, cus in enumerate(pair.customer):
        if truth.customer_classes[c] == MISSING_AT_SUPPLIER:
            assert sup_ids[key(cus["externalId"])] == 0


def test_typos_leave_near_miss_records_on_both_sides(pair: GeneratedPair) -> None:
    """A typo in the customer's circuit id: one or two edits from the supplier's key, no
    other record's key, no order reference and another bandwidth, so no rule links them;
    same sites and start date, so the fuzzy rule's blocks hold them together."""
    truth = pair.truth
    assert 0 < len(truth.candidates) == truth.entity_kinds["identifier_typo"]
    sup_ids = Counter(key(r["id"]) for r in pair.supplier)
    cus_ext = Counter(key(r.get("externalId")) for r in pair.customer)
    for s, c in truth.candidates.items():
        sup, cus = pair.supplier[s], pair.customer[c]
        assert truth.supplier_classes[s] == MISSING_AT_CUSTOMER
        assert truth.customer_classes[c] == MISSING_AT_SUPPLIER
        a, b = key(sup["id"]), key(cus["externalId"])
        assert a is not None and b is not None and a != b and len(a) == len(b)
        changed = [k for k in range(len(a)) if a[k] != b[k]]
        assert len(changed) == 1 or (
            len(changed) == 2 and changed[1] == changed[0] + 1 and sorted(a) == sorted(b)
        ), (a, b)
        assert sup_ids[b] == 0 and cus_ext[b] == 1 and cus_ext[a] == 0
        assert ORDER.get(cus) is None
        for name in ("siteA", "siteB", "startDate", "serviceType"):
            assert compile_path(PATHS[name]).get(cus) == compile_path(PATHS[name]).get(sup)
        bandwidth = compile_path(PATHS["bandwidth"])
        assert bits(bandwidth.get(cus)) != bits(bandwidth.get(sup))


def test_unicode_and_case_noise_appears(pair: GeneratedPair) -> None:
    """The spellings the normalisers fold: Unicode dashes and full-width circuit ids, lower
    case currency codes, service types with other separators."""
    ids = [r.get("externalId") or "" for r in pair.customer]
    for dash in ("\u2010", "\u2013", "\u2212"):
        assert any(dash in i for i in ids), dash
    assert any(i.startswith("\uff24\uff34\uff27\uff23") for i in ids)  # full-width DTGC
    units = Counter(
        compile_path("productPrice[priceType=recurring].price.dutyFreeAmount.unit").get(r)
        for r in pair.customer
    )
    assert units["eur"] > 0 and units["Eur"] > 0
    types = {compile_path(PATHS["serviceType"]).get(r) for r in pair.customer}
    assert {"Ethernet-Private-Line", "E_VPL", "ip-transit"} <= types


def test_partial_pairs_differ_in_exactly_the_named_field(pair: GeneratedPair) -> None:
    for s, names in pair.truth.differing.items():
        (name,) = names
        sup = pair.supplier[s]
        cus = pair.customer[pair.truth.supplier_partners[s]]  # type: ignore[index]
        path = compile_path(PATHS[name])
        assert path.get(sup) != path.get(cus)
        if name == "recurringCharge":
            assert abs(path.get(sup) - path.get(cus)) >= 1
        if name in ("siteA", "siteB"):
            assert path.get(sup).strip().upper() != path.get(cus).strip().upper()


def test_equivalent_spellings_appear_among_matched_pairs(pair: GeneratedPair) -> None:
    seen: Counter[str] = Counter()
    for s, c in enumerate(pair.truth.supplier_partners):
        if c is None or pair.truth.supplier_classes[s] != MATCHED:
            continue
        sup, cus = pair.supplier[s], pair.customer[c]
        if cus.get("externalId") not in (None, sup["id"]):
            seen["identifier"] += 1
        for name in ("bandwidth", "status", "startDate", "serviceType", "siteA", "siteB"):
            path = compile_path(PATHS[name])
            if path.get(sup) != path.get(cus):
                seen[name] += 1
        if compile_path(PATHS["recurringCharge"]).get(sup) != compile_path(
            PATHS["recurringCharge"]
        ).get(cus):
            seen["recurringCharge"] += 1
    for kind in ("identifier", "bandwidth", "status", "startDate", "serviceType", "siteA"):
        assert seen[kind] >= 20, (kind, seen)
    notations = {compile_path(PATHS["bandwidth"]).get(r) for r in pair.customer}
    assert {"100GE", "10 Gbps", "10000 Mbps", "1G"} <= notations


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=120),
    seed=st.integers(min_value=0, max_value=2**32),
    share=st.floats(min_value=0.0, max_value=0.12),
)
def test_structure_holds_for_any_seed_and_rates(n: int, seed: int, share: float) -> None:
    rates = NoiseRates(**{f.name: share for f in fields(NoiseRates)})
    pair = generate_pair(n, seed=seed, rates=rates)
    truth = pair.truth
    assert len(truth.supplier_classes) == len(pair.supplier)
    assert len(truth.customer_classes) == len(pair.customer)
    for s, c in enumerate(truth.supplier_partners):
        if c is not None:
            assert truth.customer_partners[c] == s
    assert sum(truth.entity_kinds.values()) == n
