"""Issue 16: the product lists on PostgreSQL, timed in process (the use cases, no HTTP):
the best of 3 calls per target, on a relation of N products per side built by
bench_lists.py's generator through the upload service, after VACUUM ANALYZE.

    PANTHER_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/bench_paging \\
        python bench/bench_lists_pg.py --records 1000000

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
    assert _DB_URL.startswith("postgresql"), "set PANTHER_BENCH_DATABASE_URL"
    with tempfile.TemporaryDirectory() as data:
        t0 = time.perf_counter()
        _build(n, data)
        print(f"build {time.perf_counter() - t0:.1f} s", flush=True)
        ports, _ = _open(data)
        with ports.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE inventory_record"))
            c.execute(sa.text("VACUUM ANALYZE inventory_report"))
        sup, cus = Caller(party_id="sup", client_id="bench"), Caller(party_id="cus", client_id="b")
        deep = n * 9 // 10
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
