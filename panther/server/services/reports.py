"""Inventory reports: upload, idempotency, versions, and single-product changes (TMF637).

A report and its ``InventoryReported`` ledger entry are written in one transaction: a
rejected or crashed upload leaves nothing behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.inventory.errors import ReportRejected, UnsupportedMediaType
from panther.inventory.parse import content_hash, parse_report
from panther.inventory.records import validate_record
from panther.ledger.canonical import canonical_json
from panther.ledger.merkle import merkle_root
from panther.ledger.transactions import Transaction, TxType

from .context import Caller, gc_paused, now_iso
from .errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMedia
from .matchruns import cache_extract, maybe_auto_match
from .ports import Ports, UnitOfWork
from .relations import load_profile, relation_for
from .signing import endorse
from .statuses import check_statuses

__all__ = [
    "change_product",
    "current_reports",
    "get_report",
    "list_reports",
    "report_inventory",
    "report_tx",
    "report_view",
    "side_of",
    "upload_report",
]


def side_of(relation: dict[str, Any], party_id: str) -> str:
    if party_id == relation["supplier_id"]:
        return "supplier"
    if party_id == relation["customer_id"]:
        return "customer"
    raise NotFound(f"no relation {relation['id']}")


def report_view(row: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "href": f"{base}/panther/v1/inventoryReport/{row['id']}",
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
) -> Transaction:
    return Transaction(
        type=TxType.InventoryReported,
        version=1,
        relation=relation_id,
        payload={
            "relationId": relation_id,
            "reporter": reporter,
            "side": side,
            "asOf": as_of,
            "version": version,
            "recordCount": record_count,
            "contentHash": content_hash_hex,
        },
        merkle_root=root,
        signers=(),
        signatures=(),
    )


def _store_report(
    ports: Ports,
    uow: UnitOfWork,
    *,
    relation: dict[str, Any],
    reporter: dict[str, Any],
    as_of: str,
    leaves: Sequence[bytes],
    fields: Sequence[tuple[str, str | None, str]],
    media_type: str,
    origin: str,
    signature: str | None,
    digest: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """``digest`` is the leaves' content hash when the caller has it already (the parser
    computes it), so a large report is not hashed twice."""
    side = side_of(relation, reporter["id"])
    digest = digest or content_hash(leaves)
    latest = repo.latest_report(uow.conn, relation["id"], as_of, side)
    if latest is not None and latest["content_hash"] == digest:
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
        "created_at": now_iso(),
    }
    repo.insert_row(uow.conn, repo.T.report, row)
    report_id = row["id"]
    repo.bulk_insert(
        uow.conn,
        repo.T.record,
        ("report_id", "seq", "product_id", "external_id", "status", "body"),
        (
            (report_id, i, pid, external_id, status, leaves[i].decode())
            for i, (pid, external_id, status) in enumerate(fields)
        ),
    )
    entry = uow.append(replace(tx, signers=(reporter["address"],), signatures=(sig,)))
    repo.update_row(uow.conn, repo.T.report, {"id": report_id}, {"ledger_seq": entry.seq})
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
) -> tuple[dict[str, Any], bool]:
    """Store a report; returns (report view, created). Same content again: same report."""
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
        try:
            parsed = parse_report(body, media_type, csv_mapping=profile.csv_mapping)
        except UnsupportedMediaType as exc:
            raise UnsupportedMedia(str(exc)) from exc
        except ReportRejected as exc:
            raise InvalidInput(
                f"the report was rejected: {len(exc.errors)} problem(s)"
                + (" (first ones only)" if exc.truncated else ""),
                details=[
                    {"line": e.line, "record": e.record, "pointer": e.pointer, "message": e.message}
                    for e in exc.errors
                ],
                truncated=exc.truncated,
            ) from exc
        fields = [(r["id"], r.get("externalId"), r["status"]) for r in parsed.records]
        leaves, digest = parsed.leaves, parsed.content_hash
        del parsed  # the record dicts are no longer needed
        check_statuses(relation, [f[2] for f in fields])
        with ports.uow.write() as uow:
            reporter = repo.get_row(uow.conn, repo.T.party, id=caller.party_id)
            assert reporter is not None
            row, created = _store_report(
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
            )
        if created:
            cache_extract(ports, relation, row, leaves)
    return report_view(row, ports.settings.public_base_url), created


def report_inventory(
    ports: Ports,
    caller: Caller,
    *,
    relation_id: str,
    as_of: str,
    body: bytes,
    media_type: str,
    signature: str | None = None,
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
    )
    view["matchRun"] = None
    if created and ports.settings.auto_match:
        run = maybe_auto_match(ports, relation_id, as_of)
        if run is not None:
            view["matchRun"] = {"id": run["id"], "href": run["href"]}
    return view, created


def get_report(ports: Ports, caller: Caller, report_id: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        row = repo.get_row(uow.conn, repo.T.report, id=report_id)
        if row is None:
            raise NotFound(f"no inventory report {report_id}")
        relation_for(uow, caller, row["relation_id"])
    return report_view(row, ports.settings.public_base_url)


def list_reports(
    ports: Ports,
    caller: Caller,
    *,
    relation_id: str | None,
    as_of: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    r, rel = repo.T.report, repo.T.relation
    where: list[Any] = []
    if not caller.is_operator:
        visible = sa.select(rel.c.id).where(
            sa.or_(rel.c.supplier_id == caller.party_id, rel.c.customer_id == caller.party_id)
        )
        where.append(r.c.relation_id.in_(visible))
    if relation_id:
        where.append(r.c.relation_id == relation_id)
    if as_of:
        where.append(r.c.as_of == as_of)
    with ports.uow.read() as uow:
        total = repo.count_where(uow.conn, r, where)
        rows = repo.list_rows(
            uow.conn, r, where, order_by=[r.c.created_at, r.c.id], offset=offset, limit=limit
        )
    return [report_view(x, ports.settings.public_base_url) for x in rows], total


def current_reports(
    uow: UnitOfWork, caller: Caller, *, side: str | None = None, partner: str | None = None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(relation, newest report) pairs for the caller's current inventory per relation.

    With ``side='supplier'`` and no caller restriction for the operator, used by MEF 116.
    """
    rel, r = repo.T.relation, repo.T.report
    where: list[Any] = []
    if not caller.is_operator:
        where.append(
            sa.or_(rel.c.supplier_id == caller.party_id, rel.c.customer_id == caller.party_id)
        )
    out = []
    for relation in repo.list_rows(uow.conn, rel, where, order_by=[rel.c.id]):
        if partner and partner not in (relation["supplier_id"], relation["customer_id"]):
            continue
        report_side = side or side_of(relation, caller.party_id)
        newest = (
            uow.conn.execute(
                sa.select(r)
                .where(r.c.relation_id == relation["id"], r.c.side == report_side)
                .order_by(r.c.as_of.desc(), r.c.version.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        if newest is not None:
            out.append((relation, dict(newest)))
    return out


def _load_records(uow: UnitOfWork, report_id: str) -> Iterator[dict[str, Any]]:
    for body in repo.iter_record_bodies(uow.conn, report_id):
        yield orjson.loads(body)


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _relation_for_new_product(
    uow: UnitOfWork, caller: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    rel = repo.T.relation
    partners = [
        p
        for p in body.get("relatedParty") or []
        if isinstance(p, dict) and p.get("id") and p.get("id") != caller.party_id
    ]
    if not partners:
        raise InvalidInput(
            "relatedParty must name the partner carrier (role supplier or "
            "customer): it says which relation the product belongs to",
            details=[{"pointer": "/relatedParty", "message": "partner missing"}],
        )
    found = []
    for p in partners:
        role = (p.get("role") or "").lower()
        conds = []
        if role in ("", "customer", "buyer"):
            conds.append(
                sa.and_(rel.c.supplier_id == caller.party_id, rel.c.customer_id == p["id"])
            )
        if role in ("", "supplier", "seller"):
            conds.append(
                sa.and_(rel.c.customer_id == caller.party_id, rel.c.supplier_id == p["id"])
            )
        found += repo.list_rows(uow.conn, rel, [sa.or_(*conds)] if conds else [sa.false()])
    if len(found) != 1:
        raise InvalidInput(
            "relatedParty must identify exactly one relation of yours",
            details=[{"pointer": "/relatedParty", "message": f"{len(found)} relations match"}],
        )
    return found[0]


def change_product(
    ports: Ports,
    caller: Caller,
    *,
    op: str,
    product_id: str | None = None,
    body: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create, patch or delete one product: a new version of the caller's current report.

    Returns (the product record after the change, or before a delete; the new report view).
    """
    with ports.uow.write() as uow:
        reporter = repo.get_row(uow.conn, repo.T.party, id=caller.party_id)
        if reporter is None:
            raise NotFound("no such party")
        if op == "create":
            assert body is not None
            relation = _relation_for_new_product(uow, caller, body)
            if relation["state"] != "agreed":
                raise Conflict(f"relation {relation['id']} is not agreed yet")
            side = side_of(relation, caller.party_id)
            newest = next(
                (rep for rel_, rep in current_reports(uow, caller) if rel_["id"] == relation["id"]),
                None,
            )
            records = list(_load_records(uow, newest["id"])) if newest else []
            record = {k: v for k, v in body.items() if k not in ("href", "@type", "relatedParty")}
            if any(r.get("id") == record.get("id") for r in records):
                raise Conflict(f"product {record.get('id')} exists in this inventory")
            records.append(record)
            touched = record
            as_of = newest["as_of"] if newest else datetime.now(UTC).date().isoformat()
            del side
        else:
            hit = None
            for relation, report in current_reports(uow, caller):
                if report["side"] != side_of(relation, caller.party_id):
                    continue
                rec = repo.T.record
                row = uow.conn.execute(
                    sa.select(rec.c.seq)
                    .where(rec.c.report_id == report["id"], rec.c.product_id == product_id)
                    .limit(1)
                ).first()
                if row is not None:
                    hit = (relation, report, row[0])
                    break
            if hit is None:
                raise NotFound(f"no product {product_id}")
            relation, report, seq = hit
            records = list(_load_records(uow, report["id"]))
            as_of = report["as_of"]
            if op == "delete":
                touched = records.pop(seq)
            else:
                assert body is not None
                patch = {k: v for k, v in body.items() if k not in ("href", "@type")}
                if "id" in patch and patch["id"] != product_id:
                    raise InvalidInput(
                        "id cannot be changed",
                        status_code=422,
                        details=[{"pointer": "/id", "message": "immutable"}],
                    )
                touched = _merge_patch(records[seq], patch)
                records[seq] = touched
        problems = validate_record(touched) if op != "delete" else []
        if op != "delete" and not problems:
            check_statuses(relation, [touched["status"]])
        if problems:
            raise InvalidInput(
                "invalid product", details=[{"pointer": p, "message": m} for p, m in problems]
            )
        leaves = [canonical_json(r) for r in records]
        row, _ = _store_report(
            ports,
            uow,
            relation=relation,
            reporter=reporter,
            as_of=as_of,
            leaves=leaves,
            fields=[(r["id"], r.get("externalId"), r["status"]) for r in records],
            media_type="application/json",
            origin="productChange",
            signature=None,
        )
    cache_extract(ports, relation, row, leaves)
    if ports.settings.auto_match:
        # The corrected inventory is re-matched at once, incrementally: only the records the
        # change can affect (panther.matching.incremental).
        maybe_auto_match(ports, relation["id"], as_of)
    return touched, report_view(row, ports.settings.public_base_url)
