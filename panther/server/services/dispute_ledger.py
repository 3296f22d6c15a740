"""The ledger transactions of a dispute (`DisputeOpened`, `DisputeStatusChanged`,
`DisputeResolved`) built from a stored ticket, and one carrier's signed append."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from panther.ledger.transactions import LedgerEntry, Transaction, TxType

from .ports import Ports, Row, UnitOfWork
from .signing import endorse

__all__ = [
    "DISPUTED_ROLES",
    "append_signed",
    "opened_tx",
    "resolved_tx",
    "status_changed_tx",
]

# The roles of the related entities a dispute is about (the others are its ledger entries).
DISPUTED_ROLES = frozenset({"disputedItem", "disputedCharge", "disputedBill"})


def _disputed_ids(body: dict[str, Any]) -> list[str]:
    return [e["id"] for e in body["relatedEntity"] if e["role"] in DISPUTED_ROLES]


def opened_tx(row: Row, body: dict[str, Any]) -> Transaction:
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
    row: Row,
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


def resolved_tx(row: Row, body: dict[str, Any]) -> Transaction:
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


def append_signed(ports: Ports, uow: UnitOfWork, party_id: str, tx: Transaction) -> LedgerEntry:
    """Append ``tx`` signed by the (custodial) party alone."""
    party = uow.parties.get(party_id)
    assert party is not None
    sig = endorse(ports, uow, party, tx, None)
    entry: LedgerEntry = uow.append(replace(tx, signers=(party["address"],), signatures=(sig,)))
    return entry
