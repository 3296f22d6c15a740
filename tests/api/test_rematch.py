"""A corrected report re-matches only what the correction can affect, and the run it makes
is the run a full match would make."""

from __future__ import annotations

from typing import Any

from panther.matching import DEFAULT_PROFILE, match_records

from .world import World, product


def _inventories() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    supplier = [product(f"CID-{i:05d}", site_a=f"S{i}", site_b=f"T{i}") for i in range(40)]
    customer = [
        product(f"VF-{i}", external=f"CID-{i:05d}", site_a=f"S{i}", site_b=f"T{i}")
        for i in range(40)
    ]
    customer[3] = product("VF-3", external="CID-99999", site_a="S3", site_b="T3x")  # wrong id
    customer[8]["productPrice"][0]["price"]["dutyFreeAmount"]["value"] = 1.0  # wrong price
    return supplier, customer


async def test_a_corrected_report_is_rematched_incrementally(world: World) -> None:
    w = world
    supplier, customer = _inventories()
    assert (await w.supplier.upload(w.relation_id, supplier)).status_code == 201
    r = await w.customer.upload(w.relation_id, customer)
    first = (await w.supplier.get(f"/panther/v1/matchRun/{r.json()['matchRun']['id']}")).json()
    assert first["rematched"] is None and first["previousRun"] is None
    assert first["counts"]["missingAtCustomer"] == 1 and first["counts"]["partial"] == 1

    fixed = [dict(c) for c in customer]
    fixed[3] = product("VF-3", external="CID-00003", site_a="S3", site_b="T3")
    r = await w.customer.upload(w.relation_id, fixed)
    assert r.status_code == 201, r.text
    second = (await w.supplier.get(f"/panther/v1/matchRun/{r.json()['matchRun']['id']}")).json()
    assert second["previousRun"] == first["id"]
    rematched = second["rematched"]
    assert rematched["previousRun"] == first["id"]
    # The corrected record and the supplier record its new identifier reaches; nothing else.
    assert (rematched["supplierRematched"], rematched["customerRematched"]) == (1, 1)
    assert rematched["itemsKept"] == first["itemCount"] - 2

    # The same run a full match of the two reports makes.
    expected = match_records(supplier, fixed, DEFAULT_PROFILE)
    assert second["counts"] == dict(expected.counts)
    items = []
    offset = 0
    while True:
        page = (
            await w.supplier.get(
                f"/panther/v1/matchRun/{second['id']}/item", offset=offset, limit=100
            )
        ).json()
        items += page
        if len(page) < 100:
            break
        offset += 100
    got = [
        (i["class"], i["reason"], i["rule"], i["supplierRefs"], i["customerRefs"]) for i in items
    ]
    want = [
        (i["class"], i["reason"], i["rule"], i["supplierRefs"], i["customerRefs"])
        for i in expected.item_dicts()
    ]
    assert got == want
    check = (await w.operator.post("/panther/v1/ledger/verification")).json()
    assert check["ok"], check


async def test_a_tmf637_product_change_rematches_at_once(world: World) -> None:
    w = world
    supplier, customer = _inventories()
    assert (await w.supplier.upload(w.relation_id, supplier)).status_code == 201
    r = await w.customer.upload(w.relation_id, customer)
    first_id = r.json()["matchRun"]["id"]
    # The customer corrects the identifier of one product through TMF637.
    r = await w.customer.http.patch(
        "/tmf-api/productInventory/v4/product/VF-3",
        json={"externalId": "CID-00003"},
        headers={**w.customer.auth, "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    runs = (await w.supplier.get("/panther/v1/matchRun", relationId=w.relation_id)).json()
    newest = max(runs, key=lambda run: run["createdAt"])
    assert newest["previousRun"] == first_id
    assert newest["rematched"]["customerRematched"] == 1
    assert newest["counts"]["missingAtCustomer"] == 0
    # Linked now; its B-end (T3x) still differs, so it is partial, like VF-8's price.
    assert newest["counts"]["matched"] == 38 and newest["counts"]["partial"] == 2
