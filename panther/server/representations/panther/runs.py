"""A match run, its items, their fuzzy candidates and an item's explanation as panther v1 JSON
(from the stored rows of match_run, match_item and match_suggestion)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

__all__ = [
    "RecordIds",
    "candidate_view",
    "candidates_by_item",
    "explanation_view",
    "item_refs",
    "item_view",
    "product_refs",
    "run_view",
]


def run_view(
    row: Mapping[str, Any],
    endorsements: Iterable[Mapping[str, Any]],
    review: Mapping[str, int] | None,
    *,
    base_url: str,
    endorsement_digest: bytes,
) -> dict[str, Any]:
    """The run; ``endorsementDigest`` is what a party that keeps its own key signs (the EIP-712
    digest of the run's MatchEndorsed transaction), ``review`` how many of its partial and
    mismatch items are open, proposed, agreed and disputed, ``coverage`` what the profile
    reached in the two reports (`panther.matching.coverage`)."""
    return {
        "id": row["id"],
        "href": f"{base_url}/panther/v1/matchRun/{row['id']}",
        "@type": "MatchRun",
        "relationId": row["relation_id"],
        "asOf": row["as_of"],
        "supplierReport": row["supplier_report_id"],
        "customerReport": row["customer_report_id"],
        "profileHash": row["profile_hash"],
        "state": row["state"],
        "counts": json.loads(row["counts"]),
        "itemCount": row["item_count"],
        "itemsRoot": row["items_root"],
        "endorsedBy": sorted(e["party_id"] for e in endorsements),
        "ledgerSeq": row["ledger_seq"],
        "endorsedSeq": row["endorsed_seq"],
        "createdAt": row["created_at"],
        "previousRun": row.get("previous_run_id"),
        "rematched": json.loads(row["rematched"]) if row.get("rematched") else None,
        "endorsementDigest": "0x" + endorsement_digest.hex(),
        "review": dict(review) if review is not None else None,
        # Null for a run recorded before coverage was kept.
        "coverage": json.loads(row["coverage"]) if row.get("coverage") else None,
    }


RecordIds = Mapping[int, tuple[str, str | None]]


def item_refs(row: Mapping[str, Any]) -> dict[str, list[int]]:
    """The refs of a stored item on each side (``supplier``, ``customer``)."""
    body = orjson.loads(row["body"])
    return {side: list(body[f"{side}Refs"]) for side in ("supplier", "customer")}


def product_refs(refs: Sequence[int], ids: RecordIds) -> list[dict[str, Any]]:
    """The records at these positions of a report as an item points to them: position, the
    product's ``id`` and its ``externalId`` where it has one (``id`` null for a position the
    report lacks)."""
    out = []
    for ref in refs:
        product_id, external_id = ids.get(ref, (None, None))
        entry: dict[str, Any] = {"ref": ref, "id": product_id}
        if external_id is not None:
            entry["externalId"] = external_id
        out.append(entry)
    return out


def item_view(
    row: Mapping[str, Any],
    *,
    base_url: str,
    suggestions: Sequence[dict[str, Any]] = (),
    supplier_ids: RecordIds,
    customer_ids: RecordIds,
) -> dict[str, Any]:
    """One item of a run as the run stored it (its canonical JSON ``body``), with the
    records it points to on each side (from the ids of its reports' records, position ->
    (id, externalId)) and the fuzzy candidates shown on it."""
    body = orjson.loads(row["body"])
    return {
        "id": str(row["item_no"]),
        "href": f"{base_url}/panther/v1/matchRun/{row['run_id']}/item/{row['item_no']}",
        "@type": "MatchItem",
        "itemNo": row["item_no"],
        "class": body["class"],
        "reason": body.get("reason"),
        "rule": body.get("rule"),
        "supplierRefs": body["supplierRefs"],
        "customerRefs": body["customerRefs"],
        "supplierProducts": product_refs(body["supplierRefs"], supplier_ids),
        "customerProducts": product_refs(body["customerRefs"], customer_ids),
        "differences": body.get("differences") or [],
        "suggestions": list(suggestions),
    }


def candidate_view(row: Mapping[str, Any], mine: int) -> dict[str, Any]:
    """A fuzzy candidate pair as item ``mine`` shows it: ``itemNo`` is the other item."""
    other = row["customer_item"] if row["supplier_item"] == mine else row["supplier_item"]
    return {
        "itemNo": other,
        "supplierItemNo": row["supplier_item"],
        "customerItemNo": row["customer_item"],
        "distance": row["distance"],
        "score": row["score"],
        "reason": row["reason"],
        "confirmedBy": json.loads(row["confirmed_by"]),
        "linkedRun": row["linked_run_id"],
    }


def candidates_by_item(rows: Iterable[Mapping[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Item number -> the candidates shown on it, best score first: both items of a pair show
    it."""
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        for mine in (r["supplier_item"], r["customer_item"]):
            out.setdefault(mine, []).append(candidate_view(r, mine))
    for listed in out.values():
        listed.sort(key=lambda c: (-c["score"], c["itemNo"]))
    return out


def explanation_view(
    run_id: str,
    item_no: int,
    profile_hash: str,
    explanation: Mapping[str, Any],
    *,
    base_url: str,
) -> dict[str, Any]:
    """The envelope of an item's explanation (``panther.matching.explain``'s JSON)."""
    return {
        "id": str(item_no),
        "href": f"{base_url}/panther/v1/matchRun/{run_id}/item/{item_no}/explanation",
        "@type": "MatchItemExplanation",
        "runId": run_id,
        "itemNo": item_no,
        "profileHash": profile_hash,
        **explanation,
    }
