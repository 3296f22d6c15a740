"""Issue 16: the filters of the TMF621 trouble ticket list (externalId, relatedEntity.id) and
of the TMF678 and MEF 141 customerBill lists (billNo, relatedParty.id, the billing period),
timed in process (the use cases, no HTTP): the best of 3 calls per target, over N tickets and
M bills written straight through the repositories by tests/list_rows.py (3 relations; the
operator lists every relation's).

    PYTHONPATH=<tree> python bench/bench_list_filters.py --tickets 20000 --bills 2000
    PYTHONPATH=<tree> PANTHER_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test \\
        python bench/bench_list_filters.py --tickets 20000 --bills 2000

The code measured is the one on PYTHONPATH (main's tree for the figures before); on
PostgreSQL the rows go in a schema of their own, dropped afterwards, and are VACUUM ANALYZEd
first. Prints one line a target.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import importlib.util  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from bench_json_filters import in_own_schema  # noqa: E402
from bench_spine import _DB_URL, _schema  # noqa: E402

# The helpers put their own tree first: the tree measured is PYTHONPATH's (main's for the
# figures before), and nothing of panther is imported yet.
sys.path[:0] = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]

import panther  # noqa: E402
from panther.server.bootstrap import compose  # noqa: E402
from panther.server.services import billing_mef, bills, disputes  # noqa: E402
from panther.server.services.context import Caller  # noqa: E402
from panther.server.settings import Settings  # noqa: E402

# This tree's rows (tests/ of main's tree has none), written by the tree measured.
_spec = importlib.util.spec_from_file_location("list_rows", ROOT / "tests" / "list_rows.py")
assert _spec is not None and _spec.loader is not None
list_rows = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(list_rows)

OPERATOR = Caller(party_id="op", client_id="bench", is_operator=True)


def _best(call: Callable[[], Any]) -> tuple[Any, float]:
    """The last result and the best of 3 calls, in ms."""
    out: list[Any] = []
    best = min(timeit.repeat(lambda: out.append(call()), number=1, repeat=3))
    return out[-1], best * 1000


def _measure(tickets: int, bill_count: int, data: str) -> None:
    ports = compose(
        Settings.from_env(data_dir=Path(data), database_url=_DB_URL),
        schema=_schema(),
        ensure_operator_party=False,
    )
    t0 = time.perf_counter()
    list_rows.write(ports, tickets=tickets, bills=bill_count)
    print(f"build {time.perf_counter() - t0:.1f} s", flush=True)
    if _DB_URL:
        with ports.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for table in ("relation", "trouble_ticket", "dispute_entity", "billing_statement"):
                c.execute(sa.text(f"VACUUM ANALYZE {table}"))
            if sa.inspect(c).has_table("dispute_ledger_entry"):
                c.execute(sa.text("VACUUM ANALYZE dispute_ledger_entry"))
    deep = tickets // 2
    for name, filters, offset in (
        ("TMF621 ?externalId=EXT-b (1 in 7)", {"externalId": "EXT-b"}, 0),
        (f"TMF621 ?externalId=EXT-b offset={deep // 7}", {"externalId": "EXT-b"}, deep // 7),
        ("TMF621 ?externalId=nothing (no match)", {"externalId": "nothing"}, 0),
        ("TMF621 ?relatedEntity.id=L-4 (1 in 26)", {"relatedEntity.id": "L-4"}, 0),
        (f"TMF621 ?relatedEntity.id={deep} (1 ledger entry)", {"relatedEntity.id": str(deep)}, 0),
        ("TMF621 ?relatedEntity.id=nothing (no match)", {"relatedEntity.id": "nothing"}, 0),
    ):
        (items, total), ms = _best(
            lambda f=filters, o=offset: disputes.list_tickets(
                ports, OPERATOR, filters=f, fields=None, offset=o, limit=100
            )
        )
        print(f"{name}: {ms:.1f} ms ({len(items)} of {total})", flush=True)
    some_bill = list_rows.bill_ids(bill_count)[bill_count // 2][0]
    for name, filters in (
        (
            "TMF678 ?billingPeriod.startDateTime=2026-02-01T00:00:00Z",
            {"billingPeriod.startDateTime": "2026-02-01T00:00:00Z"},
        ),
        ("TMF678 ?relatedParty.id=oth", {"relatedParty.id": "oth"}),
        (f"TMF678 ?billNo={some_bill.removeprefix('CB-')}", {"billNo": some_bill[3:]}),
    ):
        (items, total), ms = _best(
            lambda f=filters: bills.list_bills(
                ports, OPERATOR, filters=f, fields=None, offset=0, limit=100
            )
        )
        print(f"{name}: {ms:.1f} ms ({len(items)} of {total})", flush=True)
    (items, total), ms = _best(
        lambda: billing_mef.list_bills(
            ports,
            OPERATOR,
            buyer_id=None,
            seller_id=None,
            filters={"billingPeriod.startDateTime.gt": "2026-02-15T00:00:00Z"},
            offset=0,
            limit=100,
        )
    )
    print(f"MEF 141 ?billingPeriod.startDateTime.gt: {ms:.1f} ms ({len(items)} of {total})")
    ports.db.engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=20_000)
    ap.add_argument("--bills", type=int, default=2_000)
    args = ap.parse_args()
    print(f"code: {panther.__file__}; database: {_DB_URL or 'sqlite'}", flush=True)
    in_own_schema(lambda data: _measure(args.tickets, args.bills, data))


if __name__ == "__main__":
    main()
