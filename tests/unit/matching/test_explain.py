"""explain(): why an item is in its class, checked against the items the engine makes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panther.demo.generator import generate_pair
from panther.matching import DEFAULT_PROFILE, MatchProfile, match_records
from panther.matching.explain import RecordsMismatch, explain, format_explanation

PROFILE = MatchProfile.from_dict(
    {
        "name": "explain",
        "version": 1,
        "identifierRules": [
            {
                "name": "circuit",
                "supplier": [{"field": "id"}],
                "customer": [{"field": "externalId"}],
            },
            {
                "name": "orderSite",
                "supplier": [{"field": "order"}, {"field": "site", "normaliser": "text"}],
                "customer": [{"field": "order"}, {"field": "site", "normaliser": "text"}],
            },
        ],
        "comparedFields": [
            {"name": "status", "field": "status", "comparator": "enum"},
            {"name": "bandwidth", "field": "bw", "comparator": "bandwidth"},
            {"name": "mrc", "field": "mrc", "comparator": "money", "params": {"absolute": "0.01"}},
            {
                "name": "start",
                "field": "start",
                "comparator": "date",
                "params": {"toleranceDays": 1},
            },
            {"name": "end", "field": "end", "comparator": "date"},
        ],
    }
)


def explained(
    supplier: list[dict[str, Any]],
    customer: list[dict[str, Any]],
    profile: MatchProfile = PROFILE,
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each item the engine makes, with its explanation."""
    out = []
    for item in match_records(supplier, customer, profile).item_dicts():
        records = (
            [supplier[i] for i in item["supplierRefs"]],
            [customer[i] for i in item["customerRefs"]],
        )
        out.append((item, explain(profile, *records, item)))
    return out


def only(supplier: list[dict[str, Any]], customer: list[dict[str, Any]]) -> dict[str, Any]:
    ((_, explanation),) = explained(supplier, customer)
    return explanation


def by_name(explanation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in explanation["fields"]}


def test_matched_names_the_rule_both_keys_and_every_field_agreeing() -> None:
    e = only(
        [{"id": "CID-001", "status": "active", "bw": "10G",
          "mrc": {"unit": "EUR", "value": 100}, "start": "2024-03-01"}],
        [{"externalId": "cid_1", "status": "active.pendingChange", "bw": "10 Gbps",
          "mrc": {"unit": "eur", "value": "100.01"}, "start": "2024-03-02T10:00:00Z"}],
    )  # fmt: skip
    assert (e["class"], e["reason"], e["rule"]) == ("matched", None, "circuit")
    assert e["summary"] == "linked one-to-one by rule circuit and every compared field agrees"
    assert e["link"] == {
        "rule": "circuit",
        "key": ["CID1"],
        "unordered": [],
        "components": [
            {
                "supplierField": "id",
                "customerField": "externalId",
                "supplierNormaliser": "identifier",
                "customerNormaliser": "identifier",
                "supplierRaw": '"CID-001"',
                "customerRaw": '"cid_1"',
                "supplierNormalised": "CID1",
                "customerNormalised": "CID1",
            }
        ],
    }
    fields = by_name(e)
    assert list(fields) == ["status", "bandwidth", "mrc", "start", "end"]
    assert fields["status"] == {
        "name": "status",
        "comparator": "enum",
        "params": {},
        "supplierField": "status",
        "customerField": "status",
        "supplierRaw": '"active"',
        "customerRaw": '"active.pendingChange"',
        "supplierNormalised": "active",
        "customerNormalised": "active",
        "verdict": "agree",
        "crossed": False,
    }
    assert (
        fields["bandwidth"]["supplierNormalised"],
        fields["bandwidth"]["customerNormalised"],
    ) == (
        10_000_000_000,
        10_000_000_000,
    )
    mrc = fields["mrc"]
    assert (mrc["supplierRaw"], mrc["customerRaw"]) == (
        '{"unit":"EUR","value":100}',
        '{"unit":"eur","value":"100.01"}',
    )
    assert (mrc["supplierNormalised"], mrc["customerNormalised"]) == ("EUR 100", "EUR 100.01")
    assert mrc["verdict"] == "agree" and mrc["params"] == {"absolute": "0.01"}  # within 0.01
    start = fields["start"]
    assert (start["supplierNormalised"], start["customerNormalised"]) == (
        "2024-03-01",
        "2024-03-02",
    )
    assert start["verdict"] == "agree"  # one day of tolerance
    assert fields["end"] == {
        **fields["end"],
        "supplierRaw": None,
        "customerRaw": None,
        "supplierNormalised": None,
        "customerNormalised": None,
        "verdict": "bothMissing",
    }
    assert e["sharedKey"] is None
    assert [(r["side"], r["ref"]) for r in e["records"]] == [("supplier", 0), ("customer", 0)]


