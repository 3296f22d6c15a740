"""Reported products through TMF637: a carrier's own current inventory, read and changed one
product at a time (each change is a new version of its current report), plus hub listeners.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import orjson

from panther.inventory.records import validate_record
from panther.inventory.views import select_fields
from panther.ledger.canonical import canonical_json

from ..representations import tmf637
from ..representations.panther.reports import report_view
from . import hub
from .context import Caller
from .errors import Conflict, InvalidInput, NotFound
from .matchruns import cache_extract, maybe_auto_match
from .ports import Ports, RecordFilter, Row, UnitOfWork
from .relations import relation_for
from .reports import (
    current_reports,
    page_records,
    record_keys,
    side_of,
    status_counts_of,
    store_report,
)
from .statuses import check_statuses, status_map_of

__all__ = [
    "change_product",
    "create_product",
    "delete_product",
    "get_tmf_product",
    "list_tmf_products",
    "patch_product",
    "register_listener",
    "unregister_listener",
]


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
    base_url = ports.settings.public_base_url
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
        parts = [
            (rep, _record_filter(uow, rep, by_report[rep["id"]][1], filters)) for _, rep in current
        ]
        found, total = page_records(uow, parts, offset, limit)
    items = [
        select_fields(tmf637.product_view(record, *by_report[rid], base_url=base_url), fields)
        for rid, record in found
    ]
    return items, total


def _record_filter(
    uow: UnitOfWork, report: Row, status_map: Mapping[str, str], filters: Mapping[str, str]
) -> RecordFilter:
    """The TMF637 list filters as conditions on one report's stored records (the status
    filter through the relation's own vocabulary)."""
    statuses = None
    if "status" in filters:
        reported = status_counts_of(uow, report)
        statuses = tmf637.statuses_shown_as(reported, status_map, filters["status"])
    return RecordFilter(
        statuses=statuses,
        product_id=filters.get("id"),
        external_id=filters.get("externalId"),
        strings=tuple(
            (path, filters[name]) for name, path in tmf637.STRING_FILTERS.items() if name in filters
        ),
    )


def get_tmf_product(
    ports: Ports, caller: Caller, product_id: str, fields: str | None = None
) -> dict[str, Any]:
    items, total = list_tmf_products(
        ports, caller, filters={"id": product_id}, fields=fields, offset=0, limit=1
    )
    if not total:
        raise NotFound(f"no product {product_id}")
    return items[0]


# ---- single-product changes: a new version of the caller's current report ----


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _relation_for_new_product(uow: UnitOfWork, caller: Caller, body: dict[str, Any]) -> Row:
    partners = tmf637.partners(body, caller.party_id)
    if not partners:
        raise InvalidInput(
            "relatedParty must name the partner carrier (role supplier or "
            "customer): it says which relation the product belongs to",
            details=[{"pointer": "/relatedParty", "message": "partner missing"}],
        )
    found = []
    for partner_id, role in partners:
        found += uow.reports.relations_between(
            caller.party_id,
            partner_id,
            as_supplier=role in ("", "customer", "buyer"),
            as_customer=role in ("", "supplier", "seller"),
        )
    if len(found) != 1:
        raise InvalidInput(
            "relatedParty must identify exactly one relation of yours",
            details=[{"pointer": "/relatedParty", "message": f"{len(found)} relations match"}],
        )
    return found[0]


def _relation_of_product(uow: UnitOfWork, caller: Caller, product_id: str) -> Row:
    """The relation in whose current inventory of the caller the product is (404 if none)."""
    for relation, report in current_reports(uow, caller):
        if report["side"] != side_of(relation, caller.party_id):
            continue
        if uow.reports.product_seq(report["id"], product_id) is not None:
            return relation
    raise NotFound(f"no product {product_id}")


def _current_report(uow: UnitOfWork, caller: Caller, relation: Row) -> Row | None:
    """The caller's current report in the relation, read under its inventory's lock: a
    change made at the same instant is either in it or waits for this one to commit."""
    side = side_of(relation, caller.party_id)
    uow.reports.lock_inventory(relation["id"], side)
    return uow.reports.newest(relation["id"], side)


