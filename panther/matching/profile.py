"""Match profiles: the per-relation data that says how two reports are linked and compared.

A profile is JSON (see docs/records-and-profiles.md); `MatchProfile.from_dict` validates it
strictly and reports every problem at once, `profile_hash` is what a match run records.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import pyarrow as pa

from panther.inventory.paths import InvalidPath, compile_path
from panther.ledger.canonical import canonical_json

from . import comparators, normalisers

__all__ = [
    "DEFAULT_PROFILE",
    "ComparedField",
    "FuzzySettings",
    "IdentifierRule",
    "InvalidProfile",
    "KeyComponent",
    "MatchProfile",
    "ProfileProblem",
]


@dataclass(frozen=True)
class ProfileProblem:
    pointer: str  # JSON pointer into the profile document
    message: str


@dataclass(frozen=True)
class InvalidProfile(ValueError):
    problems: tuple[ProfileProblem, ...]

    def __str__(self) -> str:
        return "invalid match profile: " + "; ".join(
            f"{p.pointer or '/'}: {p.message}" for p in self.problems
        )


@dataclass(frozen=True)
class KeyComponent:
    """One part of an identifier rule's (possibly composite) key on one side."""

    field: str
    normaliser: str = "identifier"
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "normaliser": self.normaliser}
        if self.params:
            out["params"] = _plain(self.params)
        return out


@dataclass(frozen=True)
class IdentifierRule:
    """A (possibly composite) key. `unordered` lists pairs of component positions whose
    values may come in either order (the A-end and B-end sites of a point-to-point service
    that one side records the other way round): the key sorts each such pair."""

    name: str
    supplier: tuple[KeyComponent, ...]
    customer: tuple[KeyComponent, ...]
    unordered: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "supplier": [c.to_dict() for c in self.supplier],
            "customer": [c.to_dict() for c in self.customer],
        }
        if self.unordered:
            out["unordered"] = [list(pair) for pair in self.unordered]
        return out


@dataclass(frozen=True)
class ComparedField:
    name: str
    supplier_field: str
    customer_field: str
    comparator: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    @property
    def normaliser(self) -> str:
        return comparators.get(self.comparator).normaliser

    @property
    def normaliser_params(self) -> Mapping[str, Any]:
        return comparators.get(self.comparator).normaliser_params(self.params)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.supplier_field == self.customer_field:
            out["field"] = self.supplier_field
        else:
            out["supplierField"] = self.supplier_field
            out["customerField"] = self.customer_field
        out["comparator"] = self.comparator
        if self.params:
            out["params"] = _plain(self.params)
        return out


@dataclass(frozen=True)
class FuzzySettings:
    """Fuzzy candidates for the leftovers: the rule (by position) whose normalised key is
    compared by edit distance, the largest distance proposed, the blocks (each a list of
    compared field names whose normalised values must be equal; a swappable pair in either
    order), and how many candidates an item gets at most."""

    rule: int
    max_distance: int
    blocks: tuple[tuple[str, ...], ...]
    max_candidates: int = 3

    def to_dict(self, rules: tuple[IdentifierRule, ...]) -> dict[str, Any]:
        return {
            "rule": rules[self.rule].name,
            "maxDistance": self.max_distance,
            "blockBy": [list(b) for b in self.blocks],
            "maxCandidates": self.max_candidates,
        }


