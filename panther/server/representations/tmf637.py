"""TMF637 Product Inventory v4: stored records as ``Product`` resources, the filters that
need the resource, the request bodies of a product change, and hub events.

The record to resource mapping itself is the domain's (``panther.inventory.views``); this
module adds what the API puts around it (href, relatedParty, events).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from panther.inventory.views import UnmappableStatus, tmf637_status, to_tmf637_product

from .hub import hub_event

__all__ = [
    "PATH",
    "STRING_FILTERS",
    "VIEW_FILTERS",
    "matches",
    "new_product_record",
    "partners",
    "product_event",
    "product_patch",
    "product_view",
    "related_parties",
    "statuses_shown_as",
]

PATH = "/tmf-api/productInventory/v4/product"

VIEW_FILTERS = ("status", "name", "productOffering.id")
"""The list filters that are checked on the resource (the others are stored columns)."""

STRING_FILTERS = {"name": ("name",), "productOffering.id": ("productOffering", "id")}
"""The list filters that compare a string of the record: its path in the record."""


def statuses_shown_as(
    reported: Iterable[str], status_map: Mapping[str, str], wanted: str
) -> tuple[str, ...]:
    """The reported statuses whose ``Product`` says ``wanted`` (what ``matches`` keeps for
    ``status``); one with no TMF637 equivalent shows none."""
    out = []
    for status in reported:
        try:
            if tmf637_status(status, status_map) == wanted:
                out.append(status)
        except UnmappableStatus:
            continue
    return tuple(out)


def related_parties(relation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The relation's two carriers as ``relatedParty`` entries."""
    return [
        {"id": relation["supplier_id"], "role": "supplier"},
        {"id": relation["customer_id"], "role": "customer"},
    ]


def product_view(
    record: Mapping[str, Any],
    relation: Mapping[str, Any],
    status_map: Mapping[str, str],
    *,
    base_url: str,
) -> dict[str, Any]:
    """The ``Product`` of a record reported in the relation (``status_map``: the relation's
    own status vocabulary)."""
    href = f"{base_url}{PATH}/{record['id']}"
    try:
        return to_tmf637_product(
            record, href=href, related_parties=related_parties(relation), status_map=status_map
        )
    except UnmappableStatus:  # uploads refuse such statuses; older data keeps its own word
        record = {k: v for k, v in record.items() if k != "status"}
        return to_tmf637_product(record, href=href, related_parties=related_parties(relation))


def matches(view: Mapping[str, Any], filters: Mapping[str, str]) -> bool:
    """Whether the resource passes the ``VIEW_FILTERS`` among ``filters``."""
    for name, wanted in filters.items():
        if name == "status" and view.get("status") != wanted:
            return False
        if name == "name" and view.get("name") != wanted:
            return False
        if name == "productOffering.id" and (view.get("productOffering") or {}).get("id") != wanted:
            return False
    return True


def new_product_record(body: Mapping[str, Any]) -> dict[str, Any]:
    """The record a ``POST /product`` body stores: what the server sets is left out."""
    return {k: v for k, v in body.items() if k not in ("href", "@type", "relatedParty")}


def product_patch(body: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch a ``PATCH /product/{id}`` body applies to the record."""
    return {k: v for k, v in body.items() if k not in ("href", "@type")}


def partners(body: Mapping[str, Any], party_id: str) -> list[tuple[str, str]]:
    """(partner id, lower-case role) of each ``relatedParty`` other than the caller: the
    relation a new product belongs to."""
    return [
        (p["id"], (p.get("role") or "").lower())
        for p in body.get("relatedParty") or []
        if isinstance(p, dict) and p.get("id") and p.get("id") != party_id
    ]


def product_event(
    event_id: str, event_time: str, event_type: str, product: Mapping[str, Any]
) -> dict[str, Any]:
    """A hub event about one product (``ProductCreateEvent``, ...)."""
    return hub_event(event_id, event_time, event_type, {"product": product})
