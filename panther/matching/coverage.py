"""What a profile reaches in two reports: per identifier rule the records it keys and the keys
duplicated on each side, per compared field the records its path resolves in on each side and,
over the linked pairs, how often it agreed, differed or was missing on both sides.

A match run records these figures and `panther profile check` shows them before a profile is
agreed. A compared field missing on both sides of a linked pair is not evidence of agreement:
the pair keeps its class (nothing differs), but the field is counted as `missingBoth`, never as
`agreed`, and a field whose path resolves in no record at all is a warning. Computed over the
extracted columns (`engine.extract`) and the items after the match, outside the match itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .engine import MatchResult, extract, match
from .profile import MatchProfile

__all__ = [
    "FIELD_ON_ONE_SIDE_ONLY",
    "FIELD_ON_NEITHER_SIDE",
    "RULE_KEYS_NO_RECORD",
    "check_profile",
    "checked",
    "coverage",
    "format_coverage",
    "with_missing_noted",
]

SIDES = ("supplier", "customer")
FIELD_ON_NEITHER_SIDE = "fieldResolvesOnNeitherSide"
FIELD_ON_ONE_SIDE_ONLY = "fieldResolvesOnOneSideOnly"
RULE_KEYS_NO_RECORD = "ruleKeysNoRecord"


def _count(mask: pa.Array | pa.ChunkedArray) -> int:
    return int(pc.sum(mask).as_py() or 0)


def _rows(table: pa.Table, refs: pa.Array) -> pa.Array:
    """Row positions in `table` of the records `refs` (the identity when the table's refs
    are 0..n-1, as `extract` and a chunked `extract_json` make them)."""
    ref = table.column("ref").to_numpy()
    if np.array_equal(ref, np.arange(len(ref))):
        return refs
    return pc.index_in(refs, value_set=pa.array(ref))


def _keys(table: pa.Table, r: int) -> dict[str, int]:
    key = table.column(f"key{r}")
    counts = pc.value_counts(key.drop_null()).field("counts")
    duplicated = pc.greater(counts, 1)
    return {
        "keyed": len(key) - key.null_count,
        "duplicateKeys": _count(duplicated),
        "duplicateRecords": int(pc.sum(pc.filter(counts, duplicated)).as_py() or 0),
    }


def _value_counts(values: pa.Array) -> dict[str, int]:
    counted = pc.value_counts(values.drop_null())
    return dict(
        zip(
            counted.field("values").to_pylist(),
            counted.field("counts").to_pylist(),
            strict=True,
        )
    )


def coverage(
    supplier: pa.Table, customer: pa.Table, profile: MatchProfile, result: MatchResult
) -> dict[str, Any]:
    """The coverage figures (JSON-ready) of two extracted reports and their match result."""
    tables = {"supplier": supplier, "customer": customer}
    items = result.items
    linked_mask = pc.not_equal(items.column("class"), "mismatch")
    linked = pc.filter(items, linked_mask)
    # A linked item (matched or partial) has exactly one record on each side.
    rows = {
        side: _rows(tables[side], pc.list_flatten(linked.column(f"{side}_refs").combine_chunks()))
        for side in SIDES
    }
    by_rule = _value_counts(linked.column("rule").combine_chunks())
    differed = _value_counts(pc.list_flatten(linked.column("diff_fields").combine_chunks()))
    rules = [
        {
            "name": rule.name,
            **{side: _keys(tables[side], r) for side in SIDES},
            "linked": by_rule.get(rule.name, 0),
        }
        for r, rule in enumerate(profile.identifier_rules)
    ]
    fields = []
    for j, compared in enumerate(profile.compared_fields):
        raw = {side: tables[side].column(f"f{j}_raw") for side in SIDES}
        missing = [pc.take(pc.is_null(raw[side]), rows[side]) for side in SIDES]
        both = _count(pc.and_(*missing)) if linked.num_rows else 0
        differ = differed.get(compared.name, 0)
        fields.append(
            {
                "name": compared.name,
                "comparator": compared.comparator,
                "supplier": {
                    "field": compared.supplier_field,
                    "resolved": len(raw["supplier"]) - raw["supplier"].null_count,
                },
                "customer": {
                    "field": compared.customer_field,
                    "resolved": len(raw["customer"]) - raw["customer"].null_count,
                },
                "agreed": linked.num_rows - differ - both,
                "differed": differ,
                "missingBoth": both,
            }
        )
    records = {side: tables[side].num_rows for side in SIDES}
    return {
        "supplierRecords": records["supplier"],
        "customerRecords": records["customer"],
        "linkedPairs": linked.num_rows,
        "rules": rules,
        "fields": fields,
        "warnings": _warnings(records, rules, fields),
    }


def _warnings(
    records: Mapping[str, int], rules: list[dict[str, Any]], fields: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in rules:
        for side in SIDES:
            if records[side] and not rule[side]["keyed"]:
                out.append(
                    {
                        "code": RULE_KEYS_NO_RECORD,
                        "rule": rule["name"],
                        "side": side,
                        "message": (
                            f"identifier rule {rule['name']!r} keys none of the "
                            f"{records[side]} {side} records: a key component's path "
                            "resolves in none of them"
                        ),
                    }
                )
    for field in fields:
        unresolved = [s for s in SIDES if records[s] and not field[s]["resolved"]]
        resolved = [s for s in SIDES if field[s]["resolved"]]
        if not unresolved:
            continue
        paths = " and ".join(f"{s} {field[s]['field']}" for s in unresolved)
        if not resolved:
            out.append(
                {
                    "code": FIELD_ON_NEITHER_SIDE,
                    "field": field["name"],
                    "message": (
                        f"compared field {field['name']!r} resolves in no record on either "
                        f"side ({paths}): it compares nothing, check the path and its "
                        "selectors against the records"
                    ),
                }
            )
        else:
            out.append(
                {
                    "code": FIELD_ON_ONE_SIDE_ONLY,
                    "field": field["name"],
                    "side": unresolved[0],
                    "message": (
                        f"compared field {field['name']!r} resolves on the {resolved[0]} "
                        f"side only (no {paths}): every linked pair will differ on it"
                    ),
                }
            )
    return out


def check_profile(
    profile: MatchProfile,
    supplier_records: Sequence[Mapping[str, Any]],
    customer_records: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Match two sets of records (a sample or whole reports) and report the counts per
    class and the coverage, without storing anything."""
    supplier = extract(supplier_records, profile, "supplier")
    customer = extract(customer_records, profile, "customer")
    return checked(profile, supplier, customer)


