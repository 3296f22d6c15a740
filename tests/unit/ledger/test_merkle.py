"""Merkle roots and inclusion proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panther.ledger.merkle import (
    EMPTY_ROOT,
    MerkleProof,
    leaf_hash,
    merkle_proof,
    merkle_root,
    verify_proof,
)


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_small_trees_by_hand() -> None:
    a, b, c = b"a", b"b", b"c"
    la, lb, lc = (_h(b"\x00" + x) for x in (a, b, c))
    assert merkle_root([]) == EMPTY_ROOT == _h(b"")
    assert merkle_root([a]) == la
    assert merkle_root([a, b]) == _h(b"\x01" + la + lb)
    # The odd node is promoted, not duplicated.
    assert merkle_root([a, b, c]) == _h(b"\x01" + _h(b"\x01" + la + lb) + lc)
    assert leaf_hash(a) == la


leaf_lists = st.lists(st.binary(max_size=40), min_size=1, max_size=70)


@settings(max_examples=150, deadline=None)
@given(leaf_lists, st.data())
def test_every_proof_verifies(leaves: list[bytes], data: st.DataObject) -> None:
    root = merkle_root(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = merkle_proof(leaves, index)
    assert verify_proof(leaves[index], proof, root)
    assert verify_proof(leaf_hash(leaves[index]), proof, root, is_leaf_hash=True)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=40), min_size=2, max_size=40), st.data())
def test_flipping_any_byte_fails(leaves: list[bytes], data: st.DataObject) -> None:
    root = merkle_root(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = merkle_proof(leaves, index)
    target = data.draw(st.sampled_from(["data", "root", "sibling"]))
    mask = data.draw(st.integers(1, 255))
    if target == "data":
        pos = data.draw(st.integers(0, len(leaves[index]) - 1))
        bad = bytearray(leaves[index])
        bad[pos] ^= mask
        assert not verify_proof(bytes(bad), proof, root)
    elif target == "root":
        pos = data.draw(st.integers(0, 31))
        bad = bytearray(root)
        bad[pos] ^= mask
        assert not verify_proof(leaves[index], proof, bytes(bad))
    else:
        k = data.draw(st.integers(0, len(proof.siblings) - 1))
        pos = data.draw(st.integers(0, 31))
        side, sib = proof.siblings[k]
        bad = bytearray(sib)
        bad[pos] ^= mask
        siblings = list(proof.siblings)
        siblings[k] = (side, bytes(bad))
        forged = MerkleProof(proof.index, proof.leaf_count, tuple(siblings))
        assert not verify_proof(leaves[index], forged, root)


def test_proof_cannot_move_to_another_position() -> None:
    leaves = [bytes([i]) for i in range(8)]
    root = merkle_root(leaves)
    proof = merkle_proof(leaves, 3)
    moved = MerkleProof(2, proof.leaf_count, proof.siblings)
    assert not verify_proof(leaves[3], moved, root)
    assert not verify_proof(leaves[2], moved, root)


@pytest.mark.parametrize(
    "proof",
    [
        MerkleProof(-1, 4, ()),
        MerkleProof(0, 0, ()),
        MerkleProof(0, 2, ((True, b"short"),)),
        MerkleProof(0, 2, "garbage"),  # type: ignore[arg-type]
        None,
    ],
)
def test_verify_never_raises(proof: MerkleProof) -> None:
    assert verify_proof(b"x", proof, bytes(32)) is False


def test_index_out_of_range() -> None:
    with pytest.raises(IndexError):
        merkle_proof([b"a"], 1)


def test_large_tree_is_fast() -> None:
    import time

    leaves = [i.to_bytes(8, "big") for i in range(200_000)]
    start = time.perf_counter()
    root = merkle_root(leaves)
    assert time.perf_counter() - start < 2.0
    assert verify_proof(leaves[123_457], merkle_proof(leaves, 123_457), root)
