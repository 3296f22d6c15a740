"""The repository port of parties, their custodial keys, API clients and server secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .system import Row

__all__ = ["PartyRepository"]


class PartyRepository(Protocol):
    """Parties, their custodial keys, API clients and server secrets, in the carriers' language."""

    def get(self, party_id: str) -> Row | None: ...

    def sealed_key(self, party_id: str) -> bytes | None:
        """The custodial key of the party, sealed by the keystore; None if it keeps its own."""
        ...
