"""Review of a run's `partial` and `mismatch` items by both carriers.

Every action is a ledger transaction signed by the carrier that takes it
(`ReviewActionTaken`), recorded at once in the item's history that the partner reads:

- ``acceptValue`` (partial items): the caller accepts the partner's value of some or all
  differing fields; ``markExpected``: the difference is expected (a service being terminated).
  Both are *proposals*: the proposer also signs its half of the proposal's `ReviewAgreed`
  transaction, and the partner's ``agree`` completes it (both signatures): the item is agreed,
  with its resolution (which value stands). ``decline`` drops the partner's proposal.
- ``comment``: a note, nothing else changes.
- ``correct``: the caller corrects its own record (a TMF637 change: a new report version),
  and the relation is re-matched incrementally; the item of the new run is the one to review.
- ``dispute``: opens a TMF621 dispute on the item (`DisputeOpened`); the item is disputed
  while the dispute is open, and resolved by the dispute's agreed resolution.

A proposal covers one item or, for a bulk action, every item a filter selects; either way
its transactions carry the Merkle root over the items and their resolutions, and it is agreed
as a whole. Items have an ETag (their revision): a stale ``If-Match`` is 412; an action the
item's state no longer allows (someone acted meanwhile) is 409. Nothing is half written: the
review rows, the history and the embedded ledger entry commit in one database transaction.

An agreement carries over to later runs of the relation in which the item is unchanged (same
class, the same products on both sides, the same differences), so a re-match after a
correction elsewhere keeps what both carriers agreed.
"""

from __future__ import annotations

import json
from typing import Any

from . import disputes, matchruns, products
from .context import Caller
from .errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from .ports import Ports, UnitOfWork
from .review_proposals import (
    PROPOSALS,
    agree,
    invalid,
    load_run,
    propose,
    record_action,
    resolution_of,
    take_action,
    write_item,
)
from .review_state import REVIEWED, disputes_by_item, etag, item_review, item_state

__all__ = ["ACTIONS", "act"]

ACTIONS = (*PROPOSALS, "agree", "decline", "comment", "correct", "dispute")


def _item_body(uow: UnitOfWork, run_id: str, item_no: int) -> dict[str, Any]:
    """The item of the run, if it is one to review."""
    found = uow.review.item_bodies(run_id, [item_no])
    if not found:
        raise NotFound(f"no item {item_no} in match run {run_id}")
    body: dict[str, Any] = found[0][1]
    if body["class"] not in REVIEWED:
        raise Conflict(f"item {item_no} is matched: there is nothing to review")
    return body


def _check_if_match(row: dict[str, Any] | None, if_match: str | None) -> None:
    if if_match is not None and if_match.strip() not in ("*", etag(row)):
        raise PreconditionFailed(
            f"the item changed: its ETag is {etag(row)}, not {if_match.strip()}"
        )


def _open_for_proposal(row: dict[str, Any] | None, state: str, side: str, item_no: int) -> None:
    if state == "agreed":
        raise Conflict(f"item {item_no} is already agreed")
    if state == "disputed":
        raise Conflict(f"item {item_no} is under dispute: resolve the dispute")
    if state == "proposed" and row is not None:
        proposal = json.loads(row["proposal"])
        if proposal["side"] != side:
            raise Conflict(
                f"item {item_no} has the partner's proposal {row['proposal_id']}: "
                "agree to it or decline it first"
            )
        if proposal["itemCount"] > 1:
            raise Conflict(
                f"item {item_no} is part of the bulk proposal {row['proposal_id']}, which is "
                "agreed or declined as a whole"
            )


def _open_proposal_is(
    row: dict[str, Any] | None,
    state: str,
    caller: Caller,
    action: str,
    side: str,
    item: dict[str, Any],
    body: dict[str, Any],
) -> bool:
    """Whether the item's open proposal is the one ``body`` makes: the caller's, on this item
    alone, with the same action and resolution."""
    if state != "proposed" or row is None:
        return False
    proposal = json.loads(row["proposal"])
    if (proposal["by"], proposal["itemCount"], proposal["action"]) != (caller.party_id, 1, action):
        return False
    try:
        resolution = resolution_of(action, side, item, body.get("fields"), body.get("note"))
    except InvalidInput:
        return False
    return bool(proposal["resolution"] == resolution)


