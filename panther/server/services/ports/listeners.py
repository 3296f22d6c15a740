"""The repository port of hub listeners (event subscriptions) of every API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .rows import Row

__all__ = ["ListenerRepository"]


class ListenerRepository(Protocol):
    """Hub listeners (event subscriptions) of every API, in the carriers' language."""

    def add(self, listener: Row) -> None: ...

    def find(self, party_id: str, api: str, listener_id: str) -> Row | None:
        """The party's listener on ``api``; None if it is another party's or another API's."""
        ...

    def remove(self, party_id: str, api: str, listener_id: str) -> bool:
        """Remove the party's listener on ``api``; False if there was none."""
        ...

    def lock_party(self, party_id: str) -> None:
        """Wait until no other unit of work adds the party's listeners, and keep them from
        it until this one ends (a count then an add is exact)."""
        ...

    def count_of(self, party_id: str) -> int:
        """How many listeners the party has, on every API."""
        ...

    def of_parties(self, api: str, party_ids: Sequence[str]) -> list[Row]:
        """The listeners of these parties on ``api``."""
        ...
