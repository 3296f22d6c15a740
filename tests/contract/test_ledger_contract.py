"""One contract suite over every LedgerAdapter: in-memory, embedded on SQLite, embedded on
PostgreSQL (when PANTHER_TEST_DATABASE_URL is set), and the EVM contract on a real anvil node.

Tampering on the EVM ledger edits what the adapter read from the node (a node that lies
about its logs); verification must find it at its seq like a tampered database row."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from panther.adapters.ledger_embedded import EmbeddedLedger, ledger_entry
from panther.ledger import (
    GENESIS_PREV_HASH,
    EntryNotFound,
    InMemoryLedger,
    InvalidSignature,
    LedgerAdapter,
    LedgerEntry,
    MalleableSignature,
    PolicyViolation,
    TxType,
    verify_adapter,
)
from panther.ledger.merkle import merkle_root
from panther.ledger.testing import Actor, Cast, seed_ledger, signed

PG_URL = os.environ.get("PANTHER_TEST_DATABASE_URL", "")
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# (column, value) tampering: returns the old value so it can be restored.
Tamper = Callable[[int, str, Any], Any]


@dataclass
class Harness:
    ledger: LedgerAdapter
    columns: tuple[str, ...]
    read: Callable[[int, str], Any]
    write: Callable[[int, str, Any], None]


def _memory_harness() -> Harness:
    ledger = InMemoryLedger()
    return _entry_list_harness(ledger, ledger.entries)


def _entry_list_harness(ledger: LedgerAdapter, entries: list[LedgerEntry]) -> Harness:
    # The "row" is the entry itself; columns name its stored parts.
    def read(seq: int, column: str) -> Any:
        ledger.head()  # an adapter that reads lazily has read everything now
        entry = entries[seq]
        return {
            "payload": entry.tx.payload,
            "merkle_root": entry.tx.merkle_root,
            "signers": entry.tx.signers,
            "signatures": entry.tx.signatures,
            "relation_id": entry.tx.relation,
            "tx_version": entry.tx.version,
            "prev_hash": entry.prev_hash,
            "entry_hash": entry.entry_hash,
            "recorded_at": entry.recorded_at,
        }[column]

    def write(seq: int, column: str, value: Any) -> None:
        entry = entries[seq]
        tx_fields = {
            "payload": "payload",
            "merkle_root": "merkle_root",
            "signers": "signers",
            "signatures": "signatures",
            "relation_id": "relation",
            "tx_version": "version",
        }
        if column in tx_fields:
            tx = entry.tx
            tx = dataclasses.replace(tx, **{tx_fields[column]: value})
            entries[seq] = dataclasses.replace(entry, tx=tx)
        else:
            entries[seq] = dataclasses.replace(entry, **{column: value})

    columns = (
        "payload",
        "merkle_root",
        "signers",
        "signatures",
        "relation_id",
        "tx_version",
        "prev_hash",
        "entry_hash",
        "recorded_at",
    )
    return Harness(ledger, columns, read, write)


def _embedded_harness(engine: sa.Engine) -> Harness:
    ledger = EmbeddedLedger(engine)
    ledger.create_table()

    def read(seq: int, column: str) -> Any:
        with engine.connect() as conn:
            return conn.execute(
                sa.select(ledger_entry.c[column]).where(ledger_entry.c.seq == seq)
            ).scalar_one()

    def write(seq: int, column: str, value: Any) -> None:
        with engine.begin() as conn:
            conn.execute(
                ledger_entry.update().where(ledger_entry.c.seq == seq).values({column: value})
            )

    columns = tuple(c.name for c in ledger_entry.columns if c.name != "seq")
    return Harness(ledger, columns, read, write)


@pytest.fixture(
    params=[
        "memory",
        "embedded-sqlite",
        pytest.param("embedded-postgres", marks=pytest.mark.postgres),
        "evm",
    ]
)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "memory":
        yield _memory_harness()
    elif request.param == "evm":
        ledger = request.getfixturevalue("evm_ledger")
        yield _entry_list_harness(ledger, ledger.core._entries)
    elif request.param == "embedded-sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
        yield _embedded_harness(engine)
        engine.dispose()
    else:
        if not PG_URL:
            pytest.skip("PANTHER_TEST_DATABASE_URL not set")
        schema = f"ledger_test_{secrets.token_hex(4)}"
        admin = sa.create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine = sa.create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
        try:
            yield _embedded_harness(engine)
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _populate(ledger: LedgerAdapter) -> Cast:
    cast = seed_ledger(ledger)
    d, rel = ledger.domain, cast.relation_id
    rows = [f"row-{i}".encode() for i in range(5)]
    ledger.append(
        signed(
            d,
            TxType.InventoryReported,
            {"reportId": "r1", "count": 5},
            cast.supplier,
            relation=rel,
            merkle_root=merkle_root(rows),
        )
    )
    ledger.append(
        signed(
            d,
            TxType.MatchRecorded,
            {"runId": "m1", "ümlaut": "é€"},
            cast.operator,
            relation=rel,
            merkle_root=merkle_root(rows[:3]),
        )
    )
    ledger.append(
        signed(d, TxType.MatchEndorsed, {"runId": "m1"}, cast.supplier, cast.customer, relation=rel)
    )
    return cast


def test_append_and_read_back(harness: Harness) -> None:
    ledger = harness.ledger
    assert isinstance(ledger, LedgerAdapter)
    assert ledger.head() is None
    cast = _populate(ledger)
    entries = list(ledger.iterate())
    assert [e.seq for e in entries] == list(range(7))
    assert ledger.head() == entries[-1]
    assert ledger.get(4) == entries[4]
    assert entries[4].tx.signers == (cast.supplier.address,)
    assert entries[5].tx.payload == {"runId": "m1", "ümlaut": "é€"}
    assert [e.seq for e in ledger.iterate(5)] == [5, 6]
    with pytest.raises(EntryNotFound):
        ledger.get(99)


def test_hash_chain_links(harness: Harness) -> None:
    _populate(harness.ledger)
    entries = list(harness.ledger.iterate())
    assert entries[0].prev_hash == GENESIS_PREV_HASH
    for prev, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == prev.entry_hash
    for e in entries:
        assert e.entry_hash == harness.ledger.hash_entry(e.seq, e.tx, e.prev_hash, e.recorded_at)
        assert e.recorded_at.endswith("Z")
    assert verify_adapter(harness.ledger).ok


def _refuses(ledger: LedgerAdapter, tx: Any, error: type[Exception]) -> None:
    before = ledger.head()
    with pytest.raises(error):
        ledger.append(tx)
    assert ledger.head() == before


def test_refusals(harness: Harness) -> None:
    ledger = harness.ledger
    cast = _populate(ledger)
    d, rel = ledger.domain, cast.relation_id
    payload = {"runId": "m2"}
    good = signed(d, TxType.MatchEndorsed, payload, cast.supplier, cast.customer, relation=rel)
    # Signed by the wrong key: the signature recovers to someone else than the named signer.
    stranger = Actor.new("stranger")
    wrong_key = signed(d, TxType.MatchEndorsed, payload, stranger, cast.customer, relation=rel)
    wrong_key = dataclasses.replace(
        wrong_key, signers=(cast.supplier.address, cast.customer.address)
    )
    _refuses(ledger, wrong_key, InvalidSignature)
    # Only one of the two required parties.
    one = signed(d, TxType.MatchEndorsed, payload, cast.supplier, relation=rel)
    _refuses(ledger, one, PolicyViolation)
    # A signature over a different digest (another payload).
    other = signed(
        d, TxType.MatchEndorsed, {"runId": "m3"}, cast.supplier, cast.customer, relation=rel
    )
    mixed = dataclasses.replace(good, signatures=(other.signatures[0], good.signatures[1]))
    _refuses(ledger, mixed, InvalidSignature)
    # The high-s twin of a valid signature.
    sig = good.signatures[0]
    s = int.from_bytes(sig[32:64], "big")
    high = sig[:32] + (N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    _refuses(
        ledger, dataclasses.replace(good, signatures=(high, good.signatures[1])), MalleableSignature
    )
    # A stranger signing as themself is refused by policy.
    _refuses(
        ledger,
        signed(d, TxType.InventoryReported, {"r": 1}, stranger, relation=rel),
        PolicyViolation,
    )
    assert ledger.append(good).seq == 7
    assert verify_adapter(ledger).ok


def _flip(value: Any, data: st.DataObject) -> Any:
    """The value with one byte (or character, or number) changed."""
    if value is None:
        return "ab" * 16 if data.draw(st.booleans()) else "x"
    if isinstance(value, bool | int):
        return value + data.draw(st.integers(1, 3))
    if isinstance(value, bytes):
        pos = data.draw(st.integers(0, len(value) - 1))
        return value[:pos] + bytes([value[pos] ^ data.draw(st.integers(1, 255))]) + value[pos + 1 :]
    if isinstance(value, str):
        pos = data.draw(st.integers(0, len(value) - 1))
        char = data.draw(st.characters(min_codepoint=32, max_codepoint=126))
        assume(char != value[pos])
        return value[:pos] + char + value[pos + 1 :]
    if isinstance(value, tuple):
        if not value:
            return value + ("0x" + "11" * 20,)
        i = data.draw(st.integers(0, len(value) - 1))
        return value[:i] + (_flip(value[i], data),) + value[i + 1 :]
    if isinstance(value, dict):
        key = data.draw(st.sampled_from(sorted(value)))
        inner = value[key]
        changed = _flip(inner, data) if isinstance(inner, str | int | dict) else "x"
        return {**value, key: changed}
    raise AssertionError(f"cannot flip {value!r}")


@pytest.mark.parametrize(
    "column",
    [
        "payload",
        "signers",
        "signatures",
        "prev_hash",
        "entry_hash",
        "recorded_at",
        "tx_version",
        "merkle_root",
    ],
)
def test_tampered_column_is_found_at_its_seq(harness: Harness, column: str) -> None:
    _populate(harness.ledger)
    old = harness.read(4, column)
    if isinstance(old, str):
        new = old[:10] + ("0" if old[10] != "0" else "1") + old[11:]
    elif isinstance(old, bytes):
        new = old[:10] + bytes([old[10] ^ 1]) + old[11:]
    elif isinstance(old, int):
        new = old + 1
    elif isinstance(old, tuple):
        new = (
            (old[0][:-1] + bytes([old[0][-1] ^ 1]),)
            if isinstance(old[0], bytes)
            else (old[0][:-1] + ("0" if old[0][-1] != "0" else "1"),)
        )
    else:
        new = {**old, "count": 6}
    harness.write(4, column, new)
    report = verify_adapter(harness.ledger)
    assert not report.ok
    assert report.first_failure is not None and report.first_failure.seq == 4
    assert report.entries_checked == 4


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_flip_any_byte_of_any_stored_entry_fails_verification(
    harness: Harness, data: st.DataObject
) -> None:
    ledger = harness.ledger
    if ledger.head() is None:
        _populate(ledger)
    head = ledger.head()
    assert isinstance(head, LedgerEntry)
    seq = data.draw(st.integers(0, head.seq), label="seq")
    column = data.draw(st.sampled_from(harness.columns), label="column")
    old = harness.read(seq, column)
    new = _flip(old, data)
    assume(new != old)
    try:
        harness.write(seq, column, new)
    except Exception:  # noqa: BLE001 - a value the store itself refuses cannot be tampered in
        assume(False)
    try:
        report = verify_adapter(ledger)
        assert not report.ok, (seq, column, old, new)
        assert report.first_failure is not None
        assert report.first_failure.seq == seq, (column, report.first_failure)
    finally:
        harness.write(seq, column, old)
    assert verify_adapter(ledger).ok


def test_a_large_payload_round_trips(harness: Harness) -> None:
    """Payloads are metadata, but a statement's can run to kilobytes: the EVM ledger's gas
    limit grows with the payload and the event carries it back byte for byte."""
    ledger = harness.ledger
    cast = seed_ledger(ledger)
    payload = {
        "statementId": "st-1",
        "lines": [{"product": f"CID-{i:06d}", "amount": f"{i * 7}.50"} for i in range(150)],
        "note": "Grüße — ünïcödé ✓",
    }
    tx = signed(
        ledger.domain, TxType.StatementIssued, payload, cast.supplier, relation=cast.relation_id
    )
    entry = ledger.append(tx)
    assert len(json.dumps(payload)) > 6000
    assert ledger.get(entry.seq).tx.payload == payload
    assert verify_adapter(ledger).ok
