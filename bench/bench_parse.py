"""The report parser alone (no HTTP, no database): parse, validate and canonicalise a
generated NDJSON report, best of N.

    PYTHONPATH=$PWD python bench/bench_parse.py --records 50000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import time

import orjson

from panther.demo.generator import generate_pair
from panther.inventory.parse import parse_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    records = generate_pair(args.records, seed=1).supplier
    body = b"\n".join(orjson.dumps(r) for r in records)
    seconds = []
    for _ in range(args.runs):
        started = time.perf_counter()
        parse_report(body, "application/x-ndjson")
        seconds.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "bench": "parse",
                "records": len(records),
                "bytes": len(body),
                "seconds": [round(s, 3) for s in seconds],
                "best": round(min(seconds), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
