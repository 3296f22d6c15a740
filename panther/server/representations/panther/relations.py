"""A relation as /panther/v1 shows it, and the match profile of the body that proposes one."""

from __future__ import annotations

import json
from typing import Any

from panther.matching.profile import DEFAULT_PROFILE, InvalidProfile, MatchProfile
from panther.server.services.errors import InvalidInput

__all__ = ["match_profile", "relation_view"]


def match_profile(raw: dict[str, Any] | None) -> MatchProfile:
    """The proposal's `profile` (the default profile when absent); every problem at once."""
    if not raw:
        return DEFAULT_PROFILE
    try:
        return MatchProfile.from_dict(raw)
    except InvalidProfile as exc:
        raise InvalidInput(
            "invalid match profile",
            details=[
                {"pointer": "/profile" + p.pointer, "message": p.message} for p in exc.problems
            ],
        ) from exc


def relation_view(
    row: dict[str, Any],
    agreements: list[dict[str, Any]],
    *,
    base_url: str,
    endorsement_digest: bytes,
) -> dict[str, Any]:
    """The relation; ``endorsementDigest`` is what a party that keeps its own key signs (the
    EIP-712 digest of the relation's agreement transaction)."""
    return {
        "id": row["id"],
        "href": f"{base_url}/panther/v1/relation/{row['id']}",
        "@type": "Relation",
        "supplier": row["supplier_id"],
        "customer": row["customer_id"],
        "state": row["state"],
        "profile": json.loads(row["profile"]),
        "profileHash": row["profile_hash"],
        "terms": json.loads(row["terms"]),
        "proposedBy": row["proposed_by"],
        "agreedBy": sorted(a["party_id"] for a in agreements),
        "ledgerSeq": row["ledger_seq"],
        "createdAt": row["created_at"],
        "endorsementDigest": "0x" + endorsement_digest.hex(),
    }
