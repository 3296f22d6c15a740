"""SQL of the billing aggregate (see panther.server.services.ports.billing)."""

from __future__ import annotations

import sqlalchemy as sa

from .cosign import SqlCoSignatures
from .tables import StatementEndorsement

__all__ = ["SqlBillingRepository"]


class SqlBillingRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def endorsements(self, bill_id: str) -> SqlCoSignatures:
        return SqlCoSignatures(self._conn, StatementEndorsement.__table__, {"bill_id": bill_id})