@dataclass(frozen=True)
class MatchProfile:
    name: str
    version: int
    identifier_rules: tuple[IdentifierRule, ...]
    compared_fields: tuple[ComparedField, ...] = ()
    csv_mapping: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)
    # Pairs of compared fields (by name) that agree when crossed: supplier A = customer B
    # and supplier B = customer A. Such items are matched or partial with reason
    # `endsSwapped`.
    swappable_pairs: tuple[tuple[str, str], ...] = ()
    fuzzy: FuzzySettings | None = None

    @classmethod
    def from_dict(cls, document: Any) -> MatchProfile:
        """Validate a profile document; raises InvalidProfile listing every problem."""
        return _Parser().profile(document)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "identifierRules": [r.to_dict() for r in self.identifier_rules],
            "comparedFields": [f.to_dict() for f in self.compared_fields],
            "csvMapping": dict(self.csv_mapping),
        }
        if self.swappable_pairs:
            out["swappablePairs"] = [list(pair) for pair in self.swappable_pairs]
        if self.fuzzy is not None:
            out["fuzzy"] = self.fuzzy.to_dict(self.identifier_rules)
        return out

    def swap_index(self) -> tuple[tuple[int, int], ...]:
        """`swappable_pairs` as positions in `compared_fields`."""
        position = {f.name: j for j, f in enumerate(self.compared_fields)}
        return tuple((position[a], position[b]) for a, b in self.swappable_pairs)

    def profile_hash(self) -> str:
        """SHA-256 hex of the canonical JSON (RFC 8785) of `to_dict()`."""
        return hashlib.sha256(canonical_json(self.to_dict())).hexdigest()

    def mirrored(self) -> MatchProfile:
        """The same profile with the supplier and customer sides swapped."""
        return replace(
            self,
            identifier_rules=tuple(
                IdentifierRule(r.name, r.customer, r.supplier, r.unordered)
                for r in self.identifier_rules
            ),
            compared_fields=tuple(
                replace(f, supplier_field=f.customer_field, customer_field=f.supplier_field)
                for f in self.compared_fields
            ),
        )


def _plain(value: Any) -> Any:
    """A deep copy made of plain dicts and lists (JSON-ready)."""
    return json.loads(json.dumps(value))


def _registered_comparator(name: object) -> comparators.Comparator | None:
    """The comparator a profile names; None for an unknown name or one that is not a string."""
    if not isinstance(name, str):
        return None
    try:
        return comparators.get(name)
    except comparators.UnknownComparator:
        return None


