"""Benchmarks of the spine (issue 2), each against a plain per-record Python baseline run
in the same process on the same data.

    python bench/bench_spine.py upload --records 100000
    python bench/bench_spine.py match --records 100000
    python bench/bench_spine.py match --records 1000000 --no-baseline

Every measurement runs in a fresh child process so its peak memory (ru_maxrss) is its own.
Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

AS_OF = "2026-11-01"
# PANTHER_BENCH_DATABASE_URL (a PostgreSQL URL) runs the match benchmark on PostgreSQL, in a
# schema of its own named by PANTHER_BENCH_SCHEMA; empty: SQLite in a temporary folder.
_DB_URL = os.environ.get("PANTHER_BENCH_DATABASE_URL", "")


def _schema() -> str | None:
    return os.environ.get("PANTHER_BENCH_SCHEMA") if _DB_URL else None


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(fn: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return dict(pool.apply(fn, args))


def _ndjson(records: list[dict[str, Any]]) -> bytes:
    import orjson

    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


def _system(data_dir: Path) -> Any:
    """A composed system with two carriers and an agreed relation; returns (ports, callers, rel)."""
    from panther.server.bootstrap import compose
    from panther.server.services import parties, relations
    from panther.server.settings import Settings

    ports = compose(Settings.from_env(data_dir=data_dir, database_url=_DB_URL), schema=_schema())
    creds = json.loads((data_dir / "operator-credentials.json").read_text())
    tok = parties.issue_token(ports, creds["clientId"], creds["clientSecret"], None)
    operator = parties.read_token(ports, tok["access_token"])
    callers, secrets = {}, {}
    for pid in ("sup", "cus"):
        p = parties.register_party(ports, operator, {"name": pid, "id": pid})
        secrets[pid] = p["credentials"]
        t = parties.issue_token(
            ports, p["credentials"]["clientId"], p["credentials"]["clientSecret"], None
        )
        callers[pid] = parties.read_token(ports, t["access_token"])
    rel = relations.propose_relation(ports, operator, {"supplier": "sup", "customer": "cus"})
    for pid in ("sup", "cus"):
        relations.agree_relation(ports, callers[pid], rel["id"], None)
    return ports, callers, secrets, rel["id"]


# ---- upload ----


@contextmanager
def _server_process(data: Path, start_s: float = 60) -> Iterator[tuple[str, int]]:
    """`panther serve` in its own process on a free local port, stopped by its pid; it has
    ``start_s`` seconds to answer."""
    import signal
    import socket
    import subprocess

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = Path(sys.executable).with_name("panther")
    env = dict(os.environ)
    if _DB_URL:  # the database the benchmark built (PANTHER_BENCH_DATABASE_URL)
        env["PANTHER_DATABASE_URL"] = _DB_URL
    proc = subprocess.Popen(
        [str(exe), "serve", "--data-dir", str(data), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_s
        while True:
            try:
                httpx.get(f"{url}/panther/v1/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield url, proc.pid
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _rss_mb(pid: int) -> float:
    """Peak resident memory of another process (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _upload_ours_http(n: int, seed: int) -> dict[str, Any]:
    import httpx

    from panther.demo.generator import generate_pair

    pair = generate_pair(n, seed=seed)
    body = _ndjson(pair.supplier)
    del pair
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        ports, _, secrets, rel = _system(data)
        ports.db.engine.dispose()
        with _server_process(data) as (url, pid), httpx.Client(base_url=url, timeout=600) as http:
            tok = http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": secrets["sup"]["clientId"],
                    "client_secret": secrets["sup"]["clientSecret"],
                },
            ).json()["access_token"]
            t0 = time.perf_counter()
            r = http.post(
                "/panther/v1/inventoryReport",
                params={"relationId": rel, "asOf": AS_OF},
                content=body,
                headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/x-ndjson"},
            )
            seconds = time.perf_counter() - t0
            assert r.status_code == 201, r.text[:500]
            n = r.json()["recordCount"]
            server_mb = _rss_mb(pid)
    return {
        "bench": "upload",
        "impl": "ours (HTTP to `panther serve`, NDJSON, SQLite)",
        "records": n,
        "bytes": len(body),
        "seconds": round(seconds, 3),
        "records_per_s": round(n / seconds),
        "server_peak_mb": round(server_mb),
    }


def _upload_baseline(n: int, seed: int) -> dict[str, Any]:
    from baseline_upload import baseline_upload

    from panther.demo.generator import generate_pair

    pair = generate_pair(n, seed=seed)
    body = _ndjson(pair.supplier)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        stored = baseline_upload(body, f"sqlite:///{tmp}/baseline.db")
        seconds = time.perf_counter() - t0
    n = len(pair.supplier)
    assert stored == n
    return {
        "bench": "upload",
        "impl": "baseline (json + jsonschema + ORM rows, in process)",
        "records": n,
        "seconds": round(seconds, 3),
        "records_per_s": round(n / seconds),
        "peak_mb": round(_peak_mb()),
    }


# ---- match ----


def _store_pair(n: int, seed: int, data: str) -> dict[str, Any]:
    """Child process 1: generate and store both reports (through the upload service)."""
    from panther.demo.generator import generate_pair
    from panther.server.services import reports

    ports, callers, _, rel = _system(Path(data))
    pair = generate_pair(n, seed=seed)
    sizes = {}
    for pid, records in (("sup", pair.supplier), ("cus", pair.customer)):
        sizes[pid] = len(records)
        reports.upload_report(
            ports,
            callers[pid],
            relation_id=rel,
            as_of=AS_OF,
            body=_ndjson(records),
            media_type="application/x-ndjson",
        )
    ports.db.engine.dispose()
    return {"relation": rel, "supplier_records": sizes["sup"], "customer_records": sizes["cus"]}


