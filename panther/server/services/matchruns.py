"""Match runs: match the newest reports of both sides for a date (in full, or only what changed
since the previous run), store the items with the run's MatchRecorded entry."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from panther.ledger.merkle import merkle_root
from panther.matching.coverage import coverage
from panther.matching.engine import MatchResult, Side, match
from panther.matching.fastpath import extract_json, item_columns
from panther.matching.fuzzy import suggest
from panther.matching.incremental import Correction, correspondence, rematch
from panther.matching.profile import MatchProfile

from . import review_state
from .context import Caller, gc_paused
from .errors import Conflict
from .ports import Ports, Row, UnitOfWork
from .relations import load_profile, relation_for
from .run_transactions import recorded_tx
from .runs_read import present_run
from .signing import endorse

__all__ = [
    "cache_extract",
    "extract_report",
    "maybe_auto_match",
    "run_match",
]

_CHUNK = 200_000
log = logging.getLogger("panther.match")


def extract_report(uow: UnitOfWork, report_id: str, profile: MatchProfile, side: Side) -> pa.Table:
    """Narrow columns of a stored report, straight from the canonical JSON text (vectorised
    in DuckDB), in chunks so only one chunk of record text is held at a time."""
    parts: list[pa.Table] = []
    offset = 0
    for chunk in uow.reports.record_body_chunks(report_id, _CHUNK):
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
    ports: Ports, profile: MatchProfile, profile_hash: str, sup: Row, cus: Row
) -> tuple[pa.Table, pa.Table]:
    """Both sides at once, each on its own connection: reading one side's text from the
    database overlaps with DuckDB extracting the other's (both release the GIL)."""

    def side(report: Row, name: Side) -> pa.Table:
        if ports.extract_cache is not None:
            cached = ports.extract_cache.get(report["content_hash"], name, profile_hash)
            if cached is not None and cached.num_rows == report["record_count"]:
                return cached
        with ports.uow.read() as uow:
            return extract_report(uow, report["id"], profile, name)

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


def _item_of_ref(result: MatchResult, side: str, records: int) -> npt.NDArray[np.int32]:
    """For each record position of one side's report, the number of the item holding it
    (-1 where none does)."""
    lists = result.items.column(f"{side}_refs").combine_chunks()
    refs = lists.flatten().to_numpy(zero_copy_only=False)
    owners = np.full(max(records, int(refs.max()) + 1 if len(refs) else 0), -1, dtype=np.int32)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    item_nos = result.items.column("item_no").combine_chunks().to_numpy(zero_copy_only=False)
    owners[refs] = item_nos[parents]
    return owners


