"""The repository port of match runs, their items, endorsements and fuzzy suggestions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from .rows import CoSignatures, Row

__all__ = ["RunRepository"]


class RunRepository(Protocol):
    """Match runs, their items, endorsements and fuzzy suggestions, in the carriers' language."""

    # Runs.

    def get(self, run_id: str) -> Row | None: ...

    def newest(self, relation_id: str, as_of: str, profile_hash: str | None = None) -> Row | None:
        """The newest run for the relation and date (matched with that profile, if given)."""
        ...

    def list_visible(
        self,
        party_id: str | None,
        *,
        relation_id: str | None,
        as_of: str | None,
        state: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Row], int]:
        """A page of the runs of the relations ``party_id`` is a carrier of (every run for
        None: the operator), oldest first, and how many there are in all."""
        ...

    def add(self, row: Row) -> None: ...

    def set_recorded(
        self, run_id: str, *, ledger_seq: int, items_root: str, item_count: int
    ) -> None:
        """The run's MatchRecorded entry and the items it commits to."""
        ...

    def set_final(self, run_id: str, endorsed_seq: int) -> None:
        """Both carriers endorsed the run (its MatchEndorsed entry)."""
        ...

    def endorsements(self, run_id: str) -> CoSignatures: ...

    def unfinished_endorsements(self) -> list[Row]:
        """Runs both carriers endorsed that are not final (or have no endorsed seq): ``id``
        and ``relation_id`` of each."""
        ...

    def endorsements_of(self, run_ids: Sequence[str]) -> dict[str, list[Row]]:
        """The endorsements of each of the runs (one query for a page of runs)."""
        ...

    # Items.

    def add_items(self, rows: Iterable[Sequence[Any]]) -> int:
        """Store a run's items in bulk, each ``(run_id, item_no, class, reason, rule,
        diff_fields, body)``; returns how many."""
        ...

    def add_item_refs(self, run_id: str, side: str, item_nos: npt.NDArray[np.int32]) -> None:
        """Store which item each record of one side's report is in: ``item_nos[ref]``, -1
        for a position no item holds (the items' product-id filters read it)."""
        ...

    def item(self, run_id: str, item_no: int) -> Row | None: ...

    def items(
        self,
        run_id: str,
        *,
        class_: str | None,
        reason: str | None,
        rule: str | None,
        field: str | None,
        offset: int,
        limit: int,
        products: Sequence[tuple[str | None, str]] = (),
    ) -> tuple[list[Row], int]:
        """A page of a run's items in item order (only those of the class, reason, rule and
        with a difference in the field, for each one given; for each ``(side, product id)``
        of `products` only those holding a record with that id on that side, or on either
        side for side None), and how many there are in all."""
        ...

    # Fuzzy suggestions.

    def add_suggestions(self, rows: Sequence[Row]) -> None: ...

    def suggestions_on(self, run_id: str, item_nos: Sequence[int]) -> list[Row]:
        """The suggestions in which any of the items is the supplier or the customer item."""
        ...

    def suggestion(self, run_id: str, supplier_item: int, customer_item: int) -> Row | None: ...

    def suggestion_between(self, run_id: str, item_no: int, other_no: int) -> Row | None:
        """The suggestion pairing the two items, whichever side each is on."""
        ...

    def set_suggestion_confirmed(
        self, run_id: str, supplier_item: int, customer_item: int, confirmed_by: str
    ) -> None:
        """Who confirmed the pair so far (a JSON list of party ids)."""
        ...

    def set_suggestion_linked(
        self, run_id: str, supplier_item: int, customer_item: int, linked_run_id: str
    ) -> None:
        """The run in which the confirmed pair is linked."""
        ...

    # What a run reads of the relation and its reports (tables of other aggregates).
