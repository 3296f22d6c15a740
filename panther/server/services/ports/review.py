"""The repository port of review items, actions and signatures of match runs, and of what the
review reads of runs, their items, the inventory records and the disputes on items."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from .rows import CoSignatures, Row

__all__ = ["ReviewRepository"]


class ReviewRepository(Protocol):
    """Review items, actions and signatures of match runs, in the carriers' language."""

    # ---- review items (a row per item a carrier acted on; an item without one is open) ----

    def item(self, run_id: str, item_no: int) -> Row | None: ...

    def items(self, run_id: str) -> dict[int, Row]:
        """The review rows of a run, by item number."""
        ...

    def item_nos(self, run_id: str) -> set[int]:
        """The numbers of the items of a run that have a review row."""
        ...

    def proposal_items(self, run_id: str, proposal_id: str) -> list[Row]:
        """The review rows that carry ``proposal_id`` (in any state)."""
        ...

    def agreed_in_other_runs(self, relation_id: str, run_id: str) -> list[Row]:
        """The agreed rows with an item key of the relation's runs other than ``run_id``,
        oldest first."""
        ...

    def add_item(self, row: Row) -> bool:
        """Insert a review row; False if the item has one already (someone acted meanwhile)."""
        ...

    def add_items(self, rows: Sequence[Row]) -> None:
        """Insert many review rows at once."""
        ...

    def update_item(self, run_id: str, item_no: int, revision: int, values: Row) -> bool:
        """Write ``values`` over the item's row if it is still at ``revision``; False if not."""
        ...

    # ---- actions and signatures ----

    def action(self, action_id: str) -> Row | None: ...

    def item_actions(self, run_id: str, item_no: int, proposal_ids: set[str]) -> list[Row]:
        """The actions on an item and on the proposals ``proposal_ids``, oldest first."""
        ...

    def add_action(self, row: Row) -> None: ...

    def signatures(self, proposal_id: str) -> CoSignatures: ...

    def unfinished_agreements(self) -> list[Row]:
        """Review proposals both carriers signed the ReviewAgreed of none of whose items is
        agreed: ``id`` (the proposal's), ``relation_id`` and ``run_id`` of each."""
        ...

    # ---- runs, items, records and disputes, as the review reads them ----

    def item_bodies(self, run_id: str, item_nos: Iterable[int]) -> list[tuple[int, Any]]:
        """(item number, item) of the run's items ``item_nos`` (a query per 5,000)."""
        ...

    def items_to_review(
        self,
        run_id: str,
        classes: Sequence[str],
        *,
        class_: str | None = None,
        reason: str | None = None,
        rule: str | None = None,
        field: str | None = None,
        only_field: str | None = None,
    ) -> list[tuple[int, Any]]:
        """(item number, item) of the run's items of ``classes`` in item order, narrowed to
        a class, reason, rule, a differing field, or items where only ``only_field`` differs."""
        ...

    def newest_disputes(self, run_id: str) -> dict[int, Row]:
        """The newest dispute on each item of a run: item number -> {id, status, resolution}."""
        ...
