"""Match items point to records by product id: every item and explanation carries each
record's `id` (and `externalId` where it has one) on both sides, and a run's items filter by
product id on either side or on one, counted and paged in the database."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ..served import panther_command, served_run
from .world import World, matched, product


def inventories() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    supplier = [
        product("CID-000001", order="PO-1"),  # matched with VF-1
        product("CID-000002", order="PO-2", mrc=1300.0, external="S-EXT-2"),  # partial
        product("CID-000004", order="PO-4"),  # ambiguous: two supplier records and VF-4
        product("CID-000004", order="PO-4b"),
        product("X", order="PO-9", site_a="AMS2"),  # missing at customer
    ]
    customer = [
        product("VF-1", external="cid 1", order="PO-1"),
        product("VF-2", external="CID_000002", order="PO-2"),
        product("VF-4", external="CID-4", order="PO-4"),
        product("X", external="CID-000777", order="PO-8", site_a="PAR7"),  # missing at supplier
    ]
    return supplier, customer


async def _run(world: World) -> str:
    return await matched(world, *inventories())


def _pointers(records: list[dict[str, Any]], refs: list[int]) -> list[dict[str, Any]]:
    out = []
    for ref in refs:
        pointer = {"ref": ref, "id": records[ref]["id"]}
        if "externalId" in records[ref]:
            pointer["externalId"] = records[ref]["externalId"]
        out.append(pointer)
    return out


async def test_every_item_and_explanation_carries_its_records_ids(world: World) -> None:
    run_id = await _run(world)
    sup, cus = inventories()
    r = await world.supplier.get(f"/panther/v1/matchRun/{run_id}/item", limit=100)
    assert r.status_code == 200, r.text
    items = r.json()
    assert len(items) == 5
    for item in items:
        assert item["supplierProducts"] == _pointers(sup, item["supplierRefs"]), item
        assert item["customerProducts"] == _pointers(cus, item["customerRefs"]), item
        one = await world.customer.get(f"/panther/v1/matchRun/{run_id}/item/{item['itemNo']}")
        assert one.status_code == 200, one.text
        for side in ("supplierProducts", "customerProducts"):
            assert one.json()[side] == item[side]
        e = await world.customer.get(
            f"/panther/v1/matchRun/{run_id}/item/{item['itemNo']}/explanation"
        )
        assert e.status_code == 200, e.text
        explained = [
            {k: v for k, v in record.items() if k in ("ref", "id", "externalId")}
            for record in e.json()["records"]
        ]
        assert explained == item["supplierProducts"] + item["customerProducts"]
    partial = next(i for i in items if i["class"] == "partial")
    assert partial["supplierProducts"] == [{"ref": 1, "id": "CID-000002", "externalId": "S-EXT-2"}]
    assert partial["customerProducts"] == [{"ref": 1, "id": "VF-2", "externalId": "CID_000002"}]


async def _ids(world: World, run_id: str, **query: Any) -> tuple[list[list[str]], int]:
    r = await world.supplier.get(f"/panther/v1/matchRun/{run_id}/item", **query)
    assert r.status_code == 200, r.text
    found = [
        [p["id"] for p in item["supplierProducts"] + item["customerProducts"]] for item in r.json()
    ]
    return found, int(r.headers["X-Total-Count"])


async def test_items_filter_by_product_id_on_either_side_counted_and_paged(world: World) -> None:
    run_id = await _run(world)
    # the ambiguous item, by any of its records, on the side that holds it
    for query in (
        {"productId": "CID-000004"},
        {"productId": "VF-4"},
        {"supplierProductId": "CID-000004"},
        {"customerProductId": "VF-4"},
        {"productId": "CID-000004", "customerProductId": "VF-4"},
        {"productId": "VF-4", "class": "mismatch", "reason": "ambiguous"},
    ):
        assert await _ids(world, run_id, **query) == (
            [["CID-000004", "CID-000004", "VF-4"]],
            1,
        ), query
    # not on the other side, not with another filter, not an unknown id
    for query in (
        {"customerProductId": "CID-000004"},
        {"supplierProductId": "VF-4"},
        {"productId": "CID-000004", "class": "matched"},
        {"productId": "CID-000004", "supplierProductId": "CID-000001"},
        {"productId": "nope"},
        {"productId": "cid-000004"},  # the id as the report has it, not normalised
    ):
        assert await _ids(world, run_id, **query) == ([], 0), query
    assert await _ids(world, run_id, productId="VF-1") == ([["CID-000001", "VF-1"]], 1)
    # "X" is a supplier record and a customer record, each missing on the other side
    assert await _ids(world, run_id, productId="X") == ([["X"], ["X"]], 2)
    assert await _ids(world, run_id, productId="X", limit=1) == ([["X"]], 2)
    first, _ = await _ids(world, run_id, productId="X", limit=1)
    r = await world.supplier.get(
        f"/panther/v1/matchRun/{run_id}/item", productId="X", limit=1, offset=1
    )
    (second,) = r.json()
    assert r.headers["X-Total-Count"] == "2"
    assert second["supplierProducts"] == [] and second["customerProducts"][0]["id"] == "X"
    assert await _ids(world, run_id, supplierProductId="X") == ([["X"]], 1)
    assert await _ids(world, run_id, customerProductId="X") == ([["X"]], 1)
    assert await _ids(world, run_id, productId="X", offset=2) == ([], 2)


def test_panther_api_items_filters_by_product_id(served: str, tmp_path: Path) -> None:
    run_id, creds, _ = served_run(served, tmp_path, *inventories())
    command = [*panther_command(), "api", "--url", served, "--credentials", str(creds), "items"]
    for options, expected in (
        (["--product-id", "X"], [["X"], ["X"]]),
        (["--product-id", "X", "--offset", "1"], [["X"]]),
        (["--supplier-product-id", "CID-000004"], [["CID-000004", "CID-000004", "VF-4"]]),
        (["--customer-product-id", "CID-000004"], []),
    ):
        proc = subprocess.run(
            [*command, run_id, *options], capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 0, proc.stderr
        items = json.loads(proc.stdout)
        found = [[p["id"] for p in i["supplierProducts"] + i["customerProducts"]] for i in items]
        assert found == expected, options