def _open(data: str) -> Any:
    from panther.server.bootstrap import compose
    from panther.server.services.context import Caller
    from panther.server.settings import Settings

    ports = compose(
        Settings.from_env(data_dir=Path(data), database_url=_DB_URL),
        schema=_schema(),
        ensure_operator_party=False,
    )
    return ports, Caller(party_id="sup", client_id="bench")


def _match_ours(data: str, rel: str) -> dict[str, Any]:
    """Child process 2: stored reports -> stored results, nothing else in memory."""
    from panther.server.services import matchruns

    ports, caller = _open(data)
    base_mb = _peak_mb()
    t0 = time.perf_counter()
    view, created = matchruns.run_match(ports, caller, rel, AS_OF)
    seconds = time.perf_counter() - t0
    assert created
    return {
        "bench": "match",
        "impl": f"ours (stored reports -> stored results, {'PostgreSQL' if _DB_URL else 'SQLite'})",
        "seconds": round(seconds, 3),
        "counts": view["counts"],
        "peak_mb": round(_peak_mb()),
        "rss_mb_at_start": round(base_mb),
    }


def _match_baseline(data: str, rel: str) -> dict[str, Any]:
    """Child process 3: the same, per record in Python with per-row inserts."""
    import orjson
    import sqlalchemy as sa

    from panther.adapters.sql import repository as repo
    from panther.matching.profile import DEFAULT_PROFILE
    from panther.matching.reference import reference_match

    ports, _ = _open(data)
    base_mb = _peak_mb()
    t0 = time.perf_counter()
    with ports.db.read() as conn:
        sides = {}
        for side in ("supplier", "customer"):
            report = repo.latest_report(conn, rel, AS_OF, side)
            sides[side] = [orjson.loads(b) for b in repo.iter_record_bodies(conn, report["id"])]
    items = reference_match(sides["supplier"], sides["customer"], DEFAULT_PROFILE)
    with ports.db.write() as conn:  # per-row inserts, the way a plain ORM loop would
        conn.execute(
            sa.text("CREATE TABLE IF NOT EXISTS baseline_item (n INTEGER PRIMARY KEY, body TEXT)")
        )
        for i, item in enumerate(items):
            conn.execute(
                sa.text("INSERT INTO baseline_item VALUES (:n, :b)"),
                {"n": i, "b": json.dumps(item, sort_keys=True, default=str)},
            )
    seconds = time.perf_counter() - t0
    return {
        "bench": "match",
        "impl": "baseline (per-record Python, per-row inserts)",
        "seconds": round(seconds, 3),
        "items": len(items),
        "peak_mb": round(_peak_mb()),
        "rss_mb_at_start": round(base_mb),
    }


def _match_bench(n: int, seed: int, baseline: bool) -> list[dict[str, Any]]:
    import secrets

    import sqlalchemy as sa

    if _DB_URL:
        os.environ["PANTHER_BENCH_SCHEMA"] = schema = f"bench_{secrets.token_hex(4)}"
        admin = sa.create_engine(_DB_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        return _match_bench_in(n, seed, baseline)
    finally:
        if _DB_URL:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _match_bench_in(n: int, seed: int, baseline: bool) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        stored = _in_child(_store_pair, n, seed, tmp)
        print(json.dumps({"stored": stored}), flush=True)
        results = [_in_child(_match_ours, tmp, stored["relation"])]
        if baseline:
            results.append(_in_child(_match_baseline, tmp, stored["relation"]))
    for r in results:
        r["records_per_side"] = [stored["supplier_records"], stored["customer_records"]]
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["upload", "match"])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument(
        "--ledger",
        choices=["embedded", "evm"],
        default="embedded",
        help="evm: the ledger contract on a fresh local anvil node (match only)",
    )
    args = ap.parse_args()
    if args.ledger == "evm":
        _on_chain(args)
        return
    print(
        json.dumps(
            {
                "machine": f"{os.cpu_count()} cores, {os.uname().machine}",
                "python": sys.version.split()[0],
                "load": os.getloadavg(),
            }
        )
    )
    if args.what == "upload":
        results = [_in_child(_upload_ours_http, args.records, args.seed)]
        if not args.no_baseline:
            results.append(_in_child(_upload_baseline, args.records, args.seed))
    else:
        results = _match_bench(args.records, args.seed, not args.no_baseline)
    for r in results:
        print(json.dumps(r), flush=True)
    if len(results) == 2:
        print(
            json.dumps(
                {
                    "ratio_baseline_over_ours": round(
                        results[1]["seconds"] / results[0]["seconds"], 2
                    )
                }
            )
        )


def _on_chain(args: argparse.Namespace) -> None:
    """The match benchmark with the ledger on a fresh anvil node: the chain transactions
    two reports and their match result cost, whatever their size (automine: one
    transaction per block, block 0 is genesis and block 1 the contract's deployment)."""
    import httpx

    from panther.adapters.evm.anvil import Anvil

    with Anvil() as node:
        os.environ.update(
            {
                "PANTHER_LEDGER": "evm",
                "PANTHER_EVM_RPC_URL": node.url,
                "PANTHER_CHAIN_ID": str(node.chain_id),
            }
        )
        results = _match_bench(args.records, args.seed, False)
        blocks = httpx.post(
            node.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
        ).json()["result"]
    for r in results:
        print(json.dumps(r), flush=True)
    # deploy, operator + 2 carriers, relation: 5; then 2 reports and 1 match result.
    print(json.dumps({"chain_transactions": int(blocks, 16), "of_which_setup": 5}))


if __name__ == "__main__":
    main()
