"""Disputes between the two carriers of a relation, served as TMF621 trouble tickets: opening
one, reading them, and what the other use cases ask of them (see `dispute_changes` for status
changes, notes and the resolution agreement).

A dispute is about `partial` or `mismatch` items of a match run (`inventoryDispute`) or lines
of a billing statement (`billingDispute`). Opening it and every status change are ledger
transactions signed by the carrier that made them (`DisputeOpened`, `DisputeStatusChanged`);
a resolution is proposed with status `resolved` (the proposer signs its half of
`DisputeResolved`) and agreed when the other carrier closes the ticket (its signature
completes `DisputeResolved`). An agreed credit is stored on the ticket for the relation's next
billing statement. Only custodial parties can do this through the API (the TMF621 bodies carry
no signature).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from panther.inventory.views import select_fields

from ..representations.tmf621 import (
    TMF_BASE,
    creation_properties,
    ledger_entity,
    public_resolution,
    ticket_view,
)
from . import hub
from .context import Caller
from .dispute_ledger import append_signed, opened_tx
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .ports import Ports, Row, UnitOfWork
from .ports.disputes import external_key
from .relations import relation_for

__all__ = [
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "TMF_BASE",
    "disputes_of_entities",
    "etag",
    "get_ticket",
    "list_tickets",
    "open_dispute",
    "open_statuses",
    "register_listener",
    "unregister_listener",
]

_API = "troubleTicket"

OPEN_STATUSES = frozenset({"acknowledged", "inProgress", "pending", "resolved"})
FINAL_STATUSES = frozenset({"closed", "rejected", "cancelled"})

# role -> (the entity kind, @referredType, the ticket type it belongs to); the roles are
# dispute_ledger.DISPUTED_ROLES.
_ROLES = {
    "disputedItem": ("MatchItem", "inventoryDispute"),
    "disputedCharge": ("AppliedCustomerBillingRate", "billingDispute"),
    "disputedBill": ("CustomerBill", "billingDispute"),
}
_NEEDED_ROLE = {"inventoryDispute": "disputedItem", "billingDispute": "disputedCharge"}


def open_statuses() -> frozenset[str]:
    """The statuses of a dispute that is still open (its entities are held out of billing)."""
    return OPEN_STATUSES


def etag(row: Row) -> str:
    return f'"{row["revision"]}"'


# ---- shared with dispute_changes ----------------------------------------------------------


def invalid(pointer: str, message: str, status_code: int = 422) -> InvalidInput:
    """The error for a bad value at a JSON pointer of the request body."""
    return InvalidInput(
        f"{pointer.lstrip('/') or 'body'}: {message}",
        details=[{"pointer": pointer, "message": message}],
        status_code=status_code,
    )


def ticket_for(
    uow: UnitOfWork, caller: Caller, ticket_id: str, *, lock: bool = False
) -> tuple[Row, Row]:
    """The ticket and its relation, if the caller may see them (404 otherwise)."""
    row = uow.disputes.ticket(ticket_id, for_update=lock)
    if row is None:
        raise NotFound(f"no troubleTicket {ticket_id}")
    try:
        relation = relation_for(uow, caller, row["relation_id"])
    except NotFound:
        raise NotFound(f"no troubleTicket {ticket_id}") from None
    return row, relation


def views(ports: Ports, uow: UnitOfWork, rows: list[Row]) -> list[dict[str, Any]]:
    """The TMF621 views of tickets, with the bills their agreed credits are on (one query)."""
    credited = uow.disputes.credited_on(
        (r["relation_id"], r["credited_period"]) for r in rows if r.get("credited_period")
    )
    base = ports.settings.public_base_url
    return [
        ticket_view(base, r, credited.get((r["relation_id"], r["credited_period"]))) for r in rows
    ]


def new_notes(
    ports: Ports, given: list[dict[str, Any]], start: int, author: str, now: str, at: str
) -> list[dict[str, Any]]:
    """Notes as given, numbered from ``start`` + 1 and stamped with their author and date;
    a ticket holds so many notes of so many bytes at most (the settings say how many)."""
    most, most_bytes = ports.settings.max_notes_per_ticket, ports.settings.max_note_bytes
    if start + len(given) > most:
        raise invalid(at, f"a trouble ticket holds at most {most} notes")
    notes = []
    for n, note in enumerate(given):
        text = note.get("text")
        if not isinstance(text, str) or not text.strip():
            raise invalid(f"{at}/{start + n}/text", "a note needs a text")
        out = {k: v for k, v in note.items() if k not in ("id", "author", "date")}
        if len(json.dumps(out, ensure_ascii=False).encode()) > most_bytes:
            raise invalid(f"{at}/{start + n}", f"a note is {most_bytes} bytes of JSON at most")
        notes.append({**out, "id": str(start + n + 1), "author": author, "date": now})
    return notes


def publish(ports: Ports, relation: Row, event_type: str, ticket: dict[str, Any]) -> None:
    extra = {"fieldPath": "note"} if event_type == "troubleTicketAttributeValueChangeEvent" else {}
    hub.publish_to_relation(ports, _API, relation, event_type, {"troubleTicket": ticket}, **extra)


# ---- opening a dispute --------------------------------------------------------------------


def _sees(uow: UnitOfWork, caller: Caller, relation_id: str) -> bool:
    try:
        relation_for(uow, caller, relation_id)
    except NotFound:
        return False
    return True


def _match_item(uow: UnitOfWork, caller: Caller, entity_id: str, at: str) -> tuple[str, str | None]:
    """(relation id, product id) of a disputed match item ``runId:itemNo``."""
    run_id, sep, item_text = entity_id.rpartition(":")
    if not sep or not run_id or not item_text.isdigit():
        raise invalid(at, "a match item is named runId:itemNo")
    item = uow.disputes.match_item(run_id, int(item_text))
    if item is None or not _sees(uow, caller, item["relation_id"]):
        raise invalid(at, f"no match item {entity_id} in your relations")
    body = json.loads(item["body"])
    if body["class"] not in ("partial", "mismatch"):
        raise invalid(at, f"match item {entity_id} is {body['class']}, not partial or mismatch")
    if body.get("reason") == "missingAtSupplier":
        report_id, refs = item["customer_report_id"], body["customerRefs"]
    else:
        report_id, refs = item["supplier_report_id"], body["supplierRefs"]
    product_id = None
    if refs:
        rec = uow.disputes.inventory_record(report_id, refs[0])
        if rec is not None:
            product_id = str(json.loads(rec["body"]).get("id") or rec["product_id"])
    return item["relation_id"], product_id


def _resolve_entities(
    uow: UnitOfWork, caller: Caller, ticket_type: str, given: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]], list[Row]]:
    """The relation, the related entities to store and one dispute_entity row per entity."""
    relation_id: str | None = None
    entities: list[dict[str, Any]] = []
    rows: list[Row] = []
    charges_bills: set[str] = set()
    bills: list[tuple[int, str]] = []
    for n, entity in enumerate(given):
        at = f"/relatedEntity/{n}"
        role = entity.get("role")
        if role not in _ROLES:
            raise invalid(f"{at}/role", "must be disputedItem, disputedCharge or disputedBill")
        kind, belongs_to = _ROLES[role]
        if belongs_to != ticket_type:
            raise invalid(f"{at}/role", f"an {ticket_type} has no {role}")
        if entity.get("@referredType") != kind:
            raise invalid(f"{at}/@referredType", f"a {role} is a {kind}")
        entity_id = str(entity["id"])
        if any(r["entity_id"] == entity_id for r in rows):
            raise invalid(f"{at}/id", f"{entity_id} is named twice")
        if role == "disputedItem":
            rel, product_id = _match_item(uow, caller, entity_id, f"{at}/id")
        elif role == "disputedCharge":
            line = uow.billing.line(entity_id)
            if line is None or not _sees(uow, caller, line["relation_id"]):
                raise invalid(f"{at}/id", f"no appliedCustomerBillingRate {entity_id}")
            rel, product_id = line["relation_id"], line["product_id"]
            charges_bills.add(line["bill_id"])
        else:
            bill = uow.billing.statement(entity_id)
            if bill is None or not _sees(uow, caller, bill["relation_id"]):
                raise invalid(f"{at}/id", f"no customerBill {entity_id}")
            rel, product_id = bill["relation_id"], None
            bills.append((n, entity_id))
        if relation_id is None:
            relation_id = rel
        elif rel != relation_id:
            raise invalid(
                f"{at}/id", f"{entity_id} is of relation {rel}; this dispute is about {relation_id}"
            )
        stored = {"id": entity_id, "role": role, "@referredType": kind}
        if entity.get("name") is not None:
            stored["name"] = str(entity["name"])
        entities.append(stored)
        rows.append({"entity_id": entity_id, "kind": kind, "product_id": product_id})
    needed = _NEEDED_ROLE[ticket_type]
    if not any(e["role"] == needed for e in entities):
        raise invalid("/relatedEntity", f"an {ticket_type} needs at least one {needed}")
    for n, bill_id in bills:
        if bill_id not in charges_bills:
            raise invalid(f"/relatedEntity/{n}/id", f"no disputed charge is a line of {bill_id}")
    assert relation_id is not None
    for r in rows:
        r["relation_id"] = relation_id
    return relation_id, entities, rows


def _parties(
    uow: UnitOfWork, relation: Row, originator: str, given: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Both carriers and the originator; parties given in the body must be among them."""
    roles = {
        relation["supplier_id"]: {"supplier"},
        relation["customer_id"]: {"customer"},
    }
    roles[originator] = roles[originator] | {"originator"}
    for n, party in enumerate(given):
        pid = str(party.get("id"))
        if pid not in roles:
            raise invalid(f"/relatedParty/{n}/id", f"{pid} is not a carrier of this relation")
        if party.get("role") is not None and party["role"] not in roles[pid]:
            raise invalid(f"/relatedParty/{n}/role", f"{pid} is not the {party['role']}")
    names = {pid: (uow.parties.get(pid) or {}).get("name") for pid in roles}

    def ref(pid: str, role: str) -> dict[str, Any]:
        out = {"id": pid, "name": names.get(pid), "role": role, "@referredType": "Organization"}
        return {k: v for k, v in out.items() if v is not None}

    return [
        ref(relation["supplier_id"], "supplier"),
        ref(relation["customer_id"], "customer"),
        ref(originator, "originator"),
    ]


