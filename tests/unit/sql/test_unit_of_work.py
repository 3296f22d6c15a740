"""The unit of work: rows, the embedded ledger's entry and the events of one use case commit
or roll back as one; events leave only after the commit; a read unit of work writes nothing.
Against a real SQLite database and the embedded ledger (a composed system, no server)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from panther.adapters.sql.uow import ReadOnly, SqlUnitsOfWork
from panther.ledger import eip712
from panther.ledger.memory import InMemoryLedger
from panther.ledger.transactions import Transaction, TxType
from panther.server.bootstrap import System, compose
from panther.server.settings import Settings


class Recorder:
    """An outbox that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def publish(self, callback: str, event_type: str, event: dict[str, Any]) -> None:
        self.sent.append((callback, event_type, event))


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    composed = compose(Settings.from_env(data_dir=tmp_path, database_url=""))
    composed.webhooks = Recorder()  # a test double of the outbox
    try:
        yield composed
    finally:
        composed.db.engine.dispose()


def _register(system: System, party_id: str) -> tuple[Transaction, dict[str, Any]]:
    """A PartyRegistered transaction for a new carrier, signed by the operator, and its row."""
    with system.uow.read() as uow:
        operator = uow.parties.operator()
        assert operator is not None
        sealed = uow.parties.sealed_key(operator["id"])
    assert sealed is not None
    key, address = eip712.new_key()
    tx = Transaction(
        type=TxType.PartyRegistered,
        version=1,
        relation=None,
        payload={"partyId": party_id, "address": address, "name": party_id, "role": "carrier"},
    )
    signature = eip712.sign(system.domain, tx, system.keystore.unseal(sealed))
    row = {
        "id": party_id,
        "name": party_id,
        "role": "carrier",
        "address": address,
        "custody": "external",
        "created_at": system.clock.now_iso(),
        "ledger_seq": None,
    }
    return replace(tx, signers=(operator["address"],), signatures=(signature,)), row


def _listener(party_id: str) -> dict[str, Any]:
    return {
        "id": f"hub-{party_id}",
        "party_id": party_id,
        "api": "productInventory",
        "callback": "https://example.net/cb",
        "query": None,
        "created_at": "2026-12-02T00:00:00.000000Z",
    }


def test_a_failure_rolls_back_rows_ledger_entry_and_events(system: System) -> None:
    head = system.ledger.head()
    assert head is not None
    tx, row = _register(system, "colt")
    with pytest.raises(RuntimeError, match="after the append"):
        with system.uow.write() as uow:
            uow.parties.add(row)
            uow.listeners.add(_listener("colt"))
            entry = uow.append(tx)
            assert entry.seq == head.seq + 1
            uow.publish("https://example.net/cb", "partyCreateEvent", {"id": "colt"})
            raise RuntimeError("after the append")
    after = system.ledger.head()
    assert after is not None and after.seq == head.seq
    with system.uow.read() as uow:
        assert uow.parties.get("colt") is None
        assert uow.listeners.find("colt", "productInventory", "hub-colt") is None
    assert system.webhooks.sent == []


def test_a_commit_keeps_all_of_it_and_then_publishes(system: System) -> None:
    head = system.ledger.head()
    assert head is not None
    tx, row = _register(system, "pccw")
    outbox = system.webhooks
    with system.uow.write() as uow:
        uow.parties.add(row)
        entry = uow.append(tx)
        uow.parties.set_ledger_seq("pccw", entry.seq)
        uow.publish("https://example.net/cb", "partyCreateEvent", {"id": "pccw"})
        assert outbox.sent == []  # nothing leaves before the commit
    assert outbox.sent == [("https://example.net/cb", "partyCreateEvent", {"id": "pccw"})]
    stored = system.ledger.head()
    assert stored is not None and stored.seq == head.seq + 1
    assert stored.tx.payload["partyId"] == "pccw"
    with system.uow.read() as uow:
        party = uow.parties.get("pccw")
    assert party is not None and party["ledger_seq"] == stored.seq


def test_a_read_unit_of_work_refuses_to_append_or_publish(system: System) -> None:
    tx, _ = _register(system, "vodafone")
    with system.uow.read() as uow:
        with pytest.raises(ReadOnly):
            uow.append(tx)
    with pytest.raises(ReadOnly):
        with system.uow.read() as uow:
            uow.publish("https://example.net/cb", "x", {})
    assert system.webhooks.sent == []


def test_whose_each_entry_is_is_noted_with_it_or_not_at_all(system: System) -> None:
    tx, row = _register(system, "telia")
    with system.uow.write() as uow:
        uow.parties.add(row)
        entry = uow.append(tx)
    with system.uow.read() as uow:
        assert uow.ledger_entries.noted_top() == entry.seq
        assert uow.ledger_entries.is_visible(entry.seq, "telia")
        assert not uow.ledger_entries.is_visible(entry.seq, "operator")
    tx, row = _register(system, "orange")
    with pytest.raises(RuntimeError):
        with system.uow.write() as uow:
            uow.parties.add(row)
            uow.append(tx)
            raise RuntimeError("after the append")
    with system.uow.read() as uow:  # the embedded entry went with the rollback, and its note
        assert uow.ledger_entries.noted_top() == entry.seq


class ChainLikeLedger:
    """A ledger outside the database, as a chain is: its entry stays when the caller's
    database transaction rolls back (the in-memory ledger, with the system's history)."""

    def __init__(self, history: Any) -> None:
        self.inner = InMemoryLedger(history.domain)
        for entry in history.iterate(0):
            self.inner.append(entry.tx)

    def append(self, tx: Transaction, conn: Any = None) -> Any:
        return self.inner.append(tx)

    def get(self, seq: int) -> Any:
        return self.inner.get(seq)


def test_an_entry_the_ledger_kept_through_a_rollback_is_still_noted(system: System) -> None:
    chain = ChainLikeLedger(system.ledger)
    units = SqlUnitsOfWork(system.db, chain, lambda: system.webhooks)
    tx, row = _register(system, "sparkle")
    with pytest.raises(RuntimeError):
        with units.write() as uow:
            uow.parties.add(row)
            entry = uow.append(tx)
            raise RuntimeError("after the append")
    assert chain.get(entry.seq) == entry
    with system.uow.read() as uow:
        assert uow.parties.get("sparkle") is None
        assert uow.ledger_entries.is_visible(entry.seq, "sparkle")
