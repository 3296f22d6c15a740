"""Reported products through TMF637 (a carrier's own current inventory) and MEF 116 (the
buyer's read view of what its sellers reported), plus TMF637 hub listeners."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import closing
from typing import Any

import orjson
import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.inventory.views import (
    UnmappableStatus,
    select_fields,
    to_mef116_product,
    to_mef116_product_list_item,
    to_tmf637_product,
)

from . import hub
from .context import Caller, now_iso
from .errors import NotFound
from .ports import Ports, UnitOfWork
from .reports import change_product, current_reports, side_of
from .statuses import status_map_of

__all__ = [
    "create_product",
    "delete_product",
    "get_mef_product",
    "get_tmf_product",
    "list_mef_products",
    "list_tmf_products",
    "patch_product",
    "register_listener",
    "unregister_listener",
]

TMF_BASE = "/tmf-api/productInventory/v4/product"
MEF_BASE = "/mefApi/sonata/productInventory/v7/product"


def _related_parties(relation: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": relation["supplier_id"], "role": "supplier"},
        {"id": relation["customer_id"], "role": "customer"},
    ]


def _tmf_view(
    ports: Ports, relation: dict[str, Any], record: dict[str, Any], smap: Mapping[str, str]
) -> dict[str, Any]:
    href = f"{ports.settings.public_base_url}{TMF_BASE}/{record['id']}"
    try:
        return to_tmf637_product(
            record, href=href, related_parties=_related_parties(relation), status_map=smap
        )
    except UnmappableStatus:  # uploads refuse such statuses; older data keeps its own word
        record = {k: v for k, v in record.items() if k != "status"}
        return to_tmf637_product(record, href=href, related_parties=_related_parties(relation))


_SQL_FILTERS = {"id": "product_id", "externalId": "external_id"}


def _record_filter(report_ids: list[str], sql_filters: dict[str, str]) -> list[Any]:
    rec = repo.T.record
    where = [rec.c.report_id.in_(report_ids)]
    where += [rec.c[_SQL_FILTERS[name]] == value for name, value in sql_filters.items()]
    return where


def _records(
    uow: UnitOfWork,
    report_ids: list[str],
    sql_filters: dict[str, str],
    *,
    offset: int = 0,
    limit: int | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    rec = repo.T.record
    q = sa.select(rec.c.report_id, rec.c.body).where(*_record_filter(report_ids, sql_filters))
    q = q.order_by(rec.c.report_id, rec.c.seq).offset(offset).limit(limit)
    q = q.execution_options(yield_per=5000)
    result = uow.conn.execute(q)
    try:
        for report_id, body in result:
            yield report_id, orjson.loads(body)
    finally:  # a reader that stops early must not leave a server-side cursor behind
        result.close()


def _page(
    views: Iterator[dict[str, Any]], offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    page, total = [], 0
    for view in views:
        if offset <= total < offset + limit:
            page.append(view)
        total += 1
    return page, total


def _matches(view: dict[str, Any], filters: Mapping[str, str]) -> bool:
    for name, wanted in filters.items():
        if name == "status" and view.get("status") != wanted:
            return False
        if name == "name" and view.get("name") != wanted:
            return False
        if name == "productOffering.id" and (view.get("productOffering") or {}).get("id") != wanted:
            return False
    return True


def list_tmf_products(
    ports: Ports,
    caller: Caller,
    *,
    filters: Mapping[str, str],
    fields: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    partner = filters.get("relatedParty.id")
    sql_filters = {k: v for k, v in filters.items() if k in _SQL_FILTERS}
    other = {k: v for k, v in filters.items() if k in ("status", "name", "productOffering.id")}
    with ports.uow.read() as uow:
        current = (
            [
                (rel, rep)
                for rel, rep in current_reports(uow, caller, partner=partner)
                if rep["side"] == side_of(rel, caller.party_id)
            ]
            if not caller.is_operator
            else current_reports(uow, caller, side="supplier", partner=partner)
        )
        by_report = {rep["id"]: (rel, status_map_of(rel)) for rel, rep in current}

        if not by_report:
            return [], 0
        if not other:  # every filter is a column: page in SQL, decode only the page
            total = repo.count_where(
                uow.conn, repo.T.record, _record_filter(list(by_report), sql_filters)
            )
            page = [
                select_fields(
                    _tmf_view(ports, by_report[rid][0], record, by_report[rid][1]), fields
                )
                for rid, record in _records(
                    uow, list(by_report), sql_filters, offset=offset, limit=limit
                )
            ]
            return page, total

        def views() -> Iterator[dict[str, Any]]:
            for report_id, record in _records(uow, list(by_report), sql_filters):
                rel, smap = by_report[report_id]
                view = _tmf_view(ports, rel, record, smap)
                if _matches(view, other):
                    yield select_fields(view, fields)

        return _page(views(), offset, limit)


def get_tmf_product(
    ports: Ports, caller: Caller, product_id: str, fields: str | None = None
) -> dict[str, Any]:
    page, total = list_tmf_products(
        ports, caller, filters={"id": product_id}, fields=fields, offset=0, limit=1
    )
    if not total:
        raise NotFound(f"no product {product_id}")
    return page[0]


def _tmf_after_change(
    ports: Ports, caller: Caller, record: dict[str, Any], report: dict[str, Any]
) -> dict[str, Any]:
    with ports.uow.read() as uow:
        relation = repo.get_row(uow.conn, repo.T.relation, id=report["relationId"])
    assert relation is not None
    return _tmf_view(ports, relation, record, status_map_of(relation))


def create_product(
    ports: Ports, caller: Caller, body: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    record, report = change_product(ports, caller, op="create", body=body)
    view = _tmf_after_change(ports, caller, record, report)
    _publish(ports, caller, "ProductCreateEvent", view)
    return view, report


def patch_product(
    ports: Ports, caller: Caller, product_id: str, body: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    record, report = change_product(ports, caller, op="patch", product_id=product_id, body=body)
    view = _tmf_after_change(ports, caller, record, report)
    _publish(ports, caller, "ProductAttributeValueChangeEvent", view)
    return view, report


def delete_product(ports: Ports, caller: Caller, product_id: str) -> dict[str, Any]:
    record, report = change_product(ports, caller, op="delete", product_id=product_id)
    view = _tmf_after_change(ports, caller, record, report)
    _publish(ports, caller, "ProductDeleteEvent", view)
    return report


# ---- MEF 116 (buyer view) ----


def _mef_scope(
    uow: UnitOfWork, caller: Caller, buyer_id: str | None, seller_id: str | None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for relation, report in current_reports(uow, caller, side="supplier"):
        if buyer_id and relation["customer_id"] != buyer_id:
            continue
        if seller_id and relation["supplier_id"] != seller_id:
            continue
        out.append((relation, report))
    return out


def _mef_view(
    ports: Ports,
    relation: dict[str, Any],
    report: dict[str, Any],
    record: dict[str, Any],
    *,
    full: bool,
) -> dict[str, Any] | None:
    href = f"{ports.settings.public_base_url}{MEF_BASE}/{record['id']}"
    convert = to_mef116_product if full else to_mef116_product_list_item
    try:
        return convert(
            record,
            href=href,
            buyer_id=relation["customer_id"],
            seller_id=relation["supplier_id"],
            last_update_date=report["created_at"],
            status_map=status_map_of(relation),
        )
    except ValueError:  # a status MEF cannot say, or no start date: not a MEF product
        return None


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
    sql_filters = {k: v for k, v in filters.items() if k == "externalId"}
    with ports.uow.read() as uow:
        scope = _mef_scope(uow, caller, buyer_id, seller_id)
        by_report = {rep["id"]: (rel, rep) for rel, rep in scope}

        def views() -> Iterator[dict[str, Any]]:
            if not by_report:
                return
            for report_id, record in _records(uow, list(by_report), sql_filters):
                rel, rep = by_report[report_id]
                view = _mef_view(ports, rel, rep, record, full=False)
                if view is None:
                    continue
                if "status" in filters and view.get("status") != filters["status"]:
                    continue
                if (
                    "productOfferingId" in filters
                    and (view.get("productOffering") or {}).get("id")
                    != filters["productOfferingId"]
                ):
                    continue
                if (
                    "productSpecificationId" in filters
                    and (view.get("productSpecification") or {}).get("id")
                    != filters["productSpecificationId"]
                ):
                    continue
                yield view

        return _page(views(), offset, limit)


def get_mef_product(
    ports: Ports, caller: Caller, product_id: str, *, buyer_id: str | None, seller_id: str | None
) -> dict[str, Any]:
    with ports.uow.read() as uow:
        scope = _mef_scope(uow, caller, buyer_id, seller_id)
        by_report = {rep["id"]: (rel, rep) for rel, rep in scope}
        if by_report:
            with closing(_records(uow, list(by_report), {"id": product_id})) as found:
                for report_id, record in found:
                    rel, rep = by_report[report_id]
                    view = _mef_view(ports, rel, rep, record, full=True)
                    if view is not None:
                        return view
    raise NotFound(f"no product {product_id}")


# ---- TMF637 hub ----


def register_listener(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    return hub.tmf_listener(ports, caller, "productInventory", body)


def unregister_listener(ports: Ports, caller: Caller, listener_id: str) -> None:
    hub.remove_listener(ports, caller, "productInventory", listener_id)


def _publish(ports: Ports, caller: Caller, event_type: str, product: dict[str, Any]) -> None:
    for row in hub.listeners_of(ports, "productInventory", [caller.party_id]):
        event = {
            "eventId": secrets.token_hex(8),
            "eventTime": now_iso(),
            "eventType": event_type,
            "event": {"product": product},
        }
        ports.webhooks.publish(row["callback"], event_type, event)
