"""The committed contract artifact is exactly what the pinned compiler makes of the source."""

from __future__ import annotations

import json

from panther.adapters.evm import compile as build
from panther.adapters.evm.contract import (
    CUSTOM_ERROR_SIGNATURES,
    ENTRY_POINTS,
    RECORDED_TOPIC,
    artifact,
)
from panther.ledger.transactions import TxType


def test_committed_artifact_matches_a_fresh_compilation() -> None:
    fresh = build.render(build.compile_contract())
    assert build.ARTIFACT.read_text() == fresh, (
        "contracts/PantherLedger.sol changed: run `python -m panther.adapters.evm.compile`"
    )
    compiled = json.loads(fresh)
    assert compiled["compiler"]["settings"]["evmVersion"] == "paris"
    assert compiled["compiler"]["solcjs"].startswith("0.8.28+")


def test_abi_has_one_entry_point_per_transaction_kind() -> None:
    functions = {
        item["name"]: item for item in artifact()["abi"] if item["type"] == "function"
    }
    assert set(ENTRY_POINTS) == set(TxType)
    for kind, name in ENTRY_POINTS.items():
        inputs = [i["type"] for i in functions[name]["inputs"]]
        assert inputs == ["uint16", "string", "bytes", "bytes32", "address[]", "bytes[]"], kind


def test_every_contract_error_and_event_is_known_to_the_adapter() -> None:
    abi = artifact()["abi"]
    errors = {
        f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"
        for e in abi
        if e["type"] == "error"
    }
    assert errors <= set(CUSTOM_ERROR_SIGNATURES)
    (event,) = [e for e in abi if e["type"] == "event"]
    from eth_utils import keccak

    signature = f"{event['name']}({','.join(i['type'] for i in event['inputs'])})"
    assert keccak(signature.encode()) == RECORDED_TOPIC
