"""The product lists' filters on strings of the record (TMF637 ``name``,
``productOffering.id``; MEF 116 ``productOfferingId``, ``productSpecificationId``) keep only
records whose value there is that very JSON string, and count and page through the columns
stored beside the record and their indexes on SQLite and PostgreSQL: the database's own plan
names the index. The migration fills the columns of the records stored before it."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from panther.adapters.sql.db import migrate
from panther.adapters.sql.reports import SqlReportRepository
from panther.server.representations import mef116, tmf637
from panther.server.services.ports import STORED_STRINGS, RecordFilter
from panther.server.services.reports import record_keys
from tests.unit.sql.conftest import upgrade_to

COLUMNS = dict(zip(STORED_STRINGS, ("name", "offering_id", "specification_id"), strict=True))
LONG = "x" * 300  # longer than a stored string: matched through the record's JSON

# The value each record holds at every path: only "x" matches a filter on "x".
VALUES: list[Any] = ["x", "x", "y", "X", "x ", 5, {"x": 1}, ["x"], None, True, '"x"', "é\n", LONG]


def _record(i: int, value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": f"p{i}", "status": "active"}
    for path in STORED_STRINGS:
        node = body
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return body


def test_every_list_filter_on_a_string_is_stored() -> None:
    declared = {*tmf637.STRING_FILTERS.values(), *mef116.STRING_FILTERS.values()}
    assert declared == set(STORED_STRINGS)


def _parent_rows(conn: sa.Connection) -> None:
    for party in ("a", "b"):
        conn.execute(
            sa.text(
                "INSERT INTO party (id, name, role, address, custody, created_at) "
                f"VALUES ('{party}', 'A', 'carrier', '0x{party}', 'custodial', 't')"
            )
        )
    conn.execute(
        sa.text(
            "INSERT INTO relation (id, supplier_id, customer_id, profile, profile_hash, terms, "
            "state, proposed_by, created_at) "
            "VALUES ('r', 'a', 'b', '{}', 'h', '{}', 'agreed', 'a', 't')"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO inventory_report (id, relation_id, reporter_id, side, as_of, version, "
            "content_hash, merkle_root, record_count, media_type, origin, signature, created_at) "
            f"VALUES ('rep', 'r', 'a', 'supplier', '2026-01-01', 1, 'h', 'm', {len(VALUES)}, "
            "'application/json', 'upload', 's', 't')"
        )
    )


def _fill(conn: sa.Connection) -> SqlReportRepository:
    _parent_rows(conn)
    reports = SqlReportRepository(conn)
    records = [_record(i, v) for i, v in enumerate(VALUES)]
    reports.add_records("rep", map(record_keys, records), [orjson.dumps(r) for r in records])
    return reports


@pytest.mark.parametrize("path", STORED_STRINGS, ids=".".join)
def test_a_string_filter_keeps_that_string_only_and_uses_its_index(
    engine: sa.Engine, path: tuple[str, ...]
) -> None:
    migrate(engine)
    statements: list[tuple[str, Any]] = []

    def keep(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    with engine.begin() as conn:
        reports = _fill(conn)
        which = RecordFilter(strings=((path, "x"),))
        sa.event.listen(conn, "before_cursor_execute", keep)
        total = reports.count_where("rep", which)
        page = reports.record_page("rep", which, 0, 10)
        deeper = reports.record_page("rep", which, 1, 10)
        sa.event.remove(conn, "before_cursor_execute", keep)
        assert total == 2
        assert [orjson.loads(b)["id"] for b in page] == ["p0", "p1"]
        assert [orjson.loads(b)["id"] for b in deeper] == ["p1"]
        # with the status too; and a string too long to be stored, through the JSON
        both = RecordFilter(statuses=("active",), strings=((path, "x"),))
        assert reports.count_where("rep", both) == 2
        assert len(reports.record_page("rep", both, 0, 10)) == 2
        long = RecordFilter(strings=((path, LONG),))
        assert reports.count_where("rep", long) == 1
        assert [orjson.loads(b)["id"] for b in reports.record_page("rep", long, 0, 5)] == ["p12"]

        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a few rows: not a choice
        explain = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        column = COLUMNS[path]
        for statement, parameters in statements[:2]:  # the count and the page's positions
            rows = conn.exec_driver_sql(f"{explain} {statement}", parameters)
            plan = " ".join(str(row) for row in rows)
            # the index searched by (report, value), not merely walked
            used = (
                rf"Index (Only )?Scan using ix_inventory_record_{column} .*Index Cond: .*"
                rf"{column} = "
                if engine.dialect.name == "postgresql"
                else rf"INDEX ix_inventory_record_{column} \(report_id=\? AND {column}=\?\)"
            )
            assert re.search(used, plan), (statement, plan)


def test_the_migration_fills_the_stored_records(engine: sa.Engine) -> None:


    with engine.begin() as conn:
        upgrade_to(conn, "0009")
        _parent_rows(conn)
        for i, value in enumerate(VALUES):
            conn.execute(
                sa.text(
                    "INSERT INTO inventory_record (report_id, seq, product_id, status, body) "
                    "VALUES ('rep', :seq, :id, 'active', :body)"
                ),
                {"seq": i, "id": f"p{i}", "body": orjson.dumps(_record(i, value)).decode()},
            )
    migrate(engine)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT name, offering_id, specification_id FROM inventory_record ORDER BY seq")
        ).all()
    expected = [record_keys(_record(i, v))[3:] for i, v in enumerate(VALUES)]
    assert [tuple(row) for row in stored] == expected
    assert expected[0] == ("x", "x", "x") and expected[5] == (None, None, None)
