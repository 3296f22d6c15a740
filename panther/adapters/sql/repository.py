"""Queries and bulk writes of the system of record; every function takes a live connection.

The services decide transaction boundaries (``Database.write()``); the functions here never
commit. Bulk paths use Core ``executemany`` on SQLite and ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from .tables import (
    ApiClient,
    BillingLine,
    BillingStatement,
    BillRequest,
    CustodialKey,
    DisputeEntity,
    DisputeLedgerEntry,
    DisputeSignature,
    EventSubscription,
    IdempotencyKey,
    InventoryRecord,
    InventoryReport,
    LedgerVisibility,
    MatchEndorsement,
    MatchItem,
    MatchItemRefs,
    MatchRun,
    MatchSuggestion,
    Party,
    Relation,
    RelationAgreement,
    ReviewAction,
    ReviewItem,
    ReviewSignature,
    ServerSecret,
    StatementEndorsement,
    TroubleTicket,
)

__all__ = [
    "agreement_rows",
    "bulk_insert",
    "count_where",
    "endorsement_rows",
    "get_row",
    "in_chunks",
    "insert_row",
    "iter_record_bodies",
    "latest_report",
    "list_rows",
    "record_body_chunks",
    "T",
    "update_row",
]


def _table(model: type[SQLModel]) -> sa.Table:
    """The Core table of a SQLModel table class (typed: SQLModel does not declare ``__table__``)."""
    table = model.metadata.tables[str(model.__tablename__)]
    return table


class T:
    """Core tables by name, for the repositories' queries."""

    party: sa.Table = _table(Party)
    custodial_key: sa.Table = _table(CustodialKey)
    api_client: sa.Table = _table(ApiClient)
    server_secret: sa.Table = _table(ServerSecret)
    relation: sa.Table = _table(Relation)
    relation_agreement: sa.Table = _table(RelationAgreement)
    report: sa.Table = _table(InventoryReport)
    record: sa.Table = _table(InventoryRecord)
    run: sa.Table = _table(MatchRun)
    endorsement: sa.Table = _table(MatchEndorsement)
    item: sa.Table = _table(MatchItem)
    item_refs: sa.Table = _table(MatchItemRefs)
    suggestion: sa.Table = _table(MatchSuggestion)
    subscription: sa.Table = _table(EventSubscription)
    statement: sa.Table = _table(BillingStatement)
    bill_line: sa.Table = _table(BillingLine)
    statement_endorsement: sa.Table = _table(StatementEndorsement)
    bill_request: sa.Table = _table(BillRequest)
    review_item: sa.Table = _table(ReviewItem)
    review_action: sa.Table = _table(ReviewAction)
    review_signature: sa.Table = _table(ReviewSignature)
    ticket: sa.Table = _table(TroubleTicket)
    dispute_entity: sa.Table = _table(DisputeEntity)
    dispute_ledger_entry: sa.Table = _table(DisputeLedgerEntry)
    dispute_signature: sa.Table = _table(DisputeSignature)
    idempotency_key: sa.Table = _table(IdempotencyKey)
    ledger_visibility: sa.Table = _table(LedgerVisibility)


