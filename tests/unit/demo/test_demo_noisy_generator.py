"""The noisy generator: determinism, every noise kind present, and a truth that follows from
the records (checked with small independent oracles written from the profile's documented
semantics, not with the engine)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from panther.demo.generator import (
    AMBIGUOUS,
    CLASSES,
    COMPARED_FIELDS,
    ENDS_SWAPPED,
    LINK_NOISE,
    MATCHED,
    MISSING_AT_CUSTOMER,
    MISSING_AT_SUPPLIER,
    NOISE_KINDS,
    PARTIAL,
    RULE_CIRCUIT_ID,
    RULE_COMPOSITE,
    RULE_ORDER_REFERENCE,
    VALUE_NOISE,
    NoisyPair,
    UnknownNoiseKind,
    generate_noisy_pair,
    generate_pair,
    noisy_profile,
)
from panther.inventory.paths import compile_path

SITE_A = compile_path("place[role=A-End].id")
SITE_B = compile_path("place[role=B-End].id")
SERVICE = compile_path("productCharacteristic[name=serviceType].value")
BANDWIDTH = compile_path("productCharacteristic[name=bandwidth].value")
ORDER = compile_path("productOrderItem[0].productOrderId")
PRICE = compile_path("productPrice[priceType=recurring].price")
STATUS = compile_path("status")
LINKED = (MATCHED, PARTIAL)


@pytest.fixture(scope="module")
def pair() -> NoisyPair:
    return generate_noisy_pair(20_000, seed=11)


@pytest.fixture(scope="module")
def terms() -> dict[str, Any]:
    """The relation's terms as the profile states them."""
    profile = noisy_profile()
    fields = {f["name"]: f for f in profile["comparedFields"]}
    money = fields["recurringCharge"]["params"]
    rules = {r["name"]: r for r in profile["identifierRules"]}
    (component,) = rules[RULE_CIRCUIT_ID]["customer"]
    return {
        "prefixes": component["params"]["stripPrefixes"],
        "status_map": {text(k): text(v) for k, v in fields["status"]["params"]["map"].items()},
        "service_map": {
            text(k): text(v) for k, v in fields["serviceType"]["params"]["map"].items()
        },
        "currency": money["currency"],
        "rates": {unit: Decimal(rate) for unit, rate in money["rates"].items()},
        "tax": Decimal(money["taxRate"]),
    }


def text(value: Any) -> str:
    return " ".join(str(value).casefold().split())


DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")


def key(value: object, prefixes: tuple[str, ...] = ()) -> str | None:
    """The identifier normaliser as docs/records-and-profiles.md states it."""
    if not isinstance(value, str):
        return None
    # Unicode folded first: full-width forms and Unicode dashes are their ASCII forms.
    value = unicodedata.normalize("NFKC", value).translate(DASHES)
    out = re.sub(r"[\s\-_./]", "", re.sub(r"\d+", lambda m: m.group(0).lstrip("0"), value.upper()))
    for prefix in prefixes:
        if out.startswith(prefix):
            out = out[len(prefix) :]
            break
    return out or None


def bits(value: str) -> int:
    m = re.fullmatch(r"(\d+)\s*([MG])(?:bps|E)?", value.strip())
    assert m, value
    return int(m[1]) * (10**6 if m[2] == "M" else 10**9)


# Default MEF 116 / TMF637 status equivalences the engine documents, plus the relation's map.
MEF = {"active.pendingchange": "active", "suspendedpendingterminate": "suspended"}


def status_of(value: str, terms: dict[str, Any]) -> str:
    t = text(value)
    return terms["status_map"].get(t) or MEF.get(t, t)


def service_of(value: str, terms: dict[str, Any]) -> str:
    t = text(value)
    return terms["service_map"].get(t, t)


def net_eur(price: dict[str, Any], terms: dict[str, Any]) -> Decimal:
    if "dutyFreeAmount" in price:
        amount, gross = price["dutyFreeAmount"], False
    else:
        amount, gross = price["taxIncludedAmount"], True
    value = Decimal(str(amount["value"]))
    if gross:
        value /= 1 + terms["tax"]
    if amount["unit"] != terms["currency"]:
        value *= terms["rates"][amount["unit"]]
    return value


