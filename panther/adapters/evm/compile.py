"""Compile contracts/PantherLedger.sol with the pinned solc-js (npm `solc`, see package.json).

`python -m panther.adapters.evm.compile` rewrites the committed artifact
(`panther/adapters/evm/PantherLedger.json`: ABI, creation bytecode, compiler settings);
`--check` exits 1 when the committed artifact differs from a fresh compilation. The server
never compiles: it deploys the committed bytecode, so a node needs neither npm nor solc.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "contracts" / "PantherLedger.sol"
ARTIFACT = Path(__file__).with_name("PantherLedger.json")
SOLCJS = ROOT / "node_modules" / ".bin" / "solcjs"
CONTRACT = "PantherLedger"
# paris: no PUSH0, which older permissioned networks (Besu QBFT configs) reject.
SETTINGS: dict[str, Any] = {
    "evmVersion": "paris",
    "optimizer": {"enabled": True, "runs": 200},
    "viaIR": True,
    "metadata": {"bytecodeHash": "none"},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
}


class CompileError(RuntimeError):
    pass


def compile_contract() -> dict[str, Any]:
    """The artifact a fresh compilation of the source produces."""
    if not SOLCJS.exists():
        raise CompileError(f"{SOLCJS} is missing: run `npm ci` in {ROOT}")
    request = {
        "language": "Solidity",
        "sources": {SOURCE.name: {"content": SOURCE.read_text()}},
        "settings": SETTINGS,
    }
    proc = subprocess.run(
        [str(SOLCJS), "--standard-json"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # solcjs prints a banner line before the JSON document.
    start = proc.stdout.find("{")
    if proc.returncode != 0 or start < 0:
        raise CompileError(f"solcjs failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    output = json.loads(proc.stdout[start:])
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompileError("\n".join(e.get("formattedMessage", str(e)) for e in errors))
    version = subprocess.run(
        [str(SOLCJS), "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    compiled = output["contracts"][SOURCE.name][CONTRACT]
    return {
        "contractName": CONTRACT,
        "source": f"contracts/{SOURCE.name}",
        "compiler": {"solcjs": version, "settings": SETTINGS},
        "abi": compiled["abi"],
        "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
    }


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    fresh = render(compile_contract())
    if "--check" in argv:
        same = ARTIFACT.exists() and ARTIFACT.read_text() == fresh
        print("artifact matches the source" if same else f"{ARTIFACT} differs from the source")
        return 0 if same else 1
    ARTIFACT.write_text(fresh)
    print(f"wrote {ARTIFACT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
