"""The repository port of trouble tickets, their disputed entities and resolution signatures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .system import CoSignatures

__all__ = ["DisputeRepository"]


class DisputeRepository(Protocol):
    """Trouble tickets, their disputed entities and resolution signatures."""

    def signatures(self, ticket_id: str, proposal_no: int) -> CoSignatures: ...
