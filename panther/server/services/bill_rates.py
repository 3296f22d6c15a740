"""A statement's lines as TMF678 appliedCustomerBillingRates: listed a page at a time, each
page decoding every statement it touches once (not once per line)."""

from __future__ import annotations

from typing import Any

from panther.inventory.views import select_fields

from ..representations import tmf678
from .bills import viewer
from .context import Caller
from .errors import NotFound
from .ports import Ports

__all__ = ["get_rate", "list_rates"]


def list_rates(
    ports: Ports,
    caller: Caller,
    *,
    filters: dict[str, str],
    fields: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    is_billed = filters["isBilled"].lower() == "true" if "isBilled" in filters else None
    with ports.uow.read() as uow:
        rows, total = uow.billing.list_lines(
            viewer(caller),
            line_id=filters.get("id"),
            bill_id=filters.get("bill.id"),
            kind=filters.get("type"),
            product_id=filters.get("product.id"),
            relation_id=filters.get("billingAccount.id"),
            is_billed=is_billed,
            offset=offset,
            limit=limit,
        )
        bills = {
            s["id"]: {
                "id": s["id"],
                "relation_id": s["relation_id"],
                "doc": tmf678.statement_header(s["statement"]),
            }
            for s in uow.billing.statement_texts({r["bill_id"] for r in rows})
        }
    base = ports.settings.public_base_url
    views = [select_fields(tmf678.rate_view(base, r, bills[r["bill_id"]]), fields) for r in rows]
    return views, total


def get_rate(
    ports: Ports, caller: Caller, rate_id: str, fields: str | None = None
) -> dict[str, Any]:
    page, total = list_rates(
        ports, caller, filters={"id": rate_id}, fields=fields, offset=0, limit=1
    )
    if not total:
        raise NotFound(f"no appliedCustomerBillingRate {rate_id}")
    return page[0]
