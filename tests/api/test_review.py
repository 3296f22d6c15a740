"""Review of partial and mismatch items by both carriers, through the API and onto the ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import sqlalchemy as sa

from conformance.official import validate_response_against_document
from panther.ledger.canonical import canonical_json
from panther.ledger.merkle import merkle_root
from panther.server.app import OPENAPI_DIR

from .world import TODAY, Actor, World, product

DOC = OPENAPI_DIR / "panther-v1.yaml"
CBM = "/tmf-api/customerBillManagement/v4"
NOVEMBER = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}


def inventories() -> tuple[list[Any], list[Any]]:
    """CID-1 matched; CID-2 partial (price 1300 vs 1250); CID-3 missing at the customer;
    CID-4 partial (bandwidth 10 vs 1 Gbps)."""
    supplier = [
        product("CID-000001", order="PO-1"),
        product("CID-000002", order="PO-2", mrc=1300.0),
        product("CID-000003", order="PO-3", site_a="MAD2"),
        product("CID-000004", order="PO-4"),
    ]
    customer = [
        product("VF-1", external="CID-000001", order="PO-1"),
        product("VF-2", external="CID-000002", order="PO-2"),
        product("VF-4", external="CID-000004", order="PO-4", bandwidth="1 Gbps"),
    ]
    return supplier, customer


async def _run(world: World, supplier: list[Any], customer: list[Any]) -> dict[str, Any]:
    for actor, records in ((world.supplier, supplier), (world.customer, customer)):
        r = await actor.upload(world.relation_id, records, as_of=TODAY)
        assert r.status_code in (200, 201), r.text
    r = await world.supplier.post(
        "/panther/v1/matchRun", {"relationId": world.relation_id, "asOf": TODAY}
    )
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


async def _items(actor: Actor, run_id: str) -> dict[str, dict[str, Any]]:
    """Items by the first supplier product id (or customer id for missingAtSupplier)."""
    r = await actor.get(f"/panther/v1/matchRun/{run_id}/item", limit=1000)
    out = {}
    for item in r.json():
        detail = (await actor.get(f"/panther/v1/matchRun/{run_id}/item/{item['itemNo']}")).json()
        records = detail["supplierRecords"] or detail["customerRecords"]
        out[records[0]["id"]] = detail
    return out


async def _act(
    actor: Actor, run_id: str, item_no: int, body: dict[str, Any], if_match: str | None = None
) -> httpx.Response:
    headers = {"If-Match": if_match} if if_match is not None else {}
    return await actor.post(
        f"/panther/v1/matchRun/{run_id}/item/{item_no}/reviewAction", body, headers=headers
    )


async def _entries(actor: Actor, kind: str) -> list[dict[str, Any]]:
    r = await actor.get("/panther/v1/ledger/entry", type=kind, limit=1000)
    assert r.status_code == 200, r.text
    return list(r.json())


def _ok(r: httpx.Response, operation: str, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    validate_response_against_document(DOC, operation, status, r.json())
    return dict(r.json())


async def test_accept_value_then_agree_puts_both_signatures_on_the_ledger(world: World) -> None:
    run = await _run(world, *inventories())
    assert run["review"] == {"items": 3, "open": 3, "proposed": 0, "agreed": 0, "disputed": 0}
    items = await _items(world.customer, run["id"])
    partial = items["CID-000002"]
    assert partial["class"] == "partial" and partial["review"]["state"] == "open"
    no = partial["itemNo"]
    r = await world.customer.get(f"/panther/v1/matchRun/{run['id']}/item/{no}")
    assert r.headers["ETag"] == '"0"'

    # The customer accepts the supplier's price: a proposal, signed by the customer.
    r = await _act(world.customer, run["id"], no, {"action": "acceptValue", "note": "ok"}, '"0"')
    review = _ok(r, "createReviewAction")
    assert r.headers["ETag"] == '"1"'
    assert review["state"] == "proposed"
    proposal = review["proposal"]
    assert proposal["by"] == world.customer.party_id and proposal["side"] == "customer"
    assert proposal["resolution"] == {
        "outcome": "supplierValueStands",
        "fieldValue": [
            {
                "field": "recurringCharge",
                "valueFrom": "supplier",
                "value": {"unit": "EUR", "value": 1300},
            },
        ],
        "description": "ok",
    }
    (taken,) = [
        e
        for e in await _entries(world.supplier, "ReviewActionTaken")
        if e["payload"].get("proposalId") == proposal["id"]
    ]
    assert taken["signers"] == [world.customer.address]
    leaf = canonical_json({"itemNo": no, "resolution": proposal["resolution"]})
    assert taken["merkleRoot"] == merkle_root([leaf]).hex()

    # The supplier sees it at once, side by side with both records.
    seen = (await world.supplier.get(f"/panther/v1/matchRun/{run['id']}/item/{no}")).json()
    assert seen["review"]["proposal"]["id"] == proposal["id"]
    assert [a["action"] for a in seen["review"]["actions"]] == ["acceptValue"]
    assert seen["review"]["actions"][0]["note"] == "ok"
    assert seen["supplierRecords"][0]["id"] == "CID-000002"
    assert seen["customerRecords"][0]["id"] == "VF-2"

    # The proposer cannot agree with itself; the supplier agrees: ReviewAgreed, both signed.
    r = await _act(world.customer, run["id"], no, {"action": "agree"})
    assert r.status_code == 409, r.text
    r = await _act(world.supplier, run["id"], no, {"action": "agree", "proposalId": proposal["id"]})
    review = _ok(r, "createReviewAction")
    assert review["state"] == "agreed" and review["resolution"] == proposal["resolution"]
    (agreed,) = [
        e
        for e in await _entries(world.customer, "ReviewAgreed")
        if e["payload"]["proposalId"] == proposal["id"]
    ]
    assert agreed["seq"] == review["agreedSeq"]
    assert agreed["signers"] == [world.supplier.address, world.customer.address]
    assert agreed["merkleRoot"] == taken["merkleRoot"]

    r = await world.customer.get(f"/panther/v1/matchRun/{run['id']}")
    assert r.json()["review"] == {
        "items": 3,
        "open": 2,
        "proposed": 0,
        "agreed": 1,
        "disputed": 0,
    }
    # Acting on an agreed item is refused and changes nothing.
    r = await _act(world.supplier, run["id"], no, {"action": "markExpected"})
    assert r.status_code == 409 and r.json()["code"]
    after = (await world.supplier.get(f"/panther/v1/matchRun/{run['id']}/item/{no}")).json()
    assert after["review"]["state"] == "agreed" and after["review"]["revision"] == 2


async def test_decline_comment_and_refusals(world: World) -> None:
    run = await _run(world, *inventories())
    items = await _items(world.supplier, run["id"])
    no = items["CID-000004"]["itemNo"]
    matched = items["CID-000001"]["itemNo"]

    r = await _act(world.supplier, run["id"], matched, {"action": "comment", "note": "x"})
    assert r.status_code == 409 and "nothing to review" in r.json()["reason"] + r.json().get(
        "message", ""
    )
    r = await _act(world.outsider, run["id"], no, {"action": "comment", "note": "x"})
    assert r.status_code == 404
    r = await _act(world.supplier, run["id"], no, {"action": "acceptValue", "fields": ["status"]})
    assert r.status_code == 422 and r.json()["details"][0]["pointer"] == "/fields/0"
    r = await _act(world.supplier, run["id"], no, {"action": "comment"})
    assert r.status_code == 422
    r = await _act(world.supplier, run["id"], no, {"action": "agree"})
    assert r.status_code == 409

    r = await _act(world.supplier, run["id"], no, {"action": "comment", "note": "checking"})
    review = _ok(r, "createReviewAction")
    assert review["state"] == "open" and review["actions"][0]["note"] == "checking"
    # The supplier accepts the customer's bandwidth; the customer declines (a proposal it
    # did not expect); the item is open again and the history keeps everything.
    r = await _act(world.supplier, run["id"], no, {"action": "acceptValue"})
    proposal = _ok(r, "createReviewAction")["proposal"]
    assert proposal["resolution"]["outcome"] == "customerValueStands"
    assert proposal["resolution"]["fieldValue"][0]["valueFrom"] == "customer"
    # The customer's own proposal would collide with the supplier's: 409.
    r = await _act(world.customer, run["id"], no, {"action": "markExpected"})
    assert r.status_code == 409
    r = await _act(world.customer, run["id"], no, {"action": "agree", "proposalId": "RP-other"})
    assert r.status_code == 409
    r = await _act(world.customer, run["id"], no, {"action": "decline", "note": "wrong"})
    review = _ok(r, "createReviewAction")
    assert review["state"] == "open" and review["proposal"] is None
    assert [a["action"] for a in review["actions"]] == ["comment", "acceptValue", "decline"]
    assert [a["party"] for a in review["actions"]] == [
        world.supplier.party_id,
        world.supplier.party_id,
        world.customer.party_id,
    ]
    # Every action is a ledger transaction signed by the carrier that took it.
    taken = [
        e
        for e in await _entries(world.supplier, "ReviewActionTaken")
        if e["payload"]["runId"] == run["id"]
    ]
    assert [e["payload"]["action"] for e in taken] == ["comment", "acceptValue", "decline"]
    assert [e["signers"] for e in taken] == [
        [world.supplier.address],
        [world.supplier.address],
        [world.customer.address],
    ]


async def test_stale_etag_is_412_and_simultaneous_actions_one_wins(world: World) -> None:
    run = await _run(world, *inventories())
    items = await _items(world.supplier, run["id"])
    no = items["CID-000002"]["itemNo"]
    r = await _act(world.supplier, run["id"], no, {"action": "comment", "note": "first"}, '"0"')
    assert r.status_code == 201
    before = len(await _entries(world.supplier, "ReviewActionTaken"))
    r = await _act(world.customer, run["id"], no, {"action": "acceptValue"}, '"0"')
    assert r.status_code == 412 and r.json()["code"]
    assert len(await _entries(world.supplier, "ReviewActionTaken")) == before

    # Both carriers propose at once on the same version: one wins, the other is refused.
    a, b = await asyncio.gather(
        _act(world.supplier, run["id"], no, {"action": "acceptValue"}, '"1"'),
        _act(world.customer, run["id"], no, {"action": "acceptValue"}, '"1"'),
    )
    assert sorted([a.status_code, b.status_code]) in ([201, 409], [201, 412]), (a.text, b.text)
    winner = a if a.status_code == 201 else b
    review = (await world.supplier.get(f"/panther/v1/matchRun/{run['id']}/item/{no}")).json()
    assert review["review"]["proposal"]["id"] == winner.json()["proposal"]["id"]
    assert review["review"]["revision"] == 2
    assert len(await _entries(world.supplier, "ReviewActionTaken")) == before + 1


async def test_bulk_accept_small_price_differences_as_one_transaction(world: World) -> None:
    supplier, customer = [], []
    for n in range(12):
        # Items 0-7 differ in price by 0.5 %, 8-9 by 5 %, 10-11 in bandwidth only.
        price = 1000.0 * (1.005 if n < 8 else 1.05 if n < 10 else 1.0)
        supplier.append(product(f"CID-{n:06d}", order=f"PO-{n}", mrc=price))
        customer.append(
            product(
                f"VF-{n}",
                external=f"CID-{n:06d}",
                order=f"PO-{n}",
                mrc=1000.0,
                bandwidth="1 Gbps" if n >= 10 else "10 Gbps",
            )
        )
    run = await _run(world, supplier, customer)
    assert run["counts"]["partial"] == 12
    body = {
        "action": "acceptValue",
        "filter": {
            "class": "partial",
            "onlyField": "recurringCharge",
            "maxRelativeDifference": 0.01,
        },
    }
    r = await world.customer.post(f"/panther/v1/matchRun/{run['id']}/reviewAction", body)
    result = _ok(r, "createBulkReviewAction")
    assert result["itemCount"] == 8
    assert result["review"]["proposed"] == 8 and result["review"]["open"] == 4
    (entry,) = [
        e
        for e in await _entries(world.supplier, "ReviewActionTaken")
        if e["payload"].get("proposalId") == result["proposalId"]
    ]
    assert entry["merkleRoot"] == result["itemsRoot"] and entry["payload"]["itemCount"] == 8
    assert entry["payload"]["filter"]["maxRelativeDifference"] == 0.01
    # The root covers exactly the eight items and their resolutions.
    items = await _items(world.supplier, run["id"])
    leaves = sorted(
        (d["itemNo"], d["review"]["proposal"]["resolution"])
        for d in items.values()
        if d["review"]["state"] == "proposed"
    )
    assert len(leaves) == 8
    assert (
        merkle_root([canonical_json({"itemNo": n, "resolution": res}) for n, res in leaves]).hex()
        == result["itemsRoot"]
    )
    # The same bulk again selects nothing open: 409, nothing changes.
    r = await world.customer.post(f"/panther/v1/matchRun/{run['id']}/reviewAction", body)
    assert r.status_code == 409
    # The supplier agrees in bulk: one ReviewAgreed over the same root, both signatures.
    r = await world.supplier.post(
        f"/panther/v1/matchRun/{run['id']}/reviewAction",
        {"action": "agree", "filter": {"class": "partial"}},
    )
    result2 = _ok(r, "createBulkReviewAction")
    assert result2["itemCount"] == 8 and result2["review"]["agreed"] == 8
    (agreed,) = [
        e
        for e in await _entries(world.customer, "ReviewAgreed")
        if e["payload"]["proposalId"] == result["proposalId"]
    ]
    assert agreed["merkleRoot"] == result["itemsRoot"]
    assert agreed["signers"] == [world.supplier.address, world.customer.address]
    # maxRelativeDifference needs onlyField.
    r = await world.customer.post(
        f"/panther/v1/matchRun/{run['id']}/reviewAction",
        {"action": "markExpected", "filter": {"maxRelativeDifference": 0.5}},
    )
    assert r.status_code == 422


async def test_correct_own_record_rematches_and_agreements_carry_over(world: World) -> None:
    run = await _run(world, *inventories())
    items = await _items(world.supplier, run["id"])
    bw = items["CID-000004"]["itemNo"]
    price = items["CID-000002"]["itemNo"]
    # Agree on the price item first.
    r = await _act(world.supplier, run["id"], price, {"action": "acceptValue"})
    assert r.status_code == 201
    r = await _act(world.customer, run["id"], price, {"action": "agree"})
    assert r.json()["state"] == "agreed"

    # The customer corrects its bandwidth: a new report version and a re-match.
    patch = {"productCharacteristic": product("VF-4")["productCharacteristic"]}
    r = await _act(world.customer, run["id"], bw, {"action": "correct", "record": patch})
    review = _ok(r, "createReviewAction")
    new_run = review["correctedIn"]
    assert new_run != run["id"]
    assert review["actions"][-1]["action"] == "correct"
    assert review["actions"][-1]["newRun"] == new_run
    r = await world.supplier.get(f"/panther/v1/matchRun/{new_run}")
    fresh = r.json()
    assert fresh["counts"]["partial"] == 1 and fresh["counts"]["matched"] == 2
    # The price agreement carried over to the new run, where the item is unchanged.
    assert fresh["review"]["agreed"] == 1 and fresh["review"]["open"] == 1
    new_items = await _items(world.supplier, new_run)
    carried = new_items["CID-000002"]["review"]
    assert carried["state"] == "agreed" and carried["carriedFrom"] == run["id"]
    assert new_items["CID-000004"]["class"] == "matched"
    # Correcting someone else's product id is refused.
    r = await _act(
        world.supplier,
        new_run,
        new_items["CID-000003"]["itemNo"],
        {"action": "correct", "record": {"id": "OTHER"}},
    )
    assert r.status_code == 422


async def test_agreed_items_are_billed_at_the_value_that_stands(world: World) -> None:
    supplier, customer = inventories()
    # A one-time installation charge in November, one in October (not this period).
    supplier[0]["productPrice"] += [
        {
            "priceType": "oneTime",
            "name": "installation",
            "validFor": {"startDateTime": "2026-11-05T00:00:00Z"},
            "price": {"dutyFreeAmount": {"unit": "EUR", "value": 300.0}},
        },
        {
            "priceType": "oneTime",
            "name": "survey",
            "validFor": {"startDateTime": "2026-10-05T00:00:00Z"},
            "price": {"dutyFreeAmount": {"unit": "EUR", "value": 99.0}},
        },
    ]
    run = await _run(world, supplier, customer)
    items = await _items(world.supplier, run["id"])
    # The supplier accepts the customer's price (1250 instead of 1300); the customer marks
    # CID-000003 (missing on its side) as expected: both agreed by the other side.
    r = await _act(
        world.supplier, run["id"], items["CID-000002"]["itemNo"], {"action": "acceptValue"}
    )
    assert r.status_code == 201
    r = await _act(world.customer, run["id"], items["CID-000002"]["itemNo"], {"action": "agree"})
    assert r.json()["state"] == "agreed"
    no3 = items["CID-000003"]["itemNo"]
    r = await _act(world.customer, run["id"], no3, {"action": "markExpected", "note": "ceasing"})
    assert r.json()["proposal"]["resolution"]["outcome"] == "expectedDifference"
    r = await _act(world.supplier, run["id"], no3, {"action": "agree"})
    assert r.json()["state"] == "agreed"
    for actor in (world.supplier, world.customer):
        r = await actor.post(f"/panther/v1/matchRun/{run['id']}/endorsement", {})
        assert r.status_code == 200
    r = await world.supplier.post(
        f"{CBM}/customerBillOnDemand",
        {"billingAccount": {"id": world.relation_id}, "billingPeriod": NOVEMBER},
    )
    assert r.status_code == 201, r.text
    bill_id = r.json()["customerBill"]["id"]
    r = await world.customer.get(f"{CBM}/appliedCustomerBillingRate", **{"bill.id": bill_id})
    rates = r.json()
    billed = sorted(
        (x["product"]["id"], x["type"], x["taxExcludedAmount"]["value"])
        for x in rates
        if x["isBilled"]
    )
    assert billed == [
        ("CID-000001", "oneTimeCharge", 300.0),
        ("CID-000001", "recurringCharge", 1250.0),
        ("CID-000002", "recurringCharge", 1250.0),  # the customer's value stands
        ("CID-000003", "recurringCharge", 1250.0),  # agreed as expected
    ]
    held = [
        (x["product"]["id"], x["taxExcludedAmount"]["value"]) for x in rates if not x["isBilled"]
    ]
    assert held == [("CID-000004", 1250.0)]  # still open: differences
    bill = (await world.customer.get(f"{CBM}/customerBill/{bill_id}")).json()
    assert bill["taxExcludedAmount"]["value"] == 4050.0


async def test_verification_recomputes_agreed_reviews_and_statements(
    world: World, ports: Any
) -> None:
    run = await _run(world, *inventories())
    items = await _items(world.supplier, run["id"])
    no = items["CID-000002"]["itemNo"]
    assert (await _act(world.supplier, run["id"], no, {"action": "acceptValue"})).status_code == 201
    assert (await _act(world.customer, run["id"], no, {"action": "agree"})).status_code == 201
    for actor in (world.supplier, world.customer):
        await actor.post(f"/panther/v1/matchRun/{run['id']}/endorsement", {})
    r = await world.supplier.post(
        f"{CBM}/customerBillOnDemand",
        {"billingAccount": {"id": world.relation_id}, "billingPeriod": NOVEMBER},
    )
    bill_id = r.json()["customerBill"]["id"]
    assert (await world.operator.post("/panther/v1/ledger/verification")).json()["ok"]

    tamperings = [
        (
            "review_item",
            "resolution",
            "run_id = :run",
            "replace(resolution, 'customer', 'supplier')",
        ),
        (
            "billing_statement",
            "statement",
            "id = :bill",
            "replace(statement, '1250.00', '1350.00')",
        ),
    ]
    params = {"run": run["id"], "bill": bill_id}
    for table, column, where, value in tamperings:
        with ports.db.write() as conn:
            saved = conn.execute(
                sa.text(f"SELECT {column} FROM {table} WHERE {where}"), params
            ).all()
            assert len(saved) == 1
            conn.execute(sa.text(f"UPDATE {table} SET {column} = {value} WHERE {where}"), params)
        result = (await world.operator.post("/panther/v1/ledger/verification")).json()
        assert result["ok"] is False, f"{table}.{column} changed and nobody noticed"
        with ports.db.write() as conn:
            conn.execute(
                sa.text(f"UPDATE {table} SET {column} = :v WHERE {where}"),
                {**params, "v": saved[0][0]},
            )
        assert (await world.operator.post("/panther/v1/ledger/verification")).json()["ok"]


async def _ticket(actor: Actor, ticket_id: str, body: dict[str, Any]) -> httpx.Response:
    return await actor.http.patch(
        f"/tmf-api/troubleTicket/v4/troubleTicket/{ticket_id}",
        json=body,
        headers={**actor.auth, "Content-Type": "application/merge-patch+json"},
    )


async def test_dispute_holds_the_item_out_until_its_credit_reaches_the_statement(
    world: World,
) -> None:
    run = await _run(world, *inventories())
    items = await _items(world.customer, run["id"])
    no = items["CID-000002"]["itemNo"]
    r = await _act(world.customer, run["id"], no, {"action": "dispute", "note": "too dear"})
    review = _ok(r, "createReviewAction")
    assert review["state"] == "disputed" and review["dispute"]["status"] == "acknowledged"
    ticket = review["dispute"]["id"]
    assert review["actions"][-1]["troubleTicket"] == ticket
    (opened,) = [
        e
        for e in await _entries(world.supplier, "DisputeOpened")
        if e["payload"]["ticketId"] == ticket
    ]
    assert opened["payload"]["relatedEntity"] == [f"{run['id']}:{no}"]
    assert review["actions"][-1]["ledgerSeq"] == opened["seq"]
    assert opened["signers"] == [world.customer.address]
    # A disputed item takes no other action, and the run counts it.
    r = await _act(world.supplier, run["id"], no, {"action": "acceptValue"})
    assert r.status_code == 409
    r = await _act(world.supplier, run["id"], no, {"action": "dispute"})
    assert r.status_code == 409
    r = await world.supplier.get(f"/panther/v1/matchRun/{run['id']}")
    assert r.json()["review"]["disputed"] == 1

    for actor in (world.supplier, world.customer):
        await actor.post(f"/panther/v1/matchRun/{run['id']}/endorsement", {})
    ask = {"billingAccount": {"id": world.relation_id}, "billingPeriod": NOVEMBER}
    r = await world.supplier.post(f"{CBM}/customerBillOnDemand", ask)
    v1 = r.json()["customerBill"]["id"]
    rates = (
        await world.customer.get(f"{CBM}/appliedCustomerBillingRate", **{"bill.id": v1})
    ).json()
    held = {
        x["product"]["id"]: {c["name"]: c["value"] for c in x["characteristic"]}["heldOutReason"]
        for x in rates
        if not x["isBilled"]
    }
    assert held["CID-000002"] == "disputed"

    # The supplier takes it up and proposes its price with a 50.00 credit; the customer closes.
    assert (await _ticket(world.supplier, ticket, {"status": "inProgress"})).status_code == 200
    r = await _ticket(
        world.supplier,
        ticket,
        {
            "status": "resolved",
            "@type": "Dispute",
            "resolution": {
                "outcome": "supplierValueStands",
                "creditAmount": {"unit": "EUR", "value": 50},
            },
        },
    )
    assert r.status_code == 200, r.text
    r = await _ticket(world.customer, ticket, {"status": "closed"})
    assert r.status_code == 200, r.text
    detail = (await world.supplier.get(f"/panther/v1/matchRun/{run['id']}/item/{no}")).json()
    assert detail["review"]["state"] == "agreed"
    assert detail["review"]["resolution"]["outcome"] == "supplierValueStands"

    # Asking again: a new version that bills the product at the supplier's price and credits 50.
    r = await world.supplier.post(f"{CBM}/customerBillOnDemand", ask)
    v2 = r.json()["customerBill"]["id"]
    assert v2 != v1
    rates = (
        await world.customer.get(f"{CBM}/appliedCustomerBillingRate", **{"bill.id": v2})
    ).json()
    billed = {
        (x["product"]["id"] if "product" in x else None, x["type"]): x
        for x in rates
        if x["isBilled"]
    }
    assert billed[("CID-000002", "recurringCharge")]["taxExcludedAmount"]["value"] == 1300.0
    credit = billed[("CID-000002", "appliedBillingCredit")]
    assert credit["taxExcludedAmount"]["value"] == -50.0
    assert {c["name"]: c["value"] for c in credit["characteristic"]}["troubleTicketId"] == ticket
    # The same request again is the same statement (the credit is not counted twice).
    r = await world.supplier.post(f"{CBM}/customerBillOnDemand", ask)
    assert r.json()["customerBill"]["id"] == v2


async def test_a_carrier_keeping_its_own_key_signs_both_halves_of_a_proposal(
    world: World, ports: Any
) -> None:
    from eth_account import Account

    run = await _run(world, *inventories())
    items = await _items(world.customer, run["id"])
    no = items["CID-000002"]["itemNo"]
    # The customer takes its key home: from now on it signs, the server only checks.
    with ports.db.write() as conn:
        sealed = conn.execute(
            sa.text("SELECT sealed_key FROM custodial_key WHERE party_id = :p"),
            {"p": world.customer.party_id},
        ).scalar_one()
        conn.execute(
            sa.text("UPDATE party SET custody = 'external' WHERE id = :p"),
            {"p": world.customer.party_id},
        )
    key = ports.keystore.unseal(sealed)

    def sign(message: str) -> str:
        digest = next(w for w in message.replace(":", " ").split() if len(w) == 64)
        return "0x" + bytes(Account.unsafe_sign_hash(bytes.fromhex(digest), key).signature).hex()

    before = len(await _entries(world.supplier, "ReviewActionTaken"))
    r = await _act(world.customer, run["id"], no, {"action": "acceptValue"})
    assert r.status_code == 400 and "digest" in r.json()["message"]
    agreement = sign(r.json()["message"])  # the ReviewAgreed half comes first
    r = await _act(
        world.customer, run["id"], no, {"action": "acceptValue", "agreementSignature": agreement}
    )
    assert r.status_code == 400 and "digest" in r.json()["message"]
    action = sign(r.json()["message"])
    # Refused requests left nothing on the ledger.
    assert len(await _entries(world.supplier, "ReviewActionTaken")) == before
    r = await _act(
        world.customer,
        run["id"],
        no,
        {"action": "acceptValue", "agreementSignature": agreement, "signature": action},
    )
    review = _ok(r, "createReviewAction")
    assert review["state"] == "proposed"
    # A signature by another key is refused (422).
    other = "0x" + bytes(Account.unsafe_sign_hash(bytes(32), Account.create().key).signature).hex()
    r = await _act(
        world.customer, run["id"], no, {"action": "comment", "note": "x", "signature": other}
    )
    assert r.status_code == 422
    r = await _act(world.supplier, run["id"], no, {"action": "agree"})
    assert r.json()["state"] == "agreed"
    (agreed,) = [
        e
        for e in await _entries(world.customer, "ReviewAgreed")
        if e["payload"]["proposalId"] == review["proposal"]["id"]
    ]
    assert agreed["signers"] == [world.supplier.address, world.customer.address]
    assert (await world.operator.post("/panther/v1/ledger/verification")).json()["ok"]
