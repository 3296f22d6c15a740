"""Issue 16: the product lists at 1M products per side, under 16 concurrent connections,
next to a bare connexion handler returning a page of the same JSON, measured in the same run.

    python bench/bench_lists.py --records 1000000            # build (cached) and measure
    python bench/bench_lists.py --records 100000 --data data/bench_lists-100000-main --no-load
    PANTHER_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/bench_lists \\
        python bench/bench_lists.py --records 1000000 --data data/bench_lists-pg  # PostgreSQL

The relation (both sides uploaded through the upload service, as bench_spine.py does) is
kept under data/bench_lists-<records>/ and reused. `panther serve` (uvicorn, one process,
127.0.0.1) and the baseline (bench/bare_connexion.py) run as child processes stopped by pid;
the load is wrk (Debian package `wrk`): -t2 -c16, --latency. Before the load, each target is
also timed alone (sequential requests, median), which is what --no-load keeps: the figure
for code whose lists take seconds. Then the mixed load: one product read by 16 connections
while four other connections keep asking for MEF 116 list pages (the issue's "four lists in
parallel"). With PANTHER_BENCH_DATABASE_URL the relation is built in that (empty) PostgreSQL
database and the server uses it. Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_spine import AS_OF, _in_child, _server_process, _system  # noqa: E402

TMF = "/tmf-api/productInventory/v4/product"
MEF = "/mefApi/sonata/productInventory/v7/product"


def _records(n: int, side: str) -> bytes:
    """NDJSON of n products in the TMF637 record shape (statuses as issue 2's generator
    draws them: 93 % active, 4 % suspended, 3 % pendingTerminate), written as text: a
    million records in seconds, where generating dicts takes minutes and gigabytes."""
    prefix = "CID-" if side == "sup" else "VF-"
    lines = []
    for i in range(n):
        k = i % 100
        status = "active" if k < 93 else "suspended" if k < 97 else "pendingTerminate"
        external = f'"externalId":"CID-{i:07d}",' if side == "cus" else ""
        lines.append(
            f'{{"id":"{prefix}{i:07d}",{external}"status":"{status}","startDate":"2024-03-01",'
            f'"productOffering":{{"id":"EPL","name":"Ethernet Private Line"}},'
            f'"place":[{{"role":"A-End","id":"FRA{i % 97}"}},'
            f'{{"role":"B-End","id":"LON{i % 89}"}}],'
            f'"productPrice":[{{"priceType":"recurring","recurringChargePeriod":"month",'
            f'"price":{{"dutyFreeAmount":{{"unit":"EUR","value":{1000 + i % 500}}}}}}}],'
            f'"productCharacteristic":[{{"name":"bandwidth","value":"{1 + i % 10} Gbps"}},'
            f'{{"name":"serviceType","value":"EPL"}}],"billingAccount":{{"id":"BA-1"}},'
            f'"productOrderItem":[{{"productOrderId":"PO-{i}","orderItemId":"1"}}]}}'
        )
    return ("\n".join(lines) + "\n").encode()


def _build(n: int, data: str) -> dict[str, Any]:
    """Child process: both sides' reports of one relation, n records each, uploaded through
    the upload service (parse, checks, COPY / executemany, Merkle root, ledger entry)."""
    from panther.server.services import reports

    t0 = time.perf_counter()
    ports, callers, secrets, rel = _system(Path(data))
    for pid in ("sup", "cus"):
        reports.upload_report(
            ports,
            callers[pid],
            relation_id=rel,
            as_of=AS_OF,
            body=_records(n, pid),
            media_type="application/x-ndjson",
        )
    ports.db.engine.dispose()
    return {
        "relation": rel,
        "secrets": secrets,
        "middle_ids": {"sup": f"CID-{n // 2:07d}", "cus": f"VF-{n // 2:07d}"},
        "records": n,
        "build_seconds": round(time.perf_counter() - t0, 1),
    }


def _relation(n: int, data: Path) -> dict[str, Any]:
    marker = data / "bench_lists.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    data.mkdir(parents=True, exist_ok=True)
    built = _in_child(_build, n, str(data))
    marker.write_text(json.dumps(built))
    return built


def _token(url: str, secret: dict[str, str]) -> str:
    import httpx

    r = httpx.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": secret["clientId"],
            "client_secret": secret["clientSecret"],
        },
        timeout=60,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


@contextmanager
def _bare(page: bytes) -> Iterator[str]:
    """The baseline app on a free local port, stopped by its pid."""
    import httpx

    page_file = ROOT / "data" / "bench_lists_page.json"
    page_file.parent.mkdir(exist_ok=True)
    page_file.write_bytes(page)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    script = ROOT / "bench" / "bare_connexion.py"
    proc = subprocess.Popen([sys.executable, str(script), str(port), str(page_file)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                httpx.get(f"{url}/one", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the baseline did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _alone(url: str, token: str | None, runs: int) -> dict[str, Any]:
    """Sequential requests: the median and the body's size and item count."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    times = []
    with httpx.Client(timeout=600, headers=headers) as http:
        for _ in range(runs):
            t0 = time.perf_counter()
            r = http.get(url)
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text[:300]
    body = r.json()
    return {
        "alone_ms": round(statistics.median(times) * 1000, 1),
        "bytes": len(r.content),
        "items": len(body) if isinstance(body, list) else 1,
        "total": r.headers.get("X-Total-Count"),
    }


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _wrk(url: str, token: str | None, seconds: int, connections: int) -> dict[str, Any]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+([\d.]+\w+)", out).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+([\d.]+\w+)", out).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    return {
        "req_per_s": round(rps, 1),
        "p50_ms": round(_ms(p50), 2),
        "p99_ms": round(_ms(p99), 2),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
    }


