"""The repository port of review items, actions and signatures of match runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .system import CoSignatures

__all__ = ["ReviewRepository"]


class ReviewRepository(Protocol):
    """Review items, actions and signatures of match runs, in the carriers' language."""

    def signatures(self, proposal_id: str) -> CoSignatures: ...
