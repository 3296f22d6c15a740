"""Transaction-scoped locks: on PostgreSQL an advisory lock held until the transaction ends
(commit or rollback); on SQLite nothing, since ``Database.write`` lets one writer in at a time
for the whole transaction.

Under READ COMMITTED a statement sees what was committed before it began, so a transaction
that takes a lock before it reads sees everything the previous holder wrote.
"""

from __future__ import annotations

import hashlib
import zlib

import sqlalchemy as sa

__all__ = ["LEDGER_LOCK_KEY", "lock_key", "lock_ledger"]

# The embedded ledger's single writer (any stable 63-bit number).
LEDGER_LOCK_KEY = zlib.crc32(b"panther.ledger_entry")


def _advisory(conn: sa.Connection, key: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def lock_ledger(conn: sa.Connection) -> None:
    """The ledger's writer lock: one transaction at a time may append, or co-sign."""
    _advisory(conn, LEDGER_LOCK_KEY)


def lock_key(conn: sa.Connection, *key: str) -> None:
    """A lock on a name of our own (``("inventory", relation_id, side)``); two names that hash
    alike only wait for each other."""
    digest = hashlib.blake2b("\x1f".join(key).encode(), digest_size=8).digest()
    _advisory(conn, int.from_bytes(digest, "big", signed=True))
