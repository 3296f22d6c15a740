"""Self-contained inclusion proofs: one record of a report (or one item of a match run),
the ledger entry that commits to it, and the check anyone can run without the server."""

from __future__ import annotations

import json
from typing import Any

from .canonical import canonical_json
from .merkle import MerkleProof, merkle_proof, verify_proof

__all__ = ["build_proof_document", "check_proof_document"]


def build_proof_document(
    leaves: list[bytes], index: int, *, entry: dict[str, Any], subject: dict[str, Any]
) -> dict[str, Any]:
    """The JSON document of a proof that ``leaves[index]`` is under ``entry['merkleRoot']``."""
    proof = merkle_proof(leaves, index)
    return {
        "@type": "MerkleInclusionProof",
        "subject": subject,
        "leaf": leaves[index].decode(),
        "leafIndex": proof.index,
        "leafCount": proof.leaf_count,
        "siblings": [
            {"position": "left" if left else "right", "hash": h.hex()} for left, h in proof.siblings
        ],
        "merkleRoot": entry["merkleRoot"],
        "entry": {"seq": entry["seq"], "type": entry["type"], "entryHash": entry["entryHash"]},
    }


def check_proof_document(document: Any) -> tuple[bool, str]:
    """(ok, reason). The leaf must be canonical JSON and hash up to the stated root; whether
    that root is on the ledger is the entry's business (its hash is in the document)."""
    try:
        leaf = document["leaf"].encode()
        record = json.loads(leaf)
        if canonical_json(record) != leaf:
            return False, "the leaf is not in canonical form"
        proof = MerkleProof(
            index=int(document["leafIndex"]),
            leaf_count=int(document["leafCount"]),
            siblings=tuple(
                (s["position"] == "left", bytes.fromhex(s["hash"])) for s in document["siblings"]
            ),
        )
        root = bytes.fromhex(document["merkleRoot"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return False, f"not a proof document: {exc}"
    if not verify_proof(leaf, proof, root):
        return False, "the leaf does not hash up to the Merkle root"
    return True, (
        f"leaf {proof.index} of {proof.leaf_count} is under root "
        f"{document['merkleRoot']} (ledger entry {document['entry']['seq']})"
    )
