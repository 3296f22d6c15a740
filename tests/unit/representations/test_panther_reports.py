"""panther v1 inventory reports: the stored row as an InventoryReport, rejection details."""

from __future__ import annotations

from panther.inventory.errors import RecordError, ReportRejected
from panther.inventory.parse import HeldOutRecord
from panther.server.representations.panther.reports import (
    held_out_listing,
    rejection_details,
    rejection_summary,
    report_view,
)

ROW = {
    "id": "rpt-1",
    "relation_id": "rel-1",
    "reporter_id": "sup",
    "side": "supplier",
    "as_of": "2026-11-01",
    "version": 2,
    "content_hash": "ab" * 32,
    "merkle_root": "cd" * 32,
    "record_count": 3,
    "media_type": "application/x-ndjson",
    "origin": "upload",
    "signature": "0x00",
    "ledger_seq": 7,
    "created_at": "2026-11-01T10:00:00.000000Z",
}


def test_report_view_names_every_stored_field_in_api_terms() -> None:
    view = report_view(ROW, "https://panther.example")
    assert view == {
        "id": "rpt-1",
        "href": "https://panther.example/panther/v1/inventoryReport/rpt-1",
        "@type": "InventoryReport",
        "relationId": "rel-1",
        "reporter": "sup",
        "side": "supplier",
        "asOf": "2026-11-01",
        "version": 2,
        "recordCount": 3,
        "contentHash": "ab" * 32,
        "merkleRoot": "cd" * 32,
        "mediaType": "application/x-ndjson",
        "origin": "upload",
        "ledgerSeq": 7,
        "createdAt": "2026-11-01T10:00:00.000000Z",
        "heldOutCount": 0,
    }
    assert "signature" not in view


def test_held_out_records_are_shown_a_page_at_a_time() -> None:
    problems = (RecordError(2, 1, "/id", "required", "idMissing"),)
    held = [HeldOutRecord(i + 2, i, problems, bytes(32)) for i in range(3)]
    row = {**ROW, "held_out_count": 3, "held_out_hash": "ef" * 32}
    row["held_out"] = held_out_listing(held)
    view = report_view(row, "https://panther.example", held_out_offset=1, held_out_limit=1)
    assert view["heldOutCount"] == 3 and view["heldOutHash"] == "ef" * 32
    assert view["heldOut"] == {
        "problemCounts": {"idMissing": 3},
        "offset": 1,
        "records": [
            {
                "record": 1,
                "line": 3,
                "reasons": [{"pointer": "/id", "message": "required", "kind": "idMissing"}],
            }
        ],
    }


def test_rejection_details_keep_where_and_why() -> None:
    errors = [
        RecordError(line=3, record=2, pointer="/status", message="required", kind="statusMissing"),
        RecordError(line=None, record=None, pointer="", message="not JSON", kind="notJson"),
    ]
    assert rejection_details(errors) == [
        {
            "line": 3,
            "record": 2,
            "pointer": "/status",
            "message": "required",
            "kind": "statusMissing",
        },
        {"line": None, "record": None, "pointer": "", "message": "not JSON", "kind": "notJson"},
    ]


def test_a_rejection_counts_every_problem_by_kind() -> None:
    rejected = ReportRejected([], truncated=True, counts={"notJson": 2, "idMissing": 5}, records=6)
    assert rejection_summary(rejected) == {
        "problemCount": 7,
        "problemCounts": {"idMissing": 5, "notJson": 2},
        "recordsWithProblems": 6,
    }
