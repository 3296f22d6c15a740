"""MEF 141 Billing Management v2: agreed statements and their lines as the buyer's
CustomerBill and CustomerBillItem (openapi/mef141-customer-bill-v2.yaml, info section, tells
where every value comes from)."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

from panther.settlement import BillingStatement, statement_from_json

from .tmf678 import TMF_BASE, at, money

__all__ = [
    "DISPUTED",
    "MEF116_PRODUCT",
    "MEF_BASE",
    "NOT_HELD",
    "STATES",
    "bill_event",
    "bill_view",
    "href",
    "is_item",
    "item_view",
    "list_item",
    "tmf_states",
]

MEF_BASE = "/mefApi/sonata/customerBillManagement/v2"
MEF116_PRODUCT = "/mefApi/sonata/productInventory/v7/product"

# The placeholder for a value MEF 141 requires and Stone Panther does not hold (a contact's
# e-mail address and phone number, an order reference the seller did not report).
NOT_HELD = "n/a (not held by Stone Panther)"
DISPUTED = "disputed"  # the held-out reason of an item under an open dispute

# TMF678 state -> MEF 141 state; statements in other states are not shown.
STATES = {
    "validated": "generated",
    "sent": "paymentDue",
    "partiallyPaid": "paymentDue",
    "settled": "settled",
}


def tmf_states(mef_state: str | None) -> list[str]:
    """The TMF678 states shown as ``mef_state`` (None: every state MEF 141 shows)."""
    return [s for s, m in STATES.items() if mef_state is None or m == mef_state]


def href(base_url: str, kind: str, id_: str) -> str:
    return f"{base_url}{MEF_BASE}/{kind}/{id_}"


def is_item(line: dict[str, Any]) -> bool:
    """Billed lines and disputed held-out items; other held-out items are no bill items."""
    if line["is_billed"]:
        return True
    return bool(json.loads(line["body"]).get("reason") == DISPUTED)


def _order_item(record: dict[str, Any] | None) -> dict[str, str]:
    for item in (record or {}).get("productOrderItem") or []:
        if isinstance(item, dict) and item.get("productOrderId") and item.get("orderItemId"):
            out = {
                "productOrderId": str(item["productOrderId"]),
                "productOrderItemId": str(item["orderItemId"]),
            }
            if item.get("productOrderHref"):
                out["productOrderHref"] = str(item["productOrderHref"])
            return out
    return {"productOrderId": NOT_HELD, "productOrderItemId": NOT_HELD}


def _money_text(text: str, currency: str) -> dict[str, Any]:
    return {"unit": currency, "value": float(Decimal(text))}


def item_view(
    base_url: str,
    line: dict[str, Any],
    statement: BillingStatement,
    bill_state: str,
    record: dict[str, Any] | None,
    under_dispute: bool = False,
) -> dict[str, Any]:
    """A MEF 141 CustomerBillItem of a billed line or a disputed held-out item; a billed line
    under an open billing dispute is `disputeBeingInvestigated` until the dispute ends.
    ``record`` is the seller's record of the line's product, if any."""
    body = json.loads(line["body"])
    cur = body["currency"]
    product_id = body["product"]
    view: dict[str, Any] = {
        "id": line["id"],
        "href": href(base_url, "customerBillItem", line["id"]),
    }
    if line["is_billed"]:
        kind = body["kind"]
        if kind == "credit":
            credited = {ln.product_id for ln in statement.lines if ln.kind.value == "recurring"}
            item_type = "recurring" if product_id in credited else "nonRecurring"
            description = f"Credit from the resolved dispute {body['reference']}"
            state = "credit"
        elif kind == "recurring":
            item_type = "recurring"
            description = f"Recurring charge, {body['months']} month(s) due ({body['days']} days)"
            state = STATES[bill_state]
        else:
            item_type = "nonRecurring"
            description = f"One-time charge: {body['reference'] or 'no description'}"
            state = STATES[bill_state]
        if under_dispute:
            state = "disputeBeingInvestigated"
        rate = _money_text(body["rate"], cur)
        view.update(
            {
                "customerBillItemType": item_type,
                "description": description,
                "periodCoverage": {
                    "startDateTime": f"{body['start']}T00:00:00Z",
                    "endDateTime": f"{body['end']}T00:00:00Z",
                },
                "state": state,
                "taxExcludedAmount": _money_text(body["amount"], cur),
                "unit": "month" if kind == "recurring" else "each",
                "unitQuantity": float(Fraction(body["months"])) if kind == "recurring" else 1,
                "unitRate": rate if kind == "recurring" else _money_text(body["amount"], cur),
                "appliedTax": [
                    {
                        "category": "other",
                        "description": "VAT at the relation's tax rate",
                        "rate": float(statement.terms.tax_rate),
                        "amount": _money_text(body["tax"], cur),
                    }
                ],
            }
        )
    else:
        at_stake = _money_text(body["amountAtStake"], cur)
        view.update(
            {
                "customerBillItemType": "recurring",
                "description": f"Held out: disputed ({cur} {body['amountAtStake']} at stake)",
                "periodCoverage": {
                    "startDateTime": at(statement.period.start),
                    "endDateTime": at(statement.period.end),
                },
                "state": "disputeBeingInvestigated",
                "taxExcludedAmount": at_stake,
                "unit": "each",
                "unitQuantity": 1,
                "unitRate": at_stake,
                "appliedTax": [],
            }
        )
    view["appliedFee"] = []
    if product_id:
        view["product"] = {"id": product_id, "href": f"{base_url}{MEF116_PRODUCT}/{product_id}"}
        name = (record or {}).get("name")
        view["productName"] = str(name) if name else str(product_id)
    else:  # a credit to the relation as a whole
        view["product"] = {"id": NOT_HELD}
        view["productName"] = f"relation {statement.relation_id}"
    view["productOrderItem"] = _order_item(record)
    return view


def bill_view(
    base_url: str,
    row: dict[str, Any],
    lines: list[dict[str, Any]],
    seller_name: str | None,
) -> dict[str, Any]:
    """A MEF 141 CustomerBill of a statement the customer endorsed; ``lines`` are its stored
    lines, ``seller_name`` the supplier's name if known."""
    statement = statement_from_json(json.loads(row["statement"]))
    cur, totals = statement.currency, statement.totals
    credits = -sum(ln.amount for ln in statement.lines if ln.kind.value == "credit")
    relation_ref = {
        "id": row["relation_id"],
        "href": f"{base_url}/panther/v1/relation/{row['relation_id']}",
    }
    seller = seller_name or statement.supplier
    return {
        "id": row["id"],
        "href": href(base_url, "customerBill", row["id"]),
        "amountDue": money(totals.total, cur),
        "appliedPayment": [],
        "billingAccount": {"id": row["relation_id"]},
        "billCycle": statement.period.label,
        "billDate": at(statement.statement_date),
        "billDocument": {"url": f"{base_url}{TMF_BASE}/customerBill/{row['id']}/billDocument"},
        "billNo": row["id"].removeprefix("CB-"),
        "billingPeriod": {
            "startDateTime": at(statement.period.start),
            "endDateTime": at(statement.period.end),
        },
        "category": "normal",
        "credits": money(credits, cur),
        "customerBillItem": [
            {"id": ln["id"], "href": href(base_url, "customerBillItem", ln["id"])}
            for ln in lines
            if is_item(ln)
        ],
        "discounts": money(0, cur),
        "fees": money(0, cur),
        "financialAccount": {**relation_ref, "name": f"relation {row['relation_id']}"},
        "lastUpdate": row["updated_at"],
        "paymentDueDate": at(statement.statement_date),
        "runType": "offCycle",
        "relatedContactInformation": [
            {
                "name": seller,
                "organization": seller,
                "role": "sellerContact",
                "emailAddress": NOT_HELD,
                "number": NOT_HELD,
            }
        ],
        "remainingAmount": money(0 if row["state"] == "settled" else totals.total, cur),
        "state": STATES[row["state"]],
        "taxExcludedAmount": money(totals.amount, cur),
        "taxIncludedAmount": money(totals.total, cur),
        "taxItem": [
            {
                "taxCategory": "VAT",
                "taxRate": float(statement.terms.tax_rate),
                "taxAmount": money(totals.tax, cur),
            }
        ],
    }


def list_item(row: dict[str, Any]) -> dict[str, Any]:
    """A statement as an item of the CustomerBill list (from its stored header only)."""
    period = json.loads(row["statement"])["period"]
    return {
        "id": row["id"],
        "billNo": row["id"].removeprefix("CB-"),
        "category": "normal",
        "state": STATES[row["state"]],
        "billingAccount": {"id": row["relation_id"]},
        "billingPeriod": {
            "startDateTime": f"{period['start']}T00:00:00Z",
            "endDateTime": f"{period['end']}T00:00:00Z",
        },
    }


def bill_event(base_url: str, row: dict[str, Any], relation: dict[str, Any]) -> dict[str, Any]:
    """The `event` of a customerBillCreateEvent or customerBillStateChangeEvent."""
    return {
        "id": row["id"],
        "href": href(base_url, "customerBill", row["id"]),
        "buyerId": relation["customer_id"],
        "sellerId": relation["supplier_id"],
    }
