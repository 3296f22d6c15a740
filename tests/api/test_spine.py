"""The spine end to end through the HTTP API: report, match, endorse, verify."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from panther.server.services.ports import Ports

from .world import TODAY, World, build_world, product


def inventories() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Supplier and customer inventories with one of each class."""
    supplier = [
        product("CID-000001", order="PO-1"),  # matched
        product("CID-000002", order="PO-2", mrc=1300.0),  # partial: price
        product("CID-000003", order="PO-3", site_a="MAD2"),  # missing at customer
        product("CID-000004", order="PO-4"),  # ambiguous (dup below)
        product("CID-000004", order="PO-4b"),
        product("CID-000006", order="PO-6", bandwidth="10G"),  # matched via order ref
    ]
    customer = [
        product("VF-1", external="cid 1", order="PO-1"),
        product("VF-2", external="CID_000002", order="PO-2"),
        product("VF-4", external="CID-4", order="PO-4"),
        product("VF-5", external="CID-000005", order="PO-5", site_b="AMS9"),  # missing at supplier
        product("VF-6", order="PO-6", bandwidth="10000 Mbps"),
    ]
    return supplier, customer


async def test_report_match_endorse_verify(world: World) -> None:
    sup_records, cus_records = inventories()
    r = await world.supplier.upload(world.relation_id, sup_records, as_of=TODAY)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["recordCount"] == 6 and report["side"] == "supplier"
    assert report["matchRun"] is None  # the customer has not reported yet

    r = await world.customer.upload(
        world.relation_id, cus_records, as_of=TODAY, media_type="application/json"
    )
    assert r.status_code == 201, r.text
    run_id = r.json()["matchRun"]["id"]

    run = (await world.supplier.get(f"/panther/v1/matchRun/{run_id}")).json()
    assert run["state"] == "recorded"
    counts = run["counts"]
    assert counts["matched"] == 2 and counts["partial"] == 1
    assert counts["missingAtCustomer"] == 1 and counts["missingAtSupplier"] == 1
    assert counts["ambiguous"] == 1  # one item: two supplier records and the customer's claim

    r = await world.customer.get(f"/panther/v1/matchRun/{run_id}/item", **{"class": "partial"})
    assert r.headers["X-Total-Count"] == "1" and r.headers["X-Result-Count"] == "1"
    (partial,) = r.json()
    assert partial["rule"] == "supplierCircuitId"
    (diff,) = partial["differences"]
    assert diff["field"] == "recurringCharge"

    r = await world.customer.get(f"/panther/v1/matchRun/{run_id}/item", field="recurringCharge")
    assert [i["itemNo"] for i in r.json()] == [partial["itemNo"]]

    r = await world.customer.get(f"/panther/v1/matchRun/{run_id}/item", reason="ambiguous")
    (amb,) = r.json()
    assert len(amb["supplierRefs"]) == 2 and len(amb["customerRefs"]) == 1

    r = await world.customer.get(f"/panther/v1/matchRun/{run_id}/item/{partial['itemNo']}")
    detail = r.json()
    assert detail["supplierRecords"][0]["id"] == "CID-000002"
    assert detail["customerRecords"][0]["id"] == "VF-2"

    by_rule = await world.customer.get(f"/panther/v1/matchRun/{run_id}/item", rule="orderReference")
    assert [i["class"] for i in by_rule.json()] == ["matched"]

    r = await world.outsider.get(f"/panther/v1/matchRun/{run_id}")
    assert r.status_code == 404

    r = await world.supplier.post(f"/panther/v1/matchRun/{run_id}/endorsement", {})
    assert r.json()["state"] == "recorded" and r.json()["endorsedBy"] == [world.supplier.party_id]
    r = await world.customer.post(f"/panther/v1/matchRun/{run_id}/endorsement", {})
    final = r.json()
    assert final["state"] == "final" and final["endorsedSeq"] is not None

    entry = (await world.customer.get(f"/panther/v1/ledger/entry/{final['endorsedSeq']}")).json()
    assert entry["type"] == "MatchEndorsed"
    assert set(entry["signers"]) == {world.supplier.address, world.customer.address}
    assert entry["merkleRoot"] == final["itemsRoot"]

    r = await world.operator.post("/panther/v1/ledger/verification")
    assert r.json()["ok"] is True, r.json()


async def test_outsider_cannot_endorse_or_see(world: World) -> None:
    sup, cus = inventories()
    await world.supplier.upload(world.relation_id, sup)
    run_id = (await world.customer.upload(world.relation_id, cus)).json()["matchRun"]["id"]
    r = await world.outsider.post(f"/panther/v1/matchRun/{run_id}/endorsement", {})
    assert r.status_code == 404
    assert r.json()["code"] == "notFound"
    r = await world.outsider.get(f"/panther/v1/relation/{world.relation_id}")
    assert r.status_code == 404
    r = await world.outsider.upload(world.relation_id, sup)
    assert r.status_code == 404


async def test_same_report_twice_is_the_same_report(world: World) -> None:
    sup, _ = inventories()
    first = await world.supplier.upload(world.relation_id, sup)
    again = await world.supplier.upload(world.relation_id, sup, media_type="application/json")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    changed = await world.supplier.upload(world.relation_id, sup[:-1])
    assert changed.status_code == 201 and changed.json()["version"] == 2


async def test_match_on_request_is_idempotent(world: World) -> None:
    sup, cus = inventories()
    await world.supplier.upload(world.relation_id, sup)
    auto = (await world.customer.upload(world.relation_id, cus)).json()["matchRun"]["id"]
    r = await world.supplier.post(
        "/panther/v1/matchRun", {"relationId": world.relation_id, "asOf": TODAY}
    )
    assert r.status_code == 200 and r.json()["id"] == auto


