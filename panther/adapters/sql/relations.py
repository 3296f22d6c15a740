"""SQL of the relations aggregate (see panther.server.services.ports.relations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from . import repository as repo
from .cosign import SqlCoSignatures, unfinished_cosignatures
from .repository import count_where, get_row, list_rows

_relation = repo.T.relation
_agreement = repo.T.relation_agreement
_party = repo.T.party

__all__ = ["SqlRelationRepository"]


class SqlRelationRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, relation_id: str) -> dict[str, Any] | None:
        return get_row(self._conn, _relation, id=relation_id)

    def add(self, relation: dict[str, Any]) -> None:
        self._conn.execute(_relation.insert().values(**relation))

    def hold_proposals_of(self, party_id: str) -> None:
        # The proposer's party row, locked to the end of the transaction (PostgreSQL; SQLite
        # has one writer at a time anyway).
        self._conn.execute(
            sa.select(_party.c.id).where(_party.c.id == party_id).with_for_update()
        ).all()

    def find_proposal(
        self, proposed_by: str, supplier_id: str, customer_id: str, profile_hash: str, terms: str
    ) -> dict[str, Any] | None:
        rel = _relation
        rows = list_rows(
            self._conn,
            rel,
            [
                rel.c.proposed_by == proposed_by,
                rel.c.supplier_id == supplier_id,
                rel.c.customer_id == customer_id,
                rel.c.profile_hash == profile_hash,
                rel.c.terms == terms,
            ],
            order_by=[rel.c.created_at, rel.c.id],
            limit=1,
        )
        return rows[0] if rows else None

    def pending_proposals(self, proposed_by: str) -> int:
        rel = _relation
        return count_where(
            self._conn, rel, [rel.c.proposed_by == proposed_by, rel.c.state == "proposed"]
        )

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

    def unfinished_agreements(self) -> list[dict[str, Any]]:
        # agreed, and from its RelationAgreed entry on (both are written together)
        rel, ag = _relation, _agreement
        return unfinished_cosignatures(
            self._conn,
            ag,
            source=ag,
            key=ag.c.relation_id,
            relation_id=ag.c.relation_id,
            unfinished=sa.or_(rel.c.state != "agreed", rel.c.ledger_seq.is_(None)),
        )

    def agreements_of(self, relation_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {rid: [] for rid in relation_ids}
        if not out:
            return out
        for row in list_rows(self._conn, _agreement, [_agreement.c.relation_id.in_(list(out))]):
            out[row["relation_id"]].append(row)
        return out
