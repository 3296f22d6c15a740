"""Score a match result against a generated pair's ground truth: precision and recall per
class over every record of both sides, and how many expected links were found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from panther.demo.generator import CLASSES, GroundTruth

__all__ = ["CONFLICTING", "Prediction", "predicted_from_items", "score"]

# A record that several items place in different classes: never right, whatever the truth.
CONFLICTING = "conflicting"
_LINKED = ("matched", "partial")


@dataclass(frozen=True)
class Prediction:
    """Predicted class per record index of each side, the 1:1 links (supplier -> customer)
    and the differing compared-field names of each partial link (by supplier index)."""

    supplier: Mapping[int, str]
    customer: Mapping[int, str]
    links: Mapping[int, int]
    differing: Mapping[int, frozenset[str]]
    # By supplier index of a 1:1 link: the rule that linked it, and its reason if any.
    rules: Mapping[int, str | None] = field(default_factory=lambda: MappingProxyType({}))
    reasons: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))


def predicted_from_items(items: Iterable[Mapping[str, Any]]) -> Prediction:
    """Read a match result's items (``class``, ``reason``, ``supplierRefs``, ``customerRefs``;
    refs are 0-based record positions; ``differences``, when present, lists ``{"field": ...}``).
    A record's class is the item's ``reason`` for a mismatch, else its ``class``."""
    supplier: dict[int, str] = {}
    customer: dict[int, str] = {}
    links: dict[int, int] = {}
    differing: dict[int, frozenset[str]] = {}
    rules: dict[int, str | None] = {}
    reasons: dict[int, str] = {}
    for item in items:
        klass = item["class"]
        if klass == "mismatch":
            klass = item.get("reason") or "mismatch"
        sup_refs = [int(r) for r in item.get("supplierRefs") or ()]
        cus_refs = [int(r) for r in item.get("customerRefs") or ()]
        for refs, side in ((sup_refs, supplier), (cus_refs, customer)):
            for ref in refs:
                seen = side.get(ref)
                side[ref] = klass if seen is None or seen == klass else CONFLICTING
        if klass in _LINKED and len(sup_refs) == 1 and len(cus_refs) == 1:
            links[sup_refs[0]] = cus_refs[0]
            rules[sup_refs[0]] = item.get("rule")
            if item.get("reason"):
                reasons[sup_refs[0]] = item["reason"]
            if klass == "partial":
                names = frozenset(d["field"] for d in item.get("differences") or ())
                differing[sup_refs[0]] = names
    return Prediction(
        MappingProxyType(supplier),
        MappingProxyType(customer),
        MappingProxyType(links),
        MappingProxyType(differing),
        MappingProxyType(rules),
        MappingProxyType(reasons),
    )


def _ratio(numerator: int, denominator: int) -> float:
    # Nothing predicted (or nothing expected) means no error of that kind: 1.0, not 0/0.
    return 1.0 if denominator == 0 else numerator / denominator


def score(truth: GroundTruth, predicted: Prediction) -> dict[str, Any]:
    """Precision, recall, support and predicted count per class over all records of both
    sides, plus counts and link accuracy; per identifier rule and per reason of a linked
    pair (``endsSwapped``), the same over links (right only when the link is right too).

    Records the prediction does not mention count against recall; refs outside the truth's
    records are counted in ``counts.unknownRefs`` and otherwise ignored.
    """
    support = dict.fromkeys(CLASSES, 0)
    made = dict.fromkeys(CLASSES, 0)
    hits = dict.fromkeys(CLASSES, 0)
    unpredicted = conflicting = unknown = 0
    sides = (
        (truth.supplier_classes, predicted.supplier),
        (truth.customer_classes, predicted.customer),
    )
    for expected_classes, guesses in sides:
        size = len(expected_classes)
        for index, expected in enumerate(expected_classes):
            support[expected] += 1
            guess = guesses.get(index)
            if guess is None:
                unpredicted += 1
            elif guess == expected:
                hits[expected] += 1
        for index, guess in guesses.items():
            if not 0 <= index < size:
                unknown += 1
                continue
            if guess == CONFLICTING:
                conflicting += 1
            elif guess in made:
                made[guess] += 1
    classes = {
        name: {
            "precision": _ratio(hits[name], made[name]),
            "recall": _ratio(hits[name], support[name]),
            "support": support[name],
            "predicted": made[name],
        }
        for name in CLASSES
    }
    expected_links = {s: c for s, c in enumerate(truth.supplier_partners) if c is not None}
    correct_links = sum(1 for s, c in predicted.links.items() if expected_links.get(s) == c)
    correct_fields = sum(
        1
        for s, names in truth.differing.items()
        if predicted.differing.get(s) == frozenset(names)
        and predicted.links.get(s) == expected_links.get(s)
    )
    records = len(truth.supplier_classes) + len(truth.customer_classes)
    correct = sum(hits.values())
    return {
        "classes": classes,
        "counts": {
            "records": records,
            "supplierRecords": len(truth.supplier_classes),
            "customerRecords": len(truth.customer_classes),
            "correct": correct,
            "accuracy": _ratio(correct, records),
            "unpredicted": unpredicted,
            "conflicting": conflicting,
            "unknownRefs": unknown,
        },
        "links": {
            "expected": len(expected_links),
            "predicted": len(predicted.links),
            "correct": correct_links,
            "precision": _ratio(correct_links, len(predicted.links)),
            "recall": _ratio(correct_links, len(expected_links)),
        },
        # Partial pairs whose link and set of differing fields are both right.
        "differences": {
            "expected": len(truth.differing),
            "correct": correct_fields,
            "recall": _ratio(correct_fields, len(truth.differing)),
        },
        "rules": _by_label(
            {s: truth.supplier_rules[s] for s in expected_links},
            predicted.rules,
            expected_links,
            predicted.links,
        ),
        "reasons": _by_label(
            dict(truth.reasons), predicted.reasons, expected_links, predicted.links
        ),
    }


def _by_label(
    expected: Mapping[int, str | None],
    made: Mapping[int, str | None],
    expected_links: Mapping[int, int],
    links: Mapping[int, int],
) -> dict[str, dict[str, Any]]:
    """Precision and recall per label (rule or reason) of linked supplier records."""
    labels = sorted({str(v) for v in expected.values() if v} | {str(v) for v in made.values() if v})
    out = {}
    for label in labels:
        want = {s for s, v in expected.items() if v == label}
        got = {s for s, v in made.items() if v == label}
        hits = sum(1 for s in want & got if links.get(s) == expected_links.get(s))
        out[label] = {
            "precision": _ratio(hits, len(got)),
            "recall": _ratio(hits, len(want)),
            "support": len(want),
            "predicted": len(got),
        }
    return out
