"""The ledger listings page by positions (adapters/sql/ledger_entries.py): whatever order
entries are noted in (caught up late, twice, in batches), every page at every offset is the
one the plain query over ``ledger_visibility`` gives, with the same total, on SQLite and
PostgreSQL; the migration numbers the rows noted before it."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from panther.adapters.sql.db import migrate
from panther.adapters.sql.ledger_entries import SqlLedgerEntryRepository
from panther.ledger.transactions import LedgerEntry, Transaction, TxType
from tests.unit.sql.conftest import upgrade_to

TYPES = (TxType.InventoryReported, TxType.MatchRecorded, TxType.StatementIssued)
# (relation, supplier, customer): "p" is in the first four, not in the last two.
RELATIONS = [("r0", "p", "x"), ("r1", "x", "p"), ("r2", "p", "y"), ("r3", "y", "p")]
RELATIONS += [("r4", "x", "y"), ("r5", "y", "x")]


def _entry(seq: int, rng: random.Random, *, clustered: bool = False) -> LedgerEntry:
    """An entry of a random relation, or (``clustered``) of the relation of its block of 60
    seqs: a carrier's entries then come in runs, far from evenly spread."""
    kind = rng.random()
    if kind < 0.05:
        party = rng.choice(["p", "x", "y"])
        tx = Transaction(TxType.PartyRegistered, 1, None, {"partyId": party})
    elif kind < 0.08:
        tx = Transaction(TxType.NettingCertified, 1, None, {})  # of no one: the operator's
    else:
        relation = RELATIONS[seq // 60 % len(RELATIONS)] if clustered else rng.choice(RELATIONS)
        tx = Transaction(rng.choice(TYPES), 1, relation[0], {})
    return LedgerEntry(seq, tx, b"", b"")


def _relations(conn: sa.Connection) -> None:
    for rid, supplier, customer in RELATIONS:
        conn.execute(
            sa.text(
                "INSERT INTO relation (id, supplier_id, customer_id, profile, profile_hash, "
                "terms, state, proposed_by, created_at) "
                "VALUES (:id, :s, :c, '{}', 'h', '{}', 'agreed', :s, 't')"
            ),
            {"id": rid, "s": supplier, "c": customer},
        )


def _expected(entries: list[LedgerEntry], party: str | None, tx_type: str | None) -> list[int]:
    mine = {rid for rid, s, c in RELATIONS if party in (s, c)}
    return [
        e.seq
        for e in entries
        if (tx_type is None or e.tx.type.value == tx_type)
        and (
            party is None
            or e.tx.relation in mine
            or (e.tx.relation is None and e.tx.payload.get("partyId") == party)
        )
    ]


def _check_every_page(repo: SqlLedgerEntryRepository, entries: list[LedgerEntry]) -> None:
    for party, tx_type in [
        ("p", None),
        ("p", TxType.MatchRecorded.value),
        ("p", TxType.PartyRegistered.value),
        ("x", None),
        ("nobody", None),
        (None, TxType.InventoryReported.value),
        (None, TxType.NettingCertified.value),
    ]:
        expected = _expected(entries, party, tx_type)
        for offset in [0, 1, 7, len(expected) // 2, len(expected) - 1, len(expected), 10_000]:
            for limit in (1, 5, 50):
                offset = max(offset, 0)
                seqs, total = repo.visible_seqs(party, tx_type=tx_type, offset=offset, limit=limit)
                assert total == len(expected), (party, tx_type)
                assert seqs == expected[offset : offset + limit], (party, tx_type, offset, limit)


@pytest.mark.parametrize("clustered", [False, True], ids=["spread", "clustered"])
def test_pages_at_every_offset_whatever_order_entries_are_noted_in(
    engine: sa.Engine, clustered: bool
) -> None:
    rng = random.Random(16)
    migrate(engine)
    entries = [_entry(seq, rng, clustered=clustered) for seq in range(400)]
    late = set(rng.sample(range(400), 40))  # noted after the entries above them
    with engine.begin() as conn:
        _relations(conn)
    for start in range(0, 400, 37):
        with engine.begin() as conn:
            batch = [e for e in entries[start : start + 37] if e.seq not in late]
            SqlLedgerEntryRepository(conn).record_visibility(batch)
    with engine.begin() as conn:
        repo = SqlLedgerEntryRepository(conn)
        repo.record_visibility([e for e in entries if e.seq in late][:20])
        repo.record_visibility(entries[100:300])  # again: noted once
        repo.record_visibility([e for e in entries if e.seq in late])
        assert repo.noted_count() == 400
    with engine.connect() as conn:
        _check_every_page(SqlLedgerEntryRepository(conn), entries)


def test_the_migration_numbers_the_entries_noted_before_it(engine: sa.Engine) -> None:


    rng = random.Random(13)
    entries = [_entry(seq, rng) for seq in range(150)]
    with engine.begin() as conn:
        upgrade_to(conn, "0010")
        _relations(conn)
        conn.execute(
            sa.text(
                "INSERT INTO ledger_visibility (seq, tx_type, relation_id, party_id) "
                "VALUES (:seq, :tx_type, :relation_id, :party_id)"
            ),
            [
                {
                    "seq": e.seq,
                    "tx_type": e.tx.type.value,
                    "relation_id": e.tx.relation,
                    "party_id": e.tx.payload.get("partyId"),
                }
                for e in entries
            ],
        )
    migrate(engine)
    with engine.connect() as conn:
        _check_every_page(SqlLedgerEntryRepository(conn), entries)
    with engine.begin() as conn:  # and numbering goes on from there
        more = [_entry(seq, rng) for seq in range(150, 200)]
        SqlLedgerEntryRepository(conn).record_visibility(more)
    with engine.connect() as conn:
        _check_every_page(SqlLedgerEntryRepository(conn), entries + more)


def test_the_migration_seals_the_responses_kept_before_it(engine: sa.Engine) -> None:

    from panther.server.services import idempotency

    body = b'{"credentials": {"clientSecret": "s3cr3t-of-the-new-client"}}'
    with engine.begin() as conn:
        upgrade_to(conn, "0010")
        conn.execute(
            sa.text(
                "INSERT INTO idempotency_key (owner, key, fingerprint, status, headers, body, "
                "created_at, expires_at) VALUES ('operator', 'k-1', 'f', 201, :h, :b, 't', 'u'),"
                " ('operator', 'k-2', NULL, NULL, NULL, NULL, 't', 'u')"
            ),
            {"h": '[["content-type", "application/json"]]', "b": body},
        )
    migrate(engine)
    with engine.connect() as conn:
        rows = {r.key: r for r in conn.execute(sa.text("SELECT * FROM idempotency_key"))}
    done, claimed = (idempotency.stored_key("operator", k) for k in ("k-1", "k-2"))
    assert set(rows) == {done, claimed} and rows[claimed].body is None
    assert b"s3cr3t" not in bytes(rows[done].body) and rows[done].headers is None
    opened = idempotency._unseal("operator", "k-1", "f", 201, bytes(rows[done].body))
    assert (opened.headers, opened.body) == ([("content-type", "application/json")], body)