def composite(record: dict[str, Any], terms: dict[str, Any]) -> tuple[Any, ...]:
    """The siteServiceBandwidth key: both sites in either order, service, bit/s."""
    a, b = text(SITE_A.get(record)), text(SITE_B.get(record))
    return (
        min(a, b),
        max(a, b),
        service_of(SERVICE.get(record), terms),
        bits(BANDWIDTH.get(record)),
    )


def test_same_seed_same_pair_other_seed_other_pair() -> None:
    a, b = generate_noisy_pair(600, seed=3), generate_noisy_pair(600, seed=3)
    assert a.supplier == b.supplier and a.customer == b.customer and a.truth == b.truth
    assert a.profile == b.profile
    assert generate_noisy_pair(600, seed=4).supplier != a.supplier


def test_the_default_generator_is_unchanged_by_the_noisy_one() -> None:
    plain = generate_pair(300, seed=1)
    assert not plain.truth.reasons and not plain.truth.supplier_noise
    assert all(
        r["productPrice"][0]["price"]["dutyFreeAmount"]["unit"].upper() == "EUR"
        for r in plain.customer
    )


def test_every_noise_kind_is_present_at_a_few_per_cent(pair: NoisyPair) -> None:
    kinds = pair.truth.entity_kinds
    assert sum(kinds.values()) == 20_000
    for kind in LINK_NOISE:
        assert 0.02 < kinds[kind] / 20_000 < 0.04, (kind, kinds[kind])
    linking = ("field_difference", "identifier_format", "identifier_prefix", "order_reference")
    linked = kinds["clean"] + kinds["composite_key"] + sum(kinds[k] for k in linking)
    for kind in VALUE_NOISE:
        assert pair.truth.value_kinds[kind] > 0.01 * linked, (kind, pair.truth.value_kinds[kind])
    for name in CLASSES:
        assert name in pair.truth.supplier_classes + pair.truth.customer_classes
    rules = {RULE_CIRCUIT_ID, RULE_ORDER_REFERENCE, RULE_COMPOSITE}
    assert set(pair.truth.supplier_rules) == {None, *rules}
    assert set(pair.truth.reasons.values()) == {ENDS_SWAPPED}


def test_a_subset_of_kinds_gives_only_those() -> None:
    pair = generate_noisy_pair(3000, seed=2, kinds=("missing_at_customer", "currency"), share=0.1)
    kinds = {k for k, count in pair.truth.entity_kinds.items() if count}
    assert kinds == {"clean", "missing_at_customer"}
    values = {k for k, count in pair.truth.value_kinds.items() if count}
    assert values == {"currency"}
    assert set(pair.truth.customer_classes) == {MATCHED}
    units = Counter(next(iter(PRICE.get(r).values()))["unit"] for r in pair.customer)
    assert units["USD"] + units["GBP"] > 0 and units["EUR"] > 0


def test_unknown_kinds_and_impossible_shares_are_refused() -> None:
    with pytest.raises(UnknownNoiseKind) as raised:
        generate_noisy_pair(10, kinds=("missing_at_customer", "typo"))
    assert raised.value.kind == "typo"
    with pytest.raises(ValueError):
        generate_noisy_pair(10, share=0.2)  # ten exclusive kinds at 20 % each
    with pytest.raises(ValueError):
        generate_noisy_pair(-1)


