"""Self-contained inclusion proofs: one record of a report (or one item of a match run), the
signed ledger entry that commits to its Merkle root, and the check anyone can run offline.

A proof document (``proofVersion`` 2) carries

- the leaf (the record's canonical JSON), its index, the leaf count and the sibling hashes;
- the whole ledger entry that holds the root: its transaction (type, version, relation,
  payload, Merkle root, signers and their EIP-712 signatures), its sequence number, the
  previous entry's hash, its time and its hash;
- the ledger it is on: ``embedded`` (the entry hash is SHA-256 over the canonical entry
  header) or ``evm`` (the hash the contract chains, keccak256; with the transaction hash,
  block and contract that recorded it), and the EIP-712 domain the signatures are over.

``check_proof_document`` answers only if all of it holds: the leaf hashes along the path to
the root, the root is the one inside the signed transaction, every signature recovers to the
signer named beside it, and the entry hash is the hash of that entry at its place after its
previous hash. A forged leaf, a swapped root, a truncated path, a removed or altered
signature, an entry of another relation or subject each fail with a one-line reason. Whether
the signers are the relation's parties, and whether the entry is the one the ledger holds at
that place, is checked against the ledger (``panther ledger check-proof --online``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .canonical import canonical_json
from .eip712 import LedgerDomain, chained_entry_hash, recover_all
from .errors import LedgerError
from .merkle import MerkleProof, merkle_proof, verify_proof
from .transactions import GENESIS_PREV_HASH, Transaction, TxType, compute_entry_hash

__all__ = [
    "PROOF_VERSION",
    "build_proof_document",
    "check_proof_document",
    "matches_ledger",
    "domain_view",
]

PROOF_VERSION = 2
_RUN_TYPES = (TxType.MatchRecorded.value, TxType.MatchEndorsed.value)


class _Refused(Exception):
    """Why a proof document does not prove anything (one line)."""


def domain_view(domain: LedgerDomain) -> dict[str, Any]:
    """The EIP-712 domain as the proof document spells it."""
    return {
        "name": domain.name,
        "version": domain.version,
        "chainId": domain.chain_id,
        "verifyingContract": domain.verifying_contract,
    }


def build_proof_document(
    leaves: list[bytes],
    index: int,
    *,
    entry: dict[str, Any],
    ledger: Mapping[str, Any],
    domain: LedgerDomain,
    subject: dict[str, Any],
) -> dict[str, Any]:
    """The proof that ``leaves[index]`` is under the root of ``entry`` (the entry as the API
    shows it), on ``ledger`` (``LedgerAdapter.anchor``) whose signatures are over ``domain``."""
    proof = merkle_proof(leaves, index)
    return {
        "@type": "MerkleInclusionProof",
        "proofVersion": PROOF_VERSION,
        "subject": subject,
        "leaf": leaves[index].decode(),
        "leafIndex": proof.index,
        "leafCount": proof.leaf_count,
        "siblings": [
            {"position": "left" if left else "right", "hash": h.hex()} for left, h in proof.siblings
        ],
        "merkleRoot": entry["merkleRoot"],
        "entry": entry,
        "ledger": {**ledger, "domain": domain_view(domain)},
    }


def check_proof_document(document: Any) -> tuple[bool, str]:
    """(ok, reason): offline, whether the document proves its leaf is under a root that a
    signed ledger entry commits to. Never raises."""
    try:
        return True, _check(document)
    except _Refused as exc:
        return False, str(exc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return False, f"not a proof document: {type(exc).__name__} {exc}"


def matches_ledger(document: Any, held: Mapping[str, Any]) -> tuple[bool, str]:
    """(ok, reason): whether ``held`` (the entry the ledger holds at the document's seq, as
    GET /panther/v1/ledger/entry/{seq} gives it) is the document's entry."""
    try:
        entry = document["entry"]
        fields = ("seq", "entryHash", "prevHash", "merkleRoot", "signers", "signatures")
        differ = [name for name in fields if held.get(name) != entry[name]]
    except (KeyError, TypeError, AttributeError) as exc:
        return False, f"not a proof document: {type(exc).__name__} {exc}"
    if differ:
        return False, (
            f"the ledger holds another entry at seq {entry['seq']} ({', '.join(differ)} differ)"
        )
    return True, f"the ledger holds entry {entry['seq']} with hash {entry['entryHash']}"


