"""The review of match items in panther v1: an item's review and history, its ETag, and the
result of a bulk review action."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = [
    "action_view",
    "bulk_agreed_view",
    "bulk_proposed_view",
    "item_etag",
    "item_review_view",
]


def item_etag(revision: int) -> str:
    """The ETag of an item's review: its revision (0 before anyone acted on it)."""
    return f'"{revision}"'


def action_view(row: dict[str, Any]) -> dict[str, Any]:
    """One review action (a `review_action` row) as the item's history shows it; the item
    numbers a bulk action covered are left out."""
    body = json.loads(row["body"])
    return {
        "id": row["id"],
        "action": row["action"],
        "party": row["party_id"],
        "date": row["created_at"],
        "ledgerSeq": row["ledger_seq"],
        **{k: v for k, v in body.items() if k != "items"},
    }


def item_review_view(
    row: dict[str, Any] | None,
    state: str,
    dispute: dict[str, Any] | None,
    actions: Iterable[dict[str, Any]],
) -> dict[str, Any]:
    """The review of one item as both carriers see it, from its `review_item` row (None while
    nobody acted on it), its state, its newest dispute and its `review_action` rows."""
    view = {
        "state": state,
        "revision": row["revision"] if row else 0,
        "proposal": json.loads(row["proposal"]) if row and row["proposal"] else None,
        "resolution": json.loads(row["resolution"]) if row and row["resolution"] else None,
        "agreedSeq": row["agreed_seq"] if row else None,
        "carriedFrom": row["carried_from"] if row else None,
        "dispute": dispute,
        "actions": [action_view(a) for a in actions],
    }
    # An item agreed by closing its dispute stands as the dispute resolved it.
    if view["resolution"] is None and state == "agreed" and dispute is not None:
        view["resolution"] = dispute["resolution"]
    return view


def bulk_agreed_view(
    run_id: str, agreed: list[dict[str, Any]], review: dict[str, int]
) -> dict[str, Any]:
    """A bulk ``agree``: the proposals agreed to (each with its ReviewAgreed entry) and the
    run's review counts after it."""
    return {
        "action": "agree",
        "runId": run_id,
        "itemCount": sum(a["itemCount"] for a in agreed),
        "proposals": [
            {
                "proposalId": a["proposalId"],
                "itemCount": a["itemCount"],
                "itemsRoot": a["itemsRoot"],
                "ledgerSeq": a["ledgerSeq"],
            }
            for a in agreed
        ],
        "review": review,
    }


def bulk_proposed_view(
    action: str, run_id: str, proposal: dict[str, Any], skipped: int, review: dict[str, int]
) -> dict[str, Any]:
    """A bulk proposal: its id, items, Merkle root and ledger entry, how many selected items
    it could not cover, and the run's review counts after it."""
    return {
        "action": action,
        "runId": run_id,
        "proposalId": proposal["proposalId"],
        "itemCount": proposal["itemCount"],
        "itemsRoot": proposal["itemsRoot"],
        "ledgerSeq": proposal["ledgerSeq"],
        "skipped": skipped,
        "review": review,
    }
