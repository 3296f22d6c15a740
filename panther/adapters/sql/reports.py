"""SQL of the reports aggregate (see panther.server.services.ports.reports)."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["SqlReportRepository"]


class SqlReportRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
