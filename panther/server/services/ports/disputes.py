"""The repository port of trouble tickets, their disputed entities and resolution signatures."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Protocol

from .rows import CoSignatures, Row

__all__ = ["DisputeRepository", "external_key"]


def external_key(external_id: object) -> str | None:
    """What a ticket stores of its ``externalId`` (``external_key``) and the ticket list
    filters on: the SHA-256 (hex) of the string, of one size whatever the string holds (a
    NUL, a lone surrogate, any length); None for a ticket without one (or a non-string)."""
    if not isinstance(external_id, str):
        return None
    return hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()


class DisputeRepository(Protocol):
    """Trouble tickets, their disputed entities and resolution signatures, and what a dispute
    reads of the match runs and bills it names."""

    # ---- trouble tickets

    def ticket(self, ticket_id: str, *, for_update: bool = False) -> Row | None:
        """The trouble_ticket row; ``for_update`` holds it until the unit of work ends."""
        ...

    def tickets(
        self,
        party_id: str | None,
        *,
        ticket_id: str | None = None,
        status: str | None = None,
        ticket_type: str | None = None,
        carrier_id: str | None = None,
        external_id: str | None = None,
        entity_id: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[Row], int]:
        """Tickets ``offset`` to ``offset + limit`` (all from ``offset`` for None) of the
        relations ``party_id`` is a carrier of (every relation for None), of the relations
        ``carrier_id`` is a carrier of when given, oldest first; and how many there are.
        ``external_id`` keeps the tickets whose externalId is that string; ``entity_id`` those
        whose view names it among the related entities: an entity the dispute is about, the
        ledger entry of one of its transactions, or the bill its agreed credit is on."""
        ...

    def add_ticket(self, ticket: Row, entities: list[Row]) -> None:
        """A new ticket and one dispute_entity row per disputed entity (without ticket_id)."""
        ...

    def add_ledger_entry(self, ticket_id: str, seq: int) -> None:
        """Note the ledger entry of one of the ticket's transactions (a related entity)."""
        ...

    def update_ticket(self, ticket_id: str, revision: int, values: Row) -> bool:
        """Write ``values`` over the ticket if it is still at ``revision``; False if not."""
        ...

    def serialise_openings(self, relation_id: str) -> None:
        """Hold the relation until the unit of work ends, so that two openings of disputes in
        one relation run one after the other (PostgreSQL; SQLite has a single writer)."""
        ...

    # ---- disputed entities

    def disputed_in(self, entity_ids: list[str], statuses: Iterable[str]) -> tuple[str, str] | None:
        """One of the entities that a ticket in one of ``statuses`` names, and that ticket's id."""
        ...

    def disputes_naming(self, entity_ids: list[str]) -> list[Row]:
        """(entity_id, id, status, body) of every ticket naming one of the entities, oldest
        ticket first."""
        ...

    def disputed_products(self, ticket_id: str) -> list[str]:
        """The product ids of the entities a ticket names (entities without one left out)."""
        ...

    def signatures(self, ticket_id: str, proposal_no: int) -> CoSignatures:
        """The signatures over a resolution proposal's DisputeResolved transaction."""
        ...

    def unfinished_resolutions(self) -> list[Row]:
        """Resolution proposals both carriers signed that the ticket was not resolved on
        (no resolved seq, or another proposal): ``id`` (the ticket's), ``relation_id`` and
        ``proposal_no`` of each."""
        ...

    # ---- what a dispute names, in other aggregates

    def match_item(self, run_id: str, item_no: int) -> Row | None:
        """A match item's body with its run's relation_id, supplier_report_id and
        customer_report_id."""
        ...

    def inventory_record(self, report_id: str, seq: int) -> Row | None:
        """A report record's product_id and body."""
        ...

    def credited_on(self, periods: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """For each (relation id, billing period): the id of the period's newest statement,
        the bill that carries the credits agreed for it; periods without one left out."""
        ...
