"""SQL of the relations aggregate (see panther.server.services.ports.relations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from . import repository as repo
from .cosign import SqlCoSignatures
from .repository import count_where, get_row, list_rows

_relation = repo.T.relation
_agreement = repo.T.relation_agreement

__all__ = ["SqlRelationRepository"]


class SqlRelationRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, relation_id: str) -> dict[str, Any] | None:
        return get_row(self._conn, _relation, id=relation_id)

    def add(self, relation: dict[str, Any]) -> None:
        self._conn.execute(_relation.insert().values(**relation))

    def mark_agreed(self, relation_id: str, ledger_seq: int) -> None:
        self._conn.execute(
            _relation.update()
            .where(_relation.c.id == relation_id)
            .values(state="agreed", ledger_seq=ledger_seq)
        )

    def list_visible(
        self, party_id: str | None, state: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        rel = _relation
        where: list[Any] = []
        if party_id is not None:
            where.append(sa.or_(rel.c.supplier_id == party_id, rel.c.customer_id == party_id))
        if state:
            where.append(rel.c.state == state)
        total = count_where(self._conn, rel, where)
        order = [rel.c.created_at, rel.c.id]
        rows = list_rows(self._conn, rel, where, order_by=order, offset=offset, limit=limit)
        return rows, total

    def agreements(self, relation_id: str) -> SqlCoSignatures:
        return SqlCoSignatures(self._conn, _agreement, {"relation_id": relation_id})

    def agreements_of(self, relation_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {rid: [] for rid in relation_ids}
        if not out:
            return out
        for row in list_rows(self._conn, _agreement, [_agreement.c.relation_id.in_(list(out))]):
            out[row["relation_id"]].append(row)
        return out
