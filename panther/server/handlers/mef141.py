"""Handlers of MEF 141 Billing Management v2: the buyer's read view of agreed statements."""

from __future__ import annotations

from typing import Any

from connexion import request

from .. import state as st
from ..services import billing_mef
from .common import listing, one

MAX_PAGE = 1000
_FILTERS = (
    "billingAccount.id",
    "billingPeriod.startDateTime.lt",
    "billingPeriod.startDateTime.gt",
    "billingPeriod.endDateTime.lt",
    "billingPeriod.endDateTime.gt",
    "category",
    "state",
)


def listMEFCustomerBill(token_info: dict[str, Any], **_: Any) -> Any:
    q = request.query_params
    asked = int(q.get("limit", 100))
    limit = min(asked, MAX_PAGE)  # MEF: the seller may return fewer and says so
    offset = int(q.get("offset", 0))
    items, total = billing_mef.list_bills(
        st.ports(),
        st.caller(token_info),
        buyer_id=q.get("buyerId"),
        seller_id=q.get("sellerId"),
        filters={name: q[name] for name in _FILTERS if name in q},
        offset=offset,
        limit=limit,
    )
    body, status, headers = listing(items, total)
    throttled = asked > limit and total > offset + limit
    return body, status, {**headers, "X-Pagination-Throttled": str(throttled).lower()}


def retrieveMEFCustomerBill(
    token_info: dict[str, Any], id_: str, buyer_id: str | None = None, seller_id: str | None = None
) -> Any:
    bill = billing_mef.get_bill(
        st.ports(), st.caller(token_info), id_, buyer_id=buyer_id, seller_id=seller_id
    )
    return one([bill])  # MEF 141 2.0.0: a one-element array


def retrieveMEFCustomerBillItem(
    token_info: dict[str, Any], id_: str, buyer_id: str | None = None, seller_id: str | None = None
) -> Any:
    item = billing_mef.get_bill_item(
        st.ports(), st.caller(token_info), id_, buyer_id=buyer_id, seller_id=seller_id
    )
    return one([item])  # MEF 141 2.0.0: a one-element array


def registerMEFCustomerBillListener(
    token_info: dict[str, Any], body: dict[str, Any], **_: Any
) -> Any:
    return one(billing_mef.register_listener(st.ports(), st.caller(token_info), body), 201)


def retrieveMEFCustomerBillListener(token_info: dict[str, Any], id_: str, **_: Any) -> Any:
    return one(billing_mef.get_listener(st.ports(), st.caller(token_info), id_))


def unregisterMEFCustomerBillListener(token_info: dict[str, Any], id_: str, **_: Any) -> Any:
    billing_mef.unregister_listener(st.ports(), st.caller(token_info), id_)
    return None, 204
