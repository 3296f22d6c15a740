"""Write a rebuild of the projections (see `replay`) into an empty database: what the ledger
does not determine is filled with stand-ins (the module docstring of `replay` lists them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from panther.matching.profile import DEFAULT_PROFILE

from .ports import UnitOfWork
from .replay import Projections, Rebuild

__all__ = ["ReplayError", "TargetNotEmpty", "UnresolvedReport", "write_projections"]


class ReplayError(Exception):
    """Writing a rebuild failed.

    ReplayError
     ├── TargetNotEmpty     the database to write into already holds projections
     └── UnresolvedReport   a match run names a report no ledger entry can be
    """


@dataclass(eq=False)
class TargetNotEmpty(ReplayError):
    table: str
    rows: int

    def __str__(self) -> str:
        return f"the target database is not empty: {self.table} has {self.rows} row(s)"


@dataclass(eq=False)
class UnresolvedReport(ReplayError):
    """No report on the ledger can be the one a match run names."""

    run_id: str
    side: str
    report_id: str

    def __str__(self) -> str:
        return (
            f"match run {self.run_id} names {self.side} report {self.report_id}, and no "
            f"{self.side} report on the ledger before it can be that one"
        )


def _report_ids(proj: Projections) -> dict[int, str]:
    """Report ids by ledger_seq, from the runs that name them (see the module docstring)."""
    slots: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for report in proj.tables["inventory_report"].values():
        slots.setdefault((report["relation_id"], report["side"], report["as_of"]), []).append(
            report
        )
    ids: dict[int, str] = {}
    seq_of: dict[str, int] = {}
    for run in sorted(proj.tables["match_run"].values(), key=lambda r: r["ledger_seq"]):
        for side in ("supplier", "customer"):
            report_id = run[f"{side}_report_id"]
            if report_id in seq_of:
                continue
            before = [
                r
                for r in slots.get((run["relation_id"], side, run["as_of"]), [])
                if r["ledger_seq"] < run["ledger_seq"] and r["ledger_seq"] not in ids
            ]
            if not before:
                raise UnresolvedReport(run["id"], side, report_id)
            newest = max(before, key=lambda r: r["version"])
            ids[newest["ledger_seq"]] = report_id
            seq_of[report_id] = newest["ledger_seq"]
    for seq in proj.tables["inventory_report"]:
        ids.setdefault(seq[0], f"rpt-ledger-{seq[0]}")
    return ids


def _profile(profile_hash: str) -> dict[str, Any] | None:
    if DEFAULT_PROFILE.profile_hash() == profile_hash:
        return DEFAULT_PROFILE.to_dict()
    return None


def write_projections(uow: UnitOfWork, rebuilt: Rebuild) -> dict[str, int]:
    """Insert the rebuilt projections into an empty database (migrated, no rows); returns the
    rows written per table. Raises TargetNotEmpty or UnresolvedReport before writing."""
    target = uow.ledger_entries
    for name in ("party", "relation", "inventory_report", "match_run"):
        rows = target.count(name)
        if rows:
            raise TargetNotEmpty(name, rows)
    proj = rebuilt.projections
    report_ids = _report_ids(proj)
    at = rebuilt.recorded_at
    t = proj.tables
    target.insert_rows(
        "party",
        (
            {**r, "custody": "external", "created_at": at[r["ledger_seq"]]}
            for r in t["party"].values()
        ),
    )
    target.insert_rows(
        "relation",
        (
            {
                **r,
                "profile": _profile(r["profile_hash"]),
                "proposed_by": "",
                "created_at": at[r["ledger_seq"]],
            }
            for r in t["relation"].values()
        ),
    )
    target.insert_rows(
        "relation_agreement",
        (
            {**r, "created_at": at[t["relation"][(r["relation_id"],)]["ledger_seq"]]}
            for r in t["relation_agreement"].values()
        ),
    )
    target.insert_rows(
        "inventory_report",
        (
            {
                **r,
                "id": report_ids[seq],
                "media_type": "",
                "origin": "replay",
                "created_at": at[seq],
            }
            for (seq,), r in t["inventory_report"].items()
        ),
    )
    target.insert_rows(
        "match_run",
        ({**r, "created_at": at[r["ledger_seq"]]} for r in t["match_run"].values()),
    )
    target.insert_rows(
        "match_endorsement",
        (
            {**r, "created_at": at[t["match_run"][(r["run_id"],)]["endorsed_seq"]]}
            for r in t["match_endorsement"].values()
        ),
    )
    return proj.counts()
