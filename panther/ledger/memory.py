"""InMemoryLedger: the LedgerAdapter fake for tests, with the same checks as the real ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from panther.ledger.eip712 import LedgerDomain
from panther.ledger.errors import EntryNotFound
from panther.ledger.policy import LedgerRegistry, authorize
from panther.ledger.transactions import (
    GENESIS_PREV_HASH,
    LedgerEntry,
    Transaction,
    compute_entry_hash,
    make_entry,
)

__all__ = ["InMemoryLedger"]


class InMemoryLedger:
    """A list of entries behind a lock; `entries` is exposed so tests can tamper with it."""

    def __init__(self, domain: LedgerDomain | None = None) -> None:
        self._domain = domain if domain is not None else LedgerDomain()
        self._lock = threading.Lock()
        self.entries: list[LedgerEntry] = []
        self._registry = LedgerRegistry()

    @property
    def domain(self) -> LedgerDomain:
        return self._domain

    @property
    def registry(self) -> LedgerRegistry:
        return self._registry.copy()

    def append(self, tx: Transaction) -> LedgerEntry:
        with self._lock:
            authorize(self._domain, tx, self._registry)
            prev = self.entries[-1].entry_hash if self.entries else GENESIS_PREV_HASH
            entry = make_entry(len(self.entries), tx, prev)
            self.entries.append(entry)
            self._registry.apply(tx)
            return entry

    def get(self, seq: int) -> LedgerEntry:
        if not 0 <= seq < len(self.entries):
            raise EntryNotFound(seq)
        return self.entries[seq]

    def iterate(self, from_seq: int = 0) -> Iterator[LedgerEntry]:
        return iter(self.entries[max(from_seq, 0) :])

    def head(self) -> LedgerEntry | None:
        return self.entries[-1] if self.entries else None

    def hash_entry(self, seq: int, tx: Transaction, prev_hash: bytes, recorded_at: str) -> bytes:
        return compute_entry_hash(seq, tx, prev_hash, recorded_at)

    def anchor(self, seq: int) -> dict[str, Any]:
        del seq  # every entry hashes alike
        return {"kind": "embedded"}
