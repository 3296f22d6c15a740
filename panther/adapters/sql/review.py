"""SQL of the review aggregate (see panther.server.services.ports.review)."""

from __future__ import annotations

import sqlalchemy as sa

from .cosign import SqlCoSignatures
from .tables import ReviewSignature

__all__ = ["SqlReviewRepository"]


class SqlReviewRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def signatures(self, proposal_id: str) -> SqlCoSignatures:
        return SqlCoSignatures(self._conn, ReviewSignature.__table__, {"proposal_id": proposal_id})
