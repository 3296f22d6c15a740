"""The repository port of relations and their agreements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .rows import CoSignatures, Row

__all__ = ["RelationRepository"]


class RelationRepository(Protocol):
    """Relations and their agreements, in the carriers' language."""

    def get(self, relation_id: str) -> Row | None: ...

    def add(self, relation: Row) -> None: ...

    def hold_proposals_of(self, party_id: str) -> None:
        """Serialise the proposals of this party until the unit of work ends."""
        ...

    def find_proposal(
        self, proposed_by: str, supplier_id: str, customer_id: str, profile_hash: str, terms: str
    ) -> Row | None:
        """The relation this party proposed with these parties, profile and terms, if any."""
        ...

    def pending_proposals(self, proposed_by: str) -> int:
        """How many relations this party proposed await agreement."""
        ...

    def mark_agreed(self, relation_id: str, ledger_seq: int) -> None:
        """Both parties agreed: the relation is in force from this ledger entry."""
        ...

    def list_visible(
        self, party_id: str | None, state: str | None, offset: int, limit: int
    ) -> tuple[list[Row], int]:
        """A page of the relations ``party_id`` is supplier or customer in (all when None),
        in ``state`` if given, oldest first, and how many there are."""
        ...

    def agreements(self, relation_id: str) -> CoSignatures: ...

    def unfinished_agreements(self) -> list[Row]:
        """Relations both carriers signed the agreement of that are not agreed (or have no
        ledger seq): ``id`` and ``relation_id`` (the same) of each."""
        ...

    def agreements_of(self, relation_ids: Sequence[str]) -> dict[str, list[Row]]:
        """The agreement signatures of these relations, by relation (one query)."""
        ...
