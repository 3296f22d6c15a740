"""Reading match runs: one run, the runs a carrier sees, a run's items (with their records,
fuzzy candidates and review state) and why an item is in its class."""

from __future__ import annotations

import json
from typing import Any

import orjson

from panther.matching.coverage import with_missing_noted
from panther.matching.explain import explain
from panther.matching.profile import DEFAULT_PROFILE, MatchProfile

from ..representations.panther import runs as views
from . import review_state
from .context import Caller
from .errors import Conflict, NotFound
from .ports import Ports, Row, UnitOfWork
from .relations import load_profile, relation_for
from .run_transactions import endorsement_digest

__all__ = [
    "explain_item",
    "get_item",
    "get_run",
    "list_items",
    "list_runs",
    "present_run",
    "run_for",
]


def run_for(uow: UnitOfWork, caller: Caller, run_id: str) -> Row:
    """The run if the caller may see its relation; anyone else gets 404, never 403."""
    row = uow.runs.get(run_id)
    if row is None:
        raise NotFound(f"no match run {run_id}")
    try:
        relation_for(uow, caller, row["relation_id"])
    except NotFound:
        raise NotFound(f"no match run {run_id}") from None
    return row


def present_run(ports: Ports, uow: UnitOfWork, row: Row, endorsements: list[Row]) -> dict[str, Any]:
    """The run as panther v1 shows it, with the review counts of its items."""
    return views.run_view(
        row,
        endorsements,
        review_state.run_summary(uow, row),
        base_url=ports.settings.public_base_url,
        endorsement_digest=endorsement_digest(ports.domain, row),
    )


def get_run(ports: Ports, caller: Caller, run_id: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        row = run_for(uow, caller, run_id)
        return present_run(ports, uow, row, uow.runs.endorsements(run_id).rows())


def list_runs(
    ports: Ports,
    caller: Caller,
    *,
    relation_id: str | None,
    as_of: str | None,
    state: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    with ports.uow.read() as uow:
        rows, total = uow.runs.list_visible(
            None if caller.is_operator else caller.party_id,
            relation_id=relation_id,
            as_of=as_of,
            state=state,
            offset=offset,
            limit=limit,
        )
        endorsements = uow.runs.endorsements_of([r["id"] for r in rows])
        return [present_run(ports, uow, r, endorsements[r["id"]]) for r in rows], total


def list_items(
    ports: Ports,
    caller: Caller,
    run_id: str,
    *,
    class_: str | None,
    reason: str | None,
    field: str | None,
    rule: str | None,
    offset: int,
    limit: int,
    product_id: str | None = None,
    supplier_product_id: str | None = None,
    customer_product_id: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of a run's items; `product_id` keeps the items holding a record with that id
    on either side, `supplier_product_id` / `customer_product_id` on that side."""
    products = [
        (side, wanted)
        for side, wanted in (
            (None, product_id),
            ("supplier", supplier_product_id),
            ("customer", customer_product_id),
        )
        if wanted is not None
    ]
    with ports.uow.read() as uow:
        run = run_for(uow, caller, run_id)
        rows, total = uow.runs.items(
            run_id,
            class_=class_,
            reason=reason,
            rule=rule,
            field=field,
            offset=offset,
            limit=limit,
            products=products,
        )
        # Candidates are only ever between items missing on one side (mismatches).
        mismatches = [r["item_no"] for r in rows if r["class"] == "mismatch"]
        candidates = views.candidates_by_item(uow.runs.suggestions_on(run_id, mismatches))
        states = review_state.resolutions_for_run(uow, run_id)
        ids = _record_ids(uow, run, [views.item_refs(r) for r in rows])
    base = ports.settings.public_base_url
    out = []
    for r in rows:
        view = views.item_view(
            r, base_url=base, suggestions=candidates.get(r["item_no"], []), **ids
        )
        if view["class"] in review_state.REVIEWED:
            view["reviewState"] = states.get(view["itemNo"], {}).get("state", "open")
        out.append(view)
    return out, total


def get_item(ports: Ports, caller: Caller, run_id: str, item_no: int) -> dict[str, Any]:
    """One item with both sides' records side by side."""
    with ports.uow.read() as uow:
        run = run_for(uow, caller, run_id)
        row = uow.runs.item(run_id, item_no)
        if row is None:
            raise NotFound(f"no item {item_no} in match run {run_id}")
        candidates = views.candidates_by_item(uow.runs.suggestions_on(run_id, [item_no]))
        view = views.item_view(
            row,
            base_url=ports.settings.public_base_url,
            suggestions=candidates.get(item_no, []),
            **_record_ids(uow, run, [views.item_refs(row)]),
        )
        for side in ("supplier", "customer"):
            bodies = uow.reports.record_texts(run[f"{side}_report_id"], view[f"{side}Refs"])
            view[f"{side}Records"] = [orjson.loads(bodies[seq]) for seq in sorted(bodies)]
        if view["class"] in review_state.REVIEWED:
            view["review"], _ = review_state.item_review(uow, run_id, item_no)
    return view


def _record_ids(
    uow: UnitOfWork, run: Row, refs: list[dict[str, list[int]]]
) -> dict[str, views.RecordIds]:
    """``supplier_ids`` and ``customer_ids`` of `views.item_view` for items with these refs:
    one query a side for a page of items."""
    return {
        f"{side}_ids": uow.reports.record_ids(
            run[f"{side}_report_id"], sorted({ref for item in refs for ref in item[side]})
        )
        for side in ("supplier", "customer")
    }


def _run_profile(uow: UnitOfWork, run: Row) -> MatchProfile:
    """The profile the run was matched with: its relation's, or the default, by hash."""
    relation = uow.relations.get(run["relation_id"])
    if relation is not None and relation["profile_hash"] == run["profile_hash"]:
        if json.loads(relation["profile"]) is not None:  # a relation rebuilt by replay has none
            return load_profile(relation)
    if DEFAULT_PROFILE.profile_hash() == run["profile_hash"]:
        return DEFAULT_PROFILE
    raise Conflict(
        f"the match profile {run['profile_hash']} of match run {run['id']} is not stored here"
    )


def _records_by_ref(uow: UnitOfWork, report_id: str, refs: list[int]) -> list[Any]:
    """The record bodies of a report at these positions (seq), in the order of `refs`."""
    bodies = uow.reports.record_texts(report_id, refs)
    missing = [ref for ref in refs if ref not in bodies]
    if missing:
        raise Conflict(f"report {report_id} lacks the records at {missing}")
    return [orjson.loads(bodies[ref]) for ref in refs]


def explain_item(ports: Ports, caller: Caller, run_id: str, item_no: int) -> dict[str, Any]:
    """Why one item is in its class (see `panther.matching.explain`), with the profile the
    run was matched with and the item's records as stored."""
    with ports.uow.read() as uow:
        run = run_for(uow, caller, run_id)
        row = uow.runs.item(run_id, item_no)
        if row is None:
            raise NotFound(f"no item {item_no} in match run {run_id}")
        item = orjson.loads(row["body"])
        profile = _run_profile(uow, run)
        supplier = _records_by_ref(uow, run["supplier_report_id"], item["supplierRefs"])
        customer = _records_by_ref(uow, run["customer_report_id"], item["customerRefs"])
    return views.explanation_view(
        run_id,
        item_no,
        run["profile_hash"],
        with_missing_noted(explain(profile, supplier, customer, item)),
        base_url=ports.settings.public_base_url,
    )
