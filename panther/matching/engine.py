"""The set-based matching engine: links a supplier and a customer report and classifies them.

`extract` normalises each side once into narrow Arrow columns; `match` runs the identifier
rules in DuckDB over those columns (hash join on the normalised key, duplicate keys taken out
as ambiguous, per-field comparison in the same projection, next rule on the leftovers only).
There is no per-record Python in the match step. `reference.py` holds the same semantics as
plain Python, the oracle for tests.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from panther.inventory.paths import compile_path

from . import comparators, normalisers
from .profile import MatchProfile

__all__ = [
    "CONFIRMED_RULE",
    "ITEMS_SCHEMA",
    "ExtractMismatch",
    "MatchResult",
    "Side",
    "extract",
    "match",
    "match_records",
]

Side = Literal["supplier", "customer"]

ITEMS_SCHEMA = pa.schema(
    [
        ("item_no", pa.int64()),
        ("class", pa.string()),
        ("reason", pa.string()),
        ("rule", pa.string()),
        ("supplier_refs", pa.list_(pa.int64())),
        ("customer_refs", pa.list_(pa.int64())),
        ("diff_fields", pa.list_(pa.string())),
        ("differences", pa.string()),
    ]
)

# Composite keys are joined with the ASCII unit separator, which no normalised key contains
# after the identifier normaliser and is vanishingly rare in the others.
_KEY_SEPARATOR = "\x1f"
_META_SIDE = b"panther.side"
_META_PROFILE = b"panther.profile"


@dataclass(frozen=True)
class ExtractMismatch(ValueError):
    """A table given to `match` was not extracted for that side and profile."""

    side: str
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.side} table: expected {self.expected}, found {self.found}"


@dataclass(frozen=True)
class MatchResult:
    """Counts per class and one row per item (see ITEMS_SCHEMA)."""

    counts: Mapping[str, int]
    items: pa.Table

    @classmethod
    def of(cls, items: pa.Table) -> MatchResult:
        """A result from its items (the counts are derived from them)."""
        return cls(_counts(items), items)

    def item_dicts(self) -> Iterator[dict[str, Any]]:
        """Each item in item order as the JSON-ready dict a caller hashes."""
        for batch in self.items.to_batches():
            for row in batch.to_pylist():
                yield {
                    "itemNo": row["item_no"],
                    "class": row["class"],
                    "reason": row["reason"],
                    "rule": row["rule"],
                    "supplierRefs": row["supplier_refs"],
                    "customerRefs": row["customer_refs"],
                    "differences": (
                        None if row["differences"] is None else orjson.loads(row["differences"])
                    ),
                }


# -- extract -----------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z@_][A-Za-z0-9@_\-]*")


def _column_values(records: Sequence[Any], path: str) -> list[Any]:
    if _PLAIN_KEY.fullmatch(path):
        # A top-level key: a plain dict lookup is several times faster than a FieldPath.
        return [r.get(path) if type(r) is dict else None for r in records]
    getter: Callable[[Any], Any] = compile_path(path).get
    return [getter(r) for r in records]


def _raw_column(values: list[Any]) -> list[str | None]:
    # Statuses, sites and bandwidths repeat: memoise strings (the only cheap-to-hash kind).
    cache: dict[str, str | None] = {}
    raw_json = normalisers.raw_json
    out: list[str | None] = []
    append = out.append
    for value in values:
        if type(value) is str:
            text = cache.get(value)
            if text is None and value not in cache:
                text = cache[value] = raw_json(value)
            append(text)
        else:
            append(raw_json(value))
    return out


def _key_text(array: pa.Array) -> pa.Array:
    if not pa.types.is_string(array.type):
        array = pc.cast(array, pa.string())
    return pc.if_else(pc.equal(pc.utf8_length(array), 0), pa.scalar(None, pa.string()), array)


def _rule_key(parts: list[pa.Array], unordered: tuple[tuple[int, int], ...]) -> pa.Array:
    """A rule's composite key from its normalised parts; each unordered pair of positions
    is put in sorted order first, so (FRA1, LON3) and (LON3, FRA1) make the same key."""
    parts = list(parts)
    for i, j in unordered:
        a, b = parts[i], parts[j]
        swap = pc.fill_null(pc.greater(a, b), False)
        parts[i], parts[j] = pc.if_else(swap, b, a), pc.if_else(swap, a, b)
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, _KEY_SEPARATOR)


def extract(records: Sequence[Mapping[str, Any]], profile: MatchProfile, side: Side) -> pa.Table:
    """One pass over a report: the narrow columns the profile needs for `side`.

    Columns: ``ref`` (int64, position in the report), ``key{r}`` (the normalised composite
    key of rule r, null when a component is missing) and, per compared field j, ``f{j}_raw``
    (the raw value as JSON text, null when missing) and ``f{j}`` (the normalised value).
    """
    if side not in ("supplier", "customer"):
        raise ValueError(f"side must be 'supplier' or 'customer', not {side!r}")
    # Extract allocates millions of acyclic objects; each allocation burst would otherwise
    # trigger cyclic collections that walk every record dict of the report again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _extract(records, profile, side)
    finally:
        if collecting:
            gc.enable()


def _extract(records: Sequence[Mapping[str, Any]], profile: MatchProfile, side: Side) -> pa.Table:
    columns: dict[str, pa.Array] = {"ref": pa.array(range(len(records)), type=pa.int64())}
    for r, rule in enumerate(profile.identifier_rules):
        parts = []
        for component in rule.supplier if side == "supplier" else rule.customer:
            values = _column_values(records, component.field)
            normalised = normalisers.normalise_column(
                component.normaliser, values, component.params
            )
            parts.append(_key_text(normalised))
        columns[f"key{r}"] = _rule_key(parts, rule.unordered)
    for j, compared in enumerate(profile.compared_fields):
        path = compared.supplier_field if side == "supplier" else compared.customer_field
        values = _column_values(records, path)
        raw = _raw_column(values)
        normaliser = normalisers.get(compared.normaliser)
        columns[f"f{j}_raw"] = pa.array(raw, type=pa.string())
        columns[f"f{j}"] = normalisers.normalise_column(
            compared.normaliser,
            values,
            compared.normaliser_params,
            keys=None if normaliser.column is not None else raw,
        )
    table = pa.table(columns)
    return table.replace_schema_metadata(
        {_META_SIDE: side.encode(), _META_PROFILE: profile.profile_hash().encode()}
    )


# -- match -------------------------------------------------------------------------------


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _check(table: pa.Table, side: str, profile_hash: str) -> None:
    meta = table.schema.metadata or {}
    found = f"{meta.get(_META_SIDE, b'?').decode()}/{meta.get(_META_PROFILE, b'?').decode()}"
    if found != f"{side}/{profile_hash}":
        raise ExtractMismatch(side, f"{side}/{profile_hash}", found)


@dataclass(frozen=True)
class _Comparison:
    """SQL pieces over the joined pair columns (see `_comparison_sql`)."""

    tests: str  # ", <test> AS t{j}, ..." and ", <crossed test> AS x{k}, ..."
    agreements: str  # ", <agreement> AS a{j}, ..., <crossed and needed> AS w{k}, ..."
    diff_fields: str
    differences: str
    swapped: str


def _comparison_sql(profile: MatchProfile) -> _Comparison:
    """The per-field agreement a{j} of every compared field, the names of those that
    disagree, their JSON differences, and whether a swappable pair agreed only crossed.

    Tests are computed in an inner projection and agreements in the next; lists and JSON
    are built only under CASE WHEN NOT a{j}, so agreeing pairs cost no list or string work.
    """
    fields = profile.compared_fields
    if not fields:
        none = "CAST([] AS VARCHAR[])"
        return _Comparison("", "", none, "CAST(NULL AS VARCHAR)", "false")
    tests = []
    for j, f in enumerate(fields):
        test = comparators.agree_sql(
            f.comparator, f"s_f{j}", f"c_f{j}", f"s_f{j}_raw", f"c_f{j}_raw", f.params
        )
        tests.append(f"{test} AS t{j}")
    agreement = {j: f"t{j}" for j in range(len(fields))}
    crossing: dict[int, tuple[int, int]] = {}  # field -> (its pair, the pair's other field)
    crossed_needed = []
    for k, (i, j) in enumerate(profile.swap_index()):
        f = fields[i]  # both fields of a pair share comparator and params
        cross_ij = comparators.agree_sql(
            f.comparator, f"s_f{i}", f"c_f{j}", f"s_f{i}_raw", f"c_f{j}_raw", f.params
        )
        cross_ji = comparators.agree_sql(
            f.comparator, f"s_f{j}", f"c_f{i}", f"s_f{j}_raw", f"c_f{i}_raw", f.params
        )
        tests.append(f"{cross_ij} AS x{k}i, {cross_ji} AS x{k}j")
        # Crossing counts only where the direct comparison fails: both crossed comparisons
        # agree (the ends are swapped), or neither direct one does and one crossed one does
        # (swapped, and one end also differs: that end is the difference, crossed).
        crossed_needed.append(f"(NOT (t{i} AND t{j}) AND x{k}i AND x{k}j) AS w{k}")
        crossed_needed.append(f"(NOT t{i} AND NOT t{j} AND (x{k}i <> x{k}j)) AS h{k}")
        agreement[i] = f"(t{i} OR w{k} OR (h{k} AND x{k}i))"
        agreement[j] = f"(t{j} OR w{k} OR (h{k} AND x{k}j))"
        crossing[i], crossing[j] = (k, j), (k, i)
    names = []
    entries = []
    for j, f in enumerate(fields):
        s, c, s_raw, c_raw = f"s_f{j}", f"c_f{j}", f"s_f{j}_raw", f"c_f{j}_raw"
        crossed_mark = ""
        if j in crossing:
            # A half-crossed pair shows the end that differs against the customer's other end.
            k, other = crossing[j]
            c = f"(CASE WHEN h{k} THEN c_f{other} ELSE {c} END)"
            c_raw = f"(CASE WHEN h{k} THEN c_f{other}_raw ELSE {c_raw} END)"
            crossed_mark = f" || (CASE WHEN h{k} THEN ',\"crossed\":true' ELSE '' END)"
        names.append(f"CASE WHEN NOT a{j} THEN {_sql_text(f.name)} END")
        entry = (
            "'{\"field\":' || "
            + _sql_text(json.dumps(f.name))
            + f" || ',\"supplierValue\":' || coalesce({s_raw}, 'null')"
            + f" || ',\"customerValue\":' || coalesce({c_raw}, 'null')"
            + " || ',\"supplierNormalised\":' || "
            + comparators.normalised_json_sql(f.normaliser, s)
            + " || ',\"customerNormalised\":' || "
            + comparators.normalised_json_sql(f.normaliser, c)
            + " || ',\"comparator\":' || "
            + _sql_text(json.dumps(f.comparator))
            + crossed_mark
            + " || '}'"
        )
        entries.append(f"CASE WHEN NOT a{j} THEN {entry} END")
    agreements = crossed_needed + [f"{agreement[j]} AS a{j}" for j in range(len(fields))]
    all_agree = " AND ".join(f"a{j}" for j in range(len(fields)))
    listed = f"list_filter([{', '.join(names)}], lambda x: x IS NOT NULL)"
    diff_fields = f"CASE WHEN {all_agree} THEN CAST([] AS VARCHAR[]) ELSE {listed} END"
    joined = f"'[' || concat_ws(',', {', '.join(entries)}) || ']'"
    differences = f"CASE WHEN {all_agree} THEN NULL ELSE {joined} END"
    pairs = len(crossed_needed) // 2
    swapped = " OR ".join(f"w{k} OR h{k}" for k in range(pairs)) or "false"
    return _Comparison(
        ", " + ", ".join(tests), ", " + ", ".join(agreements), diff_fields, differences, swapped
    )


CONFIRMED_RULE = "confirmedCandidate"


def match(
    supplier: pa.Table,
    customer: pa.Table,
    profile: MatchProfile,
    links: Sequence[tuple[int, int]] = (),
) -> MatchResult:
    """Link and classify two extracted reports (see DESIGN.md section 3).

    `links` are (supplier ref, customer ref) pairs both carriers confirmed (a fuzzy candidate
    they agreed is the same service): they are linked before any rule, as rule
    `confirmedCandidate`, and compared like any other link.
    """
    profile_hash = profile.profile_hash()
    _check(supplier, "supplier", profile_hash)
    _check(customer, "customer", profile_hash)
    rules = profile.identifier_rules
    key_columns = ", ".join(f"key{r}" for r in range(len(rules)))
    names = [r.name for r in rules] + [CONFIRMED_RULE]
    rule_names = "[" + ", ".join(_sql_text(n) for n in names) + "]"
    comparison = _comparison_sql(profile)

    con = duckdb.connect(config={"threads": 2, "preserve_insertion_order": False})
    try:
        con.register("s_in", supplier)
        con.register("c_in", customer)
        run = con.execute
        run(f"CREATE TEMP TABLE s_open AS SELECT ref, {key_columns} FROM s_in")
        run(f"CREATE TEMP TABLE c_open AS SELECT ref, {key_columns} FROM c_in")
        run("CREATE TEMP TABLE pairs (rule INTEGER, sref BIGINT, cref BIGINT)")
        run("CREATE TEMP TABLE groups (rule INTEGER, srefs BIGINT[], crefs BIGINT[])")
        if links:
            con.register(
                "links_in",
                pa.table(
                    {
                        "sref": pa.array([s for s, _ in links], pa.int64()),
                        "cref": pa.array([c for _, c in links], pa.int64()),
                    }
                ),
            )
            # Only links between records that exist, each record in one link at most.
            run(
                f"""INSERT INTO pairs SELECT {len(rules)}, l.sref, l.cref FROM links_in l
                WHERE l.sref IN (SELECT ref FROM s_open) AND l.cref IN (SELECT ref FROM c_open)
                  AND l.sref IN (SELECT sref FROM links_in GROUP BY sref HAVING count(*) = 1)
                  AND l.cref IN (SELECT cref FROM links_in GROUP BY cref HAVING count(*) = 1)"""
            )
            for side, col in (("s", "sref"), ("c", "cref")):
                run(
                    f"CREATE OR REPLACE TEMP TABLE {side}_open AS SELECT * FROM {side}_open "
                    f"WHERE ref NOT IN (SELECT {col} FROM pairs)"
                )
        for r in range(len(rules)):
            k = f"key{r}"
            # Keys present on both sides: one-to-one ones link, the others are ambiguous;
            # either way their records leave the open sets. One-sided keys stay open.
            run(
                f"""CREATE OR REPLACE TEMP TABLE kb AS
                SELECT s.k, s.n AS sn, c.n AS cn, s.r AS sref, c.r AS cref
                FROM (SELECT {k} AS k, count(*) AS n, min(ref) AS r FROM s_open
                      WHERE {k} IS NOT NULL GROUP BY {k}) s
                JOIN (SELECT {k} AS k, count(*) AS n, min(ref) AS r FROM c_open
                      WHERE {k} IS NOT NULL GROUP BY {k}) c ON s.k = c.k"""
            )
            run(f"INSERT INTO pairs SELECT {r}, sref, cref FROM kb WHERE sn = 1 AND cn = 1")
            run(
                f"""INSERT INTO groups
                WITH amb AS (SELECT k FROM kb WHERE sn > 1 OR cn > 1),
                sg AS (SELECT o.{k} AS k, list(o.ref ORDER BY o.ref) AS refs
                       FROM s_open o JOIN amb ON o.{k} = amb.k GROUP BY o.{k}),
                cg AS (SELECT o.{k} AS k, list(o.ref ORDER BY o.ref) AS refs
                       FROM c_open o JOIN amb ON o.{k} = amb.k GROUP BY o.{k})
                SELECT {r}, sg.refs, cg.refs FROM sg JOIN cg ON sg.k = cg.k"""
            )
            for side in ("s", "c"):
                run(
                    f"CREATE OR REPLACE TEMP TABLE {side}_open AS "
                    f"SELECT o.* FROM {side}_open o ANTI JOIN kb ON o.{k} = kb.k"
                )
        for side in ("s", "c"):
            # Leftovers sharing their first-rule key are duplicates, not missing records.
            run(
                f"""CREATE TEMP TABLE {side}_dup AS
                SELECT key0 AS k, list(ref ORDER BY ref) AS refs FROM {side}_open
                WHERE key0 IS NOT NULL GROUP BY key0 HAVING count(*) > 1"""
            )
            run(
                f"CREATE TEMP TABLE {side}_single AS SELECT o.ref FROM {side}_open o "
                f"ANTI JOIN {side}_dup d ON o.key0 = d.k"
            )
        # Arrow `take` by ref would avoid the joins but is slower: random access into string
        # columns; DuckDB's hash join on ref wins (0.9 s against 1.7 s at 1M pairs).
        compared = ", ".join(
            f"s.{name} AS s_{name}, c.{name} AS c_{name}"
            for name in supplier.column_names
            if name.startswith("f")
        )
        aligned = f"""SELECT p.rule, p.sref, p.cref {", " + compared if compared else ""}
            FROM pairs p JOIN s_in s ON s.ref = p.sref JOIN c_in c ON c.ref = p.cref"""
        run(
            f"""CREATE TEMP TABLE cmp AS
            SELECT rule, sref, cref, {comparison.diff_fields} AS diff_fields,
                   {comparison.differences} AS differences, {comparison.swapped} AS swapped
            FROM (SELECT * {comparison.agreements}
                  FROM (SELECT * {comparison.tests} FROM ({aligned})))"""
        )
        empty_refs, empty_names = "CAST([] AS BIGINT[])", "CAST([] AS VARCHAR[])"
        no_text = "CAST(NULL AS VARCHAR)"
        table = con.sql(
            f"""SELECT class, reason, rule, supplier_refs, customer_refs, diff_fields, differences
            FROM (
              SELECT CASE WHEN differences IS NULL THEN 0 ELSE 1 END AS ord,
                     CASE WHEN differences IS NULL THEN 'matched' ELSE 'partial' END AS class,
                     CASE WHEN swapped THEN 'endsSwapped' END AS reason,
                     {rule_names}[rule + 1] AS rule,
                     [sref] AS supplier_refs, [cref] AS customer_refs,
                     diff_fields, differences, sref AS ms, cref AS mc
              FROM cmp
              UNION ALL
              SELECT 2, 'mismatch', 'ambiguous', {rule_names}[rule + 1], srefs, crefs,
                     {empty_names}, {no_text}, list_min(srefs), list_min(crefs)
              FROM groups
              UNION ALL
              SELECT 2, 'mismatch', 'ambiguous', {rule_names}[1], refs, {empty_refs},
                     {empty_names}, {no_text}, refs[1], NULL
              FROM s_dup
              UNION ALL
              SELECT 2, 'mismatch', 'ambiguous', {rule_names}[1], {empty_refs}, refs,
                     {empty_names}, {no_text}, NULL, refs[1]
              FROM c_dup
              UNION ALL
              SELECT 2, 'mismatch', 'missingAtCustomer', {no_text}, [ref], {empty_refs},
                     {empty_names}, {no_text}, ref, NULL
              FROM s_single
              UNION ALL
              SELECT 2, 'mismatch', 'missingAtSupplier', {no_text}, {empty_refs}, [ref],
                     {empty_names}, {no_text}, NULL, ref
              FROM c_single
            )
            ORDER BY ord, ms NULLS LAST, mc NULLS LAST"""
        ).to_arrow_table()
    finally:
        con.close()
    table = table.add_column(0, "item_no", pa.array(range(table.num_rows), type=pa.int64()))
    items = table.cast(ITEMS_SCHEMA)
    return MatchResult.of(items)


def _counts(items: pa.Table) -> dict[str, int]:
    classes = items.column("class")
    reasons = items.column("reason")

    def count(array: pa.ChunkedArray, value: str) -> int:
        return int(pc.sum(pc.equal(array, value)).as_py() or 0)

    return {
        "matched": count(classes, "matched"),
        "partial": count(classes, "partial"),
        "missingAtSupplier": count(reasons, "missingAtSupplier"),
        "missingAtCustomer": count(reasons, "missingAtCustomer"),
        "ambiguous": count(reasons, "ambiguous"),
        "total": items.num_rows,
    }


def match_records(
    supplier: Sequence[Mapping[str, Any]],
    customer: Sequence[Mapping[str, Any]],
    profile: MatchProfile,
    links: Sequence[tuple[int, int]] = (),
) -> MatchResult:
    """`extract` both reports, then `match` them."""
    return match(
        extract(supplier, profile, "supplier"),
        extract(customer, profile, "customer"),
        profile,
        links,
    )