def act(
    ports: Ports,
    caller: Caller,
    run_id: str,
    item_no: int,
    body: dict[str, Any],
    if_match: str | None,
) -> tuple[dict[str, Any], str, bool]:
    """Take one review action on one item; returns the item's review, its new ETag and
    whether anything was done (the same open proposal again is not done twice)."""
    action = body.get("action")
    if action not in ACTIONS:
        raise invalid("/action", f"action must be one of {', '.join(ACTIONS)}")
    if action == "dispute":
        return (*_dispute(ports, caller, run_id, item_no, body, if_match), True)
    if action == "correct":
        return (*_correct(ports, caller, run_id, item_no, body, if_match), True)
    note = body.get("note")
    with ports.uow.write() as uow:
        run, relation, side = load_run(uow, caller, run_id)
        item = _item_body(uow, run_id, item_no)
        row = uow.review.item(run_id, item_no)
        state = item_state(row, disputes_by_item(uow, run_id).get(item_no))
        # A retry of a proposal finds it open (and the ETag it sent stale): it is the same.
        if action in PROPOSALS and _open_proposal_is(row, state, caller, action, side, item, body):
            return (*item_review(uow, run_id, item_no), False)
        _check_if_match(row, if_match)
        base = {
            "action": action,
            "runId": run_id,
            "relationId": run["relation_id"],
            "party": caller.party_id,
            "itemNo": item_no,
        }
        if action == "comment":
            if not isinstance(note, str) or not note.strip():
                raise invalid("/note", "a comment needs a non-empty note")
            seq = take_action(
                ports, uow, caller, run, {**base, "note": note}, None, body.get("signature")
            )
            write_item(
                uow, run, item_no, row, {} if row else {"state": state}, at=ports.clock.now_iso()
            )
            record_action(
                uow, run_id, item_no, caller, action, {"note": note}, seq, at=ports.clock.now_iso()
            )
        elif action in PROPOSALS:
            _open_for_proposal(row, state, side, item_no)
            resolution = resolution_of(action, side, item, body.get("fields"), note)
            items = [(item_no, resolution, row)]
            propose(ports, uow, caller, run, relation, side, action, items, body, note)
        else:  # agree | decline
            if state != "proposed" or row is None:
                raise Conflict(f"item {item_no} has no open proposal to {action} to")
            proposal = json.loads(row["proposal"])
            if proposal["side"] == side:
                raise Conflict("a carrier cannot agree to or decline its own proposal")
            wanted = body.get("proposalId")
            if wanted is not None and wanted != row["proposal_id"]:
                raise Conflict(
                    f"the item's open proposal is {row['proposal_id']}, not {wanted}: read again"
                )
            if action == "agree":
                agree(ports, uow, caller, run, relation, row["proposal_id"], body)
            else:
                _decline(ports, uow, caller, run, row["proposal_id"], base, body, note)
        view, tag = item_review(uow, run_id, item_no)
    return view, tag, True


def _decline(
    ports: Ports,
    uow: UnitOfWork,
    caller: Caller,
    run: dict[str, Any],
    proposal_id: str,
    base: dict[str, Any],
    body: dict[str, Any],
    note: str | None,
) -> None:
    rows = [
        r for r in uow.review.proposal_items(run["id"], proposal_id) if r["state"] == "proposed"
    ]
    payload = {**base, "action": "decline", "proposalId": proposal_id}
    payload.pop("itemNo", None)
    if note:
        payload["note"] = note
    seq = take_action(ports, uow, caller, run, payload, None, body.get("signature"))
    for row in rows:
        write_item(
            uow,
            run,
            row["item_no"],
            row,
            {"state": "open", "proposal_id": None, "proposal": None},
            at=ports.clock.now_iso(),
        )
    record: dict[str, Any] = {"proposalId": proposal_id, "items": [r["item_no"] for r in rows]}
    if note:
        record["note"] = note
    item = rows[0]["item_no"] if len(rows) == 1 else None
    record_action(uow, run["id"], item, caller, "decline", record, seq, at=ports.clock.now_iso())


