"""Match runs: match the newest reports of both sides, store the items, collect endorsements."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import orjson
import pyarrow as pa
import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.ledger import eip712
from panther.ledger.merkle import merkle_root
from panther.ledger.transactions import Transaction, TxType
from panther.matching.engine import MatchResult, match
from panther.matching.explain import explain
from panther.matching.fastpath import extract_json, item_columns
from panther.matching.fuzzy import suggest
from panther.matching.incremental import Correction, correspondence, rematch
from panther.matching.profile import DEFAULT_PROFILE, MatchProfile

from . import review_state
from .context import Caller, gc_paused, now_iso
from .errors import Conflict, Forbidden, NotFound
from .ports import Ports, UnitOfWork
from .relations import load_profile, relation_for
from .signing import co_sign, endorse

__all__ = [
    "confirm_suggestion",
    "endorse_run",
    "explain_item",
    "get_item",
    "get_run",
    "list_items",
    "list_runs",
    "maybe_auto_match",
    "run_match",
    "run_view",
]

_CHUNK = 200_000
log = logging.getLogger("panther.match")


def run_view(
    ports: Ports,
    row: dict[str, Any],
    endorsements: list[dict[str, Any]],
    review_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The run; ``endorsementDigest`` is what a party that keeps its own key signs, ``review``
    how many of its partial and mismatch items are open, proposed, agreed and disputed."""
    base = ports.settings.public_base_url
    return {
        "id": row["id"],
        "href": f"{base}/panther/v1/matchRun/{row['id']}",
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
        "endorsementDigest": "0x" + eip712.digest(ports.domain, endorsed_tx(row)).hex(),
        "review": review_counts,
    }


def _extract_report(uow: UnitOfWork, report_id: str, profile: Any, side: str) -> pa.Table:
    """Narrow columns of a stored report, straight from the canonical JSON text (vectorised
    in DuckDB), in chunks so only one chunk of record text is held at a time."""
    parts: list[pa.Table] = []
    offset = 0
    for chunk in repo.record_body_chunks(uow.conn, report_id, _CHUNK):
        parts.append(
            extract_json(pa.array(chunk, pa.large_string()), profile, side, first_ref=offset)
        )
        offset += len(chunk)
    if not parts:
        parts.append(extract_json(pa.array([], pa.large_string()), profile, side))
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def cache_extract(
    ports: Ports, relation: dict[str, Any], report: dict[str, Any], leaves: Sequence[bytes]
) -> None:
    """Extract a newly stored report's match columns once, for every later run. A failure
    here costs only speed: the run extracts from the database instead."""
    if ports.extract_cache is None:
        return
    try:
        text = pa.array(leaves, pa.large_binary()).cast(pa.large_string())
        table = extract_json(text, load_profile(relation), report["side"])
        ports.extract_cache.put(
            report["content_hash"], report["side"], relation["profile_hash"], table
        )
    except Exception:  # noqa: BLE001  (an optimisation must never fail the upload)
        log.exception("could not cache the extract of report %s", report["id"])


def _extract_both(
    ports: Ports, profile: Any, profile_hash: str, sup: dict[str, Any], cus: dict[str, Any]
) -> tuple[pa.Table, pa.Table]:
    """Both sides at once, each on its own connection: reading one side's text from the
    database overlaps with DuckDB extracting the other's (both release the GIL)."""

    def side(report: dict[str, Any], name: str) -> pa.Table:
        if ports.extract_cache is not None:
            cached = ports.extract_cache.get(report["content_hash"], name, profile_hash)
            if cached is not None and cached.num_rows == report["record_count"]:
                return cached
        with ports.uow.read() as uow:
            return _extract_report(uow, report["id"], profile, name)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="panther-extract") as pool:
        sup_table = pool.submit(side, sup, "supplier")
        cus_table = pool.submit(side, cus, "customer")
        return sup_table.result(), cus_table.result()


