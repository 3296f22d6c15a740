"""SQL of the runs aggregate (see panther.server.services.ports.runs)."""

from __future__ import annotations

import sqlalchemy as sa

from .cosign import SqlCoSignatures
from .tables import MatchEndorsement

__all__ = ["SqlRunRepository"]


class SqlRunRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def endorsements(self, run_id: str) -> SqlCoSignatures:
        return SqlCoSignatures(self._conn, MatchEndorsement.__table__, {"run_id": run_id})
