"""The worked profile of docs/records-and-profiles.md does what the document says: it is a
valid profile, and on the two carriers' records it shows it links all three circuits by the
rules the document names, with no coverage warning."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from panther.matching.coverage import check_profile
from panther.matching.engine import match_records
from panther.matching.profile import DEFAULT_PROFILE, MatchProfile

DOC = Path(__file__).resolve().parents[3] / "docs" / "records-and-profiles.md"


def block(name: str) -> Any:
    """The JSON block that follows the `<!-- worked-example: NAME -->` marker."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(
        rf"<!-- worked-example: {name} -->\s*```json\n(.*?)\n```", text, flags=re.DOTALL
    )
    assert found, name
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict[str, Any]]]:
    return {"supplier": block("supplier"), "customer": block("customer")}


def test_the_documented_profile_checks_without_warnings(
    records: dict[str, list[dict[str, Any]]],
) -> None:
    profile = MatchProfile.from_dict(block("profile"))
    outcome = check_profile(profile, records["supplier"], records["customer"])
    figures = outcome["coverage"]
    assert figures["warnings"] == []
    assert {k: v for k, v in outcome["counts"].items() if v and k != "total"} == {
        "matched": 2,
        "partial": 1,
    }
    assert figures["linkedPairs"] == 3
    assert {rule["name"]: rule["linked"] for rule in figures["rules"]} == {
        "circuitId": 1,
        "orderReference": 1,
        "sitesServiceBandwidth": 1,
    }
    for field in figures["fields"]:
        assert field["supplier"]["resolved"] == field["customer"]["resolved"] == 3, field
        expected = 1 if field["name"] == "recurringCharge" else 0
        assert (field["differed"], field["missingBoth"]) == (expected, 0), field


def test_the_items_are_the_ones_the_table_names(records: dict[str, list[dict[str, Any]]]) -> None:
    profile = MatchProfile.from_dict(block("profile"))
    items = match_records(records["supplier"], records["customer"], profile).item_dicts()
    by_supplier = {records["supplier"][item["supplierRefs"][0]]["id"]: item for item in items}
    seen = {
        sid: (
            records["customer"][item["customerRefs"][0]]["id"],
            item["class"],
            item["rule"],
            item.get("reason"),
            [d["field"] for d in item.get("differences") or ()],
        )
        for sid, item in by_supplier.items()
    }
    assert seen == {
        "COLT-000123": ("PG-7781", "matched", "circuitId", None, []),
        "COLT-000124": ("PG-7782", "partial", "orderReference", None, ["recurringCharge"]),
        "COLT-000125": ("PG-7790", "matched", "sitesServiceBandwidth", "endsSwapped", []),
    }


def test_the_default_profile_on_the_same_records_warns_as_documented(
    records: dict[str, list[dict[str, Any]]],
) -> None:
    figures = check_profile(DEFAULT_PROFILE, records["supplier"], records["customer"])["coverage"]
    warned = {(w["code"], w["message"]) for w in figures["warnings"]}
    codes = {code for code, _ in warned}
    assert codes == {
        "fieldResolvesOnOneSideOnly",
        "ruleKeysNoRecord",
        "fieldResolvesOnNeitherSide",  # terminationDate: neither carrier gives one
    }, warned
    rules = " ".join(m for c, m in warned if c == "ruleKeysNoRecord")
    assert "orderReference" in rules and "siteServiceBandwidth" in rules, rules
    one_side = " ".join(m for c, m in warned if c == "fieldResolvesOnOneSideOnly")
    for path in ("place[role=A-End].id", "productCharacteristic[name=bandwidth].value",
                 "productPrice[priceType=recurring].price.dutyFreeAmount"):  # fmt: skip
        assert path in one_side, (path, one_side)
