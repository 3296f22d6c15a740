"""Which item each record is in: the items of a run filter by product id through the records'
index and the items' (run, ref) indexes on SQLite and PostgreSQL, the database's own plan
names them; and the migration fills the refs of the items stored before it."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import sqlalchemy as sa

from panther.adapters.sql.db import migrate
from panther.adapters.sql.runs import SqlRunRepository
from panther.ledger.canonical import canonical_json
from tests.unit.sql.conftest import upgrade_to

# (class, reason, supplier refs, customer refs) of the run's items, in item order
ITEMS: list[tuple[str, str | None, list[int], list[int]]] = [
    ("matched", None, [0], [1]),
    ("partial", None, [1], [0]),
    ("mismatch", "ambiguous", [2, 3], [2]),
    ("mismatch", "missingAtCustomer", [4], []),
    ("mismatch", "missingAtSupplier", [], [3]),
]
SUPPLIER_IDS = ["S0", "S1", "DUP", "DUP", "X"]
CUSTOMER_IDS = ["C0", "C1", "C2", "X"]
# and as many matched pairs more, so that the planner has something to choose between
FILLER = 3000


def _parents(conn: sa.Connection) -> None:
    run = conn.execute
    for party in ("a", "b"):
        run(
            sa.text(
                "INSERT INTO party (id, name, role, address, custody, created_at) "
                f"VALUES ('{party}', 'A', 'carrier', '0x{party}', 'custodial', 't')"
            )
        )
    run(
        sa.text(
            "INSERT INTO relation (id, supplier_id, customer_id, profile, profile_hash, terms, "
            "state, proposed_by, created_at) "
            "VALUES ('r', 'a', 'b', '{}', 'h', '{}', 'agreed', 'a', 't')"
        )
    )
    for report, side, ids in (("rs", "supplier", SUPPLIER_IDS), ("rc", "customer", CUSTOMER_IDS)):
        run(
            sa.text(
                "INSERT INTO inventory_report (id, relation_id, reporter_id, side, as_of, "
                "version, content_hash, merkle_root, record_count, media_type, origin, "
                f"signature, created_at) VALUES ('{report}', 'r', 'a', '{side}', '2026-01-01', "
                f"1, 'h', 'm', {len(ids)}, 'application/json', 'upload', 's', 't')"
            )
        )
        every = [*ids, *(f"F{i}" for i in range(FILLER))]
        run(
            sa.text(
                "INSERT INTO inventory_record (report_id, seq, product_id, status, status_pos, "
                "body) VALUES (:report, :seq, :id, 'active', :seq, '{}')"
            ),
            [{"report": report, "seq": seq, "id": pid} for seq, pid in enumerate(every)],
        )
    run(
        sa.text(
            "INSERT INTO match_run (id, relation_id, as_of, supplier_report_id, "
            "customer_report_id, profile_hash, state, counts, items_root, item_count, "
            "created_at) VALUES ('run', 'r', '2026-01-01', 'rs', 'rc', 'h', 'recorded', '{}', "
            f"'', {len(ITEMS)}, 't')"
        )
    )


def _body(item_no: int) -> str:
    cls, reason, srefs, crefs = ITEMS[item_no]
    return canonical_json(
        {
            "class": cls,
            "reason": reason,
            "rule": None,
            "itemNo": item_no,
            "supplierRefs": srefs,
            "customerRefs": crefs,
            "differences": None,
        }
    ).decode()


def _owners(side: int, size: int) -> np.ndarray:
    owners = np.full(size, -1, dtype=np.int32)
    for n, item in enumerate(ITEMS):
        owners[item[2 + side]] = n
    return owners


def _store_items(runs: SqlRunRepository) -> None:
    runs.add_items(
        ("run", n, cls, reason, None, "", _body(n)) for n, (cls, reason, _, _) in enumerate(ITEMS)
    )
    first = len(ITEMS)
    runs.add_items(("run", first + i, "matched", None, None, "", "{}") for i in range(FILLER))
    for side, ids in enumerate((SUPPLIER_IDS, CUSTOMER_IDS)):
        owners = _owners(side, len(ids) + FILLER)
        owners[len(ids) :] = np.arange(first, first + FILLER)
        runs.add_item_refs("run", ("supplier", "customer")[side], owners)


def _page(
    runs: SqlRunRepository, products: list[tuple[str | None, str]], offset: int = 0, limit: int = 10
) -> tuple[list[int], int]:
    rows, total = runs.items(
        "run",
        class_=None,
        reason=None,
        rule=None,
        field=None,
        offset=offset,
        limit=limit,
        products=products,
    )
    return [r["item_no"] for r in rows], total


def test_items_of_a_product_are_index_searches(engine: sa.Engine) -> None:
    migrate(engine)
    statements: list[tuple[str, Any]] = []

    def keep(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    with engine.begin() as conn:
        _parents(conn)
        runs = SqlRunRepository(conn)
        _store_items(runs)
        sa.event.listen(conn, "before_cursor_execute", keep)
        assert _page(runs, [(None, "X")]) == ([3, 4], 2)
        sa.event.remove(conn, "before_cursor_execute", keep)
        assert _page(runs, [(None, "X")], offset=1, limit=1) == ([4], 2)
        assert _page(runs, [("supplier", "X")]) == ([3], 1)
        assert _page(runs, [("customer", "X")]) == ([4], 1)
        assert _page(runs, [(None, "DUP")]) == ([2], 1)
        assert _page(runs, [("customer", "C2")]) == ([2], 1)
        assert _page(runs, [(None, "S1"), ("customer", "C0")]) == ([1], 1)
        assert _page(runs, [(None, "S1"), ("customer", "C1")]) == ([], 0)
        assert _page(runs, [(None, "C0"), ("supplier", "C0")]) == ([], 0)

        assert _page(runs, [(None, f"F{FILLER - 1}")]) == ([len(ITEMS) + FILLER - 1], 1)
        postgres = engine.dialect.name == "postgresql"
        conn.exec_driver_sql("ANALYZE")
        explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
        plans = [
            " ".join(str(row) for row in conn.exec_driver_sql(f"{explain} {statement}", params))
            for statement, params in statements
        ]
        searched = (
            [
                r"Index (Only )?Scan using ix_inventory_record_product .*Cond: .*product_id",
                # (match_item_refs holds a chunk a side here: scanning it is the planner's right)
                r"Index (Only )?Scan using pk_match_item .*Cond: .*item_no = ANY",
            ]
            if postgres
            else [
                r"INDEX ix_inventory_record_product \(report_id=\? AND product_id=\?\)",
                r"INDEX sqlite_autoindex_match_item_refs_1 \(run_id=\? AND side=\? AND chunk=\?\)",
                r"INDEX sqlite_autoindex_match_item_1 \(run_id=\? AND item_no=\?\)",
            ]
        )
        for pattern in searched:
            assert any(re.search(pattern, plan) for plan in plans), (pattern, plans)
        # never a walk over the run's items or the report's records
        walk = (
            r"Seq Scan on (match_item|inventory_record)\b"
            if postgres
            else r"SCAN (match_item|inventory_record)\b(?! USING)"
        )
        for plan in plans:
            assert not re.search(walk, plan), plan


def test_the_migration_fills_the_refs_of_stored_items(engine: sa.Engine) -> None:

    with engine.begin() as conn:
        upgrade_to(conn, "0015")  # the revision before 0016
        _parents(conn)
        for n, (cls, reason, _, _) in enumerate(ITEMS):
            conn.execute(
                sa.text(
                    'INSERT INTO match_item (run_id, item_no, "class", reason, rule, '
                    "diff_fields, body) VALUES ('run', :n, :cls, :reason, NULL, '', :body)"
                ),
                {"n": n, "cls": cls, "reason": reason, "body": _body(n)},
            )
    migrate(engine)
    with engine.begin() as conn:
        stored = conn.execute(
            sa.text("SELECT side, chunk, item_nos FROM match_item_refs ORDER BY side, chunk")
        ).all()
        assert [(side, chunk) for side, chunk, _ in stored] == [("customer", 0), ("supplier", 0)]
        by_side = {side: np.frombuffer(blob, dtype="<i4").tolist() for side, _, blob in stored}
        assert by_side["supplier"] == _owners(0, len(SUPPLIER_IDS)).tolist()
        assert by_side["customer"] == _owners(1, len(CUSTOMER_IDS)).tolist()
        runs = SqlRunRepository(conn)
        assert _page(runs, [(None, "DUP")]) == ([2], 1)
        assert _page(runs, [(None, "X")]) == ([3, 4], 2)
