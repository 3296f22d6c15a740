"""EIP-712 endorsement of ledger transactions with secp256k1 (coincurve), verifiable by ecrecover.

The digest is computed once per transaction and domain; signing and recovery work on that
hash directly, which is what makes thousands of endorsements per second possible.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from coincurve import PrivateKey, PublicKey
from eth_utils.crypto import keccak

from panther.ledger.errors import InvalidSignature, LedgerError, MalleableSignature
from panther.ledger.transactions import Transaction

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "EIP712_DOMAIN_TYPE",
    "PANTHER_TRANSACTION_TYPE",
    "LedgerDomain",
    "address_of",
    "chained_entry_hash",
    "digest",
    "iso_seconds",
    "endorse",
    "new_key",
    "recover",
    "recover_all",
    "sign",
    "to_checksum",
    "typed_data",
    "verify",
]

DOMAIN_NAME = "StonePanther"
DOMAIN_VERSION = "1"
EIP712_DOMAIN_TYPE = (
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
PANTHER_TRANSACTION_TYPE = (
    "PantherTransaction(string txType,uint16 version,bytes32 relation,bytes32 payloadHash,"
    "bytes32 merkleRoot)"
)
_DOMAIN_TYPEHASH = keccak(EIP712_DOMAIN_TYPE.encode())
_TX_TYPEHASH = keccak(PANTHER_TRANSACTION_TYPE.encode())
_ZERO32 = bytes(32)
# secp256k1 group order; EIP-2 accepts only s <= n/2 so a signature has one valid form.
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = _SECP256K1_N // 2


@dataclass(frozen=True, slots=True)
class LedgerDomain:
    """The EIP-712 domain; the embedded ledger's default imitates a local dev chain."""

    chain_id: int = 1337
    verifying_contract: str = "0x0000000000000000000000000000000000000000"
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    @property
    def separator(self) -> bytes:
        return _domain_separator(self)


@lru_cache(maxsize=64)
def _domain_separator(domain: LedgerDomain) -> bytes:
    contract = bytes.fromhex(domain.verifying_contract.removeprefix("0x"))
    if len(contract) != 20:
        raise ValueError("verifying contract must be a 20-byte address")
    return keccak(
        _DOMAIN_TYPEHASH
        + keccak(domain.name.encode())
        + keccak(domain.version.encode())
        + domain.chain_id.to_bytes(32, "big")
        + contract.rjust(32, b"\0")
    )


def _relation_word(relation: str | None) -> bytes:
    return keccak(relation.encode()) if relation is not None else _ZERO32


def digest(domain: LedgerDomain, tx: Transaction) -> bytes:
    """The 32-byte EIP-712 digest both the signers and `ecrecover` see."""
    struct_hash = keccak(
        _TX_TYPEHASH
        + keccak(tx.type.value.encode())
        + tx.version.to_bytes(32, "big")
        + _relation_word(tx.relation)
        + tx.payload_hash
        + (tx.merkle_root if tx.merkle_root is not None else _ZERO32)
    )
    return keccak(b"\x19\x01" + domain.separator + struct_hash)


