"""The demo, run as a user runs it: the installed command, a real server, real HTTP."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.served import panther_command


def test_demo_json_is_exact_against_ground_truth(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*panther_command(), "demo", "--records", "3000", "--json", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["runState"] == "final"
    assert result["ledgerOk"] is True
    counts = result["counts"]
    for cls in ("matched", "partial", "missingAtSupplier", "missingAtCustomer", "ambiguous"):
        assert counts[cls] > 0, f"the generator made no {cls} case"
        quality = result["quality"][cls]
        assert quality["precision"] == 1.0 and quality["recall"] == 1.0, (cls, quality)
    assert (tmp_path / "operator-credentials.json").exists()
    # Review: three accepts agreed, one dispute closed with a credit, nothing left proposed.
    review = result["review"]
    assert review["agreed"] == 4 and review["proposed"] == 0 and review["disputed"] == 0
    assert review["open"] == review["items"] - 4
    assert result["dispute"]["status"] == "closed" and result["dispute"]["credit"] == 100.0
    bill = result["bill"]
    assert bill["state"] == "validated"
    assert bill["lines"]["appliedBillingCredit"] == 1 and bill["lines"]["recurringCharge"] > 0
    assert set(bill["heldOutItems"]) <= {
        "differences",
        "missingAtCustomer",
        "missingAtSupplier",
        "ambiguous",
        "disputed",
    }
    pdf = Path(bill["invoice"])
    assert pdf.parent == tmp_path and pdf.read_bytes().startswith(b"%PDF-")


def test_demo_walkthrough_prints_a_readable_summary(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*panther_command(), "demo", "--records", "300", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "relation" in out and "agreed" in out
    assert "partial #" in out and "supplier" in out
    assert "ledger verification: OK" in out
    assert "both carriers endorsed run" in out and ": final" in out
    assert "corrected by the customer" in out and "DisputeResolved" in out
    assert "StatementAgreed" in out and "invoice PDF: " in out


def test_ledger_verify_command_finds_tampering(tmp_path: Path) -> None:
    import sqlite3

    demo = subprocess.run(
        [*panther_command(), "demo", "--records", "200", "--json", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    env_args = ["--data-dir", str(tmp_path)]
    ok = subprocess.run(
        [*panther_command(), "ledger", "verify", *env_args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0 and "ledger OK" in ok.stdout, ok.stdout + ok.stderr
    with sqlite3.connect(tmp_path / "panther.db") as db:
        (seq,) = db.execute(
            "SELECT ledger_seq FROM inventory_report ORDER BY ledger_seq LIMIT 1"
        ).fetchone()
        rid = db.execute("SELECT id FROM inventory_report WHERE ledger_seq = ?", (seq,)).fetchone()[
            0
        ]
        db.execute(
            "UPDATE inventory_record SET status = status, body = body || ' ' "
            "WHERE report_id = ? AND seq = 5",
            (rid,),
        )
    broken = subprocess.run(
        [*panther_command(), "ledger", "verify", *env_args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert broken.returncode == 1
    assert f"BROKEN at entry {seq} (merkle)" in broken.stdout, broken.stdout


def test_demo_on_the_evm_ledger_then_verify_and_replay_from_the_kept_chain(
    tmp_path: Path,
) -> None:
    """`panther demo --ledger evm` on its own anvil; afterwards the chain it kept is started
    again and `panther ledger verify` and `panther ledger replay` read it back."""
    import os

    from panther.adapters.evm.anvil import Anvil

    proc = subprocess.run(
        [*panther_command(), "demo", "--ledger", "evm", "--records", "1000", "--json"]
        + ["--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["ledger"] == "evm" and result["ledgerOk"] is True
    assert result["runState"] == "final"
    assert all(q["precision"] == 1.0 and q["recall"] == 1.0 for q in result["quality"].values())
    assert result["contract"].startswith("0x") and len(result["contract"]) == 42

    with Anvil(state=tmp_path / "anvil-state.json") as node:
        env = {
            **os.environ,
            "PANTHER_LEDGER": "evm",
            "PANTHER_EVM_RPC_URL": node.url,
            "PANTHER_CHAIN_ID": str(node.chain_id),
            "PANTHER_DATA_DIR": str(tmp_path),
        }
        verify = subprocess.run(
            [*panther_command(), "ledger", "verify"], env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert f"ledger OK: {result['ledgerEntries']} entries" in verify.stdout
        replay = subprocess.run(
            [*panther_command(), "ledger", "replay"], env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert "replay EQUAL" in replay.stdout


def test_serve_refuses_a_node_of_another_chain_with_a_clear_message(
    tmp_path: Path, anvil_node: object
) -> None:
    import os

    env = {
        **os.environ,
        "PANTHER_LEDGER": "evm",
        "PANTHER_EVM_RPC_URL": anvil_node.url,  # type: ignore[attr-defined]
        "PANTHER_CHAIN_ID": "1",
        "PANTHER_DATA_DIR": str(tmp_path),
    }
    proc = subprocess.run(
        [*panther_command(), "serve", "--port", "1"], env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "the ledger cannot be used" in proc.stderr
    assert "the node is chain 31337, the configuration says 1" in proc.stderr
