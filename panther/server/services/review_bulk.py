"""Bulk review: one action on every open item of a run that a filter selects, as one proposal
over the Merkle root of the items, or an agreement to every partner's proposal it selects."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..representations.panther.review import bulk_agreed_view, bulk_proposed_view
from .context import Caller
from .errors import Conflict, InvalidInput
from .ports import Ports, UnitOfWork
from .review_proposals import (
    PROPOSALS,
    ProposedItem,
    agree,
    invalid,
    load_run,
    propose,
    resolution_of,
)
from .review_state import REVIEWED, disputes_by_item, item_state, number_of, run_summary

__all__ = ["BULK_ACTIONS", "bulk_act"]

BULK_ACTIONS = (*PROPOSALS, "agree")


def _relative(diff: dict[str, Any]) -> Decimal | None:
    a, b = number_of(diff.get("supplierValue")), number_of(diff.get("customerValue"))
    if a is None or b is None:
        return None
    scale = max(abs(a), abs(b))
    return Decimal(0) if scale == 0 else abs(a - b) / scale


def _select(uow: UnitOfWork, run_id: str, flt: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """The run's items to review that the filter selects, in item order."""
    rows = uow.review.items_to_review(
        run_id,
        REVIEWED,
        class_=flt.get("class"),
        reason=flt.get("reason"),
        rule=flt.get("rule"),
        field=flt.get("field"),
        only_field=flt.get("onlyField"),
    )
    limit = flt.get("maxRelativeDifference")
    if limit is None:
        return rows
    out = []
    for item_no, item in rows:
        diffs = item.get("differences") or []
        rel = [_relative(d) for d in diffs]
        if not diffs or any(r is None or r >= Decimal(str(limit)) for r in rel):
            continue
        out.append((item_no, item))
    return out


def bulk_act(ports: Ports, caller: Caller, run_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """One action on every open item a filter selects, as one transaction over the Merkle
    root of the items (and, for ``agree``, one ReviewAgreed per proposal agreed to)."""
    action = body.get("action")
    if action not in BULK_ACTIONS:
        raise invalid("/action", f"a bulk action is one of {', '.join(BULK_ACTIONS)}")
    flt = body.get("filter") or {}
    if flt.get("maxRelativeDifference") is not None and not flt.get("onlyField"):
        raise invalid(
            "/filter/maxRelativeDifference",
            "give onlyField too: the relative difference is of that one field",
        )
    note = body.get("note")
    with ports.uow.write() as uow:
        run, relation, side = load_run(uow, caller, run_id)
        tickets = disputes_by_item(uow, run_id)
        rows = uow.review.items(run_id)
        selected = _select(uow, run_id, flt)
        if action == "agree":
            proposals: dict[str, list[int]] = {}
            for item_no, _ in selected:
                row = rows.get(item_no)
                if (
                    row is not None
                    and item_state(row, tickets.get(item_no)) == "proposed"
                    and json.loads(row["proposal"])["side"] != side
                ):
                    proposals.setdefault(row["proposal_id"], []).append(item_no)
            if not proposals:
                raise Conflict("no proposal of the partner's matches the filter")
            agreed = [
                agree(ports, uow, caller, run, relation, pid, {}) for pid in sorted(proposals)
            ]
            return bulk_agreed_view(run_id, agreed, run_summary(uow, run))
        items: list[ProposedItem] = []
        problems = []
        for item_no, item in selected:
            row = rows.get(item_no)
            state = item_state(row, tickets.get(item_no))
            if state != "open":
                continue  # agreed, disputed, or under a proposal already
            if action == "acceptValue" and item["class"] != "partial":
                continue
            try:
                items.append(
                    (item_no, resolution_of(action, side, item, body.get("fields"), note), row)
                )
            except InvalidInput as exc:
                problems.append((item_no, exc))
        if not items:
            raise Conflict("no open item matches the filter")
        done = propose(
            ports, uow, caller, run, relation, side, action, items, body, note, filter_=flt
        )
        return bulk_proposed_view(action, run_id, done, len(problems), run_summary(uow, run))
