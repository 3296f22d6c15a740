"""The EVM ledger when the node misbehaves: it goes away mid-run, it drops transactions,
it is not the chain or the contract the configuration names."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from panther.adapters.evm.anvil import Anvil
from panther.adapters.evm.ledger import EvmConfig, EvmLedger
from panther.ledger import TxType, verify_adapter
from panther.ledger.eip712 import new_key
from panther.ledger.errors import LedgerMisconfigured
from panther.ledger.testing import seed_ledger, signed
from panther.server import state
from panther.server.app import create_app
from panther.server.bootstrap import compose
from panther.server.services.ports import Ports
from panther.server.settings import Settings

from ..conftest import make_ports
from .world import World, build_world, product


def _rpc(node: Anvil, method: str, params: list[Any]) -> Any:
    answer = httpx.post(
        node.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=5
    ).json()
    assert "error" not in answer, answer
    return answer["result"]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Anvil]:
    """A node of this test's own, keeping its chain in a state file across restarts."""
    anvil = Anvil(state=tmp_path / "chain-state.json").start()
    try:
        yield anvil
    finally:
        anvil.stop()


@pytest.fixture
def evm_ports(node: Anvil, tmp_path: Path) -> Iterator[Ports]:
    with make_ports(
        "evm",
        tmp_path / "data",
        evm_rpc_url=node.url,
        chain_id=node.chain_id,
        evm_receipt_timeout=20.0,
    ) as ports:
        yield ports


@pytest.fixture
async def evm_world(evm_ports: Ports) -> AsyncIterator[World]:
    app = create_app(ports=evm_ports)
    state.install(evm_ports)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://panther.test", timeout=60
    ) as http:
        yield await build_world(http, evm_ports)


def _stored(ports: Ports) -> tuple[int, int]:
    with ports.db.read() as conn:
        return (
            conn.execute(sa.text("SELECT count(*) FROM inventory_report")).scalar_one(),
            conn.execute(sa.text("SELECT count(*) FROM inventory_record")).scalar_one(),
        )


async def test_node_gone_gives_503_with_nothing_recorded_and_work_completes_on_return(
    node: Anvil, evm_ports: Ports, evm_world: World
) -> None:
    w = evm_world
    records = [product(f"CID-{i}") for i in range(200)]
    entries_before = evm_ports.ledger.count()
    stored_before = _stored(evm_ports)
    node.stop()  # SIGTERM: anvil writes its chain to the state file

    r = await w.supplier.upload(w.relation_id, records)
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["@type"] == "Error" and body["code"] == "503"
    assert "LedgerUnavailable" in body["message"] and "nothing was recorded" in body["message"]
    assert r.headers["Retry-After"] == "5"
    assert _stored(evm_ports) == stored_before  # no report, no records

    node.start()  # the same chain comes back from its state file
    assert evm_ports.ledger.count() == entries_before  # nothing half recorded on chain either
    r = await w.supplier.upload(w.relation_id, records)
    assert r.status_code == 201, r.text
    assert r.json()["recordCount"] == 200
    r = await w.customer.upload(w.relation_id, records)
    assert r.status_code == 201, r.text
    assert evm_ports.ledger.count() == entries_before + 3  # two reports and the match run
    check = (await w.operator.post("/panther/v1/ledger/verification")).json()
    assert check["ok"], check
    assert check["entriesChecked"] == entries_before + 3


def test_pipelined_transactions_lost_with_the_node_are_resubmitted(node: Anvil) -> None:
    key, _ = new_key()
    ledger = EvmLedger(
        EvmConfig(node.url, node.chain_id, key, resubmit_after=0.3, receipt_timeout=30)
    )
    try:
        cast = seed_ledger(ledger)
        d = ledger.domain
        txs = [
            signed(d, TxType.InventoryReported, {"n": i}, cast.supplier, relation=cast.relation_id)
            for i in range(25)
        ]
        _rpc(node, "evm_setAutomine", [False])  # they will wait in the pool...
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                result["entries"] = ledger.append_many(txs)
            except Exception as exc:  # noqa: BLE001 - reported to the test below
                result["error"] = exc

        worker = threading.Thread(target=run)
        worker.start()
        for _ in range(100):
            pool = _rpc(node, "txpool_status", [])
            if int(pool["pending"], 16) == 25:
                break
            threading.Event().wait(0.05)
        assert int(_rpc(node, "txpool_status", [])["pending"], 16) == 25
        node.stop()  # ...and are lost with the node's pool
        node.start()  # the chain comes back without them, automining again
        worker.join(60)
        assert not worker.is_alive()
        assert "error" not in result, result.get("error")
        entries = result["entries"]
        assert [e.tx.payload["n"] for e in entries] == list(range(25))
        assert [e.seq for e in entries] == list(range(4, 29))
        assert ledger.count() == 29
        assert verify_adapter(ledger).ok
    finally:
        ledger.close()