def _mixed(
    one: str, one_token: str, lists: str, lists_token: str, args: argparse.Namespace
) -> dict[str, Any]:
    """One product under 16 connections while 4 more connections read list pages."""
    cmd = ["wrk", "-t1", "-c4", f"-d{args.seconds + 4}s", "--timeout", "30s"]
    beside = subprocess.Popen(
        [*cmd, "-H", f"Authorization: Bearer {lists_token}", lists],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)  # the lists are running before the product is measured
        measured = _wrk(one, one_token, args.seconds, args.connections)
        out, _ = beside.communicate(timeout=args.seconds + 60)
    finally:
        if beside.poll() is None:
            beside.kill()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return {**measured, "lists_beside_req_per_s": float(rps.group(1)) if rps else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--data", help="the relation's data folder (default data/bench_lists-N)")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--runs", type=int, default=5, help="sequential requests per target")
    ap.add_argument("--no-load", action="store_true", help="only the sequential timings")
    args = ap.parse_args()
    n = args.records
    data = Path(args.data) if args.data else ROOT / "data" / f"bench_lists-{n}"
    built = _relation(n, data)
    print(
        json.dumps(
            {
                "bench": "lists",
                "relation": built["relation"],
                "records": n,
                "build_seconds": built["build_seconds"],
            }
        ),
        flush=True,
    )
    deep, rare = n * 9 // 10, min(30_000, n // 40)  # 4 % of the records are suspended
    targets = [
        ("TMF637 list limit=100", "sup", f"{TMF}?limit=100"),
        (f"TMF637 list limit=100 offset={deep}", "sup", f"{TMF}?limit=100&offset={deep}"),
        ("TMF637 list ?status=active limit=100", "sup", f"{TMF}?status=active&limit=100"),
        (
            f"TMF637 list ?status=active offset={deep // 2}",
            "sup",
            f"{TMF}?status=active&limit=100&offset={deep // 2}",
        ),
        (
            f"TMF637 list ?status=suspended offset={rare}",
            "sup",
            f"{TMF}?status=suspended&limit=100&offset={rare}",
        ),
        ("MEF 116 list limit=100", "cus", f"{MEF}?buyerId=cus&limit=100"),
        (
            f"MEF 116 list limit=100 offset={deep}",
            "cus",
            f"{MEF}?buyerId=cus&limit=100&offset={deep}",
        ),
        ("TMF637 one product", "sup", f"{TMF}/{built['middle_ids']['sup']}"),
        ("MEF 116 one product", "cus", f"{MEF}/{built['middle_ids']['sup']}?buyerId=cus"),
    ]
    with _server_process(data, start_s=600) as (url, pid):
        tokens = {who: _token(url, built["secrets"][who]) for who in ("sup", "cus")}
        import httpx

        page = httpx.get(
            f"{url}{TMF}?limit=100", headers={"Authorization": f"Bearer {tokens['sup']}"}
        ).content
        for name, who, path in targets:
            row = {"bench": "lists", "target": name, "impl": "ours", "records": n}
            row.update(_alone(url + path, tokens[who], args.runs))
            if not args.no_load:
                row.update(_wrk(url + path, tokens[who], args.seconds, args.connections))
            print(json.dumps(row), flush=True)
        if not args.no_load:
            one = f"{url}{TMF}/{built['middle_ids']['sup']}"
            lists = f"{url}{MEF}?buyerId=cus&limit=100&offset={n // 3}"
            row = {"bench": "lists", "target": "TMF637 one product, 4 MEF 116 lists beside"}
            row.update(_mixed(one, tokens["sup"], lists, tokens["cus"], args))
            print(json.dumps(row), flush=True)
    if args.no_load:
        return
    with _bare(page) as bare:
        for name, path in (
            ("bare connexion, 100-item page", "/page?limit=100"),
            ("bare connexion, one item", "/one"),
        ):
            row = {"bench": "lists", "target": name, "impl": "baseline"}
            row.update(_alone(bare + path, None, args.runs))
            row.update(_wrk(bare + path, None, args.seconds, args.connections))
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
