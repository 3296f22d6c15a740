"""verify_ledger finds the first broken entry and never raises."""

from __future__ import annotations

import dataclasses

import pytest

from panther.ledger import InMemoryLedger, verify_ledger
from panther.ledger.merkle import merkle_root
from panther.ledger.testing import Cast, seed_ledger, signed
from panther.ledger.transactions import LedgerEntry, TxType, make_entry


@pytest.fixture
def world() -> tuple[InMemoryLedger, Cast]:
    ledger = InMemoryLedger()
    cast = seed_ledger(ledger)
    rows = [b"row-1", b"row-2", b"row-3"]
    for reporter in (cast.supplier, cast.customer):
        ledger.append(
            signed(
                ledger.domain,
                TxType.InventoryReported,
                {"reportId": reporter.party_id, "count": 3},
                reporter,
                relation=cast.relation_id,
                merkle_root=merkle_root(rows),
            )
        )
    return ledger, cast


def test_clean_ledger_verifies(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, _ = world
    report = verify_ledger(ledger.iterate(), ledger.domain)
    assert report.ok and report.entries_checked == 6 and report.first_failure is None


def test_merkle_mismatch_reported(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, _ = world

    def roots(entry: LedgerEntry) -> bytes | None:
        if entry.tx.type is not TxType.InventoryReported:
            return None
        rows = [b"row-1", b"row-2", b"row-3"] if entry.seq == 4 else [b"row-1", b"row-X", b"row-3"]
        return merkle_root(rows)

    report = verify_ledger(ledger.iterate(), ledger.domain, recompute_root=roots)
    assert not report.ok
    assert report.first_failure is not None
    assert (report.first_failure.seq, report.first_failure.kind) == (5, "merkle")
    assert report.entries_checked == 5


def test_changed_payload_is_a_hash_failure(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, _ = world
    old = ledger.entries[4]
    tx = dataclasses.replace(old.tx, payload={"reportId": "carrier-a", "count": 4})
    ledger.entries[4] = dataclasses.replace(old, tx=tx)
    failure = verify_ledger(ledger.iterate(), ledger.domain).first_failure
    assert failure is not None and (failure.seq, failure.kind) == (4, "hash")


def test_rehashed_forgery_fails_on_signature(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, _ = world
    # A forger who rewrites the payload and recomputes every hash still cannot sign.
    old = ledger.entries[4]
    tx = dataclasses.replace(old.tx, payload={"reportId": "carrier-a", "count": 4})
    ledger.entries[4] = make_entry(4, tx, old.prev_hash, old.recorded_at)
    failure = verify_ledger(ledger.iterate(), ledger.domain).first_failure
    assert failure is not None and (failure.seq, failure.kind) == (4, "signature")
    # ...and the next entry's link no longer matches if it is left alone.
    ledger.entries[4] = dataclasses.replace(ledger.entries[4], entry_hash=old.entry_hash)
    failure = verify_ledger(ledger.iterate(), ledger.domain).first_failure
    assert failure is not None and (failure.seq, failure.kind) == (4, "hash")


def test_dropped_entry_is_a_link_failure(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, _ = world
    del ledger.entries[2]
    failure = verify_ledger(ledger.iterate(), ledger.domain).first_failure
    assert failure is not None and (failure.seq, failure.kind) == (2, "link")


def test_policy_failure_when_registry_entry_is_forged(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, cast = world
    # Re-sign an inventory report with the operator and rebuild the chain from there on:
    # hashes and signatures check out, the policy does not.
    d = ledger.domain
    forged = signed(d, TxType.InventoryReported, {"x": 1}, cast.operator, relation=cast.relation_id)
    ledger.entries[5] = make_entry(5, forged, ledger.entries[4].entry_hash)
    failure = verify_ledger(ledger.iterate(), d).first_failure
    assert failure is not None and (failure.seq, failure.kind) == (5, "policy")


@pytest.mark.parametrize("garbage", [[None], [1, 2], ["x"], [object()]])
def test_garbage_never_raises(garbage: list[object]) -> None:
    report = verify_ledger(garbage, InMemoryLedger().domain)  # type: ignore[arg-type]
    assert not report.ok and report.first_failure is not None


def test_iterable_that_raises_is_reported() -> None:
    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")
        yield

    report = verify_ledger(broken(), InMemoryLedger().domain)
    assert not report.ok and report.first_failure is not None and report.first_failure.seq == 0