def test_a_dropped_transaction_is_resubmitted(node: Anvil) -> None:
    key, _ = new_key()
    ledger = EvmLedger(EvmConfig(node.url, node.chain_id, key, resubmit_after=0.2))
    try:
        cast = seed_ledger(ledger)
        tx = signed(
            ledger.domain, TxType.DisputeOpened, {"d": 1}, cast.customer, relation=cast.relation_id
        )
        _rpc(node, "evm_setAutomine", [False])
        out: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: out.setdefault("entry", ledger.append(tx)))
        worker.start()
        for _ in range(100):
            if int(_rpc(node, "txpool_status", [])["pending"], 16) == 1:
                break
            threading.Event().wait(0.05)
        _rpc(node, "anvil_dropAllTransactions", [])
        _rpc(node, "evm_setAutomine", [True])
        worker.join(30)
        assert out["entry"].seq == 4 and out["entry"].tx.type is TxType.DisputeOpened
        assert ledger.count() == 5
    finally:
        ledger.close()


def _evm_settings(tmp_path: Path, node: Anvil, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": "",
        "ledger": "evm",
        "evm_rpc_url": node.url,
        "chain_id": node.chain_id,
    }
    values.update(kw)
    return Settings.from_env(**values)


def test_a_chain_id_that_does_not_match_is_refused_at_start(tmp_path: Path, node: Anvil) -> None:
    with pytest.raises(LedgerMisconfigured, match="chain 31337, the configuration says 1"):
        compose(_evm_settings(tmp_path, node, chain_id=1))
    with pytest.raises(LedgerMisconfigured, match="PANTHER_CHAIN_ID is required"):
        compose(_evm_settings(tmp_path, node, chain_id=None))


def test_a_contract_address_that_is_not_the_ledger_is_refused_at_start(
    tmp_path: Path, node: Anvil
) -> None:
    _, address = new_key()
    with pytest.raises(LedgerMisconfigured, match="no contract at"):
        compose(_evm_settings(tmp_path, node, evm_contract=address))
    # Code that is not a PantherLedger: a contract whose runtime is a single STOP, deployed
    # by one of anvil's unlocked accounts.
    stop_only = "0x6001600c60003960016000f300"
    sender = _rpc(node, "eth_accounts", [])[0]
    tx_hash = _rpc(node, "eth_sendTransaction", [{"from": sender, "data": stop_only}])
    other = _rpc(node, "eth_getTransactionReceipt", [tx_hash])["contractAddress"]
    with pytest.raises(LedgerMisconfigured, match="not a PantherLedger|another EIP-712 domain"):
        compose(_evm_settings(tmp_path, node, evm_contract=other))
    # The real contract attaches, and the data folder remembers a deployed one.
    ports = compose(_evm_settings(tmp_path, node))
    try:
        remembered = ports.ledger.contract
        assert (tmp_path / "data" / "evm-ledger.json").exists()
    finally:
        ports.ledger.close()
        ports.db.engine.dispose()
    again = compose(_evm_settings(tmp_path, node))
    try:
        assert again.ledger.contract == remembered
        assert again.ledger.count() == 1  # the operator registered once, not again
    finally:
        again.ledger.close()
        again.db.engine.dispose()


def test_pipelining_packs_many_transactions_into_each_one_second_block() -> None:
    """With a QBFT-like block period, one transaction at a time is one per block; the
    pipeline puts a whole batch in flight, so it lands in a block or two."""
    with Anvil(block_time=1) as slow:
        key, _ = new_key()
        ledger = EvmLedger(EvmConfig(slow.url, slow.chain_id, key, receipt_timeout=30))
        try:
            cast = seed_ledger(ledger)  # four transactions, one block each
            d = ledger.domain
            txs = [
                signed(d, TxType.DisputeOpened, {"n": i}, cast.customer, relation=cast.relation_id)
                for i in range(150)
            ]
            entries = ledger.append_many(txs)
            assert [e.seq for e in entries] == list(range(4, 154))
            blocks = {e.recorded_at for e in entries}  # block times, one per block
            assert len(blocks) <= 3, sorted(blocks)
            assert verify_adapter(ledger).ok
        finally:
            ledger.close()
