"""The contract reads registry facts (party id, address, role; relation id and parties) from
the signed canonical JSON itself, so a payload cannot smuggle a different party into the
registry than the one it names at its top level."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak

from panther.adapters.evm.contract import view_call
from panther.ledger import InvalidTransaction, PolicyViolation, TxType
from panther.ledger.testing import Actor, signed


def _party_address(ledger: Any, party_id: str) -> str:
    data = view_call("partyAddress(bytes32)", ("bytes32",), (keccak(party_id.encode()),))

    async def call() -> bytes:
        result = await ledger.core.rpc.call(
            "eth_call", [{"to": ledger.contract, "data": "0x" + data.hex()}, "latest"]
        )
        return bytes.fromhex(result[2:])

    return "0x" + ledger._run(call())[-20:].hex()


def _register(ledger: Any, op: Actor, payload: dict[str, Any]) -> None:
    ledger.append(signed(ledger.domain, TxType.PartyRegistered, payload, op))


@pytest.fixture
def chain(evm_ledger: Any) -> tuple[Any, Actor]:
    op = Actor.new("operator")
    _register(
        evm_ledger,
        op,
        {"partyId": "operator", "address": op.address, "name": "Op", "role": "operator"},
    )
    return evm_ledger, op


def test_nested_and_quoted_look_alikes_are_not_read(chain: tuple[Any, Actor]) -> None:
    ledger, op = chain
    carrier, decoy = Actor.new("colt"), Actor.new("decoy")
    payload = {
        "address": carrier.address,
        # Sorted before the real key, at depth 2 and inside a string: both must be skipped.
        "meta": {"partyId": "decoy", "address": decoy.address, "role": "operator"},
        "name": '","partyId":"decoy","x":"',
        "partyId": "colt",
        "role": "carrier",
    }
    _register(ledger, op, payload)
    assert _party_address(ledger, "colt").lower() == carrier.address.lower()
    assert int(_party_address(ledger, "decoy"), 16) == 0


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (
            {"address": "0x1234", "name": "n", "partyId": "p1", "role": "carrier"},
            InvalidTransaction,
        ),
        (
            {"address": "0x" + "g" * 40, "name": "n", "partyId": "p2", "role": "carrier"},
            InvalidTransaction,
        ),
        ({"name": "n", "partyId": "p3", "role": "carrier"}, InvalidTransaction),
        ({"address": None, "name": "n", "partyId": "p4", "role": "carrier"}, InvalidTransaction),
        ({"address": "A", "name": "n", "partyId": "p5", "role": "admin"}, InvalidTransaction),
        ({"address": "A", "name": "n", "partyId": "p6", "role": "operator"}, PolicyViolation),
    ],
    ids=[
        "short-address",
        "not-hex",
        "no-address",
        "address-not-a-string",
        "bad-role",
        "second-operator",
    ],
)
def test_malformed_registrations_revert_with_the_ledger_error(
    chain: tuple[Any, Actor], payload: dict[str, Any], error: type
) -> None:
    ledger, op = chain
    if payload.get("address") == "A":
        payload = {**payload, "address": Actor.new("x").address}
    before = ledger.count()
    with pytest.raises(error):
        _register(ledger, op, payload)
    assert ledger.count() == before
