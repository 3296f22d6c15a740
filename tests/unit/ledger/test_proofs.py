"""The offline proof checker: a genuine proof passes; every way of making one up fails, each
with a one-line reason that says what is wrong."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from panther.ledger.eip712 import LedgerDomain
from panther.ledger.memory import InMemoryLedger
from panther.ledger.merkle import leaf_hash, merkle_root
from panther.ledger.proofs import build_proof_document, check_proof_document
from panther.ledger.testing import Actor, Cast, seed_ledger, signed
from panther.ledger.transactions import LedgerEntry, TxType
from panther.server.representations.panther.ledger import entry_view

LEAVES = [b'{"id":"CID-%d","qty":%d}' % (i, i * 10) for i in range(7)]
OTHER = [b'{"id":"X-%d"}' % i for i in range(3)]


def _report(ledger: InMemoryLedger, cast: Cast, leaves: list[bytes], relation: str) -> LedgerEntry:
    payload = {
        "relationId": relation,
        "reporter": cast.supplier.party_id,
        "side": "supplier",
        "asOf": "2026-11-01",
        "version": 1,
        "recordCount": len(leaves),
        "contentHash": "00" * 32,
    }
    tx = signed(
        ledger.domain,
        TxType.InventoryReported,
        payload,
        cast.supplier,
        relation=relation,
        merkle_root=merkle_root(leaves),
    )
    return ledger.append(tx)


def _proof(ledger: InMemoryLedger, entry: LedgerEntry, leaves: list[bytes], index: int) -> Any:
    return build_proof_document(
        leaves,
        index,
        entry=entry_view(entry, ""),
        ledger=ledger.anchor(entry.seq),
        domain=ledger.domain,
        subject={"reportId": "rpt-1", "index": index, "relationId": entry.tx.relation},
    )


@pytest.fixture(scope="module")
def setup() -> tuple[InMemoryLedger, dict[str, Any], dict[str, Any]]:
    ledger = InMemoryLedger(LedgerDomain(chain_id=31337))
    cast = seed_ledger(ledger, "rel-A-B")
    entry = _report(ledger, cast, LEAVES, "rel-A-B")
    # A second relation between the same carriers, with a report of its own.
    payload = {
        "relationId": "rel-2",
        "supplier": cast.supplier.party_id,
        "customer": cast.customer.party_id,
        "profileHash": "00" * 32,
        "terms": {"currency": "EUR", "billingPeriod": "month"},
    }
    ledger.append(
        signed(
            ledger.domain,
            TxType.RelationAgreed,
            payload,
            cast.supplier,
            cast.customer,
            relation="rel-2",
        )
    )
    other = _report(ledger, cast, OTHER, "rel-2")
    return ledger, _proof(ledger, entry, LEAVES, 5), _proof(ledger, other, OTHER, 1)


def _refused(doc: Any, *words: str) -> str:
    ok, reason = check_proof_document(doc)
    assert ok is False, reason
    assert "\n" not in reason
    for word in words:
        assert word in reason, reason
    return reason


def test_a_genuine_proof_passes_and_says_what_it_proves(setup: Any) -> None:
    ledger, doc, other = setup
    ok, reason = check_proof_document(doc)
    assert ok, reason
    assert f"entry {doc['entry']['seq']}" in reason and "rel-A-B" in reason
    assert doc["entry"]["signers"][0] in reason and "embedded ledger" in reason
    assert check_proof_document(other)[0]
    # Every leaf of the report is provable the same way.
    entry = ledger.get(doc["entry"]["seq"])
    for i in range(len(LEAVES)):
        assert check_proof_document(_proof(ledger, entry, LEAVES, i))[0]


def test_a_hand_made_one_leaf_proof_with_its_own_leaf_as_root_fails(setup: Any) -> None:
    _, doc, _ = setup
    leaf = b'{"id":"CID-999","qty":1}'
    made_up = {
        "@type": "MerkleInclusionProof",
        "leaf": leaf.decode(),
        "leafIndex": 0,
        "leafCount": 1,
        "siblings": [],
        "merkleRoot": leaf_hash(leaf).hex(),
        "entry": {"seq": 3, "type": "InventoryReported", "entryHash": "ab" * 32},
    }
    _refused(made_up, "older proof", "proves nothing")  # the old format is refused
    # In the new format, with the genuine entry beside it, the root is not the entry's.
    _refused({**doc, **{k: made_up[k] for k in made_up if k != "entry"}}, "root")
    forged = copy.deepcopy(doc)
    forged.update(leaf=leaf.decode(), leafIndex=0, leafCount=1, siblings=[])
    forged["merkleRoot"] = forged["entry"]["merkleRoot"] = leaf_hash(leaf).hex()
    _refused(forged, "signature 0", "not")


def test_a_forged_leaf_fails(setup: Any) -> None:
    _, doc, _ = setup
    forged = {**doc, "leaf": doc["leaf"].replace("50", "51")}
    _refused(forged, "does not hash up to the Merkle root")


def test_a_swapped_root_fails(setup: Any) -> None:
    _, doc, other = setup
    swapped = {**doc, "merkleRoot": other["merkleRoot"]}
    _refused(swapped, "does not hash up")
    # The path recomputed to a new root, put everywhere: the signatures no longer cover it.
    rerooted = copy.deepcopy(doc)
    rerooted["siblings"][0]["hash"] = "11" * 32
    new_root = _root_along(rerooted)
    rerooted["merkleRoot"] = rerooted["entry"]["merkleRoot"] = new_root
    _refused(rerooted, "signature 0", "not")


def _root_along(doc: dict[str, Any]) -> str:
    node = leaf_hash(doc["leaf"].encode())
    for s in doc["siblings"]:
        h = bytes.fromhex(s["hash"])
        pair = h + node if s["position"] == "left" else node + h
        node = hashlib.sha256(b"\x01" + pair).digest()
    return node.hex()


def test_a_truncated_path_fails(setup: Any) -> None:
    _, doc, _ = setup
    _refused({**doc, "siblings": doc["siblings"][:-1]}, "does not hash up", "siblings")
    _refused({**doc, "siblings": []}, "does not hash up")
    _refused({**doc, "leafCount": 4}, "does not hash up")


def test_a_removed_or_altered_signature_fails(setup: Any) -> None:
    _, doc, _ = setup
    removed = copy.deepcopy(doc)
    removed["entry"]["signers"], removed["entry"]["signatures"] = [], []
    _refused(removed, "no signature")
    half = copy.deepcopy(doc)
    half["entry"]["signatures"] = []
    _refused(half, "malformed", "differ in number")
    altered = copy.deepcopy(doc)
    sig = bytearray(bytes.fromhex(altered["entry"]["signatures"][0][2:]))
    sig[5] ^= 0x01
    altered["entry"]["signatures"][0] = "0x" + sig.hex()
    _refused(altered, "signature")
    stranger = copy.deepcopy(doc)
    stranger["entry"]["signers"] = [Actor.new("mallory").address]
    _refused(stranger, "signature 0", "not")
    other_chain = copy.deepcopy(doc)
    other_chain["ledger"]["domain"]["chainId"] = 1
    _refused(other_chain, "signature 0", "chain 1")


def test_an_entry_that_is_not_the_hash_it_claims_fails(setup: Any) -> None:
    _, doc, _ = setup
    moved = copy.deepcopy(doc)
    moved["entry"]["seq"] += 1
    _refused(moved, "entry hash")
    relinked = copy.deepcopy(doc)
    relinked["entry"]["prevHash"] = "22" * 32
    _refused(relinked, "entry hash")
    genesis = copy.deepcopy(doc)
    genesis["entry"]["prevHash"] = "00" * 32
    _refused(genesis, "does not link")
    retimed = copy.deepcopy(doc)
    retimed["entry"]["recordedAt"] = "2020-01-01T00:00:00.000000Z"
    _refused(retimed, "entry hash")
    payload = copy.deepcopy(doc)
    payload["entry"]["payload"]["recordCount"] = 8
    _refused(payload, "signature 0")
    on_chain = copy.deepcopy(doc)
    on_chain["ledger"] = {**doc["ledger"], "kind": "evm", "contract": "0x" + "00" * 20}
    _refused(on_chain, "block time")


def test_an_entry_of_another_relation_or_subject_fails(setup: Any) -> None:
    _, doc, other = setup
    _refused({**doc, "entry": other["entry"]}, "root")
    crossed = {**doc, "entry": other["entry"], "merkleRoot": other["merkleRoot"]}
    _refused(crossed, "does not hash up")
    # The other relation's genuine leaf and path with this relation's subject.
    _refused({**other, "subject": doc["subject"]}, "relation 'rel-2'", "'rel-A-B'")
    as_run = {**doc, "subject": {"runId": "run-1", "itemNo": 5, "relationId": "rel-A-B"}}
    _refused(as_run, "match run run-1")


@pytest.mark.parametrize(
    "garbage",
    [None, [], "proof", {"proofVersion": 2}, {"proofVersion": 1}, {"proofVersion": "2"}],
)
def test_garbage_is_refused_not_raised(garbage: Any) -> None:
    ok, reason = check_proof_document(garbage)
    assert ok is False and reason and "\n" not in reason
