"""Disputes between the two carriers of a relation, served as TMF621 trouble tickets.

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
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.inventory.views import select_fields
from panther.ledger.canonical import canonical_json
from panther.ledger.transactions import LedgerEntry, Transaction, TxType
from panther.settlement import InvalidTerms, Terms
from panther.settlement.money import CURRENCY_EXPONENTS

from . import hub
from .context import Caller, now_iso
from .errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from .ports import Ports, UnitOfWork
from .relations import relation_for
from .signing import co_sign, endorse

__all__ = [
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "TMF_BASE",
    "TRANSITIONS",
    "disputes_of_entities",
    "etag",
    "get_ticket",
    "list_tickets",
    "open_dispute",
    "open_statuses",
    "patch_ticket",
    "register_listener",
    "resolved_tx",
    "unregister_listener",
]

TMF_BASE = "/tmf-api/troubleTicket/v4"
_API = "troubleTicket"
_CBM = "/tmf-api/customerBillManagement/v4"

OPEN_STATUSES = frozenset({"acknowledged", "inProgress", "pending", "resolved"})
FINAL_STATUSES = frozenset({"closed", "rejected", "cancelled"})

# (from, to) -> who may make the change (TMF621 document, "Lifecycle"): the `originator`,
# the `other` carrier, `either`, or the carrier that did `notProposer` the resolution.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("acknowledged", "inProgress"): "other",
    ("acknowledged", "rejected"): "other",
    ("acknowledged", "cancelled"): "originator",
    ("inProgress", "cancelled"): "originator",
    ("pending", "cancelled"): "originator",
    ("inProgress", "pending"): "either",
    ("pending", "inProgress"): "either",
    ("inProgress", "resolved"): "either",
    ("pending", "resolved"): "either",
    ("resolved", "closed"): "notProposer",
    ("resolved", "inProgress"): "notProposer",
}
_WHO = {
    "other": "the carrier that did not open the dispute",
    "originator": "the carrier that opened the dispute",
    "notProposer": "the carrier that did not propose the resolution",
}

# role -> (the entity kind, @referredType, the ticket type it belongs to)
_ROLES = {
    "disputedItem": ("MatchItem", "inventoryDispute"),
    "disputedCharge": ("AppliedCustomerBillingRate", "billingDispute"),
    "disputedBill": ("CustomerBill", "billingDispute"),
}
_NEEDED_ROLE = {"inventoryDispute": "disputedItem", "billingDispute": "disputedCharge"}
# Copied from the creation body as given (the server sets everything else).
_CREATE_COPIED = (
    "name",
    "description",
    "severity",
    "priority",
    "externalId",
    "requestedResolutionDate",
    "attachment",
    "channel",
    "troubleTicketRelationship",
)
# What a proposal may say; proposedBy, proposalDate and agreementDate are the server's.
_RESOLUTION_GIVEN = ("outcome", "fieldValue", "creditAmount", "description")


def open_statuses() -> frozenset[str]:
    """The statuses of a dispute that is still open (its entities are held out of billing)."""
    return OPEN_STATUSES


def etag(row: dict[str, Any]) -> str:
    return f'"{row["revision"]}"'


def _invalid(pointer: str, message: str, status_code: int = 422) -> InvalidInput:
    return InvalidInput(
        f"{pointer.lstrip('/') or 'body'}: {message}",
        details=[{"pointer": pointer, "message": message}],
        status_code=status_code,
    )


# ---- ledger transactions ------------------------------------------------------------------


def _disputed_ids(body: dict[str, Any]) -> list[str]:
    return [e["id"] for e in body["relatedEntity"] if e["role"] in _ROLES]


def opened_tx(row: dict[str, Any], body: dict[str, Any]) -> Transaction:
    return Transaction(
        type=TxType.DisputeOpened,
        version=1,
        relation=row["relation_id"],
        payload={
            "ticketId": row["id"],
            "relationId": row["relation_id"],
            "ticketType": row["ticket_type"],
            "status": "acknowledged",
            "party": row["originator_id"],
            "relatedEntity": _disputed_ids(body),
        },
    )


def _ledger_resolution(resolution: dict[str, Any]) -> dict[str, Any]:
    """The resolution as both carriers sign it: no server dates, the credit as a decimal."""
    out: dict[str, Any] = {"outcome": resolution["outcome"]}
    if resolution.get("fieldValue"):
        out["fieldValue"] = resolution["fieldValue"]
    if resolution.get("creditAmount"):
        credit = resolution["creditAmount"]
        out["creditAmount"] = {"unit": credit["unit"], "value": credit["decimal"]}
    if resolution.get("description") is not None:
        out["description"] = resolution["description"]
    out["proposedBy"] = resolution["proposedBy"]
    return out


def status_changed_tx(
    row: dict[str, Any],
    body: dict[str, Any],
    party_id: str,
    before: str,
    after: str,
    reason: str | None,
) -> Transaction:
    payload: dict[str, Any] = {
        "ticketId": row["id"],
        "relationId": row["relation_id"],
        "party": party_id,
        "from": before,
        "status": after,
        "reason": reason,
        "relatedEntity": _disputed_ids(body),
    }
    if after == "resolved":
        payload["proposalNo"] = row["proposal_no"]
        payload["resolution"] = _ledger_resolution(body["resolution"])
    return Transaction(
        type=TxType.DisputeStatusChanged, version=1, relation=row["relation_id"], payload=payload
    )


def resolved_tx(row: dict[str, Any], body: dict[str, Any]) -> Transaction:
    """The agreement to the current proposal: the same bytes for the proposer, who signs when
    proposing, and the other carrier, who signs when closing."""
    return Transaction(
        type=TxType.DisputeResolved,
        version=1,
        relation=row["relation_id"],
        payload={
            "ticketId": row["id"],
            "relationId": row["relation_id"],
            "proposalNo": row["proposal_no"],
            "status": "closed",
            "reason": body["resolution"].get("reason"),
            "resolution": _ledger_resolution(body["resolution"]),
            "relatedEntity": _disputed_ids(body),
        },
    )


def _append_signed(ports: Ports, uow: UnitOfWork, party_id: str, tx: Transaction) -> LedgerEntry:
    party = repo.get_row(uow.conn, repo.T.party, id=party_id)
    assert party is not None
    sig = endorse(ports, uow, party, tx, None)
    entry: LedgerEntry = uow.append(replace(tx, signers=(party["address"],), signatures=(sig,)))
    return entry


def _ledger_ref(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": str(entry.seq),
        "role": "ledgerEntry",
        "@referredType": "LedgerEntry",
        "name": entry.tx.type.value,
    }


# ---- views --------------------------------------------------------------------------------


def _href(ports: Ports, entity: dict[str, Any]) -> str:
    base = ports.settings.public_base_url
    role, id_ = entity["role"], entity["id"]
    if role == "disputedItem":
        run_id, item_no = id_.rsplit(":", 1)
        return f"{base}/panther/v1/matchRun/{run_id}/item/{item_no}"
    if role == "disputedCharge":
        return f"{base}{_CBM}/appliedCustomerBillingRate/{id_}"
    if role == "ledgerEntry":
        return f"{base}/panther/v1/ledger/entry/{id_}"
    return f"{base}{_CBM}/customerBill/{id_}"  # disputedBill, creditedOn


def _credited_on(uow: UnitOfWork, row: dict[str, Any]) -> dict[str, Any] | None:
    """The statement of the credited period that carries the credit (its newest version)."""
    if not row.get("credited_period"):
        return None
    st = repo.T.statement
    bill = uow.conn.execute(
        sa.select(st.c.id)
        .where(st.c.relation_id == row["relation_id"], st.c.period == row["credited_period"])
        .order_by(st.c.version.desc())
        .limit(1)
    ).scalar()
    if bill is None:
        return None
    return {"id": bill, "role": "creditedOn", "@referredType": "CustomerBill"}


def ticket_view(ports: Ports, row: dict[str, Any], uow: UnitOfWork) -> dict[str, Any]:
    base = ports.settings.public_base_url
    body = json.loads(row["body"])
    view: dict[str, Any] = {
        "id": row["id"],
        "href": f"{base}{TMF_BASE}/troubleTicket/{row['id']}",
        "@type": "Dispute",
        "@baseType": "TroubleTicket",
    }
    if base:
        view["@schemaLocation"] = f"{base}{TMF_BASE}/openapi.json#/components/schemas/Dispute"
    view["ticketType"] = row["ticket_type"]
    for key in _CREATE_COPIED:
        if key in body:
            view[key] = body[key]
    view["status"] = row["status"]
    if body.get("statusChangeReason") is not None:
        view["statusChangeReason"] = body["statusChangeReason"]
    view["creationDate"] = row["created_at"]
    view["lastUpdate"] = row["updated_at"]
    view["statusChangeDate"] = body["statusChangeDate"]
    if body.get("resolutionDate"):
        view["resolutionDate"] = body["resolutionDate"]
    entities = list(body["relatedEntity"])
    credited = _credited_on(uow, row)
    if credited is not None:
        at = next((i for i, e in enumerate(entities) if e["role"] == "ledgerEntry"), len(entities))
        entities.insert(at, credited)
    view["relatedEntity"] = [{**e, "href": _href(ports, e)} for e in entities]
    view["relatedParty"] = body["relatedParty"]
    view["note"] = body["note"]
    view["statusChange"] = body["statusChange"]
    if body.get("resolution"):
        view["resolution"] = _public_resolution(body["resolution"])
    return view


def _public_resolution(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored resolution as the API shows it (without what is kept for the ledger)."""
    out = {"@type": "DisputeResolution", **stored}
    out.pop("reason", None)
    if "creditAmount" in out:
        credit = out["creditAmount"]
        out["creditAmount"] = {"unit": credit["unit"], "value": credit["value"]}
    return out


