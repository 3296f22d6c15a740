"""Signatures collected on one transaction until both parties have signed, and the ones
that both parties signed but whose transaction never completed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from .locks import lock_ledger
from .repository import T

__all__ = ["SqlCoSignatures", "unfinished_cosignatures"]


class SqlCoSignatures:
    """The rows of a signature table (party_id, signature, created_at) under one key."""

    def __init__(self, conn: sa.Connection, table: sa.Table, key: dict[str, Any]) -> None:
        self._conn = conn
        self._table = table
        self._key = key

    def lock(self) -> None:
        # The ledger's own writer lock: whoever completes a co-signature appends next, so
        # taking it first orders co-signers like appenders (never one lock, then the other
        # in reverse), and nothing a co-signer reads afterwards can be missing a signature
        # that another transaction holds uncommitted.
        lock_ledger(self._conn)

    def rows(self) -> list[dict[str, Any]]:
        cond = [self._table.c[k] == v for k, v in self._key.items()]
        return [dict(r) for r in self._conn.execute(sa.select(self._table).where(*cond)).mappings()]

    def add(self, party_id: str, signature: str, created_at: str) -> None:
        values = {**self._key, "party_id": party_id, "signature": signature}
        self._conn.execute(self._table.insert().values(**values, created_at=created_at))


def unfinished_cosignatures(
    conn: sa.Connection,
    signatures: sa.Table,
    *,
    source: sa.FromClause,
    key: sa.ColumnElement[Any],
    relation_id: sa.ColumnElement[Any],
    unfinished: sa.ColumnElement[bool],
    extra: Sequence[sa.ColumnElement[Any]] = (),
) -> list[dict[str, Any]]:
    """Every key of a signature table that both the supplier and the customer of its
    relation signed, where ``unfinished`` holds: its ``id`` (``key``), ``relation_id`` and
    the ``extra`` columns.

    ``source`` is the signature table joined to what the signatures are of, ``relation_id``
    the relation's id in it; ``unfinished`` may name the relation's columns (joined here).
    Signatures of anyone but the relation's two carriers do not count."""
    rel = T.relation
    party = signatures.c.party_id
    grouped = [key, relation_id, *extra]
    query = (
        sa.select(key.label("id"), relation_id.label("relation_id"), *extra)
        .select_from(source.join(rel, rel.c.id == relation_id))
        .where(sa.or_(party == rel.c.supplier_id, party == rel.c.customer_id), unfinished)
        .group_by(*grouped)
        .having(sa.func.count(sa.distinct(party)) == 2)
        .order_by(*grouped)
    )
    return [dict(r) for r in conn.execute(query).mappings()]