class _Parser:
    def __init__(self) -> None:
        self.problems: list[ProfileProblem] = []

    def fail(self, pointer: str, message: str) -> None:
        self.problems.append(ProfileProblem(pointer, message))

    def keys(
        self, doc: dict[str, Any], pointer: str, required: set[str], optional: set[str]
    ) -> None:
        for key in sorted(required - doc.keys()):
            self.fail(pointer, f"missing {key!r}")
        for key in sorted(doc.keys() - required - optional):
            self.fail(f"{pointer}/{_escape(str(key))}", "unknown member")

    def name(self, value: Any, pointer: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(pointer, "must be a non-empty string")
            return ""
        return value

    def path(self, value: Any, pointer: str) -> str:
        if not isinstance(value, str):
            self.fail(pointer, "must be a field path string")
            return ""
        try:
            compile_path(value)
        except InvalidPath as exc:
            self.fail(pointer, exc.reason)
        return value

    def params(self, value: Any, pointer: str, check: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(pointer, "must be an object")
            return {}
        for message in check(value):
            self.fail(pointer, message)
        plain: dict[str, Any] = _plain(value)
        return plain

    def profile(self, doc: Any) -> MatchProfile:
        if not isinstance(doc, dict):
            raise InvalidProfile((ProfileProblem("", "a profile must be a JSON object"),))
        self.keys(
            doc,
            "",
            {"name", "version", "identifierRules"},
            {"comparedFields", "csvMapping", "swappablePairs", "fuzzy"},
        )
        name = self.name(doc.get("name"), "/name")
        version = doc.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.fail("/version", "must be a positive integer")
            version = 0
        rules = self.rules(doc.get("identifierRules"))
        fields = self.compared(doc.get("comparedFields", []))
        mapping = self.csv(doc.get("csvMapping", {}))
        pairs = self.swappable(doc.get("swappablePairs", []), fields)
        fuzzy = self.fuzzy(doc.get("fuzzy"), rules, fields)
        if self.problems:
            raise InvalidProfile(tuple(self.problems))
        return MatchProfile(name, version, rules, fields, mapping, pairs, fuzzy)

    def fuzzy(
        self, value: Any, rules: tuple[IdentifierRule, ...], fields: tuple[ComparedField, ...]
    ) -> FuzzySettings | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail("/fuzzy", "must be an object")
            return None
        self.keys(value, "/fuzzy", {"rule", "maxDistance", "blockBy"}, {"maxCandidates"})
        names = [r.name for r in rules]
        rule = value.get("rule")
        if rule not in names:
            self.fail("/fuzzy/rule", f"no identifier rule named {rule!r}")
        distance = value.get("maxDistance")
        if type(distance) is not int or not 1 <= distance <= 5:
            self.fail("/fuzzy/maxDistance", "must be an integer from 1 to 5")
        most = value.get("maxCandidates", 3)
        if type(most) is not int or not 1 <= most <= 10:
            self.fail("/fuzzy/maxCandidates", "must be an integer from 1 to 10")
        known = {f.name for f in fields}
        blocks = value.get("blockBy")
        out: list[tuple[str, ...]] = []
        if not isinstance(blocks, list) or not blocks:
            self.fail("/fuzzy/blockBy", "must be a non-empty array of field-name lists")
        else:
            for i, block in enumerate(blocks):
                if (
                    not isinstance(block, list)
                    or not block
                    or not all(isinstance(n, str) and n in known for n in block)
                ):
                    self.fail(f"/fuzzy/blockBy/{i}", "must be a list of compared field names")
                    continue
                out.append(tuple(block))
        if self.problems:
            return None
        # Every check above passed, so these are what they were checked to be.
        assert isinstance(rule, str) and isinstance(distance, int)
        return FuzzySettings(names.index(rule), distance, tuple(out), most)

    def swappable(
        self, value: Any, fields: tuple[ComparedField, ...]
    ) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, list):
            self.fail("/swappablePairs", "must be an array of [field name, field name] pairs")
            return ()
        by_name = {f.name: f for f in fields}
        used: set[str] = set()
        out = []
        for i, pair in enumerate(value):
            pointer = f"/swappablePairs/{i}"
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(n, str) for n in pair)
            ):
                self.fail(pointer, "must be a pair of compared field names")
                continue
            a, b = pair
            if a == b:
                self.fail(pointer, "a field cannot swap with itself")
                continue
            missing = [n for n in (a, b) if n not in by_name]
            if missing:
                self.fail(pointer, f"no compared field named {missing[0]!r}")
                continue
            if used & {a, b}:
                self.fail(pointer, "a field can be in one pair only")
                continue
            fa, fb = by_name[a], by_name[b]
            if (fa.comparator, _plain(fa.params)) != (fb.comparator, _plain(fb.params)):
                self.fail(pointer, "both fields must use the same comparator and params")
                continue
            used |= {a, b}
            out.append((a, b))
        return tuple(out)

    def rules(self, value: Any) -> tuple[IdentifierRule, ...]:
        if not isinstance(value, list) or not value:
            if value is not None:  # a missing member is reported once, by keys()
                self.fail("/identifierRules", "must be a non-empty array")
            return ()
        out: list[IdentifierRule] = []
        seen: set[str] = set()
        for i, rule in enumerate(value):
            pointer = f"/identifierRules/{i}"
            if not isinstance(rule, dict):
                self.fail(pointer, "must be an object")
                continue
            self.keys(rule, pointer, {"name", "supplier", "customer"}, {"unordered"})
            name = self.name(rule.get("name"), f"{pointer}/name")
            if name in seen:
                self.fail(f"{pointer}/name", f"duplicate rule name {name!r}")
            seen.add(name)
            sides = {}
            for side in ("supplier", "customer"):
                sides[side] = self.components(rule.get(side), f"{pointer}/{side}")
            if len(sides["supplier"]) != len(sides["customer"]):
                self.fail(pointer, "supplier and customer keys must have the same length")
            unordered = self.unordered(rule.get("unordered", []), len(sides["supplier"]), pointer)
            out.append(IdentifierRule(name, sides["supplier"], sides["customer"], unordered))
        return tuple(out)

    def unordered(self, value: Any, size: int, pointer: str) -> tuple[tuple[int, int], ...]:
        at = f"{pointer}/unordered"
        if not isinstance(value, list):
            self.fail(at, "must be an array of [position, position] pairs")
            return ()
        out: list[tuple[int, int]] = []
        used: set[int] = set()
        for i, pair in enumerate(value):
            ok = (
                isinstance(pair, list)
                and len(pair) == 2
                and all(type(p) is int and 0 <= p < size for p in pair)
                and pair[0] != pair[1]
            )
            if not ok:
                self.fail(f"{at}/{i}", f"must be two different key positions below {size}")
                continue
            if used & set(pair):
                self.fail(f"{at}/{i}", "a position can be in one pair only")
                continue
            used |= set(pair)
            out.append((pair[0], pair[1]))
        return tuple(out)

    def components(self, value: Any, pointer: str) -> tuple[KeyComponent, ...]:
        if not isinstance(value, list) or not value:
            self.fail(pointer, "must be a non-empty array of key components")
            return ()
        out = []
        for i, component in enumerate(value):
            at = f"{pointer}/{i}"
            if not isinstance(component, dict):
                self.fail(at, "must be an object")
                continue
            self.keys(component, at, {"field"}, {"normaliser", "params"})
            path = self.path(component.get("field"), f"{at}/field")
            normaliser_name = component.get("normaliser", "identifier")
            try:
                normaliser = normalisers.get(normaliser_name)
            except (normalisers.UnknownNormaliser, TypeError):
                self.fail(f"{at}/normaliser", f"unknown normaliser {normaliser_name!r}")
                # Keep its place so the key-length check does not report a second problem.
                out.append(KeyComponent(path, str(normaliser_name)))
                continue
            if pa.types.is_struct(normaliser.arrow_type):
                self.fail(f"{at}/normaliser", f"{normaliser_name!r} cannot be part of a key")
            params = self.params(component.get("params"), f"{at}/params", normaliser.check_params)
            out.append(KeyComponent(path, normaliser_name, params))
        return tuple(out)

    def compared(self, value: Any) -> tuple[ComparedField, ...]:
        if not isinstance(value, list):
            self.fail("/comparedFields", "must be an array")
            return ()
        out = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            pointer = f"/comparedFields/{i}"
            if not isinstance(item, dict):
                self.fail(pointer, "must be an object")
                continue
            self.keys(
                item,
                pointer,
                {"name", "comparator"},
                {"field", "supplierField", "customerField", "params"},
            )
            name = self.name(item.get("name"), f"{pointer}/name")
            if name in seen:
                self.fail(f"{pointer}/name", f"duplicate compared field {name!r}")
            seen.add(name)
            if "field" in item:
                if "supplierField" in item or "customerField" in item:
                    self.fail(pointer, "give either field or supplierField and customerField")
                supplier = customer = self.path(item["field"], f"{pointer}/field")
            elif "supplierField" in item and "customerField" in item:
                supplier = self.path(item["supplierField"], f"{pointer}/supplierField")
                customer = self.path(item["customerField"], f"{pointer}/customerField")
            else:
                self.fail(pointer, "missing field (or supplierField and customerField)")
                continue
            comparator_name = item.get("comparator")
            comparator = _registered_comparator(comparator_name)
            if comparator is None:
                self.fail(f"{pointer}/comparator", f"unknown comparator {comparator_name!r}")
                continue
            params = self.params(item.get("params"), f"{pointer}/params", comparator.check_params)
            out.append(ComparedField(name, supplier, customer, comparator.name, params))
        return tuple(out)

    def csv(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            self.fail("/csvMapping", "must be an object")
            return {}
        out = {}
        for column, path in value.items():
            out[column] = self.path(path, f"/csvMapping/{_escape(column)}")
        return out


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _load_default() -> MatchProfile:
    text = resources.files(__package__).joinpath("default_profile.json").read_text("utf-8")
    return MatchProfile.from_dict(json.loads(text))


DEFAULT_PROFILE: MatchProfile = _load_default()
