"""The matching semantics as plain per-record Python: the oracle for tests, the benchmark baseline.

Same rules as `engine` (DESIGN.md section 3), written for reading rather than speed: dicts,
sets and loops over the records, the scalar normalisers and the Python comparators.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from panther.inventory.paths import compile_path

from . import comparators, normalisers
from .profile import MatchProfile

__all__ = ["key_text", "reference_counts", "reference_match"]

_CLASS_ORDER = {"matched": 0, "partial": 1, "mismatch": 2}


def key_text(value: Any) -> str | None:
    """A normalised key component as text (how the engine casts it)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return text or None


def _keys(record: Any, profile: MatchProfile, side: str) -> list[str | None]:
    keys: list[str | None] = []
    for rule in profile.identifier_rules:
        parts: list[str | None] = []
        for component in rule.supplier if side == "supplier" else rule.customer:
            value = compile_path(component.field).get(record)
            parts.append(
                key_text(normalisers.normalise(component.normaliser, value, component.params))
            )
        for i, j in rule.unordered:  # either order of these positions is the same key
            first, second = parts[i], parts[j]
            if first is not None and second is not None and first > second:
                parts[i], parts[j] = second, first
        present = [p for p in parts if p is not None]
        keys.append("\x1f".join(present) if len(present) == len(parts) else None)
    return keys


def _differences(
    supplier: Any, customer: Any, profile: MatchProfile
) -> tuple[list[dict[str, Any]] | None, bool]:
    """The differing fields of a linked pair, and whether a swappable pair agreed only
    when crossed (A-end and B-end recorded the other way round)."""
    fields = profile.compared_fields
    values = []
    for f in fields:
        s_value = compile_path(f.supplier_field).get(supplier)
        c_value = compile_path(f.customer_field).get(customer)
        s_raw, c_raw = normalisers.raw_json(s_value), normalisers.raw_json(c_value)
        s_norm = normalisers.normalise(f.normaliser, s_value, f.normaliser_params)
        c_norm = normalisers.normalise(f.normaliser, c_value, f.normaliser_params)
        values.append((s_value, c_value, s_raw, c_raw, s_norm, c_norm))
    agree = [
        comparators.agree(f.comparator, v[4], v[5], v[2], v[3], f.params)
        for f, v in zip(fields, values, strict=True)
    ]
    swapped = False
    crossed_with: dict[int, int] = {}  # a differing end of a half-crossed pair -> other end
    for i, j in profile.swap_index():
        f = fields[i]
        if agree[i] and agree[j]:
            continue
        vi, vj = values[i], values[j]
        cross_ij = comparators.agree(f.comparator, vi[4], vj[5], vi[2], vj[3], f.params)
        cross_ji = comparators.agree(f.comparator, vj[4], vi[5], vj[2], vi[3], f.params)
        if cross_ij and cross_ji:
            agree[i] = agree[j] = swapped = True
        elif not agree[i] and not agree[j] and (cross_ij or cross_ji):
            # Swapped, and one end also differs: the other end agrees crossed.
            swapped = True
            agree[i], agree[j] = cross_ij, cross_ji
            differing, other = (j, i) if cross_ij else (i, j)
            crossed_with[differing] = other
    out = []
    for n, (f, v, ok) in enumerate(zip(fields, values, agree, strict=True)):
        if ok:
            continue
        s_value, _, s_raw, _, s_norm, _ = v
        other = crossed_with.get(n, n)
        _, c_value, _, c_raw, _, c_norm = values[other]
        entry = {
            "field": f.name,
            "supplierValue": s_value if s_raw is not None else None,
            "customerValue": c_value if c_raw is not None else None,
            "supplierNormalised": comparators.normalised_json(f.normaliser, s_norm),
            "customerNormalised": comparators.normalised_json(f.normaliser, c_norm),
            "comparator": f.comparator,
        }
        if other != n:
            entry["crossed"] = True
        out.append(entry)
    return out or None, swapped


