"""The ledger's exceptions: dataclasses that carry what went wrong, so callers never parse text.

LedgerError
├── InvalidTransaction      malformed transaction (bad field, bad payload, bad root)
├── InvalidSignature        a signature that does not recover, or recovers to someone else
│   └── MalleableSignature  a high-s signature (EIP-2: only low-s is accepted)
├── PolicyViolation         the endorsement policy of the transaction type is not met
├── UnknownParty            a party or relation the registry does not know
├── ChainBroken             stored entries whose hashes or links do not check out
├── EntryNotFound           no entry at that sequence number
├── ConflictError           another writer appended first (retry)
├── LedgerUnavailable       the backing store cannot be reached
└── LedgerMisconfigured     the backing store is not the one configured (chain id, contract)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ChainBroken",
    "ConflictError",
    "EntryNotFound",
    "InvalidSignature",
    "InvalidTransaction",
    "LedgerError",
    "LedgerMisconfigured",
    "LedgerUnavailable",
    "MalleableSignature",
    "PolicyViolation",
    "UnknownParty",
]


@dataclass(eq=False)
class LedgerError(Exception):
    """Base of every ledger error."""

    def __str__(self) -> str:
        return repr(self)


@dataclass(eq=False)
class InvalidTransaction(LedgerError):
    tx_type: str
    detail: str


@dataclass(eq=False)
class InvalidSignature(LedgerError):
    tx_type: str
    signer: str | None
    detail: str


@dataclass(eq=False)
class MalleableSignature(InvalidSignature):
    pass


@dataclass(eq=False)
class PolicyViolation(LedgerError):
    tx_type: str
    required: tuple[str, ...]
    got: tuple[str, ...]
    detail: str = ""


@dataclass(eq=False)
class UnknownParty(LedgerError):
    identifier: str
    detail: str = ""


@dataclass(eq=False)
class ChainBroken(LedgerError):
    seq: int
    kind: str
    detail: str


@dataclass(eq=False)
class EntryNotFound(LedgerError):
    seq: int


@dataclass(eq=False)
class ConflictError(LedgerError):
    seq: int
    detail: str = ""


@dataclass(eq=False)
class LedgerUnavailable(LedgerError):
    detail: str


@dataclass(eq=False)
class LedgerMisconfigured(LedgerError):
    detail: str
