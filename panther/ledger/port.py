"""The LedgerAdapter port every ledger backend (in-memory, embedded SQL, EVM) satisfies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from panther.ledger.eip712 import LedgerDomain
from panther.ledger.transactions import LedgerEntry, Transaction

__all__ = ["LedgerAdapter"]


@runtime_checkable
class LedgerAdapter(Protocol):
    """An append-only, hash-chained log of endorsed transactions.

    `append` checks signatures and the endorsement policy itself and raises the ledger's
    errors (InvalidSignature, MalleableSignature, PolicyViolation, UnknownParty, ...).
    `get` raises EntryNotFound for an unknown sequence number.
    """

    @property
    def domain(self) -> LedgerDomain: ...

    def append(self, tx: Transaction) -> LedgerEntry: ...

    def get(self, seq: int) -> LedgerEntry: ...

    def iterate(self, from_seq: int = 0) -> Iterator[LedgerEntry]: ...

    def head(self) -> LedgerEntry | None: ...

    def hash_entry(self, seq: int, tx: Transaction, prev_hash: bytes, recorded_at: str) -> bytes:
        """How this ledger chains its entries (verification recomputes it)."""
        ...

    def anchor(self, seq: int) -> dict[str, Any]:
        """What a proof document says of where entry ``seq`` is held: ``{"kind":
        "embedded"}`` (entry hashes by ``compute_entry_hash``) or ``{"kind": "evm",
        "contract", "chainId", "transactionHash", "blockNumber"}`` (hashes by
        ``eip712.chained_entry_hash``), for an entry of this ledger."""
        ...
