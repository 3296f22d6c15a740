"""``panther demo``: the whole spine through real HTTP against a server it starts itself."""

from __future__ import annotations

import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
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
        # The invoice outlives a temporary data folder, so one can open it afterwards.
        invoices = folder if data_dir else Path(tempfile.mkdtemp(prefix="panther-invoice-"))
        overrides: dict[str, Any] = {}
        if ledger == "evm":
            from panther.adapters.evm.anvil import Anvil

            node = stack.enter_context(Anvil(state=folder / "anvil-state.json"))
            overrides = {"ledger": "evm", "evm_rpc_url": node.url, "chain_id": node.chain_id}
            echo(f"0. local anvil node on {node.url} (chain {node.chain_id}, pid {node.pid})")
        elif ledger != "embedded":
            raise ValueError(f"unknown ledger {ledger!r}")
        with local_server(folder, **overrides) as url:
            result = _walk(url, folder, invoices, records, seed, echo, started)
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
    url: str,
    folder: Path,
    invoices: Path,
    n: int,
    seed: int,
    echo: Callable[[str], None],
    started: float,
) -> dict[str, Any]:
    creds = orjson.loads((folder / "operator-credentials.json").read_bytes())
    operator = PantherClient(url, creds["clientId"], creds["clientSecret"])
    echo(f"1. server on {url}; operator credentials from {folder}/operator-credentials.json")
    suffix = datetime.now(UTC).strftime("%H%M%S%f")
    sup = operator.register_party("Deutsche Telekom Global Carrier", f"dtgc-{suffix}")
    cus = operator.register_party("Vodafone Carrier Services", f"vodafone-{suffix}")
    echo(f"   registered {sup['name']} ({sup['address']}) and {cus['name']} ({cus['address']})")
    supplier = PantherClient(url, *_creds(sup))
    customer = PantherClient(url, *_creds(cus))
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
        supplier.pages(f"/panther/v1/matchRun/{run['id']}/item", **_of_class("mismatch"))
    )
    candidates = {
        (c["supplierItemNo"], c["customerItemNo"]) for i in mismatches for c in i["suggestions"]
    }
    echo(
        f"   {len(candidates)} fuzzy candidate pairs proposed on the {len(mismatches)} mismatch "
        "items, for both carriers to confirm"
    )
    # Quality is scored on the run as matched, before the review changes anything.
    items = list(supplier.pages(f"/panther/v1/matchRun/{run['id']}/item"))
    quality = score(pair.truth, predicted_from_items(items))
    # The typo pairs of the truth the fuzzy rule proposed (by record positions).
    by_no = {i["itemNo"]: i for i in items}
    proposed = {
        (int(by_no[s]["supplierRefs"][0]), int(by_no[c]["customerRefs"][0])) for s, c in candidates
    }
    typos = set(pair.truth.candidates.items())
    echo(
        f"   {len(typos & proposed)} of the generator's {len(typos)} circuit-id typo pairs "
        "are among them"
    )
    reviewed = _review(supplier, customer, run, echo)
    run = reviewed["run"]
    supplier.endorse(run["id"])
    run = customer.endorse(run["id"])
    echo(
        f"6. both carriers endorsed run {run['id']}: {run['state']} (MatchEndorsed at ledger "
        f"entry {run['endorsedSeq']}); review: "
        + ", ".join(f"{k} {v}" for k, v in run["review"].items())
    )
    bill = _bill(supplier, customer, relation["id"], as_of, invoices, echo)
    check = operator.verify_ledger()
    echo(
        f"8. ledger verification: {'OK' if check['ok'] else 'BROKEN'} over "
        f"{check['entriesChecked']} entries (statement hashes and agreed reviews recomputed)"
    )
    elapsed = time.monotonic() - started
    echo(
        "9. matching against the generator's ground truth: "
        + ", ".join(
            f"{k} p={v['precision']:.3f} r={v['recall']:.3f}"
            for k, v in sorted(quality["classes"].items())
        )
    )
    echo(f"done in {elapsed:.1f} s")
    for c in (operator, supplier, customer):
        c.close()
    return {
        "review": run["review"],
        "dispute": reviewed["dispute"],
        "bill": bill,
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
        "typoPairs": {"expected": len(typos), "proposed": len(typos & proposed)},
    }


