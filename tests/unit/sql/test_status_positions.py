"""A page deep into a status filter is found by searching each record's position among its
status's records (``status_pos``), not by walking the index entries before it; the page is
the same as filtering the report in order, on SQLite and PostgreSQL, for one status and for
several; the migration gives the records stored before it their positions."""

from __future__ import annotations

import random
import re
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from panther.adapters.sql import reports as sql_reports
from panther.adapters.sql.db import migrate
from panther.adapters.sql.reports import _SHALLOW, SqlReportRepository
from panther.server.services.ports import RecordFilter
from panther.server.services.reports import record_keys
from tests.unit.sql.conftest import upgrade_to
from tests.unit.sql.test_record_string_filters import _parent_rows

N = 3 * _SHALLOW + 500
STATUSES = ["active", "Active", "pending", "terminated"]


def _statuses() -> list[str]:
    rng = random.Random(7)  # runs of one status and interleavings both occur
    out: list[str] = []
    while len(out) < N:
        out += [rng.choices(STATUSES, weights=[6, 1, 2, 1])[0]] * rng.choice([1, 1, 2, 40])
    return out[:N]


def _fill(conn: sa.Connection, statuses: list[str]) -> SqlReportRepository:
    _parent_rows(conn)  # report 'rep' of relation 'r'
    reports = SqlReportRepository(conn)
    records = [{"id": f"p{i}", "status": s} for i, s in enumerate(statuses)]
    reports.add_records("rep", map(record_keys, records), [orjson.dumps(r) for r in records])
    return reports


@pytest.mark.parametrize("walk", [_SHALLOW, 10], ids=["walk2000", "walk10"])
@pytest.mark.parametrize(
    "kept", [("active",), ("terminated",), ("active", "Active"), ("Active", "pending", "missing")]
)
def test_a_status_page_at_any_offset_is_the_filtered_report_in_order(
    engine: sa.Engine,
    kept: tuple[str, ...],
    walk: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # walk10: the search closes in to 10 records before the page (many more steps)
    monkeypatch.setattr(sql_reports, "_SHALLOW", walk)
    migrate(engine)
    statuses = _statuses()
    expected = [f"p{i}" for i, s in enumerate(statuses) if s in kept]
    with engine.begin() as conn:
        reports = _fill(conn, statuses)
        which = RecordFilter(statuses=kept)
        assert reports.count_where("rep", which) == len(expected)
        last = len(expected) - 1
        for offset in (0, 17, _SHALLOW, _SHALLOW + 1, 2 * _SHALLOW + 3, last - 50, last):
            for limit in (1, 100):
                page = reports.record_page("rep", which, offset, limit)
                got = [orjson.loads(body)["id"] for body in page]
                assert got == expected[offset : offset + limit], (offset, limit)
        assert reports.record_page("rep", which, len(expected), 10) == []
        assert reports.record_page("rep", which, len(expected) + _SHALLOW, 10) == []


def test_a_deep_status_page_searches_the_positions(engine: sa.Engine) -> None:
    migrate(engine)
    statements: list[tuple[str, Any]] = []

    def keep(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    with engine.begin() as conn:
        reports = _fill(conn, _statuses())
        sa.event.listen(conn, "before_cursor_execute", keep)
        reports.record_page("rep", RecordFilter(statuses=("active", "pending")), 3 * _SHALLOW, 50)
        sa.event.remove(conn, "before_cursor_execute", keep)
        # a binary search over the positions: about log2(N) statements (13 here) and the page
        assert len(statements) <= 20, len(statements)
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        explain = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        counting = next(s for s in statements if "status_pos" in s[0])
        plan = " ".join(
            str(r) for r in conn.exec_driver_sql(f"{explain} {counting[0]}", counting[1])
        )
        searched = (
            r"Index Only Scan Backward using ix_inventory_record_status .*Index Cond: .*seq <"
            if engine.dialect.name == "postgresql"
            else r"COVERING INDEX ix_inventory_record_status "
            r"\(report_id=\? AND status=\? AND seq<\?\)"
        )
        assert re.search(searched, plan), plan


def test_the_migration_gives_stored_records_their_positions(engine: sa.Engine) -> None:

    statuses = ["a", "b", "a", "a", "c", "b", "a"]
    with engine.begin() as conn:
        upgrade_to(conn, "0010")
        _parent_rows(conn)
        for i, status in enumerate(statuses):
            conn.execute(
                sa.text(
                    "INSERT INTO inventory_record (report_id, seq, product_id, status, body) "
                    "VALUES ('rep', :seq, :id, :status, '{}')"
                ),
                {"seq": i, "id": f"p{i}", "status": status},
            )
    migrate(engine)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT status_pos FROM inventory_record ORDER BY seq"))
        assert [p for (p,) in stored] == [0, 0, 1, 2, 0, 1, 3]
