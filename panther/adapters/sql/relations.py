"""SQL of the relations aggregate (see panther.server.services.ports.relations)."""

from __future__ import annotations

import sqlalchemy as sa

from .cosign import SqlCoSignatures
from .tables import RelationAgreement

__all__ = ["SqlRelationRepository"]


class SqlRelationRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def agreements(self, relation_id: str) -> SqlCoSignatures:
        return SqlCoSignatures(
            self._conn, RelationAgreement.__table__, {"relation_id": relation_id}
        )
