"""SQL of the idempotency keys (see panther.server.services.ports.idempotency)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from . import repository as repo
from .repository import get_row

_key = repo.T.idempotency_key

__all__ = ["SqlIdempotencyRepository"]


class SqlIdempotencyRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, owner: str, key: str) -> dict[str, Any] | None:
        return get_row(self._conn, _key, owner=owner, key=key)

    def claim(self, row: dict[str, Any]) -> bool:
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        # Whether a row came back, not the rowcount (not reliable after DO NOTHING).
        inserted = self._conn.execute(
            dialect.insert(_key).values(**row).on_conflict_do_nothing().returning(_key.c.key)
        ).first()
        return inserted is not None

    def complete(self, owner: str, key: str, values: dict[str, Any]) -> None:
        self._conn.execute(
            _key.update().where(_key.c.owner == owner, _key.c.key == key).values(**values)
        )

    def release(self, owner: str, key: str) -> None:
        self._conn.execute(
            _key.delete().where(_key.c.owner == owner, _key.c.key == key, _key.c.status.is_(None))
        )

    def forget(self, owner: str, key: str) -> None:
        self._conn.execute(_key.delete().where(_key.c.owner == owner, _key.c.key == key))

    def purge(self, before: str) -> int:
        return int(self._conn.execute(_key.delete().where(_key.c.expires_at < before)).rowcount)
