"""SQL of the ledger entries aggregate (see panther.server.services.ports.ledger_entries)."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["SqlLedgerEntryRepository"]


class SqlLedgerEntryRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
