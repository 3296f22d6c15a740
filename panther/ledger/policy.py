"""Endorsement policy: who must sign each transaction type, and the registry it is judged against.

The registry (operator, parties, relations) is itself built from the ledger's own
PartyRegistered and RelationAgreed entries, so every adapter and the verifier agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from panther.ledger.eip712 import LedgerDomain, recover_all
from panther.ledger.errors import (
    InvalidSignature,
    InvalidTransaction,
    PolicyViolation,
    UnknownParty,
)
from panther.ledger.transactions import Transaction, TxType

__all__ = [
    "BOTH_PARTIES",
    "LedgerRegistry",
    "PartyRegistry",
    "RelationParties",
    "authorize",
    "check_policy",
    "check_signatures",
]

# Types that become final only with both the supplier's and the customer's signature.
BOTH_PARTIES = frozenset(
    {
        TxType.RelationAgreed,
        TxType.MatchEndorsed,
        TxType.DisputeResolved,
        TxType.StatementAgreed,
        TxType.PaymentSettled,
        TxType.ReviewAgreed,
    }
)
_OPERATOR_SIGNED = frozenset({TxType.MatchRecorded, TxType.NettingCertified})
_ONE_PARTY = frozenset(
    {TxType.DisputeOpened, TxType.DisputeStatusChanged, TxType.InventoryReported}
)


@dataclass(frozen=True, slots=True)
class RelationParties:
    supplier: str
    customer: str


class PartyRegistry(Protocol):
    """What the policy needs to know: the operator, party addresses and relations."""

    @property
    def operator(self) -> str | None: ...

    def party_address(self, party_id: str) -> str | None: ...

    def relation(self, relation_id: str) -> RelationParties | None: ...


@dataclass
class LedgerRegistry:
    """The registry as the ledger has recorded it; `apply` each accepted transaction in order."""

    operator: str | None = None
    parties: dict[str, str] = field(default_factory=dict)
    relations: dict[str, RelationParties] = field(default_factory=dict)

    def party_address(self, party_id: str) -> str | None:
        return self.parties.get(party_id)

    def relation(self, relation_id: str) -> RelationParties | None:
        return self.relations.get(relation_id)

    def apply(self, tx: Transaction) -> None:
        """Record the effect of an accepted transaction (only registry types have one)."""
        if tx.type is TxType.PartyRegistered:
            address = str(tx.payload["address"])
            self.parties[str(tx.payload["partyId"])] = address
            if tx.payload.get("role") == "operator":
                self.operator = address
        elif tx.type is TxType.RelationAgreed:
            self.relations[str(tx.payload["relationId"])] = RelationParties(
                supplier=str(tx.payload["supplier"]), customer=str(tx.payload["customer"])
            )

    def copy(self) -> LedgerRegistry:
        return LedgerRegistry(self.operator, dict(self.parties), dict(self.relations))


def _text(tx: Transaction, payload: Any, key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidTransaction(tx.type.value, f"payload field {key!r} must be a non-empty string")
    return value


def _same_signers(tx: Transaction, required: tuple[str, ...], detail: str) -> None:
    got = tuple(s.lower() for s in tx.signers)
    if len(set(got)) != len(got) or set(got) != {r.lower() for r in required}:
        raise PolicyViolation(tx.type.value, required, tx.signers, detail)


def _party_addresses(tx: Transaction, registry: PartyRegistry) -> tuple[str, str]:
    if tx.relation is None:
        raise InvalidTransaction(tx.type.value, "this transaction type needs a relation")
    rel = registry.relation(tx.relation)
    if rel is None:
        raise UnknownParty(tx.relation, "unknown relation")
    supplier = registry.party_address(rel.supplier)
    customer = registry.party_address(rel.customer)
    if supplier is None or customer is None:
        raise UnknownParty(rel.supplier if supplier is None else rel.customer, "unknown party")
    return supplier, customer


def check_policy(tx: Transaction, registry: PartyRegistry) -> None:
    """Raise PolicyViolation (or UnknownParty / InvalidTransaction) unless the signers of
    `tx` are exactly those its type requires. Signatures are checked separately."""
    kind = tx.type
    if kind is TxType.PartyRegistered:
        address = _text(tx, tx.payload, "address")
        party_id = _text(tx, tx.payload, "partyId")
        role = tx.payload.get("role")
        if role not in ("operator", "carrier"):
            raise InvalidTransaction(kind.value, "role must be 'operator' or 'carrier'")
        if registry.operator is None:
            # The first entry of every ledger: the operator registers itself.
            if role != "operator":
                raise PolicyViolation(kind.value, (address,), tx.signers, "no operator yet")
            _same_signers(tx, (address,), "the operator registers itself")
            return
        if role == "operator":
            raise PolicyViolation(kind.value, (), tx.signers, "the ledger already has an operator")
        if registry.party_address(party_id) is not None:
            raise InvalidTransaction(kind.value, f"party {party_id!r} is already registered")
        _same_signers(tx, (registry.operator,), "the operator registers parties")
        return
    if kind is TxType.RelationAgreed:
        relation_id = _text(tx, tx.payload, "relationId")
        supplier_id = _text(tx, tx.payload, "supplier")
        customer_id = _text(tx, tx.payload, "customer")
        if tx.relation != relation_id:
            raise InvalidTransaction(kind.value, "relation differs from payload relationId")
        if supplier_id == customer_id:
            raise InvalidTransaction(kind.value, "supplier and customer must differ")
        known = registry.relation(relation_id)
        if known is not None and (known.supplier, known.customer) != (supplier_id, customer_id):
            raise InvalidTransaction(kind.value, "a relation's parties cannot change")
        supplier = registry.party_address(supplier_id)
        customer = registry.party_address(customer_id)
        if supplier is None or customer is None:
            raise UnknownParty(supplier_id if supplier is None else customer_id, "unknown party")
        _same_signers(tx, (supplier, customer), "both parties agree a relation")
        return
    if kind in _OPERATOR_SIGNED:
        if registry.operator is None:
            raise UnknownParty("operator", "no operator registered")
        _same_signers(tx, (registry.operator,), "the operator signs this")
        return
    supplier, customer = _party_addresses(tx, registry)
    if kind in BOTH_PARTIES:
        _same_signers(tx, (supplier, customer), "both parties must sign")
    elif kind is TxType.StatementIssued:
        _same_signers(tx, (supplier,), "the supplier issues the statement")
    elif kind in _ONE_PARTY:
        if len(tx.signers) != 1 or tx.signers[0].lower() not in (
            supplier.lower(),
            customer.lower(),
        ):
            raise PolicyViolation(kind.value, (supplier, customer), tx.signers, "one party")
    elif kind is TxType.ReviewActionTaken:
        # One side acts, or both sign an agreed action.
        got = [s.lower() for s in tx.signers]
        allowed = {supplier.lower(), customer.lower()}
        if not got or len(set(got)) != len(got) or not set(got) <= allowed:
            raise PolicyViolation(kind.value, (supplier, customer), tx.signers, "party signers")
    else:  # pragma: no cover - every TxType is handled above
        raise InvalidTransaction(kind.value, "no policy for this type")


def check_signatures(domain: LedgerDomain, tx: Transaction) -> None:
    """Raise InvalidSignature (or MalleableSignature) unless every signature recovers to
    its signer over the transaction's EIP-712 digest."""
    if not tx.signers:
        raise InvalidSignature(tx.type.value, None, "unsigned transaction")
    recovered = recover_all(domain, tx)
    for signer, got in zip(tx.signers, recovered, strict=True):
        if got.lower() != signer.lower():
            raise InvalidSignature(tx.type.value, signer, f"signature recovers to {got}")


def authorize(domain: LedgerDomain, tx: Transaction, registry: PartyRegistry) -> None:
    """Everything an adapter checks before appending: signatures, then policy."""
    try:
        tx.payload_hash  # noqa: B018 - the payload must be canonical JSON
    except (ValueError, TypeError) as exc:
        raise InvalidTransaction(tx.type.value, f"payload is not JSON: {exc}") from exc
    check_signatures(domain, tx)
    check_policy(tx, registry)
