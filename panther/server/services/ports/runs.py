"""The repository port of match runs, their items, endorsements and fuzzy suggestions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .system import CoSignatures

__all__ = ["RunRepository"]


class RunRepository(Protocol):
    """Match runs, their items, endorsements and fuzzy suggestions, in the carriers' language."""

    def endorsements(self, run_id: str) -> CoSignatures: ...
