"""A profile check as panther v1 shows it, and the profile a check request names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from panther.matching.profile import InvalidProfile, MatchProfile
from panther.server.services.errors import InvalidInput

__all__ = ["checked_profile", "profile_check_view"]


def checked_profile(raw: Any) -> MatchProfile:
    """The request's `profile`, strictly: an empty or unparseable one is 422 naming every
    problem (the reason carries them too, for a reader of the message alone)."""
    try:
        return MatchProfile.from_dict(raw)
    except InvalidProfile as exc:
        raise InvalidInput(
            str(exc),
            details=[
                {"pointer": "/profile" + p.pointer, "message": p.message} for p in exc.problems
            ],
        ) from exc


def profile_check_view(
    checked: Mapping[str, Any],
    *,
    relation_id: str | None,
    sources: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """The outcome of `panther.matching.coverage.checked`; `sources` says per side where the
    records came from (``{"source": "report", "report": id}`` or ``{"source": "inline"}``)."""
    figures = checked["coverage"]
    return {
        "@type": "ProfileCheck",
        "relationId": relation_id,
        "profileHash": checked["profileHash"],
        "supplier": {**sources["supplier"], "records": figures["supplierRecords"]},
        "customer": {**sources["customer"], "records": figures["customerRecords"]},
        "counts": dict(checked["counts"]),
        "coverage": figures,
    }
