"""SQL of the listeners aggregate (see panther.server.services.ports.listeners)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from . import repository as repo
from .locks import lock_key
from .repository import list_rows

_subscription = repo.T.subscription

__all__ = ["SqlListenerRepository"]


def _owned(party_id: str, api: str, listener_id: str) -> list[Any]:
    sub = _subscription
    return [sub.c.id == listener_id, sub.c.party_id == party_id, sub.c.api == api]


class SqlListenerRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def add(self, listener: dict[str, Any]) -> None:
        self._conn.execute(_subscription.insert().values(**listener))

    def find(self, party_id: str, api: str, listener_id: str) -> dict[str, Any] | None:
        rows = list_rows(self._conn, _subscription, _owned(party_id, api, listener_id))
        return rows[0] if rows else None

    def remove(self, party_id: str, api: str, listener_id: str) -> bool:
        deleted = self._conn.execute(
            _subscription.delete().where(*_owned(party_id, api, listener_id))
        ).rowcount
        return bool(deleted)

    def lock_party(self, party_id: str) -> None:
        lock_key(self._conn, "listeners", party_id)

    def count_of(self, party_id: str) -> int:
        sub = _subscription
        query = sa.select(sa.func.count()).select_from(sub).where(sub.c.party_id == party_id)
        return int(self._conn.execute(query).scalar_one())

    def of_parties(self, api: str, party_ids: Sequence[str]) -> list[dict[str, Any]]:
        sub = _subscription
        return list_rows(self._conn, sub, [sub.c.api == api, sub.c.party_id.in_(list(party_ids))])
