"""The scorer: perfect on the truth itself, and a wrong prediction lowers exactly the
precision and recall it should."""

from __future__ import annotations

from typing import Any

import pytest

from panther.demo.generator import (
    AMBIGUOUS,
    CLASSES,
    ENDS_SWAPPED,
    MATCHED,
    MISSING_AT_CUSTOMER,
    PARTIAL,
    RULE_COMPOSITE,
    RULE_ORDER_REFERENCE,
    GeneratedPair,
    GroundTruth,
    generate_noisy_pair,
    generate_pair,
)
from panther.demo.scoring import CONFLICTING, predicted_from_items, score


def items_from_truth(truth: GroundTruth) -> list[dict[str, Any]]:
    """The items a perfect engine would return, in the engine's item format."""
    items: list[dict[str, Any]] = []
    for s, c in enumerate(truth.supplier_partners):
        if c is not None:
            e = truth.supplier(s)
            items.append(
                {
                    "class": e.expected_class,
                    "reason": None,
                    "supplierRefs": [s],
                    "customerRefs": [c],
                    "differences": [{"field": name} for name in e.differing] or None,
                }
            )
        elif truth.supplier_classes[s] != AMBIGUOUS:
            items.append(
                {
                    "class": "mismatch",
                    "reason": truth.supplier_classes[s],
                    "supplierRefs": [s],
                    "customerRefs": [],
                }
            )
    for c, klass in enumerate(truth.customer_classes):
        if truth.customer_partners[c] is None and klass != AMBIGUOUS:
            items.append(
                {"class": "mismatch", "reason": klass, "supplierRefs": [], "customerRefs": [c]}
            )
    ambiguous_s = [s for s, k in enumerate(truth.supplier_classes) if k == AMBIGUOUS]
    ambiguous_c = [c for c, k in enumerate(truth.customer_classes) if k == AMBIGUOUS]
    # One group holding every ambiguous record is enough for class-level scoring.
    items.append(
        {
            "class": "mismatch",
            "reason": AMBIGUOUS,
            "supplierRefs": ambiguous_s,
            "customerRefs": ambiguous_c,
        }
    )
    return items


@pytest.fixture(scope="module")
def pair() -> GeneratedPair:
    return generate_pair(3000, seed=21)


def test_truth_scored_against_itself_is_perfect(pair: GeneratedPair) -> None:
    result = score(pair.truth, predicted_from_items(items_from_truth(pair.truth)))
    counts = pair.truth.counts()
    for name in CLASSES:
        entry = result["classes"][name]
        assert entry["precision"] == entry["recall"] == 1.0
        assert entry["support"] == entry["predicted"]
        assert entry["support"] == counts["supplier"][name] + counts["customer"][name]
    assert result["counts"]["correct"] == result["counts"]["records"]
    assert result["counts"]["records"] == len(pair.supplier) + len(pair.customer)
    assert result["links"]["precision"] == result["links"]["recall"] == 1.0
    assert result["differences"]["recall"] == 1.0
    assert result["classes"][PARTIAL]["support"] > 0


def test_a_matched_record_called_partial_lowers_matched_recall_and_partial_precision(
    pair: GeneratedPair,
) -> None:
    items = items_from_truth(pair.truth)
    wrong = next(i for i in items if i["class"] == MATCHED)
    wrong["class"] = PARTIAL
    result = score(pair.truth, predicted_from_items(items))
    matched, partial = result["classes"][MATCHED], result["classes"][PARTIAL]
    # One item covers one supplier and one customer record: two records moved.
    assert matched["recall"] == (matched["support"] - 2) / matched["support"]
    assert matched["precision"] == 1.0
    assert partial["precision"] == partial["support"] / (partial["support"] + 2)
    assert partial["recall"] == 1.0
    for name in (MISSING_AT_CUSTOMER, AMBIGUOUS):
        assert result["classes"][name]["precision"] == result["classes"][name]["recall"] == 1.0


def test_a_wrong_link_is_counted_as_such(pair: GeneratedPair) -> None:
    items = items_from_truth(pair.truth)
    linked = [i for i in items if i["class"] == MATCHED]
    linked[0]["customerRefs"], linked[1]["customerRefs"] = (
        linked[1]["customerRefs"],
        linked[0]["customerRefs"],
    )
    result = score(pair.truth, predicted_from_items(items))
    assert result["links"]["correct"] == result["links"]["expected"] - 2
    assert result["classes"][MATCHED]["recall"] == 1.0  # classes alone cannot see it


