"""The repository port of idempotency keys (requests sent with ``Idempotency-Key``)."""

from __future__ import annotations

from typing import Protocol

from .rows import Row

__all__ = ["IdempotencyRepository"]


class IdempotencyRepository(Protocol):
    """Requests by (caller, key): in flight, or done with the response to replay."""

    def get(self, owner: str, key: str) -> Row | None: ...

    def claim(self, row: Row) -> bool:
        """Add the in-flight row; False (and nothing written) if the key is taken."""
        ...

    def complete(self, owner: str, key: str, values: Row) -> None:
        """Store the fingerprint and the response of the request that claimed the key."""
        ...

    def release(self, owner: str, key: str) -> None:
        """Free a key still in flight (the request applied nothing)."""
        ...

    def forget(self, owner: str, key: str) -> None:
        """Remove the key, whatever its state (it expired or was abandoned)."""
        ...

    def purge(self, before: str) -> int:
        """Remove every key that expired before this instant; how many."""
        ...
