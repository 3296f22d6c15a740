"""Signatures collected on one transaction until both parties have signed."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .locks import lock_ledger

__all__ = ["SqlCoSignatures"]


class SqlCoSignatures:
    """The rows of a signature table (party_id, signature, created_at) under one key."""

    def __init__(self, conn: sa.Connection, table: sa.Table, key: dict[str, Any]) -> None:
        self._conn = conn
        self._table = table
        self._key = key

    def lock(self) -> None:
        # The ledger's own writer lock: whoever completes a co-signature appends next, so
        # taking it first orders co-signers like appenders (never one lock, then the other
        # in reverse), and nothing a co-signer reads afterwards can be missing a signature
        # that another transaction holds uncommitted.
        lock_ledger(self._conn)

    def rows(self) -> list[dict[str, Any]]:
        cond = [self._table.c[k] == v for k, v in self._key.items()]
        return [dict(r) for r in self._conn.execute(sa.select(self._table).where(*cond)).mappings()]

    def add(self, party_id: str, signature: str, created_at: str) -> None:
        values = {**self._key, "party_id": party_id, "signature": signature}
        self._conn.execute(self._table.insert().values(**values, created_at=created_at))
