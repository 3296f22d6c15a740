"""Reported products through MEF 116: the buyer's read view of what its sellers reported
(the supplier side's current report of each relation)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from typing import Any

from ..representations import mef116
from .context import Caller
from .errors import NotFound
from .ports import Ports, RecordFilter, Row, UnitOfWork
from .reports import current_reports, page_records, records_of, status_counts_of
from .statuses import status_map_of

__all__ = ["get_mef_product", "list_mef_products"]

_Scope = dict[str, tuple[Row, Row, dict[str, str]]]
"""Report id to (relation, report, the relation's status vocabulary)."""


def _scope(uow: UnitOfWork, caller: Caller, buyer_id: str | None, seller_id: str | None) -> _Scope:
    out: _Scope = {}
    for relation, report in current_reports(uow, caller, side="supplier"):
        if buyer_id and relation["customer_id"] != buyer_id:
            continue
        if seller_id and relation["supplier_id"] != seller_id:
            continue
        out[report["id"]] = (relation, report, status_map_of(relation))
    return out


def list_mef_products(
    ports: Ports,
    caller: Caller,
    *,
    buyer_id: str | None,
    seller_id: str | None,
    filters: Mapping[str, str],
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    base_url = ports.settings.public_base_url
    strings = tuple(
        (path, filters[name]) for name, path in mef116.STRING_FILTERS.items() if name in filters
    )
    with ports.uow.read() as uow:
        scope = _scope(uow, caller, buyer_id, seller_id)
        parts = [
            (
                report,
                RecordFilter(
                    statuses=mef116.listed_statuses(
                        status_counts_of(uow, report), status_map, filters.get("status")
                    ),
                    external_id=filters.get("externalId"),
                    strings=strings,
                ),
            )
            for _, report, status_map in scope.values()
        ]
        found, total = page_records(uow, parts, offset, limit)
    items = []
    for report_id, record in found:
        view = mef116.product_view(record, *scope[report_id], base_url=base_url, full=False)
        assert view is not None  # the records MEF cannot say were left out in the database
        items.append(view)
    return items, total


def get_mef_product(
    ports: Ports, caller: Caller, product_id: str, *, buyer_id: str | None, seller_id: str | None
) -> dict[str, Any]:
    base_url = ports.settings.public_base_url
    with ports.uow.read() as uow:
        scope = _scope(uow, caller, buyer_id, seller_id)
        if scope:
            with closing(records_of(uow, list(scope), product_id=product_id)) as found:
                for report_id, record in found:
                    view = mef116.product_view(
                        record, *scope[report_id], base_url=base_url, full=True
                    )
                    if view is not None:
                        return view
    raise NotFound(f"no product {product_id}")