def open_dispute(ports: Ports, caller: Caller, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Open a dispute (POST /troubleTicket): status `acknowledged`, `DisputeOpened` signed by
    the caller, the partner notified. Returns the view and its ETag."""
    if caller.is_operator:
        raise Forbidden("disputes are opened by the carriers of a relation")
    ticket_type = str(body["ticketType"])
    now = ports.clock.now_iso()
    with ports.uow.write() as uow:
        relation_id, entities, entity_rows = _resolve_entities(
            uow, caller, ticket_type, list(body["relatedEntity"])
        )
        relation = relation_for(uow, caller, relation_id)
        if caller.party_id not in (relation["supplier_id"], relation["customer_id"]):
            raise Forbidden("only the relation's carriers open its disputes")
        if relation["state"] != "agreed":
            raise Conflict(f"relation {relation_id} is not agreed by both parties")
        # One opening per relation at a time, so two cannot both find an entity free.
        uow.disputes.serialise_openings(relation_id)
        clash = uow.disputes.disputed_in([r["entity_id"] for r in entity_rows], OPEN_STATUSES)
        if clash is not None:
            raise Conflict(f"{clash[0]} is already disputed in the open trouble ticket {clash[1]}")
        stored: dict[str, Any] = creation_properties(body)
        stored["relatedEntity"] = entities
        stored["relatedParty"] = _parties(
            uow, relation, caller.party_id, list(body.get("relatedParty") or [])
        )
        stored["note"] = new_notes(
            ports, list(body.get("note") or []), 0, caller.party_id, now, "/note"
        )
        stored["statusChange"] = [
            {
                "status": "acknowledged",
                "changeDate": now,
                "changeReason": f"opened by {caller.party_id}",
            }
        ]
        stored["statusChangeDate"] = now
        row: Row = {
            "id": f"TT-{secrets.token_hex(8)}",
            "relation_id": relation_id,
            "ticket_type": ticket_type,
            "status": "acknowledged",
            "originator_id": caller.party_id,
            "external_key": external_key(stored.get("externalId")),
            "revision": 1,
            "proposal_no": 0,
            "credit": None,
            "credited_period": None,
            "resolved_seq": None,
            "created_at": now,
            "updated_at": now,
        }
        entry = append_signed(ports, uow, caller.party_id, opened_tx(row, stored))
        stored["relatedEntity"].append(ledger_entity(entry.seq, entry.tx.type.value))
        row["body"] = json.dumps(stored, sort_keys=True)
        uow.disputes.add_ticket(row, entity_rows)
        uow.disputes.add_ledger_entry(row["id"], entry.seq)
        (view,) = views(ports, uow, [row])
    publish(ports, relation, "troubleTicketCreateEvent", view)
    return view, etag(row)


# ---- reading ------------------------------------------------------------------------------


def get_ticket(
    ports: Ports, caller: Caller, ticket_id: str, fields: str | None = None
) -> tuple[dict[str, Any], str]:
    with ports.uow.read() as uow:
        row, _ = ticket_for(uow, caller, ticket_id)
        (view,) = views(ports, uow, [row])
    return select_fields(view, fields), etag(row)


def list_tickets(
    ports: Ports,
    caller: Caller,
    *,
    filters: dict[str, str],
    fields: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    with ports.uow.read() as uow:
        rows, total = uow.disputes.tickets(
            None if caller.is_operator else caller.party_id,
            ticket_id=filters.get("id"),
            status=filters.get("status"),
            ticket_type=filters.get("ticketType"),
            carrier_id=filters.get("relatedParty.id"),
            external_id=filters.get("externalId"),
            entity_id=filters.get("relatedEntity.id"),
            offset=offset,
            limit=limit,
        )
        found = views(ports, uow, rows)
    return [select_fields(v, fields) for v in found], total


def disputes_of_entities(uow: UnitOfWork, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
    """For each entity id (a match item ``runId:itemNo``, a bill line, a bill) that a dispute
    names: the newest such dispute's id, status and resolution (None while none is proposed)."""
    if not entity_ids:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for r in uow.disputes.disputes_naming(list(entity_ids)):  # oldest first: the newest wins
        resolution = json.loads(r["body"]).get("resolution")
        out[r["entity_id"]] = {
            "ticketId": r["id"],
            "status": r["status"],
            "resolution": public_resolution(resolution) if resolution else None,
        }
    return out


# ---- hub ----------------------------------------------------------------------------------


def register_listener(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    return hub.tmf_listener(ports, caller, _API, body)


def unregister_listener(ports: Ports, caller: Caller, listener_id: str) -> None:
    hub.remove_listener(ports, caller, _API, listener_id)