def _item_rows(run_id: str, result: MatchResult) -> tuple[Iterator[tuple[Any, ...]], list[bytes]]:
    """Rows for match_item and the Merkle leaves (each item's canonical JSON), vectorised."""
    cols = item_columns(result)
    items = result.items
    rows = zip(
        [run_id] * items.num_rows,
        items.column("item_no").to_pylist(),
        items.column("class").to_pylist(),
        items.column("reason").to_pylist(),
        items.column("rule").to_pylist(),
        cols.diff_fields.to_pylist(),
        cols.bodies.to_pylist(),
        strict=True,
    )
    return rows, cols.leaves()


def _store_suggestions(uow: UnitOfWork, run_id: str, suggestions: pa.Table) -> None:
    if suggestions.num_rows == 0:
        return
    rows = [
        {
            "run_id": run_id,
            "supplier_item": r["supplier_item"],
            "customer_item": r["customer_item"],
            "distance": r["distance"],
            "score": r["score"],
            "reason": r["reason"][:1000],
            "confirmed_by": "[]",
            "linked_run_id": None,
        }
        for r in suggestions.to_pylist()
    ]
    uow.conn.execute(repo.T.suggestion.insert(), rows)


def _suggestions_for(
    uow: UnitOfWork, run_id: str, item_nos: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The candidates shown on each of the given items (both items of a pair show it)."""
    sg = repo.T.suggestion
    rows = uow.conn.execute(
        sa.select(sg).where(
            sg.c.run_id == run_id,
            sa.or_(sg.c.supplier_item.in_(item_nos), sg.c.customer_item.in_(item_nos)),
        )
    ).mappings()
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        for mine, other in (("supplier_item", "customer_item"), ("customer_item", "supplier_item")):
            out.setdefault(r[mine], []).append(
                {
                    "itemNo": r[other],
                    "supplierItemNo": r["supplier_item"],
                    "customerItemNo": r["customer_item"],
                    "distance": r["distance"],
                    "score": r["score"],
                    "reason": r["reason"],
                    "confirmedBy": json.loads(r["confirmed_by"]),
                    "linkedRun": r["linked_run_id"],
                }
            )
    for listed in out.values():
        listed.sort(key=lambda c: (-c["score"], c["itemNo"]))
    return out


def recorded_tx(row: dict[str, Any]) -> Transaction:
    return Transaction(
        type=TxType.MatchRecorded,
        version=1,
        relation=row["relation_id"],
        payload={
            "runId": row["id"],
            "relationId": row["relation_id"],
            "asOf": row["as_of"],
            "supplierReport": row["supplier_report_id"],
            "customerReport": row["customer_report_id"],
            "profileHash": row["profile_hash"],
            "counts": json.loads(row["counts"]),
            "itemCount": row["item_count"],
        },
        merkle_root=bytes.fromhex(row["items_root"]),
        signers=(),
        signatures=(),
    )


def endorsed_tx(row: dict[str, Any]) -> Transaction:
    return Transaction(
        type=TxType.MatchEndorsed,
        version=1,
        relation=row["relation_id"],
        payload={
            "runId": row["id"],
            "relationId": row["relation_id"],
            "counts": json.loads(row["counts"]),
            "recordedSeq": row["ledger_seq"],
        },
        merkle_root=bytes.fromhex(row["items_root"]),
        signers=(),
        signatures=(),
    )


def run_match(
    ports: Ports,
    caller: Caller | None,
    relation_id: str,
    as_of: str,
    extra_links: Sequence[tuple[int, int]] = (),
) -> tuple[dict[str, Any], bool]:
    """Match the newest reports of both sides for the date; the same inputs give the same run.
    `extra_links` are newly confirmed candidate pairs (refs of the newest reports)."""
    with gc_paused():
        return _run_match(ports, caller, relation_id, as_of, extra_links)


def _run_match(
    ports: Ports,
    caller: Caller | None,
    relation_id: str,
    as_of: str,
    extra_links: Sequence[tuple[int, int]] = (),
) -> tuple[dict[str, Any], bool]:
    with ports.uow.read() as uow:
        if caller is None:
            relation = repo.get_row(uow.conn, repo.T.relation, id=relation_id)
            assert relation is not None
        else:
            relation = relation_for(uow, caller, relation_id)
        sup = repo.latest_report(uow.conn, relation_id, as_of, "supplier")
        cus = repo.latest_report(uow.conn, relation_id, as_of, "customer")
        if sup is None or cus is None:
            missing = "supplier" if sup is None else "customer"
            raise Conflict(f"no {missing} report for relation {relation_id} as of {as_of}")
        run = repo.T.run
        previous = (
            uow.conn.execute(
                sa.select(run)
                .where(
                    run.c.relation_id == relation_id,
                    run.c.as_of == as_of,
                    run.c.profile_hash == relation["profile_hash"],
                )
                .order_by(run.c.created_at.desc(), run.c.ledger_seq.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        same_reports = previous is not None and (
            previous["supplier_report_id"],
            previous["customer_report_id"],
        ) == (sup["id"], cus["id"])
        if same_reports and not extra_links:
            row = dict(previous)  # type: ignore[arg-type]
            counts = review_state.run_summary(uow, row)
            return run_view(ports, row, repo.endorsement_rows(uow.conn, row["id"]), counts), False
        profile = load_profile(relation)
    sup_table, cus_table = _extract_both(ports, profile, relation["profile_hash"], sup, cus)
    rematched = None
    incremental = _incremental(
        ports, profile, previous, (sup, cus), (sup_table, cus_table), extra_links
    )
    if incremental is not None:
        result, rematched, links = incremental
    else:
        # Without the previous run's cached items the links carry over only when the
        # reports (so the refs) are the same.
        carried = json.loads(previous["links"]) if same_reports and previous else []
        links = _unique_links([*map(tuple, carried), *extra_links])
        result = match(sup_table, cus_table, profile, links)
    suggestions = suggest(sup_table, cus_table, result, profile)
    del sup_table, cus_table
    run_id = f"run-{secrets.token_hex(10)}"
    if ports.extract_cache is not None:
        try:
            ports.extract_cache.put_items(run_id, result.items)
        except Exception:  # noqa: BLE001  (an optimisation must never fail the run)
            log.exception("could not cache the items of run %s", run_id)
    item_rows, leaves = _item_rows(run_id, result)
    with ports.uow.write() as uow:
        operator = repo.get_row(uow.conn, repo.T.party, id="operator")
        assert operator is not None
        row = {
            "id": run_id,
            "relation_id": relation_id,
            "as_of": as_of,
            "supplier_report_id": sup["id"],
            "customer_report_id": cus["id"],
            "profile_hash": relation["profile_hash"],
            "state": "recorded",
            "counts": json.dumps(dict(result.counts), sort_keys=True),
            "items_root": "",
            "item_count": 0,
            "ledger_seq": None,
            "endorsed_seq": None,
            "created_at": now_iso(),
            "previous_run_id": previous["id"] if rematched is not None else None,
            "rematched": json.dumps(rematched, sort_keys=True) if rematched else None,
            "links": json.dumps([list(pair) for pair in links]),
        }
        repo.insert_row(uow.conn, repo.T.run, row)
        count = repo.bulk_insert(
            uow.conn,
            repo.T.item,
            (
                "run_id",
                "item_no",
                "class",
                "reason",
                "rule",
                "diff_fields",
                "body",
            ),
            item_rows,
        )
        _store_suggestions(uow, run_id, suggestions)
        row["items_root"], row["item_count"] = merkle_root(leaves).hex(), count
        tx = recorded_tx(row)
        sig = endorse(ports, uow, operator, tx, None)
        entry = uow.append(replace(tx, signers=(operator["address"],), signatures=(sig,)))
        repo.update_row(
            uow.conn,
            repo.T.run,
            {"id": run_id},
            {"ledger_seq": entry.seq, "items_root": row["items_root"], "item_count": count},
        )
        row["ledger_seq"] = entry.seq
        # What both carriers agreed on items that this run left unchanged still stands.
        review_state.carry_over(uow, row)
        view = run_view(ports, row, [], review_state.run_summary(uow, row))
    return view, True


def _unique_links(links: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    seen: dict[tuple[int, int], None] = {}
    for s_ref, c_ref in links:
        seen[(int(s_ref), int(c_ref))] = None
    return list(seen)


def _incremental(
    ports: Ports,
    profile: MatchProfile,
    previous: Any,
    reports: tuple[dict[str, Any], dict[str, Any]],
    new_tables: tuple[pa.Table, pa.Table],
    extra_links: Sequence[tuple[int, int]],
) -> tuple[MatchResult, dict[str, Any], list[tuple[int, int]]] | None:
    """Re-match only what changed since the previous run for the relation and date (the same
    result as a full match, checked by property tests), when that run's items and its
    reports' extracts are in the cache; None means: match in full. The previous run's
    confirmed links carry over to records that did not change."""
    cache = ports.extract_cache
    if previous is None or cache is None:
        return None
    items = cache.get_items(previous["id"])
    if items is None:
        return None
    with ports.uow.read() as uow:
        old = [
            repo.get_row(uow.conn, repo.T.report, id=previous[f"{side}_report_id"])
            for side in ("supplier", "customer")
        ]
    tables = []
    for report, side in zip(old, ("supplier", "customer"), strict=True):
        table = (
            None
            if report is None
            else cache.get(report["content_hash"], side, previous["profile_hash"])
        )
        if table is None or table.num_rows != report["record_count"]:
            return None
        tables.append(table)
    try:
        # A side whose report did not change keeps every ref (a confirmed link on the same
        # reports): no need to pair its records again.
        fixes = tuple(
            Correction.in_place(new.num_rows, [])
            if report is not None and report["id"] == current["id"]
            else correspondence(old_table, new)
            for report, current, old_table, new in zip(
                old, reports, tables, new_tables, strict=True
            )
        )
        s_changed, c_changed = set(fixes[0].changed.tolist()), set(fixes[1].changed.tolist())
        carried = []
        for s_old, c_old in json.loads(previous["links"]):
            s_new, c_new = int(fixes[0].old_to_new[s_old]), int(fixes[1].old_to_new[c_old])
            if s_new >= 0 and c_new >= 0 and s_new not in s_changed and c_new not in c_changed:
                carried.append((s_new, c_new))
        links = _unique_links([*carried, *extra_links])
        result, stats = rematch(
            MatchResult.of(items),
            (tables[0], tables[1]),
            new_tables,
            fixes,  # type: ignore[arg-type]
            profile,
            links,
        )
    except Exception:  # noqa: BLE001  (fall back to the full match, which is the truth)
        log.exception("incremental re-match after run %s failed; matching in full", previous["id"])
        return None
    stats["previousRun"] = previous["id"]
    return result, stats, links


def confirm_suggestion(
    ports: Ports, caller: Caller, run_id: str, item_no: int, other_no: int
) -> dict[str, Any]:
    """One carrier confirms a fuzzy candidate pair (a ReviewActionTaken it signs); with both
    carriers' confirmations the pair is linked in a new run for the relation and date."""
    sg = repo.T.suggestion
    with ports.uow.write() as uow:
        run = _run_for(uow, caller, run_id)
        relation = repo.get_row(uow.conn, repo.T.relation, id=run["relation_id"])
        assert relation is not None
        if caller.party_id not in (relation["supplier_id"], relation["customer_id"]):
            raise Forbidden("only the two carriers of the relation confirm candidates")
        row = (
            uow.conn.execute(
                sa.select(sg).where(
                    sg.c.run_id == run_id,
                    sa.or_(
                        sa.and_(sg.c.supplier_item == item_no, sg.c.customer_item == other_no),
                        sa.and_(sg.c.supplier_item == other_no, sg.c.customer_item == item_no),
                    ),
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"items {item_no} and {other_no} of run {run_id} are not a suggestion")
        newest = uow.conn.execute(
            sa.select(repo.T.run.c.id)
            .where(
                repo.T.run.c.relation_id == run["relation_id"],
                repo.T.run.c.as_of == run["as_of"],
            )
            .order_by(repo.T.run.c.created_at.desc(), repo.T.run.c.ledger_seq.desc())
            .limit(1)
        ).scalar_one()
        confirmed = json.loads(row["confirmed_by"])
        key = {"run_id": run_id, "supplier_item": row["supplier_item"],
               "customer_item": row["customer_item"]}  # fmt: skip
        if caller.party_id in confirmed:
            return _suggestion_view(dict(row), item_no)
        if newest != run_id:
            raise Conflict(f"run {newest} is newer for this relation and date: confirm there")
        refs = {}
        for side, no in (("supplier", row["supplier_item"]), ("customer", row["customer_item"])):
            item = repo.get_row(uow.conn, repo.T.item, run_id=run_id, item_no=no)
            assert item is not None
            refs[side] = orjson.loads(item["body"])[f"{side}Refs"][0]
        party = repo.get_row(uow.conn, repo.T.party, id=caller.party_id)
        assert party is not None
        tx = Transaction(
            type=TxType.ReviewActionTaken,
            version=1,
            relation=run["relation_id"],
            payload={
                "action": "confirmCandidate",
                "runId": run_id,
                "relationId": run["relation_id"],
                "party": caller.party_id,
                "supplierItemNo": row["supplier_item"],
                "customerItemNo": row["customer_item"],
                "supplierRef": refs["supplier"],
                "customerRef": refs["customer"],
            },
        )
        signature = endorse(ports, uow, party, tx, None)
        uow.append(replace(tx, signers=(party["address"],), signatures=(signature,)))
        confirmed = sorted({*confirmed, caller.party_id})
        repo.update_row(uow.conn, sg, key, {"confirmed_by": json.dumps(confirmed)})
        both = {relation["supplier_id"], relation["customer_id"]} <= set(confirmed)
    if both:
        view, _ = run_match(
            ports, None, run["relation_id"], run["as_of"], [(refs["supplier"], refs["customer"])]
        )
        with ports.uow.write() as uow:
            repo.update_row(uow.conn, sg, key, {"linked_run_id": view["id"]})
    with ports.uow.read() as uow:
        final = (
            uow.conn.execute(sa.select(sg).where(*(sg.c[k] == v for k, v in key.items())))
            .mappings()
            .one()
        )
    return _suggestion_view(dict(final), item_no)


def _suggestion_view(row: dict[str, Any], mine: int) -> dict[str, Any]:
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


def maybe_auto_match(ports: Ports, relation_id: str, as_of: str) -> dict[str, Any] | None:
    """Start the run by itself once both sides have reported for the date."""
    with ports.uow.read() as uow:
        if (
            repo.latest_report(uow.conn, relation_id, as_of, "supplier") is None
            or repo.latest_report(uow.conn, relation_id, as_of, "customer") is None
        ):
            return None
    view, _ = run_match(ports, None, relation_id, as_of)
    return view


def _run_for(uow: UnitOfWork, caller: Caller, run_id: str) -> dict[str, Any]:
    row = repo.get_row(uow.conn, repo.T.run, id=run_id)
    if row is None:
        raise NotFound(f"no match run {run_id}")
    try:
        relation_for(uow, caller, row["relation_id"])
    except NotFound:
        raise NotFound(f"no match run {run_id}") from None
    return row


def get_run(ports: Ports, caller: Caller, run_id: str) -> dict[str, Any]:
    with ports.uow.read() as uow:
        row = _run_for(uow, caller, run_id)
        return run_view(
            ports, row, repo.endorsement_rows(uow.conn, run_id), review_state.run_summary(uow, row)
        )


def list_runs(
    ports: Ports,
    caller: Caller,
    *,
    relation_id: str | None,
    as_of: str | None,
    state: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    run, rel = repo.T.run, repo.T.relation
    where: list[Any] = []
    if not caller.is_operator:
        where.append(
            run.c.relation_id.in_(
                sa.select(rel.c.id).where(
                    sa.or_(
                        rel.c.supplier_id == caller.party_id, rel.c.customer_id == caller.party_id
                    )
                )
            )
        )
    if relation_id:
        where.append(run.c.relation_id == relation_id)
    if as_of:
        where.append(run.c.as_of == as_of)
    if state:
        where.append(run.c.state == state)
    with ports.uow.read() as uow:
        total = repo.count_where(uow.conn, run, where)
        rows = repo.list_rows(
            uow.conn, run, where, order_by=[run.c.created_at, run.c.id], offset=offset, limit=limit
        )
        views = [
            run_view(
                ports, r, repo.endorsement_rows(uow.conn, r["id"]), review_state.run_summary(uow, r)
            )
            for r in rows
        ]
    return views, total


def _item_view(row: dict[str, Any], base: str, run_id: str) -> dict[str, Any]:
    body = orjson.loads(row["body"])
    return {
        "id": str(row["item_no"]),
        "href": f"{base}/panther/v1/matchRun/{run_id}/item/{row['item_no']}",
        "@type": "MatchItem",
        "itemNo": row["item_no"],
        "class": body["class"],
        "reason": body.get("reason"),
        "rule": body.get("rule"),
        "supplierRefs": body["supplierRefs"],
        "customerRefs": body["customerRefs"],
        "differences": body.get("differences") or [],
        "suggestions": [],
    }


def list_items(
    ports: Ports,
    caller: Caller,
    run_id: str,
    *,
    class_: str | None,
    reason: str | None,
    field: str | None,
    rule: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    it = repo.T.item
    where: list[Any] = [it.c.run_id == run_id]
    if class_:
        where.append(it.c["class"] == class_)
    if reason:
        where.append(it.c.reason == reason)
    if rule:
        where.append(it.c.rule == rule)
    if field:
        where.append(it.c.diff_fields.like(f"%,{field},%"))
    with ports.uow.read() as uow:
        _run_for(uow, caller, run_id)
        total = repo.count_where(uow.conn, it, where)
        rows = repo.list_rows(
            uow.conn, it, where, order_by=[it.c.item_no], offset=offset, limit=limit
        )
        candidates = _suggestions_for(
            uow, run_id, [r["item_no"] for r in rows if r["class"] == "mismatch"]
        )
        states = review_state.resolutions_for_run(uow, run_id)
    base = ports.settings.public_base_url
    views = [_item_view(r, base, run_id) for r in rows]
    for view in views:
        view["suggestions"] = candidates.get(view["itemNo"], [])
        if view["class"] in review_state.REVIEWED:
            view["reviewState"] = states.get(view["itemNo"], {}).get("state", "open")
    return views, total


def get_item(ports: Ports, caller: Caller, run_id: str, item_no: int) -> dict[str, Any]:
    """One item with both sides' records side by side."""
    rec = repo.T.record
    with ports.uow.read() as uow:
        run = _run_for(uow, caller, run_id)
        row = repo.get_row(uow.conn, repo.T.item, run_id=run_id, item_no=item_no)
        if row is None:
            raise NotFound(f"no item {item_no} in match run {run_id}")
        view = _item_view(row, ports.settings.public_base_url, run_id)
        view["suggestions"] = _suggestions_for(uow, run_id, [item_no]).get(item_no, [])
        for side, report_id in (
            ("supplier", run["supplier_report_id"]),
            ("customer", run["customer_report_id"]),
        ):
            refs = view[f"{side}Refs"]
            bodies = uow.conn.execute(
                sa.select(rec.c.seq, rec.c.body)
                .where(rec.c.report_id == report_id, rec.c.seq.in_(refs))
                .order_by(rec.c.seq)
            ).all()
            view[f"{side}Records"] = [orjson.loads(b) for _, b in bodies]
        if view["class"] in review_state.REVIEWED:
            view["review"], _ = review_state.item_review(uow, run_id, item_no)
    return view


def endorse_run(ports: Ports, caller: Caller, run_id: str, signature: str | None) -> dict[str, Any]:
    with ports.uow.write() as uow:
        row = _run_for(uow, caller, run_id)
        relation = repo.get_row(uow.conn, repo.T.relation, id=row["relation_id"])
        assert relation is not None
        signed = co_sign(
            ports,
            uow,
            signatures=uow.runs.endorsements(run_id),
            relation=relation,
            party_id=caller.party_id,
            tx=endorsed_tx(row),
            signature=signature,
        )
        if signed.entry is not None:
            repo.update_row(
                uow.conn,
                repo.T.run,
                {"id": run_id},
                {"state": "final", "endorsed_seq": signed.entry.seq},
            )
            row = {**row, "state": "final", "endorsed_seq": signed.entry.seq}
        counts = review_state.run_summary(uow, row)
    return run_view(ports, row, signed.rows, counts)


def _run_profile(uow: UnitOfWork, run: dict[str, Any]) -> MatchProfile:
    """The profile the run was matched with: its relation's, or the default, by hash."""
    relation = repo.get_row(uow.conn, repo.T.relation, id=run["relation_id"])
    if relation is not None and relation["profile_hash"] == run["profile_hash"]:
        if json.loads(relation["profile"]) is not None:  # a relation rebuilt by replay has none
            return load_profile(relation)
    if DEFAULT_PROFILE.profile_hash() == run["profile_hash"]:
        return DEFAULT_PROFILE
    raise Conflict(
        f"the match profile {run['profile_hash']} of match run {run['id']} is not stored here"
    )


def _records_by_ref(uow: UnitOfWork, report_id: str, refs: list[int]) -> list[Any]:
    """The record bodies of a report at these positions (seq), in the order of `refs`."""
    rec = repo.T.record
    if not refs:
        return []
    rows = uow.conn.execute(
        sa.select(rec.c.seq, rec.c.body).where(rec.c.report_id == report_id, rec.c.seq.in_(refs))
    ).all()
    bodies = {seq: body for seq, body in rows}
    missing = [ref for ref in refs if ref not in bodies]
    if missing:
        raise Conflict(f"report {report_id} lacks the records at {missing}")
    return [orjson.loads(bodies[ref]) for ref in refs]


def explain_item(ports: Ports, caller: Caller, run_id: str, item_no: int) -> dict[str, Any]:
    """Why one item is in its class (see `panther.matching.explain`), with the profile the
    run was matched with and the item's records as stored."""
    with ports.uow.read() as uow:
        run = _run_for(uow, caller, run_id)
        row = repo.get_row(uow.conn, repo.T.item, run_id=run_id, item_no=item_no)
        if row is None:
            raise NotFound(f"no item {item_no} in match run {run_id}")
        item = orjson.loads(row["body"])
        profile = _run_profile(uow, run)
        supplier = _records_by_ref(uow, run["supplier_report_id"], item["supplierRefs"])
        customer = _records_by_ref(uow, run["customer_report_id"], item["customerRefs"])
    base = ports.settings.public_base_url
    return {
        "id": str(item_no),
        "href": f"{base}/panther/v1/matchRun/{run_id}/item/{item_no}/explanation",
        "@type": "MatchItemExplanation",
        "runId": run_id,
        "itemNo": item_no,
        "profileHash": run["profile_hash"],
        **explain(profile, supplier, customer, item),
    }
