"""MEF 141 Billing Management v2: the buyer's read view of the agreed billing statements, and
its hub.

The statements and their lines are those of TMF678 (`statements`, `bills`); this module only
reads them (`representations.mef141` says them in MEF 141 terms). A statement is visible here
once the customer endorsed it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from panther.settlement import statement_from_json

from ..representations import mef141
from ..representations.hub import listener_view
from . import hub
from .billing_events import MEF141_API, wanted_types
from .bills import bill_for, days_starting_after, days_starting_before, viewer
from .context import Caller
from .disputes import OPEN_STATUSES
from .errors import Forbidden, InvalidInput, NotFound
from .ports import Ports, Row, UnitOfWork
from .ports.billing import Days

__all__ = [
    "get_bill",
    "get_bill_item",
    "get_listener",
    "list_bills",
    "register_listener",
    "unregister_listener",
]


# ---- bills ----------------------------------------------------------------------------------


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


def _period_days(filters: dict[str, str]) -> tuple[Days, Days] | None:
    """The first days (``starts``) and the days after the last (``ends``) of the periods the
    billingPeriod bounds keep; None when no period is kept. A bad bound is 400."""
    kept = {"startDateTime": Days(), "endDateTime": Days()}
    never = False
    for name, wanted in filters.items():
        if not name.startswith("billingPeriod."):
            continue
        _, edge, op = name.split(".")
        bound = _instant(wanted, name)
        days = days_starting_before(bound) if op == "lt" else days_starting_after(bound)
        if days is None:
            never = True
        else:
            kept[edge] = kept[edge] & days
    return None if never else (kept["startDateTime"], kept["endDateTime"])


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
    if filters.get("category", "normal") != "normal":
        return [], 0
    periods = _period_days(filters)
    if periods is None:
        return [], 0
    with ports.uow.read() as uow:
        rows, total = uow.billing.list_statements(
            viewer(caller),
            states=mef141.tmf_states(filters.get("state")),
            relation_id=filters.get("billingAccount.id"),
            supplier_id=seller_id or None,
            customer_id=buyer_id or None,
            starts=periods[0],
            ends=periods[1],
            offset=offset,
            limit=limit,
        )
    return [mef141.list_item(r) for r in rows], total


def _bill_row(
    uow: UnitOfWork,
    caller: Caller,
    bill_id: str,
    buyer_id: str | None,
    seller_id: str | None,
) -> tuple[Row, Row]:
    row, relation = bill_for(uow, caller, bill_id)
    if (
        row["state"] not in mef141.STATES
        or (buyer_id and relation["customer_id"] != buyer_id)
        or (seller_id and relation["supplier_id"] != seller_id)
    ):
        raise NotFound(f"no customerBill {bill_id}")
    return row, relation


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
        lines = uow.billing.lines(bill_id)
        seller = uow.parties.get(relation["supplier_id"])
    return mef141.bill_view(
        ports.settings.public_base_url, row, lines, seller["name"] if seller else None
    )


def get_bill_item(
    ports: Ports,
    caller: Caller,
    item_id: str,
    *,
    buyer_id: str | None = None,
    seller_id: str | None = None,
) -> dict[str, Any]:
    with ports.uow.read() as uow:
        line = uow.billing.line(item_id)
        if line is None or not mef141.is_item(line):
            raise NotFound(f"no customerBillItem {item_id}")
        try:
            row, _ = _bill_row(uow, caller, line["bill_id"], buyer_id, seller_id)
        except NotFound:
            raise NotFound(f"no customerBillItem {item_id}") from None
        product_id = json.loads(line["body"]).get("product")
        records = uow.billing.seller_records(row["run_id"], [product_id] if product_id else [])
        under_dispute = uow.billing.line_disputed(item_id, OPEN_STATUSES)
    statement = statement_from_json(json.loads(row["statement"]))
    return mef141.item_view(
        ports.settings.public_base_url,
        line,
        statement,
        row["state"],
        records.get(product_id) if product_id else None,
        under_dispute,
    )


# ---- hub ------------------------------------------------------------------------------------


def register_listener(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    query = body.get("query")
    wanted_types(None if query is None else str(query))
    # 400 and 403: the MEF document declares no 422 and no 409 for the hub.
    return listener_view(
        hub.add_listener(ports, caller, MEF141_API, body, invalid_status=400, too_many=Forbidden)
    )


def get_listener(ports: Ports, caller: Caller, listener_id: str) -> dict[str, Any]:
    return listener_view(hub.find_listener(ports, caller, MEF141_API, listener_id))


def unregister_listener(ports: Ports, caller: Caller, listener_id: str) -> None:
    hub.remove_listener(ports, caller, MEF141_API, listener_id)
