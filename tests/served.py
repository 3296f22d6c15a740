"""`panther serve` as a user starts it: real server processes on free 127.0.0.1 ports,
bounded in time and stopped by their pids."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from panther.client import PantherClient

__all__ = ["panther_command", "serve", "serve_many", "served_run"]


def panther_command() -> list[str]:
    """The installed `panther` command next to this interpreter (or on PATH)."""
    exe = Path(sys.executable).with_name("panther")
    return [str(exe)] if exe.exists() else [shutil.which("panther") or "panther"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _process(data_dir: Path, database_url: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {
        **os.environ,
        "PANTHER_DATA_DIR": str(data_dir),
        "PANTHER_LEDGER": "embedded",
        "PANTHER_VALIDATE_RESPONSES": "1",
        "PANTHER_DATABASE_URL": database_url,
    }
    with (data_dir / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [*panther_command(), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        try:
            yield proc, f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def _wait_until_serving(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{url}/panther/v1/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("panther serve did not start: " + log.read_text()) from None
            time.sleep(0.2)


@contextmanager
def serve_many(*servers: tuple[Path, str]) -> Iterator[list[str]]:
    """One server per (data folder, database URL; empty: SQLite in the folder), started side
    by side; yields their base URLs."""
    with ExitStack() as stack:
        started = [stack.enter_context(_process(d, u)) for d, u in servers]
        for (proc, url), (data_dir, _) in zip(started, servers, strict=True):
            _wait_until_serving(proc, url, data_dir / "serve.log")
        yield [url for _, url in started]


@contextmanager
def serve(data_dir: Path, *, database_url: str = "") -> Iterator[str]:
    """`panther serve` with its own data folder (and ``database_url``, else SQLite there)."""
    with serve_many((data_dir, database_url)) as (url,):
        yield url


def served_run(
    served: str,
    tmp_path: Path,
    supplier: list[dict[str, Any]],
    customer: list[dict[str, Any]],
    *,
    as_of: str = "2026-11-01",
    then: Any = None,
) -> tuple[str, Path, Any]:
    """Two carriers of a running server report these records: the match run's id, the
    customer's credentials file, and what `then(customer client, run id)` returned."""
    operator_creds = json.loads((tmp_path / "operator-credentials.json").read_text())
    operator = PantherClient(served, operator_creds["clientId"], operator_creds["clientSecret"])
    sup_party = operator.register_party("Supplier", "sup")
    cus_party = operator.register_party("Customer", "cus")
    relation = operator.propose_relation("sup", "cus")
    clients = {}
    for party in (sup_party, cus_party):
        c = party["credentials"]
        clients[party["id"]] = PantherClient(served, c["clientId"], c["clientSecret"])
        clients[party["id"]].agree(relation["id"])
    for pid, records in (("sup", supplier), ("cus", customer)):
        body = b"\n".join(json.dumps(r).encode() for r in records)
        report = clients[pid].upload(relation["id"], as_of, body, "application/x-ndjson")
    run_id = report["matchRun"]["id"]
    seen = then(clients["cus"], run_id) if then is not None else None
    for client in (operator, *clients.values()):
        client.close()
    creds = tmp_path / "cus.json"
    creds.write_text(json.dumps(cus_party["credentials"]))
    return run_id, creds, seen
