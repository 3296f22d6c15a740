"""TMF621 disputes end to end: opening, the lifecycle by side, resolution, notes, ETags."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conformance.official import (
    validate_response_against_document,
    validate_tmf621_trouble_ticket,
    validate_tmf_error,
)
from panther.adapters.sql import repository as repo
from panther.server.app import OPENAPI_DIR
from panther.server.services import disputes
from panther.server.services.ports import Ports

from .test_billing import CBM, _ask, _final_run, inventories
from .world import Actor, World, product

TT = "/tmf-api/troubleTicket/v4"
DOC = OPENAPI_DIR / "tmf621-trouble-ticket-v4.yaml"
STATUSES = ("acknowledged", "inProgress", "pending", "resolved", "closed", "rejected", "cancelled")

pytestmark = pytest.mark.usefixtures("official_schemas")


# ---- helpers ------------------------------------------------------------------------------


@dataclass
class Scene:
    run_id: str
    items: dict[str, str]  # product id -> match item entity id "runId:itemNo"
    bill_id: str
    lines: dict[str, str]  # product id -> appliedCustomerBillingRate id


def items_of_run(ports: Ports, run_id: str) -> dict[str, str]:
    """Each item of a run by the product it is about (the customer's for missingAtSupplier)."""
    out = {}
    with ports.db.read() as conn:
        run = repo.get_row(conn, repo.T.run, id=run_id)
        assert run is not None
        for item in repo.list_rows(conn, repo.T.item, [repo.T.item.c.run_id == run_id]):
            body = json.loads(item["body"])
            side = "customer" if body.get("reason") == "missingAtSupplier" else "supplier"
            ref = body[f"{side}Refs"][0]
            rec = repo.get_row(conn, repo.T.record, report_id=run[f"{side}_report_id"], seq=ref)
            assert rec is not None
            out[json.loads(rec["body"])["id"]] = f"{run_id}:{item['item_no']}"
    return out


async def scene(world: World, ports: Ports) -> Scene:
    """The billing tests' November inventories plus VF-9, which only the customer has; both
    endorse the run, the supplier issues the November statement."""
    supplier, customer = inventories()
    customer = [*customer, product("VF-9", external="CID-000009", order="PO-9")]
    run_id = await _final_run(world, supplier, customer)
    bill_id = (await _ask(world.supplier, world)).json()["customerBill"]["id"]
    r = await world.customer.get(f"{CBM}/appliedCustomerBillingRate", **{"bill.id": bill_id})
    lines = {x["product"]["id"]: x["id"] for x in r.json()}
    return Scene(run_id, items_of_run(ports, run_id), bill_id, lines)


def ticket_ok(r: httpx.Response, operation: str, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    validate_tmf621_trouble_ticket(body)
    validate_response_against_document(DOC, operation, status, body)
    assert r.headers["ETag"]  # opaque: tests compare ETags, never parse them
    return body


def list_ok(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    validate_response_against_document(DOC, "listTroubleTicket", 200, body)
    for item in body:
        validate_tmf621_trouble_ticket(item)
    assert r.headers["X-Result-Count"] == str(len(body))
    return body


def error_ok(r: httpx.Response, operation: str, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    validate_tmf_error(body)
    validate_response_against_document(DOC, operation, status, body)
    assert body["status"] == str(status)
    return body


def item_entity(entity_id: str) -> dict[str, Any]:
    return {"id": entity_id, "role": "disputedItem", "@referredType": "MatchItem"}


def charge_entity(line_id: str) -> dict[str, Any]:
    return {"id": line_id, "role": "disputedCharge", "@referredType": "AppliedCustomerBillingRate"}


def bill_entity(bill_id: str) -> dict[str, Any]:
    return {"id": bill_id, "role": "disputedBill", "@referredType": "CustomerBill"}


async def open_ticket(
    actor: Actor,
    entities: list[dict[str, Any]],
    ticket_type: str = "inventoryDispute",
    **extra: Any,
) -> httpx.Response:
    body = {
        "ticketType": ticket_type,
        "description": "The records differ",
        "severity": "Major",
        "relatedEntity": entities,
        **extra,
    }
    return await actor.post(f"{TT}/troubleTicket", body)


async def patch(
    actor: Actor, ticket_id: str, body: dict[str, Any], if_match: str | None = None
) -> httpx.Response:
    headers = {**actor.auth, "Content-Type": "application/merge-patch+json"}
    if if_match is not None:
        headers["If-Match"] = if_match
    return await actor.http.patch(f"{TT}/troubleTicket/{ticket_id}", json=body, headers=headers)


async def ledger_entry(actor: Actor, ticket: dict[str, Any], index: int = -1) -> dict[str, Any]:
    """A ledger entry the ticket names (the last by default), from the ledger API."""
    refs = [e for e in ticket["relatedEntity"] if e["role"] == "ledgerEntry"]
    r = await actor.get(f"/panther/v1/ledger/entry/{refs[index]['id']}")
    assert r.status_code == 200, r.text
    entry: dict[str, Any] = r.json()
    assert entry["type"] == refs[index]["name"]
    assert entry["payload"]["ticketId"] == ticket["id"]
    return entry


def ticket_row(ports: Ports, ticket_id: str) -> dict[str, Any]:
    with ports.db.read() as conn:
        row = repo.get_row(conn, repo.T.ticket, id=ticket_id)
    assert row is not None
    return row


def entity_rows(ports: Ports, ticket_id: str) -> dict[str, tuple[str, str | None]]:
    de = repo.T.dispute_entity
    with ports.db.read() as conn:
        rows = repo.list_rows(conn, de, [de.c.ticket_id == ticket_id])
    return {r["entity_id"]: (r["kind"], r["product_id"]) for r in rows}


# ---- opening ------------------------------------------------------------------------------


async def test_open_an_inventory_dispute(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    partial = s.items["CID-000002"]
    r = await open_ticket(
        world.customer,
        [item_entity(partial)],
        name="Price of CID-000002",
        externalId="VF-DSP-1",
        priority="High",
        note=[{"text": "Our order says 1250.00.", "id": "mine", "author": "someone"}],
        relatedParty=[{"id": world.supplier.party_id, "@referredType": "Organization"}],
    )
    t = ticket_ok(r, "createTroubleTicket", 201)
    assert r.headers["ETag"]
    assert t["id"].startswith("TT-") and t["href"] == f"{TT}/troubleTicket/{t['id']}"
    assert (t["@type"], t["@baseType"]) == ("Dispute", "TroubleTicket")
    assert t["ticketType"] == "inventoryDispute" and t["status"] == "acknowledged"
    assert (t["name"], t["externalId"], t["priority"], t["severity"]) == (
        "Price of CID-000002",
        "VF-DSP-1",
        "High",
        "Major",
    )
    assert t["creationDate"] == t["lastUpdate"] == t["statusChangeDate"]
    assert "resolution" not in t and "resolutionDate" not in t
    run_id, item_no = partial.split(":")
    disputed, ledger = t["relatedEntity"]
    assert disputed == {
        **item_entity(partial),
        "href": f"/panther/v1/matchRun/{run_id}/item/{item_no}",
    }
    assert ledger["role"] == "ledgerEntry" and ledger["name"] == "DisputeOpened"
    assert ledger["@referredType"] == "LedgerEntry"
    assert ledger["href"] == f"/panther/v1/ledger/entry/{ledger['id']}"
    assert [(p["id"], p["role"]) for p in t["relatedParty"]] == [
        (world.supplier.party_id, "supplier"),
        (world.customer.party_id, "customer"),
        (world.customer.party_id, "originator"),
    ]
    assert t["note"] == [
        {
            "id": "1",
            "author": world.customer.party_id,
            "date": t["creationDate"],
            "text": "Our order says 1250.00.",
        }
    ]
    assert t["statusChange"] == [
        {
            "status": "acknowledged",
            "changeDate": t["creationDate"],
            "changeReason": f"opened by {world.customer.party_id}",
        }
    ]

    # DisputeOpened: signed by the originator alone.
    entry = await ledger_entry(world.supplier, t)
    assert entry["signers"] == [world.customer.address]
    assert entry["payload"] == {
        "ticketId": t["id"],
        "relationId": world.relation_id,
        "ticketType": "inventoryDispute",
        "status": "acknowledged",
        "party": world.customer.party_id,
        "relatedEntity": [partial],
    }
    assert entity_rows(ports, t["id"]) == {partial: ("MatchItem", "CID-000002")}

    # The partner sees the same ticket and ETag.
    r = await world.supplier.get(f"{TT}/troubleTicket/{t['id']}")
    assert ticket_ok(r, "retrieveTroubleTicket") == t

    # The same item cannot be in two open disputes.
    r = await open_ticket(world.supplier, [item_entity(partial)])
    assert t["id"] in error_ok(r, "createTroubleTicket", 409)["message"]

    # A customer-only record: the dispute is about the customer's product.
    missing = s.items["VF-9"]
    r = await open_ticket(world.supplier, [item_entity(missing)])
    t2 = ticket_ok(r, "createTroubleTicket", 201)
    assert entity_rows(ports, t2["id"]) == {missing: ("MatchItem", "VF-9")}
    assert [p["id"] for p in t2["relatedParty"] if p["role"] == "originator"] == [
        world.supplier.party_id
    ]

    # The lookup the review code uses: the newest dispute per entity.
    with ports.uow.read() as uow:
        found = disputes.disputes_of_entities(uow, [partial, missing, s.items["CID-000001"]])
    assert found == {
        partial: {"ticketId": t["id"], "status": "acknowledged", "resolution": None},
        missing: {"ticketId": t2["id"], "status": "acknowledged", "resolution": None},
    }
    assert disputes.open_statuses() == disputes.OPEN_STATUSES
    assert disputes.OPEN_STATUSES == {"acknowledged", "inProgress", "pending", "resolved"}


async def test_open_a_billing_dispute(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    held = s.lines["CID-000003"]
    r = await open_ticket(
        world.customer,
        [charge_entity(held), bill_entity(s.bill_id)],
        "billingDispute",
        description="CID-000003 was never delivered to us",
    )
    t = ticket_ok(r, "createTroubleTicket", 201)
    assert t["ticketType"] == "billingDispute"
    assert t["description"] == "CID-000003 was never delivered to us"
    assert [(e["id"], e["role"], e["href"]) for e in t["relatedEntity"][:2]] == [
        (held, "disputedCharge", f"{CBM}/appliedCustomerBillingRate/{held}"),
        (s.bill_id, "disputedBill", f"{CBM}/customerBill/{s.bill_id}"),
    ]
    assert t["relatedEntity"][2]["name"] == "DisputeOpened"
    assert entity_rows(ports, t["id"]) == {
        held: ("AppliedCustomerBillingRate", "CID-000003"),
        s.bill_id: ("CustomerBill", None),
    }
    entry = await ledger_entry(world.customer, t)
    assert entry["payload"]["relatedEntity"] == [held, s.bill_id]
    assert entry["signers"] == [world.customer.address]


async def test_what_a_dispute_can_be_about(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    partial, matched = s.items["CID-000002"], s.items["CID-000001"]
    cases: list[tuple[list[dict[str, Any]], str, str, str]] = [
        # entities, ticket type, pointer, words in the message
        ([item_entity(matched)], "inventoryDispute", "/relatedEntity/0/id", "matched"),
        ([item_entity(f"{s.run_id}:9999")], "inventoryDispute", "/relatedEntity/0/id", "no match"),
        ([item_entity("no-colon")], "inventoryDispute", "/relatedEntity/0/id", "runId:itemNo"),
        ([charge_entity(s.lines["CID-000001"])], "inventoryDispute", "/relatedEntity/0/role", ""),
        ([item_entity(partial)], "billingDispute", "/relatedEntity/0/role", ""),
        ([bill_entity(s.bill_id)], "billingDispute", "/relatedEntity", "disputedCharge"),
        ([charge_entity("ACBR-none")], "billingDispute", "/relatedEntity/0/id", "ACBR-none"),
        (
            [charge_entity(s.lines["CID-000001"]), bill_entity("CB-nope")],
            "billingDispute",
            "/relatedEntity/1/id",
            "CB-nope",
        ),
        (
            [{**item_entity(partial), "@referredType": "Product"}],
            "inventoryDispute",
            "/relatedEntity/0/@referredType",
            "MatchItem",
        ),
        (
            [item_entity(partial), item_entity(partial)],
            "inventoryDispute",
            "/relatedEntity/1/id",
            "twice",
        ),
        (
            [{**item_entity(partial), "role": "creditedOn"}],
            "inventoryDispute",
            "/relatedEntity/0/role",
            "",
        ),
    ]
    for entities, ticket_type, pointer, words in cases:
        r = await open_ticket(world.customer, entities, ticket_type)
        body = error_ok(r, "createTroubleTicket", 422)
        assert body["details"][0]["pointer"] == pointer, (entities, body)
        assert words in body["message"], body
    # Parties given must be the relation's carriers, in their roles.
    r = await open_ticket(
        world.customer,
        [item_entity(partial)],
        relatedParty=[{"id": world.outsider.party_id, "@referredType": "Organization"}],
    )
    assert error_ok(r, "createTroubleTicket", 422)["details"][0]["pointer"] == "/relatedParty/0/id"
    r = await open_ticket(
        world.customer,
        [item_entity(partial)],
        relatedParty=[
            {"id": world.supplier.party_id, "role": "customer", "@referredType": "Organization"}
        ],
    )
    body = error_ok(r, "createTroubleTicket", 422)
    assert body["details"][0]["pointer"] == "/relatedParty/0/role"
    # A note needs a text.
    r = await open_ticket(world.customer, [item_entity(partial)], note=[{"author": "me"}])
    assert error_ok(r, "createTroubleTicket", 422)["details"][0]["pointer"] == "/note/0/text"
    # The operator sees every dispute but opens none; an outsider cannot name these items.
    r = await open_ticket(world.operator, [item_entity(partial)])
    error_ok(r, "createTroubleTicket", 403)
    r = await open_ticket(world.outsider, [item_entity(partial)])
    assert error_ok(r, "createTroubleTicket", 422)["details"][0]["pointer"] == "/relatedEntity/0/id"
    # Nothing was opened.
    r = await world.customer.get(
        f"{TT}/troubleTicket", **{"relatedParty.id": world.customer.party_id}
    )
    assert list_ok(r) == [] and r.headers["X-Total-Count"] == "0"


async def test_entities_of_another_relation(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    # The customer also buys from the outsider; that relation has its own match run.
    r = await world.operator.post(
        "/panther/v1/relation",
        {"supplier": world.outsider.party_id, "customer": world.customer.party_id},
    )
    other = r.json()["id"]
    for actor in (world.outsider, world.customer):
        r = await actor.post(f"/panther/v1/relation/{other}/agreement", {})
        assert r.status_code == 200, r.text
    r = await world.outsider.upload(other, [product("OUT-1", mrc=10.0)], as_of="2026-11-01")
    assert r.status_code in (200, 201), r.text
    r = await world.customer.upload(
        other, [product("VF-X", external="OUT-1", mrc=12.0)], as_of="2026-11-01"
    )
    assert r.status_code in (200, 201), r.text
    r = await world.customer.post(
        "/panther/v1/matchRun", {"relationId": other, "asOf": "2026-11-01"}
    )
    assert r.status_code in (200, 201), r.text
    other_items = items_of_run(ports, r.json()["id"])
    r = await open_ticket(
        world.customer, [item_entity(s.items["CID-000002"]), item_entity(other_items["OUT-1"])]
    )
    body = error_ok(r, "createTroubleTicket", 422)
    assert body["details"] == [
        {"pointer": "/relatedEntity/1/id", "message": body["details"][0]["message"]}
    ]
    assert other in body["message"] and world.relation_id in body["message"]
    # Alone, that item makes a dispute of the other relation, which the supplier cannot see.
    r = await open_ticket(world.customer, [item_entity(other_items["OUT-1"])])
    t = ticket_ok(r, "createTroubleTicket", 201)
    assert {p["id"] for p in t["relatedParty"]} == {
        world.outsider.party_id,
        world.customer.party_id,
    }
    r = await world.supplier.get(f"{TT}/troubleTicket/{t['id']}")
    error_ok(r, "retrieveTroubleTicket", 404)
    assert t["id"] not in [
        x["id"] for x in list_ok(await world.supplier.get(f"{TT}/troubleTicket"))
    ]
