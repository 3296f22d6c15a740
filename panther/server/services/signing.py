"""Endorsements: custodial parties sign on the server, external parties post a signature."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from panther.adapters.sql import repository as repo
from panther.ledger import eip712
from panther.ledger.transactions import LedgerEntry, Transaction

from .context import Ports, now_iso
from .errors import Forbidden, InvalidInput

__all__ = ["CoSigned", "co_sign", "endorse", "parse_signature"]


def parse_signature(text: str | None) -> bytes | None:
    if text is None:
        return None
    raw = text[2:] if text.startswith("0x") else text
    try:
        sig = bytes.fromhex(raw)
    except ValueError:
        raise InvalidInput("signature must be 65 bytes of hex", status_code=400) from None
    if len(sig) != 65:
        raise InvalidInput("signature must be 65 bytes of hex", status_code=400)
    return sig


def endorse(
    ports: Ports, conn: Any, party: dict[str, Any], tx: Transaction, signature: str | None
) -> bytes:
    """The party's signature over ``tx``: made here when custodial, checked when posted."""
    given = parse_signature(signature)
    if given is None:
        if party["custody"] != "custodial":
            raise InvalidInput(
                f"party {party['id']} signs its own transactions: post 'signature' over digest "
                f"{eip712.digest(ports.domain, tx).hex()}",
                status_code=400,
            )
        row = repo.get_row(conn, repo.T.custodial_key, party_id=party["id"])
        if row is None:
            raise InvalidInput(f"no custodial key for party {party['id']}", status_code=400)
        return eip712.sign(ports.domain, tx, ports.keystore.unseal(row["sealed_key"]))
    if not eip712.verify(ports.domain, tx, given, party["address"]):
        raise InvalidInput(
            f"signature does not recover to {party['address']} over digest "
            f"{eip712.digest(ports.domain, tx).hex()}",
            status_code=422,
        )
    return given


@dataclass(frozen=True)
class CoSigned:
    """The signatures collected so far; ``entry`` is set once both parties have signed."""

    rows: list[dict[str, Any]]
    entry: LedgerEntry | None
    already: bool = False


def co_sign(
    ports: Ports,
    conn: Any,
    *,
    table: Any,
    key: dict[str, Any],
    relation: dict[str, Any],
    party_id: str,
    tx: Transaction,
    signature: str | None,
) -> CoSigned:
    """Record one party's signature over ``tx``; with both parties' signatures, append ``tx``
    carrying both (supplier first) to the ledger. Signing twice changes nothing."""
    if party_id not in (relation["supplier_id"], relation["customer_id"]):
        raise Forbidden("only the supplier and the customer sign this")
    cond = [table.c[k] == v for k, v in key.items()]
    rows = repo.list_rows(conn, table, cond)
    if any(r["party_id"] == party_id for r in rows):
        return CoSigned(rows, None, already=True)
    party = repo.get_row(conn, repo.T.party, id=party_id)
    assert party is not None
    sig = endorse(ports, conn, party, tx, signature)
    repo.insert_row(
        conn,
        table,
        {**key, "party_id": party_id, "signature": "0x" + sig.hex(), "created_at": now_iso()},
    )
    rows = repo.list_rows(conn, table, cond)
    if len(rows) < 2:
        return CoSigned(rows, None)
    by_party = {r["party_id"]: r["signature"] for r in rows}
    signers = [
        repo.get_row(conn, repo.T.party, id=relation[f"{side}_id"])
        for side in ("supplier", "customer")
    ]
    signed = replace(
        tx,
        signers=tuple(p["address"] for p in signers if p),
        signatures=tuple(bytes.fromhex(by_party[p["id"]][2:]) for p in signers if p),
    )
    return CoSigned(rows, ports.ledger.append(signed, conn=conn))
