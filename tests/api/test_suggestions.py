"""Fuzzy candidates on mismatch items, confirmed by both carriers into a link."""

from __future__ import annotations

from typing import Any

from .world import World, product


async def _run(world: World) -> dict[str, Any]:
    w = world
    supplier = [
        product("CID-001234", site_a="MAD1", site_b="LIS2"),
        product("CID-777777", site_a="BER1", site_b="WAW1"),
        product("CID-000500", site_a="ROM1", site_b="MIL1"),
    ]
    customer = [
        # Digits swapped in the identifier, ends swapped, and a different bandwidth, so no
        # rule links it (not even the composite of sites, service type and bandwidth).
        product("VF-1", external="CID-1243", site_a="LIS2", site_b="MAD1", bandwidth="1 Gbps"),
        product("VF-2", external="CID-777778", site_a="OSL1", site_b="STO1", start="2024-09-09"),
        product("VF-3", external="CID-000500", site_a="ROM1", site_b="MIL1"),
    ]
    assert (await w.supplier.upload(w.relation_id, supplier)).status_code == 201
    r = await w.customer.upload(w.relation_id, customer)
    assert r.status_code == 201, r.text
    return (await w.supplier.get(f"/panther/v1/matchRun/{r.json()['matchRun']['id']}")).json()


async def test_candidates_are_shown_on_both_items_and_never_matched(world: World) -> None:
    run = await _run(world)
    r = await world.customer.get(f"/panther/v1/matchRun/{run['id']}/item", **{"class": "mismatch"})
    assert len(r.json()) == 4  # nothing was matched by a guess
    by_reason = {(i["reason"], tuple(i["supplierRefs"]), tuple(i["customerRefs"])): i
                 for i in r.json()}  # fmt: skip
    sup_item = by_reason[("missingAtCustomer", (0,), ())]
    cus_item = by_reason[("missingAtSupplier", (), (0,))]
    (candidate,) = sup_item["suggestions"]
    assert candidate["itemNo"] == cus_item["itemNo"]
    assert candidate["distance"] == 2 and 0 < candidate["score"] < 1
    assert candidate["reason"] == (
        'identifiers "CID1234" and "CID1243" differ by 2 edits; same siteA + siteB and startDate'
    )
    assert cus_item["suggestions"][0]["itemNo"] == sup_item["itemNo"]
    # CID-777777 / CID-777778 are one edit apart but share neither the sites nor the date.
    other = by_reason[("missingAtCustomer", (1,), ())]
    assert other["suggestions"] == []
    detail = (
        await world.supplier.get(f"/panther/v1/matchRun/{run['id']}/item/{sup_item['itemNo']}")
    ).json()
    assert detail["suggestions"] == sup_item["suggestions"]


async def test_both_confirmations_link_the_pair_in_a_new_run(world: World) -> None:
    w = world
    run = await _run(w)
    items = (await w.supplier.get(f"/panther/v1/matchRun/{run['id']}/item",
                                  reason="missingAtCustomer")).json()  # fmt: skip
    sup_item = next(i for i in items if i["supplierRefs"] == [0])
    other_no = sup_item["suggestions"][0]["itemNo"]
    path = f"/panther/v1/matchRun/{run['id']}/item/{sup_item['itemNo']}/suggestion/{other_no}"

    r = await w.outsider.post(f"{path}/confirmation", {})
    assert r.status_code == 404
    r = await w.operator.post(f"{path}/confirmation", {})
    assert r.status_code == 403 and r.json()["@type"] == "Error"
    bad = f"/panther/v1/matchRun/{run['id']}/item/{sup_item['itemNo']}/suggestion/999"
    assert (await w.supplier.post(f"{bad}/confirmation", {})).status_code == 404

    before = (await w.operator.get("/panther/v1/ledger/entry", limit=1000)).json()
    r = await w.supplier.post(f"{path}/confirmation", {})
    assert r.status_code == 200, r.text
    assert r.json()["confirmedBy"] == [w.supplier.party_id] and r.json()["linkedRun"] is None
    again = await w.supplier.post(f"{path}/confirmation", {})
    assert again.json() == r.json()  # confirming twice changes nothing
    entries = (await w.operator.get("/panther/v1/ledger/entry", limit=1000)).json()
    (action,) = entries[len(before) :]
    assert action["type"] == "ReviewActionTaken"
    assert action["payload"]["action"] == "confirmCandidate"
    assert (action["payload"]["supplierRef"], action["payload"]["customerRef"]) == (0, 0)

    r = await w.customer.post(f"{path}/confirmation", {})
    assert r.status_code == 200, r.text
    done = r.json()
    assert sorted(done["confirmedBy"]) == sorted([w.supplier.party_id, w.customer.party_id])
    linked = (await w.supplier.get(f"/panther/v1/matchRun/{done['linkedRun']}")).json()
    assert linked["previousRun"] == run["id"]
    assert linked["rematched"]["supplierRematched"] >= 1
    assert linked["counts"]["missingAtCustomer"] == run["counts"]["missingAtCustomer"] - 1
    pair = (await w.supplier.get(f"/panther/v1/matchRun/{linked['id']}/item",
                                 rule="confirmedCandidate")).json()  # fmt: skip
    (item,) = pair
    assert (item["supplierRefs"], item["customerRefs"]) == ([0], [0])
    # Linked, then compared like any link: the ends are recorded the other way round and the
    # bandwidth differs.
    assert (item["class"], item["reason"]) == ("partial", "endsSwapped")
    assert [d["field"] for d in item["differences"]] == ["bandwidth"]
    # The old run takes no more confirmations.
    r = await w.customer.post(f"{path}/confirmation", {})
    assert r.status_code == 200  # already confirmed by the customer: nothing changes
    check = (await w.operator.post("/panther/v1/ledger/verification")).json()
    assert check["ok"], check