def test_unpredicted_and_conflicting_records_lower_recall_only(pair: GeneratedPair) -> None:
    items = items_from_truth(pair.truth)
    missing = next(i for i in items if i.get("reason") == MISSING_AT_CUSTOMER)
    items.remove(missing)
    matched = next(i for i in items if i["class"] == MATCHED)
    items.append({**matched, "class": PARTIAL})  # the same records claimed twice
    result = score(pair.truth, predicted_from_items(items))
    assert result["counts"]["unpredicted"] == 1
    assert result["counts"]["conflicting"] == 2
    entry = result["classes"][MISSING_AT_CUSTOMER]
    assert entry["recall"] == (entry["support"] - 1) / entry["support"]
    assert entry["precision"] == 1.0
    assert result["classes"][PARTIAL]["precision"] == 1.0


def test_predicted_from_items_reads_the_reason_of_mismatches() -> None:
    predicted = predicted_from_items(
        [
            {"class": "matched", "reason": None, "supplierRefs": [0], "customerRefs": [2]},
            {
                "class": "mismatch",
                "reason": "ambiguous",
                "supplierRefs": [1, 3],
                "customerRefs": [0],
            },
            {
                "class": "mismatch",
                "reason": "missingAtSupplier",
                "supplierRefs": [],
                "customerRefs": [1],
            },
            {
                "class": "partial",
                "reason": None,
                "supplierRefs": [2],
                "customerRefs": [3],
                "differences": [{"field": "status"}],
            },
            {"class": "matched", "supplierRefs": [0], "customerRefs": [2]},
        ]
    )
    assert dict(predicted.supplier) == {0: "matched", 1: "ambiguous", 3: "ambiguous", 2: "partial"}
    assert dict(predicted.customer) == {
        2: "matched",
        0: "ambiguous",
        1: "missingAtSupplier",
        3: "partial",
    }
    assert dict(predicted.links) == {0: 2, 2: 3}
    assert dict(predicted.differing) == {2: frozenset({"status"})}
    assert CONFLICTING not in predicted.supplier.values()


def test_refs_outside_the_truth_are_reported(pair: GeneratedPair) -> None:
    items = items_from_truth(pair.truth)
    items.append(
        {"class": "mismatch", "reason": AMBIGUOUS, "supplierRefs": [10**9], "customerRefs": []}
    )
    result = score(pair.truth, predicted_from_items(items))
    assert result["counts"]["unknownRefs"] == 1
    assert result["classes"][AMBIGUOUS]["precision"] == 1.0


def test_rules_and_reasons_are_scored_per_label() -> None:
    truth = generate_noisy_pair(1500, seed=8).truth
    items = []
    for s, c in enumerate(truth.supplier_partners):
        if c is not None:
            e = truth.supplier(s)
            items.append(
                {
                    "class": e.expected_class,
                    "reason": e.reason,
                    "rule": e.rule,
                    "supplierRefs": [s],
                    "customerRefs": [c],
                }
            )
    perfect = score(truth, predicted_from_items(items))
    assert perfect["reasons"][ENDS_SWAPPED]["recall"] == 1.0
    assert all(e["precision"] == e["recall"] == 1.0 for e in perfect["rules"].values())
    composite = next(i for i in items if i["rule"] == RULE_COMPOSITE)
    composite["rule"] = RULE_ORDER_REFERENCE
    swapped = next(i for i in items if i["reason"] == ENDS_SWAPPED)
    swapped["reason"] = None
    result = score(truth, predicted_from_items(items))
    rules, reasons = result["rules"], result["reasons"]
    assert rules[RULE_COMPOSITE]["precision"] == 1.0
    assert rules[RULE_COMPOSITE]["recall"] == 1 - 1 / rules[RULE_COMPOSITE]["support"]
    wrong = rules[RULE_ORDER_REFERENCE]
    assert wrong["precision"] == wrong["support"] / (wrong["support"] + 1)
    assert reasons[ENDS_SWAPPED]["recall"] == 1 - 1 / reasons[ENDS_SWAPPED]["support"]
    assert result["links"]["recall"] == 1.0  # the links themselves are right
