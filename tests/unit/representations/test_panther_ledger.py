"""The panther v1 ledger documents: an entry, a verification report, an inclusion proof."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from panther.ledger.canonical import canonical_json
from panther.ledger.eip712 import LedgerDomain
from panther.ledger.merkle import merkle_root
from panther.ledger.proofs import check_proof_document
from panther.ledger.testing import Actor, signed
from panther.ledger.transactions import (
    GENESIS_PREV_HASH,
    LedgerEntry,
    Transaction,
    TxType,
    make_entry,
)
from panther.server.representations.panther.ledger import (
    entry_view,
    proof_document,
    verification_lines,
    verification_view,
)

BASE = "https://panther.example"
SIGNER = "0x" + "ab" * 20
LEAVES = [canonical_json({"productId": f"P{n}", "status": "active"}) for n in range(5)]


def _entry(seq: int = 3, root: bytes | None = None) -> LedgerEntry:
    tx = Transaction(
        type=TxType.InventoryReported,
        version=1,
        relation="rel-1",
        payload={"relationId": "rel-1", "recordCount": len(LEAVES)},
        merkle_root=root,
        signers=(SIGNER,),
        signatures=(b"\x01" * 65,),
    )
    return make_entry(seq, tx, GENESIS_PREV_HASH, recorded_at="2026-01-02T03:04:05.000000Z")


@dataclass(frozen=True)
class _Failure:
    seq: int
    kind: str
    detail: str


@dataclass(frozen=True)
class _Unfinished:
    resource: str
    id: str
    relation_id: str
    missing: str
    detail: str


@dataclass(frozen=True)
class _Verification:
    entries_checked: int
    head: LedgerEntry | None
    first_failure: _Failure | None
    unfinished_co_signatures: tuple[_Unfinished, ...] = ()

    @property
    def ok(self) -> bool:
        return self.first_failure is None and not self.unfinished_co_signatures


@dataclass(frozen=True)
class _Proof:
    leaves: list[bytes]
    index: int
    entry: LedgerEntry
    subject: dict[str, Any]
    anchor: dict[str, Any]
    domain: LedgerDomain


def test_entry_view_links_the_entry_and_hexes_its_bytes() -> None:
    entry = _entry(root=merkle_root(LEAVES))
    view = entry_view(entry, BASE)
    assert view["id"] == "3" and view["seq"] == 3
    assert view["href"] == f"{BASE}/panther/v1/ledger/entry/3"
    assert view["@type"] == "LedgerEntry" and view["type"] == "InventoryReported"
    assert view["relation"] == "rel-1"
    assert view["payload"] == {"relationId": "rel-1", "recordCount": 5}
    assert view["merkleRoot"] == merkle_root(LEAVES).hex()
    assert view["signers"] == [SIGNER]
    assert view["signatures"] == ["0x" + "01" * 65]
    assert view["prevHash"] == GENESIS_PREV_HASH.hex()
    assert view["entryHash"] == entry.entry_hash.hex()
    assert view["recordedAt"] == "2026-01-02T03:04:05.000000Z"


def test_an_entry_without_a_root_says_null() -> None:
    assert entry_view(_entry(), BASE)["merkleRoot"] is None


def test_a_clean_verification_is_ok_with_the_head_hash() -> None:
    head = _entry(seq=9)
    view = verification_view(_Verification(10, head, None))
    assert view == {
        "@type": "LedgerVerification",
        "ok": True,
        "entriesChecked": 10,
        "head": head.entry_hash.hex(),
        "firstFailure": None,
        "unfinishedCoSignatures": [],
    }
    assert verification_lines(view) == [f"ledger OK: 10 entries, head {head.entry_hash.hex()}"]


def test_a_failed_verification_names_the_first_failure() -> None:
    failure = _Failure(4, "projection", "party p-1 differs from its PartyRegistered entry")
    view = verification_view(_Verification(10, _entry(), failure))
    assert view["ok"] is False
    assert view["firstFailure"] == {
        "seq": 4,
        "kind": "projection",
        "detail": "party p-1 differs from its PartyRegistered entry",
    }
    assert verification_lines(view) == [
        "ledger BROKEN at entry 4 (projection): party p-1 differs from its PartyRegistered entry"
    ]


def test_unfinished_co_signatures_are_listed_and_make_it_not_ok() -> None:
    stuck = _Unfinished(
        "relation", "rel-1", "rel-1", "RelationAgreed", "unfinished co-signature: relation rel-1"
    )
    failure = _Failure(4, "merkle", "root differs")
    view = verification_view(_Verification(10, _entry(), None, (stuck,)))
    assert view["ok"] is False and view["firstFailure"] is None
    assert view["unfinishedCoSignatures"] == [
        {
            "resource": "relation",
            "id": "rel-1",
            "relationId": "rel-1",
            "missing": "RelationAgreed",
            "detail": "unfinished co-signature: relation rel-1",
        }
    ]
    assert verification_lines(view) == ["ledger BROKEN: unfinished co-signature: relation rel-1"]
    both = verification_view(_Verification(10, _entry(), failure, (stuck, stuck)))
    assert verification_lines(both) == [
        "ledger BROKEN at entry 4 (merkle): root differs",
        "ledger BROKEN: unfinished co-signature: relation rel-1",
        "ledger BROKEN: unfinished co-signature: relation rel-1",
    ]


def test_an_empty_ledger_has_no_head() -> None:
    view = verification_view(_Verification(0, None, None))
    assert view["ok"] is True and view["head"] is None and view["entriesChecked"] == 0


def test_the_proof_document_carries_its_signed_entry_and_checks_out() -> None:
    domain, reporter = LedgerDomain(chain_id=31337), Actor.new("carrier-a")
    tx = signed(
        domain,
        TxType.InventoryReported,
        {"relationId": "rel-1", "recordCount": len(LEAVES)},
        reporter,
        relation="rel-1",
        merkle_root=merkle_root(LEAVES),
    )
    entry = make_entry(0, tx, GENESIS_PREV_HASH, recorded_at="2026-01-02T03:04:05.000000Z")
    subject = {"reportId": "rpt-1", "index": 2, "relationId": "rel-1"}
    doc = proof_document(_Proof(LEAVES, 2, entry, subject, {"kind": "embedded"}, domain), BASE)
    assert doc["proofVersion"] == 2 and doc["subject"] == subject
    assert doc["leaf"] == LEAVES[2].decode() and doc["leafIndex"] == 2
    assert doc["leafCount"] == 5
    assert doc["entry"] == entry_view(entry, BASE)
    assert doc["entry"]["signers"] == [reporter.address]
    assert doc["ledger"] == {
        "kind": "embedded",
        "domain": {
            "name": "StonePanther",
            "version": "1",
            "chainId": 31337,
            "verifyingContract": "0x" + "00" * 20,
        },
    }
    assert check_proof_document(doc)[0] is True
    doc["leaf"] = LEAVES[3].decode()
    assert check_proof_document(doc)[0] is False
