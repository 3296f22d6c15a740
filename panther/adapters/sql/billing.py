"""SQL of the billing aggregate (see panther.server.services.ports.billing): statements, their
lines, endorsements and requests, and what billing reads of runs, reports and disputes."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any

import orjson
import sqlalchemy as sa

from panther.server.services.ports.billing import Days, StatementTaken

from . import repository as repo
from .cosign import SqlCoSignatures, unfinished_cosignatures

__all__ = ["SqlBillingRepository"]

Row = dict[str, Any]

_statement = repo.T.statement
_line = repo.T.bill_line
_request = repo.T.bill_request
_relation = repo.T.relation
_run = repo.T.run
_item = repo.T.item
_record = repo.T.record
_ticket = repo.T.ticket
_entity = repo.T.dispute_entity
_endorsement = repo.T.statement_endorsement

_LINE_COLUMNS = (
    "id",
    "bill_id",
    "relation_id",
    "line_no",
    "is_billed",
    "kind",
    "product_id",
    "body",
)


def _seen_by(viewer: str | None) -> list[Any]:
    """Relations the viewer carries; None sees them all."""
    if viewer is None:
        return []
    return [sa.or_(_relation.c.supplier_id == viewer, _relation.c.customer_id == viewer)]


def _among(column: sa.ColumnElement[str], days: Days | None) -> list[Any]:
    """The column's day is among ``days`` (YYYY-MM-DD strings sort as the days do)."""
    if days is None:
        return []
    return [
        *([column >= days.first] if days.first is not None else []),
        *([column <= days.last] if days.last is not None else []),
    ]


class SqlBillingRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def _first(self, query: sa.Select[Any]) -> Row | None:
        row = self._conn.execute(query).mappings().first()
        return dict(row) if row else None

    # ---- what a statement is made of (read from runs, reports and disputes) ----

    def final_run(self, relation_id: str, before: str) -> Row | None:
        return self._first(
            sa.select(_run)
            .where(
                _run.c.relation_id == relation_id, _run.c.state == "final", _run.c.as_of < before
            )
            .order_by(_run.c.as_of.desc(), _run.c.endorsed_seq.desc())
            .limit(1)
        )

    def run_items(self, run_id: str) -> list[tuple[int, dict[str, Any]]]:
        rows = self._conn.execute(
            sa.select(_item.c.item_no, _item.c.body)
            .where(_item.c.run_id == run_id)
            .order_by(_item.c.item_no)
        )
        return [(item_no, orjson.loads(body)) for item_no, body in rows]

    def records(self, report_id: str, seqs: Collection[int]) -> dict[int, dict[str, Any]]:
        if not seqs:
            return {}
        rows = self._conn.execute(
            sa.select(_record.c.seq, _record.c.body).where(
                _record.c.report_id == report_id, _record.c.seq.in_(list(seqs))
            )
        )
        return {seq: orjson.loads(body) for seq, body in rows}

    def seller_records(
        self, run_id: str, product_ids: Collection[str]
    ) -> dict[str, dict[str, Any]]:
        if not product_ids:
            return {}
        report_id = self._conn.execute(
            sa.select(_run.c.supplier_report_id).where(_run.c.id == run_id)
        ).scalar_one_or_none()
        if report_id is None:
            return {}
        rows = self._conn.execute(
            sa.select(_record.c.product_id, _record.c.body)
            .where(_record.c.report_id == report_id, _record.c.product_id.in_(list(product_ids)))
            .order_by(_record.c.seq)
        )
        out: dict[str, dict[str, Any]] = {}
        for product_id, body in rows:
            if product_id not in out:
                out[product_id] = orjson.loads(body)
        return out

    def disputed_products(self, relation_id: str, statuses: Collection[str]) -> set[str]:
        return set(
            self._conn.execute(
                sa.select(_entity.c.product_id)
                .join(_ticket, _ticket.c.id == _entity.c.ticket_id)
                .where(
                    _entity.c.relation_id == relation_id,
                    _entity.c.product_id.is_not(None),
                    _ticket.c.status.in_(sorted(statuses)),
                )
            ).scalars()
        )

    def line_disputed(self, line_id: str, statuses: Collection[str]) -> bool:
        found = self._conn.execute(
            sa.select(_entity.c.ticket_id)
            .join(_ticket, _ticket.c.id == _entity.c.ticket_id)
            .where(_entity.c.entity_id == line_id, _ticket.c.status.in_(sorted(statuses)))
            .limit(1)
        ).first()
        return found is not None

    def credits(
        self, relation_id: str, period: str, *, uncarried: bool
    ) -> list[tuple[str, dict[str, Any]]]:
        carried: Any = _ticket.c.credited_period == period
        if uncarried:
            carried = sa.or_(carried, _ticket.c.credited_period.is_(None))
        rows = self._conn.execute(
            sa.select(_ticket.c.id, _ticket.c.credit)
            .where(
                _ticket.c.relation_id == relation_id,
                _ticket.c.status == "closed",
                _ticket.c.credit.is_not(None),
            )
            .where(carried)
            .order_by(_ticket.c.id)
        )
        return [(ticket_id, json.loads(text)) for ticket_id, text in rows]

    def carry_credits(self, ticket_ids: Collection[str], period: str) -> None:
        self._conn.execute(
            _ticket.update()
            .where(_ticket.c.id.in_(list(ticket_ids)))
            .values(credited_period=period)
        )

    # ---- statements ----

    def statement(self, bill_id: str) -> Row | None:
        return repo.get_row(self._conn, _statement, id=bill_id)

    def latest_statement(self, relation_id: str, period: str) -> Row | None:
        return self._first(
            sa.select(_statement)
            .where(_statement.c.relation_id == relation_id, _statement.c.period == period)
            .order_by(_statement.c.version.desc())
            .limit(1)
        )

    def add_statement(self, row: Row, lines: Iterable[Row]) -> None:
        try:
            repo.insert_row(self._conn, _statement, row)
        except sa.exc.IntegrityError:
            raise StatementTaken(row["relation_id"], row["period"], row["version"]) from None
        repo.bulk_insert(
            self._conn,
            _line,
            _LINE_COLUMNS,
            ([line[c] for c in _LINE_COLUMNS] for line in lines),
        )

    def supersede(self, bill_id: str, by: str, revision: int, updated_at: str) -> None:
        repo.update_row(
            self._conn,
            _statement,
            {"id": bill_id},
            {"superseded_by": by, "revision": revision, "updated_at": updated_at},
        )

    def change_statement(self, bill_id: str, revision: int, values: Row) -> bool:
        changed = self._conn.execute(
            _statement.update()
            .where(_statement.c.id == bill_id, _statement.c.revision == revision)
            .values(**values)
        ).rowcount
        return bool(changed)

    def list_statements(
        self,
        viewer: str | None,
        *,
        bill_ids: Collection[str] | None = None,
        states: Collection[str] | None = None,
        relation_id: str | None = None,
        supplier_id: str | None = None,
        customer_id: str | None = None,
        carrier_id: str | None = None,
        starts: Days | None = None,
        ends: Days | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[Row], int]:
        q = (
            sa.select(_statement, _relation.c.supplier_id, _relation.c.customer_id)
            .join(_relation, _relation.c.id == _statement.c.relation_id)
            .where(*_seen_by(viewer), *_seen_by(carrier_id))
            .where(
                *repo.equal(
                    (_statement.c.relation_id, relation_id),
                    (_relation.c.supplier_id, supplier_id),
                    (_relation.c.customer_id, customer_id),
                )
            )
            .where(
                *_among(_statement.c.period_start, starts), *_among(_statement.c.period_end, ends)
            )
        )
        if bill_ids is not None:
            q = q.where(_statement.c.id.in_(sorted(bill_ids)))
        if states is not None:
            q = q.where(_statement.c.state.in_(list(states)))
        return repo.page(self._conn, q, [_statement.c.created_at, _statement.c.id], offset, limit)

    def endorsements(self, bill_id: str) -> SqlCoSignatures:
        return SqlCoSignatures(self._conn, _endorsement, {"bill_id": bill_id})

    def unfinished_agreements(self) -> list[Row]:
        st, en = _statement, _endorsement
        return unfinished_cosignatures(
            self._conn,
            en,
            source=en.join(st, st.c.id == en.c.bill_id),
            key=en.c.bill_id,
            relation_id=st.c.relation_id,
            unfinished=st.c.agreed_seq.is_(None),
        )

    # ---- lines ----

    def line(self, line_id: str) -> Row | None:
        return repo.get_row(self._conn, _line, id=line_id)

    def lines(self, bill_id: str) -> list[Row]:
        return repo.list_rows(
            self._conn, _line, [_line.c.bill_id == bill_id], order_by=[_line.c.line_no]
        )

    def list_lines(
        self,
        viewer: str | None,
        *,
        line_id: str | None = None,
        bill_id: str | None = None,
        kind: str | None = None,
        product_id: str | None = None,
        relation_id: str | None = None,
        is_billed: bool | None = None,
        offset: int,
        limit: int,
    ) -> tuple[list[Row], int]:
        where = _seen_by(viewer) + repo.equal(
            (_line.c.id, line_id),
            (_line.c.bill_id, bill_id),
            (_line.c.kind, kind),
            (_line.c.product_id, product_id),
            (_line.c.relation_id, relation_id),
            (_line.c.is_billed, is_billed),
        )
        joined = _line.join(_statement, _statement.c.id == _line.c.bill_id).join(
            _relation, _relation.c.id == _line.c.relation_id
        )
        query = sa.select(_line).select_from(joined).where(*where)
        return repo.page(self._conn, query, [_line.c.bill_id, _line.c.line_no], offset, limit)

    def statement_texts(self, bill_ids: Collection[str]) -> list[Row]:
        if not bill_ids:
            return []
        rows = self._conn.execute(
            sa.select(_statement.c.id, _statement.c.relation_id, _statement.c.statement).where(
                _statement.c.id.in_(list(bill_ids))
            )
        )
        return [dict(r) for r in rows.mappings()]

    # ---- statement requests (customerBillOnDemand) ----

    def add_request(self, row: Row) -> None:
        repo.insert_row(self._conn, _request, row)

    def list_requests(
        self,
        viewer: str | None,
        *,
        request_id: str | None = None,
        state: str | None = None,
        relation_id: str | None = None,
        offset: int,
        limit: int,
    ) -> tuple[list[Row], int]:
        where = _seen_by(viewer) + repo.equal(
            (_request.c.id, request_id),
            (_request.c.state, state),
            (_request.c.relation_id, relation_id),
        )
        joined = _request.join(_relation, _relation.c.id == _request.c.relation_id)
        query = sa.select(_request).select_from(joined).where(*where)
        return repo.page(self._conn, query, [_request.c.created_at, _request.c.id], offset, limit)
