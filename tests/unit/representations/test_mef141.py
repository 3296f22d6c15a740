"""MEF 141 representations: an agreed statement and its lines as CustomerBill and
CustomerBillItem JSON (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from panther.server.representations import mef141
from panther.server.services.statements import line_rows
from panther.settlement import (
    BillingPeriod,
    BillingStatement,
    Credit,
    HeldOutItem,
    PeriodKind,
    ServiceCharge,
    Terms,
    build_statement,
)

BASE = "https://panther.example"
MEF = f"{BASE}/mefApi/sonata/customerBillManagement/v2"


def _statement() -> BillingStatement:
    return build_statement(
        relation_id="rel-x",
        supplier="sup",
        customer="cus",
        terms=Terms(tax_rate=Decimal("0.19")),
        period=BillingPeriod(PeriodKind.MONTH, date(2026, 11, 1)),
        services=[ServiceCharge("CID-1", Decimal(1000), "EUR", date(2024, 1, 1))],
        held_out=[
            HeldOutItem("CID-2", "disputed", Decimal(400), "EUR"),
            HeldOutItem("CID-3", "differences", Decimal(70), "EUR"),
        ],
        credits=[Credit("TT-1", Decimal(100), "EUR", "CID-1")],
    )


def _row(statement: BillingStatement, state: str = "sent") -> dict[str, Any]:
    return {
        "id": "CB-rel-x-2026-11-v1",
        "relation_id": "rel-x",
        "state": state,
        "statement": statement.canonical_json.decode(),
        "updated_at": "2026-12-02T00:00:00Z",
    }


def test_tmf_states_shown_as_a_mef_state() -> None:
    assert mef141.tmf_states("paymentDue") == ["sent", "partiallyPaid"]
    assert mef141.tmf_states(None) == ["validated", "sent", "partiallyPaid", "settled"]
    assert mef141.tmf_states("unknown") == []


def test_bill_items_are_billed_lines_and_disputed_held_out_items_only() -> None:
    statement = _statement()
    lines = line_rows(_row(statement), statement)
    assert [mef141.is_item(ln) for ln in lines] == [True, True, True, False]


def test_a_bill_of_a_sent_statement() -> None:
    statement = _statement()
    row = _row(statement)
    bill = mef141.bill_view(BASE, row, line_rows(row, statement), None)
    assert bill["href"] == f"{MEF}/customerBill/CB-rel-x-2026-11-v1"
    assert bill["state"] == "paymentDue" and bill["billCycle"] == "2026-11"
    assert len(bill["customerBillItem"]) == 3  # the `differences` item is no bill item
    assert bill["credits"] == {"unit": "EUR", "value": 100.0}
    assert bill["amountDue"] == bill["remainingAmount"] == {"unit": "EUR", "value": 1071.0}
    assert bill["relatedContactInformation"][0]["name"] == "sup"  # no name known: the id
    assert bill["relatedContactInformation"][0]["emailAddress"] == mef141.NOT_HELD
    assert bill["billDocument"]["url"].endswith(
        "/tmf-api/customerBillManagement/v4/customerBill/CB-rel-x-2026-11-v1/billDocument"
    )
    settled = mef141.bill_view(BASE, _row(statement, "settled"), [], "Supplier Ltd")
    assert settled["state"] == "settled" and settled["customerBillItem"] == []
    assert settled["remainingAmount"] == {"unit": "EUR", "value": 0.0}
    assert settled["relatedContactInformation"][0]["organization"] == "Supplier Ltd"


def test_items_of_a_recurring_line_a_credit_and_a_disputed_item() -> None:
    statement = _statement()
    recurring, credit, disputed, _ = line_rows(_row(statement), statement)
    record = {
        "name": "Fibre 1G",
        "productOrderItem": [{"productOrderId": "PO-9", "orderItemId": "1"}],
    }
    item = mef141.item_view(BASE, recurring, statement, "sent", record)
    assert item["state"] == "paymentDue" and item["unit"] == "month"
    assert item["unitQuantity"] == 1.0 and item["unitRate"] == {"unit": "EUR", "value": 1000.0}
    assert item["productName"] == "Fibre 1G"
    assert item["productOrderItem"] == {"productOrderId": "PO-9", "productOrderItemId": "1"}
    assert item["product"]["href"] == f"{BASE}/mefApi/sonata/productInventory/v7/product/CID-1"

    under_dispute = mef141.item_view(BASE, recurring, statement, "sent", None, True)
    assert under_dispute["state"] == "disputeBeingInvestigated"
    assert under_dispute["productName"] == "CID-1"
    assert under_dispute["productOrderItem"]["productOrderId"] == mef141.NOT_HELD

    item = mef141.item_view(BASE, credit, statement, "sent", None)
    assert item["state"] == "credit" and item["customerBillItemType"] == "recurring"
    assert item["taxExcludedAmount"] == {"unit": "EUR", "value": -100.0}

    item = mef141.item_view(BASE, disputed, statement, "sent", None)
    assert item["state"] == "disputeBeingInvestigated" and item["appliedTax"] == []
    assert item["taxExcludedAmount"] == {"unit": "EUR", "value": 400.0}


def test_list_item_and_event_of_a_bill() -> None:
    row = _row(_statement(), "validated")
    assert mef141.list_item(row) == {
        "id": "CB-rel-x-2026-11-v1",
        "billNo": "rel-x-2026-11-v1",
        "category": "normal",
        "state": "generated",
        "billingAccount": {"id": "rel-x"},
        "billingPeriod": {
            "startDateTime": "2026-11-01T00:00:00Z",
            "endDateTime": "2026-12-01T00:00:00Z",
        },
    }
    event = mef141.bill_event(BASE, row, {"supplier_id": "sup", "customer_id": "cus"})
    assert event == {
        "id": "CB-rel-x-2026-11-v1",
        "href": f"{MEF}/customerBill/CB-rel-x-2026-11-v1",
        "buyerId": "cus",
        "sellerId": "sup",
    }
