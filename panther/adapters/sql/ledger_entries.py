"""SQL of the ledger entries aggregate (see panther.server.services.ports.ledger_entries).

Verification and replay compare the ledger with the projection rows its entries speak for;
the queries they need live here. Projections are named by their table (``party``,
``relation``, ``relation_agreement``, ``inventory_report``, ``match_run``,
``match_endorsement``); their JSON text columns are handed out decoded and taken in decoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from panther.ledger.transactions import LedgerEntry, entry_party

from .repository import T

_party: sa.Table = T.party
_relation: sa.Table = T.relation
_agreement: sa.Table = T.relation_agreement
_report: sa.Table = T.report
_record: sa.Table = T.record
_run: sa.Table = T.run
_endorsement: sa.Table = T.endorsement
_item: sa.Table = T.item
_statement: sa.Table = T.statement
_review_item: sa.Table = T.review_item
_visibility: sa.Table = T.ledger_visibility

_PROJECTIONS: dict[str, sa.Table] = {
    t.name: t for t in (_party, _relation, _agreement, _report, _run, _endorsement)
}

# Projection columns that hold JSON text.
JSON_COLUMNS = frozenset({"terms", "counts", "profile"})


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """A projection row with its JSON text columns decoded (text that is not JSON stays)."""
    out = dict(row)
    for name in JSON_COLUMNS.intersection(out):
        try:
            out[name] = json.loads(out[name])
        except (TypeError, ValueError):
            pass
    return out


def _encode_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in JSON_COLUMNS.intersection(out):
        out[name] = json.dumps(out[name], sort_keys=True)
    return out


def _projection(table: str) -> sa.Table:
    try:
        return _PROJECTIONS[table]
    except KeyError:
        raise ValueError(f"no projection table {table!r}") from None


class SqlLedgerEntryRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    # ---- who sees an entry ----

    def record_visibility(self, entries: Iterable[LedgerEntry]) -> int:
        rows = [
            {
                "seq": e.seq,
                "tx_type": e.tx.type.value,
                "relation_id": e.tx.relation,
                "party_id": entry_party(e.tx),
            }
            for e in entries
        ]
        if rows:
            # Another request may have caught the same entries up: the first row stays.
            dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
            self._conn.execute(dialect.insert(_visibility).on_conflict_do_nothing(), rows)
        return len(rows)

    def noted_top(self) -> int:
        top = self._conn.execute(sa.select(sa.func.max(_visibility.c.seq))).scalar_one()
        return -1 if top is None else int(top)

    def noted_count(self) -> int:
        count = self._conn.execute(sa.select(sa.func.count()).select_from(_visibility))
        return int(count.scalar_one())

    def _seen_by(self, party_id: str, tx_type: str | None) -> sa.CompoundSelect[tuple[int]]:
        """The seqs the party sees: the entries of its relations, and its own (an entry
        is of a relation or of a party, never both), each branch on its own index."""
        v, r = _visibility, _relation
        mine = sa.select(r.c.id).where(
            sa.or_(r.c.supplier_id == party_id, r.c.customer_id == party_id)
        )
        typed = [v.c.tx_type == tx_type] if tx_type is not None else []
        return sa.union_all(
            sa.select(v.c.seq).where(v.c.relation_id.in_(mine), *typed),
            sa.select(v.c.seq).where(v.c.party_id == party_id, *typed),
        )

    def visible_seqs(
        self, party_id: str | None, *, tx_type: str | None, offset: int, limit: int
    ) -> tuple[list[int], int]:
        v = _visibility
        if party_id is None:
            query = sa.select(v.c.seq)
            if tx_type is not None:
                query = query.where(v.c.tx_type == tx_type)
            seen = query.subquery()
        else:
            seen = self._seen_by(party_id, tx_type).subquery()
        total = self._conn.execute(sa.select(sa.func.count()).select_from(seen)).scalar_one()
        page = self._conn.execute(
            sa.select(seen.c.seq).order_by(seen.c.seq).offset(offset).limit(limit)
        )
        return [int(s) for (s,) in page], int(total)

    def is_visible(self, seq: int, party_id: str) -> bool:
        v, r = _visibility, _relation
        row = self._conn.execute(
            sa.select(v.c.relation_id, v.c.party_id).where(v.c.seq == seq)
        ).first()
        if row is None:
            return False
        if row.relation_id is None:
            return bool(row.party_id == party_id)
        found = self._conn.execute(
            sa.select(r.c.id).where(
                r.c.id == row.relation_id,
                sa.or_(r.c.supplier_id == party_id, r.c.customer_id == party_id),
            )
        ).first()
        return found is not None

    # ---- projections ----

    def projection(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        t = _projection(table)
        cond = [t.c[k] == v for k, v in key.items()]
        row = self._conn.execute(sa.select(t).where(*cond)).mappings().first()
        return decode_row(dict(row)) if row is not None else None

    def recorded_rows(self, table: str) -> Iterator[dict[str, Any]]:
        t = _projection(table)
        # What is not on the ledger yet stays out: a relation counts once it says it is
        # agreed or has a ledger_seq, an endorsement once its run is final or endorsed.
        on_ledger_relations = sa.or_(
            _relation.c.state == "agreed", _relation.c.ledger_seq.is_not(None)
        )
        final_runs = sa.or_(_run.c.state == "final", _run.c.endorsed_seq.is_not(None))
        query = sa.select(t)
        if t is _relation:
            query = query.where(on_ledger_relations)
        elif t is _agreement:
            query = query.where(
                t.c.relation_id.in_(sa.select(_relation.c.id).where(on_ledger_relations))
            )
        elif t is _endorsement:
            query = query.where(t.c.run_id.in_(sa.select(_run.c.id).where(final_runs)))
        for row in self._conn.execute(query).mappings():
            yield decode_row(dict(row))

    def count(self, table: str) -> int:
        t = _projection(table)
        return int(self._conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())

    def insert_rows(self, table: str, rows: Iterable[dict[str, Any]]) -> int:
        encoded = [_encode_row(r) for r in rows]
        if encoded:
            self._conn.execute(_projection(table).insert(), encoded)
        return len(encoded)

    # ---- what the Merkle roots are recomputed from ----

    def report_at(self, ledger_seq: int) -> dict[str, Any] | None:
        row = self._conn.execute(sa.select(_report).where(_report.c.ledger_seq == ledger_seq))
        found = row.mappings().first()
        return dict(found) if found is not None else None

    def record_leaves(self, report_id: str) -> list[bytes]:
        rows = self._conn.execute(
            sa.select(_record.c.body)
            .where(_record.c.report_id == report_id)
            .order_by(_record.c.seq)
        )
        return [body.encode() for (body,) in rows]

    def item_leaves(self, run_id: str) -> list[bytes]:
        rows = self._conn.execute(
            sa.select(_item.c.body).where(_item.c.run_id == run_id).order_by(_item.c.item_no)
        )
        return [body.encode() for (body,) in rows]

    def statement_text(self, statement_id: str) -> str | None:
        text = self._conn.execute(
            sa.select(_statement.c.statement).where(_statement.c.id == statement_id)
        ).scalar_one_or_none()
        return None if text is None else str(text)

    def agreed_resolutions(
        self, run_id: str, proposal_id: str, agreed_seq: int
    ) -> list[tuple[int, Any]]:
        ri = _review_item
        rows = self._conn.execute(
            sa.select(ri.c.item_no, ri.c.resolution).where(
                ri.c.run_id == run_id,
                ri.c.proposal_id == proposal_id,
                ri.c.agreed_seq == agreed_seq,
            )
        ).all()
        return [(int(n), json.loads(r)) for n, r in rows]
