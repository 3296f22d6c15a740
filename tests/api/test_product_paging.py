"""TMF637 and MEF 116 lists page in the database: every declared filter, alone and combined,
and every window (first page, across two reports, deep, past the end) give exactly the
products, order and totals of a reference computed here from the uploaded records with the
resource mappings (``tmf637.matches`` / ``mef116.matches``, what the lists did in Python)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from panther.adapters.sql import repository as repo
from panther.inventory.views import MEF116_STATUSES
from panther.matching.profile import DEFAULT_PROFILE
from panther.server.representations import mef116, tmf637
from panther.server.services.ports import Ports

from .world import TODAY, World, build_world, product

TMF = "/tmf-api/productInventory/v4/product"
MEF = "/mefApi/sonata/productInventory/v7/product"

# The relation's own words next to TMF637 / MEF 116 values in several spellings.
STATUS_MAP = {"Live": "active", "Ceased": "terminated"}
STATUSES = (
    "active",
    "Active",
    "Live",
    "pendingTerminate",
    "active.pendingChange",
    "aborted",
    "Ceased",
    "suspendedPendingTerminate",
    "created",
)


def _records(prefix: str, n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        record = product(f"{prefix}-{i:03d}", status=STATUSES[i % len(STATUSES)], order=f"PO-{i}")
        if i % 4 == 0:
            record["name"] = f"line {i % 3}"
        elif i % 4 == 1:
            record["name"] = None  # an unknown name: absent from the resource
        if i % 5 == 0:
            record["productOffering"] = {"id": "EVPL"}
        elif i % 5 == 1:
            del record["productOffering"]
        if i % 6 == 0:
            record["productSpecification"] = {"id": f"SPEC-{i % 2}"}
        if i % 2 == 0:
            record["externalId"] = f"X-{i % 7}"
        out.append(record)
    return out


@dataclass
class Inventories:
    world: World
    second_relation: str
    reports: list[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]
    """(relation row, report row, records) of the supplier's current reports."""


async def _relation(world: World, customer: Any, profile: dict[str, Any]) -> str:
    body = {"supplier": world.supplier.party_id, "customer": customer.party_id, "profile": profile}
    r = await world.operator.post("/panther/v1/relation", body)
    assert r.status_code == 201, r.text
    relation_id: str = r.json()["id"]
    for actor in (world.supplier, customer):
        r = await actor.post(f"/panther/v1/relation/{relation_id}/agreement", {})
        assert r.status_code == 200, r.text
    return relation_id


@pytest.fixture
async def inventories(http: httpx.AsyncClient, ports: Ports) -> Inventories:
    profile = DEFAULT_PROFILE.to_dict()
    for field in profile["comparedFields"]:
        if field["name"] == "status":
            field["params"] = {"map": STATUS_MAP}
    world = await build_world(http, ports, profile=profile)
    second = await _relation(world, world.outsider, profile)
    uploaded = []
    for relation_id, prefix, n in ((world.relation_id, "A", 40), (second, "B", 31)):
        records = _records(prefix, n)
        r = await world.supplier.upload(relation_id, records, as_of=TODAY)
        assert r.status_code == 201, r.text
        uploaded.append((relation_id, r.json()["id"], records))
    # the customer side of the first relation: not the supplier's inventory
    r = await world.customer.upload(world.relation_id, _records("C", 9), as_of=TODAY)
    assert r.status_code == 201, r.text
    reports = []
    with ports.uow.read() as uow:
        relations = {rel["id"]: rel for rel in uow.reports.relations_of(None)}
        for relation_id, report_id, records in uploaded:
            report = uow.reports.get(report_id)
            assert report is not None
            reports.append((relations[relation_id], report, records))
    return Inventories(world, second, sorted(reports, key=lambda x: str(x[1]["id"])))


def _tmf_reference(
    inv: Inventories, base_url: str, filters: Mapping[str, str]
) -> list[dict[str, Any]]:
    out = []
    for relation, _, records in inv.reports:
        partner = filters.get("relatedParty.id")
        if partner and partner not in (relation["supplier_id"], relation["customer_id"]):
            continue
        for record in records:
            if "id" in filters and record["id"] != filters["id"]:
                continue
            if "externalId" in filters and record.get("externalId") != filters["externalId"]:
                continue
            view = tmf637.product_view(record, relation, STATUS_MAP, base_url=base_url)
            if tmf637.matches(view, filters):
                out.append(view)
    return out