# ---- opening a dispute --------------------------------------------------------------------


def _match_item(uow: UnitOfWork, caller: Caller, entity_id: str, at: str) -> tuple[str, str | None]:
    """(relation id, product id) of a disputed match item ``runId:itemNo``."""
    run_id, sep, item_text = entity_id.rpartition(":")
    if not sep or not run_id or not item_text.isdigit():
        raise _invalid(at, "a match item is named runId:itemNo")
    run = repo.get_row(uow.conn, repo.T.run, id=run_id)
    item = (
        repo.get_row(uow.conn, repo.T.item, run_id=run_id, item_no=int(item_text)) if run else None
    )
    if run is None or item is None or not _sees(uow, caller, run["relation_id"]):
        raise _invalid(at, f"no match item {entity_id} in your relations")
    body = json.loads(item["body"])
    if body["class"] not in ("partial", "mismatch"):
        raise _invalid(at, f"match item {entity_id} is {body['class']}, not partial or mismatch")
    if body.get("reason") == "missingAtSupplier":
        report_id, refs = run["customer_report_id"], body["customerRefs"]
    else:
        report_id, refs = run["supplier_report_id"], body["supplierRefs"]
    product_id = None
    if refs:
        rec = repo.get_row(uow.conn, repo.T.record, report_id=report_id, seq=refs[0])
        if rec is not None:
            product_id = str(json.loads(rec["body"]).get("id") or rec["product_id"])
    return run["relation_id"], product_id


