"""SQL of the reports aggregate (see panther.server.services.ports.reports)."""

from __future__ import annotations

import heapq
from collections.abc import Generator, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from panther.server.services.ports.reports import (
    STORED_STRINGS,
    RecordFilter,
    RecordKeys,
    stored_string,
)

from . import repository as repo
from .locks import lock_key

__all__ = ["SqlReportRepository"]

_report: sa.Table = repo.T.report
_record: sa.Table = repo.T.record
_relation: sa.Table = repo.T.relation

_STRING_COLUMNS = ("name", "offering_id", "specification_id")
_RECORD_COLUMNS = (
    "report_id",
    "seq",
    "product_id",
    "external_id",
    "status",
    *_STRING_COLUMNS,
    "status_pos",
    "body",
)
_SHALLOW = 2_000
"""Up to this offset a status page walks the index entries before it (one query); beyond, it
searches the status positions (about 20 short queries, whatever the offset)."""
_COLUMN_OF: dict[tuple[str, ...], sa.Column[Any]] = {
    path: _record.c[column] for path, column in zip(STORED_STRINGS, _STRING_COLUMNS, strict=True)
}


def _of_party(party_id: str) -> sa.ColumnElement[bool]:
    return sa.or_(_relation.c.supplier_id == party_id, _relation.c.customer_id == party_id)