def test_partial_names_exactly_the_differing_fields_with_raw_and_normalised_values() -> None:
    supplier = [
        {"id": "CID-002", "status": "active", "bw": "1G", "mrc": {"unit": "EUR", "value": 100},
         "start": "2024-03-01", "end": "2026-01-31"},
    ]  # fmt: skip
    customer = [
        {"externalId": "CID 2", "status": "terminated", "bw": "1000 Mbps",
         "mrc": {"unit": "EUR", "value": 100.02}, "start": "2024-03-03", "end": "fortnight"},
    ]  # fmt: skip
    ((item, e),) = explained(supplier, customer)
    assert item["class"] == e["class"] == "partial"
    differing = [f["name"] for f in e["fields"] if f["verdict"] == "differ"]
    assert differing == [d["field"] for d in item["differences"]]  # what the engine stored
    assert differing == ["status", "mrc", "start", "end"]
    assert e["summary"] == (
        "linked one-to-one by rule circuit; 4 compared fields differ: status, mrc, start, end"
    )
    fields = by_name(e)
    assert fields["bandwidth"]["verdict"] == "agree"
    status = fields["status"]
    assert (status["supplierRaw"], status["customerRaw"]) == ('"active"', '"terminated"')
    assert (status["supplierNormalised"], status["customerNormalised"]) == ("active", "terminated")
    mrc = fields["mrc"]
    assert (mrc["supplierRaw"], mrc["customerRaw"]) == (
        '{"unit":"EUR","value":100}',
        '{"unit":"EUR","value":100.02}',
    )
    assert (mrc["supplierNormalised"], mrc["customerNormalised"]) == ("EUR 100", "EUR 100.02")
    start = fields["start"]
    assert (start["supplierNormalised"], start["customerNormalised"]) == (
        "2024-03-01",
        "2024-03-03",
    )
    end = fields["end"]  # an unusable value against a usable one differs
    assert (end["customerRaw"], end["customerNormalised"]) == ('"fortnight"', None)
    # The stored differences and the explanation agree on every value they both show.
    for stored in item["differences"]:
        f = fields[stored["field"]]
        assert stored["supplierNormalised"] == f["supplierNormalised"]
        assert stored["customerNormalised"] == f["customerNormalised"]


def test_identical_unusable_values_agree_and_one_missing_value_differs() -> None:
    e = only(
        [{"id": "C-1", "bw": "fast", "status": "active"}],
        [{"externalId": "C-1", "bw": "fast"}],
    )
    fields = by_name(e)
    assert fields["bandwidth"]["verdict"] == "agree"
    assert fields["bandwidth"]["supplierNormalised"] is None
    assert fields["status"]["verdict"] == "differ"
    assert (fields["status"]["supplierRaw"], fields["status"]["customerRaw"]) == ('"active"', None)


def test_a_composite_key_links_component_by_component() -> None:
    e = only(
        [{"id": "S-1", "order": "PO-8", "site": "FRA 1"}],
        [{"externalId": "nothing-alike", "order": "po8", "site": " fra   1"}],
    )
    assert e["class"] == "matched" and e["rule"] == "orderSite"
    assert e["link"]["key"] == ["PO8", "fra 1"]
    assert [
        (c["supplierRaw"], c["supplierNormalised"], c["customerRaw"], c["customerNormalised"])
        for c in e["link"]["components"]
    ] == [('"PO-8"', "PO8", '"po8"', "PO8"), ('"FRA 1"', "fra 1", '" fra   1"', "fra 1")]


