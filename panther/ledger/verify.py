"""Independent verification of a ledger: every hash, link, signature, policy and Merkle root.

It reports the first broken entry precisely and never raises, whatever it is fed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, TypeGuard

from panther.ledger.eip712 import LedgerDomain
from panther.ledger.errors import ChainBroken, InvalidSignature, LedgerError
from panther.ledger.policy import LedgerRegistry, check_policy, check_signatures
from panther.ledger.port import LedgerAdapter
from panther.ledger.transactions import (
    GENESIS_PREV_HASH,
    LedgerEntry,
    Transaction,
    compute_entry_hash,
)

EntryHasher = Callable[[int, Transaction, bytes, str], bytes]

__all__ = [
    "FailureKind",
    "VerificationFailure",
    "VerificationReport",
    "verify_adapter",
    "verify_ledger",
]

FailureKind = Literal["hash", "link", "signature", "policy", "merkle", "payload"]
_KINDS = frozenset({"hash", "link", "signature", "policy", "merkle", "payload"})


def _is_failure_kind(kind: str) -> TypeGuard[FailureKind]:
    return kind in _KINDS


@dataclass(frozen=True, slots=True)
class VerificationFailure:
    seq: int
    kind: FailureKind
    detail: str


@dataclass(frozen=True, slots=True)
class VerificationReport:
    ok: bool
    entries_checked: int
    first_failure: VerificationFailure | None


def _check_entry(
    entry: LedgerEntry,
    expected_seq: int,
    prev_hash: bytes,
    domain: LedgerDomain,
    registry: LedgerRegistry,
    recompute_root: Callable[[LedgerEntry], bytes | None] | None,
    entry_hasher: EntryHasher,
) -> VerificationFailure | None:
    if not isinstance(entry, LedgerEntry):
        return VerificationFailure(expected_seq, "payload", "not a ledger entry")
    if entry.seq != expected_seq:
        return VerificationFailure(
            expected_seq, "link", f"expected seq {expected_seq}, found {entry.seq!r}"
        )
    if entry.prev_hash != prev_hash:
        return VerificationFailure(expected_seq, "link", "prev hash does not match the chain")
    tx = entry.tx
    try:
        recomputed = entry_hasher(entry.seq, tx, entry.prev_hash, entry.recorded_at)
    except Exception as exc:  # noqa: BLE001 - a non-JSON payload cannot be hashed
        return VerificationFailure(expected_seq, "payload", f"cannot hash payload: {exc!r}")
    if recomputed != entry.entry_hash:
        return VerificationFailure(expected_seq, "hash", "entry hash does not match its content")
    try:
        check_signatures(domain, tx)
    except InvalidSignature as exc:
        return VerificationFailure(expected_seq, "signature", repr(exc))
    try:
        check_policy(tx, registry)
    except LedgerError as exc:
        return VerificationFailure(expected_seq, "policy", repr(exc))
    if recompute_root is not None:
        root = recompute_root(entry)
        if root is not None and root != tx.merkle_root:
            return VerificationFailure(expected_seq, "merkle", "Merkle root does not match data")
    registry.apply(tx)
    return None


def verify_ledger(
    entries: Iterable[LedgerEntry],
    domain: LedgerDomain,
    *,
    recompute_root: Callable[[LedgerEntry], bytes | None] | None = None,
    entry_hasher: EntryHasher = compute_entry_hash,
) -> VerificationReport:
    """Walk the chain from seq 0 and stop at the first entry that does not check out.

    `entries` may raise ChainBroken while iterating (an adapter that cannot even decode a
    stored row); that is reported as the failure at that seq. `recompute_root` returns the
    Merkle root recomputed from stored data for an entry, or None when it has none to check.
    `entry_hasher` is how the ledger chains entries (`LedgerAdapter.hash_entry`): the SQL
    ledgers hash canonical JSON with SHA-256, the contract hashes with keccak256.
    """
    registry = LedgerRegistry()
    prev_hash = GENESIS_PREV_HASH
    checked = 0
    try:
        iterator = iter(entries)
        while True:
            try:
                entry = next(iterator)
            except StopIteration:
                break
            except ChainBroken as exc:
                kind: FailureKind = exc.kind if _is_failure_kind(exc.kind) else "payload"
                return VerificationReport(
                    False, checked, VerificationFailure(exc.seq, kind, exc.detail)
                )
            failure = _check_entry(
                entry, checked, prev_hash, domain, registry, recompute_root, entry_hasher
            )
            if failure is not None:
                return VerificationReport(False, checked, failure)
            prev_hash = entry.entry_hash
            checked += 1
    except Exception as exc:  # noqa: BLE001 - verification reports, it never raises
        return VerificationReport(
            False, checked, VerificationFailure(checked, "payload", f"unreadable entry: {exc!r}")
        )
    return VerificationReport(True, checked, None)


def verify_adapter(
    ledger: LedgerAdapter,
    *,
    recompute_root: Callable[[LedgerEntry], bytes | None] | None = None,
) -> VerificationReport:
    """`verify_ledger` over everything an adapter holds, with the adapter's entry hashing."""
    try:
        entries = ledger.iterate(0)
    except Exception as exc:  # noqa: BLE001 - verification reports, it never raises
        return VerificationReport(
            False, 0, VerificationFailure(0, "payload", f"cannot read the ledger: {exc!r}")
        )
    return verify_ledger(
        entries, ledger.domain, recompute_root=recompute_root, entry_hasher=ledger.hash_entry
    )
