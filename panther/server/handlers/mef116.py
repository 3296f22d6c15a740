"""Handlers of MEF 116 Product Inventory v7: the buyer's read view of sellers' reports."""

from __future__ import annotations

from typing import Any

from connexion import request

from .. import state as st
from ..services import products_mef
from .common import listing, one

MAX_PAGE = 1000
_FILTERS = ("status", "productOfferingId", "productSpecificationId", "externalId")


def listProduct(token_info: dict[str, Any], **_: Any) -> Any:
    q = request.query_params
    filters = {name: q[name] for name in _FILTERS if name in q}
    asked = int(q.get("limit", 100))
    limit = min(asked, MAX_PAGE)  # MEF: the seller may return fewer and says so
    items, total = products_mef.list_mef_products(
        st.ports(),
        st.caller(token_info),
        buyer_id=q.get("buyerId"),
        seller_id=q.get("sellerId"),
        filters=filters,
        offset=int(q.get("offset", 0)),
        limit=limit,
    )
    body, status, headers = listing(items, total)
    throttled = asked > limit and total > int(q.get("offset", 0)) + limit
    return body, status, {**headers, "X-Pagination-Throttled": str(throttled).lower()}


def retrieveProduct(
    token_info: dict[str, Any], id_: str, buyer_id: str | None = None, seller_id: str | None = None
) -> Any:
    return one(
        products_mef.get_mef_product(
            st.ports(), st.caller(token_info), id_, buyer_id=buyer_id, seller_id=seller_id
        )
    )
