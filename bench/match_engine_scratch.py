"""Scratch benchmark of the matching engine: extract and match N x N records, default profile.

    .venv/bin/python bench/match_engine_scratch.py 100000 [--reference]

Prints extract time per side, match-step time, items per class and the match step's peak
resident memory (Linux VmHWM, reset just before the step, so it excludes building records).
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from pathlib import Path

from panther.matching import DEFAULT_PROFILE, extract, match
from panther.matching.reference import reference_match

STATUSES_SUPPLIER = ["active"] * 18 + ["active.pendingChange", "pendingTerminate"]
STATUSES_CUSTOMER = {"active": "active", "active.pendingChange": "active",
                     "pendingTerminate": "pendingTerminate"}  # fmt: skip
BANDWIDTH = [("10G", "10 Gbps"), ("1G", "1000 Mbps"), ("100M", "100 Mbps"), ("10GE", "10G")]
SITES = [f"SITE{n:03d}" for n in range(400)]


def record(i: int, side: str, draw: tuple) -> dict:
    (bw_s, bw_c), status, mrc, site_a, site_b = draw
    ours = f"CID-{i:07d}" if side == "supplier" else f"B{i:08d}"
    partner = None if side == "supplier" else f"cid {i}"
    return {
        "id": ours,
        "externalId": partner,
        "status": status if side == "supplier" else STATUSES_CUSTOMER[status],
        "startDate": f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00Z",
        "terminationDate": None,
        "productOffering": {"id": "EPL"},
        "place": [{"role": "A-End", "id": site_a}, {"role": "B-End", "id": site_b}],
        "productPrice": [
            {"priceType": "recurring", "recurringChargePeriod": "month",
             "price": {"dutyFreeAmount": {"unit": "EUR", "value": mrc}}}
        ],
        "productOrderItem": [{"productOrderId": f"PO-{i:08d}", "orderItemId": "1"}],
        "productCharacteristic": [
            {"name": "bandwidth", "value": bw_s if side == "supplier" else bw_c},
            {"name": "serviceType", "value": "EPL" if side == "supplier" else "E-Line"},
        ],
    }  # fmt: skip


def inventories(n: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    """About 88% matched, 6% partial, 2% linked by order only, 2% missing each side, dups."""
    rng = random.Random(seed)
    supplier, customer = [], []
    for i in range(n):
        draw = (
            rng.choice(BANDWIDTH),
            rng.choice(STATUSES_SUPPLIER),
            round(rng.uniform(100, 5000), 2),
            rng.choice(SITES),
            rng.choice(SITES),
        )
        s, c = record(i, "supplier", draw), record(i, "customer", draw)
        roll = rng.random()
        if roll < 0.06:
            c["productPrice"][0]["price"]["dutyFreeAmount"]["value"] += 10
        elif roll < 0.08:
            c["externalId"] = None  # only the order reference links it
        elif roll < 0.10:
            c = None
        elif roll < 0.12:
            s = None
        elif roll < 0.125 and supplier:
            s["id"] = supplier[-1]["id"]  # a duplicate circuit id
        if s is not None:
            supplier.append(s)
        if c is not None:
            customer.append(c)
    rng.shuffle(customer)
    return supplier, customer


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("--reference", action="store_true", help="also time reference.py")
    args = parser.parse_args()

    t = time.perf_counter()
    supplier, customer = inventories(args.n)
    print(f"generated {len(supplier)} x {len(customer)} in {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    s_table = extract(supplier, DEFAULT_PROFILE, "supplier")
    t_s = time.perf_counter() - t
    t = time.perf_counter()
    c_table = extract(customer, DEFAULT_PROFILE, "customer")
    t_c = time.perf_counter() - t
    print(f"extract: supplier {t_s:.2f}s, customer {t_c:.2f}s "
          f"({len(supplier) / t_s:,.0f} records/s); tables {s_table.nbytes / 1e6:.0f} MB + "
          f"{c_table.nbytes / 1e6:.0f} MB")  # fmt: skip

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    base = _status("VmRSS")
    t = time.perf_counter()
    result = match(s_table, c_table, DEFAULT_PROFILE)
    elapsed = time.perf_counter() - t
    peak = _status("VmHWM")
    extra = (peak - base) / 1e9
    print(f"match step: {elapsed:.2f}s; peak RSS {peak / 1e9:.2f} GB "
          f"(+{extra:.2f} GB over the {base / 1e9:.2f} GB before the step)")  # fmt: skip
    print("counts:", dict(result.counts))

    if args.reference:
        t = time.perf_counter()
        items = reference_match(supplier, customer, DEFAULT_PROFILE)
        print(f"reference (per-record Python, includes normalising): "
              f"{time.perf_counter() - t:.2f}s, {len(items)} items")  # fmt: skip
        t = time.perf_counter()
        same = items == list(result.item_dicts())
        print(f"engine == reference: {same} (compared in {time.perf_counter() - t:.1f}s)")


if __name__ == "__main__":
    main()
