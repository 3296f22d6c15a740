"""MEF 141 Billing Management v2: the buyer's read view of the agreed billing statements.

The statements and their lines are those of `billing` (TMF678); this module only reads them
and says them in MEF 141 terms (openapi/mef141-customer-bill-v2.yaml, info section, tells where
every value comes from). A statement is visible here once the customer endorsed it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import orjson
import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.settlement import BillingStatement, statement_from_json

from . import hub
from .billing import TMF_BASE, _at, _bill_for, _money, _visible
from .context import Caller, now_iso
from .disputes import OPEN_STATUSES
from .errors import InvalidInput, NotFound
from .ports import Ports, UnitOfWork

__all__ = [
    "MEF_BASE",
    "NOT_HELD",
    "bill_view",
    "get_bill",
    "get_bill_item",
    "get_listener",
    "item_view",
    "list_bills",
    "publish_state_change",
    "register_listener",
    "unregister_listener",
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


def _tmf_states(mef_state: str | None) -> list[str]:
    return [s for s, m in STATES.items() if mef_state is None or m == mef_state]


def _href(ports: Ports, kind: str, id_: str) -> str:
    return f"{ports.settings.public_base_url}{MEF_BASE}/{kind}/{id_}"


def _scope(caller: Caller, buyer_id: str | None, seller_id: str | None) -> list[Any]:
    """Visible relations (the caller's, as buyer or seller), narrowed by buyerId/sellerId."""
    rel = repo.T.relation
    where = [*_visible(caller)]
    if buyer_id:
        where.append(rel.c.customer_id == buyer_id)
    if seller_id:
        where.append(rel.c.supplier_id == seller_id)
    return where


# ---- items ----------------------------------------------------------------------------------


def _is_item(line: dict[str, Any]) -> bool:
    """Billed lines and disputed held-out items; other held-out items are no bill items."""
    if line["is_billed"]:
        return True
    return bool(json.loads(line["body"]).get("reason") == DISPUTED)


def _records(
    uow: UnitOfWork, run_id: str | None, product_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The seller's records (as reported in the statement's run) of these products."""
    wanted = {p for p in product_ids if p}
    if run_id is None or not wanted:
        return {}
    run = repo.get_row(uow.conn, repo.T.run, id=run_id)
    if run is None:
        return {}
    rec = repo.T.record
    rows = uow.conn.execute(
        sa.select(rec.c.product_id, rec.c.body)
        .where(rec.c.report_id == run["supplier_report_id"], rec.c.product_id.in_(wanted))
        .order_by(rec.c.seq)
    )
    out: dict[str, dict[str, Any]] = {}
    for product_id, body in rows:
        out.setdefault(product_id, orjson.loads(body))
    return out


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
    ports: Ports,
    line: dict[str, Any],
    statement: BillingStatement,
    bill_state: str,
    record: dict[str, Any] | None,
    under_dispute: bool = False,
) -> dict[str, Any]:
    """A MEF 141 CustomerBillItem of a billed line or a disputed held-out item; a billed line
    under an open billing dispute is `disputeBeingInvestigated` until the dispute ends."""
    body = json.loads(line["body"])
    cur = body["currency"]
    product_id = body["product"]
    view: dict[str, Any] = {"id": line["id"], "href": _href(ports, "customerBillItem", line["id"])}
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
                    "startDateTime": _at(statement.period.start),
                    "endDateTime": _at(statement.period.end),
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
        view["product"] = {
            "id": product_id,
            "href": f"{ports.settings.public_base_url}{MEF116_PRODUCT}/{product_id}",
        }
        name = (record or {}).get("name")
        view["productName"] = str(name) if name else str(product_id)
    else:  # a credit to the relation as a whole
        view["product"] = {"id": NOT_HELD}
        view["productName"] = f"relation {statement.relation_id}"
    view["productOrderItem"] = _order_item(record)
    return view


# ---- bills ----------------------------------------------------------------------------------


def bill_view(
    ports: Ports,
    row: dict[str, Any],
    lines: list[dict[str, Any]],
    seller_name: str | None,
) -> dict[str, Any]:
    """A MEF 141 CustomerBill of a statement the customer endorsed."""
    base = ports.settings.public_base_url
    statement = statement_from_json(json.loads(row["statement"]))
    cur, totals = statement.currency, statement.totals
    credits = -sum(ln.amount for ln in statement.lines if ln.kind.value == "credit")
    relation_ref = {
        "id": row["relation_id"],
        "href": f"{base}/panther/v1/relation/{row['relation_id']}",
    }
    seller = seller_name or statement.supplier
    return {
        "id": row["id"],
        "href": _href(ports, "customerBill", row["id"]),
        "amountDue": _money(totals.total, cur),
        "appliedPayment": [],
        "billingAccount": {"id": row["relation_id"]},
        "billCycle": statement.period.label,
        "billDate": _at(statement.statement_date),
        "billDocument": {"url": f"{base}{TMF_BASE}/customerBill/{row['id']}/billDocument"},
        "billNo": row["id"].removeprefix("CB-"),
        "billingPeriod": {
            "startDateTime": _at(statement.period.start),
            "endDateTime": _at(statement.period.end),
        },
        "category": "normal",
        "credits": _money(credits, cur),
        "customerBillItem": [
            {"id": ln["id"], "href": _href(ports, "customerBillItem", ln["id"])}
            for ln in lines
            if _is_item(ln)
        ],
        "discounts": _money(0, cur),
        "fees": _money(0, cur),
        "financialAccount": {**relation_ref, "name": f"relation {row['relation_id']}"},
        "lastUpdate": row["updated_at"],
        "paymentDueDate": _at(statement.statement_date),
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
        "remainingAmount": _money(0 if row["state"] == "settled" else totals.total, cur),
        "state": STATES[row["state"]],
        "taxExcludedAmount": _money(totals.amount, cur),
        "taxIncludedAmount": _money(totals.total, cur),
        "taxItem": [
            {
                "taxCategory": "VAT",
                "taxRate": float(statement.terms.tax_rate),
                "taxAmount": _money(totals.tax, cur),
            }
        ],
    }


def _list_item(row: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(row["statement"])
    period = doc["period"]
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


def _instant(text: str, name: str = "") -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:  # connexion does not check query formats
        raise InvalidInput(
            f"{name} must be a date-time with its offset",
            status_code=400,
            details=[{"pointer": name, "message": "not a date-time"}],
        )
    return value


def _period_ok(item: dict[str, Any], filters: dict[str, str]) -> bool:
    for name, wanted in filters.items():
        if not name.startswith("billingPeriod."):
            continue
        _, edge, op = name.split(".")
        value, bound = _instant(item["billingPeriod"][edge]), _instant(wanted, name)
        if (op == "lt" and not value < bound) or (op == "gt" and not value > bound):
            return False
    return True


def list_bills(
    ports: Ports,
    caller: Caller,
    *,
    buyer_id: str | None,
    seller_id: str | None,
    filters: dict[str, str],
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    st, rel = repo.T.statement, repo.T.relation
    if filters.get("category", "normal") != "normal":
        return [], 0
    q = (
        sa.select(st)
        .join(rel, rel.c.id == st.c.relation_id)
        .where(*_scope(caller, buyer_id, seller_id))
        .where(st.c.state.in_(_tmf_states(filters.get("state"))))
    )
    if "billingAccount.id" in filters:
        q = q.where(st.c.relation_id == filters["billingAccount.id"])
    with ports.uow.read() as uow:
        rows = [dict(r) for r in uow.conn.execute(q.order_by(st.c.created_at, st.c.id)).mappings()]
    for name, wanted in filters.items():
        if name.startswith("billingPeriod."):
            _instant(wanted, name)  # a bad bound is 400 even when no bill is listed
    items = [i for i in map(_list_item, rows) if _period_ok(i, filters)]
    return items[offset : offset + limit], len(items)


def _bill_row(
    uow: UnitOfWork,
    caller: Caller,
    bill_id: str,
    buyer_id: str | None,
    seller_id: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    row, relation = _bill_for(uow, caller, bill_id)
    if (
        row["state"] not in STATES
        or (buyer_id and relation["customer_id"] != buyer_id)
        or (seller_id and relation["supplier_id"] != seller_id)
    ):
        raise NotFound(f"no customerBill {bill_id}")
    return row, relation


def _lines(uow: UnitOfWork, bill_id: str) -> list[dict[str, Any]]:
    ln = repo.T.bill_line
    return [
        dict(r)
        for r in uow.conn.execute(
            sa.select(ln).where(ln.c.bill_id == bill_id).order_by(ln.c.line_no)
        ).mappings()
    ]


def get_bill(
    ports: Ports,
    caller: Caller,
    bill_id: str,
    *,
    buyer_id: str | None = None,
    seller_id: str | None = None,
) -> dict[str, Any]:
    with ports.uow.read() as uow:
        row, relation = _bill_row(uow, caller, bill_id, buyer_id, seller_id)
        lines = _lines(uow, bill_id)
        seller = repo.get_row(uow.conn, repo.T.party, id=relation["supplier_id"])
    return bill_view(ports, row, lines, seller["name"] if seller else None)


def get_bill_item(
    ports: Ports,
    caller: Caller,
    item_id: str,
    *,
    buyer_id: str | None = None,
    seller_id: str | None = None,
) -> dict[str, Any]:
    with ports.uow.read() as uow:
        line = repo.get_row(uow.conn, repo.T.bill_line, id=item_id)
        if line is None or not _is_item(line):
            raise NotFound(f"no customerBillItem {item_id}")
        try:
            row, _ = _bill_row(uow, caller, line["bill_id"], buyer_id, seller_id)
        except NotFound:
            raise NotFound(f"no customerBillItem {item_id}") from None
        body = json.loads(line["body"])
        records = _records(uow, row["run_id"], [body.get("product") or ""])
        de, tt = repo.T.dispute_entity, repo.T.ticket
        under_dispute = (
            uow.conn.execute(
                sa.select(de.c.ticket_id)
                .join(tt, tt.c.id == de.c.ticket_id)
                .where(de.c.entity_id == item_id, tt.c.status.in_(sorted(OPEN_STATUSES)))
                .limit(1)
            ).first()
            is not None
        )
    statement = statement_from_json(json.loads(row["statement"]))
    return item_view(
        ports, line, statement, row["state"], records.get(body.get("product")), under_dispute
    )


# ---- hub ------------------------------------------------------------------------------------

_API = "mefCustomerBillManagement"
NOTIFICATION_BASE = "/mefApi/sonata/customerBillNotification/v2"
EVENT_TYPES = ("customerBillCreateEvent", "customerBillStateChangeEvent")


def _wanted_types(query: str | None) -> set[str]:
    """`eventType=a,b` (spaces allowed); empty or absent: every event type."""
    text = (query or "").replace(" ", "")
    if not text:
        return set(EVENT_TYPES)
    if not text.startswith("eventType="):
        raise InvalidInput(  # 400: the MEF document declares no 422 for the hub
            "query must be eventType=<type>[,<type>...]",
            status_code=400,
            details=[{"pointer": "/query", "message": "not eventType=..."}],
        )
    types = set(text.removeprefix("eventType=").split(","))
    unknown = sorted(types - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(  # 400: the MEF document declares no 422 for the hub
            f"unknown event type {unknown[0]}",
            status_code=400,
            details=[{"pointer": "/query", "message": f"one of {', '.join(EVENT_TYPES)}"}],
        )
    return types


def register_listener(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    query = body.get("query")
    _wanted_types(None if query is None else str(query))
    # 400: the MEF document declares no 422 for the hub.
    return hub.listener_view(hub.add_listener(ports, caller, _API, body, invalid_status=400))


def get_listener(ports: Ports, caller: Caller, listener_id: str) -> dict[str, Any]:
    return hub.listener_view(hub.find_listener(ports, caller, _API, listener_id))


def unregister_listener(ports: Ports, caller: Caller, listener_id: str) -> None:
    hub.remove_listener(ports, caller, _API, listener_id)


def publish_state_change(
    ports: Ports, relation: dict[str, Any], before: str, row: dict[str, Any]
) -> None:
    """After a TMF678 state change: the bill appears to MEF (`validated`: create event) or its
    MEF state changed (state change event); listeners of the relation's two carriers only."""
    after = row["state"]
    if after not in STATES or STATES.get(before) == STATES[after]:
        return
    event_type = "customerBillStateChangeEvent" if before in STATES else "customerBillCreateEvent"
    rows = hub.listeners_of(ports, _API, [relation["supplier_id"], relation["customer_id"]])
    for listener in rows:
        try:
            if event_type not in _wanted_types(listener["query"]):
                continue
        except InvalidInput:
            continue
        ports.webhooks.publish(
            f"{listener['callback'].rstrip('/')}{NOTIFICATION_BASE}",
            event_type,
            {
                "eventId": secrets.token_hex(8),
                "eventTime": now_iso(),
                "eventType": event_type,
                "event": {
                    "id": row["id"],
                    "href": _href(ports, "customerBill", row["id"]),
                    "buyerId": relation["customer_id"],
                    "sellerId": relation["supplier_id"],
                },
            },
        )
