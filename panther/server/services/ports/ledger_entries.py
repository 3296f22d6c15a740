"""The repository port of what verification and replay read of the ledger projections."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from panther.ledger.transactions import LedgerEntry

from .rows import Row

__all__ = ["LedgerEntryRepository"]


class LedgerEntryRepository(Protocol):
    """What verification and replay read of the projections the ledger entries made.

    A projection is named by its table: ``party``, ``relation``, ``relation_agreement``,
    ``inventory_report``, ``match_run``, ``match_endorsement``. Its JSON columns (terms,
    counts, profile) are handed out and taken in decoded.
    """

    def record_visibility(self, entries: Iterable[LedgerEntry]) -> int:
        """Note whose each entry is (its relation, or the party it registers); an entry
        already noted is left as it is. Returns how many were given."""
        ...

    def noted_top(self) -> int:
        """The highest seq whose visibility is noted, -1 for none."""
        ...

    def noted_count(self) -> int:
        """How many entries' visibility is noted."""
        ...

    def visible_seqs(
        self, party_id: str | None, *, tx_type: str | None, offset: int, limit: int
    ) -> tuple[list[int], int]:
        """A page of the seqs of the entries ``party_id`` sees (those of its relations and
        of itself; every entry for None), of one type if given, oldest first, and how many
        there are in all. Filtered and paged in the database; a page of one type, or a
        carrier's, costs about the same at any offset."""
        ...

    def is_visible(self, seq: int, party_id: str) -> bool:
        """Whether entry ``seq`` is noted and of one of the party's relations or of itself."""
        ...

    def projection(self, table: str, key: dict[str, Any]) -> Row | None:
        """The row of projection ``table`` with ``key`` (column -> value)."""
        ...

    def recorded_rows(self, table: str) -> Iterator[Row]:
        """Every row of projection ``table`` that is on the ledger, streamed: a relation
        once it says it is agreed or has a ledger_seq, an agreement of such a relation, an
        endorsement once its run says it is final or has an endorsed_seq, any other row."""
        ...

    def count(self, table: str) -> int:
        """How many rows projection ``table`` holds."""
        ...

    def insert_rows(self, table: str, rows: Iterable[Row]) -> int:
        """Insert rows into projection ``table`` in one statement; returns how many."""
        ...

    def report_at(self, ledger_seq: int) -> Row | None:
        """The inventory report an InventoryReported entry at ``ledger_seq`` attests."""
        ...

    def record_leaves(self, report_id: str) -> list[bytes]:
        """The Merkle leaves of a report: its records' canonical JSON in report order."""
        ...

    def item_leaves(self, run_id: str) -> list[bytes]:
        """The Merkle leaves of a match run: its items' canonical JSON in item order."""
        ...

    def statement_text(self, statement_id: str) -> str | None:
        """A billing statement's canonical JSON as stored."""
        ...

    def agreed_resolutions(
        self, run_id: str, proposal_id: str, agreed_seq: int
    ) -> list[tuple[int, Any]]:
        """(item number, resolution) of the review items a ReviewAgreed entry agreed."""
        ...