def test_ambiguous_on_both_sides_names_the_shared_key_and_the_counts() -> None:
    ((item, e),) = explained(
        [{"id": "CID-4"}, {"id": "cid 0004"}],
        [{"externalId": "CID_4"}],
    )
    assert (e["class"], e["reason"], e["rule"]) == ("mismatch", "ambiguous", "circuit")
    assert e["sharedKey"] == {
        "rule": "circuit",
        "key": ["CID4"],
        "supplierCount": 2,
        "customerCount": 1,
    }
    assert e["summary"].startswith(
        "ambiguous: 2 supplier records and 1 customer record share the key CID4 of rule circuit"
    )
    assert e["link"] is None and e["fields"] == []
    assert [(r["side"], r["ref"], r["keys"][0]["key"]) for r in e["records"]] == [
        ("supplier", 0, ["CID4"]),
        ("supplier", 1, ["CID4"]),
        ("customer", 0, ["CID4"]),
    ]
    raws = [r["keys"][0]["components"][0]["raw"] for r in e["records"]]
    assert raws == ['"CID-4"', '"cid 0004"', '"CID_4"']


def test_duplicates_on_one_side_only_are_ambiguous_with_no_partner() -> None:
    e = only([{"id": "X-9"}, {"id": "X_9"}], [])
    assert e["reason"] == "ambiguous"
    assert e["sharedKey"] == {
        "rule": "circuit",
        "key": ["X9"],
        "supplierCount": 2,
        "customerCount": 0,
    }
    assert (
        "2 supplier records share the key X9 of rule circuit and no customer record has it"
        in (e["summary"])
    )


def test_missing_at_customer_lists_each_rules_key_with_null_where_a_component_is_missing() -> None:
    e = only([{"id": "CID-3", "order": "PO-3"}], [])
    assert (e["class"], e["reason"], e["rule"]) == ("mismatch", "missingAtCustomer", None)
    assert e["link"] is None and e["sharedKey"] is None and e["fields"] == []
    (record,) = e["records"]
    assert (record["side"], record["ref"], record["id"]) == ("supplier", 0, "CID-3")
    circuit, order_site = record["keys"]
    assert circuit == {
        "rule": "circuit",
        "key": ["CID3"],
        "components": [
            {"field": "id", "normaliser": "identifier", "raw": '"CID-3"', "normalised": "CID3"}
        ],
    }
    assert order_site["key"] is None  # no site: this record cannot link by orderSite
    assert order_site["components"] == [
        {"field": "order", "normaliser": "identifier", "raw": '"PO-3"', "normalised": "PO3"},
        {"field": "site", "normaliser": "text", "raw": None, "normalised": None},
    ]
    assert e["summary"].startswith(
        "missing at customer: no customer record has any of these keys "
        "(circuit CID3; orderSite no key (site missing))"
    )


def test_missing_at_supplier() -> None:
    e = only([], [{"order": "po 7", "site": "Fra 1", "externalId": None}])
    assert e["reason"] == "missingAtSupplier"
    (record,) = e["records"]
    assert record["side"] == "customer" and record["id"] is None
    assert [k["key"] for k in record["keys"]] == [None, ["PO7", "fra 1"]]
    assert e["summary"].startswith(
        "missing at supplier: no supplier record has any of these keys "
        "(circuit no key (externalId missing); orderSite PO7 + fra 1)"
    )


def test_a_record_without_any_key_says_so() -> None:
    e = only([], [{"status": "active"}])
    assert e["summary"] == "missing at supplier: the record has no complete key under any rule"


SWAPPABLE = {
    "name": "sites",
    "version": 1,
    "identifierRules": [
        {
            "name": "circuit",
            "supplier": [{"field": "id"}],
            "customer": [{"field": "externalId"}],
        },
        {
            "name": "ends",
            "supplier": [
                {"field": "a", "normaliser": "text"},
                {"field": "b", "normaliser": "text"},
            ],
            "customer": [
                {"field": "a", "normaliser": "text"},
                {"field": "b", "normaliser": "text"},
            ],
            "unordered": [[0, 1]],
        },
    ],
    "comparedFields": [
        {"name": "siteA", "field": "a", "comparator": "normalisedText"},
        {"name": "siteB", "field": "b", "comparator": "normalisedText"},
        {"name": "status", "field": "status", "comparator": "enum"},
    ],
    "swappablePairs": [["siteA", "siteB"]],
}


