"""The match profile's classification written in pandas, for peers that only block and compare.

A peer library gives candidate pairs (records sharing a rule's normalised key) and field
agreements; what the profile adds on top is the same here for every peer: rules run in
order on the records still open, one-to-one keys link, keys shared by more records make one
ambiguous item, leftovers sharing their first-rule key are ambiguous, the rest missing; a
swappable pair of fields agrees crossed (reason endsSwapped). Items come out in the engine's
item columns so every implementation is persisted and scored the same way.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from panther.matching.profile import ComparedField, MatchProfile

__all__ = [
    "ITEM_COLUMNS",
    "Agreements",
    "Candidates",
    "classify",
    "crossing",
    "missing_rule",
    "pandas_agreements",
    "persist",
    "read_items",
    "to_frame",
]

ITEM_COLUMNS = (
    "item_no",
    "class",
    "reason",
    "rule",
    "supplier_refs",
    "customer_refs",
    "diff_fields",
)

# (supplier refs, customer refs) of the pairs sharing rule r's key among the open records.
Candidates = Callable[[int, pd.DataFrame, pd.DataFrame], tuple[np.ndarray, np.ndarray]]
# Per linked pair: agreement of each compared field (pairs x fields) and whether crossed.
Agreements = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def to_frame(table: pa.Table, profile: MatchProfile) -> pd.DataFrame:
    """An extracted table (engine.extract's columns) as a pandas frame indexed by ref:
    keys as strings, dates as day numbers, money as currency plus a float amount."""
    columns: dict[str, pa.Array] = {}
    for r in range(len(profile.identifier_rules)):
        columns[f"key{r}"] = table[f"key{r}"]
    for j, _ in enumerate(profile.compared_fields):
        value = table[f"f{j}"]
        kind = value.type
        if pa.types.is_struct(kind):
            columns[f"f{j}_cur"] = pc.struct_field(value, "currency")
            columns[f"f{j}"] = pc.cast(pc.struct_field(value, "value"), pa.float64())
        elif pa.types.is_date(kind):
            columns[f"f{j}"] = pc.cast(pc.cast(value, pa.date32()), pa.int32())
        elif pa.types.is_decimal(kind):
            columns[f"f{j}"] = pc.cast(value, pa.float64())
        else:
            columns[f"f{j}"] = value
        columns[f"f{j}_raw"] = table[f"f{j}_raw"]
    frame = pa.table(columns).to_pandas()
    frame.index = pd.RangeIndex(len(frame), name="ref")
    return frame


def _agree(
    s: pd.DataFrame, c: pd.DataFrame, sref: np.ndarray, cref: np.ndarray, i: int, j: int,
    f: ComparedField,
) -> np.ndarray:  # fmt: skip
    """Supplier field i against customer field j, with the engine's missing-value rule: two
    missing values agree when their raw texts are equal, one missing value disagrees."""
    sv = s[f"f{i}"].to_numpy()[sref]
    cv = c[f"f{j}"].to_numpy()[cref]
    with np.errstate(invalid="ignore"):
        if f.comparator == "date":
            ok = np.abs(sv - cv) <= int(f.params.get("toleranceDays", 0))
        elif f.comparator in ("money", "number"):
            absolute = float(Decimal(f.params.get("absolute", "0")))
            relative = float(Decimal(f.params.get("relative", "0")))
            limit = np.maximum(absolute, relative * np.maximum(np.abs(sv), np.abs(cv)))
            ok = np.abs(sv - cv) <= limit
            if f.comparator == "money":
                ok &= s[f"f{i}_cur"].to_numpy()[sref] == c[f"f{j}_cur"].to_numpy()[cref]
        else:
            ok = sv == cv
    return missing_rule(s, c, sref, cref, i, j, np.asarray(ok, dtype=bool))


def missing_rule(
    s: pd.DataFrame, c: pd.DataFrame, sref: np.ndarray, cref: np.ndarray, i: int, j: int,
    ok: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """`ok` where both values are present; two missing values agree when their raw texts
    are equal (both absent, or the same unparseable text); one missing value disagrees."""
    s_missing = pd.isna(s[f"f{i}"].to_numpy()[sref])
    c_missing = pd.isna(c[f"f{j}"].to_numpy()[cref])
    ok = ok & ~s_missing & ~c_missing
    both = s_missing & c_missing
    if both.any():
        raw = s[f"f{i}_raw"].to_numpy()[sref][both] == c[f"f{j}_raw"].to_numpy()[cref][both]
        ok[both] = raw
    return ok


def pandas_agreements(s: pd.DataFrame, c: pd.DataFrame, profile: MatchProfile) -> Agreements:
    """Field agreements computed with numpy over the aligned pair columns."""
    fields = profile.compared_fields

    def compute(sref: np.ndarray, cref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tests = np.empty((len(sref), len(fields)), dtype=bool)
        for j, f in enumerate(fields):
            tests[:, j] = _agree(s, c, sref, cref, j, j, f)
        crossed = [
            _agree(s, c, sref, cref, i, j, fields[i]) & _agree(s, c, sref, cref, j, i, fields[i])
            for i, j in profile.swap_index()
        ]
        return crossing(tests, crossed, profile)

    return compute


def crossing(
    tests: np.ndarray, crossed: list[np.ndarray], profile: MatchProfile
) -> tuple[np.ndarray, np.ndarray]:
    """Crossing counts only where the direct comparison of the pair fails."""
    swapped = np.zeros(len(tests), dtype=bool)
    for (i, j), x in zip(profile.swap_index(), crossed, strict=True):
        w = ~(tests[:, i] & tests[:, j]) & x
        tests[:, i] |= w
        tests[:, j] |= w
        swapped |= w
    return tests, swapped


def _lists(groups: list[list[int]]) -> pa.Array:
    offsets = np.zeros(len(groups) + 1, dtype=np.int32)
    np.cumsum([len(g) for g in groups], out=offsets[1:])
    values = np.fromiter((v for g in groups for v in g), dtype=np.int64, count=int(offsets[-1]))
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))


def _singletons(refs: np.ndarray) -> pa.Array:
    offsets = np.arange(len(refs) + 1, dtype=np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(refs.astype(np.int64)))


def _empty_lists(count: int, kind: pa.DataType) -> pa.Array:
    offsets = pa.array(np.zeros(count + 1, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array([], type=kind))


def _groups(frame: pd.DataFrame, column: str) -> dict[Any, list[int]]:
    """Refs (ascending) per value of `column`: one sort and a split, not a Python call per
    group as `groupby(...).agg(list)` makes."""
    keys = frame[column].to_numpy()
    if not len(keys):
        return {}
    refs = frame.index.to_numpy()
    order = np.argsort(keys, kind="stable")  # stable: refs stay ascending within a key
    keys, refs = keys[order], refs[order]
    cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], cuts))
    return {
        key: part.tolist() for key, part in zip(keys[starts], np.split(refs, cuts), strict=True)
    }


def classify(
    s: pd.DataFrame,
    c: pd.DataFrame,
    profile: MatchProfile,
    candidates: Candidates,
    agreements: Agreements,
) -> pa.Table:
    """The items (ITEM_COLUMNS) of two frames made by `to_frame`."""
    rules = profile.identifier_rules
    s_open = np.ones(len(s), dtype=bool)
    c_open = np.ones(len(c), dtype=bool)
    linked_s: list[np.ndarray] = []
    linked_c: list[np.ndarray] = []
    linked_rule: list[np.ndarray] = []
    group_rule: list[str] = []
    group_s: list[list[int]] = []
    group_c: list[list[int]] = []
    for r, rule in enumerate(rules):
        k = f"key{r}"
        s_keys, c_keys = s[k], c[k]
        open_s = s[s_open & s_keys.notna().to_numpy()]
        open_c = c[c_open & c_keys.notna().to_numpy()]
        s_count, c_count = open_s[k].value_counts(), open_c[k].value_counts()
        both = s_count.index.intersection(c_count.index)
        if len(both) == 0:
            continue
        single = (s_count.loc[both].to_numpy() == 1) & (c_count.loc[both].to_numpy() == 1)
        one_to_one = both[single]
        sref, cref = candidates(r, open_s, open_c)
        keep = pd.Index(one_to_one).get_indexer(s_keys.to_numpy()[sref]) >= 0
        linked_s.append(sref[keep])
        linked_c.append(cref[keep])
        linked_rule.append(np.full(int(keep.sum()), r, dtype=np.int64))
        shared = both[~single]
        if len(shared):
            in_s = open_s[open_s[k].isin(shared).to_numpy()]
            in_c = open_c[open_c[k].isin(shared).to_numpy()]
            sg, cg = _groups(in_s, k), _groups(in_c, k)
            for key in shared:
                group_rule.append(rule.name)
                group_s.append(sg[key])
                group_c.append(cg[key])
        s_open[open_s.index[open_s[k].isin(both).to_numpy()]] = False
        c_open[open_c.index[open_c[k].isin(both).to_numpy()]] = False

    missing_s, missing_c = [], []
    for frame, is_open, side in ((s, s_open, "s"), (c, c_open, "c")):
        left = frame[is_open]
        keyed = left[left["key0"].notna().to_numpy()]
        counts = keyed["key0"].value_counts()
        dup_keys = counts.index[counts.to_numpy() > 1]
        dups = keyed[keyed["key0"].isin(dup_keys).to_numpy()]
        for refs in _groups(dups, "key0").values():
            group_rule.append(rules[0].name)
            group_s.append(refs if side == "s" else [])
            group_c.append([] if side == "s" else refs)
        alone = left.index[~left.index.isin(dups.index)].to_numpy()
        (missing_s if side == "s" else missing_c).append(alone)

    sref = np.concatenate(linked_s) if linked_s else np.zeros(0, dtype=np.int64)
    cref = np.concatenate(linked_c) if linked_c else np.zeros(0, dtype=np.int64)
    rule_no = np.concatenate(linked_rule) if linked_rule else np.zeros(0, dtype=np.int64)
    tests, swapped = agreements(sref, cref)
    names = np.array([f.name for f in profile.compared_fields], dtype=object)
    differ = ~tests
    counts = differ.sum(axis=1)
    offsets = np.zeros(len(sref) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    diff_values = names[np.nonzero(differ)[1]] if len(names) else np.zeros(0, dtype=object)
    rule_names = np.array([r.name for r in rules], dtype=object)
    linked = pa.table(
        {
            "class": pa.array(np.where(counts == 0, "matched", "partial"), pa.string()),
            "reason": pa.array(np.where(swapped, "endsSwapped", None), pa.string()),
            "rule": pa.array(rule_names[rule_no], pa.string()),
            "supplier_refs": _singletons(sref),
            "customer_refs": _singletons(cref),
            "diff_fields": pa.ListArray.from_arrays(
                pa.array(offsets), pa.array(diff_values, pa.string())
            ),
        }
    )
    n_groups = len(group_rule)
    grouped = pa.table(
        {
            "class": pa.array(["mismatch"] * n_groups, pa.string()),
            "reason": pa.array(["ambiguous"] * n_groups, pa.string()),
            "rule": pa.array(group_rule, pa.string()),
            "supplier_refs": _lists(group_s),
            "customer_refs": _lists(group_c),
            "diff_fields": _empty_lists(n_groups, pa.string()),
        }
    )
    parts = [linked, grouped]
    for refs, reason, side in (
        (np.concatenate(missing_s), "missingAtCustomer", "s"),
        (np.concatenate(missing_c), "missingAtSupplier", "c"),
    ):
        lists, empty = _singletons(refs), _empty_lists(len(refs), pa.int64())
        parts.append(
            pa.table(
                {
                    "class": pa.array(["mismatch"] * len(refs), pa.string()),
                    "reason": pa.array([reason] * len(refs), pa.string()),
                    "rule": pa.nulls(len(refs), pa.string()),
                    "supplier_refs": lists if side == "s" else empty,
                    "customer_refs": empty if side == "s" else lists,
                    "diff_fields": _empty_lists(len(refs), pa.string()),
                }
            )
        )
    items = pa.concat_tables(parts)
    return items.add_column(0, "item_no", pa.array(np.arange(items.num_rows, dtype=np.int64)))


def persist(items: pa.Table, path: Path, how: str) -> Path:
    """Write the items (ITEM_COLUMNS) as Parquet, or as rows of a SQLite table (one
    executemany in one transaction, lists as JSON text)."""
    items = items.select(list(ITEM_COLUMNS))
    if how == "parquet":
        target = path.with_suffix(".parquet")
        pq.write_table(items, target)
        return target
    target = path.with_suffix(".sqlite")
    target.unlink(missing_ok=True)
    con = sqlite3.connect(target)
    try:
        con.execute(
            "CREATE TABLE item (item_no INTEGER PRIMARY KEY, class TEXT, reason TEXT, rule TEXT,"
            " supplier_refs TEXT, customer_refs TEXT, diff_fields TEXT)"
        )
        columns = [items[name].to_pylist() for name in ITEM_COLUMNS]
        dumps = json.dumps
        rows = (
            (n, k, why, rule, dumps(s), dumps(c), dumps(d))
            for n, k, why, rule, s, c, d in zip(*columns, strict=True)
        )
        with con:
            con.executemany("INSERT INTO item VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    finally:
        con.close()
    return target


def read_items(path: Path) -> list[dict[str, Any]]:
    """Items persisted by `persist`, in the scorer's item form."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        rows = zip(*(table[name].to_pylist() for name in ITEM_COLUMNS), strict=True)
    else:
        con = sqlite3.connect(path)
        try:
            raw = con.execute(f"SELECT {', '.join(ITEM_COLUMNS)} FROM item").fetchall()
        finally:
            con.close()
        rows = (
            (n, k, why, rule, json.loads(s), json.loads(c), json.loads(d))
            for n, k, why, rule, s, c, d in raw
        )
    return [
        {
            "itemNo": n,
            "class": klass,
            "reason": reason,
            "rule": rule,
            "supplierRefs": srefs,
            "customerRefs": crefs,
            "differences": [{"field": name} for name in diff] or None,
        }
        for n, klass, reason, rule, srefs, crefs, diff in rows
    ]
