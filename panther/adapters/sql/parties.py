"""SQL of the parties aggregate (see panther.server.services.ports.parties)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from . import repository as repo
from .repository import count_where, get_row, list_rows

_party = repo.T.party
_custodial_key = repo.T.custodial_key
_api_client = repo.T.api_client
_server_secret = repo.T.server_secret
_relation = repo.T.relation

__all__ = ["SqlPartyRepository"]


def _visible_to(viewer: str | None) -> list[Any]:
    """Who a party sees: itself, the operator and its counterparties in any relation, except
    in one it proposed itself that is not agreed: otherwise proposing would tell it whether
    the id it named exists."""
    if viewer is None:
        return []
    rel = _relation
    known = sa.or_(rel.c.state == "agreed", rel.c.proposed_by != viewer)
    return [
        sa.or_(
            _party.c.id == viewer,
            _party.c.role == "operator",
            _party.c.id.in_(sa.select(rel.c.supplier_id).where(rel.c.customer_id == viewer, known)),
            _party.c.id.in_(sa.select(rel.c.customer_id).where(rel.c.supplier_id == viewer, known)),
        )
    ]


class SqlPartyRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, party_id: str) -> dict[str, Any] | None:
        return get_row(self._conn, _party, id=party_id)

    def by_address(self, address: str) -> dict[str, Any] | None:
        return get_row(self._conn, _party, address=address)

    def operator(self) -> dict[str, Any] | None:
        rows = list_rows(self._conn, _party, [_party.c.role == "operator"], limit=1)
        return rows[0] if rows else None

    def add(self, party: dict[str, Any]) -> None:
        self._conn.execute(_party.insert().values(**party))

    def set_ledger_seq(self, party_id: str, seq: int) -> None:
        self._conn.execute(_party.update().where(_party.c.id == party_id).values(ledger_seq=seq))

    def sealed_key(self, party_id: str) -> bytes | None:
        ck = _custodial_key
        return self._conn.execute(
            sa.select(ck.c.sealed_key).where(ck.c.party_id == party_id)
        ).scalar_one_or_none()

    def add_sealed_key(self, party_id: str, sealed_key: bytes) -> None:
        self._conn.execute(_custodial_key.insert().values(party_id=party_id, sealed_key=sealed_key))

    def get_visible(self, viewer: str | None, party_id: str) -> dict[str, Any] | None:
        rows = list_rows(self._conn, _party, [_party.c.id == party_id, *_visible_to(viewer)])
        return rows[0] if rows else None

    def list_visible(
        self, viewer: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        where = _visible_to(viewer)
        total = count_where(self._conn, _party, where)
        rows = list_rows(
            self._conn,
            _party,
            where,
            order_by=[_party.c.created_at, _party.c.id],
            offset=offset,
            limit=limit,
        )
        return rows, total

    def add_client(
        self, client_id: str, party_id: str, secret_hash: str, scopes: str, created_at: str
    ) -> None:
        self._conn.execute(
            _api_client.insert().values(
                client_id=client_id,
                party_id=party_id,
                secret_hash=secret_hash,
                scopes=scopes,
                created_at=created_at,
            )
        )

    def client(self, client_id: str) -> dict[str, Any] | None:
        return get_row(self._conn, _api_client, client_id=client_id)

    def secret(self, name: str) -> str | None:
        ss = _server_secret
        value = self._conn.execute(
            sa.select(ss.c.value).where(ss.c.name == name)
        ).scalar_one_or_none()
        return None if value is None else str(value)

    def add_secret(self, name: str, value: str) -> None:
        self._conn.execute(_server_secret.insert().values(name=name, value=value))
