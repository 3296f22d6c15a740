"""Builders for tests and demos: keys, an operator, two carriers and a relation on a ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from panther.ledger.eip712 import LedgerDomain, endorse, new_key
from panther.ledger.port import LedgerAdapter
from panther.ledger.transactions import Transaction, TxType

__all__ = ["Actor", "Cast", "seed_ledger", "signed"]


@dataclass(frozen=True, slots=True)
class Actor:
    party_id: str
    key: bytes
    address: str

    @classmethod
    def new(cls, party_id: str) -> Actor:
        key, address = new_key()
        return cls(party_id, key, address)


@dataclass(frozen=True, slots=True)
class Cast:
    """The parties of a seeded ledger: seq 0 operator, 1 supplier, 2 customer, 3 relation."""

    operator: Actor
    supplier: Actor
    customer: Actor
    relation_id: str


def signed(
    domain: LedgerDomain,
    tx_type: TxType,
    payload: dict[str, Any],
    *signers: Actor,
    relation: str | None = None,
    merkle_root: bytes | None = None,
    version: int = 1,
) -> Transaction:
    """A transaction endorsed by `signers` in order."""
    tx = Transaction(tx_type, version, relation, payload, merkle_root)
    unsigned = tx
    for actor in signers:
        tx = tx.with_signature(*_signature(domain, unsigned, actor))
    return tx


def _signature(domain: LedgerDomain, unsigned: Transaction, actor: Actor) -> tuple[str, bytes]:
    endorsed = endorse(domain, unsigned, actor.key)
    return endorsed.signers[-1], endorsed.signatures[-1]


def seed_ledger(ledger: LedgerAdapter, relation_id: str = "rel-A-B") -> Cast:
    """Register an operator, a supplier and a customer, and agree one relation between them."""
    d = ledger.domain
    cast = Cast(Actor.new("operator"), Actor.new("carrier-a"), Actor.new("carrier-b"), relation_id)
    op = cast.operator
    ledger.append(signed(d, TxType.PartyRegistered, _party(op, "operator"), op))
    for carrier in (cast.supplier, cast.customer):
        ledger.append(signed(d, TxType.PartyRegistered, _party(carrier, "carrier"), op))
    terms = {"currency": "EUR", "billingPeriod": "month"}
    payload = {
        "relationId": relation_id,
        "supplier": cast.supplier.party_id,
        "customer": cast.customer.party_id,
        "profileHash": "00" * 32,
        "terms": terms,
    }
    ledger.append(
        signed(
            d, TxType.RelationAgreed, payload, cast.supplier, cast.customer, relation=relation_id
        )
    )
    return cast


def _party(actor: Actor, role: str) -> dict[str, Any]:
    return {
        "partyId": actor.party_id,
        "address": actor.address,
        "name": actor.party_id,
        "role": role,
    }
