"""Status vocabularies: TMF637 and MEF 116 values are known; a relation's profile maps its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from panther.inventory.views import UnmappableStatus, tmf637_status

from .errors import InvalidInput
from .relations import load_profile

__all__ = ["check_statuses", "status_map_of"]


def status_map_of(relation: dict[str, Any]) -> dict[str, str]:
    """The relation's own status vocabulary, from its profile's ``status`` enum map."""
    for f in load_profile(relation).compared_fields:
        if f.name == "status" and f.comparator == "enum":
            return {str(k): str(v) for k, v in (f.params.get("map") or {}).items()}
    return {}


def check_statuses(relation: dict[str, Any], statuses: Sequence[str], cap: int = 100) -> None:
    """Statuses (one per record, in report order) must be TMF637 / MEF 116 values or mapped by
    the relation's profile."""
    smap = status_map_of(relation)
    known: dict[str, bool] = {}
    problems = []
    for i, status in enumerate(statuses):
        if status not in known:
            try:
                tmf637_status(status, smap)
                known[status] = True
            except UnmappableStatus:
                known[status] = False
        if not known[status]:
            problems.append(
                {
                    "line": None,
                    "record": i,
                    "pointer": "/status",
                    "message": f"status {str(status)[:40]!r} is neither a TMF637 nor a "
                    "MEF 116 value and the relation's profile does not map it",
                }
            )
            if len(problems) >= cap:
                break
    if problems:
        raise InvalidInput(
            "the report was rejected: unknown status values",
            details=problems,
            truncated=len(problems) >= cap,
        )