def _suggestion_rows(run_id: str, suggestions: pa.Table) -> list[Row]:
    return [
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
            found = uow.relations.get(relation_id)
            assert found is not None
            relation = found
        else:
            relation = relation_for(uow, caller, relation_id)
        sup = uow.reports.latest(relation_id, as_of, "supplier")
        cus = uow.reports.latest(relation_id, as_of, "customer")
        if sup is None or cus is None:
            missing = "supplier" if sup is None else "customer"
            raise Conflict(f"no {missing} report for relation {relation_id} as of {as_of}")
        previous = uow.runs.newest(relation_id, as_of, relation["profile_hash"])
        same_reports = previous is not None and (
            previous["supplier_report_id"],
            previous["customer_report_id"],
        ) == (sup["id"], cus["id"])
        if previous is not None and same_reports and not extra_links:
            endorsements = uow.runs.endorsements(previous["id"]).rows()
            return present_run(ports, uow, previous, endorsements), False
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
    # The coverage figures are Arrow kernels that release the GIL: they are computed beside
    # the fuzzy candidates and the item columns, so the run takes no longer for them.
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="panther-coverage")
    try:
        figures_job = background.submit(coverage, sup_table, cus_table, profile, result)
        suggestions = suggest(sup_table, cus_table, result, profile)
        # the figures before the item rows: the job holds the extracted columns, which must
        # be freed before the rows are built (at 1M x 1M, 476 MB more at the peak otherwise)
        figures = figures_job.result()
        del sup_table, cus_table
        run_id = f"run-{secrets.token_hex(10)}"
        if ports.extract_cache is not None:
            try:
                ports.extract_cache.put_items(run_id, result.items)
            except Exception:  # noqa: BLE001  (an optimisation must never fail the run)
                log.exception("could not cache the items of run %s", run_id)
        item_rows, leaves = _item_rows(run_id, result)
    finally:
        background.shutdown(wait=True)
    previous_run_id = previous["id"] if rematched is not None and previous is not None else None
    with ports.uow.write() as uow:
        operator = uow.parties.get("operator")
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
            "created_at": ports.clock.now_iso(),
            "previous_run_id": previous_run_id,
            "rematched": json.dumps(rematched, sort_keys=True) if rematched else None,
            "links": json.dumps([list(pair) for pair in links]),
            "coverage": json.dumps(figures, sort_keys=True),
        }
        uow.runs.add(row)
        count = uow.runs.add_items(item_rows)
        for side, report in (("supplier", sup), ("customer", cus)):
            owners = _item_of_ref(result, side, report["record_count"])
            uow.runs.add_item_refs(run_id, side, owners)
        uow.runs.add_suggestions(_suggestion_rows(run_id, suggestions))
        row["items_root"], row["item_count"] = merkle_root(leaves).hex(), count
        tx = recorded_tx(row)
        sig = endorse(ports, uow, operator, tx, None)
        entry = uow.append(replace(tx, signers=(operator["address"],), signatures=(sig,)))
        uow.runs.set_recorded(
            run_id, ledger_seq=entry.seq, items_root=row["items_root"], item_count=count
        )
        row["ledger_seq"] = entry.seq
        # What both carriers agreed on items that this run left unchanged still stands.
        review_state.carry_over(uow, row, at=ports.clock.now_iso())
        view = present_run(ports, uow, row, [])
    return view, True


def _unique_links(links: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    seen: dict[tuple[int, int], None] = {}
    for s_ref, c_ref in links:
        seen[(int(s_ref), int(c_ref))] = None
    return list(seen)


def _incremental(
    ports: Ports,
    profile: MatchProfile,
    previous: Row | None,
    reports: tuple[Row, Row],
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
        old = [uow.reports.get(previous[f"{side}_report_id"]) for side in ("supplier", "customer")]
    tables = []
    for report, side in zip(old, ("supplier", "customer"), strict=True):
        if report is None:
            return None
        table = cache.get(report["content_hash"], side, previous["profile_hash"])
        if table is None or table.num_rows != report["record_count"]:
            return None
        tables.append(table)
    try:
        # A side whose report did not change keeps every ref (a confirmed link on the same
        # reports): no need to pair its records again.
        s_fix, c_fix = (
            Correction.in_place(new.num_rows, [])
            if report is not None and report["id"] == current["id"]
            else correspondence(old_table, new)
            for report, current, old_table, new in zip(
                old, reports, tables, new_tables, strict=True
            )
        )
        fixes = (s_fix, c_fix)
        s_changed, c_changed = set(s_fix.changed.tolist()), set(c_fix.changed.tolist())
        carried = []
        for s_old, c_old in json.loads(previous["links"]):
            s_new, c_new = int(s_fix.old_to_new[s_old]), int(c_fix.old_to_new[c_old])
            if s_new >= 0 and c_new >= 0 and s_new not in s_changed and c_new not in c_changed:
                carried.append((s_new, c_new))
        links = _unique_links([*carried, *extra_links])
        result, stats = rematch(
            MatchResult.of(items),
            (tables[0], tables[1]),
            new_tables,
            fixes,
            profile,
            links,
        )
    except Exception:  # noqa: BLE001  (fall back to the full match, which is the truth)
        log.exception("incremental re-match after run %s failed; matching in full", previous["id"])
        return None
    stats["previousRun"] = previous["id"]
    return result, stats, links


def maybe_auto_match(ports: Ports, relation_id: str, as_of: str) -> dict[str, Any] | None:
    """Start the run by itself once both sides have reported for the date."""
    with ports.uow.read() as uow:
        if (
            uow.reports.latest(relation_id, as_of, "supplier") is None
            or uow.reports.latest(relation_id, as_of, "customer") is None
        ):
            return None
    view, _ = run_match(ports, None, relation_id, as_of)
    return view
