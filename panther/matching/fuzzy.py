"""Fuzzy candidates for the records every identifier rule left unmatched.

A supplier record missing at the customer and a customer record missing at the supplier are
proposed as a candidate pair when they fall in the same block (the same pair of sites, in
either order, or the same start date: the profile's `fuzzy.blockBy`) and the edit distance
between their normalised identifiers is small. Candidates are suggestions for both carriers
to confirm, never matches: the engine's classes do not change.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from .engine import _KEY_SEPARATOR, MatchResult
from .profile import FuzzySettings, MatchProfile

__all__ = ["SUGGESTIONS_SCHEMA", "FuzzySettings", "suggest"]

SUGGESTIONS_SCHEMA = pa.schema(
    [
        ("supplier_item", pa.int64()),
        ("customer_item", pa.int64()),
        ("distance", pa.int64()),
        ("score", pa.float64()),
        ("supplier_key", pa.string()),
        ("customer_key", pa.string()),
        ("blocks", pa.list_(pa.string())),
        ("reason", pa.string()),
    ]
)


def _block_sql(profile: MatchProfile, fields: tuple[str, ...], alias: str) -> str:
    position = {f.name: j for j, f in enumerate(profile.compared_fields)}
    swappable = {frozenset(p) for p in profile.swappable_pairs}
    parts = [f"CAST({alias}.f{position[name]} AS VARCHAR)" for name in fields]
    if len(fields) == 2 and frozenset(fields) in swappable:
        # Ends in either order are the same block.
        a, b = parts
        parts = [f"least({a}, {b})", f"greatest({a}, {b})"]
    sep = "'" + _KEY_SEPARATOR + "'"
    return f"concat_ws({sep}, {', '.join(parts)})" if len(parts) > 1 else parts[0]


def _not_null(profile: MatchProfile, fields: tuple[str, ...], alias: str) -> str:
    position = {f.name: j for j, f in enumerate(profile.compared_fields)}
    return " AND ".join(f"{alias}.f{position[name]} IS NOT NULL" for name in fields)


def suggest(
    supplier: pa.Table, customer: pa.Table, result: MatchResult, profile: MatchProfile
) -> pa.Table:
    """Candidate pairs (see SUGGESTIONS_SCHEMA) between the result's missing items, best
    first for each item, at most `max_candidates` per item on either side."""
    settings = profile.fuzzy
    if settings is None:
        return SUGGESTIONS_SCHEMA.empty_table()
    k = f"key{settings.rule}"
    con = duckdb.connect(config={"threads": 2})
    try:
        con.register("s_in", supplier)
        con.register("c_in", customer)
        con.register("items", result.items.select(["item_no", "reason", "supplier_refs",
                                                   "customer_refs"]))  # fmt: skip
        run = con.execute
        for side, reason, refs in (
            ("s", "missingAtCustomer", "supplier_refs"),
            ("c", "missingAtSupplier", "customer_refs"),
        ):
            blocks = ", ".join(
                f"CASE WHEN {_not_null(profile, b, 'r')} THEN {_block_sql(profile, b, 'r')} END"
                f" AS b{n}"
                for n, b in enumerate(settings.blocks)
            )
            run(
                f"""CREATE TEMP TABLE {side}_left AS
                SELECT i.item_no, r.{k} AS k, {blocks}
                FROM items i JOIN {side}_in r ON r.ref = i.{refs}[1]
                WHERE i.reason = '{reason}' AND r.{k} IS NOT NULL"""
            )
        names = [" + ".join(b) for b in settings.blocks]
        candidates = " UNION ALL ".join(
            f"""SELECT s.item_no AS si, c.item_no AS ci, s.k AS sk, c.k AS ck,
                       '{names[n]}' AS block
                FROM s_left s JOIN c_left c ON s.b{n} = c.b{n}"""
            for n in range(len(settings.blocks))
        )
        n_max = settings.max_candidates
        table = con.sql(
            f"""WITH cand AS ({candidates}),
            scored AS (
              SELECT si, ci, sk, ck, list_sort(list(DISTINCT block)) AS blocks,
                     levenshtein(sk, ck) AS d
              FROM cand GROUP BY si, ci, sk, ck),
            kept AS (
              SELECT *, 1 - d / greatest(length(sk), length(ck)) AS score FROM scored
              WHERE d BETWEEN 1 AND {settings.max_distance}),
            ranked AS (
              SELECT *,
                     row_number() OVER (PARTITION BY si ORDER BY d, ci) AS rs,
                     row_number() OVER (PARTITION BY ci ORDER BY d, si) AS rc
              FROM kept)
            SELECT si AS supplier_item, ci AS customer_item, d AS distance,
                   round(score, 4) AS score, sk AS supplier_key, ck AS customer_key, blocks,
                   'identifiers ' || to_json(sk) || ' and ' || to_json(ck)
                     || ' differ by ' || d || ' edit' || CASE WHEN d = 1 THEN '' ELSE 's' END
                     || '; same ' || array_to_string(blocks, ' and ') AS reason
            FROM ranked WHERE rs <= {n_max} AND rc <= {n_max}
            ORDER BY si, d, ci"""
        ).to_arrow_table()
    finally:
        con.close()
    return table.cast(SUGGESTIONS_SCHEMA)
