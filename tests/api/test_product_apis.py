"""TMF637 v4 and MEF 116 v7 over the reported products; every body checked against the
official specifications in ../shared/standards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.official import (
    validate_mef116_error,
    validate_mef116_product,
    validate_mef116_product_list_item,
    validate_tmf637_product,
    validate_tmf_error,
)

from .world import TODAY, World, product

TMF = "/tmf-api/productInventory/v4/product"
MEF = "/mefApi/sonata/productInventory/v7/product"


@pytest.fixture
async def reported(world: World) -> World:
    sup = [
        product(f"CID-{i:06d}", order=f"PO-{i}", status="active" if i % 3 else "pendingTerminate")
        for i in range(1, 8)
    ]
    cus = [product(f"VF-{i}", external=f"CID-{i:06d}", order=f"PO-{i}") for i in range(1, 6)]
    assert (await world.supplier.upload(world.relation_id, sup, as_of=TODAY)).status_code == 201
    assert (await world.customer.upload(world.relation_id, cus, as_of=TODAY)).status_code == 201
    return world


async def test_tmf637_list_filters_fields_and_paging(
    reported: World, official_schemas: Path
) -> None:
    w = reported
    r = await w.supplier.get(TMF, limit=3, offset=2)
    assert r.status_code == 200
    assert r.headers["X-Total-Count"] == "7" and r.headers["X-Result-Count"] == "3"
    page = r.json()
    assert [p["id"] for p in page] == ["CID-000003", "CID-000004", "CID-000005"]
    for p in page:
        validate_tmf637_product(p)
        assert p["href"].endswith(f"{TMF}/{p['id']}")
        assert {rp["role"] for rp in p["relatedParty"]} == {"supplier", "customer"}

    r = await w.supplier.get(TMF, status="pendingTerminate")
    assert sorted(p["id"] for p in r.json()) == ["CID-000003", "CID-000006"]

    r = await w.supplier.get(TMF, fields="status", id="CID-000002")
    (only,) = r.json()
    assert set(only) <= {"id", "href", "@type", "status"} and only["status"] == "active"

    r = await w.customer.get(TMF, externalId="CID-000004")
    assert [p["id"] for p in r.json()] == ["VF-4"]

    r = await w.outsider.get(TMF)
    assert r.json() == [] and r.headers["X-Total-Count"] == "0"


async def test_tmf637_retrieve_and_404(reported: World, official_schemas: Path) -> None:
    r = await reported.customer.get(f"{TMF}/VF-2")
    assert r.status_code == 200
    validate_tmf637_product(r.json())
    assert r.json()["externalId"] == "CID-000002"
    r = await reported.customer.get(f"{TMF}/CID-000002")  # the supplier's: not the caller's
    assert r.status_code == 404
    validate_tmf_error(r.json())
    r = await reported.outsider.get(f"{TMF}/VF-2")
    assert r.status_code == 404


async def test_tmf637_create_patch_delete_change_the_inventory_and_rematch(
    reported: World, official_schemas: Path
) -> None:
    w = reported
    runs_before = (await w.supplier.get("/panther/v1/matchRun", relationId=w.relation_id)).json()
    new = {
        **product("VF-9", external="CID-000007", order="PO-7", start="2024-03-01T00:00:00Z"),
        "relatedParty": [
            {"id": w.supplier.party_id, "role": "supplier", "@referredType": "Organization"}
        ],
    }
    r = await w.customer.post(TMF, new)
    assert r.status_code == 201, r.text
    validate_tmf637_product(r.json())
    assert r.json()["id"] == "VF-9"

    r = await w.customer.post(TMF, new)
    assert r.status_code == 409

    r = await w.customer.http.patch(
        f"{TMF}/VF-9",
        json={"status": "suspended"},
        headers={**w.customer.auth, "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended"

    r = await w.customer.http.delete(f"{TMF}/VF-1", headers=w.customer.auth)
    assert r.status_code == 204
    assert (await w.customer.get(f"{TMF}/VF-1")).status_code == 404

    reports = (await w.customer.get("/panther/v1/inventoryReport", relationId=w.relation_id)).json()
    customer_versions = sorted(x["version"] for x in reports if x["side"] == "customer")
    assert customer_versions == [1, 2, 3, 4]
    assert {x["origin"] for x in reports if x["version"] > 1} == {"productChange"}

    runs = (await w.supplier.get("/panther/v1/matchRun", relationId=w.relation_id)).json()
    # Each change re-matched at once, incrementally, from the run before it.
    assert len(runs) == len(runs_before) + 3
    added = sorted((x for x in runs if x["id"] not in {b["id"] for b in runs_before}),
                   key=lambda x: x["createdAt"])  # fmt: skip
    assert all(x["rematched"] is not None for x in added)
    assert [x["previousRun"] for x in added[1:]] == [x["id"] for x in added[:-1]]
    r = await w.supplier.post("/panther/v1/matchRun", {"relationId": w.relation_id, "asOf": TODAY})
    assert r.status_code == 200  # the newest run already matches the newest reports
    assert r.json()["id"] == added[-1]["id"]
    counts = r.json()["counts"]
    assert counts["missingAtCustomer"] == 2  # CID-1 (deleted at customer) and CID-6
    assert counts["partial"] == 2  # VF-3 (status) and VF-9: suspended, the supplier says active
    assert (await w.operator.post("/panther/v1/ledger/verification")).json()["ok"]


async def test_tmf637_bad_product_is_422_and_nothing_changes(reported: World) -> None:
    w = reported
    before = (await w.customer.get("/panther/v1/inventoryReport")).headers["X-Total-Count"]
    bad = {
        **product("VF-10"),
        "startDate": "2024-02-30T00:00:00Z",
        "relatedParty": [
            {"id": w.supplier.party_id, "role": "supplier", "@referredType": "Organization"}
        ],
    }
    r = await w.customer.post(TMF, bad)
    assert r.status_code in (400, 422)
    assert r.json()["@type"] == "Error"
    after = (await w.customer.get("/panther/v1/inventoryReport")).headers["X-Total-Count"]
    assert before == after


async def test_mef116_buyer_view(reported: World, official_schemas: Path) -> None:
    w = reported
    r = await w.customer.get(MEF, buyerId=w.customer.party_id, sellerId=w.supplier.party_id)
    assert r.status_code == 200
    assert r.headers["X-Total-Count"] == "7" and r.headers["X-Pagination-Throttled"] == "false"
    for item in r.json():
        validate_mef116_product_list_item(item)
    r = await w.customer.get(MEF, buyerId=w.customer.party_id, status="pendingTerminate")
    assert sorted(p["id"] for p in r.json()) == ["CID-000003", "CID-000006"]

    r = await w.customer.get(
        f"{MEF}/CID-000002", buyerId=w.customer.party_id, sellerId=w.supplier.party_id
    )
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    validate_mef116_product(body)
    assert {s["role"] for s in body.get("relatedSite", [])} >= {"A-End", "B-End"} or len(
        body.get("relatedSite", [])
    ) == 2

    r = await w.outsider.get(f"{MEF}/CID-000002")
    assert r.status_code == 404
    validate_mef116_error(404, r.json())
    r = await w.outsider.get(MEF)
    assert r.json() == []


async def test_tmf637_name_filter_matches_strings_only_and_follows_a_patch(world: World) -> None:
    """``?name=`` keeps a record only when its name is that JSON string (a number, an object
    or an array with the same text does not match), and a product PATCHed to a new name is
    found by it in the new version of the report."""
    w = world
    records = [product(f"N-{i}") for i in range(5)]
    records[0]["name"] = "1250"
    records[1]["name"] = 1250
    records[2]["name"] = {"1250": "1250"}
    records[3]["name"] = ["1250"]
    assert (await w.supplier.upload(w.relation_id, records, as_of=TODAY)).status_code == 201
    r = await w.supplier.get(TMF, name="1250")
    assert [p["id"] for p in r.json()] == ["N-0"] and r.headers["X-Total-Count"] == "1"

    r = await w.supplier.http.patch(
        f"{TMF}/N-1",
        json={"name": "renamed"},
        headers={**w.supplier.auth, "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    r = await w.supplier.get(TMF, name="renamed")
    assert [(p["id"], p["name"]) for p in r.json()] == [("N-1", "renamed")]
    assert r.headers["X-Total-Count"] == "1"
    r = await w.supplier.get(TMF, name="1250")
    assert [p["id"] for p in r.json()] == ["N-0"]
