"""The PantherLedger contract's ABI: call data per transaction kind, the Recorded event, and
revert data decoded into the ledger's own errors.

Pure functions over bytes; the JSON-RPC transport is in `rpc.py`, the adapter in `ledger.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from panther.ledger.eip712 import iso_seconds, to_checksum
from panther.ledger.errors import (
    InvalidSignature,
    InvalidTransaction,
    LedgerError,
    MalleableSignature,
    PolicyViolation,
    UnknownParty,
)
from panther.ledger.transactions import LedgerEntry, Transaction, TxType

__all__ = [
    "ARTIFACT_PATH",
    "ENTRY_POINTS",
    "RECORDED_TOPIC",
    "AlreadyRecorded",
    "RecordedEvent",
    "artifact",
    "call_data",
    "decode_recorded",
    "decode_revert",
    "entry_from_event",
    "view_call",
]

ARTIFACT_PATH = Path(__file__).with_name("PantherLedger.json")

# One entry point per transaction kind; all take the same arguments.
ENTRY_POINTS: dict[TxType, str] = {
    TxType.PartyRegistered: "registerParty",
    TxType.RelationAgreed: "agreeRelation",
    TxType.InventoryReported: "reportInventory",
    TxType.MatchRecorded: "recordMatch",
    TxType.MatchEndorsed: "endorseMatch",
    TxType.ReviewActionTaken: "takeReviewAction",
    TxType.DisputeOpened: "openDispute",
    TxType.DisputeResolved: "resolveDispute",
    TxType.StatementIssued: "issueStatement",
    TxType.StatementAgreed: "agreeStatement",
    TxType.PaymentSettled: "settlePayment",
    TxType.NettingCertified: "certifyNetting",
    TxType.ReviewAgreed: "agreeReview",
    TxType.DisputeStatusChanged: "changeDisputeStatus",
}
_KINDS = list(TxType)  # the contract's enum Kind has TxType's order
_ARGS = ("uint16", "string", "bytes", "bytes32", "address[]", "bytes[]")
_EVENT_ARGS = (
    "bytes32",  # entryHash
    "bytes32",  # prevHash
    "uint64",  # timestamp
    "uint16",  # version
    "string",  # relation
    "bytes",  # payload
    "bytes32",  # payloadHash
    "bytes32",  # merkleRoot
    "address[]",  # signers
    "bytes[]",  # signatures
)
RECORDED_TOPIC = keccak(
    b"Recorded(uint256,uint8,bytes32,bytes32,bytes32,uint64,uint16,string,bytes,bytes32,"
    b"bytes32,address[],bytes[])"
)


@cache
def artifact() -> dict[str, Any]:
    """The committed compilation artifact (ABI and creation bytecode)."""
    loaded: dict[str, Any] = json.loads(ARTIFACT_PATH.read_text())
    return loaded


def _selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


def call_data(tx: Transaction, payload_bytes: bytes) -> bytes:
    """Call data for the entry point of `tx`'s kind (`payload_bytes`: its canonical JSON)."""
    name = ENTRY_POINTS[tx.type]
    args = (
        tx.version,
        tx.relation or "",
        payload_bytes,
        tx.merkle_root or bytes(32),
        list(tx.signers),
        list(tx.signatures),
    )
    return _selector(f"{name}({','.join(_ARGS)})") + abi_encode(list(_ARGS), list(args))


