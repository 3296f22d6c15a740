"""The ledger domain: transactions, canonical encoding, Merkle proofs, EIP-712 endorsement,
endorsement policy, verification and the LedgerAdapter port (no I/O here).

`eip712.verify` is exported as `verify_signature`: `panther.ledger.verify` is the module.
"""

from panther.ledger.canonical import canonical_json, payload_hash, sha256
from panther.ledger.eip712 import (
    LedgerDomain,
    address_of,
    digest,
    endorse,
    new_key,
    recover,
    sign,
)
from panther.ledger.eip712 import verify as verify_signature
from panther.ledger.errors import (
    ChainBroken,
    ConflictError,
    EntryNotFound,
    InvalidSignature,
    InvalidTransaction,
    LedgerError,
    LedgerMisconfigured,
    LedgerUnavailable,
    MalleableSignature,
    PolicyViolation,
    UnknownParty,
)
from panther.ledger.memory import InMemoryLedger
from panther.ledger.merkle import MerkleProof, leaf_hash, merkle_proof, merkle_root, verify_proof
from panther.ledger.policy import LedgerRegistry, PartyRegistry, authorize, check_policy
from panther.ledger.port import LedgerAdapter
from panther.ledger.transactions import GENESIS_PREV_HASH, LedgerEntry, Transaction, TxType
from panther.ledger.verify import (
    VerificationFailure,
    VerificationReport,
    verify_adapter,
    verify_ledger,
)

__all__ = [
    "GENESIS_PREV_HASH",
    "ChainBroken",
    "ConflictError",
    "EntryNotFound",
    "InMemoryLedger",
    "InvalidSignature",
    "InvalidTransaction",
    "LedgerAdapter",
    "LedgerDomain",
    "LedgerEntry",
    "LedgerError",
    "LedgerRegistry",
    "LedgerMisconfigured",
    "LedgerUnavailable",
    "MalleableSignature",
    "MerkleProof",
    "PartyRegistry",
    "PolicyViolation",
    "Transaction",
    "TxType",
    "UnknownParty",
    "VerificationFailure",
    "VerificationReport",
    "address_of",
    "authorize",
    "canonical_json",
    "check_policy",
    "digest",
    "endorse",
    "leaf_hash",
    "merkle_proof",
    "merkle_root",
    "new_key",
    "payload_hash",
    "recover",
    "sha256",
    "sign",
    "verify_adapter",
    "verify_ledger",
    "verify_proof",
    "verify_signature",
]