def test_truth_is_consistent(pair: NoisyPair) -> None:
    truth = pair.truth
    assert len(truth.supplier_classes) == len(pair.supplier) == len(truth.supplier_noise)
    assert len(truth.customer_classes) == len(pair.customer) == len(truth.customer_noise)
    assert MISSING_AT_SUPPLIER not in truth.supplier_classes
    assert MISSING_AT_CUSTOMER not in truth.customer_classes
    for s in range(len(pair.supplier)):
        e = truth.supplier(s)
        if e.expected_class in LINKED:
            back = truth.customer(e.partner)  # type: ignore[arg-type]
            assert back.partner == s and back.expected_class == e.expected_class
            assert back.rule == e.rule and back.reason == e.reason
            assert (e.expected_class == PARTIAL) == bool(e.differing)
            assert set(e.differing) <= set(COMPARED_FIELDS)
        else:
            assert e.partner is None and e.rule is None and e.reason is None
    assert set(truth.reasons) <= {s for s, c in enumerate(truth.supplier_partners) if c is not None}
    kinds = truth.entity_kinds
    assert len(pair.supplier) == 20_000 - kinds["missing_at_supplier"] + kinds["duplicate_supplier"]
    assert len(pair.customer) == (
        20_000 - kinds["missing_at_customer"] + kinds["duplicate_customer"]
        + kinds["composite_ambiguous"]
    )  # fmt: skip
    assert all(re.fullmatch(r"DTGC-\d{8}", r["id"]) for r in pair.supplier)
    assert len({r["id"] for r in pair.customer}) == len(pair.customer)


def test_links_follow_from_the_rules_in_order(pair: NoisyPair, terms: dict[str, Any]) -> None:
    """Each rule sees only what the rules before it left open, as the profile says."""
    prefixes = tuple(key(p) for p in terms["prefixes"])
    truth = pair.truth
    sup_ids = Counter(key(r["id"]) for r in pair.supplier)
    cus_ext = Counter(key(r.get("externalId"), prefixes) for r in pair.customer)
    for s, sup in enumerate(pair.supplier):
        e = truth.supplier(s)
        if e.expected_class not in LINKED:
            continue
        cus = pair.customer[e.partner]  # type: ignore[index]
        k = key(sup["id"])
        if e.rule == RULE_CIRCUIT_ID:
            assert key(cus["externalId"], prefixes) == k and sup_ids[k] == cus_ext[k] == 1
            if "identifier_prefix" in e.noise:
                assert key(cus["externalId"]) != k  # only the prefix stripping links it
        elif e.rule == RULE_ORDER_REFERENCE:
            assert cus.get("externalId") is None and cus_ext[k] == 0
            assert key(ORDER.get(cus)) == key(ORDER.get(sup))
        else:
            assert cus.get("externalId") is None and ORDER.get(cus) is None and cus_ext[k] == 0
            assert composite(cus, terms) == composite(sup, terms)


def test_records_left_to_the_composite_rule_have_keys_of_their_own(
    pair: NoisyPair, terms: dict[str, Any]
) -> None:
    truth = pair.truth
    open_s = [s for s, k in enumerate(truth.supplier_classes)
              if k == MISSING_AT_CUSTOMER or truth.supplier_rules[s] == RULE_COMPOSITE
              or "composite_ambiguous" in truth.supplier_noise[s]]  # fmt: skip
    open_c = [c for c, k in enumerate(truth.customer_classes)
              if k == MISSING_AT_SUPPLIER or "composite_" in truth.customer_noise[c]]  # fmt: skip
    s_keys = Counter(composite(pair.supplier[s], terms) for s in open_s)
    c_keys = Counter(composite(pair.customer[c], terms) for c in open_c)
    for s in open_s:
        k = composite(pair.supplier[s], terms)
        expected = truth.supplier_classes[s]
        if expected == MISSING_AT_CUSTOMER:
            assert c_keys[k] == 0
        elif expected == AMBIGUOUS:
            assert s_keys[k] == 1 and c_keys[k] == 2
        else:
            assert s_keys[k] == c_keys[k] == 1
    for c in open_c:
        if truth.customer_classes[c] == MISSING_AT_SUPPLIER:
            assert s_keys[composite(pair.customer[c], terms)] == 0


def test_duplicates_claim_one_circuit(pair: NoisyPair, terms: dict[str, Any]) -> None:
    prefixes = tuple(key(p) for p in terms["prefixes"])
    truth = pair.truth
    sup_ids = Counter(key(r["id"]) for r in pair.supplier)
    cus_ext = Counter(key(r.get("externalId"), prefixes) for r in pair.customer)
    for s, sup in enumerate(pair.supplier):
        noise = truth.supplier_noise[s]
        if noise == "duplicate_supplier":
            assert sup_ids[key(sup["id"])] == 2 and cus_ext[key(sup["id"])] == 1
        elif noise == "duplicate_customer":
            assert sup_ids[key(sup["id"])] == 1 and cus_ext[key(sup["id"])] == 2


