"""Billing statements end to end through TMF678: from a final match run to an agreed bill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from conformance.official import (
    validate_response_against_document,
    validate_tmf678_applied_customer_billing_rate,
    validate_tmf678_customer_bill,
    validate_tmf678_customer_bill_on_demand,
    validate_tmf_error,
)
from panther.server.app import OPENAPI_DIR

from .world import TODAY, Actor, World, product

CBM = "/tmf-api/customerBillManagement/v4"
DOC = OPENAPI_DIR / "tmf678-customer-bill-v4.yaml"
NOVEMBER = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}


def _terminated(record: dict[str, Any], day: str) -> dict[str, Any]:
    return {**record, "terminationDate": day}


def inventories(partial_price: float = 1300.0) -> tuple[list[Any], list[Any]]:
    """November 2026 (30 days), as of 2026-11-01:

    - CID-000001, 1250.00 a month all month: 1250.00
    - CID-000007, 900.00 from 15 November (16 of 30 days): 900 x 16/30 = 480.00
    - CID-000008, 600.00 from 10 to 20 November (10 days, the 20th excluded): 200.00
    - CID-000002, the supplier says 1300.00, the customer 1250.00: held out (differences)
    - CID-000003, only the supplier has it: held out (missingAtCustomer), 1250.00
    """
    supplier = [
        product("CID-000001", order="PO-1"),
        product("CID-000002", order="PO-2", mrc=partial_price),
        product("CID-000003", order="PO-3", site_a="MAD2"),
        product("CID-000007", order="PO-7", mrc=900.0, start="2026-11-15"),
        _terminated(
            product("CID-000008", order="PO-8", mrc=600.0, start="2026-11-10"), "2026-11-20"
        ),
    ]
    customer = [
        product("VF-1", external="cid 1", order="PO-1"),
        product("VF-2", external="CID_000002", order="PO-2"),
        product("VF-7", external="CID-000007", order="PO-7", mrc=900.0, start="2026-11-15"),
        _terminated(
            product("VF-8", external="CID-000008", order="PO-8", mrc=600.0, start="2026-11-10"),
            "2026-11-20",
        ),
    ]
    return supplier, customer


async def _final_run(world: World, supplier: list[Any], customer: list[Any]) -> str:
    r = await world.supplier.upload(world.relation_id, supplier, as_of=TODAY)
    assert r.status_code in (200, 201), r.text
    r = await world.customer.upload(world.relation_id, customer, as_of=TODAY)
    assert r.status_code in (200, 201), r.text
    r = await world.supplier.post(
        "/panther/v1/matchRun", {"relationId": world.relation_id, "asOf": TODAY}
    )
    assert r.status_code in (200, 201), r.text
    run_id = str(r.json()["id"])
    for actor in (world.supplier, world.customer):
        r = await actor.post(f"/panther/v1/matchRun/{run_id}/endorsement", {})
        assert r.status_code == 200, r.text
    assert r.json()["state"] == "final"
    return run_id


async def _ask(actor: Actor, world: World, period: dict[str, str] = NOVEMBER) -> httpx.Response:
    return await actor.post(
        f"{CBM}/customerBillOnDemand",
        {
            "@type": "BillingStatementOnDemand",
            "name": "November statement",
            "billingAccount": {"id": world.relation_id},
            "billingPeriod": period,
        },
    )


async def _patch(
    actor: Actor, bill_id: str, body: dict[str, Any], if_match: str | None = None
) -> httpx.Response:
    headers = {**actor.auth, "Content-Type": "application/merge-patch+json"}
    if if_match is not None:
        headers["If-Match"] = if_match
    return await actor.http.patch(f"{CBM}/customerBill/{bill_id}", json=body, headers=headers)


def _bill_ok(body: dict[str, Any], status: int, operation: str = "retrieveCustomerBill") -> None:
    validate_tmf678_customer_bill(body)
    validate_response_against_document(DOC, operation, status, body)


def _error_ok(r: httpx.Response, operation: str) -> None:
    validate_tmf_error(r.json())
    validate_response_against_document(DOC, operation, r.status_code, r.json())


def _at(resource: dict[str, Any], dotted: str) -> Any:
    for name in dotted.split("."):
        resource = resource[name]
    return resource


async def test_statement_from_a_final_run(world: World, official_schemas: Path) -> None:
    await _final_run(world, *inventories())
    r = await _ask(world.supplier, world)
    assert r.status_code == 201, r.text
    request = r.json()
    validate_tmf678_customer_bill_on_demand(request)
    validate_response_against_document(DOC, "createCustomerBillOnDemand", 201, request)
    assert request["state"] == "done" and request["billingPeriod"] == NOVEMBER
    bill_id = request["customerBill"]["id"]
    assert bill_id == f"CB-{world.relation_id}-2026-11-v1"

    r = await world.customer.get(f"{CBM}/customerBill/{bill_id}")
    assert r.status_code == 200 and r.headers["ETag"]
    bill = r.json()
    _bill_ok(bill, 200)
    assert bill["state"] == "new" and bill["statementVersion"] == 1
    assert bill["taxExcludedAmount"] == {"unit": "EUR", "value": 1930.0}  # 1250 + 480 + 200
    assert bill["taxIncludedAmount"]["value"] == 1930.0  # the default terms have no tax
    assert bill["heldOutAmount"] == {"unit": "EUR", "value": 2550.0}  # 1300 + 1250
    assert bill["billingPeriod"] == NOVEMBER
    assert {p["role"]: p["id"] for p in bill["relatedParty"]} == {
        "supplier": world.supplier.party_id,
        "customer": world.customer.party_id,
    }

    r = await world.customer.get(f"{CBM}/appliedCustomerBillingRate", **{"bill.id": bill_id})
    assert r.headers["X-Total-Count"] == "5"
    rates = r.json()
    for rate in rates:
        validate_tmf678_applied_customer_billing_rate(rate)
    validate_response_against_document(DOC, "listAppliedCustomerBillingRate", 200, rates)
    billed = {x["product"]["id"]: x for x in rates if x["isBilled"]}
    assert {k: v["taxExcludedAmount"]["value"] for k, v in billed.items()} == {
        "CID-000001": 1250.0,
        "CID-000007": 480.0,
        "CID-000008": 200.0,
    }
    chars = {c["name"]: c["value"] for c in billed["CID-000007"]["characteristic"]}
    assert chars["activeDays"] == 16 and chars["monthsDue"] == "8/15"
    assert billed["CID-000008"]["periodCoverage"] == {
        "startDateTime": "2026-11-10T00:00:00Z",
        "endDateTime": "2026-11-20T00:00:00Z",
    }
    held = {
        x["product"]["id"]: (
            x["taxExcludedAmount"]["value"],
            {c["name"]: c["value"] for c in x["characteristic"]}["heldOutReason"],
        )
        for x in rates
        if not x["isBilled"]
    }
    assert held == {
        "CID-000002": (1300.0, "differences"),
        "CID-000003": (1250.0, "missingAtCustomer"),
    }
    line = await world.supplier.get(f"{CBM}/appliedCustomerBillingRate/{rates[0]['id']}")
    assert line.status_code == 200 and line.json() == rates[0]

    # StatementIssued: supplier-signed, committing to the hash and the lines' root.
    r = await world.customer.get("/panther/v1/ledger/entry", type="StatementIssued", limit=1000)
    (issued,) = [e for e in r.json() if e["payload"]["statementId"] == bill_id]
    assert issued["signers"] == [world.supplier.address]
    assert issued["payload"]["statementHash"] == bill["statementHash"]
    assert issued["merkleRoot"] == bill["linesRoot"]
    assert issued["payload"]["totals"]["total"] == "1930.00"

    # Asking again changes nothing: the same statement.
    again = await _ask(world.supplier, world)
    assert again.status_code == 201 and again.json()["customerBill"]["id"] == bill_id
    r = await world.customer.get(f"{CBM}/customerBill/{bill_id}")
    assert r.json()["statementHash"] == bill["statementHash"]
    assert (
        r.headers["ETag"]
        == (await world.supplier.get(f"{CBM}/customerBill/{bill_id}")).headers["ETag"]
    )

    # The lists: filters, fields, counts.
    r = await world.customer.get(
        f"{CBM}/customerBill", **{"billingAccount.id": world.relation_id}, fields="state"
    )
    assert r.headers["X-Total-Count"] == "1"
    assert r.json() == [
        {"id": bill_id, "href": bill["href"], "@type": "BillingStatement", "state": "new"}
    ]
    r = await world.customer.get(f"{CBM}/customerBill", state="validated")
    assert [b["id"] for b in r.json() if b["id"] == bill_id] == []
    # Paged in the database (column filters only) or after the view filters (category is
    # one: every bill is "normal"): the same bills, order and totals, whatever the window.
    r = await world.operator.get(f"{CBM}/customerBill", category="normal", limit=1000)
    assert r.status_code == 200, r.text
    every = r.json()
    assert r.headers["X-Total-Count"] == str(len(every))
    for query in ({}, {"state": "new"}, {"billingAccount.id": world.relation_id}):
        wanted = [b["id"] for b in every if all(_at(b, k) == v for k, v in query.items())]
        assert bill_id in wanted
        for offset, limit in ((0, 1), (1, 2), (len(wanted) - 1, 5), (len(wanted), 5)):
            r = await world.operator.get(f"{CBM}/customerBill", **query, offset=offset, limit=limit)
            assert [b["id"] for b in r.json()] == wanted[offset : offset + limit]
            assert r.headers["X-Total-Count"] == str(len(wanted))
    r = await world.supplier.get(
        f"{CBM}/customerBillOnDemand", **{"billingAccount.id": world.relation_id}
    )
    assert r.headers["X-Total-Count"] == "2"
    for item in r.json():
        validate_tmf678_customer_bill_on_demand(item)
    r = await world.customer.get(f"{CBM}/customerBillOnDemand/{request['id']}")
    assert r.status_code == 200 and r.json() == request

    # The invoice, a draft until agreed.
    r = await world.customer.get(f"{CBM}/customerBill/{bill_id}/billDocument")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


async def test_who_may_ask_and_see(world: World, official_schemas: Path) -> None:
    r = await _ask(world.supplier, world)
    assert r.status_code == 409  # no final run yet
    _error_ok(r, "createCustomerBillOnDemand")
    await _final_run(world, *inventories())
    r = await _ask(world.customer, world)
    assert r.status_code == 403
    r = await _ask(world.outsider, world)
    assert r.status_code == 422  # a body reference to a relation it cannot see
    _error_ok(r, "createCustomerBillOnDemand")
    r = await _ask(world.supplier, world, {**NOVEMBER, "startDateTime": "2026-11-02T00:00:00Z"})
    assert r.status_code == 422
    _error_ok(r, "createCustomerBillOnDemand")
    bill_id = (await _ask(world.supplier, world)).json()["customerBill"]["id"]
    for path in (f"customerBill/{bill_id}", f"customerBill/{bill_id}/billDocument"):
        r = await world.outsider.get(f"{CBM}/{path}")
        assert r.status_code == 404
    r = await world.outsider.get(f"{CBM}/customerBill")
    assert [b for b in r.json() if b["id"] == bill_id] == []
    r = await _patch(world.outsider, bill_id, {"state": "validated"})
    assert r.status_code == 404
    _error_ok(r, "patchCustomerBill")


async def test_correction_agreement_and_lifecycle(world: World, official_schemas: Path) -> None:
    await _final_run(world, *inventories())
    v1 = (await _ask(world.supplier, world)).json()["customerBill"]["id"]

    # A late correction: the supplier fixes its price of CID-000002, both endorse the new run.
    await _final_run(world, *inventories(partial_price=1250.0))
    r = await _ask(world.supplier, world)
    v2 = r.json()["customerBill"]["id"]
    assert v2 == f"CB-{world.relation_id}-2026-11-v2"
    bill = (await world.customer.get(f"{CBM}/customerBill/{v2}")).json()
    assert bill["statementVersion"] == 2 and bill["supersedes"]["id"] == v1
    assert bill["taxExcludedAmount"]["value"] == 3180.0  # 1930 + CID-000002 now matched
    assert bill["heldOutAmount"]["value"] == 1250.0
    old = await world.customer.get(f"{CBM}/customerBill/{v1}")
    assert old.json()["supersededBy"]["id"] == v2
    _bill_ok(old.json(), 200)

    # Endorsing the outdated version: 409.
    r = await _patch(world.customer, v1, {"state": "validated"})
    assert r.status_code == 409 and v2 in r.json()["message"]
    _error_ok(r, "patchCustomerBill")

    # Only the state can be patched: anything else is 400 and nothing changes.
    r = await world.customer.get(f"{CBM}/customerBill/{v2}")
    tag = r.headers["ETag"]
    r = await _patch(world.customer, v2, {"state": "validated", "billNo": "X"}, tag)
    assert r.status_code == 400
    r = await _patch(world.customer, v2, {"amountDue": {"unit": "EUR", "value": 1}}, tag)
    assert r.status_code == 400
    r = await world.customer.get(f"{CBM}/customerBill/{v2}")
    assert r.json()["state"] == "new" and r.headers["ETag"] == tag

    # A stale If-Match: 412, nothing changes.
    r = await _patch(world.customer, v2, {"state": "onHold"}, '"stale"')
    assert r.status_code == 412
    _error_ok(r, "patchCustomerBill")

    # The supplier cannot endorse its own statement; nobody may skip the table.
    r = await _patch(world.supplier, v2, {"state": "validated"}, tag)
    assert r.status_code == 403
    r = await _patch(world.customer, v2, {"state": "settled"}, tag)
    assert r.status_code == 409

    # Hold and release, then endorse: StatementAgreed with both signatures.
    r = await _patch(world.customer, v2, {"state": "onHold"}, tag)
    assert r.status_code == 200 and r.json()["state"] == "onHold"
    _bill_ok(r.json(), 200, "patchCustomerBill")
    assert r.headers["ETag"] != tag
    r = await _patch(world.customer, v2, {"state": "new"}, r.headers["ETag"])
    assert r.status_code == 200
    r = await _patch(world.customer, v2, {"state": "validated"}, r.headers["ETag"])
    assert r.status_code == 200 and r.json()["state"] == "validated"
    _bill_ok(r.json(), 200, "patchCustomerBill")

    r = await world.supplier.get("/panther/v1/ledger/entry", type="StatementAgreed", limit=1000)
    (agreed,) = [e for e in r.json() if e["payload"]["statementId"] == v2]
    assert agreed["signers"] == [world.supplier.address, world.customer.address]
    assert agreed["payload"]["statementHash"] == bill["statementHash"]
    assert agreed["merkleRoot"] == bill["linesRoot"]

    # After the agreement: the customer cannot send, the supplier can; a correction is refused.
    r = await _patch(world.customer, v2, {"state": "sent"})
    assert r.status_code == 403
    r = await _patch(world.supplier, v2, {"state": "sent"})
    assert r.status_code == 200 and r.json()["state"] == "sent"
    r = await _patch(world.supplier, v2, {"state": "settled"})
    assert r.status_code == 200 and r.json()["remainingAmount"]["value"] == 0
    await _final_run(world, *inventories(partial_price=1200.0))
    r = await _ask(world.supplier, world)
    assert r.status_code == 409

    r = await world.customer.get(f"{CBM}/customerBill/{v2}/billDocument")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")

    r = await world.operator.post("/panther/v1/ledger/verification")
    assert r.json()["ok"] is True, r.json()


async def test_listener_gets_bill_events(world: World) -> None:
    r = await world.customer.post(
        f"{CBM}/hub",
        {"callback": "https://customer.example/cb", "query": "eventType=customerBillCreateEvent"},
    )
    assert r.status_code == 201, r.text
    listener = r.json()["id"]
    r = await world.supplier.http.delete(f"{CBM}/hub/{listener}", headers=world.supplier.auth)
    assert r.status_code == 404  # not the supplier's listener
    r = await world.customer.http.delete(f"{CBM}/hub/{listener}", headers=world.customer.auth)
    assert r.status_code == 204
