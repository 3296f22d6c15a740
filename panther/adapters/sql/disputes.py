"""SQL of the disputes aggregate (see panther.server.services.ports.disputes)."""

from __future__ import annotations

import sqlalchemy as sa

from .cosign import SqlCoSignatures
from .tables import DisputeSignature

__all__ = ["SqlDisputeRepository"]


class SqlDisputeRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def signatures(self, ticket_id: str, proposal_no: int) -> SqlCoSignatures:
        return SqlCoSignatures(
            self._conn,
            DisputeSignature.__table__,
            {"ticket_id": ticket_id, "proposal_no": proposal_no},
        )
