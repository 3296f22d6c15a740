"""Inventory reports: upload, idempotency, versions and reads; the current report of each
relation and its records, as the product APIs read them.

A report and its ``InventoryReported`` ledger entry are written in one transaction: a
rejected or crashed upload leaves nothing behind.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import replace
from typing import Any

import orjson

from panther.inventory.errors import ReportRejected, UnsupportedMediaType
from panther.inventory.parse import HeldOutRecord, ParsedReport, content_hash, parse_report
from panther.inventory.views import UnmappableStatus, tmf637_status
from panther.ledger.merkle import merkle_root
from panther.ledger.transactions import Transaction, TxType

from ..representations.panther.reports import (
    HELD_OUT_SHOWN,
    held_out_listing,
    rejection_details,
    rejection_summary,
    report_view,
)
from .context import Caller, gc_paused
from .errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMedia
from .matchruns import cache_extract, maybe_auto_match
from .ports import (
    STORED_STRINGS,
    Ports,
    RecordFilter,
    RecordKeys,
    Row,
    UnitOfWork,
    stored_string,
)
from .relations import holds_out_unreadable, load_profile, relation_for
from .signing import endorse
from .statuses import status_map_of

__all__ = [
    "current_reports",
    "get_report",
    "list_reports",
    "page_records",
    "record_keys",
    "records_of",
    "report_inventory",
    "report_tx",
    "side_of",
    "status_counts_of",
    "store_report",
    "upload_report",
]


def record_keys(record: Mapping[str, Any]) -> RecordKeys:
    """The columns stored beside a parsed record's JSON (see ``RecordKeys``)."""
    name, offering, specification = (_string_at(record, path) for path in STORED_STRINGS)
    external_id = stored_string(record.get("externalId"))
    return record["id"], external_id, record["status"], name, offering, specification


def _string_at(record: Mapping[str, Any], path: tuple[str, ...]) -> str | None:
    value: Any = record
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return stored_string(value)


def side_of(relation: Row, party_id: str) -> str:
    if party_id == relation["supplier_id"]:
        return "supplier"
    if party_id == relation["customer_id"]:
        return "customer"
    raise NotFound(f"no relation {relation['id']}")


def report_tx(
    *,
    relation_id: str,
    reporter: str,
    side: str,
    as_of: str,
    version: int,
    record_count: int,
    content_hash_hex: str,
    root: bytes,
    held_out_count: int = 0,
    held_out_hash: str | None = None,
) -> Transaction:
    """The entry of a report: what is kept (count, content hash, Merkle root) and, when
    records were held out of the upload, how many and the hash of their bytes as sent."""
    payload: dict[str, Any] = {
        "relationId": relation_id,
        "reporter": reporter,
        "side": side,
        "asOf": as_of,
        "version": version,
        "recordCount": record_count,
        "contentHash": content_hash_hex,
    }
    if held_out_count:
        payload |= {"heldOutCount": held_out_count, "heldOutHash": held_out_hash}
    return Transaction(
        type=TxType.InventoryReported,
        version=1,
        relation=relation_id,
        payload=payload,
        merkle_root=root,
        signers=(),
        signatures=(),
    )


def store_report(
    ports: Ports,
    uow: UnitOfWork,
    *,
    relation: Row,
    reporter: Row,
    as_of: str,
    leaves: Sequence[bytes],
    fields: Sequence[RecordKeys],
    media_type: str,
    origin: str,
    signature: str | None,
    digest: str | None = None,
    held_out: Sequence[HeldOutRecord] = (),
    held_out_digest: str | None = None,
) -> tuple[Row, bool]:
    """Record a new version of the reporter's report for the date, unless it is the same
    content as the latest: (the stored report, created).

    ``leaves`` are the records' canonical JSON and ``fields`` their keys, in report order.
    ``digest`` is the leaves' content hash when the caller has it already (the parser
    computes it), so a large report is not hashed twice. ``held_out`` are the records held
    out of the upload (``held_out_digest`` their hash): counted and committed to by the
    entry, listed on the report; the same content is the same kept records and the same
    held-out ones."""
    side = side_of(relation, reporter["id"])
    uow.reports.lock_inventory(relation["id"], side)  # one new version at a time
    digest = digest or content_hash(leaves)
    latest = uow.reports.latest(relation["id"], as_of, side)
    if (
        latest is not None
        and latest["content_hash"] == digest
        and latest.get("held_out_hash") == held_out_digest
    ):
        return latest, False
    version = latest["version"] + 1 if latest else 1
    root = merkle_root(leaves)
    tx = report_tx(
        relation_id=relation["id"],
        reporter=reporter["id"],
        side=side,
        as_of=as_of,
        version=version,
        record_count=len(leaves),
        content_hash_hex=digest,
        root=root,
        held_out_count=len(held_out),
        held_out_hash=held_out_digest,
    )
    sig = endorse(ports, uow, reporter, tx, signature)
    row = {
        "id": f"rpt-{secrets.token_hex(10)}",
        "relation_id": relation["id"],
        "reporter_id": reporter["id"],
        "side": side,
        "as_of": as_of,
        "version": version,
        "content_hash": digest,
        "merkle_root": root.hex(),
        "record_count": len(leaves),
        "media_type": media_type,
        "origin": origin,
        "signature": "0x" + sig.hex(),
        "ledger_seq": None,
        "created_at": ports.clock.now_iso(),
        "status_counts": orjson.dumps(
            Counter(keys[2] for keys in fields), option=orjson.OPT_SORT_KEYS
        ).decode(),
        "held_out_count": len(held_out),
        "held_out_hash": held_out_digest,
        "held_out": held_out_listing(held_out) if held_out else None,
    }
    uow.reports.add(row)
    uow.reports.add_records(row["id"], fields, leaves)
    entry = uow.append(replace(tx, signers=(reporter["address"],), signatures=(sig,)))
    uow.reports.set_ledger_seq(row["id"], entry.seq)
    row["ledger_seq"] = entry.seq
    return row, True


