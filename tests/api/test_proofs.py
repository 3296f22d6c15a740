"""Merkle inclusion proofs from the API carry the signed ledger entry that commits to their
root, and the standalone checker refuses every proof that is made up or tampered with."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from panther.adapters.evm.receipts import check_on_chain
from panther.client import PantherClient
from panther.ledger.eip712 import LedgerDomain
from panther.ledger.merkle import leaf_hash
from panther.ledger.proofs import check_proof_document, matches_ledger
from panther.ledger.testing import Actor, signed
from panther.ledger.transactions import TxType, make_entry
from panther.server.cli import main
from panther.server.representations.panther.ledger import entry_view
from panther.server.services.ports import Ports
from tests.served import panther_command

from .test_spine import inventories
from .world import World, new_carrier


def _refused(doc: Any, *words: str) -> None:
    ok, reason = check_proof_document(doc)
    assert ok is False, reason
    assert "\n" not in reason and all(w in reason for w in words), reason


def _cli(doc: Any, tmp_path: Path, name: str, *options: str) -> Any:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return CliRunner().invoke(main, ["ledger", "check-proof", str(path), *options])


async def test_record_and_item_proofs_carry_their_signed_entry_and_check_offline(
    world: World, ports: Ports, tmp_path: Path
) -> None:
    sup, cus = inventories()
    report = (await world.supplier.upload(world.relation_id, sup)).json()
    run = (await world.customer.upload(world.relation_id, cus)).json()["matchRun"]

    r = await world.customer.get(
        "/panther/v1/ledger/proof", reportId=report["id"], productId="CID-000002"
    )
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    assert doc["proofVersion"] == 2 and json.loads(doc["leaf"])["id"] == "CID-000002"
    assert doc["subject"]["relationId"] == world.relation_id
    assert doc["merkleRoot"] == report["merkleRoot"] and doc["entry"]["seq"] == report["ledgerSeq"]
    # The entry in the proof is the ledger's entry, signed by the reporter.
    held = (await world.customer.get(f"/panther/v1/ledger/entry/{report['ledgerSeq']}")).json()
    assert doc["entry"] == held
    assert doc["entry"]["signers"] == [world.supplier.address]
    ledger = doc["ledger"]
    assert ledger["domain"]["chainId"] == ports.ledger.domain.chain_id
    if ports.settings.ledger == "evm":
        contract: str = ports.ledger.contract  # type: ignore[attr-defined]
        assert ledger["kind"] == "evm" and ledger["contract"] == contract
        assert ledger["domain"]["verifyingContract"] == contract
        assert ledger["transactionHash"].startswith("0x") and ledger["blockNumber"] > 0
    else:
        assert ledger == {"kind": "embedded", "domain": ledger["domain"]}
    ok, reason = check_proof_document(doc)
    assert ok, reason
    assert f"entry {report['ledgerSeq']}" in reason and world.supplier.address in reason
    assert matches_ledger(doc, held)[0]

    r = await world.supplier.get("/panther/v1/ledger/proof", runId=run["id"], itemNo=3)
    item_doc = r.json()
    run_view = (await world.supplier.get(f"/panther/v1/matchRun/{run['id']}")).json()
    assert item_doc["merkleRoot"] == run_view["itemsRoot"]
    assert item_doc["entry"]["payload"]["runId"] == run["id"]
    ok, reason = check_proof_document(item_doc)
    assert ok, reason
    if ports.settings.ledger == "evm":
        # The chain itself (any node, no server) says the transaction recorded the entry;
        # another transaction of the contract did not.
        rpc = ports.settings.evm_rpc_url
        ok, reason = await asyncio.to_thread(check_on_chain, doc, rpc)
        assert ok and f"recorded entry {doc['entry']['seq']} " in reason, reason
        elsewhere = {**ledger, "transactionHash": item_doc["ledger"]["transactionHash"]}
        ok, reason = await asyncio.to_thread(check_on_chain, {**doc, "ledger": elsewhere}, rpc)
        assert not ok and "not the proof's" in reason, reason
        result = await asyncio.to_thread(_cli, doc, tmp_path, "chain.json", "--rpc", rpc)
        assert result.exit_code == 0 and "chain " in result.output, result.output

    result = _cli(doc, tmp_path, "good.json")
    assert result.exit_code == 0 and result.output.startswith("proof OK: leaf"), result.output
    forged = {**doc, "leaf": doc["leaf"].replace("1300", "1250")}
    result = _cli(forged, tmp_path, "bad.json")
    assert result.exit_code == 1, result.output
    assert result.output.startswith("proof INVALID: the leaf does not hash up")
    assert len(result.output.strip().splitlines()) == 1


async def test_made_up_and_tampered_proofs_fail(world: World, tmp_path: Path) -> None:
    sup, _ = inventories()
    report = (await world.supplier.upload(world.relation_id, sup, as_of="2026-11-02")).json()
    doc = await world.supplier.get("/panther/v1/ledger/proof", reportId=report["id"], index=2)
    doc = doc.json()
    assert check_proof_document(doc)[0]

    # A hand-made one-leaf proof, its own leaf as the root: in the old format it is refused
    # outright; in the new one its root is not the one the signed entry commits to, and
    # putting it into the entry breaks the signature.
    leaf = '{"id":"CID-999","status":"active"}'
    root = leaf_hash(leaf.encode()).hex()
    one_leaf = {"leaf": leaf, "leafIndex": 0, "leafCount": 1, "siblings": [], "merkleRoot": root}
    old = {**one_leaf, "entry": {"seq": doc["entry"]["seq"], "type": "InventoryReported"}}
    result = _cli(old, tmp_path, "old.json")
    assert result.exit_code == 1 and "older proof" in result.output, result.output
    _refused({**doc, **one_leaf}, "root its ledger entry commits to")
    rerooted = copy.deepcopy({**doc, **one_leaf})
    rerooted["entry"]["merkleRoot"] = root
    _refused(rerooted, "signature 0")

    # The root swapped for another report's root.
    other = (await world.supplier.upload(world.relation_id, sup[:3], as_of="2026-11-03")).json()
    _refused({**doc, "merkleRoot": other["merkleRoot"]}, "does not hash up")
    swapped = copy.deepcopy(doc)
    swapped["merkleRoot"] = swapped["entry"]["merkleRoot"] = other["merkleRoot"]
    _refused(swapped, "does not hash up")

    # The entry's signature removed, or altered.
    unsigned = copy.deepcopy(doc)
    unsigned["entry"]["signers"], unsigned["entry"]["signatures"] = [], []
    _refused(unsigned, "no signature")
    altered = copy.deepcopy(doc)
    signature = altered["entry"]["signatures"][0]
    altered["entry"]["signatures"][0] = signature[:10] + ("0" if signature[10] != "0" else "1")
    altered["entry"]["signatures"][0] += signature[11:]
    _refused(altered, "signature")

    # A truncated path.
    _refused({**doc, "siblings": doc["siblings"][:-1]}, "does not hash up")

    # The entry of a report of another relation (same supplier, another customer).
    customer = await new_carrier(world.supplier.http, world.operator, "telia")
    r = await world.operator.post(
        "/panther/v1/relation", {"supplier": world.supplier.party_id, "customer": customer.party_id}
    )
    second = r.json()["id"]
    for actor in (world.supplier, customer):
        assert (await actor.post(f"/panther/v1/relation/{second}/agreement", {})).status_code == 200
    theirs = (await world.supplier.upload(second, sup)).json()
    assert theirs["merkleRoot"] == report["merkleRoot"]  # the same records: the same root
    their_doc = (
        await world.supplier.get("/panther/v1/ledger/proof", reportId=theirs["id"], index=2)
    ).json()
    assert check_proof_document(their_doc)[0]
    _refused({**doc, "entry": their_doc["entry"]}, f"relation '{second}'", world.relation_id)
    # The entry hash does not link to another place in the chain.
    moved = copy.deepcopy(doc)
    moved["entry"]["prevHash"] = their_doc["entry"]["entryHash"]
    _refused(moved, "entry hash")
    # Online: the ledger holds another entry at the seq a forged document names.
    held = (await world.supplier.get(f"/panther/v1/ledger/entry/{doc['entry']['seq']}")).json()
    ok, reason = matches_ledger({**doc, "entry": {**doc["entry"], "entryHash": "00" * 32}}, held)
    assert not ok and "entryHash" in reason


async def test_proof_errors(world: World) -> None:
    sup, _ = inventories()
    report = (await world.supplier.upload(world.relation_id, sup)).json()
    r = await world.outsider.get("/panther/v1/ledger/proof", reportId=report["id"], index=0)
    assert r.status_code == 404
    r = await world.supplier.get("/panther/v1/ledger/proof", reportId=report["id"], index=99)
    assert r.status_code == 404
    r = await world.supplier.get("/panther/v1/ledger/proof", reportId=report["id"])
    assert r.status_code == 422
    r = await world.supplier.get("/panther/v1/ledger/proof")
    assert r.status_code == 422 and r.json()["@type"] == "Error"


def test_check_proof_online_asks_the_server_that_its_ledger_holds_the_entry(
    served: str,
    tmp_path: Path,
) -> None:
    operator_creds = json.loads((tmp_path / "operator-credentials.json").read_text())
    operator = PantherClient(served, operator_creds["clientId"], operator_creds["clientSecret"])
    sup_party = operator.register_party("Supplier", "sup-online")
    cus_party = operator.register_party("Customer", "cus-online")
    relation = operator.propose_relation("sup-online", "cus-online")
    supplier = PantherClient(served, **_client_of(sup_party))
    customer = PantherClient(served, **_client_of(cus_party))
    for client in (supplier, customer):
        client.agree(relation["id"])
    sup, _ = inventories()
    body = b"\n".join(json.dumps(r).encode() for r in sup)
    report = supplier.upload(relation["id"], "2026-11-01", body, "application/x-ndjson")
    doc = customer.get("/panther/v1/ledger/proof", reportId=report["id"], index=1)
    for client in (operator, supplier, customer):
        client.close()
    creds = tmp_path / "cus.json"
    creds.write_text(json.dumps(cus_party["credentials"]))
    online = ["--online", "--url", served, "--credentials", str(creds)]

    def check(document: Any, name: str) -> subprocess.CompletedProcess[str]:
        path = tmp_path / name
        path.write_text(json.dumps(document))
        command = [*panther_command(), "ledger", "check-proof", str(path), *online]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    proc = check(doc, "genuine.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"the ledger holds entry {report['ledgerSeq']} with hash" in proc.stdout

    # Made up from scratch with a key of one's own: consistent, so offline it passes; the
    # server's ledger holds another entry at that seq.
    domain, mallory = LedgerDomain(**_domain_args(doc)), Actor.new("mallory")
    entry = doc["entry"]
    tx = signed(
        domain,
        TxType.InventoryReported,
        entry["payload"],
        mallory,
        relation=entry["relation"],
        merkle_root=bytes.fromhex(doc["merkleRoot"]),
    )
    made = make_entry(entry["seq"], tx, bytes.fromhex(entry["prevHash"]), entry["recordedAt"])
    forged = {**doc, "entry": {**entry, **entry_view(made, "")}}
    forged["entry"].update(id=entry["id"], href=entry["href"])
    assert check_proof_document(forged)[0]
    proc = check(forged, "forged.json")
    assert proc.returncode == 1 and proc.stdout.startswith("proof INVALID: the ledger holds")
    assert "entryHash" in proc.stdout and "signers" in proc.stdout


def _client_of(party: dict[str, Any]) -> dict[str, str]:
    c = party["credentials"]
    return {"client_id": c["clientId"], "client_secret": c["clientSecret"]}


def _domain_args(doc: dict[str, Any]) -> dict[str, Any]:
    d = doc["ledger"]["domain"]
    return {
        "chain_id": d["chainId"],
        "verifying_contract": d["verifyingContract"],
        "name": d["name"],
        "version": d["version"],
    }