def insert_row(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> None:
    conn.execute(table.insert().values(**values))


def update_row(
    conn: sa.Connection, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
) -> int:
    cond = sa.and_(*(table.c[k] == v for k, v in key.items()))
    return conn.execute(table.update().where(cond).values(**values)).rowcount


def get_row(conn: sa.Connection, table: sa.Table, **key: Any) -> dict[str, Any] | None:
    cond = sa.and_(*(table.c[k] == v for k, v in key.items()))
    row = conn.execute(sa.select(table).where(cond)).mappings().first()
    return dict(row) if row else None


def list_rows(
    conn: sa.Connection,
    table: sa.Table,
    where: Sequence[Any] = (),
    *,
    order_by: Sequence[Any] = (),
    offset: int = 0,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    q = sa.select(table)
    for cond in where:
        q = q.where(cond)
    q = q.order_by(*order_by).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def equal(*pairs: tuple[Any, Any]) -> list[Any]:
    """``column == value`` for each (column, value) whose value is given (not None)."""
    return [column == value for column, value in pairs if value is not None]


def page(
    conn: sa.Connection, query: sa.Select[Any], order: Sequence[Any], offset: int, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    """One page of ``query`` in ``order`` and the total it pages through (counted in the
    database; without a limit the page is the rest, so no count is needed)."""
    ordered = query.order_by(*order).offset(offset).limit(limit)
    rows = [dict(r) for r in conn.execute(ordered).mappings()]
    if limit is None:
        return rows, offset + len(rows)
    count = sa.select(sa.func.count()).select_from(query.subquery())
    return rows, int(conn.execute(count).scalar_one())


def count_where(conn: sa.Connection, table: sa.Table, where: Sequence[Any] = ()) -> int:
    q = sa.select(sa.func.count()).select_from(table)
    for cond in where:
        q = q.where(cond)
    return int(conn.execute(q).scalar_one())


def _driver(conn: sa.Connection) -> Any:
    """The driver's own connection (psycopg or sqlite3) under a live SQLAlchemy connection."""
    raw = conn.connection.driver_connection
    assert raw is not None, "the connection is closed"
    return raw


def _copy_value(v: Any) -> str:
    if v is None:
        return "\\N"
    s = str(v)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def bulk_insert(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    chunk: int = 50_000,
) -> int:
    """Insert many rows fast: COPY on PostgreSQL, one executemany per chunk elsewhere."""
    total = 0
    if conn.dialect.name == "postgresql":
        raw = _driver(conn)
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as cp:
            buf = io.StringIO()
            for row in rows:
                buf.write("\t".join(_copy_value(v) for v in row))
                buf.write("\n")
                total += 1
                if total % chunk == 0:
                    cp.write(buf.getvalue())
                    buf = io.StringIO()
            cp.write(buf.getvalue())
        return total
    raw_sql = (
        f'INSERT INTO "{table.name}" ({", ".join(columns)}) '
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    dbapi = _driver(conn)
    batch: list[Sequence[Any]] = []
    cur = dbapi.cursor()
    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                cur.executemany(raw_sql, batch)
                total += len(batch)
                batch = []
        if batch:
            cur.executemany(raw_sql, batch)
            total += len(batch)
    finally:
        cur.close()
    return total


def latest_report(
    conn: sa.Connection, relation_id: str, as_of: str, side: str
) -> dict[str, Any] | None:
    r = T.report
    row = (
        conn.execute(
            sa.select(r)
            .where(r.c.relation_id == relation_id, r.c.as_of == as_of, r.c.side == side)
            .order_by(r.c.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def iter_record_bodies(conn: sa.Connection, report_id: str) -> Iterator[str]:
    """The canonical JSON of a report's records in report order, streamed."""
    rec = T.record
    # yield_per on the statement, not the connection: Connection.execution_options changes
    # the connection in place, and every later statement would run in a server-side cursor.
    result = conn.execute(
        sa.select(rec.c.body)
        .where(rec.c.report_id == report_id)
        .order_by(rec.c.seq)
        .execution_options(yield_per=20_000)
    )
    for (body,) in result:
        yield body


def record_body_chunks(
    conn: sa.Connection, report_id: str, size: int = 200_000
) -> Iterator[list[str]]:
    """A report's canonical record text in report order, ``size`` rows at a time, through the
    driver's cursor (no per-row SQLAlchemy work): the match run's hot read."""
    raw = _driver(conn)
    if conn.dialect.name == "postgresql":
        cur = raw.cursor(name=f"bodies_{abs(hash((report_id, id(conn))))}")
        cur.itersize = size
        cur.execute(
            "SELECT body FROM inventory_record WHERE report_id = %s ORDER BY seq", (report_id,)
        )
    else:
        cur = raw.cursor()
        cur.execute(
            "SELECT body FROM inventory_record WHERE report_id = ? ORDER BY seq", (report_id,)
        )
    try:
        while rows := cur.fetchmany(size):
            yield [r[0] for r in rows]
    finally:
        cur.close()


def agreement_rows(conn: sa.Connection, relation_id: str) -> list[dict[str, Any]]:
    return list_rows(
        conn, T.relation_agreement, [T.relation_agreement.c.relation_id == relation_id]
    )


def endorsement_rows(conn: sa.Connection, run_id: str) -> list[dict[str, Any]]:
    return list_rows(conn, T.endorsement, [T.endorsement.c.run_id == run_id])


# Values per `IN (...)` list: well under the bind-parameter limits of SQLite and PostgreSQL,
# so a bulk action over any number of items costs a query per 5,000 of them.
IN_LIST = 5000


def in_chunks(values: Iterable[Any], size: int = IN_LIST) -> Iterator[list[Any]]:
    """``values`` sorted, in lists of at most ``size`` for ``IN (...)`` queries."""
    ordered = sorted(values)
    for at in range(0, len(ordered), size):
        yield ordered[at : at + size]