def _top(path: str) -> str:
    """The top-level property a compared field's path starts with."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _review(
    supplier: PantherClient,
    customer: PantherClient,
    run: dict[str, Any],
    echo: Callable[[str], None],
) -> dict[str, Any]:
    """Step 5: one correction, a few accepts, one dispute resolved with a credit."""
    items_path = f"/panther/v1/matchRun/{run['id']}/item"
    partials = list(supplier.pages(items_path, **_of_class("partial")))
    paths = {
        f["name"]: f.get("customerField") or f["field"]
        for f in supplier.get("/panther/v1/matchProfile/default")["comparedFields"]
    }
    fixable = [
        i for i in partials if all(d["field"] != "recurringCharge" for d in i["differences"])
    ]
    dispute = None
    if fixable:
        # The customer corrects its record to the supplier's values (a TMF637 change).
        item = supplier.get(f"{items_path}/{fixable[0]['itemNo']}")
        theirs, mine = item["supplierRecords"][0], item["customerRecords"][0]
        patch = {
            top: theirs[top]
            for top in {_top(paths[d["field"]]) for d in item["differences"]}
            if top in theirs
        }
        done = customer.review(run["id"], item["itemNo"], "correct", record=patch)
        echo(
            f"5. review: {mine['id']} corrected by the customer ({', '.join(sorted(patch))}); "
            f"re-matched in run {done['correctedIn']}"
        )
        run = supplier.get(f"/panther/v1/matchRun/{done['correctedIn']}")
        items_path = f"/panther/v1/matchRun/{run['id']}/item"
        partials = list(supplier.pages(items_path, **_of_class("partial")))
    priced = [i for i in partials if [d["field"] for d in i["differences"]] == ["recurringCharge"]]
    target = priced[0] if priced else (partials[0] if partials else None)
    accepts = [i for i in partials if target is None or i["itemNo"] != target["itemNo"]][:3]
    for item in accepts:
        proposal = customer.review(run["id"], item["itemNo"], "acceptValue")["proposal"]
        agreed = supplier.review(run["id"], item["itemNo"], "agree", proposalId=proposal["id"])
        fields = ", ".join(f["field"] for f in proposal["resolution"]["fieldValue"])
        echo(
            f"   #{item['itemNo']}: the customer accepts the supplier's {fields}, the supplier "
            f"agrees (ReviewAgreed at ledger entry {agreed['agreedSeq']})"
        )
    if target is not None:
        opened = customer.review(
            run["id"], target["itemNo"], "dispute", note="We ordered it at a lower price."
        )
        ticket = opened["dispute"]["id"]
        supplier.dispute_status(ticket, "inProgress", statusChangeReason="checking the order")
        supplier.dispute_status(
            ticket,
            "resolved",
            statusChangeReason="our price stands; a goodwill credit",
            resolution={
                "outcome": "supplierValueStands",
                "description": "The order form shows our price; we credit EUR 100.",
                "creditAmount": {"unit": "EUR", "value": 100},
            },
        )
        closed = customer.dispute_status(ticket, "closed", statusChangeReason="accepted")
        dispute = {"id": ticket, "status": closed["status"], "credit": 100.0}
        echo(
            f"   #{target['itemNo']}: disputed by the customer (TMF621 {ticket}), resolved by "
            f"the supplier with a EUR 100 credit, closed by the customer (DisputeResolved, "
            "both signatures)"
        )
    return {"run": supplier.get(f"/panther/v1/matchRun/{run['id']}"), "dispute": dispute}


def _bill(
    supplier: PantherClient,
    customer: PantherClient,
    relation_id: str,
    as_of: str,
    folder: Path,
    echo: Callable[[str], None],
) -> dict[str, Any]:
    """Step 7: the statement of the month of the run, endorsed, and its invoice PDF."""
    day = date.fromisoformat(as_of)
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    asked = supplier.request_bill(relation_id, f"{start}T00:00:00Z", f"{end}T00:00:00Z")
    bill_id = asked["customerBill"]["id"]
    bill = customer.bill_state(bill_id, "validated")
    pdf = folder / f"invoice-{bill_id}.pdf"
    pdf.write_bytes(customer.bill_document(bill_id))
    lines = list(
        customer.pages(
            "/tmf-api/customerBillManagement/v4/appliedCustomerBillingRate", **{"bill.id": bill_id}
        )
    )
    billed = [x for x in lines if x["isBilled"]]
    kinds: dict[str, int] = {}
    for x in billed:
        kinds[x["type"]] = kinds.get(x["type"], 0) + 1
    held: dict[str, int] = {}
    for x in lines:
        if not x["isBilled"]:
            why = {c["name"]: c["value"] for c in x["characteristic"]}["heldOutReason"]
            held[why] = held.get(why, 0) + 1
    cur = bill["taxIncludedAmount"]["unit"]
    echo(
        f"7. statement {bill_id} for {start:%B %Y}: {bill['state']} by the customer "
        f"(StatementAgreed); {len(billed)} lines ("
        + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))
        + f"), total {cur} {bill['taxIncludedAmount']['value']:,.2f}; held out "
        + (", ".join(f"{v} {k}" for k, v in sorted(held.items())) or "nothing")
        + f" ({cur} {bill['heldOutAmount']['value']:,.2f} at stake)"
    )
    echo(f"   invoice PDF: {pdf}")
    return {
        "id": bill_id,
        "state": bill["state"],
        "total": bill["taxIncludedAmount"]["value"],
        "heldOut": bill["heldOutAmount"]["value"],
        "lines": kinds,
        "heldOutItems": held,
        "invoice": str(pdf),
    }


def _creds(party: dict[str, Any]) -> tuple[str, str]:
    """A registered party's client id and secret."""
    return party["credentials"]["clientId"], party["credentials"]["clientSecret"]


def _of_class(item_class: str) -> dict[str, Any]:
    """The match-item filter by class (`class` is a Python keyword: passed as a mapping)."""
    return {"class": item_class}
