"""Coverage figures of a match: what every rule and compared field reaches on each side, read
again record by record here; a field missing on both sides is never counted as agreeing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pytest

from panther.demo.generator import generate_pair
from panther.inventory.paths import compile_path
from panther.matching import DEFAULT_PROFILE
from panther.matching.coverage import (
    FIELD_ON_NEITHER_SIDE,
    FIELD_ON_ONE_SIDE_ONLY,
    RULE_KEYS_NO_RECORD,
    check_profile,
    coverage,
    format_coverage,
    with_missing_noted,
)
from panther.matching.engine import extract, match
from panther.matching.explain import explain
from panther.matching.profile import MatchProfile
from tests.api.world import product


def _profile(*fields: dict[str, Any]) -> MatchProfile:
    return MatchProfile.from_dict(
        {
            "name": "t",
            "version": 1,
            "identifierRules": [
                {"name": "id", "supplier": [{"field": "id"}], "customer": [{"field": "ref"}]}
            ],
            "comparedFields": list(fields),
        }
    )


def test_the_figures_equal_a_record_by_record_reading() -> None:
    pair = generate_pair(300, seed=5)
    profile = DEFAULT_PROFILE
    records = {"supplier": pair.supplier, "customer": pair.customer}
    tables = {side: extract(records[side], profile, side) for side in records}  # type: ignore[arg-type]
    result = match(tables["supplier"], tables["customer"], profile)
    figures = coverage(tables["supplier"], tables["customer"], profile, result)

    linked = [i for i in result.item_dicts() if i["class"] != "mismatch"]
    assert figures["linkedPairs"] == len(linked) > 0
    for f, got in zip(profile.compared_fields, figures["fields"], strict=True):
        paths = {
            "supplier": compile_path(f.supplier_field),
            "customer": compile_path(f.customer_field),
        }
        for side in records:
            resolved = sum(paths[side].get(r) is not None for r in records[side])
            assert got[side] == {"field": paths[side].text, "resolved": resolved}
        both = sum(
            paths["supplier"].get(pair.supplier[i["supplierRefs"][0]]) is None
            and paths["customer"].get(pair.customer[i["customerRefs"][0]]) is None
            for i in linked
        )
        differed = sum(f.name in [d["field"] for d in i["differences"] or []] for i in linked)
        assert (got["missingBoth"], got["differed"]) == (both, differed), f.name
        assert got["agreed"] == len(linked) - differed - both
    for r, (rule, got) in enumerate(zip(profile.identifier_rules, figures["rules"], strict=True)):
        for side in records:
            keys = Counter(k for k in tables[side].column(f"key{r}").to_pylist() if k is not None)
            assert got[side] == {
                "keyed": sum(keys.values()),
                "duplicateKeys": sum(1 for n in keys.values() if n > 1),
                "duplicateRecords": sum(n for n in keys.values() if n > 1),
            }
        assert got["linked"] == sum(i["rule"] == rule.name for i in linked)


def test_a_field_on_neither_side_is_missing_on_both_never_agreeing() -> None:
    """The trial: the profile reads `place[role=A-End]`, the records carry `relatedSite`."""
    profile = _profile(
        {"name": "siteA", "field": "place[role=A-End].id", "comparator": "normalisedText"},
        {"name": "status", "field": "status", "comparator": "enum"},
    )

    def record(key: str, i: int, site: str) -> dict[str, Any]:
        return {key: f"C{i}", "status": "active", "relatedSite": [{"role": "A-end", "id": site}]}

    supplier = [record("id", i, f"S{i}") for i in range(4)]
    customer = [record("ref", i, f"T{i}") for i in range(4)]
    checked = check_profile(profile, supplier, customer)
    assert checked["counts"]["matched"] == 4  # nothing differs, so the class stays
    figures = checked["coverage"]
    site, status = figures["fields"]
    assert (site["agreed"], site["differed"], site["missingBoth"]) == (0, 0, 4)
    assert (status["agreed"], status["missingBoth"]) == (4, 0)
    (warning,) = figures["warnings"]
    assert (warning["code"], warning["field"]) == (FIELD_ON_NEITHER_SIDE, "siteA")
    assert "place[role=A-End].id" in warning["message"]
    assert "warning: compared field 'siteA' resolves in no record" in format_coverage(figures)

    # The records' own path, in another case than theirs: the differences show.
    fixed = _profile(
        {"name": "siteA", "field": "relatedSite[role=A-END].id", "comparator": "normalisedText"}
    )
    figures = check_profile(fixed, supplier, customer)["coverage"]
    assert figures["fields"][0]["differed"] == 4 and figures["warnings"] == []


def test_one_sided_fields_and_keyless_rules_warn() -> None:
    profile = _profile(
        {
            "name": "start",
            "supplierField": "startDate",
            "customerField": "start",
            "comparator": "date",
        }
    )
    supplier = [{"id": "C1", "startDate": "2024-01-01"}, {"id": "C1"}]
    customer = [{"id": "C1", "startDate": "2024-01-01"}]  # keyed by `ref`: it has none
    figures = check_profile(profile, supplier, customer)["coverage"]
    assert [(w["code"], w.get("side")) for w in figures["warnings"]] == [
        (RULE_KEYS_NO_RECORD, "customer"),
        (FIELD_ON_ONE_SIDE_ONLY, "customer"),
    ]
    assert figures["rules"][0]["supplier"] == {
        "keyed": 2,
        "duplicateKeys": 1,
        "duplicateRecords": 2,
    }
    assert figures["linkedPairs"] == 0


def test_refs_that_do_not_start_at_zero_are_found_by_value() -> None:
    profile = _profile({"name": "status", "field": "status", "comparator": "enum"})
    supplier = extract([{"id": "A"}, {"id": "B", "status": "x"}], profile, "supplier")
    customer = extract([{"ref": "B"}, {"ref": "A"}], profile, "customer")
    shifted = supplier.set_column(0, "ref", pa.array([10, 11], pa.int64()))
    result = match(supplier, customer, profile)
    moved = result.items.set_column(
        result.items.schema.get_field_index("supplier_refs"),
        "supplier_refs",
        pa.array([[r[0] + 10] for r in result.items.column("supplier_refs").to_pylist()]),
    )
    figures = coverage(shifted, customer, profile, type(result).of(moved))
    assert figures["fields"][0]["missingBoth"] == 1  # A: neither has a status


@pytest.mark.parametrize("missing", [[], ["siteA"], ["siteA", "siteB"]])
def test_an_explanation_names_the_fields_missing_on_both_sides(missing: list[str]) -> None:
    record = product("C1", external="C1")
    record["terminationDate"] = "2030-01-01"
    record["place"] = [p for p in record["place"] if f"site{p['role'][0]}" not in missing]
    item = {
        "class": "matched",
        "rule": "supplierCircuitId",
        "supplierRefs": [0],
        "customerRefs": [0],
    }
    explained = with_missing_noted(explain(DEFAULT_PROFILE, [record], [record], item))
    summary = explained["summary"]
    noted = [f["name"] for f in explained["fields"] if f["verdict"] == "bothMissing"]
    assert noted == missing
    if noted:
        assert summary.endswith("; not compared, missing on both sides: " + ", ".join(noted))
    else:
        assert "missing on both sides" not in summary
