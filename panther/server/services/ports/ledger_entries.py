"""The repository port of what verification and replay read of the ledger projections."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from .rows import Row

__all__ = ["LedgerEntryRepository"]


class LedgerEntryRepository(Protocol):
    """What verification and replay read of the projections the ledger entries made.

    A projection is named by its table: ``party``, ``relation``, ``relation_agreement``,
    ``inventory_report``, ``match_run``, ``match_endorsement``. Its JSON columns (terms,
    counts, profile) are handed out and taken in decoded.
    """

    def relation_parties(self, relation_id: str) -> tuple[str, str] | None:
        """(supplier id, customer id) of a relation: who sees the relation's entries."""
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
