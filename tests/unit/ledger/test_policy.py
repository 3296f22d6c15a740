"""Endorsement policy over a ledger's own registry (on the in-memory ledger)."""

from __future__ import annotations

import pytest

from panther.ledger import InMemoryLedger
from panther.ledger.errors import (
    InvalidSignature,
    InvalidTransaction,
    PolicyViolation,
    UnknownParty,
)
from panther.ledger.policy import check_policy
from panther.ledger.testing import Actor, Cast, seed_ledger, signed
from panther.ledger.transactions import TxType


@pytest.fixture
def world() -> tuple[InMemoryLedger, Cast]:
    ledger = InMemoryLedger()
    return ledger, seed_ledger(ledger)


def _report(cast: Cast) -> dict[str, object]:
    return {"reportId": "r1", "asOf": "2024-06-30", "reporter": cast.supplier.party_id, "count": 3}


def test_first_entry_must_be_the_operator_registering_itself() -> None:
    ledger = InMemoryLedger()
    op, carrier = Actor.new("op"), Actor.new("c")
    payload = {"partyId": "c", "address": carrier.address, "name": "c", "role": "carrier"}
    with pytest.raises(PolicyViolation):
        ledger.append(signed(ledger.domain, TxType.PartyRegistered, payload, op))
    payload = {"partyId": "op", "address": op.address, "name": "op", "role": "operator"}
    with pytest.raises(PolicyViolation) as info:
        ledger.append(signed(ledger.domain, TxType.PartyRegistered, payload, carrier))
    assert info.value.required == (op.address,)
    assert info.value.got == (carrier.address,)
    ledger.append(signed(ledger.domain, TxType.PartyRegistered, payload, op))
    assert ledger.registry.operator == op.address


def test_only_the_operator_registers_parties(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, cast = world
    newcomer = Actor.new("carrier-c")
    payload = {"partyId": "carrier-c", "address": newcomer.address, "name": "C", "role": "carrier"}
    with pytest.raises(PolicyViolation):
        ledger.append(signed(ledger.domain, TxType.PartyRegistered, payload, cast.supplier))
    with pytest.raises(PolicyViolation):
        second_operator = {**payload, "role": "operator"}
        ledger.append(signed(ledger.domain, TxType.PartyRegistered, second_operator, cast.operator))
    ledger.append(signed(ledger.domain, TxType.PartyRegistered, payload, cast.operator))
    with pytest.raises(InvalidTransaction):
        ledger.append(signed(ledger.domain, TxType.PartyRegistered, payload, cast.operator))


def test_report_needs_its_reporter_who_is_a_party(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, cast = world
    d, rel = ledger.domain, cast.relation_id
    ledger.append(signed(d, TxType.InventoryReported, _report(cast), cast.customer, relation=rel))
    outsider = Actor.new("x")
    with pytest.raises(PolicyViolation):
        ledger.append(signed(d, TxType.InventoryReported, _report(cast), outsider, relation=rel))
    with pytest.raises(PolicyViolation):
        both = signed(
            d, TxType.InventoryReported, _report(cast), cast.supplier, cast.customer, relation=rel
        )
        ledger.append(both)
    with pytest.raises(UnknownParty):
        ledger.append(
            signed(d, TxType.InventoryReported, _report(cast), cast.supplier, relation="nope")
        )


@pytest.mark.parametrize(
    "tx_type",
    [TxType.MatchEndorsed, TxType.DisputeResolved, TxType.StatementAgreed, TxType.PaymentSettled],
)
def test_both_parties_needed(world: tuple[InMemoryLedger, Cast], tx_type: TxType) -> None:
    ledger, cast = world
    d, rel = ledger.domain, cast.relation_id
    for only in (cast.supplier, cast.customer):
        with pytest.raises(PolicyViolation):
            ledger.append(signed(d, tx_type, {"ref": "x"}, only, relation=rel))
    with pytest.raises(PolicyViolation):
        ledger.append(signed(d, tx_type, {"ref": "x"}, cast.supplier, cast.supplier, relation=rel))
    entry = ledger.append(
        signed(d, tx_type, {"ref": "x"}, cast.customer, cast.supplier, relation=rel)
    )
    assert entry.tx.type is tx_type


def test_operator_and_supplier_roles(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, cast = world
    d, rel = ledger.domain, cast.relation_id
    with pytest.raises(PolicyViolation):
        ledger.append(signed(d, TxType.MatchRecorded, {"runId": "m1"}, cast.supplier, relation=rel))
    ledger.append(signed(d, TxType.MatchRecorded, {"runId": "m1"}, cast.operator, relation=rel))
    ledger.append(signed(d, TxType.NettingCertified, {"cycle": "2024-06"}, cast.operator))
    with pytest.raises(PolicyViolation):
        ledger.append(signed(d, TxType.StatementIssued, {"id": "s1"}, cast.customer, relation=rel))
    ledger.append(signed(d, TxType.StatementIssued, {"id": "s1"}, cast.supplier, relation=rel))


def test_one_party_actions(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, cast = world
    d, rel = ledger.domain, cast.relation_id
    ledger.append(signed(d, TxType.DisputeOpened, {"item": 1}, cast.customer, relation=rel))
    ledger.append(signed(d, TxType.ReviewActionTaken, {"item": 1}, cast.supplier, relation=rel))
    ledger.append(
        signed(d, TxType.ReviewActionTaken, {"item": 1}, cast.supplier, cast.customer, relation=rel)
    )
    with pytest.raises(PolicyViolation):
        ledger.append(signed(d, TxType.DisputeOpened, {"item": 1}, cast.operator, relation=rel))


def test_relation_needs_both_and_cannot_change_parties(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, cast = world
    d = ledger.domain
    payload = {
        "relationId": "rel-B-A",
        "supplier": cast.customer.party_id,
        "customer": cast.supplier.party_id,
        "profileHash": "00" * 32,
        "terms": {},
    }
    with pytest.raises(PolicyViolation):
        ledger.append(signed(d, TxType.RelationAgreed, payload, cast.customer, relation="rel-B-A"))
    with pytest.raises(InvalidTransaction):
        ledger.append(
            signed(d, TxType.RelationAgreed, payload, cast.customer, cast.supplier, relation="x")
        )
    ledger.append(
        signed(d, TxType.RelationAgreed, payload, cast.customer, cast.supplier, relation="rel-B-A")
    )
    swapped = {**payload, "relationId": cast.relation_id}
    with pytest.raises(InvalidTransaction):
        ledger.append(
            signed(
                d,
                TxType.RelationAgreed,
                swapped,
                cast.customer,
                cast.supplier,
                relation=cast.relation_id,
            )
        )


def test_signature_checked_before_policy(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, cast = world
    tx = signed(
        ledger.domain,
        TxType.InventoryReported,
        _report(cast),
        cast.supplier,
        relation=cast.relation_id,
    )
    forged = tx.unsigned().with_signature(cast.customer.address, tx.signatures[0])
    with pytest.raises(InvalidSignature):
        ledger.append(forged)
    with pytest.raises(InvalidSignature):
        ledger.append(tx.unsigned())


def test_policy_violation_carries_data(world: tuple[InMemoryLedger, Cast]) -> None:
    ledger, cast = world
    tx = signed(
        ledger.domain, TxType.StatementAgreed, {"id": "s"}, cast.supplier, relation=cast.relation_id
    )
    with pytest.raises(PolicyViolation) as info:
        check_policy(tx, ledger.registry)
    assert info.value.tx_type == "StatementAgreed"
    assert set(info.value.required) == {cast.supplier.address, cast.customer.address}
    assert info.value.got == (cast.supplier.address,)
