"""Issue 16: deep pages of a status filter, walking the status index up to the offset (as
every status page did before migration 0011) against searching the status positions, on a
relation bench_lists.py built (its data folder; with PANTHER_BENCH_DATABASE_URL for one it
built in PostgreSQL). In process (the TMF637 use case), best of 5 calls each.

    PANTHER_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/bench_lists \\
        python bench/bench_status_pages.py --data data/bench_lists-pg --records 1000000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_spine import _open  # noqa: E402

from panther.adapters.sql import reports as sql_reports  # noqa: E402
from panther.server.services import products  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--records", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.records
    ports, sup = _open(args.data)
    searching = sql_reports._SHALLOW
    for filters, offset in (
        ({"status": "active"}, n * 9 // 20),
        ({"status": "suspended"}, min(30_000, n // 40)),
        ({}, 0),
    ):
        for how, shallow in (("search", searching), ("walk", 1 << 62)):
            sql_reports._SHALLOW = shallow
            best = float("inf")
            for _ in range(5):
                t0 = time.perf_counter()
                items, total = products.list_tmf_products(
                    ports, sup, filters=filters, fields=None, offset=offset, limit=100
                )
                best = min(best, time.perf_counter() - t0)
            print(
                f"{filters} offset={offset} {how}: {best * 1000:.1f} ms ({len(items)} of {total})"
            )
        sql_reports._SHALLOW = searching


if __name__ == "__main__":
    main()