def _mef_reference(
    inv: Inventories, base_url: str, filters: Mapping[str, str]
) -> list[dict[str, Any]]:
    out = []
    for relation, report, records in inv.reports:
        for record in records:
            if "externalId" in filters and record.get("externalId") != filters["externalId"]:
                continue
            view = mef116.product_view(
                record, relation, report, STATUS_MAP, base_url=base_url, full=False
            )
            if view is not None and mef116.matches(view, filters):
                out.append(view)
    return out


def _seller(inv: Inventories) -> str:
    return inv.world.supplier.party_id


def _windows(total: int) -> list[tuple[int, int]]:
    return [(0, 100), (0, 7), (5, 7), (38, 5), (max(total - 3, 0), 10), (total, 5), (total + 9, 5)]


async def _check(
    actor: Any, path: str, filters: dict[str, str], expected: list[Any], **scope: str
) -> None:
    for offset, limit in _windows(len(expected)):
        r = await actor.get(path, **filters, **scope, offset=offset, limit=limit)
        assert r.status_code == 200, r.text
        assert r.json() == expected[offset : offset + limit], (filters, offset, limit)
        assert r.headers["X-Total-Count"] == str(len(expected)), filters
        assert r.headers["X-Result-Count"] == str(len(expected[offset : offset + limit]))


async def test_tmf637_filters_and_offsets_page_as_the_reference(
    inventories: Inventories, ports: Ports
) -> None:
    inv, base = inventories, ports.settings.public_base_url
    cases: list[dict[str, str]] = [
        {},
        *({"status": s} for s in ("active", "pendingTerminate", "terminated", "cancelled")),
        {"status": "suspended"},
        {"status": "created"},
        {"status": "pendingActive"},  # a TMF637 value no record says
        {"name": "line 0"},
        {"name": "line 3"},  # nobody's name
        {"productOffering.id": "EVPL"},
        {"productOffering.id": "EPL", "status": "active"},
        {"externalId": "X-3"},
        {"externalId": "X-3", "status": "active", "name": "line 0"},
        {"id": "B-007"},
        {"id": "B-007", "status": "terminated"},
        {"relatedParty.id": inv.world.outsider.party_id},
        {"relatedParty.id": inv.world.customer.party_id, "status": "active"},
    ]
    for filters in cases:
        expected = _tmf_reference(inv, base, filters)
        await _check(inv.world.supplier, TMF, filters, expected)
    # the tests above are not vacuous: the filters select, the pages cross both reports
    assert len(_tmf_reference(inv, base, {})) == 71
    assert 0 < len(_tmf_reference(inv, base, {"status": "active"})) < 71
    assert len(_tmf_reference(inv, base, {"name": "line 0"})) > 0


async def test_mef116_filters_and_offsets_page_as_the_reference(
    inventories: Inventories, ports: Ports
) -> None:
    inv, base = inventories, ports.settings.public_base_url
    cases: list[dict[str, str]] = [
        {},
        *({"status": s} for s in MEF116_STATUSES),
        {"productOfferingId": "EVPL"},
        {"productSpecificationId": "SPEC-0"},
        {"productSpecificationId": "SPEC-1", "status": "active"},
        {"externalId": "X-2"},
        {"externalId": "X-2", "productOfferingId": "EPL"},
    ]
    for filters in cases:
        expected = _mef_reference(inv, base, filters)
        # the operator reads every buyer's view of this seller: both relations
        await _check(inv.world.operator, MEF, filters, expected, sellerId=_seller(inv))
    assert len(_mef_reference(inv, base, {"status": "cancelled"})) > 0  # aborted is cancelled


async def test_reports_stored_without_status_counts_are_counted(
    inventories: Inventories, ports: Ports
) -> None:
    """A report stored before the counts were kept (migration 0009 fills them; a replayed
    database may not): its status totals are counted in the database, with the same result."""
    inv, base = inventories, ports.settings.public_base_url
    system: Any = ports
    with system.db.write() as conn:
        for _, report, _ in inv.reports:
            repo.update_row(conn, repo.T.report, {"id": report["id"]}, {"status_counts": None})
    for filters in ({"status": "active"}, {"status": "terminated"}, {}):
        await _check(inv.world.supplier, TMF, filters, _tmf_reference(inv, base, filters))
        mef_filters = {"status": "cancelled"} if filters else {}
        expected = _mef_reference(inv, base, mef_filters)
        await _check(inv.world.operator, MEF, mef_filters, expected, sellerId=_seller(inv))


async def test_status_counts_are_stored_with_the_report(inventories: Inventories) -> None:
    for _, report, records in inventories.reports:
        counts: dict[str, int] = {}
        for record in records:
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        assert report["status_counts"] is not None
        assert orjson.loads(report["status_counts"]) == counts
