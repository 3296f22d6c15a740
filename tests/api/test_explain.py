"""GET matchRun/{id}/item/{itemNo}/explanation, and `panther match explain` against a server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import ValidationError

from conformance.official import validate_against_document
from panther.client import PantherClient
from panther.matching import DEFAULT_PROFILE
from panther.server.services.ports import Ports

from ..served import panther_command, served_run
from .world import World, build_world, matched, product

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "panther-v1.yaml"


def inventories() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One item of each class; the one-sided records are at sites of their own, so that no
    rule of the default profile links them."""
    supplier = [
        product("CID-000001", order="PO-1"),  # matched
        product("CID-000002", order="PO-2", mrc=1300.0),  # partial: price
        product("CID-000003", order="PO-3", site_a="AMS2"),  # missing at customer
        product("CID-000004", order="PO-4"),  # ambiguous (dup below)
        product("CID-000004", order="PO-4b"),
    ]
    customer = [
        product("VF-1", external="cid 1", order="PO-1"),
        product("VF-2", external="CID_000002", order="PO-2"),
        product("VF-4", external="CID-4", order="PO-4"),
        product("VF-5", external="CID-000005", order="PO-5", site_a="PAR7"),  # missing at supplier
    ]
    return supplier, customer


async def _run(world: World) -> str:
    return await matched(world, *inventories())


def _url(run_id: str, item_no: int) -> str:
    return f"/panther/v1/matchRun/{run_id}/item/{item_no}/explanation"


async def test_a_partial_item_names_exactly_its_differing_fields(world: World) -> None:
    run_id = await _run(world)
    r = await world.customer.get(f"/panther/v1/matchRun/{run_id}/item", **{"class": "partial"})
    (partial,) = r.json()

    r = await world.customer.get(_url(run_id, partial["itemNo"]))
    assert r.status_code == 200, r.text
    e = r.json()
    validate_against_document(OPENAPI, "Explanation", e)
    assert e["@type"] == "MatchItemExplanation" and e["id"] == str(partial["itemNo"])
    assert e["href"].endswith(_url(run_id, partial["itemNo"]))
    assert (e["runId"], e["itemNo"]) == (run_id, partial["itemNo"])
    run = (await world.customer.get(f"/panther/v1/matchRun/{run_id}")).json()
    assert e["profileHash"] == run["profileHash"]
    assert (e["class"], e["reason"], e["rule"]) == ("partial", None, "supplierCircuitId")
    assert e["summary"] == (
        "linked one-to-one by rule supplierCircuitId; 1 compared field differs: recurringCharge"
        # These products have no termination date: not compared, and said so.
        "; not compared, missing on both sides: terminationDate"
    )
    (component,) = e["link"]["components"]
    assert (component["supplierField"], component["customerField"]) == ("id", "externalId")
    assert (component["supplierRaw"], component["customerRaw"]) == ('"CID-000002"', '"CID_000002"')
    assert component["supplierNormalised"] == component["customerNormalised"] == "CID2"

    differing = [f for f in e["fields"] if f["verdict"] == "differ"]
    assert [f["name"] for f in differing] == [d["field"] for d in partial["differences"]]
    (charge,) = differing
    # Stored records are canonical JSON (RFC 8785): 1300.0 is the number 1300.
    assert (charge["supplierRaw"], charge["customerRaw"]) == (
        '{"unit":"EUR","value":1300}',
        '{"unit":"EUR","value":1250}',
    )
    assert (charge["supplierNormalised"], charge["customerNormalised"]) == ("EUR 1300", "EUR 1250")
    assert charge["supplierField"] == "productPrice[priceType=recurring].price.dutyFreeAmount"
    assert charge["comparator"] == "money"
    bandwidth = next(f for f in e["fields"] if f["name"] == "bandwidth")
    assert bandwidth["verdict"] == "agree"
    assert bandwidth["supplierRaw"] == bandwidth["customerRaw"] == '"10 Gbps"'
    assert bandwidth["supplierNormalised"] == 10_000_000_000

    # Both parties see the same explanation; so does the operator.
    for actor in (world.supplier, world.operator):
        again = (await actor.get(_url(run_id, partial["itemNo"]))).json()
        assert again == e


async def test_every_item_of_a_run_is_explained(world: World) -> None:
    run_id = await _run(world)
    items = (await world.supplier.get(f"/panther/v1/matchRun/{run_id}/item")).json()
    summaries = {}
    for item in items:
        r = await world.supplier.get(_url(run_id, item["itemNo"]))
        assert r.status_code == 200, r.text
        e = r.json()
        validate_against_document(OPENAPI, "Explanation", e)
        assert (e["class"], e["reason"], e["rule"]) == (item["class"], item["reason"], item["rule"])
        assert [(r["side"], r["ref"]) for r in e["records"]] == [
            *(("supplier", ref) for ref in item["supplierRefs"]),
            *(("customer", ref) for ref in item["customerRefs"]),
        ]
        summaries[item["reason"] or item["class"]] = e
    assert set(summaries) == {
        "matched", "partial", "missingAtCustomer", "missingAtSupplier", "ambiguous",
    }  # fmt: skip
    matched = summaries["matched"]
    assert matched["summary"].endswith(
        "and every compared field agrees; not compared, missing on both sides: terminationDate"
    )
    assert {f["verdict"] for f in matched["fields"]} <= {"agree", "bothMissing"}
    ambiguous = summaries["ambiguous"]
    assert ambiguous["sharedKey"] == {
        "rule": "supplierCircuitId",
        "key": ["CID4"],
        "supplierCount": 2,
        "customerCount": 1,
    }
    missing = summaries["missingAtCustomer"]
    (record,) = missing["records"]
    assert record["id"] == "CID-000003"
    assert [k["key"] for k in record["keys"][:2]] == [["CID3"], ["PO3"]]
    assert missing["summary"].startswith("missing at customer: no customer record has any of")


