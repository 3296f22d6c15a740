"""Why an item of a match run is in its class: the rule that linked it (or the keys that did
not), each compared field with both raw and normalised values, and the comparator's verdict.

One item at a time, with the scalar normalisers and the Python comparators: the semantics the
set-based engine runs in SQL (`reference.py` is the same per-record reading of them).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panther.inventory.paths import compile_path

from . import comparators, normalisers
from .profile import ComparedField, IdentifierRule, KeyComponent, MatchProfile
from .reference import key_text

__all__ = ["RecordsMismatch", "code_points", "explain", "format_explanation"]

AGREE, DIFFER, BOTH_MISSING = "agree", "differ", "bothMissing"
SIDES = ("supplier", "customer")


@dataclass(frozen=True)
class RecordsMismatch(ValueError):
    """The records given for one side are not one per ref of the item."""

    side: str
    refs: int
    records: int

    def __str__(self) -> str:
        return f"{self.side}: the item has {self.refs} refs but {self.records} records were given"


def explain(
    profile: MatchProfile,
    supplier_records: Sequence[Mapping[str, Any]],
    customer_records: Sequence[Mapping[str, Any]],
    item: Mapping[str, Any],
) -> dict[str, Any]:
    """The explanation of one stored item (JSON-ready).

    `item` is the item as a run stores it (``class``, ``reason``, ``rule``, ``supplierRefs``,
    ``customerRefs``); the records are the JSON bodies of its refs, in ref order.
    """
    records = {"supplier": list(supplier_records), "customer": list(customer_records)}
    refs: dict[str, list[int]] = {}
    for side in SIDES:
        refs[side] = [int(r) for r in item.get(f"{side}Refs") or []]
        if len(refs[side]) != len(records[side]):
            raise RecordsMismatch(side, len(refs[side]), len(records[side]))
    rule = _rule(profile, item.get("rule"))
    one_to_one = len(records["supplier"]) == 1 and len(records["customer"]) == 1
    record_keys = [
        {
            "side": side,
            "ref": ref,
            **_record_ids(record),
            "keys": [_record_key(r, record, side) for r in profile.identifier_rules],
        }
        for side in SIDES
        for ref, record in zip(refs[side], records[side], strict=True)
    ]
    link = None
    fields: list[dict[str, Any]] = []
    if one_to_one and rule is not None:
        supplier, customer = records["supplier"][0], records["customer"][0]
        link = _link(rule, supplier, customer)
        fields = _fields(profile, supplier, customer, crossing=item.get("reason") == "endsSwapped")
    shared = _shared_key(rule, record_keys, records) if item.get("reason") == "ambiguous" else None
    return {
        "class": item["class"],
        "reason": item.get("reason"),
        "rule": item.get("rule"),
        "summary": _summary(item, rule, link, shared, fields, record_keys),
        "link": link,
        "sharedKey": shared,
        "fields": fields,
        "records": record_keys,
    }


# -- code points a reader cannot see ----------------------------------------------------


def code_points(value: Any) -> list[dict[str, Any]]:
    """Every code point of a raw value that does not show as itself in print: anything beyond
    printable ASCII (a Unicode dash, a no-break or zero-width space, a Cyrillic letter that
    looks Latin) and ASCII control characters. ``index`` counts code points from the start of
    a string value (of the value's JSON text for any other value)."""
    if value is None:
        return []
    text = value if isinstance(value, str) else normalisers.raw_json(value)
    if text is None or (text.isascii() and text.isprintable()):
        return []
    return [
        {"index": i, "codePoint": f"U+{ord(ch):04X}", "name": _char_name(ch)}
        for i, ch in enumerate(text)
        if not (" " <= ch <= "~")
    ]


def _char_name(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name or f"<{unicodedata.category(ch)}>"


def _unseen_points(field: Mapping[str, Any]) -> list[str]:
    out = []
    for side in SIDES:
        points = sorted({p["codePoint"] for p in field[f"{side}CodePoints"]})
        if points:
            out.append(f"{side} {' '.join(points)}")
    return out


def _code_point_words(points: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{p['codePoint']} {p['name']} at {p['index']}" for p in points) or "none"


# -- keys --------------------------------------------------------------------------------


def _rule(profile: MatchProfile, name: Any) -> IdentifierRule | None:
    return next((r for r in profile.identifier_rules if r.name == name), None)


def _record_ids(record: Mapping[str, Any]) -> dict[str, str | None]:
    """The record's ``id`` (None unless a string) and its ``externalId`` where it has one."""
    ids: dict[str, str | None] = {}
    for key in ("id", "externalId"):
        value = record.get(key) if isinstance(record, Mapping) else None
        if isinstance(value, str) or key == "id":
            ids[key] = value if isinstance(value, str) else None
    return ids


def _component(component: KeyComponent, record: Mapping[str, Any]) -> dict[str, Any]:
    value = compile_path(component.field).get(record)
    normalised = normalisers.normalise(component.normaliser, value, component.params)
    out: dict[str, Any] = {
        "field": component.field,
        "normaliser": component.normaliser,
        "raw": normalisers.raw_json(value),
        "normalised": key_text(normalised),
    }
    unseen = code_points(value)
    if unseen:
        out["codePoints"] = unseen
    return out


def _unordered(rule: IdentifierRule) -> list[list[int]]:
    return [list(pair) for pair in getattr(rule, "unordered", ())]


def _key(rule: IdentifierRule, components: list[dict[str, Any]]) -> list[str] | None:
    """The rule's key as the engine joins on it; None (no key: the record cannot link by
    this rule) when a component is missing."""
    parts = [c["normalised"] for c in components]
    if any(p is None for p in parts):
        return None
    for i, j in _unordered(rule):  # either order of these positions is the same key
        if parts[i] > parts[j]:
            parts[i], parts[j] = parts[j], parts[i]
    return parts


def _record_key(rule: IdentifierRule, record: Mapping[str, Any], side: str) -> dict[str, Any]:
    components = [_component(c, record) for c in getattr(rule, side)]
    return {"rule": rule.name, "key": _key(rule, components), "components": components}


def _link(
    rule: IdentifierRule, supplier: Mapping[str, Any], customer: Mapping[str, Any]
) -> dict[str, Any]:
    supplier_parts = [_component(c, supplier) for c in rule.supplier]
    customer_parts = [_component(c, customer) for c in rule.customer]
    components = [
        {
            "supplierField": s["field"],
            "customerField": c["field"],
            "supplierNormaliser": s["normaliser"],
            "customerNormaliser": c["normaliser"],
            "supplierRaw": s["raw"],
            "customerRaw": c["raw"],
            "supplierNormalised": s["normalised"],
            "customerNormalised": c["normalised"],
        }
        for s, c in zip(supplier_parts, customer_parts, strict=True)
    ]
    return {
        "rule": rule.name,
        "key": _key(rule, supplier_parts),
        "unordered": _unordered(rule),
        "components": components,
    }


def _shared_key(
    rule: IdentifierRule | None,
    record_keys: list[dict[str, Any]],
    records: Mapping[str, list[Mapping[str, Any]]],
) -> dict[str, Any] | None:
    if rule is None:
        return None
    keys = [k["key"] for r in record_keys for k in r["keys"] if k["rule"] == rule.name and k["key"]]
    return {
        "rule": rule.name,
        "key": keys[0] if keys else None,
        "supplierCount": len(records["supplier"]),
        "customerCount": len(records["customer"]),
    }


# -- compared fields ---------------------------------------------------------------------


def _side_value(compared: ComparedField, record: Mapping[str, Any], path: str) -> dict[str, Any]:
    value = compile_path(path).get(record)
    normalised = normalisers.normalise(compared.normaliser, value, compared.normaliser_params)
    return {
        "field": path,
        "raw": normalisers.raw_json(value),
        "normalised": normalised,
        "codePoints": code_points(value),
    }


def _compare(
    compared: ComparedField,
    supplier: Mapping[str, Any],
    customer: Mapping[str, Any],
    customer_path: str,
    *,
    crossed: bool = False,
) -> dict[str, Any]:
    s = _side_value(compared, supplier, compared.supplier_field)
    c = _side_value(compared, customer, customer_path)
    if s["raw"] is None and c["raw"] is None:
        verdict = BOTH_MISSING
    elif comparators.agree(
        compared.comparator, s["normalised"], c["normalised"], s["raw"], c["raw"], compared.params
    ):
        verdict = AGREE
    else:
        verdict = DIFFER
    out = {
        "name": compared.name,
        "comparator": compared.comparator,
        "params": dict(compared.params),
        "supplierField": s["field"],
        "customerField": c["field"],
        "supplierRaw": s["raw"],
        "customerRaw": c["raw"],
        "supplierNormalised": comparators.normalised_json(compared.normaliser, s["normalised"]),
        "customerNormalised": comparators.normalised_json(compared.normaliser, c["normalised"]),
        "verdict": verdict,
        "crossed": crossed,
    }
    if verdict == DIFFER and (s["codePoints"] or c["codePoints"]):
        # Two values that may look alike: show what a reader cannot see.
        out["supplierCodePoints"] = s["codePoints"]
        out["customerCodePoints"] = c["codePoints"]
    return out


def _fields(
    profile: MatchProfile,
    supplier: Mapping[str, Any],
    customer: Mapping[str, Any],
    *,
    crossing: bool,
) -> list[dict[str, Any]]:
    out = {
        f.name: _compare(f, supplier, customer, f.customer_field) for f in profile.compared_fields
    }
    if not crossing:
        return list(out.values())
    by_name = {f.name: f for f in profile.compared_fields}
    for pair in getattr(profile, "swappable_pairs", ()):
        a, b = (by_name.get(name) for name in pair)
        if a is None or b is None or all(out[f.name]["verdict"] != DIFFER for f in (a, b)):
            continue
        # The ends are swapped when each field agrees with the other one on the customer
        # side; or when neither agrees directly and one does crossed (the other end differs).
        swapped = {
            a.name: _compare(a, supplier, customer, b.customer_field, crossed=True),
            b.name: _compare(b, supplier, customer, a.customer_field, crossed=True),
        }
        crossed_agree = sum(v["verdict"] != DIFFER for v in swapped.values())
        direct_differ = all(out[f.name]["verdict"] == DIFFER for f in (a, b))
        if crossed_agree == 2 or (crossed_agree == 1 and direct_differ):
            out.update(swapped)
    return list(out.values())


# -- words -------------------------------------------------------------------------------


def _key_words(key: Sequence[str] | None) -> str:
    return "(none)" if key is None else " + ".join(key)


def _rule_key_words(key: Mapping[str, Any]) -> str:
    """``rule KEY``, or which components a rule's key lacks."""
    if key["key"] is not None:
        return f"{key['rule']} {_key_words(key['key'])}"
    missing = [c["field"] for c in key["components"] if c["normalised"] is None]
    return f"{key['rule']} no key ({', '.join(missing)} missing)"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _summary(
    item: Mapping[str, Any],
    rule: IdentifierRule | None,
    link: dict[str, Any] | None,
    shared: dict[str, Any] | None,
    fields: list[dict[str, Any]],
    record_keys: list[dict[str, Any]],
) -> str:
    reason = item.get("reason")
    if link is not None:
        words = f"linked one-to-one by rule {link['rule']}"
        crossed = [f["name"] for f in fields if f["crossed"] and f["verdict"] != DIFFER]
        differing = [f["name"] for f in fields if f["verdict"] == DIFFER]
        if crossed:
            verb = "agree" if len(crossed) > 1 else "agrees"
            words += f"; the ends are swapped: {' and '.join(crossed)} {verb} when crossed"
        if not differing:
            rest = "every other compared field" if crossed else "every compared field"
            return f"{words} and {rest} agrees"
        verb = "differs" if len(differing) == 1 else "differ"
        listed = ", ".join(differing)
        words = f"{words}; {_plural(len(differing), 'compared field')} {verb}: {listed}"
        unseen = [
            f"{f['name']} ({', '.join(_unseen_points(f))})"
            for f in fields
            if f["verdict"] == DIFFER and "supplierCodePoints" in f
        ]
        if unseen:
            words += f"; code points that may not show: {'; '.join(unseen)}"
        return words
    if reason == "ambiguous":
        if shared is None:
            return "ambiguous: the records share an identifier of a rule this profile lacks"
        counts = []
        for side in SIDES:
            n = shared[f"{side}Count"]
            if n:
                counts.append(_plural(n, f"{side} record"))
        words = (
            f"ambiguous: {' and '.join(counts)} share the key {_key_words(shared['key'])} "
            f"of rule {shared['rule']}"
        )
        if not shared["supplierCount"] or not shared["customerCount"]:
            other = "customer" if shared["supplierCount"] else "supplier"
            words += f" and no {other} record has it"
        return words + "; a duplicate identifier is never linked by guess"
    if reason in ("missingAtCustomer", "missingAtSupplier"):
        other = "customer" if reason == "missingAtCustomer" else "supplier"
        head = "missing at " + other
        keys = [k for r in record_keys for k in r["keys"]]
        if all(k["key"] is None for k in keys):
            return f"{head}: the record has no complete key under any rule"
        listed = "; ".join(_rule_key_words(k) for k in keys)
        return (
            f"{head}: no {other} record has any of these keys ({listed}); a record linked "
            "by an earlier rule is not looked at again"
        )
    if rule is None and item.get("rule") is not None:
        return f"{item['class']}: rule {item['rule']} is not in this profile"
    return f"{item['class']}" + (f" ({reason})" if reason else "")


def _value_words(raw: str | None, normalised: Any) -> str:
    if raw is None:
        return "(absent)"
    shown = "(unusable)" if normalised is None else str(normalised)
    return f"{raw} → {shown}"


def format_explanation(explanation: Mapping[str, Any]) -> str:
    """The explanation as text for a terminal: the summary, the link or the keys, then one
    line per compared field (name, verdict, supplier raw → normalised, customer raw →
    normalised)."""
    head = f"{explanation['class']}"
    if explanation.get("reason"):
        head += f" ({explanation['reason']})"
    if "itemNo" in explanation:
        head = f"item {explanation['itemNo']}: {head}"
        if "runId" in explanation:
            head += f" in run {explanation['runId']}"
    lines = [head, explanation["summary"]]
    link = explanation.get("link")
    if link is not None:
        for c in link["components"]:
            lines.append(
                f"  link {link['rule']}: supplier {c['supplierField']} "
                f"{_value_words(c['supplierRaw'], c['supplierNormalised'])}, customer "
                f"{c['customerField']} {_value_words(c['customerRaw'], c['customerNormalised'])}"
            )
    else:
        for record in explanation.get("records", []):
            label = f"  {record['side']} #{record['ref']}"
            if record.get("id"):
                label += f" {record['id']}"
            if record.get("externalId"):
                label += f" (externalId {record['externalId']})"
            keys = "; ".join(_rule_key_words(k) for k in record["keys"])
            lines.append(f"{label}: {keys}")
            for k in record["keys"]:
                for c in k["components"]:
                    if c.get("codePoints"):
                        words = _code_point_words(c["codePoints"])
                        lines.append(f"    {c['field']} code points: {words}")
    fields = explanation.get("fields") or []
    if fields:
        verdicts = [f["verdict"] + (" (crossed)" if f.get("crossed") else "") for f in fields]
        width = max(len(f["name"]) for f in fields)
        verdict_width = max(len(v) for v in verdicts)
        for f, verdict in zip(fields, verdicts, strict=True):
            lines.append(
                f"  {f['name']:<{width}}  {verdict:<{verdict_width}}  supplier "
                f"{_value_words(f['supplierRaw'], f['supplierNormalised'])}  |  customer "
                f"{_value_words(f['customerRaw'], f['customerNormalised'])}"
            )
            if "supplierCodePoints" in f:
                lines.append(
                    f"  {'':<{width}}  code points: supplier "
                    f"{_code_point_words(f['supplierCodePoints'])}  |  customer "
                    f"{_code_point_words(f['customerCodePoints'])}"
                )
    return "\n".join(lines)
