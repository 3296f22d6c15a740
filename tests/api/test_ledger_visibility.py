"""Who sees which ledger entries, and who verifies the ledger: a carrier sees the entries of
its own relations and its own registration (no other carrier's name or address), filtered and
paged in the database; the whole-ledger verification is the operator's background job."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sqlalchemy as sa

from panther.server.services.ports import Ports

from .test_spine import inventories
from .world import Actor, World, client_with, operator_actor


async def _all(actor: Actor, **params: Any) -> tuple[list[dict[str, Any]], int]:
    r = await actor.get("/panther/v1/ledger/entry", limit=1000, **params)
    assert r.status_code == 200, r.text
    return r.json(), int(r.headers["X-Total-Count"])


async def _everything(operator: Actor) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        r = await operator.get("/panther/v1/ledger/entry", offset=len(out), limit=1000)
        page = r.json()
        out += page
        if len(out) >= int(r.headers["X-Total-Count"]):
            return out


def _seen_by(entries: list[dict[str, Any]], party: str) -> list[int]:
    """The seqs a carrier may see, by the rule, from every entry."""
    mine = {
        e["relation"]
        for e in entries
        if e["type"] == "RelationAgreed"
        and party in (e["payload"]["supplier"], e["payload"]["customer"])
    }
    return [
        e["seq"]
        for e in entries
        if e["relation"] in mine or (e["relation"] is None and e["payload"]["partyId"] == party)
    ]


async def test_a_carrier_sees_its_relations_and_itself_the_operator_everything(
    world: World, ports: Ports
) -> None:
    w = world
    sup, cus = inventories()
    await w.supplier.upload(w.relation_id, sup)
    await w.customer.upload(w.relation_id, cus)
    everything = await _everything(w.operator)
    head = ports.ledger.head()
    assert head is not None and [e["seq"] for e in everything] == list(range(head.seq + 1))

    for actor in (w.supplier, w.customer, w.outsider):
        seen, total = await _all(actor)
        expected = _seen_by(everything, actor.party_id)
        assert [e["seq"] for e in seen] == expected and total == len(expected)
        registered = [e for e in seen if e["type"] == "PartyRegistered"]
        assert [e["payload"]["partyId"] for e in registered] == [actor.party_id]
    # The outsider sees its own registration and nothing of the relation.
    seen, total = await _all(w.outsider)
    assert total == 1 and seen[0]["payload"]["address"] == w.outsider.address
    supplier_seen, _ = await _all(w.supplier)
    assert {e["relation"] for e in supplier_seen} == {None, w.relation_id}
    assert w.customer.address not in {e["payload"].get("address") for e in supplier_seen}

    # By type, and a page at a time: the same entries in the same order.
    reports, total = await _all(w.supplier, type="InventoryReported")
    assert total == 2 and {e["payload"]["reporter"] for e in reports} == {
        w.supplier.party_id,
        w.customer.party_id,
    }
    pages: list[dict[str, Any]] = []
    for offset in range(0, len(supplier_seen) + 2, 2):
        r = await w.supplier.get("/panther/v1/ledger/entry", offset=offset, limit=2)
        assert int(r.headers["X-Total-Count"]) == len(supplier_seen)
        pages += r.json()
    assert pages == supplier_seen
    r = await w.operator.get("/panther/v1/ledger/entry", offset=head.seq, limit=5)
    assert [e["seq"] for e in r.json()] == [head.seq]
    assert int(r.headers["X-Total-Count"]) == head.seq + 1


async def test_an_entry_a_carrier_may_not_see_is_as_missing_as_one_that_is_not_there(
    world: World, ports: Ports
) -> None:
    w = world
    everything = await _everything(w.operator)
    theirs = next(
        e
        for e in everything
        if e["type"] == "PartyRegistered" and e["payload"]["partyId"] == w.customer.party_id
    )
    agreed = next(
        e for e in everything if e["type"] == "RelationAgreed" and e["relation"] == w.relation_id
    )
    missing = everything[-1]["seq"] + 1000
    r_missing = await w.outsider.get(f"/panther/v1/ledger/entry/{missing}")
    for seq in (theirs["seq"], agreed["seq"]):
        r = await w.outsider.get(f"/panther/v1/ledger/entry/{seq}")
        assert r.status_code == r_missing.status_code == 404
        assert r.json() == {
            **r_missing.json(),
            "message": r_missing.json()["message"].replace(str(missing), str(seq)),
        }
    r = await w.supplier.get(f"/panther/v1/ledger/entry/{theirs['seq']}")
    assert r.status_code == 404
    r = await w.customer.get(f"/panther/v1/ledger/entry/{theirs['seq']}")
    assert r.status_code == 200 and r.json() == theirs
    r = await w.supplier.get(f"/panther/v1/ledger/entry/{agreed['seq']}")
    assert r.status_code == 200 and r.json() == agreed
    assert (await w.operator.get(f"/panther/v1/ledger/entry/{theirs['seq']}")).json() == theirs


async def test_entries_not_noted_in_the_database_are_caught_up_from_the_ledger(
    world: World, ports: Ports
) -> None:
    w = world
    before, total = await _all(w.supplier)
    engine: sa.Engine = ports.db.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        # As on the EVM ledger when the database rolled back after the entry was mined, or
        # a database migrated before the table existed: some entries are not noted.
        conn.execute(
            sa.text("DELETE FROM ledger_visibility WHERE seq IN (:a, :b)"),
            {
                "a": before[0]["seq"],
                "b": before[-1]["seq"],
            },
        )
    after, total_after = await _all(w.supplier)
    assert after == before and total_after == total
    r = await w.supplier.get(f"/panther/v1/ledger/entry/{before[0]['seq']}")
    assert r.status_code == 200


async def test_verification_is_the_operators_background_job(world: World, ports: Ports) -> None:
    w = world
    for carrier in (w.supplier, w.outsider):
        r = await carrier.post("/panther/v1/ledger/verification")
        assert r.status_code == 403 and r.json()["@type"] == "Error"
        assert "operator" in r.json()["message"]
    r = await w.operator.post("/panther/v1/ledger/verification")
    assert r.status_code == 200, r.text
    done = r.json()
    head = ports.ledger.head()
    assert head is not None
    assert done["state"] == "done" and done["ok"] is True
    assert done["entriesChecked"] >= head.seq + 1 and done["finishedAt"]
    r = await w.operator.get(f"/panther/v1/ledger/verification/{done['id']}")
    assert r.status_code == 200 and r.json() == done
    r = await w.supplier.get(f"/panther/v1/ledger/verification/{done['id']}")
    assert r.status_code == 403
    r = await w.operator.get("/panther/v1/ledger/verification/nope")
    assert r.status_code == 404 and r.json()["@type"] == "Error"

    # A request that may not wait gets the running job to poll; a second one joins it.
    async with client_with(ports, verification_wait_seconds=0) as http:
        operator = await operator_actor(http, ports)
        first, second = await asyncio.gather(
            operator.post("/panther/v1/ledger/verification"),
            operator.post("/panther/v1/ledger/verification"),
        )
        assert first.status_code == 202, first.text
        job = first.json()
        assert job["state"] == "running" and job["ok"] is None
        assert (
            first.headers["Location"]
            == job["href"]
            == f"/panther/v1/ledger/verification/{job['id']}"
        )
        if second.status_code == 202:
            assert second.json()["id"] == job["id"]
        deadline = time.monotonic() + 300  # the session's whole ledger, on a busy machine
        while True:
            r = await operator.get(job["href"])
            if r.json()["state"] != "running" or time.monotonic() > deadline:
                break
            assert r.status_code == 202 and r.headers["Location"] == job["href"]
            await asyncio.sleep(0.1)
        assert r.status_code == 200 and r.json()["state"] == "done" and r.json()["ok"] is True
        assert r.json()["entriesChecked"] >= head.seq + 1
