"""Scratch benchmark of the match fast path: extract_json against extract, item leaves.

    .venv/bin/python bench/fastpath_scratch.py 100000 1000000 [--chunk 250000] [--no-slow]

For each N: generates a pair with `generate_pair(N)`, stores each record as canonical JSON
text (what the server keeps), then times per side `extract` over `orjson.loads` of the
texts (the current service route) against `extract_json` (in chunks, as the service would
call it) and checks the tables are equal; then `match`, and the per-item columns: the
service's per-item `canonical_json(item_dict)` against `item_columns`. Record texts are
cached under /tmp (the canonical encoding of 1M records takes a while).
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from panther.demo.generator import generate_pair
from panther.ledger.canonical import canonical_json
from panther.matching import DEFAULT_PROFILE, extract, match
from panther.matching.fastpath import extract_json, item_columns

CACHE = Path(os.environ.get("TMPDIR", "/tmp"))


def rss_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def bodies_for(n: int) -> dict[str, pa.ChunkedArray]:
    out = {}
    paths = {
        side: CACHE / f"panther_bodies_{side}_{n}.parquet" for side in ("supplier", "customer")
    }
    if not all(p.exists() for p in paths.values()):
        pair = generate_pair(n)
        for side, records in (("supplier", pair.supplier), ("customer", pair.customer)):
            texts = pa.array([canonical_json(r).decode() for r in records], pa.large_string())
            pq.write_table(pa.table({"body": texts}), paths[side])
        del pair
    for side, path in paths.items():
        out[side] = pq.read_table(path).column("body")
    return out


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def fast_extract(bodies: pa.ChunkedArray, side: str, chunk: int) -> pa.Table:
    parts = [
        extract_json(bodies.slice(start, chunk), DEFAULT_PROFILE, side, first_ref=start)
        for start in range(0, len(bodies), chunk)
    ]
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def run(n: int, chunk: int, slow: bool) -> None:
    bodies = bodies_for(n)
    print(
        f"N = {n:,} per side (supplier {len(bodies['supplier']):,}, "
        f"customer {len(bodies['customer']):,} records)"
    )
    gc.collect()
    reset_peak()
    tables = {}
    for side, texts in bodies.items():
        table, t_fast = timed(fast_extract, texts, side, chunk)
        tables[side] = table
        line = f"  {side:8s} extract_json {t_fast:6.2f} s ({len(texts) / t_fast / 1e3:5.0f}k rec/s)"
        if slow:

            def slow_extract(texts=texts, side=side):
                records = [orjson.loads(b) for b in texts.to_pylist()]
                return extract(records, DEFAULT_PROFILE, side)

            reference, t_slow = timed(slow_extract)
            same = reference.equals(table, check_metadata=True)
            line += f" | loads+extract {t_slow:6.2f} s | equal: {same}"
            del reference
        print(line)
    print(f"  peak RSS after extract: {rss_peak_mb():,.0f} MB")
    result, t_match = timed(match, tables["supplier"], tables["customer"], DEFAULT_PROFILE)
    print(f"  match {t_match:.2f} s, {result.items.num_rows:,} items, counts {dict(result.counts)}")
    columns, t_cols = timed(item_columns, result)
    leaves, t_leaves = timed(columns.leaves)
    print(f"  item_columns {t_cols:.2f} s + leaves() as bytes {t_leaves:.2f} s")
    if slow:

        def slow_items():
            out = []
            for item in result.item_dicts():
                leaf = canonical_json(item)
                diffs = item.get("differences") or []
                fields = "," + ",".join(d["field"] for d in diffs) + "," if diffs else ""
                out.append(
                    (
                        leaf,
                        orjson.dumps(item["supplierRefs"]),
                        orjson.dumps(item["customerRefs"]),
                        fields,
                    )
                )
            return out

        reference, t_ref = timed(slow_items)
        same = [r[0] for r in reference] == leaves
        same_fields = [r[3] for r in reference] == columns.diff_fields.to_pylist()
        same_refs = [r[1].decode() for r in reference] == columns.supplier_refs.to_pylist()
        print(
            f"  item_dicts + canonical_json {t_ref:.2f} s | leaves equal: {same}, "
            f"diff_fields equal: {same_fields}, refs equal: {same_refs}"
        )
    print(f"  peak RSS: {rss_peak_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--no-slow", action="store_true", help="skip the slow reference paths")
    args = parser.parse_args()
    for n in args.sizes:
        run(n, args.chunk, not args.no_slow)


if __name__ == "__main__":
    main()
