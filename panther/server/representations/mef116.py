"""MEF 116 Product Inventory v7: a seller's stored records as the buyer reads them
(``MEFProduct`` and its list item), and the list filters that need the resource.

The record to resource mapping itself is the domain's (``panther.inventory.views``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from panther.inventory.views import (
    UnmappableStatus,
    mef116_status,
    to_mef116_product,
    to_mef116_product_list_item,
)

__all__ = ["PATH", "STRING_FILTERS", "listed_statuses", "matches", "product_view"]

PATH = "/mefApi/sonata/productInventory/v7/product"


STRING_FILTERS = {
    "productOfferingId": ("productOffering", "id"),
    "productSpecificationId": ("productSpecification", "id"),
}
"""The list filters that compare a string of the record: its path in the record."""


def listed_statuses(
    reported: Iterable[str], status_map: Mapping[str, str], wanted: str | None
) -> tuple[str, ...] | None:
    """The reported statuses a list shows: those MEF can say (``product_view`` is None for
    the others) and, with a ``status`` filter, that say ``wanted``; None when that is all."""
    reported = list(reported)
    out = []
    for status in reported:
        try:
            said = mef116_status(status, status_map)
        except UnmappableStatus:
            continue
        if wanted is None or said == wanted:
            out.append(status)
    return None if len(out) == len(reported) else tuple(out)


def product_view(
    record: Mapping[str, Any],
    relation: Mapping[str, Any],
    report: Mapping[str, Any],
    status_map: Mapping[str, str],
    *,
    base_url: str,
    full: bool,
) -> dict[str, Any] | None:
    """The ``MEFProduct`` (``full``) or its list item for a record of the seller's report in
    the relation; None when MEF cannot say it (its status, or no start date for ``full``)."""
    href = f"{base_url}{PATH}/{record['id']}"
    convert = to_mef116_product if full else to_mef116_product_list_item
    try:
        return convert(
            record,
            href=href,
            buyer_id=relation["customer_id"],
            seller_id=relation["supplier_id"],
            last_update_date=report["created_at"],
            status_map=status_map,
        )
    except ValueError:  # a status MEF cannot say, or no start date: not a MEF product
        return None


def matches(view: Mapping[str, Any], filters: Mapping[str, str]) -> bool:
    """Whether the list item passes the ``status``, ``productOfferingId`` and
    ``productSpecificationId`` filters among ``filters``."""
    if "status" in filters and view.get("status") != filters["status"]:
        return False
    if (
        "productOfferingId" in filters
        and (view.get("productOffering") or {}).get("id") != filters["productOfferingId"]
    ):
        return False
    return not (
        "productSpecificationId" in filters
        and (view.get("productSpecification") or {}).get("id") != filters["productSpecificationId"]
    )