async def test_match_needs_both_reports(world: World) -> None:
    r = await world.supplier.post(
        "/panther/v1/matchRun", {"relationId": world.relation_id, "asOf": TODAY}
    )
    assert r.status_code == 409
    assert "no supplier report" in r.json()["message"]


async def test_upload_before_agreement_is_refused(http: Any, ports: Ports) -> None:
    w = await build_world(http, ports, agree=False)
    r = await w.supplier.upload(w.relation_id, [product("A")])
    assert r.status_code == 409
    assert "not agreed" in r.json()["message"]


async def test_relation_agreed_carries_both_signatures(world: World) -> None:
    rel = (await world.supplier.get(f"/panther/v1/relation/{world.relation_id}")).json()
    assert rel["state"] == "agreed"
    entry = (await world.supplier.get(f"/panther/v1/ledger/entry/{rel['ledgerSeq']}")).json()
    assert entry["type"] == "RelationAgreed"
    assert entry["signers"] == [world.supplier.address, world.customer.address]


async def test_tampering_with_a_stored_record_is_detected(http: Any, ports: Ports) -> None:
    w = await build_world(http, ports)
    sup, _ = inventories()
    report = (await w.supplier.upload(w.relation_id, sup)).json()
    assert (await w.operator.post("/panther/v1/ledger/verification")).json()["ok"]
    with ports.db.write() as conn:
        conn.execute(
            sa.text(
                "UPDATE inventory_record SET body = replace(body, '1250', '1251') "
                "WHERE report_id = :r AND seq = 0"
            ),
            {"r": report["id"]},
        )
    try:
        result = (await w.operator.post("/panther/v1/ledger/verification")).json()
        assert result["ok"] is False
        assert result["firstFailure"]["seq"] == report["ledgerSeq"]
        assert result["firstFailure"]["kind"] == "merkle"
    finally:
        with ports.db.write() as conn:
            conn.execute(
                sa.text(
                    "UPDATE inventory_record SET body = replace(body, '1251', '1250') "
                    "WHERE report_id = :r AND seq = 0"
                ),
                {"r": report["id"]},
            )
    assert (await w.operator.post("/panther/v1/ledger/verification")).json()["ok"]


async def test_tampering_with_a_match_item_is_detected(http: Any, ports: Ports) -> None:
    w = await build_world(http, ports)
    sup, cus = inventories()
    await w.supplier.upload(w.relation_id, sup)
    run_id = (await w.customer.upload(w.relation_id, cus)).json()["matchRun"]["id"]
    run = (await w.supplier.get(f"/panther/v1/matchRun/{run_id}")).json()
    with ports.db.write() as conn:
        conn.execute(
            sa.text(
                "UPDATE match_item SET body = replace(body, '\"partial\"', "
                "'\"matched\"') WHERE run_id = :r"
            ),
            {"r": run_id},
        )
    try:
        result = (await w.operator.post("/panther/v1/ledger/verification")).json()
        assert not result["ok"] and result["firstFailure"]["seq"] == run["ledgerSeq"]
    finally:
        with ports.db.write() as conn:
            conn.execute(sa.text("DELETE FROM match_item WHERE run_id = :r"), {"r": "x"})
    # leave the database verifiable for the other tests: restore by recomputing from the run
    with ports.db.write() as conn:
        conn.execute(
            sa.text(
                "UPDATE match_item SET body = replace(body, '\"matched\"', "
                "'\"partial\"') WHERE run_id = :r AND class = 'partial'"
            ),
            {"r": run_id},
        )
    assert (await w.operator.post("/panther/v1/ledger/verification")).json()["ok"]


@pytest.mark.parametrize("party_field", ["supplier", "customer"])
async def test_relation_with_unknown_party_is_refused(world: World, party_field: str) -> None:
    body = {
        "supplier": world.supplier.party_id,
        "customer": world.customer.party_id,
        party_field: "nobody-here",
    }
    r = await world.operator.post("/panther/v1/relation", body)
    assert r.status_code == 422
    assert r.json()["details"][0]["pointer"] == f"/{party_field}"


async def test_token_with_wrong_secret_is_refused(http: Any, world: World) -> None:
    r = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "operator-x", "client_secret": "no"},
    )
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    r = await http.get("/panther/v1/relation", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401 and r.json()["@type"] == "Error"


async def test_carrier_cannot_register_parties(world: World) -> None:
    r = await world.supplier.post("/panther/v1/party", {"name": "x"})
    assert r.status_code == 403


async def test_extract_cache_is_used_and_a_broken_one_is_ignored(http: Any, ports: Ports) -> None:
    folder = ports.extract_cache.folder if ports.extract_cache else None
    assert folder is not None
    runs = {}
    for corrupt in (False, True):
        w = await build_world(http, ports)
        sup, cus = inventories()
        report = (await w.supplier.upload(w.relation_id, sup)).json()
        cached = list(folder.glob(f"{report['contentHash']}-supplier-*.parquet"))
        assert len(cached) == 1, "the upload did not cache its extract"
        if corrupt:
            cached[0].write_bytes(b"not parquet")
        run = (await w.customer.upload(w.relation_id, cus)).json()["matchRun"]
        items = (await w.customer.get(f"/panther/v1/matchRun/{run['id']}/item")).json()
        runs[corrupt] = [
            (i["class"], i["reason"], i["supplierRefs"], i["customerRefs"]) for i in items
        ]
    assert runs[True] == runs[False]