def typed_data(domain: LedgerDomain, tx: Transaction) -> dict[str, object]:
    """The full EIP-712 message (for wallets and `eth_account.messages.encode_typed_data`)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "PantherTransaction": [
                {"name": "txType", "type": "string"},
                {"name": "version", "type": "uint16"},
                {"name": "relation", "type": "bytes32"},
                {"name": "payloadHash", "type": "bytes32"},
                {"name": "merkleRoot", "type": "bytes32"},
            ],
        },
        "primaryType": "PantherTransaction",
        "domain": {
            "name": domain.name,
            "version": domain.version,
            "chainId": domain.chain_id,
            "verifyingContract": domain.verifying_contract,
        },
        "message": {
            "txType": tx.type.value,
            "version": tx.version,
            "relation": _relation_word(tx.relation),
            "payloadHash": tx.payload_hash,
            "merkleRoot": tx.merkle_root if tx.merkle_root is not None else _ZERO32,
        },
    }


def to_checksum(address20: bytes) -> str:
    """EIP-55 checksum spelling of a 20-byte address."""
    lower = address20.hex()
    hashed = keccak(lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if h in "89abcdef" else c for c, h in zip(lower, hashed, strict=False)
    )


def address_of(private_key: bytes) -> str:
    """Checksum address of a 32-byte private key."""
    public = PrivateKey(private_key).public_key.format(compressed=False)
    return to_checksum(keccak(public[1:])[-20:])


def new_key() -> tuple[bytes, str]:
    """A fresh random signing key and its checksum address."""
    secret = PrivateKey(os.urandom(32)).secret
    return secret, address_of(secret)


def sign(domain: LedgerDomain, tx: Transaction, private_key: bytes) -> bytes:
    """65-byte r||s||v signature (v = 27/28, low s) over the transaction's digest."""
    raw = PrivateKey(private_key).sign_recoverable(digest(domain, tx), hasher=None)
    return raw[:64] + bytes([raw[64] + 27])


def endorse(domain: LedgerDomain, tx: Transaction, private_key: bytes) -> Transaction:
    """`tx` with one more signer (the key's address) and its signature."""
    return tx.with_signature(address_of(private_key), sign(domain, tx, private_key))


def _recover_digest(msg_hash: bytes, signature: bytes, tx_type: str) -> str:
    if not isinstance(signature, bytes) or len(signature) != 65:
        raise InvalidSignature(tx_type, None, "signature must be 65 bytes")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise InvalidSignature(tx_type, None, f"v must be 27 or 28, got {v}")
    if not (0 < r < _SECP256K1_N and 0 < s < _SECP256K1_N):
        raise InvalidSignature(tx_type, None, "r or s out of range")
    if s > _HALF_N:
        raise MalleableSignature(tx_type, None, "high-s signature (EIP-2)")
    try:
        public = PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), msg_hash, hasher=None
        )
    except Exception as exc:  # coincurve raises plain Exception/ValueError on bad points
        raise InvalidSignature(tx_type, None, "signature does not recover") from exc
    return to_checksum(keccak(public.format(compressed=False)[1:])[-20:])


def recover(domain: LedgerDomain, tx: Transaction, signature: bytes) -> str:
    """The checksum address that signed `tx`; raises InvalidSignature / MalleableSignature."""
    return _recover_digest(digest(domain, tx), signature, tx.type.value)


def verify(domain: LedgerDomain, tx: Transaction, signature: bytes, address: str) -> bool:
    """True if `signature` is `address`'s low-s signature over `tx`. Never raises."""
    try:
        return recover(domain, tx, signature).lower() == address.lower()
    except (LedgerError, Exception):  # noqa: BLE001 - a check answers False on any garbage
        return False


def recover_all(domain: LedgerDomain, tx: Transaction) -> tuple[str, ...]:
    """Recover every signature of `tx` against its digest (computed once)."""
    msg_hash = digest(domain, tx)
    return tuple(_recover_digest(msg_hash, sig, tx.type.value) for sig in tx.signatures)


def chained_entry_hash(
    domain: LedgerDomain, seq: int, tx: Transaction, prev_hash: bytes, recorded_at: str
) -> bytes:
    """The entry hash the on-chain ledger contract chains: keccak256(prevHash || seq ||
    EIP-712 digest || keccak256(signatures concatenated) || uint64 block time). The time is
    the block's, in whole seconds; `recorded_at` must spell exactly that second."""
    when = datetime.strptime(recorded_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    seconds = int(when.timestamp())
    if when.microsecond or iso_seconds(seconds) != recorded_at:
        raise ValueError(f"{recorded_at!r} is not a block time")
    return keccak(
        prev_hash
        + seq.to_bytes(32, "big")
        + digest(domain, tx)
        + keccak(b"".join(tx.signatures))
        + seconds.to_bytes(8, "big")
    )


def iso_seconds(seconds: int) -> str:
    """A block time (Unix seconds) as the ledger spells times: ISO-8601 UTC, microseconds, Z."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
