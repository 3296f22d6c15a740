"""``panther demo``: the whole spine through real HTTP against a server it starts itself."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from panther.client import PantherClient
from panther.demo.generator import generate_pair
from panther.demo.scoring import predicted_from_items, score

__all__ = ["local_server", "run_demo"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_server(
    data_dir: Path, *, database_url: str = "", timeout: float = 30.0, **overrides: Any
) -> Iterator[str]:
    """A real server on 127.0.0.1 in this process; stopped when the block ends."""
    import uvicorn

    from panther.server.app import create_app
    from panther.server.settings import Settings

    port = _free_port()
    settings = Settings.from_env(
        data_dir=data_dir, database_url=database_url, port=port, host="127.0.0.1", **overrides
    )
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="panther-demo-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the demo server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


def _ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"


def run_demo(
    *,
    records: int = 1000,
    seed: int = 7,
    data_dir: str | None = None,
    ledger: str = "embedded",
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The walkthrough. `ledger="evm"` starts a local anvil node (npm @foundry-rs/anvil),
    deploys the ledger contract on it and runs the same flow against the chain."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="panther-demo-") as tmp, ExitStack() as stack:
        folder = Path(data_dir) if data_dir else Path(tmp)
        overrides: dict[str, Any] = {}
        if ledger == "evm":
            from panther.adapters.evm.anvil import Anvil

            node = stack.enter_context(Anvil(state=folder / "anvil-state.json"))
            overrides = {"ledger": "evm", "evm_rpc_url": node.url, "chain_id": node.chain_id}
            echo(f"0. local anvil node on {node.url} (chain {node.chain_id}, pid {node.pid})")
        elif ledger != "embedded":
            raise ValueError(f"unknown ledger {ledger!r}")
        with local_server(folder, **overrides) as url:
            result = _walk(url, folder, records, seed, echo, started)
        result["ledger"] = ledger
        if ledger == "evm":
            memo = orjson.loads((folder / "evm-ledger.json").read_bytes())
            result["contract"] = memo["contract"]
            echo(
                f"   the ledger is PantherLedger {memo['contract']} on chain {memo['chainId']}; "
                f"the chain is kept in {folder / 'anvil-state.json'}"
            )
        return result


def _walk(
    url: str, folder: Path, n: int, seed: int, echo: Callable[[str], None], started: float
) -> dict[str, Any]:
    creds = orjson.loads((folder / "operator-credentials.json").read_bytes())
    operator = PantherClient(url, creds["clientId"], creds["clientSecret"])
    echo(f"1. server on {url}; operator credentials from {folder}/operator-credentials.json")
    suffix = datetime.now(UTC).strftime("%H%M%S%f")
    sup = operator.register_party("Deutsche Telekom Global Carrier", f"dtgc-{suffix}")
    cus = operator.register_party("Vodafone Carrier Services", f"vodafone-{suffix}")
    echo(f"   registered {sup['name']} ({sup['address']}) and {cus['name']} ({cus['address']})")
    supplier = PantherClient(url, **_creds(sup))
    customer = PantherClient(url, **_creds(cus))
    relation = operator.propose_relation(sup["id"], cus["id"])
    supplier.agree(relation["id"])
    relation = customer.agree(relation["id"])
    echo(
        f"2. relation {relation['id']} ({sup['id']} supplies {cus['id']}): {relation['state']}, "
        f"RelationAgreed at ledger entry {relation['ledgerSeq']}"
    )
    pair = generate_pair(n, seed=seed)
    as_of = datetime.now(UTC).date().isoformat()
    t0 = time.monotonic()
    r1 = supplier.upload(relation["id"], as_of, _ndjson(pair.supplier), "application/x-ndjson")
    r2 = customer.upload(relation["id"], as_of, _ndjson(pair.customer), "application/x-ndjson")
    upload_s = time.monotonic() - t0
    echo(
        f"3. uploaded {r1['recordCount']} supplier and {r2['recordCount']} customer records "
        f"as NDJSON in {upload_s:.2f} s (reports {r1['id']}, {r2['id']})"
    )
    run_ref = r2.get("matchRun") or supplier.run_match(relation["id"], as_of)
    run = supplier.get(f"/panther/v1/matchRun/{run_ref['id']}")
    counts = run["counts"]
    echo(
        f"4. match run {run['id']} started by itself: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    first_partial = None
    for item in supplier.get(
        f"/panther/v1/matchRun/{run['id']}/item", **{"class": "partial", "limit": 3}
    ):
        diffs = "; ".join(
            f"{d['field']}: supplier {d.get('supplierValue')!r} vs customer "
            f"{d.get('customerValue')!r}"
            for d in item["differences"]
        )
        echo(f"   partial #{item['itemNo']} (rule {item['rule']}): {diffs}")
        first_partial = first_partial if first_partial is not None else item["itemNo"]
    if first_partial is not None:
        why = supplier.explain(run["id"], first_partial)
        echo(f"   why #{first_partial}: {why['summary']} (panther match explain {run['id']} "
             f"{first_partial})")  # fmt: skip
    mismatches = list(
        supplier.pages(f"/panther/v1/matchRun/{run['id']}/item", **{"class": "mismatch"})
    )
    candidates = {
        (c["supplierItemNo"], c["customerItemNo"]) for i in mismatches for c in i["suggestions"]
    }
    echo(
        f"   {len(candidates)} fuzzy candidate pairs proposed on the {len(mismatches)} mismatch "
        "items, for both carriers to confirm"
    )
    supplier.endorse(run["id"])
    run = customer.endorse(run["id"])
    echo(
        f"5. both carriers endorsed: run is {run['state']} (MatchEndorsed at ledger entry "
        f"{run['endorsedSeq']})"
    )
    check = operator.verify_ledger()
    echo(
        f"6. ledger verification: {'OK' if check['ok'] else 'BROKEN'} over "
        f"{check['entriesChecked']} entries"
    )
    items = list(supplier.pages(f"/panther/v1/matchRun/{run['id']}/item"))
    quality = score(pair.truth, predicted_from_items(items))
    elapsed = time.monotonic() - started
    echo(
        "7. against the generator's ground truth: "
        + ", ".join(
            f"{k} p={v['precision']:.3f} r={v['recall']:.3f}"
            for k, v in sorted(quality["classes"].items())
        )
    )
    echo(f"done in {elapsed:.1f} s")
    for c in (operator, supplier, customer):
        c.close()
    return {
        "records": n,
        "seed": seed,
        "counts": counts,
        "runState": run["state"],
        "ledgerOk": check["ok"],
        "ledgerEntries": check["entriesChecked"],
        "quality": quality["classes"],
        "seconds": round(elapsed, 2),
        "uploadSeconds": round(upload_s, 2),
        "candidatePairs": len(candidates),
    }


def _creds(party: dict[str, Any]) -> dict[str, str]:
    return {
        "client_id": party["credentials"]["clientId"],
        "client_secret": party["credentials"]["clientSecret"],
    }