def _dispute(
    ports: Ports,
    caller: Caller,
    run_id: str,
    item_no: int,
    body: dict[str, Any],
    if_match: str | None,
) -> tuple[dict[str, Any], str]:
    """Open a TMF621 dispute on the item (its DisputeOpened is the action's transaction)."""
    with ports.uow.read() as uow:
        load_run(uow, caller, run_id)  # the caller's run, and the caller one of its carriers
        item_body = _item_body(uow, run_id, item_no)
        row = uow.review.item(run_id, item_no)
        _check_if_match(row, if_match)
        state = item_state(row, disputes_by_item(uow, run_id).get(item_no))
        if state in ("agreed", "disputed"):
            raise Conflict(f"item {item_no} is already {state}")
    note = body.get("note")
    ticket = {
        "ticketType": "inventoryDispute",
        "name": body.get("name") or f"Match item {item_no} of run {run_id}",
        "description": note or f"{item_body['class']} item disputed in review",
        "severity": body.get("severity") or "Major",
        "relatedEntity": [
            {
                "id": f"{run_id}:{item_no}",
                "role": "disputedItem",
                "@referredType": "MatchItem",
            }
        ],
    }
    if note:
        ticket["note"] = [{"text": note}]
    view, _ = disputes.open_dispute(ports, caller, ticket)
    opened = next(
        (e for e in view.get("relatedEntity", []) if e.get("name") == "DisputeOpened"), None
    )
    seq = int(opened["id"]) if opened and str(opened.get("id", "")).isdigit() else None
    with ports.uow.write() as uow:
        run = uow.runs.get(run_id)
        assert run is not None
        current = uow.review.item(run_id, item_no)
        state_values: dict[str, Any] = {} if current else {"state": "open"}
        if current is not None and current["state"] == "proposed":
            # A dispute supersedes an open proposal on the item.
            state_values = {"state": "open", "proposal_id": None, "proposal": None}
        write_item(uow, run, item_no, current, state_values, at=ports.clock.now_iso())
        record = {"troubleTicket": view["id"], **({"note": note} if note else {})}
        record_action(
            uow, run_id, item_no, caller, "dispute", record, seq, at=ports.clock.now_iso()
        )
        return item_review(uow, run_id, item_no)


def _correct(
    ports: Ports,
    caller: Caller,
    run_id: str,
    item_no: int,
    body: dict[str, Any],
    if_match: str | None,
) -> tuple[dict[str, Any], str]:
    """Correct the caller's own record of the item (a TMF637 change of that product: a new
    report version), then re-match; the review continues on the new run's item."""
    patch = body.get("record")
    if not isinstance(patch, dict) or not patch:
        raise invalid("/record", "give the corrected fields of your record (a JSON merge patch)")
    with ports.uow.read() as uow:
        run, _, side = load_run(uow, caller, run_id)
        item = _item_body(uow, run_id, item_no)
        row = uow.review.item(run_id, item_no)
        _check_if_match(row, if_match)
        refs = item[f"{side}Refs"]
        if len(refs) != 1:
            raise Conflict(
                f"item {item_no} has {len(refs)} records of yours: correct them through the "
                "product API (TMF637) one by one"
            )
        report_id = run[f"{side}_report_id"]
        product_id = uow.reports.product_ids(report_id, refs)[refs[0]]
    if "id" in patch and patch["id"] != product_id:
        raise invalid("/record/id", "the product id cannot change")
    products.patch_product(ports, caller, product_id, patch)
    if not ports.settings.auto_match:
        matchruns.maybe_auto_match(ports, run["relation_id"], run["as_of"])
    with ports.uow.write() as uow:
        newest_run = uow.runs.newest(run["relation_id"], run["as_of"])
        assert newest_run is not None  # the run being reviewed is one
        newest = newest_run["id"]
        record = {"productId": product_id, "record": patch, "newRun": newest}
        base = {
            "action": "correct",
            "runId": run_id,
            "relationId": run["relation_id"],
            "party": caller.party_id,
            "itemNo": item_no,
            **record,
        }
        seq = take_action(ports, uow, caller, run, base, None, body.get("signature"))
        write_item(
            uow, run, item_no, row, {} if row else {"state": "open"}, at=ports.clock.now_iso()
        )
        record_action(
            uow, run_id, item_no, caller, "correct", record, seq, at=ports.clock.now_iso()
        )
        view, tag = item_review(uow, run_id, item_no)
    view["correctedIn"] = newest
    return view, tag