def test_swapped_ends_agree_crossed() -> None:
    profile = MatchProfile.from_dict(SWAPPABLE)
    supplier = [{"id": "C-1", "a": "FRA1", "b": "LON3", "status": "active"}]
    customer = [{"externalId": "C-1", "a": "lon3", "b": "fra1", "status": "terminated"}]
    ((item, e),) = explained(supplier, customer, profile)
    assert (item["class"], item["reason"]) == ("partial", "endsSwapped")
    assert (e["class"], e["reason"]) == ("partial", "endsSwapped")
    fields = by_name(e)
    assert fields["siteA"] == {
        "name": "siteA",
        "comparator": "normalisedText",
        "params": {},
        "supplierField": "a",
        "customerField": "b",  # supplier siteA against customer siteB
        "supplierRaw": '"FRA1"',
        "customerRaw": '"fra1"',
        "supplierNormalised": "fra1",
        "customerNormalised": "fra1",
        "verdict": "agree",
        "crossed": True,
    }
    assert (fields["siteB"]["customerField"], fields["siteB"]["verdict"]) == ("a", "agree")
    assert fields["siteB"]["crossed"] is True
    assert not fields["status"]["crossed"] and fields["status"]["verdict"] == "differ"
    assert e["summary"] == (
        "linked one-to-one by rule circuit; the ends are swapped: siteA and siteB agree when "
        "crossed; 1 compared field differs: status"
    )


def test_swapped_ends_with_one_end_changed_show_that_end_crossed() -> None:
    profile = MatchProfile.from_dict(SWAPPABLE)
    supplier = [{"id": "C-1", "a": "FRA1", "b": "LON3", "status": "active"}]
    customer = [{"externalId": "C-1", "a": "lon3", "b": "PAR2", "status": "active"}]
    ((item, e),) = explained(supplier, customer, profile)
    assert (item["class"], item["reason"]) == ("partial", "endsSwapped")
    assert [d["field"] for d in item["differences"]] == ["siteA"]
    fields = by_name(e)
    assert (fields["siteB"]["customerField"], fields["siteB"]["verdict"]) == ("a", "agree")
    site_a = fields["siteA"]
    assert (site_a["customerField"], site_a["verdict"], site_a["crossed"]) == ("b", "differ", True)
    assert (site_a["supplierRaw"], site_a["customerRaw"]) == ('"FRA1"', '"PAR2"')
    assert e["summary"] == (
        "linked one-to-one by rule circuit; the ends are swapped: siteB agrees when "
        "crossed; 1 compared field differs: siteA"
    )


def test_swapped_ends_link_by_an_unordered_key_and_straight_ends_are_not_crossed() -> None:
    profile = MatchProfile.from_dict(SWAPPABLE)
    supplier = [{"a": "FRA1", "b": "LON3"}, {"id": "C-2", "a": "AMS", "b": "PAR"}]
    customer = [{"a": "LON3", "b": "FRA1"}, {"externalId": "C-2", "a": "AMS", "b": "PAR"}]
    (swapped, straight) = explained(supplier, customer, profile)
    _, e = swapped
    assert (e["class"], e["reason"], e["rule"]) == ("matched", "endsSwapped", "ends")
    assert e["link"]["key"] == ["fra1", "lon3"] and e["link"]["unordered"] == [[0, 1]]
    assert [
        (c["supplierNormalised"], c["customerNormalised"]) for c in e["link"]["components"]
    ] == [("fra1", "lon3"), ("lon3", "fra1")]
    assert e["summary"] == (
        "linked one-to-one by rule ends; the ends are swapped: siteA and siteB agree when "
        "crossed and every other compared field agrees"
    )
    _, e = straight
    assert e["reason"] is None
    assert not any(f["crossed"] for f in e["fields"])


def test_explanations_agree_with_the_engine_on_a_generated_pair() -> None:
    """Over every item of a generated relation (the default profile): the fields that differ
    are the ones the engine stored, a linked item's key is the same on both sides, and the
    records of an ambiguous item share its rule's key."""
    pair = generate_pair(400, seed=11)
    seen = set()
    for item, e in explained(pair.supplier, pair.customer, DEFAULT_PROFILE):
        seen.add(item["reason"] or item["class"])
        differing = [f["name"] for f in e["fields"] if f["verdict"] == "differ"]
        assert differing == [d["field"] for d in item["differences"] or []], item
        if item["class"] in ("matched", "partial"):
            keys = [k["key"] for r in e["records"] for k in r["keys"] if k["rule"] == item["rule"]]
            assert keys == [e["link"]["key"]] * 2 and keys[0] is not None, item
            crossed = any(f["crossed"] for f in e["fields"])
            assert crossed == (item["reason"] == "endsSwapped"), item
        elif item["reason"] == "ambiguous":
            keys = {
                tuple(k["key"])
                for r in e["records"]
                for k in r["keys"]
                if k["rule"] == item["rule"]
            }
            assert keys == {tuple(e["sharedKey"]["key"])}, item
        else:
            assert e["fields"] == [] and e["link"] is None
    assert {"matched", "partial", "ambiguous", "missingAtSupplier", "missingAtCustomer"} <= seen


