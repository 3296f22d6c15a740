"""MEF 141 Billing v2: the buyer's (and seller's) read view of the agreed statements."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.official import (
    validate_mef141_customer_bill,
    validate_mef141_customer_bill_item,
    validate_mef141_customer_bill_list_item,
    validate_mef141_error,
    validate_response_against_document,
)
from panther.server.app import OPENAPI_DIR
from panther.server.representations import mef141
from panther.server.services.ports import Ports
from panther.server.services.statements import line_rows
from panther.settlement import (
    BillingPeriod,
    Credit,
    HeldOutItem,
    PeriodKind,
    ServiceCharge,
    Terms,
    build_statement,
)

from .test_billing import CBM, _ask, _final_run, _patch, inventories
from .world import Actor, World

MEF = "/mefApi/sonata/customerBillManagement/v2"
DOC = OPENAPI_DIR / "mef141-customer-bill-v2.yaml"


def _bill_ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list) and len(body) == 1
    validate_mef141_customer_bill(body[0])
    validate_response_against_document(DOC, "retrieveMEFCustomerBill", 200, body)
    return dict(body[0])


def _item_ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list) and len(body) == 1
    validate_mef141_customer_bill_item(body[0])
    validate_response_against_document(DOC, "retrieveMEFCustomerBillItem", 200, body)
    return dict(body[0])


def _list_ok(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    body = r.json()
    for item in body:
        validate_mef141_customer_bill_list_item(item)
    validate_response_against_document(DOC, "listMEFCustomerBill", 200, body)
    assert r.headers["X-Result-Count"] == str(len(body))
    assert r.headers["X-Pagination-Throttled"] == "false"
    return list(body)


def _error_ok(r: httpx.Response, operation: str, status: int = 404) -> None:
    assert r.status_code == status, r.text
    validate_mef141_error(status, r.json())
    validate_response_against_document(DOC, operation, status, r.json())


async def _agreed_bill(world: World) -> str:
    """November's statement, issued by the supplier and endorsed by the customer."""
    await _final_run(world, *inventories())
    bill_id = str((await _ask(world.supplier, world)).json()["customerBill"]["id"])
    r = await _patch(world.customer, bill_id, {"state": "validated"})
    assert r.status_code == 200, r.text
    return bill_id


