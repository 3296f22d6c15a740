"""The panther v1 JSON of match runs, items, fuzzy candidates and explanations, from rows."""

from __future__ import annotations

import json
from typing import Any

from panther.server.representations.panther.runs import (
    candidate_view,
    candidates_by_item,
    explanation_view,
    item_view,
    run_view,
)

BASE = "https://panther.example"


def _run_row(**values: Any) -> dict[str, Any]:
    return {
        "id": "run-1",
        "relation_id": "rel-1",
        "as_of": "2026-11-01",
        "supplier_report_id": "rep-s",
        "customer_report_id": "rep-c",
        "profile_hash": "ab" * 32,
        "state": "recorded",
        "counts": json.dumps({"matched": 3, "total": 5}),
        "item_count": 5,
        "items_root": "cd" * 32,
        "ledger_seq": 7,
        "endorsed_seq": None,
        "created_at": "2026-11-01T00:00:00.000000Z",
        "previous_run_id": None,
        "rematched": None,
        "links": "[]",
        **values,
    }


def _suggestion_row(supplier_item: int, customer_item: int, score: float) -> dict[str, Any]:
    return {
        "run_id": "run-1",
        "supplier_item": supplier_item,
        "customer_item": customer_item,
        "distance": 1,
        "score": score,
        "reason": "one edit",
        "confirmed_by": json.dumps(["p-sup"]),
        "linked_run_id": None,
    }


def test_a_run_decodes_its_stored_json_and_sorts_who_endorsed_it() -> None:
    review = {"items": 2, "open": 2, "proposed": 0, "agreed": 0, "disputed": 0}
    view = run_view(
        _run_row(rematched=json.dumps({"previousRun": "run-0"}), previous_run_id="run-0"),
        [{"party_id": "p-sup"}, {"party_id": "p-cus"}],
        review,
        base_url=BASE,
        endorsement_digest=bytes.fromhex("0f" * 32),
    )
    assert view["href"] == f"{BASE}/panther/v1/matchRun/run-1"
    assert view["@type"] == "MatchRun"
    assert view["counts"] == {"matched": 3, "total": 5}
    assert view["endorsedBy"] == ["p-cus", "p-sup"]
    assert view["endorsementDigest"] == "0x" + "0f" * 32
    assert view["previousRun"] == "run-0" and view["rematched"] == {"previousRun": "run-0"}
    assert view["review"] == review
    assert (view["supplierReport"], view["customerReport"]) == ("rep-s", "rep-c")


def test_a_full_match_has_no_previous_run_and_no_review_when_not_given() -> None:
    view = run_view(_run_row(), [], None, base_url=BASE, endorsement_digest=b"\x00" * 32)
    assert view["previousRun"] is None and view["rematched"] is None
    assert view["endorsedBy"] == [] and view["review"] is None


def test_a_run_shows_its_coverage_and_null_for_a_run_recorded_before_it_was_kept() -> None:
    figures = {"supplierRecords": 2, "customerRecords": 2, "linkedPairs": 1, "rules": [],
               "fields": [], "warnings": []}  # fmt: skip
    stored = _run_row(coverage=json.dumps(figures))
    view = run_view(stored, [], None, base_url=BASE, endorsement_digest=b"\x00" * 32)
    assert view["coverage"] == figures
    for old in (_run_row(coverage=None), _run_row()):
        view = run_view(old, [], None, base_url=BASE, endorsement_digest=b"\x00" * 32)
        assert view["coverage"] is None


NO_IDS: dict[int, tuple[str, str | None]] = {}


def test_an_item_is_its_stored_body_with_the_candidates_shown_on_it() -> None:
    body = {"class": "mismatch", "reason": "missingAtCustomer", "supplierRefs": [4],
            "customerRefs": []}  # fmt: skip
    row = {"run_id": "run-1", "item_no": 9, "body": json.dumps(body)}
    candidate = candidate_view(_suggestion_row(9, 12, 0.5), 9)
    ids = {4: ("CID-4", None)}
    view = item_view(
        row, base_url=BASE, suggestions=[candidate], supplier_ids=ids, customer_ids=NO_IDS
    )
    assert view["id"] == "9" and view["itemNo"] == 9
    assert view["href"] == f"{BASE}/panther/v1/matchRun/run-1/item/9"
    assert view["class"] == "mismatch" and view["reason"] == "missingAtCustomer"
    assert view["rule"] is None and view["differences"] == []
    assert (view["supplierRefs"], view["customerRefs"]) == ([4], [])
    assert view["supplierProducts"] == [{"ref": 4, "id": "CID-4"}]
    assert view["customerProducts"] == []
    assert view["suggestions"] == [candidate]
    plain = item_view(row, base_url=BASE, supplier_ids=ids, customer_ids=NO_IDS)
    assert plain["suggestions"] == []


def test_an_item_points_to_each_record_by_id_and_external_id_in_ref_order() -> None:
    body = {"class": "mismatch", "reason": "ambiguous", "rule": "r", "supplierRefs": [2, 7],
            "customerRefs": [0]}  # fmt: skip
    row = {"run_id": "run-1", "item_no": 1, "body": json.dumps(body)}
    view = item_view(
        row,
        base_url=BASE,
        supplier_ids={7: ("S-7", "X-7"), 2: ("S-2", None), 9: ("S-9", None)},
        customer_ids={},  # a position its report lacks: no id to give
    )
    assert view["supplierProducts"] == [
        {"ref": 2, "id": "S-2"},
        {"ref": 7, "id": "S-7", "externalId": "X-7"},
    ]
    assert view["customerProducts"] == [{"ref": 0, "id": None}]


def test_both_items_of_a_pair_show_the_candidate_best_score_first() -> None:
    rows = [_suggestion_row(1, 10, 0.4), _suggestion_row(1, 11, 0.9), _suggestion_row(2, 10, 0.4)]
    by_item = candidates_by_item(rows)
    assert [c["itemNo"] for c in by_item[1]] == [11, 10]
    assert [c["itemNo"] for c in by_item[10]] == [1, 2]  # equal scores: lower item first
    assert [c["itemNo"] for c in by_item[11]] == [1]
    (seen_from_customer,) = by_item[11]
    assert seen_from_customer["supplierItemNo"] == 1
    assert seen_from_customer["customerItemNo"] == 11
    assert seen_from_customer["confirmedBy"] == ["p-sup"]
    assert seen_from_customer["linkedRun"] is None
    assert candidates_by_item([]) == {}


def test_an_explanation_is_wrapped_with_its_run_item_and_profile() -> None:
    view = explanation_view("run-1", 3, "ab" * 32, {"class": "partial"}, base_url=BASE)
    assert view["href"] == f"{BASE}/panther/v1/matchRun/run-1/item/3/explanation"
    assert view["id"] == "3" and view["itemNo"] == 3 and view["runId"] == "run-1"
    assert view["@type"] == "MatchItemExplanation"
    assert view["profileHash"] == "ab" * 32 and view["class"] == "partial"
