"""Inventory reports as panther v1 shows them (with the records held out of them), and why
an upload was refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from panther.inventory.errors import RecordError, ReportRejected
from panther.inventory.parse import HeldOutRecord

__all__ = [
    "HELD_OUT_SHOWN",
    "held_out_listing",
    "rejection_details",
    "rejection_summary",
    "report_view",
]

HELD_OUT_SHOWN = 100
"""How many held-out records a report shows unless asked for another page of them."""


def report_view(
    row: Mapping[str, Any],
    base_url: str,
    *,
    held_out_offset: int = 0,
    held_out_limit: int = HELD_OUT_SHOWN,
) -> dict[str, Any]:
    """A stored report as an ``InventoryReport``; ``heldOut`` lists the records held out of
    its upload from ``held_out_offset``, at most ``held_out_limit`` of them."""
    view = {
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
        "heldOutCount": row.get("held_out_count") or 0,
    }
    if view["heldOutCount"]:
        listing = orjson.loads(row["held_out"]) if row.get("held_out") else {}
        records = listing.get("records", [])
        view["heldOutHash"] = row["held_out_hash"]
        view["heldOut"] = {
            "problemCounts": listing.get("problemCounts", {}),
            "offset": held_out_offset,
            "records": records[held_out_offset : held_out_offset + held_out_limit],
        }
    return view


def held_out_listing(held_out: Sequence[HeldOutRecord]) -> str:
    """The JSON stored with a report for the records held out of it: their problems counted
    by kind, and each record's position, line and reasons."""
    counts = Counter(problem.kind for record in held_out for problem in record.problems)
    records = [
        {
            "record": record.record,
            "line": record.line,
            "reasons": [
                {"pointer": p.pointer, "message": p.message, "kind": p.kind}
                for p in record.problems
            ],
        }
        for record in held_out
    ]
    listing = {"problemCounts": dict(sorted(counts.items())), "records": records}
    return orjson.dumps(listing).decode()


def rejection_details(errors: Iterable[RecordError]) -> list[dict[str, Any]]:
    """The problems of a rejected report as the ``details`` of the problem body."""
    return [
        {
            "line": e.line,
            "record": e.record,
            "pointer": e.pointer,
            "message": e.message,
            "kind": e.kind,
        }
        for e in errors
    ]


def rejection_summary(rejected: ReportRejected) -> dict[str, Any]:
    """Beside the listed ``details``: every problem of the report counted by kind, and how
    many records had one."""
    return {
        "problemCount": rejected.problem_count,
        "problemCounts": dict(sorted(rejected.counts.items())),
        "recordsWithProblems": rejected.records,
    }
