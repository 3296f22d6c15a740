"""The embedded SQL ledger: atomic appends in the caller's transaction, one writer at a time,
a registry cache that survives rollbacks and other writers. SQLite always, PostgreSQL when
PANTHER_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from panther.adapters.ledger_embedded import EmbeddedLedger, ledger_entry
from panther.ledger import ChainBroken, LedgerDomain, TxType, verify_ledger
from panther.ledger.testing import seed_ledger, signed

PG_URL = os.environ.get("PANTHER_TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        eng = sa.create_engine(
            f"sqlite:///{tmp_path / 'l.db'}",
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        yield eng
        eng.dispose()
        return
    if not PG_URL:
        pytest.skip("PANTHER_TEST_DATABASE_URL not set")
    schema = f"ledger_unit_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    eng = sa.create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def ledger(engine: sa.Engine) -> EmbeddedLedger:
    led = EmbeddedLedger(engine, LedgerDomain())
    led.create_table()
    return led


def _report(ledger: EmbeddedLedger, cast, n: int):  # type: ignore[no-untyped-def]
    return signed(
        ledger.domain,
        TxType.InventoryReported,
        {"reportId": f"r{n}"},
        cast.supplier,
        relation=cast.relation_id,
    )


def test_append_inside_callers_transaction(ledger: EmbeddedLedger, engine: sa.Engine) -> None:
    cast = seed_ledger(ledger)
    side = sa.Table("side_effect", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    side.create(engine)
    # Rolled back: neither the caller's row nor the entry exists afterwards.
    with engine.connect() as conn:
        with conn.begin() as trans:
            conn.execute(side.insert().values(id=1))
            entry = ledger.append(_report(ledger, cast, 1), conn=conn)
            assert entry.seq == 4
            trans.rollback()
    head = ledger.head()
    assert head is not None and head.seq == 3
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(side)).scalar_one() == 0
    # Committed: both are there, and the chain continues at the same position.
    with engine.begin() as conn:
        conn.execute(side.insert().values(id=2))
        assert ledger.append(_report(ledger, cast, 2), conn=conn).seq == 4
    assert ledger.get(4).tx.payload == {"reportId": "r2"}
    assert verify_ledger(ledger.iterate(), ledger.domain).ok


def test_rolled_back_registry_change_is_forgotten(
    ledger: EmbeddedLedger, engine: sa.Engine
) -> None:
    cast = seed_ledger(ledger, relation_id="rel-1")
    payload = {
        "relationId": "rel-2",
        "supplier": cast.supplier.party_id,
        "customer": cast.customer.party_id,
        "profileHash": "00" * 32,
        "terms": {},
    }
    tx = signed(
        ledger.domain,
        TxType.RelationAgreed,
        payload,
        cast.supplier,
        cast.customer,
        relation="rel-2",
    )
    with engine.connect() as conn, conn.begin() as trans:
        ledger.append(tx, conn=conn)
        trans.rollback()
    report = signed(
        ledger.domain, TxType.InventoryReported, {"r": 1}, cast.supplier, relation="rel-2"
    )
    from panther.ledger import UnknownParty

    with pytest.raises(UnknownParty):
        ledger.append(report)


def test_second_instance_sees_the_same_registry(ledger: EmbeddedLedger, engine: sa.Engine) -> None:
    cast = seed_ledger(ledger)
    other = EmbeddedLedger(engine, ledger.domain)
    assert other.append(_report(other, cast, 1)).seq == 4
    # The first instance's cache is stale by one entry; it notices and appends at 5.
    assert ledger.append(_report(ledger, cast, 2)).seq == 5
    assert verify_ledger(other.iterate(), other.domain).ok


def test_concurrent_writers_keep_one_chain(ledger: EmbeddedLedger, engine: sa.Engine) -> None:
    cast = seed_ledger(ledger)
    txs = [_report(ledger, cast, i) for i in range(24)]
    errors: list[BaseException] = []

    def worker(chunk: list) -> None:  # type: ignore[type-arg]
        for tx in chunk:
            try:
                ledger.append(tx)
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(txs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = list(ledger.iterate())
    assert [e.seq for e in entries] == list(range(28))
    assert verify_ledger(entries, ledger.domain).ok


def test_undecodable_row_is_reported_not_raised(ledger: EmbeddedLedger, engine: sa.Engine) -> None:
    seed_ledger(ledger)
    with engine.begin() as conn:
        conn.execute(
            ledger_entry.update().where(ledger_entry.c.seq == 2).values(payload="{not json")
        )
    with pytest.raises(ChainBroken) as info:
        list(ledger.iterate())
    assert info.value.seq == 2
    report = verify_ledger(ledger.iterate(), ledger.domain)
    assert report.first_failure is not None
    assert (report.first_failure.seq, report.first_failure.kind) == (2, "payload")


def test_non_canonical_spelling_is_tampering(ledger: EmbeddedLedger, engine: sa.Engine) -> None:
    seed_ledger(ledger)
    with engine.connect() as conn:
        prev = conn.execute(
            sa.select(ledger_entry.c.prev_hash).where(ledger_entry.c.seq == 1)
        ).scalar_one()
    with engine.begin() as conn:
        conn.execute(
            ledger_entry.update().where(ledger_entry.c.seq == 1).values(prev_hash=prev.upper())
        )
    failure = verify_ledger(ledger.iterate(), ledger.domain).first_failure
    assert failure is not None and failure.seq == 1


def test_paging_iterates_past_a_page(ledger: EmbeddedLedger, engine: sa.Engine) -> None:
    import panther.adapters.ledger_embedded as mod

    cast = seed_ledger(ledger)
    for i in range(5):
        ledger.append(_report(ledger, cast, i))
    original = mod._PAGE
    mod._PAGE = 3
    try:
        assert [e.seq for e in ledger.iterate(1)] == list(range(1, 9))
    finally:
        mod._PAGE = original
