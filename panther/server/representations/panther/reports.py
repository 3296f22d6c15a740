"""Inventory reports as panther v1 shows them, and why an upload was refused."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from panther.inventory.errors import RecordError

__all__ = ["rejection_details", "report_view"]


def report_view(row: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """A stored report as an ``InventoryReport``."""
    return {
        "id": row["id"],
        "href": f"{base_url}/panther/v1/inventoryReport/{row['id']}",
        "@type": "InventoryReport",
        "relationId": row["relation_id"],
        "reporter": row["reporter_id"],
        "side": row["side"],
        "asOf": row["as_of"],
        "version": row["version"],
        "recordCount": row["record_count"],
        "contentHash": row["content_hash"],
        "merkleRoot": row["merkle_root"],
        "mediaType": row["media_type"],
        "origin": row["origin"],
        "ledgerSeq": row["ledger_seq"],
        "createdAt": row["created_at"],
    }


def rejection_details(errors: Iterable[RecordError]) -> list[dict[str, Any]]:
    """The problems of a rejected report as the ``details`` of the problem body."""
    return [
        {"line": e.line, "record": e.record, "pointer": e.pointer, "message": e.message}
        for e in errors
    ]
