"""Merkle trees over canonical records: one root commits to a whole report, a proof shows one row.

Leaves are `sha256(0x00 || data)`, inner nodes `sha256(0x01 || left || right)` (the domain
separation of RFC 6962, so a leaf can never pass for a node); an odd node at the end of a level
is promoted unchanged; the empty tree's root is `sha256(b"")`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "EMPTY_ROOT",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "MerkleProof",
    "leaf_hash",
    "merkle_proof",
    "merkle_root",
    "verify_proof",
]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


@dataclass(frozen=True, slots=True)
class MerkleProof:
    """Inclusion proof: the sibling hashes from the leaf up, each flagged if it is on the left."""

    index: int
    leaf_count: int
    siblings: tuple[tuple[bool, bytes], ...]


def leaf_hash(data: bytes) -> bytes:
    """The leaf hash of one record's bytes."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def _next_level(level: list[bytes]) -> list[bytes]:
    sha = hashlib.sha256
    nxt = [sha(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        nxt.append(level[-1])
    return nxt


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Root over the records `leaves` (raw bytes; they are leaf-hashed here)."""
    if not leaves:
        return EMPTY_ROOT
    sha = hashlib.sha256
    level = [sha(LEAF_PREFIX + d).digest() for d in leaves]
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def merkle_proof(leaves: Sequence[bytes], index: int) -> MerkleProof:
    """Proof that `leaves[index]` is in the tree; raises IndexError for an index out of range."""
    count = len(leaves)
    if not 0 <= index < count:
        raise IndexError(f"leaf index {index} out of range for {count} leaves")
    sha = hashlib.sha256
    level = [sha(LEAF_PREFIX + d).digest() for d in leaves]
    siblings: list[tuple[bool, bytes]] = []
    i = index
    while len(level) > 1:
        sibling = i ^ 1
        if sibling < len(level):
            siblings.append((sibling < i, level[sibling]))
        # else: the node is promoted, no sibling at this level
        level = _next_level(level)
        i //= 2
    return MerkleProof(index=index, leaf_count=count, siblings=tuple(siblings))


def _expected_path(index: int, leaf_count: int) -> list[bool] | None:
    """The sibling sides (True = left) a valid proof for this position must have."""
    if not 0 <= index < leaf_count:
        return None
    sides: list[bool] = []
    i, n = index, leaf_count
    while n > 1:
        sibling = i ^ 1
        if sibling < n:
            sides.append(sibling < i)
        i //= 2
        n = (n + 1) // 2
    return sides


def verify_proof(
    data_or_leafhash: bytes, proof: MerkleProof, root: bytes, *, is_leaf_hash: bool = False
) -> bool:
    """True if the record (or, with `is_leaf_hash`, its leaf hash) is in the tree of `root`.

    The proof's shape is checked against its index and leaf count, so a proof cannot be
    replayed for another position. Never raises.
    """
    try:
        expected = _expected_path(proof.index, proof.leaf_count)
        if expected is None or len(expected) != len(proof.siblings):
            return False
        node = data_or_leafhash if is_leaf_hash else leaf_hash(data_or_leafhash)
        if len(node) != 32:
            return False
        sha = hashlib.sha256
        for side, (is_left, sibling) in zip(expected, proof.siblings, strict=True):
            if is_left is not side or len(sibling) != 32:
                return False
            node = (
                sha(NODE_PREFIX + sibling + node).digest()
                if is_left
                else sha(NODE_PREFIX + node + sibling).digest()
            )
        return node == root
    except Exception:  # noqa: BLE001 - a checking operation answers False on any garbage
        return False
