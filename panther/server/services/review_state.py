"""The review state of a run's items as both carriers see it: what is open, proposed, agreed
or disputed, each item's history, and the agreements that carry over to later runs in which
an item is unchanged. Read by match runs, bills and verification; `review` acts on it."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from panther.ledger.canonical import canonical_json

from ..representations.panther.review import item_etag, item_review_view
from .disputes import OPEN_STATUSES
from .ports import UnitOfWork

__all__ = [
    "REVIEWED",
    "carry_over",
    "disputes_by_item",
    "etag",
    "item_keys",
    "item_review",
    "item_state",
    "leaves",
    "new_review_row",
    "number_of",
    "resolutions_for_run",
    "run_summary",
]

REVIEWED = ("partial", "mismatch")


def etag(row: dict[str, Any] | None) -> str:
    """The ETag of an item's review row (None: nobody acted on the item yet)."""
    return item_etag(row["revision"] if row else 0)


def disputes_by_item(uow: UnitOfWork, run_id: str) -> dict[int, dict[str, Any]]:
    """The newest dispute on each item of a run: item number -> {id, status, resolution}."""
    return uow.review.newest_disputes(run_id)


def item_state(row: dict[str, Any] | None, dispute: dict[str, Any] | None) -> str:
    if row is not None and row["state"] == "agreed":
        return "agreed"
    if dispute is not None:
        if dispute["status"] in OPEN_STATUSES:
            return "disputed"
        if dispute["status"] == "closed":
            return "agreed"
    return row["state"] if row is not None else "open"


def resolutions_for_run(uow: UnitOfWork, run_id: str) -> dict[int, dict[str, Any]]:
    """Item number -> {"state", "resolution"} for every reviewed item of a run that is not
    plainly open: agreed by review or by a closed dispute, disputed, or proposed."""
    rows = uow.review.items(run_id)
    tickets = disputes_by_item(uow, run_id)
    out: dict[int, dict[str, Any]] = {}
    for item_no in rows.keys() | tickets.keys():
        row, dispute = rows.get(item_no), tickets.get(item_no)
        state = item_state(row, dispute)
        if row is not None and row["state"] == "agreed":
            resolution = json.loads(row["resolution"] or "null")
        elif state == "agreed" and dispute is not None:
            resolution = dispute["resolution"]
        else:
            resolution = None
        out[item_no] = {"state": state, "resolution": resolution}
    return out


def run_summary(uow: UnitOfWork, run: dict[str, Any]) -> dict[str, int]:
    """How many of the run's review items are open, proposed, agreed and disputed."""
    counts = json.loads(run["counts"])
    total = int(counts.get("total", 0)) - int(counts.get("matched", 0))
    states = [v["state"] for v in resolutions_for_run(uow, run["id"]).values()]
    agreed, disputed, proposed = (states.count(s) for s in ("agreed", "disputed", "proposed"))
    return {
        "items": total,
        "open": total - agreed - disputed - proposed,
        "proposed": proposed,
        "agreed": agreed,
        "disputed": disputed,
    }


def item_review(uow: UnitOfWork, run_id: str, item_no: int) -> tuple[dict[str, Any], str]:
    """The review of one item as both carriers see it, and its ETag."""
    row = uow.review.item(run_id, item_no)
    dispute = disputes_by_item(uow, run_id).get(item_no)
    ids = {row["proposal_id"]} if row and row["proposal_id"] else set()
    actions = uow.review.item_actions(run_id, item_no, ids)
    return item_review_view(row, item_state(row, dispute), dispute, actions), etag(row)


def leaves(items: list[tuple[int, dict[str, Any]]]) -> list[bytes]:
    return [canonical_json({"itemNo": n, "resolution": r}) for n, r in sorted(items)]


def new_review_row(run: dict[str, Any], item_no: int, *, at: str, **values: Any) -> dict[str, Any]:
    """A review_item row: an open item at revision 1, with ``values`` over it."""
    return {
        "run_id": run["id"],
        "item_no": item_no,
        "relation_id": run["relation_id"],
        "state": "open",
        "revision": 1,
        "proposal_id": None,
        "proposal": None,
        "resolution": None,
        "agreed_seq": None,
        "item_key": None,
        "carried_from": None,
        "updated_at": at,
        **values,
    }