async def test_buyer_lists_and_retrieves_bill_and_items(
    world: World, official_schemas: Path
) -> None:
    await _final_run(world, *inventories())
    bill_id = (await _ask(world.supplier, world)).json()["customerBill"]["id"]
    # Not endorsed by the buyer yet: not a MEF bill.
    _error_ok(await world.customer.get(f"{MEF}/customerBill/{bill_id}"), "retrieveMEFCustomerBill")
    mine = {"billingAccount.id": world.relation_id}
    assert _list_ok(await world.customer.get(f"{MEF}/customerBill", **mine)) == []
    r = await _patch(world.customer, bill_id, {"state": "validated"})
    assert r.status_code == 200, r.text

    listed = _list_ok(await world.customer.get(f"{MEF}/customerBill", **mine))
    # Paged in the database, or after the billing period bounds: the same bills and totals.
    r = await world.operator.get(
        f"{MEF}/customerBill", **{"billingPeriod.startDateTime.gt": "1970-01-01T00:00:00Z"}
    )
    every = _list_ok(r)
    assert bill_id in [b["id"] for b in every] and r.headers["X-Total-Count"] == str(len(every))
    for offset, limit in ((0, 1), (1, 2), (len(every) - 1, 5), (len(every), 5)):
        r = await world.operator.get(f"{MEF}/customerBill", offset=offset, limit=limit)
        assert _list_ok(r) == every[offset : offset + limit]
        assert r.headers["X-Total-Count"] == str(len(every))
    assert listed == [
        {
            "id": bill_id,
            "billNo": bill_id.removeprefix("CB-"),
            "category": "normal",
            "state": "generated",
            "billingAccount": {"id": world.relation_id},
            "billingPeriod": {
                "startDateTime": "2026-11-01T00:00:00Z",
                "endDateTime": "2026-12-01T00:00:00Z",
            },
        }
    ]
    bill = _bill_ok(await world.customer.get(f"{MEF}/customerBill/{bill_id}"))
    tmf = (await world.customer.get(f"{CBM}/customerBill/{bill_id}")).json()
    assert bill["state"] == "generated" and bill["billCycle"] == "2026-11"
    assert bill["taxExcludedAmount"] == tmf["taxExcludedAmount"] == {"unit": "EUR", "value": 1930.0}
    assert bill["amountDue"] == tmf["amountDue"]
    assert bill["credits"] == bill["discounts"] == bill["fees"] == {"unit": "EUR", "value": 0.0}
    assert bill["financialAccount"]["id"] == bill["billingAccount"]["id"] == world.relation_id
    assert bill["billDocument"]["url"].endswith(f"{CBM}/customerBill/{bill_id}/billDocument")
    assert bill["appliedPayment"] == []
    (contact,) = bill["relatedContactInformation"]
    assert contact["role"] == "sellerContact" and contact["name"] == "dtgc"
    assert contact["emailAddress"] == contact["number"] == mef141.NOT_HELD

    # Items: the billed lines; undisputed held-out items (differences, missingAtCustomer) are not.
    rates = await world.customer.get(f"{CBM}/appliedCustomerBillingRate", **{"bill.id": bill_id})
    billed = {x["id"] for x in rates.json() if x["isBilled"]}
    held = [x["id"] for x in rates.json() if not x["isBilled"]]
    assert {i["id"] for i in bill["customerBillItem"]} == billed and len(billed) == 3
    items = {}
    for ref in bill["customerBillItem"]:
        item = _item_ok(await world.customer.get(f"{MEF}/customerBillItem/{ref['id']}"))
        assert item["href"] == ref["href"]
        items[item["product"]["id"]] = item
    assert {k: v["taxExcludedAmount"]["value"] for k, v in items.items()} == {
        "CID-000001": 1250.0,
        "CID-000007": 480.0,
        "CID-000008": 200.0,
    }
    seven = items["CID-000007"]
    assert seven["state"] == "generated" and seven["customerBillItemType"] == "recurring"
    assert seven["unit"] == "month" and seven["unitQuantity"] == pytest.approx(16 / 30)
    assert seven["unitRate"] == {"unit": "EUR", "value": 900.0}
    assert seven["productOrderItem"] == {"productOrderId": "PO-7", "productOrderItemId": "1"}
    assert seven["periodCoverage"]["startDateTime"] == "2026-11-15T00:00:00Z"
    for line_id in held:
        _error_ok(
            await world.customer.get(f"{MEF}/customerBillItem/{line_id}"),
            "retrieveMEFCustomerBillItem",
        )

    # The seller sees the same; buyerId/sellerId narrow the view.
    assert _bill_ok(await world.supplier.get(f"{MEF}/customerBill/{bill_id}")) == bill
    some = next(iter(billed))
    assert _item_ok(await world.supplier.get(f"{MEF}/customerBillItem/{some}"))["id"] == some
    both = {"buyerId": world.customer.party_id, "sellerId": world.supplier.party_id}
    _bill_ok(await world.customer.get(f"{MEF}/customerBill/{bill_id}", **both))
    assert [b["id"] for b in _list_ok(await world.supplier.get(f"{MEF}/customerBill", **both))] == [
        bill_id
    ]
    wrong = {"buyerId": world.supplier.party_id}
    _error_ok(
        await world.customer.get(f"{MEF}/customerBill/{bill_id}", **wrong),
        "retrieveMEFCustomerBill",
    )
    _error_ok(
        await world.customer.get(f"{MEF}/customerBillItem/{some}", **wrong),
        "retrieveMEFCustomerBillItem",
    )
    assert _list_ok(await world.customer.get(f"{MEF}/customerBill", **mine, **wrong)) == []

    # Filters.
    assert _list_ok(await world.customer.get(f"{MEF}/customerBill", **mine, state="settled")) == []
    assert _list_ok(await world.customer.get(f"{MEF}/customerBill", **mine, category="trial")) == []
    after = {"billingPeriod.startDateTime.gt": "2026-10-31T00:00:00Z"}
    assert len(_list_ok(await world.customer.get(f"{MEF}/customerBill", **mine, **after))) == 1
    before = {"billingPeriod.endDateTime.lt": "2026-12-01T00:00:00Z"}
    assert _list_ok(await world.customer.get(f"{MEF}/customerBill", **mine, **before)) == []

    bad = {"billingPeriod.startDateTime.gt": "yesterday"}
    _error_ok(await world.customer.get(f"{MEF}/customerBill", **bad), "listMEFCustomerBill", 400)

    # States follow TMF678: sent is paymentDue, settled is settled (items too).
    r = await _patch(world.supplier, bill_id, {"state": "sent"})
    assert r.status_code == 200, r.text
    assert _bill_ok(await world.customer.get(f"{MEF}/customerBill/{bill_id}"))["state"] == (
        "paymentDue"
    )
    assert _item_ok(await world.customer.get(f"{MEF}/customerBillItem/{some}"))["state"] == (
        "paymentDue"
    )
    r = await _patch(world.supplier, bill_id, {"state": "settled"})
    settled = _bill_ok(await world.customer.get(f"{MEF}/customerBill/{bill_id}"))
    assert settled["state"] == "settled" and settled["remainingAmount"]["value"] == 0