async def test_unknown_runs_items_and_outsiders_get_404(world: World) -> None:
    run_id = await _run(world)
    r = await world.outsider.get(_url(run_id, 0))
    assert r.status_code == 404
    assert r.json()["code"] == "notFound"
    r = await world.supplier.get(_url(run_id, 999))
    assert r.status_code == 404 and "no item 999" in r.json()["message"]
    r = await world.supplier.get(_url("run-nosuchrun", 0))
    assert r.status_code == 404
    r = await world.supplier.http.get(_url(run_id, 0))  # no token
    assert r.status_code == 401


async def test_swapped_ends_are_explained_as_crossed(http: httpx.AsyncClient, ports: Ports) -> None:
    """A relation whose profile lets siteA and siteB swap: the explanation compares the
    supplier's A-end with the customer's B-end and says so."""
    profile = DEFAULT_PROFILE.to_dict()
    profile["swappablePairs"] = [["siteA", "siteB"]]
    world = await build_world(http, ports, profile=profile)
    r = await world.supplier.upload(world.relation_id, [product("CID-7", site_a="FRA1")])
    assert r.status_code == 201, r.text
    r = await world.customer.upload(
        world.relation_id, [product("VF-7", external="cid7", site_a="LON3", site_b="FRA1")]
    )
    run_id = r.json()["matchRun"]["id"]
    r = await world.customer.get(_url(run_id, 0))  # the only item
    assert r.status_code == 200, r.text
    e = r.json()
    validate_against_document(OPENAPI, "Explanation", e)
    assert (e["class"], e["reason"]) == ("matched", "endsSwapped")
    sites = {f["name"]: f for f in e["fields"] if f["crossed"]}
    assert list(sites) == ["siteA", "siteB"]
    assert (sites["siteA"]["supplierField"], sites["siteA"]["customerField"]) == (
        "place[role=A-End].id",
        "place[role=B-End].id",
    )
    assert (sites["siteA"]["supplierRaw"], sites["siteA"]["customerRaw"]) == ('"FRA1"', '"FRA1"')
    assert {f["verdict"] for f in sites.values()} == {"agree"}


def test_the_explanation_schema_is_strict() -> None:
    """Response validation can only catch what the schema says: a made-up verdict or member
    is refused."""
    field = {
        "name": "status", "comparator": "enum", "params": {}, "supplierField": "status",
        "customerField": "status", "supplierRaw": '"active"', "customerRaw": None,
        "supplierNormalised": "active", "customerNormalised": None, "verdict": "differ",
        "crossed": False,
    }  # fmt: skip
    explanation = {
        "id": "1", "href": "/x", "@type": "MatchItemExplanation", "runId": "run-1",
        "itemNo": 1, "profileHash": "ab", "class": "partial", "reason": None,
        "rule": "r", "summary": "s", "link": None, "sharedKey": None, "fields": [field],
        "records": [],
    }  # fmt: skip
    validate_against_document(OPENAPI, "Explanation", explanation)
    for broken in (
        {**explanation, "fields": [{**field, "verdict": "maybe"}]},
        {**explanation, "fields": [{**field, "supplierNormalised": 1.5}]},
        {**explanation, "extra": 1},
        {k: v for k, v in explanation.items() if k != "summary"},
    ):
        with pytest.raises(ValidationError):
            validate_against_document(OPENAPI, "Explanation", broken)


# -- the command, against a real server ------------------------------------------------------


def test_panther_match_explain_prints_each_compared_field(served: str, tmp_path: Path) -> None:
    def partial_item(client: PantherClient, run_id: str) -> Any:
        (partial,) = client.get(f"/panther/v1/matchRun/{run_id}/item", **{"class": "partial"})
        return partial

    run_id, creds, partial = served_run(served, tmp_path, *inventories(), then=partial_item)
    command = [*panther_command(), "match", "--url", served, "--credentials", str(creds), "explain"]
    proc = subprocess.run(
        [*command, run_id, str(partial["itemNo"])],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"item {partial['itemNo']}: partial in run {run_id}"
    assert lines[1] == (
        "linked one-to-one by rule supplierCircuitId; 1 compared field differs: recurringCharge"
        # These products have no termination date: not compared, and said so.
        "; not compared, missing on both sides: terminationDate"
    )
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    assert rows["recurringCharge"] == [
        "recurringCharge", "differ", "supplier", '{"unit":"EUR","value":1300}', "→", "EUR",
        "1300", "|", "customer", '{"unit":"EUR","value":1250}', "→", "EUR", "1250",
    ]  # fmt: skip
    assert rows["status"][:6] == ["status", "agree", "supplier", '"active"', "→", "active"]

    as_json = subprocess.run(
        [*command, run_id, str(partial["itemNo"]), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    validate_against_document(OPENAPI, "Explanation", document)
    assert [f["name"] for f in document["fields"] if f["verdict"] == "differ"] == [
        "recurringCharge"
    ]

    missing = subprocess.run(
        [*command, "run-nosuchrun", "0"], capture_output=True, text=True, timeout=60, check=False
    )
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr and "HTTP 404" in missing.stderr