def view_call(signature: str, types: tuple[str, ...] = (), values: tuple[Any, ...] = ()) -> bytes:
    """Call data for a view function, e.g. view_call("count()")."""
    return _selector(signature) + (abi_encode(list(types), list(values)) if types else b"")


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    seq: int
    kind: TxType
    entry_hash: bytes
    prev_hash: bytes
    timestamp: int
    version: int
    relation: str | None
    payload: bytes
    payload_hash: bytes
    merkle_root: bytes | None
    signers: tuple[str, ...]
    signatures: tuple[bytes, ...]
    block_number: int
    tx_hash: str


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def decode_recorded(log: dict[str, Any]) -> RecordedEvent:
    """A `Recorded` log (as eth_getLogs / a receipt returns it) decoded."""
    topics = [_hex_bytes(t) for t in log["topics"]]
    if len(topics) != 4 or topics[0] != RECORDED_TOPIC:
        raise ValueError("not a Recorded event")
    values = abi_decode(list(_EVENT_ARGS), _hex_bytes(log["data"]))
    (entry_hash, prev_hash, ts, version, relation, payload, p_hash, root, signers, sigs) = values
    kind_index = int.from_bytes(topics[2], "big")
    if kind_index >= len(_KINDS):
        raise ValueError(f"unknown kind {kind_index}")
    return RecordedEvent(
        seq=int.from_bytes(topics[1], "big"),
        kind=_KINDS[kind_index],
        entry_hash=entry_hash,
        prev_hash=prev_hash,
        timestamp=ts,
        version=version,
        relation=relation or None,
        payload=payload,
        payload_hash=p_hash,
        merkle_root=None if root == bytes(32) else root,
        signers=tuple(to_checksum(_hex_bytes(a)) for a in signers),
        signatures=tuple(sigs),
        block_number=int(log["blockNumber"], 16),
        tx_hash=log["transactionHash"],
    )


def entry_from_event(event: RecordedEvent) -> LedgerEntry:
    """The LedgerEntry an event records; `recorded_at` is the block's time."""
    payload = json.loads(event.payload)
    tx = Transaction(
        type=event.kind,
        version=event.version,
        relation=event.relation,
        payload=payload,
        merkle_root=event.merkle_root,
        signers=event.signers,
        signatures=event.signatures,
    )
    return LedgerEntry(
        seq=event.seq,
        tx=tx,
        prev_hash=event.prev_hash,
        entry_hash=event.entry_hash,
        recorded_at=iso_seconds(event.timestamp),
    )


@dataclass(eq=False)
class AlreadyRecorded(LedgerError):
    """The same endorsed transaction is on the chain already, at `seq` (not an error for
    a retry: the adapter answers with the recorded entry)."""

    seq: int


# Every custom error of the contract, by selector, with how it becomes a ledger error.
# A custom error's ABI argument types and how to build the ledger error from its decoded values.
_ErrorSpec: TypeAlias = tuple[tuple[str, ...], Callable[[str, tuple[Any, ...]], LedgerError]]

_CUSTOM_ERRORS: dict[str, _ErrorSpec] = {
    "InvalidTransaction(string)": (
        ("string",),
        lambda kind, a: InvalidTransaction(kind, a[0]),
    ),
    "InvalidSignature(uint256,string)": (
        ("uint256", "string"),
        lambda kind, a: InvalidSignature(kind, None, f"signature {a[0]}: {a[1]}"),
    ),
    "MalleableSignature(uint256)": (
        ("uint256",),
        lambda kind, a: MalleableSignature(kind, None, f"signature {a[0]}: high-s (EIP-2)"),
    ),
    "PolicyViolation(string)": (
        ("string",),
        lambda kind, a: PolicyViolation(kind, (), (), a[0]),
    ),
    "UnknownParty(string)": (
        ("string",),
        lambda kind, a: UnknownParty(a[0], "unknown on chain"),
    ),
    "AlreadyRecorded(uint256)": (("uint256",), lambda kind, a: AlreadyRecorded(a[0])),
    # Solidity's built-in reverts.
    "Error(string)": (("string",), lambda kind, a: InvalidTransaction(kind, a[0])),
    "Panic(uint256)": (
        ("uint256",),
        lambda kind, a: InvalidTransaction(kind, f"contract panic 0x{a[0]:x}"),
    ),
}
CUSTOM_ERROR_SIGNATURES = tuple(_CUSTOM_ERRORS)
_BY_SELECTOR = {_selector(sig): spec for sig, spec in _CUSTOM_ERRORS.items()}


def decode_revert(data: bytes, tx_type: str) -> LedgerError:
    """The ledger error a contract revert means; undecodable data is an InvalidTransaction
    (the contract refused, we cannot tell why) rather than a crash."""
    spec = _BY_SELECTOR.get(data[:4])
    if spec is None:
        detail = "reverted without a reason" if not data else f"unknown revert 0x{data.hex()}"
        return InvalidTransaction(tx_type, detail)
    types, build = spec
    try:
        args = abi_decode(list(types), data[4:])
    except Exception:  # noqa: BLE001 - malformed revert data from a foreign node
        return InvalidTransaction(tx_type, f"malformed revert 0x{data.hex()}")
    return build(tx_type, args)