def _records(uow: UnitOfWork, report_id: str) -> list[dict[str, Any]]:
    return [orjson.loads(body) for body in uow.reports.record_bodies(report_id)]


def change_product(
    ports: Ports,
    caller: Caller,
    *,
    op: str,
    product_id: str | None = None,
    body: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create, patch or delete one product: a new version of the caller's current report.

    Returns (the product record after the change, or before a delete; the new report view).
    """
    with ports.uow.write() as uow:
        reporter = uow.parties.get(caller.party_id)
        if reporter is None:
            raise NotFound("no such party")
        if op == "create":
            assert body is not None
            relation = _relation_for_new_product(uow, caller, body)
            if relation["state"] != "agreed":
                raise Conflict(f"relation {relation['id']} is not agreed yet")
            newest = _current_report(uow, caller, relation)
            records = _records(uow, newest["id"]) if newest else []
            record = tmf637.new_product_record(body)
            if any(r.get("id") == record.get("id") for r in records):
                raise Conflict(f"product {record.get('id')} exists in this inventory")
            records.append(record)
            touched = record
            as_of = newest["as_of"] if newest else ports.clock.now_iso()[:10]
        else:
            assert product_id is not None
            relation = _relation_of_product(uow, caller, product_id)
            report = _current_report(uow, caller, relation)
            seq = uow.reports.product_seq(report["id"], product_id) if report else None
            if report is None or seq is None:  # deleted meanwhile
                raise NotFound(f"no product {product_id}")
            records = _records(uow, report["id"])
            as_of = report["as_of"]
            if op == "delete":
                touched = records.pop(seq)
            else:
                assert body is not None
                patch = tmf637.product_patch(body)
                if "id" in patch and patch["id"] != product_id:
                    raise InvalidInput(
                        "id cannot be changed",
                        status_code=422,
                        details=[{"pointer": "/id", "message": "immutable"}],
                    )
                touched = _merge_patch(records[seq], patch)
                records[seq] = touched
        problems = validate_record(touched) if op != "delete" else []
        if op != "delete" and not problems:
            check_statuses(relation, [touched["status"]])
        if problems:
            raise InvalidInput(
                "invalid product", details=[{"pointer": p, "message": m} for p, m, _ in problems]
            )
        leaves = [canonical_json(r) for r in records]
        row, _ = store_report(
            ports,
            uow,
            relation=relation,
            reporter=reporter,
            as_of=as_of,
            leaves=leaves,
            fields=[record_keys(r) for r in records],
            media_type="application/json",
            origin="productChange",
            signature=None,
        )
    cache_extract(ports, relation, row, leaves)
    if ports.settings.auto_match:
        # The corrected inventory is re-matched at once, incrementally: only the records the
        # change can affect (panther.matching.incremental).
        maybe_auto_match(ports, relation["id"], as_of)
    return touched, report_view(row, ports.settings.public_base_url)


def _tmf_after_change(
    ports: Ports, caller: Caller, record: dict[str, Any], report: dict[str, Any]
) -> dict[str, Any]:
    with ports.uow.read() as uow:
        # the caller has just reported in this relation, so it may see it
        relation = relation_for(uow, caller, report["relationId"])
    return tmf637.product_view(
        record, relation, status_map_of(relation), base_url=ports.settings.public_base_url
    )


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


# ---- TMF637 hub ----


def register_listener(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    return hub.tmf_listener(ports, caller, "productInventory", body)


def unregister_listener(ports: Ports, caller: Caller, listener_id: str) -> None:
    hub.remove_listener(ports, caller, "productInventory", listener_id)


def _publish(ports: Ports, caller: Caller, event_type: str, product: dict[str, Any]) -> None:
    for row in hub.listeners_of(ports, "productInventory", [caller.party_id]):
        event = tmf637.product_event(
            secrets.token_hex(8), ports.clock.now_iso(), event_type, product
        )
        ports.webhooks.publish(row["callback"], event_type, event)