def upload_report(
    ports: Ports,
    caller: Caller,
    *,
    relation_id: str,
    as_of: str,
    body: bytes,
    media_type: str,
    signature: str | None = None,
    problem_limit: int = 100,
) -> tuple[dict[str, Any], bool]:
    """Store a report; returns (report view, created). Same content again: same report.

    Records that cannot be read refuse the report whole (422: every problem counted by
    kind, the first ``problem_limit`` listed), or, under the relation's term
    ``unreadableRecords: holdOut``, are held out of it and listed on the report."""
    if len(body) > ports.settings.max_upload_bytes:
        raise PayloadTooLarge(f"upload over {ports.settings.max_upload_bytes} bytes")
    with ports.uow.read() as uow:
        relation = relation_for(uow, caller, relation_id)
        side_of(relation, caller.party_id)
        if relation["state"] != "agreed":
            raise Conflict(f"relation {relation_id} is not agreed by both carriers yet")
    profile = load_profile(relation)
    # The parsed records are millions of live objects: with the cycle collector on, every
    # allocation burst made it rescan them all (5.5 s of a 100k upload went to that).
    with gc_paused():
        parsed = _parse(relation, body, media_type, profile.csv_mapping, problem_limit)
        fields = [record_keys(r) for r in parsed.records]
        leaves, digest, held_out = parsed.leaves, parsed.content_hash, parsed.held_out
        held_out_digest = parsed.held_out_hash
        del parsed  # the record dicts are no longer needed
        with ports.uow.write() as uow:
            reporter = uow.parties.get(caller.party_id)
            assert reporter is not None
            row, created = store_report(
                ports,
                uow,
                relation=relation,
                reporter=reporter,
                as_of=as_of,
                leaves=leaves,
                fields=fields,
                media_type=media_type,
                origin="upload",
                signature=signature,
                digest=digest,
                held_out=held_out,
                held_out_digest=held_out_digest,
            )
        if created:
            cache_extract(ports, relation, row, leaves)
    return report_view(row, ports.settings.public_base_url), created


def _parse(
    relation: Row,
    body: bytes,
    media_type: str,
    csv_mapping: Mapping[str, str] | None,
    problem_limit: int,
) -> ParsedReport:
    """The report's readable records (``parse_report``), problems as the API's errors."""
    status_map = status_map_of(relation)

    def known_status(status: str) -> bool:
        try:
            tmf637_status(status, status_map)
        except UnmappableStatus:
            return False
        return True

    try:
        return parse_report(
            body,
            media_type,
            csv_mapping=csv_mapping,
            hold_out=holds_out_unreadable(relation),
            known_status=known_status,
            max_errors=problem_limit,
        )
    except UnsupportedMediaType as exc:
        raise UnsupportedMedia(str(exc)) from exc
    except ReportRejected as exc:
        listed = len(exc.errors)
        raise InvalidInput(
            f"the report was rejected: {exc.problem_count} problem(s) in {exc.records} "
            f"record(s)" + (f", the first {listed} listed" if exc.truncated else ""),
            details=rejection_details(exc.errors),
            truncated=exc.truncated,
            summary=rejection_summary(exc),
        ) from exc


