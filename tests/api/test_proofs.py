"""Merkle inclusion proofs from the API, checked offline by the standalone verifier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from panther.ledger.proofs import check_proof_document
from panther.server.cli import main

from .test_spine import inventories
from .world import World


async def test_record_and_item_proofs_check_offline(world: World, tmp_path: Path) -> None:
    sup, cus = inventories()
    report = (await world.supplier.upload(world.relation_id, sup)).json()
    run = (await world.customer.upload(world.relation_id, cus)).json()["matchRun"]

    r = await world.customer.get(
        "/panther/v1/ledger/proof", reportId=report["id"], productId="CID-000002"
    )
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    assert json.loads(doc["leaf"])["id"] == "CID-000002"
    assert doc["merkleRoot"] == report["merkleRoot"] and doc["entry"]["seq"] == report["ledgerSeq"]
    assert check_proof_document(doc)[0]

    r = await world.supplier.get("/panther/v1/ledger/proof", runId=run["id"], itemNo=3)
    item_doc = r.json()
    run_view = (await world.supplier.get(f"/panther/v1/matchRun/{run['id']}")).json()
    assert item_doc["merkleRoot"] == run_view["itemsRoot"]
    assert check_proof_document(item_doc)[0]

    forged = {**doc, "leaf": doc["leaf"].replace("1300", "1250")}
    ok, reason = check_proof_document(forged)
    assert not ok and "root" in reason
    moved = {**doc, "leafIndex": doc["leafIndex"] + 1}
    assert not check_proof_document(moved)[0]

    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(doc))
    bad.write_text(json.dumps(forged))
    runner = CliRunner()
    result = runner.invoke(main, ["ledger", "check-proof", str(good)])
    assert result.exit_code == 0 and "proof OK" in result.output
    result = runner.invoke(main, ["ledger", "check-proof", str(bad)])
    assert result.exit_code == 1 and "proof INVALID" in result.output


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
