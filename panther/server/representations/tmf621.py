"""TMF621 Trouble Ticket JSON of a dispute: the ticket as stored (a trouble_ticket row whose
``body`` holds its TMF properties) shown as a `Dispute`, with hrefs for what it names."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "COPIED_FROM_CREATION",
    "TMF_BASE",
    "creation_properties",
    "entity_href",
    "ledger_entity",
    "public_resolution",
    "ticket_view",
]

TMF_BASE = "/tmf-api/troubleTicket/v4"
_CBM = "/tmf-api/customerBillManagement/v4"

# Copied from the creation body as given (the server sets everything else).
COPIED_FROM_CREATION = (
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


def creation_properties(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a ticket keeps of the creation body as the caller gave it."""
    return {k: body[k] for k in COPIED_FROM_CREATION if k in body}


def ledger_entity(seq: int, name: str) -> dict[str, Any]:
    """The related entity naming the ledger entry of a dispute's transaction ``name``."""
    return {"id": str(seq), "role": "ledgerEntry", "@referredType": "LedgerEntry", "name": name}


def entity_href(base_url: str, entity: Mapping[str, Any]) -> str:
    """Where a related entity is read: a match item, a bill line, a ledger entry or a bill."""
    role, id_ = entity["role"], entity["id"]
    if role == "disputedItem":
        run_id, item_no = id_.rsplit(":", 1)
        return f"{base_url}/panther/v1/matchRun/{run_id}/item/{item_no}"
    if role == "disputedCharge":
        return f"{base_url}{_CBM}/appliedCustomerBillingRate/{id_}"
    if role == "ledgerEntry":
        return f"{base_url}/panther/v1/ledger/entry/{id_}"
    return f"{base_url}{_CBM}/customerBill/{id_}"  # disputedBill, creditedOn


def public_resolution(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored resolution as the API shows it (without what is kept for the ledger)."""
    out = {"@type": "DisputeResolution", **stored}
    out.pop("reason", None)
    if "creditAmount" in out:
        credit = out["creditAmount"]
        out["creditAmount"] = {"unit": credit["unit"], "value": credit["value"]}
    return out


def ticket_view(
    base_url: str, row: Mapping[str, Any], credited_on: str | None = None
) -> dict[str, Any]:
    """The ticket as a TMF621 `Dispute`; ``credited_on`` is the bill that carries its agreed
    credit, shown as a `creditedOn` related entity before the ledger entries."""
    body = json.loads(row["body"])
    view: dict[str, Any] = {
        "id": row["id"],
        "href": f"{base_url}{TMF_BASE}/troubleTicket/{row['id']}",
        "@type": "Dispute",
        "@baseType": "TroubleTicket",
    }
    if base_url:
        view["@schemaLocation"] = f"{base_url}{TMF_BASE}/openapi.json#/components/schemas/Dispute"
    view["ticketType"] = row["ticket_type"]
    view.update(creation_properties(body))
    view["status"] = row["status"]
    if body.get("statusChangeReason") is not None:
        view["statusChangeReason"] = body["statusChangeReason"]
    view["creationDate"] = row["created_at"]
    view["lastUpdate"] = row["updated_at"]
    view["statusChangeDate"] = body["statusChangeDate"]
    if body.get("resolutionDate"):
        view["resolutionDate"] = body["resolutionDate"]
    entities = list(body["relatedEntity"])
    if credited_on is not None:
        at = next((i for i, e in enumerate(entities) if e["role"] == "ledgerEntry"), len(entities))
        entities.insert(
            at, {"id": credited_on, "role": "creditedOn", "@referredType": "CustomerBill"}
        )
    view["relatedEntity"] = [{**e, "href": entity_href(base_url, e)} for e in entities]
    view["relatedParty"] = body["relatedParty"]
    view["note"] = body["note"]
    view["statusChange"] = body["statusChange"]
    if body.get("resolution"):
        view["resolution"] = public_resolution(body["resolution"])
    return view