def _record(id_field: str) -> st.SearchStrategy[dict[str, Any]]:
    sites = st.sampled_from(["FRA1", "fra 1", "LON3", "AMS", None])
    return st.fixed_dictionaries(
        {},
        optional={
            id_field: st.sampled_from(["C-1", "c1", "C-2", "C-3", "", None]),
            "a": sites,
            "b": sites,
            "status": st.sampled_from(["active", "created", "pendingActive", "terminated"]),
        },
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_record("id"), max_size=8), st.lists(_record("externalId"), max_size=8))
def test_explanations_agree_with_the_engine_on_random_inventories(
    supplier: list[dict[str, Any]], customer: list[dict[str, Any]]
) -> None:
    """Swappable ends, unordered keys, missing and unusable values: whatever the engine
    decided, the explanation gives the same differing fields and the same crossing."""
    for item, e in explained(supplier, customer, MatchProfile.from_dict(SWAPPABLE)):
        differing = [f["name"] for f in e["fields"] if f["verdict"] == "differ"]
        assert differing == [d["field"] for d in item["differences"] or []], (item, e)
        crossed = any(f["crossed"] for f in e["fields"])
        assert crossed == (item["reason"] == "endsSwapped"), (item, e)
        if item["class"] != "mismatch":
            sides = [k["key"] for r in e["records"] for k in r["keys"] if k["rule"] == item["rule"]]
            assert sides == [e["link"]["key"]] * 2, (item, e)


def test_records_must_be_one_per_ref() -> None:
    item = {"class": "matched", "rule": "circuit", "supplierRefs": [0], "customerRefs": [3]}
    with pytest.raises(RecordsMismatch) as caught:
        explain(PROFILE, [{"id": "x"}], [], item)
    assert (caught.value.side, caught.value.refs, caught.value.records) == ("customer", 1, 0)


def test_format_explanation_prints_one_line_per_compared_field() -> None:
    e = only(
        [{"id": "CID-002", "status": "active", "bw": "1G", "mrc": {"unit": "EUR", "value": 100}}],
        [{"externalId": "CID 2", "status": "active", "bw": "1000 Mbps",
          "mrc": {"unit": "EUR", "value": 120}}],
    )  # fmt: skip
    text = format_explanation({"runId": "run-1", "itemNo": 0, **e})
    lines = text.splitlines()
    assert lines[0] == "item 0: partial in run run-1"
    assert lines[1] == "linked one-to-one by rule circuit; 1 compared field differs: mrc"
    assert lines[2] == (
        '  link circuit: supplier id "CID-002" → CID2, customer externalId "CID 2" → CID2'
    )
    rows = {line.split()[0]: line for line in lines[3:]}
    assert list(rows) == ["status", "bandwidth", "mrc", "start", "end"]
    assert rows["mrc"].split() == [
        "mrc", "differ", "supplier", '{"unit":"EUR","value":100}', "→", "EUR", "100", "|",
        "customer", '{"unit":"EUR","value":120}', "→", "EUR", "120",
    ]  # fmt: skip
    assert rows["bandwidth"].split()[:6] == [
        "bandwidth", "agree", "supplier", '"1G"', "→", "1000000000",
    ]  # fmt: skip
    assert rows["end"].split() == ["end", "bothMissing", "supplier", "(absent)", "|", "customer",
                                   "(absent)"]  # fmt: skip


def test_format_explanation_of_a_mismatch_lists_each_records_keys() -> None:
    e = only([{"id": "CID-3", "order": "PO-3"}], [])
    lines = format_explanation(e).splitlines()
    assert lines[0] == "mismatch (missingAtCustomer)"
    assert lines[2] == "  supplier #0 CID-3: circuit CID3; orderSite no key (site missing)"
