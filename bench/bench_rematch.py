"""Incremental re-match versus a full match, same corrections, same process.

A generated relation of N records per side is matched in full; then K customer records are
corrected in place (half of them get the supplier's circuit id they lacked, half a changed
price or site), as a TMF637 change of K products would. Measured, each in its own child
process (so its peak memory is its own):

* incremental: extract only the K corrected records, splice them into the stored extract,
  and re-match the closure of their keys (`panther.matching.incremental.rematch`);
* baseline: extract the whole corrected customer report and match both reports in full.

Both must give the same items; the bench checks it.

    .venv/bin/python bench/bench_rematch.py --records 1020000 --corrections 1000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from panther.ledger.canonical import canonical_json  # noqa: E402
from panther.matching import DEFAULT_PROFILE  # noqa: E402
from panther.matching.engine import match  # noqa: E402
from panther.matching.fastpath import extract_json  # noqa: E402
from panther.matching.incremental import Correction, rematch  # noqa: E402


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bodies(records: list[dict[str, Any]]) -> pa.Array:
    return pa.array([canonical_json(r).decode() for r in records], pa.large_string())


def _prepare(n: int, k: int, seed: int, folder: str) -> dict[str, Any]:
    """Child 1: the reports, their extracts, the full result, and the corrections."""
    from panther.demo.generator import generate_pair

    pair = generate_pair(n, seed=seed)
    supplier, customer = pair.supplier, pair.customer
    s_table = extract_json(_bodies(supplier), DEFAULT_PROFILE, "supplier")
    c_table = extract_json(_bodies(customer), DEFAULT_PROFILE, "customer")
    previous = match(s_table, c_table, DEFAULT_PROFILE)
    rng = random.Random(seed)
    ids = [r["id"] for r in supplier if r.get("id")]
    changed = sorted(rng.sample(range(len(customer)), k))
    corrected = []
    for n_fix, ref in enumerate(changed):
        record = json.loads(json.dumps(customer[ref]))
        if n_fix % 2 == 0 and ids:
            # The customer learns the supplier's circuit id (some already had it).
            record["externalId"] = rng.choice(ids)
        else:
            record["productPrice"][0]["price"]["dutyFreeAmount"]["value"] = 999.0
        corrected.append(record)
    pq.write_table(s_table, f"{folder}/s.parquet")
    pq.write_table(c_table, f"{folder}/c.parquet")
    pq.write_table(previous.items, f"{folder}/items.parquet")
    customer_new = list(customer)
    for ref, record in zip(changed, corrected, strict=True):
        customer_new[ref] = record
    pq.write_table(pa.table({"body": _bodies(customer_new)}), f"{folder}/c_new_bodies.parquet")
    pq.write_table(pa.table({"body": _bodies(corrected)}), f"{folder}/fix_bodies.parquet")
    np.save(f"{folder}/changed.npy", np.array(changed, dtype=np.int64))
    return {"supplier": len(supplier), "customer": len(customer), "corrections": k}


def _incremental(folder: str) -> dict[str, Any]:
    from panther.matching.engine import MatchResult

    s_table = pq.read_table(f"{folder}/s.parquet")
    c_table = pq.read_table(f"{folder}/c.parquet")
    items = pq.read_table(f"{folder}/items.parquet")
    previous = MatchResult.of(items)
    changed = np.load(f"{folder}/changed.npy")
    fixes = pq.read_table(f"{folder}/fix_bodies.parquet").column("body")
    base = _peak_mb()
    t0 = time.perf_counter()
    # Extract only the corrected records and splice them in by ref.
    patch = extract_json(fixes, DEFAULT_PROFILE, "customer")
    patch = patch.set_column(0, "ref", pa.array(changed, pa.int64())).cast(c_table.schema)
    # The new table in ref order: the old rows, the corrected ones taken from the patch.
    index = np.arange(c_table.num_rows, dtype=np.int64)
    index[changed] = c_table.num_rows + np.arange(len(changed))
    c_new = (
        pa.concat_tables([c_table, patch])
        .take(pa.array(index))
        .replace_schema_metadata(c_table.schema.metadata)
    )
    t_extract = time.perf_counter() - t0
    result, stats = rematch(
        previous,
        (s_table, c_table),
        (s_table, c_new),
        (Correction.in_place(s_table.num_rows, []), Correction.in_place(c_table.num_rows, changed)),
        DEFAULT_PROFILE,
    )
    seconds = time.perf_counter() - t0
    pq.write_table(result.items, f"{folder}/items_incremental.parquet")
    return {
        "impl": "incremental (extract the corrected records, re-match the closure of their keys)",
        "seconds": round(seconds, 3),
        "extract_seconds": round(t_extract, 3),
        "stats": stats,
        "counts": dict(result.counts),
        "peak_mb": round(_peak_mb()),
        "rss_mb_at_start": round(base),
    }


def _full(folder: str) -> dict[str, Any]:
    s_table = pq.read_table(f"{folder}/s.parquet")
    bodies = pq.read_table(f"{folder}/c_new_bodies.parquet").column("body")
    base = _peak_mb()
    t0 = time.perf_counter()
    c_new = extract_json(bodies, DEFAULT_PROFILE, "customer")
    result = match(s_table, c_new, DEFAULT_PROFILE)
    seconds = time.perf_counter() - t0
    pq.write_table(result.items, f"{folder}/items_full.parquet")
    return {
        "impl": "baseline (extract the whole corrected report, match in full)",
        "seconds": round(seconds, 3),
        "counts": dict(result.counts),
        "peak_mb": round(_peak_mb()),
        "rss_mb_at_start": round(base),
    }


def _in_child(fn: Any, *args: Any) -> Any:
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--corrections", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    print(json.dumps({"machine": f"{os.cpu_count()} cores, {os.uname().machine}",
                      "load": os.getloadavg()}))  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps({"prepared": _in_child(_prepare, args.records, args.corrections,
                                                args.seed, folder)}), flush=True)  # fmt: skip
        ours = _in_child(_incremental, folder)
        print(json.dumps(ours), flush=True)
        full = _in_child(_full, folder)
        print(json.dumps(full), flush=True)
        same = pq.read_table(f"{folder}/items_incremental.parquet").equals(
            pq.read_table(f"{folder}/items_full.parquet")
        )
        ratio = round(full["seconds"] / ours["seconds"], 1)
        print(json.dumps({"same_items": same, "ratio_full_over_incremental": ratio}))


if __name__ == "__main__":
    main()
