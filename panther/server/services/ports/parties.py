"""The repository port of parties, their custodial keys, API clients and server secrets."""

from __future__ import annotations

from typing import Protocol

from .rows import Row

__all__ = ["PartyRepository"]


class PartyRepository(Protocol):
    """Parties, their custodial keys, API clients and server secrets, in the carriers' language."""

    def get(self, party_id: str) -> Row | None: ...

    def by_address(self, address: str) -> Row | None:
        """The party whose signing address this is (addresses are unique)."""
        ...

    def operator(self) -> Row | None:
        """The operator party; None before the first start has registered it."""
        ...

    def add(self, party: Row) -> None: ...

    def set_ledger_seq(self, party_id: str, seq: int) -> None:
        """Record the ledger entry that registered the party."""
        ...

    def sealed_key(self, party_id: str) -> bytes | None:
        """The custodial key of the party, sealed by the keystore; None if it keeps its own."""
        ...

    def add_sealed_key(self, party_id: str, sealed_key: bytes) -> None:
        """Keep the custodial key of a party, sealed by the keystore."""
        ...

    def get_visible(self, viewer: str | None, party_id: str) -> Row | None:
        """The party if ``viewer`` may see it (see `list_visible`); None otherwise."""
        ...

    def list_visible(self, viewer: str | None, offset: int, limit: int) -> tuple[list[Row], int]:
        """A page of the parties ``viewer`` may see (itself, the operator and the parties it
        has a relation with, agreed or proposed by someone else: not those it only named in
        its own proposal; everyone when None), oldest first, and how many there are."""
        ...

    def add_client(
        self, client_id: str, party_id: str, secret_hash: str, scopes: str, created_at: str
    ) -> None:
        """Store an API client; ``scopes`` space-separated, the secret only as its hash."""
        ...

    def client(self, client_id: str) -> Row | None:
        """The API client: its party, secret hash and space-separated scopes."""
        ...

    def secret(self, name: str) -> str | None:
        """A server secret (such as the key that signs access tokens)."""
        ...

    def add_secret(self, name: str, value: str) -> None: ...
