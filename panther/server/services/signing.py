"""Endorsements: custodial parties sign on the server, external parties post a signature."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from panther.ledger import eip712
from panther.ledger.transactions import LedgerEntry, Transaction

from .errors import Forbidden, InvalidInput
from .ports import CoSignatures, Ports, Row, UnitOfWork

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
    ports: Ports, uow: UnitOfWork, party: Row, tx: Transaction, signature: str | None
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
        sealed = uow.parties.sealed_key(party["id"])
        if sealed is None:
            raise InvalidInput(f"no custodial key for party {party['id']}", status_code=400)
        return eip712.sign(ports.domain, tx, ports.keystore.unseal(sealed))
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

    rows: list[Row]
    entry: LedgerEntry | None
    already: bool = False


def co_sign(
    ports: Ports,
    uow: UnitOfWork,
    *,
    signatures: CoSignatures,
    relation: Row,
    party_id: str,
    tx: Transaction,
    signature: str | None,
) -> CoSigned:
    """Record one party's signature over ``tx``; with both parties' signatures, append ``tx``
    carrying both (supplier first) to the ledger. Signing twice changes nothing.

    Exactly once, however close together the two sign: the lock is taken before anything is
    read, so the second signer waits for the first to commit and sees its signature; each
    party signs once (the signature table's key), so only one of them sees both."""
    if party_id not in (relation["supplier_id"], relation["customer_id"]):
        raise Forbidden("only the supplier and the customer sign this")
    signatures.lock()
    rows = signatures.rows()
    if any(r["party_id"] == party_id for r in rows):
        return CoSigned(rows, None, already=True)
    party = uow.parties.get(party_id)
    assert party is not None
    sig = endorse(ports, uow, party, tx, signature)
    signatures.add(party_id, "0x" + sig.hex(), ports.clock.now_iso())
    rows = signatures.rows()
    if len(rows) < 2:
        return CoSigned(rows, None)
    by_party: dict[str, Any] = {r["party_id"]: r["signature"] for r in rows}
    signers = [uow.parties.get(relation[f"{side}_id"]) for side in ("supplier", "customer")]
    signed = replace(
        tx,
        signers=tuple(p["address"] for p in signers if p),
        signatures=tuple(bytes.fromhex(by_party[p["id"]][2:]) for p in signers if p),
    )
    return CoSigned(rows, uow.append(signed))