async def test_outsider_sees_nothing(world: World, official_schemas: Path) -> None:
    bill_id = await _agreed_bill(world)
    bill = _bill_ok(await world.customer.get(f"{MEF}/customerBill/{bill_id}"))
    item_id = bill["customerBillItem"][0]["id"]
    outsider: Actor = world.outsider
    _error_ok(await outsider.get(f"{MEF}/customerBill/{bill_id}"), "retrieveMEFCustomerBill")
    _error_ok(
        await outsider.get(f"{MEF}/customerBillItem/{item_id}"), "retrieveMEFCustomerBillItem"
    )
    listed = _list_ok(await outsider.get(f"{MEF}/customerBill"))
    assert [b for b in listed if b["id"] == bill_id] == []
    _error_ok(await world.customer.get(f"{MEF}/customerBill/CB-nothing"), "retrieveMEFCustomerBill")


async def test_hub_events(world: World, ports: Ports, official_schemas: Path) -> None:
    sent: list[tuple[str, str, dict[str, Any]]] = []
    original = ports.webhooks.publish
    ports.webhooks.publish = lambda cb, kind, event: sent.append((cb, kind, event))  # type: ignore[method-assign]
    try:
        r = await world.customer.post(f"{MEF}/hub", {"callback": "https://buyer.example/cb"})
        assert r.status_code == 201, r.text
        validate_response_against_document(DOC, "registerMEFCustomerBillListener", 201, r.json())
        listener = r.json()["id"]
        r = await world.customer.get(f"{MEF}/hub/{listener}")
        assert r.status_code == 200 and r.json() == {
            "id": listener,
            "callback": "https://buyer.example/cb",
        }
        _error_ok(
            await world.supplier.get(f"{MEF}/hub/{listener}"), "retrieveMEFCustomerBillListener"
        )
        r = await world.customer.post(f"{MEF}/hub", {"callback": "https://b.example", "query": "x"})
        _error_ok(r, "registerMEFCustomerBillListener", 400)

        bill_id = await _agreed_bill(world)
        await _patch(world.supplier, bill_id, {"state": "sent"})
        mine = [(cb, kind, e) for cb, kind, e in sent if cb.startswith("https://buyer.example")]
        assert [kind for _, kind, _ in mine] == [
            "customerBillCreateEvent",
            "customerBillStateChangeEvent",
        ]
        cb, _, event = mine[0]
        assert cb == "https://buyer.example/cb/mefApi/sonata/customerBillNotification/v2"
        assert event["event"]["id"] == bill_id
        assert event["event"]["buyerId"] == world.customer.party_id

        r = await world.customer.http.delete(f"{MEF}/hub/{listener}", headers=world.customer.auth)
        assert r.status_code == 204
        r = await world.customer.http.delete(f"{MEF}/hub/{listener}", headers=world.customer.auth)
        _error_ok(r, "unregisterMEFCustomerBillListener")
    finally:
        ports.webhooks.publish = original  # type: ignore[method-assign]


