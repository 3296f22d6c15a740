"""EVM ledger figures, all on fresh anvil nodes started here (npm @foundry-rs/anvil):

* transactions per second appending to the EVM adapter pipelined versus one at a time, with
  automine and with `--block-time 1` (a QBFT-like block period), same run, same machine;
* gas per transaction kind, with payloads shaped like the server's;
* that a report's and a match result's cost on chain does not grow with their size (one
  transaction each, the records behind a Merkle root);
* endorsement signatures verified per second: off chain (coincurve, what `verify` does)
  and on chain (ecrecover inside the contract, two per MatchEndorsed).

    .venv/bin/python bench/bench_ledger.py [--pipelined 2000] [--sequential 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from panther.adapters.evm.anvil import Anvil  # noqa: E402
from panther.adapters.evm.ledger import EvmConfig, EvmLedger  # noqa: E402
from panther.ledger.eip712 import new_key, recover_all  # noqa: E402
from panther.ledger.merkle import merkle_root  # noqa: E402
from panther.ledger.testing import Cast, seed_ledger, signed  # noqa: E402
from panther.ledger.transactions import Transaction, TxType  # noqa: E402


def _rpc(node: Anvil, method: str, params: list[Any]) -> Any:
    answer = httpx.post(
        node.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=30
    ).json()
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]


def _ledger(node: Anvil) -> EvmLedger:
    key, _ = new_key()
    return EvmLedger(EvmConfig(node.url, node.chain_id, key, receipt_timeout=120))


def _report_payload(cast: Cast, n_records: int, i: int) -> dict[str, Any]:
    return {
        "relationId": cast.relation_id,
        "reporter": cast.supplier.party_id,
        "side": "supplier",
        "asOf": "2026-11-01",
        "version": i + 1,
        "recordCount": n_records,
        "contentHash": secrets.token_hex(32),
    }


def _run_payload(cast: Cast, n_items: int) -> dict[str, Any]:
    return {
        "runId": f"run-{secrets.token_hex(10)}",
        "relationId": cast.relation_id,
        "asOf": "2026-11-01",
        "supplierReport": f"rpt-{secrets.token_hex(10)}",
        "customerReport": f"rpt-{secrets.token_hex(10)}",
        "profileHash": secrets.token_hex(32),
        "counts": {
            "matched": n_items * 90 // 100,
            "partial": n_items * 5 // 100,
            "missingAtSupplier": n_items * 2 // 100,
            "missingAtCustomer": n_items * 2 // 100,
            "ambiguous": n_items // 100,
            "total": n_items,
        },
        "itemCount": n_items,
    }


def _reports(ledger: EvmLedger, cast: Cast, n: int, start: int = 0) -> list[Transaction]:
    root = merkle_root([b"record"])
    return [
        signed(
            ledger.domain,
            TxType.InventoryReported,
            _report_payload(cast, 100_000, start + i),
            cast.supplier,
            relation=cast.relation_id,
            merkle_root=root,
        )
        for i in range(n)
    ]


def throughput(node: Anvil, sequential: int, pipelined: int) -> dict[str, float]:
    ledger = _ledger(node)
    try:
        cast = seed_ledger(ledger)
        txs = _reports(ledger, cast, sequential + pipelined)
        t0 = time.perf_counter()
        for tx in txs[:sequential]:
            ledger.append(tx)
        one_at_a_time = sequential / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        entries = ledger.append_many(txs[sequential:])
        in_flight = pipelined / (time.perf_counter() - t0)
        assert entries[-1].seq == 4 + sequential + pipelined - 1
        assert ledger.count() == 4 + sequential + pipelined
        return {"oneAtATime": one_at_a_time, "pipelined": in_flight}
    finally:
        ledger.close()


def _last_gas(node: Anvil) -> int:
    receipts = _rpc(node, "eth_getBlockReceipts", ["latest"])
    return int(receipts[-1]["gasUsed"], 16)


def gas_per_kind(node: Anvil) -> dict[str, int]:
    """Gas of one transaction of each kind (automine: one transaction per block)."""
    ledger = _ledger(node)
    out: dict[str, int] = {}
    try:
        d = ledger.domain
        from panther.ledger.testing import Actor

        op, a, b = Actor.new("operator"), Actor.new("carrier-a"), Actor.new("carrier-b")
        for actor, role in ((op, "operator"), (a, "carrier"), (b, "carrier")):
            payload = {
                "partyId": actor.party_id,
                "address": actor.address,
                "name": "Deutsche Telekom Global Carrier",
                "role": role,
            }
            ledger.append(signed(d, TxType.PartyRegistered, payload, op))
        out["PartyRegistered"] = _last_gas(node)
        rel = "rel-" + secrets.token_hex(8)
        terms = {"currency": "EUR", "billingPeriod": "month", "proration": "actualDays"}
        relation = {
            "relationId": rel,
            "supplier": a.party_id,
            "customer": b.party_id,
            "profileHash": secrets.token_hex(32),
            "terms": terms,
        }
        ledger.append(signed(d, TxType.RelationAgreed, relation, a, b, relation=rel))
        out["RelationAgreed"] = _last_gas(node)
        cast = Cast(op, a, b, rel)
        root = merkle_root([b"x"])
        for n_records, label in ((10, "InventoryReported (10 records)"),
                                 (1_000_000, "InventoryReported (1,000,000 records)")):  # fmt: skip
            tx = signed(
                d, TxType.InventoryReported, _report_payload(cast, n_records, n_records), a,
                relation=rel, merkle_root=root,
            )  # fmt: skip
            ledger.append(tx)
            out[label] = _last_gas(node)
        for n_items, label in ((10, "MatchRecorded (10 items)"),
                               (1_000_000, "MatchRecorded (1,000,000 items)")):  # fmt: skip
            tx = signed(
                d, TxType.MatchRecorded, _run_payload(cast, n_items), op,
                relation=rel, merkle_root=root,
            )  # fmt: skip
            ledger.append(tx)
            out[label] = _last_gas(node)
        endorsement = {
            "runId": "run-x",
            "relationId": rel,
            "counts": {"total": 1},
            "recordedSeq": 7,
        }
        small: dict[str, Any] = {"ref": secrets.token_hex(16), "relationId": rel}
        for kind, signers in (
            (TxType.MatchEndorsed, (a, b)),
            (TxType.ReviewActionTaken, (a,)),
            (TxType.DisputeOpened, (b,)),
            (TxType.DisputeResolved, (a, b)),
            (TxType.StatementIssued, (a,)),
            (TxType.StatementAgreed, (a, b)),
            (TxType.PaymentSettled, (a, b)),
            (TxType.NettingCertified, (op,)),
        ):
            payload = endorsement if kind is TxType.MatchEndorsed else small
            ledger.append(signed(d, kind, payload, *signers, relation=rel, merkle_root=root))
            out[kind.value] = _last_gas(node)
        return out
    finally:
        ledger.close()


def signatures_per_second(n: int = 5000) -> float:
    from panther.ledger.eip712 import LedgerDomain
    from panther.ledger.testing import Actor

    d = LedgerDomain()
    a, b = Actor.new("a"), Actor.new("b")
    txs = [
        signed(d, TxType.MatchEndorsed, {"runId": f"r{i}"}, a, b, relation="rel") for i in range(n)
    ]
    t0 = time.perf_counter()
    for tx in txs:
        recover_all(d, tx)
    return 2 * n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pipelined", type=int, default=2000)
    parser.add_argument("--sequential", type=int, default=300)
    parser.add_argument("--block-time-sequential", type=int, default=5)
    args = parser.parse_args()
    result: dict[str, Any] = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "load": os.getloadavg()[0],
    }
    with Anvil() as node:
        result["automine"] = throughput(node, args.sequential, args.pipelined)
    with Anvil(block_time=1) as node:
        result["blockTime1s"] = throughput(node, args.block_time_sequential, args.pipelined)
    with Anvil() as node:
        result["gas"] = gas_per_kind(node)
    result["offChainSignaturesPerSecond"] = signatures_per_second()
    with Anvil() as node:
        ledger = _ledger(node)
        try:
            cast = seed_ledger(ledger)
            txs = [
                signed(
                    ledger.domain,
                    TxType.MatchEndorsed,
                    {"runId": f"run-{i}"},
                    cast.supplier,
                    cast.customer,
                    relation=cast.relation_id,
                )  # fmt: skip
                for i in range(args.pipelined // 2)
            ]
            t0 = time.perf_counter()
            ledger.append_many(txs)
            rate = 2 * len(txs) / (time.perf_counter() - t0)
            result["onChainSignaturesPerSecond (MatchEndorsed, 2 each, pipelined)"] = rate
        finally:
            ledger.close()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