def _record_filter(
    report_ids: Sequence[str], product_id: str | None, external_id: str | None
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [_record.c.report_id.in_(list(report_ids))]
    if product_id is not None:
        where.append(_record.c.product_id == product_id)
    if external_id is not None:
        where.append(_record.c.external_id == external_id)
    return where


class SqlReportRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, report_id: str) -> dict[str, Any] | None:
        return repo.get_row(self._conn, _report, id=report_id)

    def lock_inventory(self, relation_id: str, side: str) -> None:
        lock_key(self._conn, "inventory", relation_id, side)

    def latest(self, relation_id: str, as_of: str, side: str) -> dict[str, Any] | None:
        return repo.latest_report(self._conn, relation_id, as_of, side)

    def newest(self, relation_id: str, side: str) -> dict[str, Any] | None:
        r = _report
        row = (
            self._conn.execute(
                sa.select(r)
                .where(r.c.relation_id == relation_id, r.c.side == side)
                .order_by(r.c.as_of.desc(), r.c.version.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return dict(row) if row is not None else None

    def list_visible(
        self,
        party_id: str | None,
        *,
        relation_id: str | None,
        as_of: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[dict[str, Any]], int]:
        r = _report
        where: list[Any] = []
        if party_id is not None:
            visible = sa.select(_relation.c.id).where(_of_party(party_id))
            where.append(r.c.relation_id.in_(visible))
        if relation_id:
            where.append(r.c.relation_id == relation_id)
        if as_of:
            where.append(r.c.as_of == as_of)
        total = repo.count_where(self._conn, r, where)
        rows = repo.list_rows(
            self._conn, r, where, order_by=[r.c.created_at, r.c.id], offset=offset, limit=limit
        )
        return rows, total

    def add(self, report: dict[str, Any]) -> None:
        repo.insert_row(self._conn, _report, report)

    def add_records(
        self,
        report_id: str,
        keys: Iterable[RecordKeys],
        bodies: Sequence[bytes],
    ) -> int:
        # One generator straight into COPY / executemany: a report can hold millions of
        # records, so no intermediate list and one tuple per record.
        def rows() -> Iterator[tuple[Any, ...]]:
            before: dict[str, int] = {}  # records of each status so far
            for i, record in enumerate(keys):
                status = record[2]
                position = before.get(status, 0)
                before[status] = position + 1
                yield (report_id, i, *record, position, bodies[i].decode())

        return repo.bulk_insert(self._conn, _record, _RECORD_COLUMNS, rows())

    def set_ledger_seq(self, report_id: str, seq: int) -> None:
        repo.update_row(self._conn, _report, {"id": report_id}, {"ledger_seq": seq})

    def record_bodies(self, report_id: str) -> Iterator[str]:
        return repo.iter_record_bodies(self._conn, report_id)

    def record_body_chunks(self, report_id: str, size: int = 200_000) -> Iterator[list[str]]:
        return repo.record_body_chunks(self._conn, report_id, size)

    def product_seq(self, report_id: str, product_id: str) -> int | None:
        rec = _record
        seq = self._conn.execute(
            sa.select(rec.c.seq)
            .where(rec.c.report_id == report_id, rec.c.product_id == product_id)
            .limit(1)
        ).scalar()
        return None if seq is None else int(seq)

    def records(
        self,
        report_ids: Sequence[str],
        *,
        product_id: str | None = None,
        external_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Generator[tuple[str, str], None, None]:
        rec = _record
        selective = product_id is not None or external_id is not None
        q = (
            sa.select(rec.c.report_id, rec.c.body)
            .where(*_record_filter(report_ids, product_id, external_id))
            # the few matches sorted, not the primary key walked (see ``record_page``)
            .order_by(rec.c.report_id, rec.c.seq + 0 if selective else rec.c.seq)
            .offset(offset)
            .limit(limit)
            .execution_options(yield_per=5000)
        )
        result = self._conn.execute(q)
        try:
            yield from result
        finally:  # a reader that stops early must not leave a server-side cursor behind
            result.close()

    def _conditions(self, which: RecordFilter) -> list[sa.ColumnElement[bool]]:
        rec = _record
        where: list[sa.ColumnElement[bool]] = []
        if which.statuses is not None:
            where.append(rec.c.status.in_(list(which.statuses)))
        if which.product_id is not None:
            where.append(rec.c.product_id == which.product_id)
        if which.external_id is not None:
            where.append(rec.c.external_id == which.external_id)
        for path, wanted in which.strings:
            if stored_string(wanted) is not None:  # the column holds every such string
                where.append(_COLUMN_OF[path] == wanted)
            else:
                where.append(self._json_string_is(path, wanted))
        return where

    def _json_string_is(self, path: tuple[str, ...], wanted: str) -> sa.ColumnElement[bool]:
        """The record's value at the path is exactly this JSON string (not a number, not an
        object): the same test as comparing the decoded value with a query parameter. Only
        for the strings not stored beside the record (too long): the JSON of every record of
        the report is read."""
        body = _record.c.body
        if self._conn.dialect.name == "postgresql":
            as_jsonb = sa.func.jsonb_extract_path(sa.cast(body, JSONB), *path)
            return as_jsonb == sa.cast(sa.literal(orjson.dumps(wanted).decode()), JSONB)
        where = "$." + ".".join(path)
        return sa.and_(
            sa.func.json_type(body, where) == "text", sa.func.json_extract(body, where) == wanted
        )

    def count_where(self, report_id: str, which: RecordFilter) -> int:
        where = [_record.c.report_id == report_id, *self._conditions(which)]
        return repo.count_where(self._conn, _record, where)

    def status_counts(self, report_id: str) -> dict[str, int]:
        rec = _record
        rows = self._conn.execute(
            sa.select(rec.c.status, sa.func.count())
            .where(rec.c.report_id == report_id)
            .group_by(rec.c.status)
        )
        return {status: int(n) for status, n in rows}

    def record_page(
        self, report_id: str, which: RecordFilter, offset: int, limit: int
    ) -> list[str]:
        rec = _record
        mine = rec.c.report_id == report_id
        if which.statuses is not None and which.by_status_only and offset > _SHALLOW:
            where = [
                mine,
                rec.c.seq.in_(self._status_page(report_id, which.statuses, offset, limit)),
            ]
        elif which.keeps_all:  # positions are 0..n-1: the page is a range of the primary key
            where = [mine, rec.c.seq >= offset, rec.c.seq < offset + limit]
        else:
            # The positions first, from the index alone (a deep offset walks index entries,
            # not records), then the page's bodies. With a product id or an external id the
            # few matches are sorted: ordered by the bare column, SQLite walks the primary
            # key in order instead of using their index (2 s for one product of a million).
            selective = which.product_id is not None or which.external_id is not None
            seqs = (
                sa.select(rec.c.seq)
                .where(mine, *self._conditions(which))
                .order_by(rec.c.seq + 0 if selective else rec.c.seq)
                .offset(offset)
                .limit(limit)
            )
            where = [mine, rec.c.seq.in_(seqs)]
        q = sa.select(rec.c.body).where(*where).order_by(rec.c.seq)
        return list(self._conn.execute(q).scalars())

    def _status_page(
        self, report_id: str, statuses: Sequence[str], offset: int, limit: int
    ) -> list[int]:
        """The positions of the records ``offset`` to ``offset + limit`` among those with
        one of these statuses, found without walking the ones before: each record holds its
        rank among its status's records (``status_pos``), so how many of them come before a
        position is one index search per status. A search over positions (interpolation,
        with halving when it does not close in) finds a position at most ``_SHALLOW`` kept
        records before the page, and the index is walked from there: a few searches where
        the statuses are spread through the report, about 20 at worst for a million."""
        rec = _record
        kept = sorted(set(statuses))
        if not kept or limit <= 0:
            return []
        position = sa.bindparam("position", type_=sa.Integer)
        counting = sa.select(
            *(
                sa.select(rec.c.status_pos + 1)
                .where(rec.c.report_id == report_id, rec.c.status == status, rec.c.seq < position)
                .order_by(rec.c.seq.desc())
                .limit(1)
                .scalar_subquery()
                for status in kept
            )
        )

        def before(at: int) -> int:  # the kept records at positions below ``at``
            return sum(n or 0 for n in self._conn.execute(counting, {"position": at}).one())

        top = self._conn.execute(
            sa.select(sa.func.max(rec.c.seq)).where(rec.c.report_id == report_id)
        ).scalar()
        low, below_low = 0, 0
        high = -1 if top is None else int(top) + 1
        below_high = before(high) if high > 0 else 0
        if below_high <= offset:
            return []
        aim = max(offset - _SHALLOW // 2, 0)  # land a little before the page
        width = 2 * (high - low) + 2  # the first guess interpolates
        while offset - below_low > _SHALLOW:  # below_low <= offset < below_high
            if high - low > width // 2:  # the last guess did not halve it: halve it
                guess = (low + high) // 2
            else:
                guess = low + (aim - below_low) * (high - low) // (below_high - below_low)
            guess = min(max(guess, low + 1), high - 1)
            width = high - low
            below = before(guess)
            if below <= offset:
                low, below_low = guess, below
            else:
                high, below_high = guess, below
        # from ``low`` each status's records are a range of the index, merged in report
        # order; the page starts ``offset - below_low`` kept records in
        skip = offset - below_low
        runs = [
            self._conn.execute(
                sa.select(rec.c.seq)
                .where(rec.c.report_id == report_id, rec.c.status == status, rec.c.seq >= low)
                .order_by(rec.c.seq)
                .limit(skip + limit)
            )
            .scalars()
            .all()
            for status in kept
        ]
        return list(islice(heapq.merge(*runs), skip, skip + limit))

    def relations_of(self, party_id: str | None) -> list[dict[str, Any]]:
        where = [] if party_id is None else [_of_party(party_id)]
        return repo.list_rows(self._conn, _relation, where, order_by=[_relation.c.id])

    def relations_between(
        self, party_id: str, partner_id: str, *, as_supplier: bool, as_customer: bool
    ) -> list[dict[str, Any]]:
        rel = _relation
        conds = []
        if as_supplier:
            conds.append(sa.and_(rel.c.supplier_id == party_id, rel.c.customer_id == partner_id))
        if as_customer:
            conds.append(sa.and_(rel.c.customer_id == party_id, rel.c.supplier_id == partner_id))
        if not conds:
            return []
        return repo.list_rows(self._conn, rel, [sa.or_(*conds)])

    def record_texts(self, report_id: str, seqs: Sequence[int]) -> dict[int, str]:
        if not seqs:
            return {}
        rec = _record
        rows = self._conn.execute(
            sa.select(rec.c.seq, rec.c.body).where(
                rec.c.report_id == report_id, rec.c.seq.in_(list(seqs))
            )
        ).all()
        return {seq: body for seq, body in rows}

    def product_ids(self, report_id: str, seqs: Iterable[int]) -> dict[int, str]:
        rec = _record
        out: dict[int, str] = {}
        for chunk in repo.in_chunks(seqs):
            rows = self._conn.execute(
                sa.select(rec.c.seq, rec.c.product_id).where(
                    rec.c.report_id == report_id, rec.c.seq.in_(chunk)
                )
            )
            out.update((seq, product_id) for seq, product_id in rows)
        return out

    def record_ids(self, report_id: str, seqs: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        rec = _record
        out: dict[int, tuple[str, str | None]] = {}
        for chunk in repo.in_chunks(seqs):
            rows = self._conn.execute(
                sa.select(rec.c.seq, rec.c.product_id, rec.c.external_id).where(
                    rec.c.report_id == report_id, rec.c.seq.in_(chunk)
                )
            )
            out.update((seq, (product_id, external)) for seq, product_id, external in rows)
        return out

    def record_seqs(self, report_id: str, product_ids: Iterable[str]) -> set[int]:
        rec = _record
        out: set[int] = set()
        for chunk in repo.in_chunks(product_ids):
            out.update(
                self._conn.execute(
                    sa.select(rec.c.seq).where(
                        rec.c.report_id == report_id, rec.c.product_id.in_(chunk)
                    )
                ).scalars()
            )
        return out