def _check(document: Any) -> str:
    if not isinstance(document, dict):
        raise _Refused("not a proof document: not a JSON object")
    version = document.get("proofVersion")
    if version != PROOF_VERSION:
        raise _Refused(
            f"proof version {version!r} is not {PROOF_VERSION}: an older proof names its ledger "
            "entry without carrying it signed, so it proves nothing; fetch a new one"
        )
    leaf, proof = _merkle_part(document)
    entry, ledger = document["entry"], document["ledger"]
    root = _hex32(document["merkleRoot"], "merkleRoot")
    if not verify_proof(leaf, proof, root):
        raise _Refused(
            f"the leaf does not hash up to the Merkle root along the path "
            f"({len(proof.siblings)} siblings for leaf {proof.index} of {proof.leaf_count})"
        )
    if entry.get("merkleRoot") != document["merkleRoot"]:
        raise _Refused("the proof's root is not the root its ledger entry commits to")
    _check_subject(document.get("subject"), entry)
    domain = _domain(ledger["domain"])
    tx = _transaction(entry)
    signers = _check_signatures(domain, tx)
    seq, prev_hash = int(entry["seq"]), _hex32(entry["prevHash"], "prevHash")
    if (seq == 0) != (prev_hash == GENESIS_PREV_HASH):
        raise _Refused(f"entry {seq} does not link to a previous entry as its place requires")
    entry_hash = _hex32(entry["entryHash"], "entryHash")
    kind = ledger["kind"]
    if kind == "embedded":
        expected = compute_entry_hash(seq, tx, prev_hash, entry["recordedAt"])
    elif kind == "evm":
        if str(ledger["contract"]).lower() != domain.verifying_contract.lower():
            raise _Refused("the ledger contract is not the signatures' verifying contract")
        try:
            expected = chained_entry_hash(domain, seq, tx, prev_hash, entry["recordedAt"])
        except ValueError as exc:
            raise _Refused(f"the entry's time is not a block time: {exc}") from None
    else:
        raise _Refused(f"unknown ledger kind {kind!r} (embedded or evm)")
    if expected != entry_hash:
        raise _Refused(
            f"the entry hash is not the hash of entry {seq} (its transaction, previous hash "
            "and time) on this ledger"
        )
    where = f"{kind} ledger" + (
        f" (contract {ledger['contract']}, tx {ledger.get('transactionHash')})"
        if kind == "evm"
        else ""
    )
    return (
        f"leaf {proof.index} of {proof.leaf_count} is under root {root.hex()}, committed by "
        f"{tx.type.value} entry {seq} (hash {entry_hash.hex()}) of relation {tx.relation}, "
        f"signed by {', '.join(signers)}, on the {where}"
    )


def _hex32(value: Any, name: str) -> bytes:
    raw = bytes.fromhex(str(value).removeprefix("0x"))
    if len(raw) != 32:
        raise _Refused(f"{name} is not 32 bytes")
    return raw


def _merkle_part(document: dict[str, Any]) -> tuple[bytes, MerkleProof]:
    leaf = document["leaf"].encode()
    if canonical_json(json.loads(leaf)) != leaf:
        raise _Refused("the leaf is not in canonical form")
    siblings = document["siblings"]
    if not isinstance(siblings, list):
        raise _Refused("not a proof document: siblings is not a list")
    proof = MerkleProof(
        index=int(document["leafIndex"]),
        leaf_count=int(document["leafCount"]),
        siblings=tuple((s["position"] == "left", bytes.fromhex(s["hash"])) for s in siblings),
    )
    return leaf, proof


def _check_subject(subject: Any, entry: dict[str, Any]) -> None:
    """The entry must be the one of the subject: same relation, the subject's kind of entry."""
    if not isinstance(subject, dict):
        raise _Refused("the proof names no subject")
    if subject.get("relationId") != entry.get("relation"):
        raise _Refused(
            f"the ledger entry is of relation {entry.get('relation')!r}, the proof's subject "
            f"of relation {subject.get('relationId')!r}"
        )
    kind = entry.get("type")
    if "reportId" in subject and kind != TxType.InventoryReported.value:
        raise _Refused(f"a {kind} entry does not commit to an inventory report")
    if "runId" in subject and (
        kind not in _RUN_TYPES or entry["payload"].get("runId") != subject["runId"]
    ):
        raise _Refused(f"the ledger entry does not record match run {subject['runId']}")
    if "reportId" not in subject and "runId" not in subject:
        raise _Refused("the proof's subject names no report and no run")


def _domain(view: dict[str, Any]) -> LedgerDomain:
    chain_id = view["chainId"]
    if type(chain_id) is not int or chain_id < 0:
        raise _Refused("the EIP-712 domain's chain id is not a number")
    domain = LedgerDomain(
        chain_id=chain_id,
        verifying_contract=str(view["verifyingContract"]),
        name=str(view["name"]),
        version=str(view["version"]),
    )
    domain.separator  # noqa: B018 - refuses a contract address that is not 20 bytes
    return domain


def _transaction(entry: dict[str, Any]) -> Transaction:
    root = entry.get("merkleRoot")
    try:
        return Transaction(
            type=TxType(entry["type"]),
            version=entry["version"],
            relation=entry["relation"],
            payload=entry["payload"],
            merkle_root=None if root is None else _hex32(root, "the entry's merkleRoot"),
            signers=tuple(entry["signers"]),
            signatures=tuple(bytes.fromhex(str(s).removeprefix("0x")) for s in entry["signatures"]),
        )
    except LedgerError as exc:
        raise _Refused(f"the ledger entry's transaction is malformed: {exc}") from None


def _check_signatures(domain: LedgerDomain, tx: Transaction) -> list[str]:
    if not tx.signatures:
        raise _Refused("the ledger entry carries no signature")
    try:
        recovered = recover_all(domain, tx)
    except LedgerError as exc:
        detail = getattr(exc, "detail", str(exc))
        raise _Refused(f"a signature of the ledger entry is invalid: {detail}") from None
    for n, (named, found) in enumerate(zip(tx.signers, recovered, strict=True)):
        if named.lower() != found.lower():
            raise _Refused(
                f"signature {n} of the ledger entry is not {named}'s over this transaction "
                f"in domain {domain.name} v{domain.version} chain {domain.chain_id}"
            )
    return list(tx.signers)
