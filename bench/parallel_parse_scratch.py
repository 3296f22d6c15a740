"""Scratch: parse_report vs parse_report_summary (2 workers) on 100k / 300k NDJSON records."""

from __future__ import annotations

import sys
import time

import orjson

from panther.demo.generator import generate_pair
from panther.inventory import parallel
from panther.inventory.parallel import parse_report_summary
from panther.inventory.parse import parse_report

NDJSON = "application/x-ndjson"


def body_of(n: int, base: list[bytes]) -> bytes:
    return b"".join(base[i % len(base)] for i in range(n))


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    records = generate_pair(20_000, seed=1).supplier
    base = [orjson.dumps(r) + b"\n" for r in records]
    t = time.perf_counter()
    parse_report_summary(body_of(20_000, base), NDJSON, workers=2, min_parallel_bytes=1)
    print(f"first parallel call incl. pool start: {time.perf_counter() - t:.3f}s")
    for n in (100_000, 300_000):
        body = body_of(n, base)
        serial = best(lambda: parse_report(body, NDJSON), 3)
        par = best(lambda: parse_report_summary(body, NDJSON, workers=2), 3)
        same = parse_report_summary(body, NDJSON, workers=2).content_hash == parse_report(
            body, NDJSON
        ).content_hash
        print(
            f"{n:>7} records {len(body) / 1e6:6.1f} MB: parse_report {serial:.2f}s, "
            f"summary(2 workers) {par:.2f}s, speed-up {serial / par:.2f}x, same hash {same}"
        )
    parallel.shutdown_pool()


if __name__ == "__main__":
    sys.exit(main())
