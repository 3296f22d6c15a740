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
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .engine import ITEMS_SCHEMA, MatchResult, match
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


def _flat(lists: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A list column's values and each value's row (numpy)."""
    array = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    values = array.flatten().to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False).astype(np.int64)
    return values, parents


def _depths(
    items: pa.Table, side: str, size: int, rules: list[str], old_to_new: np.ndarray
) -> np.ndarray:
    """For each record of the new report: the position of the rule that linked it (or found
    it ambiguous) last time, or the number of rules for a leftover or a new record."""
    deep = len(rules)
    other = "customer_refs" if side == "supplier_refs" else "supplier_refs"
    position = {name: r for r, name in enumerate(rules)}
    encoded = items.column("rule").combine_chunks().dictionary_encode()
    by_code = np.array(
        [position.get(name, deep) for name in encoded.dictionary.to_pylist()] + [deep],
        dtype=np.int64,
    )
    codes = pc.fill_null(encoded.indices, len(by_code) - 1).to_numpy(zero_copy_only=False)
    rule_of_item = by_code[codes]
    others = items.column(other).combine_chunks()
    one_sided = pc.list_value_length(others).to_numpy(zero_copy_only=False) == 0
    item_depth = np.where(one_sided, deep, rule_of_item)
    values, parents = _flat(items.column(side))
    depth_old = np.full(len(old_to_new), deep, dtype=np.int64)
    depth_old[values] = item_depth[parents]
    depth = np.full(size, deep, dtype=np.int64)
    alive = old_to_new >= 0
    depth[old_to_new[alive]] = depth_old[alive]
    return depth


def _keys(table: pa.Table, rules: int) -> list[pa.Array]:
    return [table.column(f"key{r}").combine_chunks().cast(pa.large_string()) for r in range(rules)]


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
    reports under `profile` (rows in ref order); `previous` is the result of matching the
    old ones. `links` are the confirmed links of the new result (new refs); their records are
    always re-matched (they are few: each is a pair two carriers confirmed by hand).
    """
    names = [r.name for r in profile.identifier_rules]
    rules = len(names)
    s_fix, c_fix = corrections
    if links:
        s_fix = Correction(
            s_fix.old_to_new, np.union1d(s_fix.changed, [s for s, _ in links]).astype(np.int64)
        )
        c_fix = Correction(
            c_fix.old_to_new, np.union1d(c_fix.changed, [c for _, c in links]).astype(np.int64)
        )
    sides: list[dict[str, Any]] = []
    for refs, old_table, new_table, fix in (
        ("supplier_refs", old[0], new[0], s_fix),
        ("customer_refs", old[1], new[1], c_fix),
    ):
        changed = np.zeros(new_table.num_rows, dtype=bool)
        # (A link may name a record that does not exist: the match ignores it.)
        changed[fix.changed[(fix.changed >= 0) & (fix.changed < len(changed))]] = True
        alive = fix.old_to_new >= 0
        # Old records that are gone or changed: their old keys may free or split groups.
        gone = ~alive
        gone[alive] = changed[fix.old_to_new[alive]]
        sides.append(
            {
                "refs": refs,
                "fix": fix,
                "new_keys": _keys(new_table, rules),
                "old_keys": _keys(old_table, rules),
                "gone": gone,
                "aff": changed,
                "depth": _depths(previous.items, refs, new_table.num_rows, names, fix.old_to_new),
            }
        )
    # The keys the corrections touch, rule by rule: old keys of gone or changed records and
    # new keys of changed ones; then every record still open at that rule that holds one of
    # them, and their keys, until nothing more is reached.
    keys: list[pa.Array] = []
    for r in range(rules):
        parts = []
        for sd in sides:
            parts.append(sd["old_keys"][r].filter(pa.array(sd["gone"])))
            parts.append(sd["new_keys"][r].filter(pa.array(sd["aff"])))
        keys.append(pc.drop_null(pc.unique(pa.concat_arrays(parts))))
    rounds = 0
    while True:
        rounds += 1
        grown = []
        for sd in sides:
            hit = np.zeros(len(sd["aff"]), dtype=bool)
            for r in range(rules):
                if len(keys[r]) == 0:
                    continue
                member = pc.fill_null(pc.is_in(sd["new_keys"][r], value_set=keys[r]), False)
                hit |= member.to_numpy(zero_copy_only=False) & (sd["depth"] >= r)
            fresh = hit & ~sd["aff"]
            sd["aff"] |= fresh
            grown.append(fresh)
        if not any(f.any() for f in grown):
            break
        for r in range(rules):
            parts = [keys[r]] + [
                sd["new_keys"][r].take(pa.array(np.flatnonzero(f)))
                for sd, f in zip(sides, grown, strict=True)
            ]
            keys[r] = pc.drop_null(pc.unique(pa.concat_arrays(parts)))
    # Previous items none of whose records is affected stand, refs renumbered.
    touched = np.zeros(previous.items.num_rows, dtype=bool)
    for sd in sides:
        fix = sd["fix"]
        old_aff = sd["gone"].copy()
        alive = fix.old_to_new >= 0
        old_aff[alive] |= sd["aff"][fix.old_to_new[alive]]
        values, parents = _flat(previous.items.column(sd["refs"]))
        touched[parents[old_aff[values]]] = True
    kept_rows = np.flatnonzero(~touched)
    s_aff = pa.array(np.flatnonzero(sides[0]["aff"]), pa.int64())
    c_aff = pa.array(np.flatnonzero(sides[1]["aff"]), pa.int64())
    s_new, c_new = new
    sub = match(
        s_new.filter(pc.is_in(s_new.column("ref"), value_set=s_aff)),
        c_new.filter(pc.is_in(c_new.column("ref"), value_set=c_aff)),
        profile,
        links,
    )
    # One table of every previous item (refs renumbered where records moved) and the fresh
    # ones; the result takes the kept and the fresh rows from it in the engine's order.
    fresh_items = sub.items.drop_columns(["item_no"])
    base = previous.items.drop_columns(["item_no"])
    for column, fix in (("supplier_refs", s_fix), ("customer_refs", c_fix)):
        if not _identity(fix.old_to_new):
            safe = np.where(fix.old_to_new >= 0, fix.old_to_new, 0)  # gone refs: items dropped
            base = base.set_column(
                base.schema.get_field_index(column), column, _remap(base.column(column), safe)
            )
    both = pa.concat_tables([base.cast(fresh_items.schema), fresh_items])
    rows = np.concatenate([kept_rows, base.num_rows + np.arange(fresh_items.num_rows)])
    result = _ordered(both, rows)
    stats = {
        "supplierRematched": len(s_aff),
        "customerRematched": len(c_aff),
        "itemsKept": len(kept_rows),
        "closureRounds": rounds,
    }
    return result, stats


def _remap(refs: pa.ChunkedArray, old_to_new: np.ndarray) -> pa.Array:
    """Each list of old refs as the sorted list of their new refs (kept items have no gone
    ref)."""
    lists = refs.combine_chunks()
    values, parents = _flat(lists)
    mapped = old_to_new[values]
    if len(mapped) > 1:
        # Sorted within each list (a new version may reorder records); lists stay in place.
        mapped = mapped[np.lexsort((mapped, parents))]
    offsets = lists.offsets.to_numpy(zero_copy_only=False)
    return pa.ListArray.from_arrays(
        pa.array(offsets - offsets[0], pa.int32()), pa.array(mapped, pa.int64())
    )


def _first(lists: pa.ChunkedArray) -> np.ndarray:
    """Each (sorted) list's first value; empty lists sort last."""
    array = lists.combine_chunks()
    offsets = array.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    values = array.flatten().to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    out = np.full(len(array), np.iinfo(np.int64).max, dtype=np.int64)
    nonempty = np.diff(offsets) > 0
    out[nonempty] = values[(offsets[:-1] - offsets[0])[nonempty]]
    return out


_CLASS_ORDER = {"matched": 0, "partial": 1}


def _identity(old_to_new: np.ndarray) -> bool:
    return bool(np.array_equal(old_to_new, np.arange(len(old_to_new))))


def _ordered(items: pa.Table, rows: np.ndarray) -> MatchResult:
    """`items[rows]` in the engine's order (class, then smallest supplier ref, then smallest
    customer ref), numbered from 0."""
    classes = items.column("class").combine_chunks().dictionary_encode()
    rank = np.array([_CLASS_ORDER.get(c, 2) for c in classes.dictionary.to_pylist()] + [2])
    order = rank[pc.fill_null(classes.indices, len(rank) - 1).to_numpy(zero_copy_only=False)]
    first_s = _first(items.column("supplier_refs"))
    first_c = _first(items.column("customer_refs"))
    permutation = rows[np.lexsort((first_c[rows], first_s[rows], order[rows]))]
    table = items.take(pa.array(permutation, pa.int64()))
    table = table.add_column(0, "item_no", pa.array(range(table.num_rows), type=pa.int64()))
    out = table.cast(ITEMS_SCHEMA)
    return MatchResult.of(out)
