"""SQL of the listeners aggregate (see panther.server.services.ports.listeners)."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["SqlListenerRepository"]


class SqlListenerRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
