"""The review representations of panther v1: pure functions of stored rows (no database)."""

from __future__ import annotations

import json
from typing import Any

from panther.server.representations.panther.review import (
    action_view,
    bulk_agreed_view,
    bulk_proposed_view,
    item_etag,
    item_review_view,
)

RESOLUTION = {"outcome": "supplierValueStands", "fieldValue": []}
COUNTS = {"items": 3, "open": 1, "proposed": 0, "agreed": 2, "disputed": 0}


def _action(id_: str, action: str, body: dict[str, Any], item_no: int | None = 7) -> dict[str, Any]:
    return {
        "id": id_,
        "run_id": "MR-1",
        "item_no": item_no,
        "party_id": "sup",
        "action": action,
        "body": json.dumps(body, sort_keys=True),
        "ledger_seq": 12,
        "created_at": "2026-11-02T10:00:00.000000Z",
    }


def _row(**values: Any) -> dict[str, Any]:
    return {
        "run_id": "MR-1",
        "item_no": 7,
        "relation_id": "REL-1",
        "state": "open",
        "revision": 1,
        "proposal_id": None,
        "proposal": None,
        "resolution": None,
        "agreed_seq": None,
        "item_key": None,
        "carried_from": None,
        "updated_at": "2026-11-02T10:00:00.000000Z",
        **values,
    }


def test_the_etag_is_the_quoted_revision() -> None:
    assert item_etag(0) == '"0"'
    assert item_etag(12) == '"12"'


def test_an_action_shows_who_did_what_and_its_body_but_not_the_items_covered() -> None:
    view = action_view(
        _action("RP-1", "acceptValue", {"proposalId": "RP-1", "items": [1, 2], "note": "ok"})
    )
    assert view == {
        "id": "RP-1",
        "action": "acceptValue",
        "party": "sup",
        "date": "2026-11-02T10:00:00.000000Z",
        "ledgerSeq": 12,
        "proposalId": "RP-1",
        "note": "ok",
    }


def test_an_item_nobody_acted_on_is_open_at_revision_zero() -> None:
    view = item_review_view(None, "open", None, [])
    assert view == {
        "state": "open",
        "revision": 0,
        "proposal": None,
        "resolution": None,
        "agreedSeq": None,
        "carriedFrom": None,
        "dispute": None,
        "actions": [],
    }


def test_an_agreed_item_shows_its_proposal_resolution_and_history() -> None:
    proposal = {"id": "RP-1", "side": "customer", "resolution": RESOLUTION, "itemCount": 1}
    row = _row(
        state="agreed",
        revision=3,
        proposal_id="RP-1",
        proposal=json.dumps(proposal),
        resolution=json.dumps(RESOLUTION),
        agreed_seq=40,
        carried_from="MR-0",
    )
    actions = [_action("RP-1", "acceptValue", {}), _action("RA-2", "agree", {"items": [7]})]
    view = item_review_view(row, "agreed", None, actions)
    assert view["proposal"] == proposal and view["resolution"] == RESOLUTION
    assert (view["revision"], view["agreedSeq"], view["carriedFrom"]) == (3, 40, "MR-0")
    assert [a["action"] for a in view["actions"]] == ["acceptValue", "agree"]


def test_an_item_agreed_by_its_closed_dispute_stands_as_the_dispute_resolved_it() -> None:
    dispute = {"id": "TT-1", "status": "closed", "resolution": {"outcome": "credit"}}
    view = item_review_view(_row(), "agreed", dispute, [])
    assert view["resolution"] == {"outcome": "credit"} and view["dispute"] == dispute
    # Still under dispute: nothing is resolved yet.
    open_dispute = {**dispute, "status": "inProgress"}
    assert item_review_view(_row(), "disputed", open_dispute, [])["resolution"] is None


def test_a_bulk_agreement_lists_each_proposal_and_the_items_in_all() -> None:
    agreed = [
        {"proposalId": "RP-1", "itemCount": 3, "itemsRoot": "aa", "ledgerSeq": 5, "runId": "x"},
        {"proposalId": "RP-2", "itemCount": 2, "itemsRoot": "bb", "ledgerSeq": 6, "runId": "x"},
    ]
    view = bulk_agreed_view("MR-1", agreed, COUNTS)
    assert view["action"] == "agree" and view["runId"] == "MR-1"
    assert view["itemCount"] == 5 and view["review"] == COUNTS
    assert view["proposals"] == [
        {"proposalId": "RP-1", "itemCount": 3, "itemsRoot": "aa", "ledgerSeq": 5},
        {"proposalId": "RP-2", "itemCount": 2, "itemsRoot": "bb", "ledgerSeq": 6},
    ]


def test_a_bulk_proposal_shows_its_root_entry_and_how_many_items_it_skipped() -> None:
    proposal = {
        "proposalId": "RP-9",
        "itemCount": 8,
        "itemsRoot": "cc",
        "ledgerSeq": 21,
        "relationId": "REL-1",
    }
    view = bulk_proposed_view("markExpected", "MR-1", proposal, 2, COUNTS)
    assert view == {
        "action": "markExpected",
        "runId": "MR-1",
        "proposalId": "RP-9",
        "itemCount": 8,
        "itemsRoot": "cc",
        "ledgerSeq": 21,
        "skipped": 2,
        "review": COUNTS,
    }