def report_inventory(
    ports: Ports,
    caller: Caller,
    *,
    relation_id: str,
    as_of: str,
    body: bytes,
    media_type: str,
    signature: str | None = None,
    problem_limit: int = 100,
) -> tuple[dict[str, Any], bool]:
    """The upload use case: store the report, then, when both sides have now reported for
    the date, run the match (the view's ``matchRun`` says which)."""
    view, created = upload_report(
        ports,
        caller,
        relation_id=relation_id,
        as_of=as_of,
        body=body,
        media_type=media_type,
        signature=signature,
        problem_limit=problem_limit,
    )
    view["matchRun"] = None
    if created and ports.settings.auto_match:
        run = maybe_auto_match(ports, relation_id, as_of)
        if run is not None:
            view["matchRun"] = {"id": run["id"], "href": run["href"]}
    return view, created


def get_report(
    ports: Ports,
    caller: Caller,
    report_id: str,
    *,
    held_out_offset: int = 0,
    held_out_limit: int = HELD_OUT_SHOWN,
) -> dict[str, Any]:
    """The report, with the page of the records held out of it that is asked for."""
    with ports.uow.read() as uow:
        row = uow.reports.get(report_id)
        if row is None:
            raise NotFound(f"no inventory report {report_id}")
        relation_for(uow, caller, row["relation_id"])
    return report_view(
        row,
        ports.settings.public_base_url,
        held_out_offset=held_out_offset,
        held_out_limit=held_out_limit,
    )


def list_reports(
    ports: Ports,
    caller: Caller,
    *,
    relation_id: str | None,
    as_of: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    with ports.uow.read() as uow:
        rows, total = uow.reports.list_visible(
            None if caller.is_operator else caller.party_id,
            relation_id=relation_id,
            as_of=as_of,
            offset=offset,
            limit=limit,
        )
    return [report_view(x, ports.settings.public_base_url) for x in rows], total


# ---- the current reports and their records, as the product APIs read them ----


def current_reports(
    uow: UnitOfWork, caller: Caller, *, side: str | None = None, partner: str | None = None
) -> list[tuple[Row, Row]]:
    """(relation, newest report) pairs for the caller's current inventory per relation.

    With ``side='supplier'`` and no caller restriction for the operator, used by MEF 116.
    """
    out = []
    for relation in uow.reports.relations_of(None if caller.is_operator else caller.party_id):
        if partner and partner not in (relation["supplier_id"], relation["customer_id"]):
            continue
        newest = uow.reports.newest(relation["id"], side or side_of(relation, caller.party_id))
        if newest is not None:
            out.append((relation, newest))
    return out


def records_of(
    uow: UnitOfWork,
    report_ids: Sequence[str],
    *,
    product_id: str | None = None,
    external_id: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Generator[tuple[str, dict[str, Any]], None, None]:
    """(report id, record) of these reports' records (see ``ReportRepository.records``)."""
    rows = uow.reports.records(
        report_ids, product_id=product_id, external_id=external_id, offset=offset, limit=limit
    )
    with closing(rows):  # a reader that stops early closes the database cursor at once
        for report_id, body in rows:
            yield report_id, orjson.loads(body)


def status_counts_of(uow: UnitOfWork, report: Row) -> dict[str, int]:
    """How many of the report's records carry each reported status: stored with the report,
    counted for a report stored before that."""
    stored = report.get("status_counts")
    if stored:
        counts: dict[str, int] = orjson.loads(stored)
        return counts
    return uow.reports.status_counts(report["id"])


def page_records(
    uow: UnitOfWork, parts: Sequence[tuple[Row, RecordFilter]], offset: int, limit: int
) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """(report id, record) of the records ``offset`` to ``offset + limit`` of these reports
    that pass each report's filter, by report id then report order, and how many pass.

    Only the page is read: the count of each report comes from the report itself (its record
    count, its counts per status) or, for the other filters, from the database's indexes,
    so a deep offset skips whole reports and is found in the one it falls in."""
    counted = [
        (report, which, _count(uow, report, which))
        for report, which in sorted(parts, key=lambda part: str(part[0]["id"]))
    ]
    out: list[tuple[str, dict[str, Any]]] = []
    for report, which, count in counted:
        if len(out) >= limit:
            break
        if offset >= count:
            offset -= count
            continue
        bodies = uow.reports.record_page(
            report["id"], which, offset, min(limit - len(out), count - offset)
        )
        out.extend((report["id"], orjson.loads(body)) for body in bodies)
        offset = 0
    return out, sum(count for _, _, count in counted)


def _count(uow: UnitOfWork, report: Row, which: RecordFilter) -> int:
    if not which.by_status_only:
        return uow.reports.count_where(report["id"], which)
    if which.statuses is None:
        return int(report["record_count"])
    counts = status_counts_of(uow, report)
    return sum(counts.get(status, 0) for status in which.statuses)