def number_of(value: Any) -> Decimal | None:
    """A number, or the `value` of a Money object, as a Decimal (None if it is neither)."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _key(item: dict[str, Any], supplier_ids: list[str], customer_ids: list[str]) -> str:
    shape = {
        "class": item["class"],
        "reason": item.get("reason"),
        "supplier": supplier_ids,
        "customer": customer_ids,
        "differences": [
            {
                "field": d["field"],
                "supplier": d.get("supplierValue"),
                "customer": d.get("customerValue"),
            }  # fmt: skip
            for d in item.get("differences") or []
        ],
    }
    return hashlib.sha256(canonical_json(shape)).hexdigest()


def _keys(uow: UnitOfWork, run: dict[str, Any], items: list[tuple[int, Any]]) -> dict[int, str]:
    """The item key of each of ``items`` (number, body) of ``run``, with one product-id
    lookup per side for all of them."""
    ids = {
        side: uow.reports.product_ids(
            run[f"{side}_report_id"], {r for _, item in items for r in item[f"{side}Refs"]}
        )
        for side in ("supplier", "customer")
    }
    return {
        n: _key(
            item,
            sorted(ids["supplier"][r] for r in item["supplierRefs"]),
            sorted(ids["customer"][r] for r in item["customerRefs"]),
        )
        for n, item in items
    }


def item_keys(uow: UnitOfWork, run: dict[str, Any], item_nos: list[int]) -> dict[int, str]:
    """The item key of each of the run's items ``item_nos`` (what identifies the item in a
    later run: its class, differences and the products on both sides)."""
    return _keys(uow, run, uow.review.item_bodies(run["id"], set(item_nos)))


def carry_over(uow: UnitOfWork, run: dict[str, Any], *, at: str) -> int:
    """Copy the agreements of earlier runs of the relation to the items of ``run`` that are
    unchanged (same item key); returns how many were carried. Only items holding a product
    that an agreement was about are looked at, so a large run without agreements costs two
    queries."""
    agreed = {
        old["item_key"]: old
        for old in uow.review.agreed_in_other_runs(run["relation_id"], run["id"])
    }
    if not agreed:
        return 0
    # The products those agreements were about, from their runs, a run at a time.
    products: dict[str, set[str]] = {"supplier": set(), "customer": set()}
    by_run: dict[str, set[int]] = {}
    for old in agreed.values():
        by_run.setdefault(old["run_id"], set()).add(old["item_no"])
    for old_run_id, item_nos in by_run.items():
        old_run = uow.runs.get(old_run_id)
        if old_run is None:
            continue
        items = uow.review.item_bodies(old_run_id, item_nos)
        for side in ("supplier", "customer"):
            refs = {r for _, item in items for r in item[f"{side}Refs"]}
            products[side].update(
                uow.reports.product_ids(old_run[f"{side}_report_id"], refs).values()
            )
    seqs = {
        side: uow.reports.record_seqs(run[f"{side}_report_id"], ids)
        for side, ids in products.items()
    }
    existing = uow.review.item_nos(run["id"])
    candidates = [
        (item_no, item)
        for item_no, item in uow.review.items_to_review(run["id"], REVIEWED)
        if item_no not in existing
        and (
            seqs["supplier"].intersection(item["supplierRefs"])
            or seqs["customer"].intersection(item["customerRefs"])
        )
    ]
    carried = []
    for item_no, key in _keys(uow, run, candidates).items():
        agreement = agreed.get(key)
        if agreement is None:
            continue
        carried.append(
            new_review_row(
                run,
                item_no,
                at=at,
                state="agreed",
                proposal_id=agreement["proposal_id"],
                proposal=agreement["proposal"],
                resolution=agreement["resolution"],
                agreed_seq=agreement["agreed_seq"],
                item_key=key,
                carried_from=agreement["run_id"],
            )
        )
    # One executemany for all of them: a re-match may carry thousands of agreements.
    uow.review.add_items(carried)
    return len(carried)