def _sees(uow: UnitOfWork, caller: Caller, relation_id: str) -> bool:
    try:
        relation_for(uow, caller, relation_id)
    except NotFound:
        return False
    return True


def _resolve_entities(
    uow: UnitOfWork, caller: Caller, ticket_type: str, given: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """The relation, the related entities to store and one dispute_entity row per entity."""
    relation_id: str | None = None
    entities: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    charges_bills: set[str] = set()
    bills: list[tuple[int, str]] = []
    for n, entity in enumerate(given):
        at = f"/relatedEntity/{n}"
        role = entity.get("role")
        if role not in _ROLES:
            raise _invalid(f"{at}/role", "must be disputedItem, disputedCharge or disputedBill")
        kind, belongs_to = _ROLES[role]
        if belongs_to != ticket_type:
            raise _invalid(f"{at}/role", f"an {ticket_type} has no {role}")
        if entity.get("@referredType") != kind:
            raise _invalid(f"{at}/@referredType", f"a {role} is a {kind}")
        entity_id = str(entity["id"])
        if any(r["entity_id"] == entity_id for r in rows):
            raise _invalid(f"{at}/id", f"{entity_id} is named twice")
        if role == "disputedItem":
            rel, product_id = _match_item(uow, caller, entity_id, f"{at}/id")
        elif role == "disputedCharge":
            line = repo.get_row(uow.conn, repo.T.bill_line, id=entity_id)
            if line is None or not _sees(uow, caller, line["relation_id"]):
                raise _invalid(f"{at}/id", f"no appliedCustomerBillingRate {entity_id}")
            rel, product_id = line["relation_id"], line["product_id"]
            charges_bills.add(line["bill_id"])
        else:
            bill = repo.get_row(uow.conn, repo.T.statement, id=entity_id)
            if bill is None or not _sees(uow, caller, bill["relation_id"]):
                raise _invalid(f"{at}/id", f"no customerBill {entity_id}")
            rel, product_id = bill["relation_id"], None
            bills.append((n, entity_id))
        if relation_id is None:
            relation_id = rel
        elif rel != relation_id:
            raise _invalid(
                f"{at}/id", f"{entity_id} is of relation {rel}; this dispute is about {relation_id}"
            )
        stored = {"id": entity_id, "role": role, "@referredType": kind}
        if entity.get("name") is not None:
            stored["name"] = str(entity["name"])
        entities.append(stored)
        rows.append({"entity_id": entity_id, "kind": kind, "product_id": product_id})
    needed = _NEEDED_ROLE[ticket_type]
    if not any(e["role"] == needed for e in entities):
        raise _invalid("/relatedEntity", f"an {ticket_type} needs at least one {needed}")
    for n, bill_id in bills:
        if bill_id not in charges_bills:
            raise _invalid(f"/relatedEntity/{n}/id", f"no disputed charge is a line of {bill_id}")
    assert relation_id is not None
    for r in rows:
        r["relation_id"] = relation_id
    return relation_id, entities, rows


def _parties(
    uow: UnitOfWork, relation: dict[str, Any], originator: str, given: list[dict[str, Any]]
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
            raise _invalid(f"/relatedParty/{n}/id", f"{pid} is not a carrier of this relation")
        if party.get("role") is not None and party["role"] not in roles[pid]:
            raise _invalid(f"/relatedParty/{n}/role", f"{pid} is not the {party['role']}")
    names = {
        p["id"]: p["name"]
        for p in repo.list_rows(uow.conn, repo.T.party, [repo.T.party.c.id.in_(list(roles))])
    }

    def ref(pid: str, role: str) -> dict[str, Any]:
        out = {"id": pid, "name": names.get(pid), "role": role, "@referredType": "Organization"}
        return {k: v for k, v in out.items() if v is not None}

    return [
        ref(relation["supplier_id"], "supplier"),
        ref(relation["customer_id"], "customer"),
        ref(originator, "originator"),
    ]


def _open_elsewhere(uow: UnitOfWork, entity_ids: list[str]) -> tuple[str, str] | None:
    de, tt = repo.T.dispute_entity, repo.T.ticket
    hit = uow.conn.execute(
        sa.select(de.c.entity_id, tt.c.id)
        .join(tt, tt.c.id == de.c.ticket_id)
        .where(de.c.entity_id.in_(entity_ids), tt.c.status.in_(sorted(OPEN_STATUSES)))
        .limit(1)
    ).first()
    return (str(hit[0]), str(hit[1])) if hit else None


def _new_notes(
    given: list[dict[str, Any]], start: int, author: str, now: str, at: str
) -> list[dict[str, Any]]:
    notes = []
    for n, note in enumerate(given):
        text = note.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _invalid(f"{at}/{start + n}/text", "a note needs a text")
        out = {k: v for k, v in note.items() if k not in ("id", "author", "date")}
        notes.append({**out, "id": str(start + n + 1), "author": author, "date": now})
    return notes


def open_dispute(ports: Ports, caller: Caller, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Open a dispute (POST /troubleTicket): status `acknowledged`, `DisputeOpened` signed by
    the caller, the partner notified. Returns the view and its ETag."""
    if caller.is_operator:
        raise Forbidden("disputes are opened by the carriers of a relation")
    ticket_type = str(body["ticketType"])
    now = now_iso()
    with ports.uow.write() as uow:
        relation_id, entities, entity_rows = _resolve_entities(
            uow, caller, ticket_type, list(body["relatedEntity"])
        )
        relation = relation_for(uow, caller, relation_id)
        if caller.party_id not in (relation["supplier_id"], relation["customer_id"]):
            raise Forbidden("only the relation's carriers open its disputes")
        if relation["state"] != "agreed":
            raise Conflict(f"relation {relation_id} is not agreed by both parties")
        # One opening per relation at a time (PostgreSQL), so two cannot both find an
        # entity free; SQLite's single writer already serialises them.
        rel = repo.T.relation
        uow.conn.execute(sa.select(rel.c.id).where(rel.c.id == relation_id).with_for_update())
        clash = _open_elsewhere(uow, [r["entity_id"] for r in entity_rows])
        if clash is not None:
            raise Conflict(f"{clash[0]} is already disputed in the open trouble ticket {clash[1]}")
        stored: dict[str, Any] = {k: body[k] for k in _CREATE_COPIED if k in body}
        stored["relatedEntity"] = entities
        stored["relatedParty"] = _parties(
            uow, relation, caller.party_id, list(body.get("relatedParty") or [])
        )
        stored["note"] = _new_notes(list(body.get("note") or []), 0, caller.party_id, now, "/note")
        stored["statusChange"] = [
            {
                "status": "acknowledged",
                "changeDate": now,
                "changeReason": f"opened by {caller.party_id}",
            }
        ]
        stored["statusChangeDate"] = now
        row: dict[str, Any] = {
            "id": f"TT-{secrets.token_hex(8)}",
            "relation_id": relation_id,
            "ticket_type": ticket_type,
            "status": "acknowledged",
            "originator_id": caller.party_id,
            "revision": 1,
            "proposal_no": 0,
            "credit": None,
            "credited_period": None,
            "resolved_seq": None,
            "created_at": now,
            "updated_at": now,
        }
        entry = _append_signed(ports, uow, caller.party_id, opened_tx(row, stored))
        stored["relatedEntity"].append(_ledger_ref(entry))
        row["body"] = json.dumps(stored, sort_keys=True)
        repo.insert_row(uow.conn, repo.T.ticket, row)
        for r in entity_rows:
            repo.insert_row(uow.conn, repo.T.dispute_entity, {**r, "ticket_id": row["id"]})
        view = ticket_view(ports, row, uow)
    _publish(ports, relation, "troubleTicketCreateEvent", view)
    return view, etag(row)


# ---- reading ------------------------------------------------------------------------------


def _ticket_for(
    uow: UnitOfWork, caller: Caller, ticket_id: str, *, lock: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    tt = repo.T.ticket
    q = sa.select(tt).where(tt.c.id == ticket_id)
    if lock:
        q = q.with_for_update()
    found = uow.conn.execute(q).mappings().first()
    if found is None:
        raise NotFound(f"no troubleTicket {ticket_id}")
    row = dict(found)
    try:
        relation = relation_for(uow, caller, row["relation_id"])
    except NotFound:
        raise NotFound(f"no troubleTicket {ticket_id}") from None
    return row, relation


def get_ticket(
    ports: Ports, caller: Caller, ticket_id: str, fields: str | None = None
) -> tuple[dict[str, Any], str]:
    with ports.uow.read() as uow:
        row, _ = _ticket_for(uow, caller, ticket_id)
        view = ticket_view(ports, row, uow)
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
    tt, rel = repo.T.ticket, repo.T.relation
    q = sa.select(tt).join(rel, rel.c.id == tt.c.relation_id)
    if not caller.is_operator:
        q = q.where(
            sa.or_(rel.c.supplier_id == caller.party_id, rel.c.customer_id == caller.party_id)
        )
    if "id" in filters:
        q = q.where(tt.c.id == filters["id"])
    if "status" in filters:
        q = q.where(tt.c.status == filters["status"])
    if "ticketType" in filters:
        q = q.where(tt.c.ticket_type == filters["ticketType"])
    if "relatedParty.id" in filters:
        wanted = filters["relatedParty.id"]
        q = q.where(sa.or_(rel.c.supplier_id == wanted, rel.c.customer_id == wanted))
    with ports.uow.read() as uow:
        rows = [dict(r) for r in uow.conn.execute(q.order_by(tt.c.created_at, tt.c.id)).mappings()]
        views = [ticket_view(ports, r, uow) for r in rows]
    if "externalId" in filters:
        views = [v for v in views if v.get("externalId") == filters["externalId"]]
    if "relatedEntity.id" in filters:
        wanted = filters["relatedEntity.id"]
        views = [v for v in views if any(e["id"] == wanted for e in v["relatedEntity"])]
    return [select_fields(v, fields) for v in views[offset : offset + limit]], len(views)


def disputes_of_entities(uow: UnitOfWork, entity_ids: list[str]) -> dict[str, dict[str, Any]]:
    """For each entity id (a match item ``runId:itemNo``, a bill line, a bill) that a dispute
    names: the newest such dispute's id, status and resolution (None while none is proposed)."""
    if not entity_ids:
        return {}
    de, tt = repo.T.dispute_entity, repo.T.ticket
    rows = uow.conn.execute(
        sa.select(de.c.entity_id, tt.c.id, tt.c.status, tt.c.body)
        .join(tt, tt.c.id == de.c.ticket_id)
        .where(de.c.entity_id.in_(list(entity_ids)))
        .order_by(tt.c.created_at, tt.c.id)
    )
    out: dict[str, dict[str, Any]] = {}
    for entity_id, ticket_id, status, body in rows:  # oldest first: the newest wins
        resolution = json.loads(body).get("resolution")
        out[entity_id] = {
            "ticketId": ticket_id,
            "status": status,
            "resolution": _public_resolution(resolution) if resolution else None,
        }
    return out


# ---- changing a ticket --------------------------------------------------------------------


def _credit(raw: Any, currency: str) -> dict[str, Any]:
    """A proposed credit: in the relation's currency, positive, at most its minor digits."""
    unit = raw.get("unit")
    if unit != currency:
        raise _invalid(
            "/resolution/creditAmount/unit", f"the relation's currency is {currency}, not {unit}"
        )
    value = raw.get("value")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _invalid("/resolution/creditAmount/value", "not a number") from None
    if isinstance(value, bool) or not amount.is_finite() or amount <= 0:
        raise _invalid("/resolution/creditAmount/value", "must be a positive amount")
    exp = CURRENCY_EXPONENTS[currency]
    if -amount.normalize().as_tuple().exponent > exp:  # type: ignore[operator]
        raise _invalid(
            "/resolution/creditAmount/value", f"{currency} has at most {exp} decimal digits"
        )
    try:
        text = str(amount.quantize(Decimal(1).scaleb(-exp)))
    except InvalidOperation:
        raise _invalid("/resolution/creditAmount/value", "too large") from None
    return {"unit": currency, "value": float(text), "decimal": text}


def _resolution(
    raw: dict[str, Any], relation: dict[str, Any], proposer: str, reason: str | None, now: str
) -> dict[str, Any]:
    out: dict[str, Any] = {k: raw[k] for k in _RESOLUTION_GIVEN if k in raw}
    for n, fv in enumerate(out.get("fieldValue") or []):
        if fv.get("valueFrom") == "agreed" and "value" not in fv:
            raise _invalid(f"/resolution/fieldValue/{n}/value", "an agreed value is given here")
    if out["outcome"] == "agreedValue" and not any(
        fv.get("valueFrom") == "agreed" for fv in out.get("fieldValue") or []
    ):
        raise _invalid("/resolution/fieldValue", "agreedValue names the agreed value(s) here")
    if "creditAmount" in out:
        try:
            terms = Terms.from_json(json.loads(relation["terms"]))
        except InvalidTerms:
            raise _invalid(
                "/resolution/creditAmount", "the relation's terms name no currency"
            ) from None
        out["creditAmount"] = _credit(out["creditAmount"], terms.currency)
    _signable(out, "/resolution")
    out["proposedBy"] = proposer
    out["proposalDate"] = now
    out["reason"] = reason  # the proposal's reason, part of what both carriers sign
    return out


def _signable(value: Any, pointer: str) -> None:
    """What goes into a ledger payload must have a canonical JSON form (RFC 8785)."""
    try:
        canonical_json(value)
    except ValueError:
        raise _invalid(pointer, "not representable in a signed ledger payload") from None


def _check_notes(
    stored: list[dict[str, Any]], given: list[dict[str, Any]], status: str
) -> list[dict[str, Any]]:
    """The notes to append; the given array must start with the stored notes unchanged."""
    if len(given) < len(stored) or any(a != b for a, b in zip(stored, given, strict=False)):
        raise Conflict(
            "notes are append-only: send the current notes unchanged followed by the new ones "
            "(someone may have added a note meanwhile: read the ticket again)"
        )
    fresh = given[len(stored) :]
    if fresh and status in FINAL_STATUSES:
        raise Conflict(f"the ticket is {status}; it takes no more notes")
    return fresh


def patch_ticket(
    ports: Ports, caller: Caller, ticket_id: str, body: dict[str, Any], if_match: str | None
) -> tuple[dict[str, Any], str]:
    """Change the status (with a resolution when it becomes `resolved`) or add notes."""
    now = now_iso()
    events: list[str] = []
    with ports.uow.write() as uow:
        row, relation = _ticket_for(uow, caller, ticket_id, lock=True)
        if if_match is not None and if_match.strip() not in ("*", etag(row)):
            raise PreconditionFailed(
                f"troubleTicket {ticket_id} changed: its ETag is {etag(row)}, not {if_match}"
            )
        if caller.party_id not in (relation["supplier_id"], relation["customer_id"]):
            raise Forbidden("only the relation's carriers change its disputes")
        stored = json.loads(row["body"])
        before = row["status"]
        wanted = body.get("status")
        reason = body.get("statusChangeReason")
        if "resolution" in body and wanted != "resolved":
            raise _invalid("/resolution", "a resolution is given with status resolved only")
        if reason is not None and wanted is None:
            raise _invalid("/statusChangeReason", "a reason is given with a new status only")
        changing = wanted is not None and (wanted != before or "resolution" in body)
        if changing:
            allowed = TRANSITIONS.get((before, wanted))
            if allowed is None:
                raise Conflict(f"a trouble ticket in status {before} cannot become {wanted}")
            originator = row["originator_id"]
            proposer = (stored.get("resolution") or {}).get("proposedBy")
            may = {
                "either": True,
                "originator": caller.party_id == originator,
                "other": caller.party_id != originator,
                "notProposer": caller.party_id != proposer,
            }[allowed]
            if not may:
                raise Forbidden(f"only {_WHO[allowed]} moves it from {before} to {wanted}")
            if wanted == "rejected" and not reason:
                raise _invalid("/statusChangeReason", "a rejection says why")
            _signable(reason, "/statusChangeReason")
            if wanted == "resolved" and "resolution" not in body:
                raise _invalid("/resolution", "status resolved proposes a resolution")
        fresh: list[dict[str, Any]] = []
        if "note" in body:
            fresh = _check_notes(stored["note"], list(body["note"] or []), before)
        if not changing and not fresh:
            return ticket_view(ports, row, uow), etag(row)
        values: dict[str, Any] = {"revision": row["revision"] + 1, "updated_at": now}
        if fresh:
            stored["note"] = stored["note"] + _new_notes(
                fresh, len(stored["note"]), caller.party_id, now, "/note"
            )
            events.append("troubleTicketAttributeValueChangeEvent")
        if changing:
            assert isinstance(wanted, str)
            values["status"] = wanted
            entry = _change_status(
                ports, uow, row, relation, stored, values, caller, wanted, reason, now, body
            )
            stored["relatedEntity"].append(_ledger_ref(entry))
            change: dict[str, Any] = {"status": wanted, "changeDate": now}
            if reason is not None:
                change["changeReason"] = reason
            stored["statusChange"].append(change)
            stored["statusChangeDate"] = now
            stored["statusChangeReason"] = reason
            events.insert(0, "troubleTicketStatusChangeEvent")
            if wanted == "resolved":
                events.append("troubleTicketResolvedEvent")
        values["body"] = json.dumps(stored, sort_keys=True)
        tt = repo.T.ticket
        changed = uow.conn.execute(
            tt.update()
            .where(tt.c.id == ticket_id, tt.c.revision == row["revision"])
            .values(**values)
        ).rowcount
        if not changed:  # someone else changed it between our read and this write
            raise PreconditionFailed(f"troubleTicket {ticket_id} changed meanwhile; read it again")
        row = {**row, **values}
        view = ticket_view(ports, row, uow)
    for event_type in events:
        _publish(ports, relation, event_type, view)
    return view, etag(row)


def _change_status(
    ports: Ports,
    uow: UnitOfWork,
    row: dict[str, Any],
    relation: dict[str, Any],
    stored: dict[str, Any],
    values: dict[str, Any],
    caller: Caller,
    wanted: str,
    reason: str | None,
    now: str,
    body: dict[str, Any],
) -> LedgerEntry:
    """The ledger side of a status change; updates ``stored`` and ``values`` in place."""
    before = row["status"]
    if wanted == "closed":
        signed = co_sign(
            ports,
            uow,
            signatures=uow.disputes.signatures(row["id"], row["proposal_no"]),
            relation=relation,
            party_id=caller.party_id,
            tx=resolved_tx(row, stored),
            signature=None,
        )
        if signed.entry is None:
            raise Conflict(f"the resolution of {row['id']} lacks the proposer's signature")
        resolution = stored["resolution"]
        resolution["agreementDate"] = now
        stored["resolutionDate"] = now
        values["resolved_seq"] = signed.entry.seq
        if resolution.get("creditAmount"):
            values["credit"] = json.dumps(
                {
                    "value": resolution["creditAmount"]["decimal"],
                    "unit": resolution["creditAmount"]["unit"],
                    "productId": _credited_product(uow, row["id"]),
                },
                sort_keys=True,
            )
        return signed.entry
    if wanted == "resolved":
        values["proposal_no"] = row["proposal_no"] + 1
        stored["resolution"] = _resolution(
            body["resolution"], relation, caller.party_id, reason, now
        )
        proposal = {**row, "proposal_no": values["proposal_no"]}
        entry = _append_signed(
            ports,
            uow,
            caller.party_id,
            status_changed_tx(proposal, stored, caller.party_id, before, wanted, reason),
        )
        # The proposer's half of the agreement; the other carrier's `closed` completes it.
        co_sign(
            ports,
            uow,
            signatures=uow.disputes.signatures(row["id"], values["proposal_no"]),
            relation=relation,
            party_id=caller.party_id,
            tx=resolved_tx(proposal, stored),
            signature=None,
        )
        return entry
    if before == "resolved":  # declined: the proposal goes
        stored.pop("resolution", None)
    return _append_signed(
        ports,
        uow,
        caller.party_id,
        status_changed_tx(row, stored, caller.party_id, before, wanted, reason),
    )


def _credited_product(uow: UnitOfWork, ticket_id: str) -> str | None:
    """The product a credit is for: the one product the dispute names, if it names one."""
    de = repo.T.dispute_entity
    products = {
        p
        for (p,) in uow.conn.execute(sa.select(de.c.product_id).where(de.c.ticket_id == ticket_id))
        if p is not None
    }
    return products.pop() if len(products) == 1 else None


# ---- hub ----------------------------------------------------------------------------------


def register_listener(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    return hub.tmf_listener(ports, caller, _API, body)


def unregister_listener(ports: Ports, caller: Caller, listener_id: str) -> None:
    hub.remove_listener(ports, caller, _API, listener_id)


def _publish(
    ports: Ports, relation: dict[str, Any], event_type: str, ticket: dict[str, Any]
) -> None:
    extra = {"fieldPath": "note"} if event_type == "troubleTicketAttributeValueChangeEvent" else {}
    hub.publish_to_relation(ports, _API, relation, event_type, {"troubleTicket": ticket}, **extra)
