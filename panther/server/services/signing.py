"""Endorsements: custodial parties sign on the server, external parties post a signature."""

from __future__ import annotations

from typing import Any

from panther.adapters.sql import repository as repo
from panther.ledger import eip712
from panther.ledger.transactions import Transaction

from .context import Ports
from .errors import InvalidInput

__all__ = ["endorse", "parse_signature"]


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


def endorse(ports: Ports, conn: Any, party: dict[str, Any], tx: Transaction,
            signature: str | None) -> bytes:
    """The party's signature over ``tx``: made here when custodial, checked when posted."""
    given = parse_signature(signature)
    if given is None:
        if party["custody"] != "custodial":
            raise InvalidInput(
                f"party {party['id']} signs its own transactions: post 'signature' over digest "
                f"{eip712.digest(ports.domain, tx).hex()}", status_code=400)
        row = repo.get_row(conn, repo.T.custodial_key, party_id=party["id"])
        if row is None:
            raise InvalidInput(f"no custodial key for party {party['id']}", status_code=400)
        return eip712.sign(ports.domain, tx, ports.keystore.unseal(row["sealed_key"]))
    if not eip712.verify(ports.domain, tx, given, party["address"]):
        raise InvalidInput(
            f"signature does not recover to {party['address']} over digest "
            f"{eip712.digest(ports.domain, tx).hex()}", status_code=422)
    return given