def test_disputed_and_credit_items(ports: Ports, official_schemas: Path) -> None:
    """The API issues no disputes or credits yet: the views of a statement that has them."""
    period = BillingPeriod(PeriodKind.MONTH, date(2026, 11, 1))
    statement = build_statement(
        relation_id="rel-x",
        supplier="sup",
        customer="cus",
        terms=Terms(tax_rate=Decimal("0.19")),
        period=period,
        services=[ServiceCharge("CID-1", Decimal(1000), "EUR", date(2024, 1, 1))],
        held_out=[HeldOutItem("CID-2", "disputed", Decimal(400), "EUR")],
        credits=[
            Credit("TT-1", Decimal(100), "EUR", "CID-1"),
            Credit("TT-2", Decimal(50), "EUR"),
        ],
    )
    row = {
        "id": "CB-rel-x-2026-11-v1",
        "relation_id": "rel-x",
        "state": "sent",
        "statement": statement.canonical_json.decode(),
        "updated_at": "2026-12-02T00:00:00Z",
    }
    lines = line_rows(row, statement)
    base = ports.settings.public_base_url
    bill = mef141.bill_view(base, row, lines, "Supplier")
    validate_mef141_customer_bill(bill)
    validate_response_against_document(DOC, "retrieveMEFCustomerBill", 200, [bill])
    assert bill["state"] == "paymentDue" and len(bill["customerBillItem"]) == 4
    assert bill["credits"] == {"unit": "EUR", "value": 150.0}
    assert bill["taxExcludedAmount"] == {"unit": "EUR", "value": 850.0}  # 1000 - 100 - 50
    items = [mef141.item_view(base, ln, statement, "sent", None) for ln in lines]
    for item in items:
        validate_mef141_customer_bill_item(item)
        validate_response_against_document(DOC, "retrieveMEFCustomerBillItem", 200, [item])
    by_state = {(i["state"], i["product"]["id"]): i for i in items}
    assert set(by_state) == {
        ("paymentDue", "CID-1"),
        ("credit", "CID-1"),
        ("credit", mef141.NOT_HELD),
        ("disputeBeingInvestigated", "CID-2"),
    }
    credit = by_state[("credit", "CID-1")]
    assert credit["customerBillItemType"] == "recurring"
    assert credit["taxExcludedAmount"] == {"unit": "EUR", "value": -100.0}
    assert by_state[("credit", mef141.NOT_HELD)]["customerBillItemType"] == "nonRecurring"
    disputed = by_state[("disputeBeingInvestigated", "CID-2")]
    assert disputed["taxExcludedAmount"] == {"unit": "EUR", "value": 400.0}
    assert disputed["appliedTax"] == [] and disputed["productOrderItem"]["productOrderId"] == (
        mef141.NOT_HELD
    )
    assert json.loads(lines[-1]["body"])["reason"] == "disputed"


async def test_a_billed_line_under_a_billing_dispute_is_being_investigated(
    world: World, official_schemas: Path
) -> None:
    await _final_run(world, *inventories())
    bill_id = (await _ask(world.supplier, world)).json()["customerBill"]["id"]
    assert (await _patch(world.customer, bill_id, {"state": "validated"})).status_code == 200
    rates = (
        await world.customer.get(f"{CBM}/appliedCustomerBillingRate", **{"bill.id": bill_id})
    ).json()
    line = next(x for x in rates if x["isBilled"] and x["product"]["id"] == "CID-000007")
    item = _item_ok(await world.customer.get(f"{MEF}/customerBillItem/{line['id']}"))
    assert item["state"] == "generated"
    r = await world.customer.post(
        "/tmf-api/troubleTicket/v4/troubleTicket",
        {
            "ticketType": "billingDispute",
            "description": "CID-000007 started on the 16th",
            "severity": "Minor",
            "relatedEntity": [
                {
                    "id": line["id"],
                    "role": "disputedCharge",
                    "@referredType": "AppliedCustomerBillingRate",
                },  # fmt: skip
            ],
        },
    )
    assert r.status_code == 201, r.text
    ticket = r.json()["id"]
    item = _item_ok(await world.supplier.get(f"{MEF}/customerBillItem/{line['id']}"))
    assert item["state"] == "disputeBeingInvestigated"
    # Withdrawn by the customer: the line is back to its bill's state.
    r = await world.customer.http.patch(
        f"/tmf-api/troubleTicket/v4/troubleTicket/{ticket}",
        json={"status": "cancelled", "statusChangeReason": "our mistake"},
        headers={**world.customer.auth, "Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    item = _item_ok(await world.customer.get(f"{MEF}/customerBillItem/{line['id']}"))
    assert item["state"] == "generated"
