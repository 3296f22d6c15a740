"""The embedded ledger: a hash-chained, append-only `ledger_entry` table in the system of record.

One writer at a time (a PostgreSQL advisory lock, or a process lock plus SQLite's write lock);
the `seq` primary key refuses whatever slips past those.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import sqlalchemy as sa

from panther.adapters.sql.locks import lock_ledger
from panther.adapters.sql.metadata import metadata
from panther.ledger.canonical import canonical_json
from panther.ledger.eip712 import LedgerDomain
from panther.ledger.errors import (
    ChainBroken,
    ConflictError,
    EntryNotFound,
    LedgerError,
    LedgerUnavailable,
)
from panther.ledger.policy import LedgerRegistry, authorize
from panther.ledger.transactions import (
    GENESIS_PREV_HASH,
    LedgerEntry,
    Transaction,
    TxType,
    compute_entry_hash,
    make_entry,
)

__all__ = ["EmbeddedLedger", "ledger_entry"]

ledger_entry = sa.Table(
    "ledger_entry",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tx_type", sa.String(40), nullable=False),
    sa.Column("tx_version", sa.Integer, nullable=False),
    sa.Column("relation_id", sa.String(200), nullable=True, index=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("merkle_root", sa.String(64), nullable=True),
    sa.Column("signers", sa.Text, nullable=False),
    sa.Column("signatures", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

_HEX32 = re.compile(r"[0-9a-f]{64}\Z")
_REGISTRY_TYPES = (TxType.PartyRegistered.value, TxType.RelationAgreed.value)
_PAGE = 1000


def _strict_hex(value: object, seq: int, column: str, kind: str = "hash") -> bytes:
    # Only the lowercase spelling is accepted so that no edit of a stored byte can pass
    # for the same value ("AB" and "ab" decode alike).
    if not isinstance(value, str) or not _HEX32.match(value):
        raise ChainBroken(seq, kind, f"{column} is not 32 lowercase hex bytes")
    return bytes.fromhex(value)


def _strict_json(text: object, seq: int, column: str) -> Any:
    if not isinstance(text, str):
        raise ChainBroken(seq, "payload", f"{column} is not text")
    try:
        value = orjson.loads(text)
        canonical = canonical_json(value)
    except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise ChainBroken(seq, "payload", f"{column} is not JSON: {exc}") from None
    if canonical != text.encode():
        raise ChainBroken(seq, "payload", f"{column} is not in canonical form")
    return value


def _entry_from_row(row: Any) -> LedgerEntry:
    seq = row.seq
    payload = _strict_json(row.payload, seq, "payload")
    signers = _strict_json(row.signers, seq, "signers")
    signatures_hex = _strict_json(row.signatures, seq, "signatures")
    if not isinstance(payload, dict):
        raise ChainBroken(seq, "payload", "payload is not a JSON object")
    if not isinstance(signers, list) or not isinstance(signatures_hex, list):
        raise ChainBroken(seq, "payload", "signers and signatures must be lists")
    signatures: list[bytes] = []
    for item in signatures_hex:
        if not isinstance(item, str) or not re.fullmatch(r"[0-9a-f]{130}", item):
            raise ChainBroken(seq, "signature", "a signature is not 65 lowercase hex bytes")
        signatures.append(bytes.fromhex(item))
    merkle = None
    if row.merkle_root is not None:
        merkle = _strict_hex(row.merkle_root, seq, "merkle_root", "merkle")
    try:
        tx = Transaction(
            type=TxType(row.tx_type),
            version=row.tx_version,
            relation=row.relation_id,
            payload=payload,
            merkle_root=merkle,
            signers=tuple(signers),
            signatures=tuple(signatures),
        )
    except (LedgerError, ValueError, TypeError) as exc:
        raise ChainBroken(seq, "payload", f"stored transaction is malformed: {exc!r}") from None
    return LedgerEntry(
        seq=seq,
        tx=tx,
        prev_hash=_strict_hex(row.prev_hash, seq, "prev_hash", "link"),
        entry_hash=_strict_hex(row.entry_hash, seq, "entry_hash"),
        recorded_at=row.recorded_at,
    )


def _row_values(entry: LedgerEntry) -> dict[str, Any]:
    tx = entry.tx
    return {
        "seq": entry.seq,
        "tx_type": tx.type.value,
        "tx_version": tx.version,
        "relation_id": tx.relation,
        "payload": canonical_json(tx.payload).decode(),
        "merkle_root": tx.merkle_root.hex() if tx.merkle_root is not None else None,
        "signers": canonical_json(list(tx.signers)).decode(),
        "signatures": canonical_json([s.hex() for s in tx.signatures]).decode(),
        "prev_hash": entry.prev_hash.hex(),
        "entry_hash": entry.entry_hash.hex(),
        "recorded_at": entry.recorded_at,
    }


class EmbeddedLedger:
    """LedgerAdapter over the `ledger_entry` table of a SQLite or PostgreSQL database."""

    def __init__(self, engine: sa.Engine, domain: LedgerDomain | None = None) -> None:
        self._engine = engine
        self._domain = domain if domain is not None else LedgerDomain()
        self._write_lock = threading.RLock()
        # (head seq, head hash, registry as of that head); rebuilt when the table moved on
        # without us (another process, or a caller that rolled back our entry).
        self._cache: tuple[int, bytes, LedgerRegistry] | None = None

    @property
    def domain(self) -> LedgerDomain:
        return self._domain

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def create_table(self) -> None:
        """Create `ledger_entry` if missing (tests and demos; production uses migrations)."""
        ledger_entry.create(self._engine, checkfirst=True)

    def append(self, tx: Transaction, conn: sa.Connection | None = None) -> LedgerEntry:
        """Check and append `tx`. With `conn`, write inside the caller's transaction (the
        caller commits, so a report and its ledger entry are stored atomically)."""
        try:
            if conn is not None:
                return self._locked_append(conn, tx)
            if self._engine.dialect.name == "postgresql":
                with self._engine.begin() as own:
                    return self._locked_append(own, tx)
            # SQLite has no lock to wait for first; the process lock lasts until the commit,
            # or another thread could read the head before this entry is committed.
            with self._write_lock, self._engine.begin() as own:
                return self._locked_append(own, tx)
        except sa.exc.IntegrityError as exc:
            raise ConflictError(-1, "another writer appended at the same position") from exc
        except sa.exc.OperationalError as exc:
            raise LedgerUnavailable(str(exc.orig)) from exc

    def _locked_append(self, conn: sa.Connection, tx: Transaction) -> LedgerEntry:
        # The database's lock first, then this process's: a thread never holds the process
        # lock while it waits for a transaction that may append again (co-signing takes the
        # database's lock early, see adapters/sql/cosign.py).
        lock_ledger(conn)
        with self._write_lock:
            return self._append(conn, tx)

    def _append(self, conn: sa.Connection, tx: Transaction) -> LedgerEntry:
        head = conn.execute(
            sa.select(ledger_entry.c.seq, ledger_entry.c.entry_hash)
            .order_by(ledger_entry.c.seq.desc())
            .limit(1)
        ).first()
        if head is None:
            seq, prev_hash = 0, GENESIS_PREV_HASH
        else:
            seq, prev_hash = head.seq + 1, bytes.fromhex(head.entry_hash)
        registry = self._registry_at(conn, seq - 1, prev_hash)
        authorize(self._domain, tx, registry)
        entry = make_entry(seq, tx, prev_hash)
        conn.execute(ledger_entry.insert().values(**_row_values(entry)))
        updated = registry.copy()
        updated.apply(tx)
        self._cache = (seq, entry.entry_hash, updated)
        return entry

    def _registry_at(self, conn: sa.Connection, head_seq: int, head_hash: bytes) -> LedgerRegistry:
        cache = self._cache
        if cache is not None and cache[0] == head_seq and cache[1] == head_hash:
            return cache[2]
        registry = LedgerRegistry()
        rows = conn.execute(
            sa.select(ledger_entry)
            .where(ledger_entry.c.tx_type.in_(_REGISTRY_TYPES))
            .order_by(ledger_entry.c.seq)
        )
        for row in rows:
            registry.apply(_entry_from_row(row).tx)
        return registry

    def get(self, seq: int) -> LedgerEntry:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(ledger_entry).where(ledger_entry.c.seq == seq)).first()
        if row is None:
            raise EntryNotFound(seq)
        return _entry_from_row(row)

    def iterate(self, from_seq: int = 0) -> Iterator[LedgerEntry]:
        """Entries in seq order, read a page at a time; raises ChainBroken at a row that
        cannot be decoded (tampered or corrupt)."""
        next_seq = from_seq
        while True:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    sa.select(ledger_entry)
                    .where(ledger_entry.c.seq >= next_seq)
                    .order_by(ledger_entry.c.seq)
                    .limit(_PAGE)
                ).all()
            for row in rows:
                yield _entry_from_row(row)
            if len(rows) < _PAGE:
                return
            next_seq = rows[-1].seq + 1

    def head(self) -> LedgerEntry | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(ledger_entry).order_by(ledger_entry.c.seq.desc()).limit(1)
            ).first()
        return _entry_from_row(row) if row is not None else None

    def hash_entry(self, seq: int, tx: Transaction, prev_hash: bytes, recorded_at: str) -> bytes:
        return compute_entry_hash(seq, tx, prev_hash, recorded_at)

    def anchor(self, seq: int) -> dict[str, Any]:
        del seq  # every entry hashes alike
        return {"kind": "embedded"}
