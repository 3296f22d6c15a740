"""The repository port of relations and their agreements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .system import CoSignatures

__all__ = ["RelationRepository"]


class RelationRepository(Protocol):
    """Relations and their agreements, in the carriers' language."""

    def agreements(self, relation_id: str) -> CoSignatures: ...
