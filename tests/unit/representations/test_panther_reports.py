"""panther v1 inventory reports: the stored row as an InventoryReport, rejection details."""

from __future__ import annotations

from panther.inventory.errors import RecordError
from panther.server.representations.panther.reports import rejection_details, report_view

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
    }
    assert "signature" not in view


def test_rejection_details_keep_where_and_why() -> None:
    errors = [
        RecordError(line=3, record=2, pointer="/status", message="required"),
        RecordError(line=None, record=None, pointer="", message="not JSON"),
    ]
    assert rejection_details(errors) == [
        {"line": 3, "record": 2, "pointer": "/status", "message": "required"},
        {"line": None, "record": None, "pointer": "", "message": "not JSON"},
    ]