def reference_match(
    supplier: Sequence[Mapping[str, Any]],
    customer: Sequence[Mapping[str, Any]],
    profile: MatchProfile,
    links: Sequence[tuple[int, int]] = (),
) -> list[dict[str, Any]]:
    """The items, in item order, in the form of `MatchResult.item_dicts()`."""
    s_keys = [_keys(r, profile, "supplier") for r in supplier]
    c_keys = [_keys(r, profile, "customer") for r in customer]
    s_open = set(range(len(supplier)))
    c_open = set(range(len(customer)))
    items: list[dict[str, Any]] = []

    def item(cls: str, reason: str | None, rule: str | None, srefs: list[int], crefs: list[int],
             differences: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
        items.append(
            {
                "class": cls,
                "reason": reason,
                "rule": rule,
                "supplierRefs": sorted(srefs),
                "customerRefs": sorted(crefs),
                "differences": differences,
            }
        )

    # Confirmed links first: each between existing records, each record in one link only.
    s_uses: defaultdict[int, int] = defaultdict(int)
    c_uses: defaultdict[int, int] = defaultdict(int)
    for sref, cref in links:
        s_uses[sref] += 1
        c_uses[cref] += 1
    for sref, cref in links:
        if sref in s_open and cref in c_open and s_uses[sref] == 1 and c_uses[cref] == 1:
            diff, swapped = _differences(supplier[sref], customer[cref], profile)
            reason = "endsSwapped" if swapped else None
            item("partial" if diff else "matched", reason, "confirmedCandidate", [sref], [cref],
                 diff)  # fmt: skip
            s_open.discard(sref)
            c_open.discard(cref)

    for r, rule in enumerate(profile.identifier_rules):
        s_groups: dict[str, list[int]] = defaultdict(list)
        c_groups: dict[str, list[int]] = defaultdict(list)
        for i in s_open:
            if (s_key := s_keys[i][r]) is not None:
                s_groups[s_key].append(i)
        for i in c_open:
            if (c_key := c_keys[i][r]) is not None:
                c_groups[c_key].append(i)
        for key in s_groups.keys() & c_groups.keys():
            srefs, crefs = s_groups[key], c_groups[key]
            if len(srefs) == 1 and len(crefs) == 1:
                diff, swapped = _differences(supplier[srefs[0]], customer[crefs[0]], profile)
                reason = "endsSwapped" if swapped else None
                item("partial" if diff else "matched", reason, rule.name, srefs, crefs, diff)
            else:
                item("mismatch", "ambiguous", rule.name, srefs, crefs)
            s_open.difference_update(srefs)
            c_open.difference_update(crefs)

    first = profile.identifier_rules[0].name
    for side_open, side_keys, reason in (
        (s_open, s_keys, "missingAtCustomer"),
        (c_open, c_keys, "missingAtSupplier"),
    ):
        groups: dict[str, list[int]] = defaultdict(list)
        for i in side_open:
            first_key = side_keys[i][0]
            if first_key is None:
                groups[f"\x00{i}"].append(i)  # no key: alone by construction
            else:
                groups[first_key].append(i)
        for refs in groups.values():
            sides = (refs, []) if reason == "missingAtCustomer" else ([], refs)
            if len(refs) > 1:
                item("mismatch", "ambiguous", first, *sides)
            else:
                item("mismatch", reason, None, *sides)

    def order(it: dict[str, Any]) -> tuple[int, float, float]:
        s, c = it["supplierRefs"], it["customerRefs"]
        return (
            _CLASS_ORDER[it["class"]],
            s[0] if s else float("inf"),
            c[0] if c else float("inf"),
        )

    items.sort(key=order)
    return [{"itemNo": n, **it} for n, it in enumerate(items)]


def reference_counts(items: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = {
        "matched": 0,
        "partial": 0,
        "missingAtSupplier": 0,
        "missingAtCustomer": 0,
        "ambiguous": 0,
    }
    for it in items:
        counts[it["reason"] if it["class"] == "mismatch" else it["class"]] += 1
    counts["total"] = len(items)
    return counts
