"""SQL of the parties aggregate (see panther.server.services.ports.parties)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .tables import CustodialKey, Party

_party = Party.__table__
_custodial_key = CustodialKey.__table__

__all__ = ["SqlPartyRepository"]


class SqlPartyRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, party_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(sa.select(_party).where(_party.c.id == party_id)).mappings()
        first = row.first()
        return dict(first) if first else None

    def sealed_key(self, party_id: str) -> bytes | None:
        """The custodial key of the party, sealed by the keystore; None if it keeps its own."""
        ck = _custodial_key
        return self._conn.execute(
            sa.select(ck.c.sealed_key).where(ck.c.party_id == party_id)
        ).scalar_one_or_none()
