"""The repository port of statements, their lines and endorsements, bill requests, and what
billing reads of runs, reports and disputes to make a statement."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .rows import CoSignatures, Row

__all__ = ["BillingRepository", "Days", "StatementTaken"]


@dataclass(frozen=True)
class Days:
    """Days from ``first`` to ``last``, both included (YYYY-MM-DD; None: unbounded)."""

    first: str | None = None
    last: str | None = None

    def __and__(self, other: Days) -> Days:
        """The days in both."""
        firsts = [d for d in (self.first, other.first) if d is not None]
        lasts = [d for d in (self.last, other.last) if d is not None]
        return Days(max(firsts, default=None), min(lasts, default=None))


@dataclass
class StatementTaken(Exception):
    """Another writer stored this version of the relation's statement of the period first."""

    relation_id: str
    period: str
    version: int


class BillingRepository(Protocol):
    """Statements, their lines and endorsements, bill requests, in the carriers' language.

    ``viewer`` narrows a listing to the relations a party carries (as supplier or customer);
    None lists every relation's (the operator)."""

    # ---- what a statement is made of (read from runs, reports and disputes) ----

    def final_run(self, relation_id: str, before: str) -> Row | None:
        """The relation's newest final run dated before ``before`` (an ISO date)."""
        ...

    def run_items(self, run_id: str) -> list[tuple[int, dict[str, Any]]]:
        """A run's items (number, decoded body) in item order."""
        ...

    def records(self, report_id: str, seqs: Collection[int]) -> dict[int, dict[str, Any]]:
        """Records of a report by position, decoded."""
        ...

    def seller_records(
        self, run_id: str, product_ids: Collection[str]
    ) -> dict[str, dict[str, Any]]:
        """The supplier's records of these products as reported in the run (first by position)."""
        ...

    def disputed_products(self, relation_id: str, statuses: Collection[str]) -> set[str]:
        """Products of the relation named by a dispute in one of ``statuses``."""
        ...

    def line_disputed(self, line_id: str, statuses: Collection[str]) -> bool:
        """Whether a dispute in one of ``statuses`` names this bill line."""
        ...

    def credits(
        self, relation_id: str, period: str, *, uncarried: bool
    ) -> list[tuple[str, dict[str, Any]]]:
        """(ticket id, credit Money) of the relation's closed disputes with a credit that the
        ``period``'s statement carries, and with ``uncarried`` those no statement carries yet."""
        ...

    def carry_credits(self, ticket_ids: Collection[str], period: str) -> None:
        """Record that the ``period``'s statement carries these disputes' credits."""
        ...

    # ---- statements ----

    def statement(self, bill_id: str) -> Row | None: ...

    def latest_statement(self, relation_id: str, period: str) -> Row | None:
        """The highest version of the relation's statement of ``period``."""
        ...

    def add_statement(self, row: Row, lines: Iterable[Row]) -> None:
        """Store a statement and its lines (in bulk); StatementTaken if its version exists."""
        ...

    def supersede(self, bill_id: str, by: str, revision: int, updated_at: str) -> None: ...

    def change_statement(self, bill_id: str, revision: int, values: Row) -> bool:
        """Write ``values`` if the statement is still at ``revision``; False if it is not."""
        ...

    def list_statements(
        self,
        viewer: str | None,
        *,
        bill_ids: Collection[str] | None = None,
        states: Collection[str] | None = None,
        relation_id: str | None = None,
        supplier_id: str | None = None,
        customer_id: str | None = None,
        carrier_id: str | None = None,
        starts: Days | None = None,
        ends: Days | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[Row], int]:
        """Statements ``offset`` to ``offset + limit`` (all from ``offset`` for None), oldest
        first, each with its relation's ``supplier_id`` and ``customer_id``; and how many
        there are. Every filter given must hold: the id one of ``bill_ids``; the relation's
        supplier, customer, either (``carrier_id``); the period's first day among ``starts``,
        the day after its last among ``ends``."""
        ...

    def endorsements(self, bill_id: str) -> CoSignatures:
        """The signatures over the statement's StatementAgreed."""
        ...

    def unfinished_agreements(self) -> list[Row]:
        """Statements both carriers signed the StatementAgreed of that were never agreed
        (no agreed seq): ``id`` and ``relation_id`` of each."""
        ...

    # ---- lines ----

    def line(self, line_id: str) -> Row | None: ...

    def lines(self, bill_id: str) -> list[Row]:
        """A statement's lines in line order."""
        ...

    def list_lines(
        self,
        viewer: str | None,
        *,
        line_id: str | None = None,
        bill_id: str | None = None,
        kind: str | None = None,
        product_id: str | None = None,
        relation_id: str | None = None,
        is_billed: bool | None = None,
        offset: int,
        limit: int,
    ) -> tuple[list[Row], int]:
        """A page of lines (by statement, then line number) and how many match."""
        ...

    def statement_texts(self, bill_ids: Collection[str]) -> list[Row]:
        """``id``, ``relation_id`` and the ``statement`` JSON of these statements."""
        ...

    # ---- statement requests (customerBillOnDemand) ----

    def add_request(self, row: Row) -> None: ...

    def list_requests(
        self,
        viewer: str | None,
        *,
        request_id: str | None = None,
        state: str | None = None,
        relation_id: str | None = None,
        offset: int,
        limit: int,
    ) -> tuple[list[Row], int]:
        """A page of requests, oldest first, and how many match."""
        ...
