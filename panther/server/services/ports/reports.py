"""The repository port of inventory reports and their records."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from .rows import Row

__all__ = ["STORED_STRINGS", "RecordFilter", "ReportRepository", "stored_string"]

STORED_STRINGS: tuple[tuple[str, ...], ...] = (
    ("name",),
    ("productOffering", "id"),
    ("productSpecification", "id"),
)
"""The JSON paths whose string values are stored beside each record (the product lists filter
on them), in the order of their places in a record's keys."""

MAX_STORED_STRING = 256
"""Longer strings are not stored beside the record (an index entry has a size limit)."""


def stored_string(value: object) -> str | None:
    """The value as stored beside its record: a JSON string that fits, else None (a number,
    an object, null, a string too long or holding NUL is not, and matches only through the
    record's JSON)."""
    if isinstance(value, str) and len(value) <= MAX_STORED_STRING and "\x00" not in value:
        return value
    return None


RecordKeys = tuple[str, str | None, str, str | None, str | None, str | None]
"""(product id, external id, status, then the ``stored_string`` of each of
``STORED_STRINGS``) of a record: the columns stored beside its JSON."""


@dataclass(frozen=True)
class RecordFilter:
    """Which records of a report a product list keeps; every condition must hold."""

    statuses: tuple[str, ...] | None = None
    """The reported statuses kept (None: any)."""
    product_id: str | None = None
    external_id: str | None = None
    strings: tuple[tuple[tuple[str, ...], str], ...] = ()
    """(JSON path, string): the record's value at the path is that JSON string; the paths are
    among ``STORED_STRINGS``."""

    @property
    def by_status_only(self) -> bool:
        return self.product_id is None and self.external_id is None and not self.strings

    @property
    def keeps_all(self) -> bool:
        return self.by_status_only and self.statuses is None


class ReportRepository(Protocol):
    """Inventory reports and their records, in the carriers' language."""

    def get(self, report_id: str) -> Row | None: ...

    def lock_inventory(self, relation_id: str, side: str) -> None:
        """Hold one side's inventory of a relation until the unit of work ends; taken before
        its current report is read, so a new version is always made from the one before."""
        ...

    def latest(self, relation_id: str, as_of: str, side: str) -> Row | None:
        """The highest version of one side's report for a date."""
        ...

    def newest(self, relation_id: str, side: str) -> Row | None:
        """One side's current report: the latest date, then the highest version."""
        ...

    def list_visible(
        self,
        party_id: str | None,
        *,
        relation_id: str | None,
        as_of: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Row], int]:
        """A page of the reports of the party's relations (every report for None), oldest
        first, and how many there are."""
        ...

    def add(self, report: Row) -> None: ...

    def add_records(
        self,
        report_id: str,
        keys: Iterable[RecordKeys],
        bodies: Sequence[bytes],
    ) -> int:
        """Store a report's records in bulk, in report order: the keys of each (see
        ``RecordKeys``) and its canonical JSON (``bodies[i]`` for the i-th key)."""
        ...

    def set_ledger_seq(self, report_id: str, seq: int) -> None:
        """Note the ledger entry that records the report."""
        ...

    def record_bodies(self, report_id: str) -> Iterator[str]:
        """The canonical JSON of a report's records in report order, streamed."""
        ...

    def record_body_chunks(self, report_id: str, size: int = 200_000) -> Iterator[list[str]]:
        """The same, ``size`` records at a time (the match run's hot read)."""
        ...

    def product_seq(self, report_id: str, product_id: str) -> int | None:
        """Where the product is in the report (its 0-based record number), if it is there."""
        ...

    def records(
        self,
        report_ids: Sequence[str],
        *,
        product_id: str | None = None,
        external_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Generator[tuple[str, str], None, None]:
        """(report id, canonical JSON) of the records of these reports, optionally of one
        product id and / or external id, by report then report order, streamed; close it
        to stop early."""
        ...

    def count_where(self, report_id: str, which: RecordFilter) -> int:
        """How many of the report's records pass the filter (counted in the database)."""
        ...

    def status_counts(self, report_id: str) -> dict[str, int]:
        """How many of the report's records carry each reported status, counted (for the
        reports stored without ``status_counts``)."""
        ...

    def record_page(
        self, report_id: str, which: RecordFilter, offset: int, limit: int
    ) -> list[str]:
        """The canonical JSON of the report's records that pass the filter, ``offset`` to
        ``offset + limit`` in report order, paged in the database."""
        ...

    # Relations as the product and report use cases look them up (the relation table).

    def relations_of(self, party_id: str | None) -> list[Row]:
        """The relations the party is a carrier of (every relation for None), by id."""
        ...

    def relations_between(
        self, party_id: str, partner_id: str, *, as_supplier: bool, as_customer: bool
    ) -> list[Row]:
        """The relations of the party with the partner in which the party is the supplier
        (``as_supplier``) or the customer (``as_customer``)."""
        ...

    def record_texts(self, report_id: str, seqs: Sequence[int]) -> dict[int, str]:
        """The canonical JSON of a report's records at these positions (seq -> text); a
        position the report lacks is missing from the result."""
        ...

    def product_ids(self, report_id: str, seqs: Iterable[int]) -> dict[int, str]:
        """Record position -> product id for many records of a report (a query per 5,000)."""
        ...

    def record_ids(self, report_id: str, seqs: Iterable[int]) -> dict[int, tuple[str, str | None]]:
        """Record position -> (product id, externalId or None) for records of a report (a
        query per 5,000); a position the report lacks is missing from the result."""
        ...

    def record_seqs(self, report_id: str, product_ids: Iterable[str]) -> set[int]:
        """The positions of a report's records of the products ``product_ids`` (a query per
        5,000)."""
        ...
