"""The repository port of statements, their lines and endorsements, bill requests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .system import CoSignatures

__all__ = ["BillingRepository"]


class BillingRepository(Protocol):
    """Statements, their lines and endorsements, bill requests, in the carriers' language."""

    def endorsements(self, bill_id: str) -> CoSignatures: ...
