"""Checking a match profile against real records before it is agreed: match a relation's
current reports (or records sent inline, a sample) with it and report what every rule and
compared field reaches on each side, storing nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from panther.matching.coverage import checked
from panther.matching.engine import Side, extract
from panther.matching.profile import DEFAULT_PROFILE

from ..representations.panther.profile_check import checked_profile, profile_check_view
from .context import Caller, gc_paused
from .errors import Conflict, InvalidInput
from .matchruns import extract_report
from .ports import Ports, Row, UnitOfWork
from .relations import load_profile, relation_for

__all__ = ["check_profile"]

SIDES: tuple[Side, Side] = ("supplier", "customer")


def check_profile(ports: Ports, caller: Caller, body: Mapping[str, Any]) -> dict[str, Any]:
    """Body: ``profile`` (default: the relation's, or the default profile), ``relationId``
    and ``asOf`` (the relation's reports for that date; without it its current ones), and
    ``supplierRecords`` / ``customerRecords`` (records sent inline, used instead of that
    side's report). Without a relation both sides must be inline."""
    relation_id = body.get("relationId")
    given = body.get("profile")
    profile = checked_profile(given) if given is not None else None
    inline = {side: body.get(f"{side}Records") for side in SIDES}
    if relation_id is None and any(records is None for records in inline.values()):
        raise InvalidInput(
            "give relationId, or supplierRecords and customerRecords",
            details=[
                {"pointer": f"/{side}Records", "message": "required without relationId"}
                for side in SIDES
                if inline[side] is None
            ],
        )
    with gc_paused():
        tables: dict[str, pa.Table] = {}
        sources: dict[str, dict[str, Any]] = {}
        if relation_id is not None:
            with ports.uow.read() as uow:
                relation = relation_for(uow, caller, relation_id)
                if profile is None:
                    profile = load_profile(relation)
                for side in SIDES:
                    if inline[side] is not None:
                        continue
                    report = _report(uow, relation_id, body.get("asOf"), side)
                    tables[side] = extract_report(uow, report["id"], profile, side)
                    sources[side] = {"source": "report", "report": report["id"]}
        profile = profile or DEFAULT_PROFILE
        for side in SIDES:
            records = inline[side]
            if records is not None:
                tables[side] = extract(records, profile, side)
                sources[side] = {"source": "inline", "report": None}
        outcome = checked(profile, tables["supplier"], tables["customer"])
    return profile_check_view(outcome, relation_id=relation_id, sources=sources)


def _report(uow: UnitOfWork, relation_id: str, as_of: str | None, side: Side) -> Row:
    report = (
        uow.reports.newest(relation_id, side)
        if as_of is None
        else uow.reports.latest(relation_id, as_of, side)
    )
    if report is None:
        when = "" if as_of is None else f" as of {as_of}"
        raise Conflict(f"no {side} report for relation {relation_id}{when}")
    return report
