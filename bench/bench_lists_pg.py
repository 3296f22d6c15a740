"""Issue 16: the product lists timed in process (the use cases, no HTTP): the best of 3
calls per target, on a relation of N products per side built by bench_lists.py's generator
through the upload service (after VACUUM ANALYZE on PostgreSQL). A deep page of a status
filter is timed twice on the same data: walking the status index up to the offset (what
every status page did before migration 0011) and searching the status positions.

    PANTHER_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/bench_paging \\
        python bench/bench_lists_pg.py --records 1000000
    python bench/bench_lists_pg.py --records 1000000        # SQLite in a temporary folder

The database must be empty (the parties are named sup and cus). Prints one line a target.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from bench_lists import _build  # noqa: E402
from bench_spine import _DB_URL, _open  # noqa: E402

from panther.adapters.sql import reports as sql_reports  # noqa: E402
from panther.server.services import products, products_mef  # noqa: E402
from panther.server.services.context import Caller  # noqa: E402


def _best(call: Callable[[], Any]) -> tuple[Any, float]:
    times, out = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - t0)
    return out, min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    n = ap.parse_args().records
    with tempfile.TemporaryDirectory() as data:
        t0 = time.perf_counter()
        _build(n, data)
        print(f"build {time.perf_counter() - t0:.1f} s", flush=True)
        ports, _ = _open(data)
        if _DB_URL.startswith("postgresql"):
            with ports.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("VACUUM ANALYZE inventory_record"))
                c.execute(sa.text("VACUUM ANALYZE inventory_report"))
        print(f"database: {'PostgreSQL' if _DB_URL else 'SQLite'}", flush=True)
        sup, cus = Caller(party_id="sup", client_id="bench"), Caller(party_id="cus", client_id="b")
        deep = n * 9 // 10
        shallow = sql_reports._SHALLOW
        for name, filters, offset in (
            ("TMF637 list", {}, 0),
            (f"TMF637 list offset={deep}", {}, deep),
            ("TMF637 ?status=active", {"status": "active"}, 0),
            (f"TMF637 ?status=active offset={deep // 2}", {"status": "active"}, deep // 2),
            (f"TMF637 ?status=suspended offset={n // 40}", {"status": "suspended"}, n // 40),
            ("TMF637 ?id= (one product)", {"id": f"CID-{n // 2:07d}"}, 0),
        ):
            (items, total), ms = _best(
                lambda f=filters, o=offset: products.list_tmf_products(
                    ports, sup, filters=f, fields=None, offset=o, limit=100
                )
            )
            print(f"{name}: {ms:.1f} ms ({len(items)} of {total})", flush=True)
            if "status" in filters and offset > sql_reports._SHALLOW:
                searched = items
                sql_reports._SHALLOW = 1 << 62  # every offset walks the index, as before 0011
                try:
                    (items, total), ms = _best(
                        lambda f=filters, o=offset: products.list_tmf_products(
                            ports, sup, filters=f, fields=None, offset=o, limit=100
                        )
                    )
                finally:
                    sql_reports._SHALLOW = shallow
                assert items == searched
                print(f"{name}, walking the index: {ms:.1f} ms", flush=True)
        for name, offset in (("MEF 116 list", 0), (f"MEF 116 list offset={deep}", deep)):
            (items, total), ms = _best(
                lambda o=offset: products_mef.list_mef_products(
                    ports, cus, buyer_id="cus", seller_id=None, filters={}, offset=o, limit=100
                )
            )
            print(f"{name}: {ms:.1f} ms ({len(items)} of {total})", flush=True)
        _, ms = _best(
            lambda: products_mef.get_mef_product(
                ports, cus, f"CID-{n // 2:07d}", buyer_id="cus", seller_id=None
            )
        )
        print(f"MEF 116 one product: {ms:.1f} ms", flush=True)


if __name__ == "__main__":
    main()
