"""SQL of the disputes aggregate (see panther.server.services.ports.disputes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from panther.server.services.ports.disputes import external_key

from . import repository as repo
from .cosign import SqlCoSignatures, unfinished_cosignatures

__all__ = ["SqlDisputeRepository"]

_ticket = repo.T.ticket
_entity = repo.T.dispute_entity
_entry = repo.T.dispute_ledger_entry
_signature = repo.T.dispute_signature
# Tables of other aggregates that a dispute names or is credited on.
_relation = repo.T.relation
_run = repo.T.run
_item = repo.T.item
_record = repo.T.record
_statement = repo.T.statement
_bill_line = repo.T.bill_line


def _ledger_seq(entity_id: str) -> int | None:
    """The ledger entry an entity id names (as `ledger_entity` writes it), if it names one."""
    try:
        seq = int(entity_id)
    except ValueError:
        return None
    # Beyond a 64-bit integer no entry is (nor can SQLite compare with it).
    return seq if str(seq) == entity_id and abs(seq) < 2**63 else None


def _naming(entity_id: str) -> sa.ColumnElement[bool]:
    """The tickets whose view names ``entity_id`` among its related entities: a disputed
    entity, the ledger entry of one of its transactions, or the bill its credit is on (its
    credited period's newest statement); each part an index search."""
    named: list[sa.Select[Any]] = [
        sa.select(_entity.c.ticket_id).where(_entity.c.entity_id == entity_id)
    ]
    seq = _ledger_seq(entity_id)
    if seq is not None:
        named.append(sa.select(_entry.c.ticket_id).where(_entry.c.seq == seq))
    credited = _ticket.alias("credited")
    newer = _statement.alias("newer")
    named.append(
        sa.select(credited.c.id)
        .join(
            _statement,
            sa.and_(
                _statement.c.relation_id == credited.c.relation_id,
                _statement.c.period == credited.c.credited_period,
            ),
        )
        .where(
            _statement.c.id == entity_id,
            ~sa.exists().where(
                newer.c.relation_id == _statement.c.relation_id,
                newer.c.period == _statement.c.period,
                newer.c.version > _statement.c.version,
            ),
        )
    )
    return _ticket.c.id.in_(sa.union_all(*named))


def _one(conn: sa.Connection, query: sa.Select[Any]) -> dict[str, Any] | None:
    found = conn.execute(query).mappings().first()
    return dict(found) if found else None


class SqlDisputeRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    # ---- trouble tickets --------------------------------------------------------------------

    def ticket(self, ticket_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
        q = sa.select(_ticket).where(_ticket.c.id == ticket_id)
        return _one(self._conn, q.with_for_update() if for_update else q)

    def tickets(
        self,
        party_id: str | None,
        *,
        ticket_id: str | None = None,
        status: str | None = None,
        ticket_type: str | None = None,
        carrier_id: str | None = None,
        external_id: str | None = None,
        entity_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        where: list[sa.ColumnElement[bool]] = []
        if external_id is not None:
            where.append(_ticket.c.external_key == external_key(external_id))
        if entity_id is not None:
            where.append(_naming(entity_id))
        for carrier in (party_id, carrier_id):
            if carrier is not None:
                where.append(
                    sa.or_(_relation.c.supplier_id == carrier, _relation.c.customer_id == carrier)
                )
        where += repo.equal(
            (_ticket.c.id, ticket_id),
            (_ticket.c.status, status),
            (_ticket.c.ticket_type, ticket_type),
        )
        joined = _ticket.join(_relation, _relation.c.id == _ticket.c.relation_id)
        query = sa.select(_ticket).select_from(joined).where(*where)
        return repo.page(self._conn, query, [_ticket.c.created_at, _ticket.c.id], offset, limit)

    def add_ticket(self, ticket: dict[str, Any], entities: list[dict[str, Any]]) -> None:
        self._conn.execute(_ticket.insert().values(**ticket))
        if entities:
            self._conn.execute(
                _entity.insert(), [{**e, "ticket_id": ticket["id"]} for e in entities]
            )

    def add_ledger_entry(self, ticket_id: str, seq: int) -> None:
        self._conn.execute(_entry.insert().values(ticket_id=ticket_id, seq=seq))

    def update_ticket(self, ticket_id: str, revision: int, values: dict[str, Any]) -> bool:
        changed = self._conn.execute(
            _ticket.update()
            .where(_ticket.c.id == ticket_id, _ticket.c.revision == revision)
            .values(**values)
        ).rowcount
        return bool(changed)

    def serialise_openings(self, relation_id: str) -> None:
        self._conn.execute(
            sa.select(_relation.c.id).where(_relation.c.id == relation_id).with_for_update()
        )

    # ---- disputed entities ------------------------------------------------------------------

    def disputed_in(self, entity_ids: list[str], statuses: Iterable[str]) -> tuple[str, str] | None:
        hit = self._conn.execute(
            sa.select(_entity.c.entity_id, _ticket.c.id)
            .join(_ticket, _ticket.c.id == _entity.c.ticket_id)
            .where(_entity.c.entity_id.in_(entity_ids), _ticket.c.status.in_(sorted(statuses)))
            .limit(1)
        ).first()
        return (str(hit[0]), str(hit[1])) if hit else None

    def disputes_naming(self, entity_ids: list[str]) -> list[dict[str, Any]]:
        q = (
            sa.select(_entity.c.entity_id, _ticket.c.id, _ticket.c.status, _ticket.c.body)
            .join(_ticket, _ticket.c.id == _entity.c.ticket_id)
            .where(_entity.c.entity_id.in_(entity_ids))
            .order_by(_ticket.c.created_at, _ticket.c.id)
        )
        return [dict(r) for r in self._conn.execute(q).mappings()]

    def disputed_products(self, ticket_id: str) -> list[str]:
        q = sa.select(_entity.c.product_id).where(_entity.c.ticket_id == ticket_id)
        return [p for (p,) in self._conn.execute(q) if p is not None]

    def signatures(self, ticket_id: str, proposal_no: int) -> SqlCoSignatures:
        return SqlCoSignatures(
            self._conn, _signature, {"ticket_id": ticket_id, "proposal_no": proposal_no}
        )

    def unfinished_resolutions(self) -> list[dict[str, Any]]:
        # A proposal both signed is the one the ticket was closed on (a closed ticket
        # stays closed): resolved from its DisputeResolved entry on.
        t, sig = _ticket, _signature
        return unfinished_cosignatures(
            self._conn,
            sig,
            source=sig.join(t, t.c.id == sig.c.ticket_id),
            key=sig.c.ticket_id,
            relation_id=t.c.relation_id,
            unfinished=sa.or_(t.c.resolved_seq.is_(None), t.c.proposal_no != sig.c.proposal_no),
            extra=[sig.c.proposal_no],
        )

    # ---- what a dispute names, in other aggregates ------------------------------------------

    def match_item(self, run_id: str, item_no: int) -> dict[str, Any] | None:
        return _one(
            self._conn,
            sa.select(
                _run.c.relation_id,
                _run.c.supplier_report_id,
                _run.c.customer_report_id,
                _item.c.body,
            )
            .join(_item, _item.c.run_id == _run.c.id)
            .where(_run.c.id == run_id, _item.c.item_no == item_no),
        )

    def inventory_record(self, report_id: str, seq: int) -> dict[str, Any] | None:
        return _one(
            self._conn,
            sa.select(_record.c.product_id, _record.c.body).where(
                _record.c.report_id == report_id, _record.c.seq == seq
            ),
        )

    def credited_on(self, periods: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        wanted = set(periods)
        if not wanted:
            return {}
        st = _statement
        q = (
            sa.select(st.c.relation_id, st.c.period, st.c.id)
            .where(sa.tuple_(st.c.relation_id, st.c.period).in_(sorted(wanted)))
            .order_by(st.c.version)
        )
        # Oldest version first: the newest of each period wins.
        return {(rel, period): bill for rel, period, bill in self._conn.execute(q)}
