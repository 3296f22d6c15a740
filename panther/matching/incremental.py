"""Incremental re-match: after corrections, re-match only the records they can affect.

A record's class depends only on the records that share one of its rule keys (directly or
through a chain of shared keys): those are the records the rule-by-rule linking, the
ambiguity test and the leftover-duplicate test ever look at together. So after some records
change, the records to re-match are the closure, over shared keys of every rule, of the
changed records' old and new keys. Every other item of the previous result stands as it was
(its refs renumbered into the new reports). The result equals a full `match` of the new
reports, item for item (a property test checks it); only its cost differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .engine import ITEMS_SCHEMA, MatchResult, _counts, match
from .profile import MatchProfile

__all__ = ["Correction", "correspondence", "rematch"]


@dataclass(frozen=True)
class Correction:
    """How one side's new report relates to its previous one.

    `old_to_new[i]` is the new ref of the previous report's record i, or -1 when it is gone;
    `changed` lists the new refs whose record is new or different. For corrections made in
    place (a TMF637 change of some products), `old_to_new` is the identity.
    """

    old_to_new: np.ndarray
    changed: np.ndarray

    @classmethod
    def in_place(cls, size: int, changed: list[int] | np.ndarray) -> Correction:
        return cls(np.arange(size, dtype=np.int64), np.asarray(changed, dtype=np.int64))


def correspondence(old: pa.Table, new: pa.Table) -> Correction:
    """How a new version of a report relates to the old one, from their extracts: a record
    whose extracted columns are identical in both (the only thing a match looks at) keeps
    its items; the others are new or changed. Identical rows pair up in ref order."""
    columns = [c for c in old.column_names if c != "ref"]
    if columns != [c for c in new.column_names if c != "ref"]:
        raise ValueError("the two extracts were made with different profiles")
    con = duckdb.connect(config={"threads": 2})
    try:
        con.register("o_in", old)
        con.register("n_in", new)
        row_hash = f"hash({', '.join(columns)})" if columns else "0"
        same = " AND ".join(f"o.{c} IS NOT DISTINCT FROM n.{c}" for c in columns) or "true"
        pairs = con.sql(
            f"""WITH o AS (SELECT *, {row_hash} AS h,
                             row_number() OVER (PARTITION BY {row_hash} ORDER BY ref) AS occ
                           FROM o_in),
                     n AS (SELECT *, {row_hash} AS h,
                             row_number() OVER (PARTITION BY {row_hash} ORDER BY ref) AS occ
                           FROM n_in)
            SELECT o.ref AS old, n.ref AS new FROM o JOIN n ON o.h = n.h AND o.occ = n.occ
            WHERE {same}"""
        ).to_arrow_table()
    finally:
        con.close()
    old_to_new = np.full(old.num_rows, -1, dtype=np.int64)
    old_refs = pairs.column("old").to_numpy()
    new_refs = pairs.column("new").to_numpy()
    old_to_new[old_refs] = new_refs
    kept = np.zeros(new.num_rows, dtype=bool)
    kept[new_refs] = True
    return Correction(old_to_new, np.flatnonzero(~kept).astype(np.int64))


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ref_table(refs: np.ndarray) -> pa.Table:
    return pa.table({"ref": pa.array(np.asarray(refs, dtype=np.int64))})


def rematch(
    previous: MatchResult,
    old: tuple[pa.Table, pa.Table],
    new: tuple[pa.Table, pa.Table],
    corrections: tuple[Correction, Correction],
    profile: MatchProfile,
    links: Sequence[tuple[int, int]] = (),
) -> tuple[MatchResult, dict[str, int]]:
    """The new result, and what was re-matched (records per side, closure rounds).

    `old` and `new` are the (supplier, customer) extracts of the previous and the corrected
    reports under `profile`; `previous` is the result of matching the old ones. `links` are
    the confirmed links of the new result (new refs); their records are always re-matched
    (they are few: each is a pair two carriers confirmed by hand).
    """
    rules = len(profile.identifier_rules)
    s_old, c_old = old
    s_new, c_new = new
    s_fix, c_fix = corrections
    if links:
        s_fix = Correction(
            s_fix.old_to_new, np.union1d(s_fix.changed, [s for s, _ in links]).astype(np.int64)
        )
        c_fix = Correction(
            c_fix.old_to_new, np.union1d(c_fix.changed, [c for _, c in links]).astype(np.int64)
        )
    con = duckdb.connect(config={"threads": 2})
    try:
        for name, table in (("s0", s_old), ("c0", c_old), ("s1", s_new), ("c1", c_new)):
            con.register(f"{name}_in", table.select(["ref", *[f"key{r}" for r in range(rules)]]))
        for side, fix in (("s", s_fix), ("c", c_fix)):
            mapping = pa.table(
                {
                    "old": pa.array(np.arange(len(fix.old_to_new), dtype=np.int64)),
                    "new": pa.array(fix.old_to_new.astype(np.int64, copy=False)),
                }
            )
            con.register(f"{side}_map", mapping)
            con.register(f"{side}_changed", _ref_table(fix.changed))
        run = con.execute
        # Old records that are gone or changed: their old keys may free or split groups.
        for side in ("s", "c"):
            run(
                f"""CREATE TEMP TABLE {side}_gone AS SELECT old AS ref FROM {side}_map
                WHERE new < 0 OR new IN (SELECT ref FROM {side}_changed)"""
            )
            run(f"CREATE TEMP TABLE {side}_aff AS SELECT ref FROM {side}_changed")
        for r in range(rules):
            run(
                f"""CREATE TEMP TABLE k{r} AS
                SELECT key{r} AS k FROM s0_in WHERE ref IN (SELECT ref FROM s_gone)
                  AND key{r} IS NOT NULL
                UNION SELECT key{r} FROM c0_in WHERE ref IN (SELECT ref FROM c_gone)
                  AND key{r} IS NOT NULL
                UNION SELECT key{r} FROM s1_in WHERE ref IN (SELECT ref FROM s_aff)
                  AND key{r} IS NOT NULL
                UNION SELECT key{r} FROM c1_in WHERE ref IN (SELECT ref FROM c_aff)
                  AND key{r} IS NOT NULL"""
            )
        # How deep into the rules each unchanged record went last time: a record linked (or
        # found ambiguous) by rule q was never looked at by later rules, so only its keys of
        # rules up to q can connect it to a correction. Leftovers went through every rule.
        con.register("prev", previous.items)
        rule_index = " ".join(
            f"WHEN {_sql_text(rule.name)} THEN {r}"
            for r, rule in enumerate(profile.identifier_rules)
        )
        for side, refs, other in (
            ("s", "supplier_refs", "customer_refs"),
            ("c", "customer_refs", "supplier_refs"),
        ):
            run(
                f"""CREATE TEMP TABLE {side}_depth AS
                SELECT m.new AS ref,
                       CASE WHEN len(p.{other}) = 0 THEN {rules}
                            ELSE CASE p.rule {rule_index} ELSE {rules} END END AS depth
                FROM (SELECT unnest({refs}) AS old, {other}, rule FROM prev) p
                JOIN {side}_map m ON m.old = p.old WHERE m.new >= 0"""
            )
        rounds = 0
        size = -1
        while True:
            rounds += 1
            for side in ("s", "c"):
                hits = " OR ".join(
                    f"(key{r} IN (SELECT k FROM k{r}) AND d.depth >= {r})" for r in range(rules)
                )
                run(
                    f"""INSERT INTO {side}_aff SELECT i.ref FROM {side}1_in i
                    JOIN {side}_depth d ON d.ref = i.ref
                    WHERE ({hits}) AND i.ref NOT IN (SELECT ref FROM {side}_aff)"""
                )
            now = run("SELECT (SELECT count(*) FROM s_aff) + (SELECT count(*) FROM c_aff)")
            total = now.fetchall()[0][0]
            if total == size:
                break
            size = total
            for r in range(rules):
                run(
                    f"""INSERT INTO k{r}
                    SELECT key{r} FROM s1_in WHERE ref IN (SELECT ref FROM s_aff)
                      AND key{r} IS NOT NULL AND key{r} NOT IN (SELECT k FROM k{r})
                    UNION SELECT key{r} FROM c1_in WHERE ref IN (SELECT ref FROM c_aff)
                      AND key{r} IS NOT NULL AND key{r} NOT IN (SELECT k FROM k{r})"""
                )
        s_aff = con.sql("SELECT ref FROM s_aff ORDER BY ref").to_arrow_table().column("ref")
        c_aff = con.sql("SELECT ref FROM c_aff ORDER BY ref").to_arrow_table().column("ref")
        # Previous items none of whose records is affected stand, refs renumbered.
        kept = con.sql(
            """WITH s_old_aff AS (
                  SELECT ref FROM s_gone UNION
                  SELECT old FROM s_map WHERE new IN (SELECT ref FROM s_aff)),
                c_old_aff AS (
                  SELECT ref FROM c_gone UNION
                  SELECT old FROM c_map WHERE new IN (SELECT ref FROM c_aff)),
                touched AS (
                  SELECT item_no FROM (SELECT item_no, unnest(supplier_refs) AS ref FROM prev)
                  WHERE ref IN (SELECT ref FROM s_old_aff)
                  UNION
                  SELECT item_no FROM (SELECT item_no, unnest(customer_refs) AS ref FROM prev)
                  WHERE ref IN (SELECT ref FROM c_old_aff))
            SELECT p.class, p.reason, p.rule, p.supplier_refs, p.customer_refs,
                   p.diff_fields, p.differences
            FROM prev p WHERE p.item_no NOT IN (SELECT item_no FROM touched)"""
        ).to_arrow_table()
    finally:
        con.close()
    sub = match(
        s_new.filter(pc.is_in(s_new.column("ref"), value_set=s_aff)),
        c_new.filter(pc.is_in(c_new.column("ref"), value_set=c_aff)),
        profile,
        links,
    )
    fresh = sub.items.drop_columns(["item_no"])
    kept = kept.set_column(
        kept.schema.get_field_index("supplier_refs"),
        "supplier_refs",
        _remap(kept.column("supplier_refs"), s_fix.old_to_new),
    ).set_column(
        kept.schema.get_field_index("customer_refs"),
        "customer_refs",
        _remap(kept.column("customer_refs"), c_fix.old_to_new),
    )
    merged = pa.concat_tables([kept.cast(fresh.schema), fresh])
    result = _ordered(merged)
    stats = {
        "supplierRematched": len(s_aff),
        "customerRematched": len(c_aff),
        "itemsKept": kept.num_rows,
        "closureRounds": rounds,
    }
    return result, stats


def _remap(refs: pa.ChunkedArray, old_to_new: np.ndarray) -> pa.Array:
    """Each list of old refs as the same list of new refs (kept items have no gone ref)."""
    lists = refs.combine_chunks()
    values = lists.flatten().to_numpy(zero_copy_only=False)
    mapped = pa.array(old_to_new[values].astype(np.int64, copy=False))
    return pa.ListArray.from_arrays(lists.offsets, mapped)


def _ordered(items: pa.Table) -> MatchResult:
    """Items in the engine's order (class, then smallest supplier ref, then smallest
    customer ref), numbered from 0."""
    con = duckdb.connect(config={"threads": 2})
    try:
        con.register("items", items)
        table = con.sql(
            """SELECT class, reason, rule, list_sort(supplier_refs) AS supplier_refs,
                   list_sort(customer_refs) AS customer_refs, diff_fields, differences
            FROM items
            ORDER BY CASE class WHEN 'matched' THEN 0 WHEN 'partial' THEN 1 ELSE 2 END,
                     list_min(supplier_refs) NULLS LAST, list_min(customer_refs) NULLS LAST"""
        ).to_arrow_table()
    finally:
        con.close()
    table = table.add_column(0, "item_no", pa.array(range(table.num_rows), type=pa.int64()))
    out = table.cast(ITEMS_SCHEMA)
    return MatchResult(_counts(out), out)