def checked(profile: MatchProfile, supplier: pa.Table, customer: pa.Table) -> dict[str, Any]:
    """`check_profile` over already extracted columns."""
    result = match(supplier, customer, profile)
    return {
        "profileHash": profile.profile_hash(),
        "counts": dict(result.counts),
        "coverage": coverage(supplier, customer, profile, result),
    }


def with_missing_noted(explanation: Mapping[str, Any]) -> dict[str, Any]:
    """An item's explanation (`explain.explain`) whose summary also names the compared fields
    missing on both sides (verdict ``bothMissing``): they were not compared, so "every
    compared field agrees" does not cover them and the reader is told so."""
    out = dict(explanation)
    missing = [f["name"] for f in out.get("fields") or [] if f.get("verdict") == "bothMissing"]
    if missing:
        out["summary"] = f"{out['summary']}; not compared, missing on both sides: " + ", ".join(
            missing
        )
    return out


def format_coverage(figures: Mapping[str, Any]) -> str:
    """Coverage figures as text for a terminal: one line per rule and per compared field,
    then the warnings."""
    lines = [
        f"records: {figures['supplierRecords']} supplier, {figures['customerRecords']} "
        f"customer; {figures['linkedPairs']} linked pairs"
    ]
    rules = figures.get("rules") or []
    if rules:
        width = max(len(r["name"]) for r in rules)
        lines.append("identifier rules (keyed / duplicate keys, supplier | customer; linked)")
        for r in rules:
            s, c = r["supplier"], r["customer"]
            lines.append(
                f"  {r['name']:<{width}}  {s['keyed']} / {s['duplicateKeys']} | "
                f"{c['keyed']} / {c['duplicateKeys']}; {r['linked']}"
            )
    fields = figures.get("fields") or []
    if fields:
        width = max(len(f["name"]) for f in fields)
        lines.append(
            "compared fields (resolved supplier | customer; agreed, differed, missing on both)"
        )
        for f in fields:
            lines.append(
                f"  {f['name']:<{width}}  {f['supplier']['resolved']} | "
                f"{f['customer']['resolved']}; {f['agreed']}, {f['differed']}, "
                f"{f['missingBoth']}"
            )
    for warning in figures.get("warnings") or []:
        lines.append(f"warning: {warning['message']}")
    return "\n".join(lines)
