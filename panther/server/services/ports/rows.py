"""What every repository port shares: rows, and signatures collected on one transaction."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["CoSignatures", "Row"]

Row = dict[str, Any]
"""A stored row as the repositories return it: column name to value."""


class CoSignatures(Protocol):
    """The signatures two parties put on one transaction (a relation's agreement, a run's
    endorsement, an agreed statement, ...), stored until both have signed."""

    def lock(self) -> None:
        """Wait for every other unit of work that co-signs or appends to the ledger to end,
        and keep them waiting until this one ends: two signers who sign at the same instant
        then see each other's signature, and the one who signs last completes."""
        ...

    def rows(self) -> list[Row]: ...

    def add(self, party_id: str, signature: str, created_at: str) -> None: ...
