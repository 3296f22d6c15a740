"""Ledger transactions and hash-chained entries: what is signed, what is stored, how it hashes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from panther.ledger.canonical import canonical_json, payload_hash, sha256
from panther.ledger.errors import InvalidTransaction

__all__ = [
    "GENESIS_PREV_HASH",
    "LedgerEntry",
    "Transaction",
    "TxType",
    "compute_entry_hash",
    "entry_party",
    "make_entry",
    "utc_now_iso",
]

GENESIS_PREV_HASH = bytes(32)
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")


class TxType(StrEnum):
    PartyRegistered = "PartyRegistered"
    RelationAgreed = "RelationAgreed"
    InventoryReported = "InventoryReported"
    MatchRecorded = "MatchRecorded"
    MatchEndorsed = "MatchEndorsed"
    ReviewActionTaken = "ReviewActionTaken"
    DisputeOpened = "DisputeOpened"
    DisputeResolved = "DisputeResolved"
    StatementIssued = "StatementIssued"
    StatementAgreed = "StatementAgreed"
    PaymentSettled = "PaymentSettled"
    NettingCertified = "NettingCertified"
    # Appended after the first twelve: the EVM contract's enum has this order.
    ReviewAgreed = "ReviewAgreed"
    DisputeStatusChanged = "DisputeStatusChanged"


@dataclass(frozen=True)
class Transaction:
    """One fact for the ledger. `payload` must be a JSON object and must not be mutated.

    `signers` (checksum addresses) and `signatures` (65-byte r||s||v EIP-712 signatures) are
    parallel tuples; a transaction is built unsigned and endorsed with `eip712.endorse`.
    """

    type: TxType
    version: int
    relation: str | None
    payload: Mapping[str, Any]
    merkle_root: bytes | None = None
    signers: tuple[str, ...] = ()
    signatures: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        try:
            tx_type = TxType(self.type)
        except ValueError:
            raise InvalidTransaction(str(self.type), "unknown transaction type") from None
        object.__setattr__(self, "type", tx_type)
        name = tx_type.value
        if type(self.version) is not int or not 0 <= self.version <= 0xFFFF:
            raise InvalidTransaction(name, "version must be an integer in uint16 range")
        if self.relation is not None and (not isinstance(self.relation, str) or not self.relation):
            raise InvalidTransaction(name, "relation must be a non-empty string or None")
        if not isinstance(self.payload, Mapping):
            raise InvalidTransaction(name, "payload must be a JSON object")
        if self.merkle_root is not None and (
            not isinstance(self.merkle_root, bytes) or len(self.merkle_root) != 32
        ):
            raise InvalidTransaction(name, "merkle root must be 32 bytes or None")
        object.__setattr__(self, "signers", tuple(self.signers))
        object.__setattr__(self, "signatures", tuple(self.signatures))
        if len(self.signers) != len(self.signatures):
            raise InvalidTransaction(name, "signers and signatures differ in number")
        for signer in self.signers:
            if not isinstance(signer, str) or not _ADDRESS.match(signer):
                raise InvalidTransaction(name, f"signer {signer!r} is not an address")
        for signature in self.signatures:
            if not isinstance(signature, bytes):
                raise InvalidTransaction(name, "signatures must be bytes")

    @cached_property
    def payload_hash(self) -> bytes:
        """SHA-256 of the canonical JSON payload (raises if the payload is not JSON)."""
        return payload_hash(
            dict(self.payload) if not isinstance(self.payload, dict) else self.payload
        )

    def unsigned(self) -> Transaction:
        """The same transaction without signers and signatures."""
        return replace(self, signers=(), signatures=())

    def with_signature(self, signer: str, signature: bytes) -> Transaction:
        """A copy with one more endorsement."""
        return replace(
            self, signers=(*self.signers, signer), signatures=(*self.signatures, signature)
        )


@dataclass(frozen=True)
class LedgerEntry:
    """A transaction at its position in the chain."""

    seq: int
    tx: Transaction
    prev_hash: bytes
    entry_hash: bytes
    recorded_at: str = field(default="")


def entry_party(tx: Transaction) -> str | None:
    """The party an entry of no relation is of: the one a PartyRegistered registers."""
    if tx.relation is None and tx.type == TxType.PartyRegistered:
        party = tx.payload.get("partyId")
        return party if isinstance(party, str) else None
    return None


def utc_now_iso() -> str:
    """Current time as ISO-8601 UTC with microseconds and a Z suffix."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_entry_hash(seq: int, tx: Transaction, prev_hash: bytes, recorded_at: str) -> bytes:
    """SHA-256 of the canonical JSON of everything an entry commits to."""
    header = {
        "seq": seq,
        "prevHash": prev_hash.hex(),
        "recordedAt": recorded_at,
        "txType": tx.type.value,
        "txVersion": tx.version,
        "relation": tx.relation,
        "payloadHash": tx.payload_hash.hex(),
        "merkleRoot": tx.merkle_root.hex() if tx.merkle_root is not None else None,
        "signers": list(tx.signers),
        "signatures": [s.hex() for s in tx.signatures],
    }
    return sha256(canonical_json(header))


def make_entry(
    seq: int, tx: Transaction, prev_hash: bytes, recorded_at: str | None = None
) -> LedgerEntry:
    """Chain `tx` after an entry whose hash is `prev_hash`."""
    at = recorded_at if recorded_at is not None else utc_now_iso()
    return LedgerEntry(
        seq=seq,
        tx=tx,
        prev_hash=prev_hash,
        entry_hash=compute_entry_hash(seq, tx, prev_hash, at),
        recorded_at=at,
    )
