"""The server on the EVM ledger: the chain carries one transaction per report and per match
result whatever their size, and the proofs it serves check against the chain's roots."""

from __future__ import annotations

import pytest

from panther.ledger.proofs import check_proof_document
from panther.server.services.ports import Ports

from .world import World, product


@pytest.fixture
def on_chain(ports: Ports) -> Ports:
    if ports.settings.ledger != "evm":
        pytest.skip("about the EVM ledger")
    return ports


async def test_report_and_match_cost_one_chain_transaction_each_whatever_their_size(
    on_chain: Ports, world: World
) -> None:
    w = world
    for n in (10, 3000):
        as_of = f"2026-10-{10 + n % 17:02d}"
        before = on_chain.ledger.count()
        records = [product(f"CID-{n}-{i}") for i in range(n)]
        theirs = [product(f"VF-{n}-{i}", external=f"CID-{n}-{i}") for i in range(n)]
        r = await w.supplier.upload(w.relation_id, records, as_of=as_of)
        assert r.status_code == 201, r.text
        assert on_chain.ledger.count() == before + 1
        r = await w.customer.upload(w.relation_id, theirs, as_of=as_of)
        assert r.status_code == 201, r.text
        report, run = r.json(), r.json()["matchRun"]
        assert on_chain.ledger.count() == before + 3  # the second report and the match result
        entry = on_chain.ledger.get(before + 2)
        assert entry.tx.type.value == "MatchRecorded" and entry.tx.payload["runId"] == run["id"]
        run_view = (await w.supplier.get(f"/panther/v1/matchRun/{run['id']}")).json()
        assert entry.tx.payload["itemCount"] == run_view["itemCount"] == n
        assert entry.tx.merkle_root.hex() == run_view["itemsRoot"]
        # The last record is provable, offline, against the root the chain holds.
        r = await w.customer.get("/panther/v1/ledger/proof", reportId=report["id"], index=n - 1)
        assert r.status_code == 200, r.text
        proof = r.json()
        assert proof["entry"]["seq"] == before + 1
        assert proof["merkleRoot"] == on_chain.ledger.get(before + 1).tx.merkle_root.hex()
        assert check_proof_document(proof)[0] is True
