"""Issue 16: the product lists' filters on strings of the record (TMF637 ``name``,
``productOffering.id``; MEF 116 ``productOfferingId``, ``productSpecificationId``), timed in
process (the use cases, no HTTP): the best of 3 calls per target, on a relation of N products
per side built by bench_lists.py's generator through the upload service (every record's
productOffering.id is "EPL"; none has a name or a productSpecification).

    PYTHONPATH=<tree> python bench/bench_json_filters.py --records 100000
    PYTHONPATH=<tree> PANTHER_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test \\
        python bench/bench_json_filters.py --records 100000

The code measured is the one on PYTHONPATH (main's tree for the figures before); on
PostgreSQL the relation goes in a schema of its own, dropped afterwards, and is VACUUM
ANALYZEd first. Prints one line a target.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from bench_lists import _build  # noqa: E402
from bench_spine import _DB_URL, _open  # noqa: E402

# The helpers put their own tree first: the tree measured is PYTHONPATH's (main's for the
# figures before), and nothing of panther is imported yet.
sys.path[:0] = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]

import panther  # noqa: E402
from panther.server.services import products, products_mef  # noqa: E402
from panther.server.services.context import Caller  # noqa: E402


def _best(call: Callable[[], Any]) -> tuple[Any, float]:
    """The last result and the best of 3 calls, in ms."""
    out: list[Any] = []
    best = min(timeit.repeat(lambda: out.append(call()), number=1, repeat=3))
    return out[-1], best * 1000


def _measure(n: int, data: str) -> None:
    t0 = time.perf_counter()
    _build(n, data)
    print(f"build {time.perf_counter() - t0:.1f} s", flush=True)
    ports, _ = _open(data)
    if _DB_URL:
        with ports.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE inventory_record"))
    sup, cus = Caller(party_id="sup", client_id="bench"), Caller(party_id="cus", client_id="b")
    for name, filters, offset in (
        ("TMF637 ?name=x (no match)", {"name": "x"}, 0),
        ("TMF637 ?productOffering.id=EPL (all match)", {"productOffering.id": "EPL"}, 0),
        (f"TMF637 ?productOffering.id=EPL offset={n // 2}", {"productOffering.id": "EPL"}, n // 2),
    ):
        (items, total), ms = _best(
            lambda f=filters, o=offset: products.list_tmf_products(
                ports, sup, filters=f, fields=None, offset=o, limit=100
            )
        )
        print(f"{name}: {ms:.1f} ms ({len(items)} of {total})", flush=True)
    for name, filters in (
        ("MEF 116 ?productOfferingId=EPL (all match)", {"productOfferingId": "EPL"}),
        ("MEF 116 ?productSpecificationId=x (no match)", {"productSpecificationId": "x"}),
    ):
        (items, total), ms = _best(
            lambda f=filters: products_mef.list_mef_products(
                ports, cus, buyer_id="cus", seller_id=None, filters=f, offset=0, limit=100
            )
        )
        print(f"{name}: {ms:.1f} ms ({len(items)} of {total})", flush=True)
    ports.db.engine.dispose()


def in_own_schema(measure: Callable[[str], None]) -> None:
    """``measure(data directory)``; on PostgreSQL in a schema of its own, dropped afterwards."""
    with tempfile.TemporaryDirectory() as data:
        if not _DB_URL:
            measure(data)
            return
        schema = f"bench_{secrets.token_hex(4)}"
        admin = sa.create_engine(_DB_URL)
        with admin.begin() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        os.environ["PANTHER_BENCH_SCHEMA"] = schema
        try:
            measure(data)
        finally:
            with admin.begin() as c:
                c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    n = ap.parse_args().records
    print(f"code: {panther.__file__}; database: {_DB_URL or 'sqlite'}", flush=True)
    in_own_schema(lambda data: _measure(n, data))


if __name__ == "__main__":
    main()