def test_linked_values_agree_except_the_named_difference(
    pair: NoisyPair, terms: dict[str, Any]
) -> None:
    truth = pair.truth
    seen: Counter[str] = Counter()
    for s, c in enumerate(truth.supplier_partners):
        if c is None:
            continue
        sup, cus = pair.supplier[s], pair.customer[c]
        differing = set(truth.differing.get(s, ()))
        swapped = truth.reasons.get(s) == ENDS_SWAPPED
        agree = {
            "status": status_of(STATUS.get(sup), terms) == status_of(STATUS.get(cus), terms),
            "startDate": sup["startDate"][:10] == cus["startDate"][:10],
            "bandwidth": bits(BANDWIDTH.get(sup)) == bits(BANDWIDTH.get(cus)),
            "serviceType": service_of(SERVICE.get(sup), terms)
            == service_of(SERVICE.get(cus), terms),
            "recurringCharge": abs(net_eur(PRICE.get(sup), terms) - net_eur(PRICE.get(cus), terms))
            <= Decimal("0.005"),
        }
        a_s, b_s = text(SITE_A.get(sup)), text(SITE_B.get(sup))
        a_c, b_c = text(SITE_A.get(cus)), text(SITE_B.get(cus))
        if swapped:
            # Crossed: the supplier's A-end is the customer's B-end and the other way round,
            # except the one end named as differing (the ends swapped and one changed).
            agree["siteA"], agree["siteB"] = a_s == b_c, b_s == a_c
            assert a_s != a_c and b_s != b_c
            seen["swapped"] += 1
            if differing & {"siteA", "siteB"}:
                seen["swapped and changed"] += 1
        else:
            agree["siteA"], agree["siteB"] = a_s == a_c, b_s == b_c
        for name, ok in agree.items():
            assert ok == (name not in differing), (s, name, truth.supplier_noise[s])
        if "currency" in truth.supplier_noise[s]:
            seen[next(iter(PRICE.get(cus).values()))["unit"]] += 1
        if "tax_included" in truth.supplier_noise[s]:
            assert "taxIncludedAmount" in PRICE.get(cus)
            seen["gross"] += 1
        if STATUS.get(cus) != STATUS.get(sup) and "status" not in differing:
            seen["status words"] += 1
    assert seen["swapped"] and seen["gross"] and seen["USD"] and seen["GBP"]
    assert seen["swapped and changed"]
    assert seen["status words"]


def test_the_profile_holds_the_relation_terms() -> None:
    profile = noisy_profile()
    rules = [r["name"] for r in profile["identifierRules"]]
    assert rules == [RULE_CIRCUIT_ID, RULE_ORDER_REFERENCE, RULE_COMPOSITE]
    assert profile["swappablePairs"] == [["siteA", "siteB"]]
    fields = {f["name"]: f for f in profile["comparedFields"]}
    money = fields["recurringCharge"]
    assert money["field"] == "productPrice[priceType=recurring].price"
    assert money["params"]["currency"] == "EUR" and money["params"]["taxRate"] == "0.19"
    assert money["params"]["rates"]["USD"] == "0.92"
    assert fields["status"]["params"]["map"]["IN SERVICE"] == "active"
    composite_rule = profile["identifierRules"][2]
    maps = [c["params"]["map"] for c in composite_rule["customer"] if c["normaliser"] == "enum"]
    assert maps and maps[0] == fields["serviceType"]["params"]["map"]
    assert noisy_profile() == profile  # a fresh document each time


def test_the_profile_is_a_valid_match_profile() -> None:
    profile_module = pytest.importorskip("panther.matching.profile")
    parsed = profile_module.MatchProfile.from_dict(noisy_profile())
    assert [r.name for r in parsed.identifier_rules][-1] == RULE_COMPOSITE


def test_all_kinds_are_listed_once() -> None:
    assert len(set(NOISE_KINDS)) == len(NOISE_KINDS) == len(LINK_NOISE) + len(VALUE_NOISE)
