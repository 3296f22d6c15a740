"""The matching engine with the default profile reproduces the generator's ground truth.

The truth is built from the noise each service got, never from an engine run; a failure
here means one of the two is wrong, and the scorer's figures say which classes disagree.
"""

from __future__ import annotations

from typing import Any

import pytest

from panther.demo.generator import (
    CLASSES,
    ENDS_SWAPPED,
    RULE_CIRCUIT_ID,
    RULE_COMPOSITE,
    RULE_ORDER_REFERENCE,
    generate_noisy_pair,
    generate_pair,
)
from panther.demo.scoring import predicted_from_items, score

engine = pytest.importorskip("panther.matching.engine")
profile_module = pytest.importorskip("panther.matching.profile")


@pytest.mark.parametrize("seed", [7, 2024])
def test_default_profile_scores_perfectly_on_5000_services(seed: int) -> None:
    pair = generate_pair(5000, seed=seed)
    result = engine.match_records(pair.supplier, pair.customer, profile_module.DEFAULT_PROFILE)
    quality = score(pair.truth, predicted_from_items(result.item_dicts()))
    for name in CLASSES:
        entry = quality["classes"][name]
        assert entry["support"] > 0, name
        assert (entry["precision"], entry["recall"]) == (1.0, 1.0), (name, entry)
    assert quality["counts"]["unpredicted"] == quality["counts"]["conflicting"] == 0
    assert quality["links"]["precision"] == quality["links"]["recall"] == 1.0
    assert quality["differences"]["recall"] == 1.0


def test_reference_matcher_agrees_with_the_truth_too() -> None:
    reference = pytest.importorskip("panther.matching.reference")
    pair = generate_pair(2000, seed=99)
    items = reference.reference_match(pair.supplier, pair.customer, profile_module.DEFAULT_PROFILE)
    quality = score(pair.truth, predicted_from_items(items))
    assert quality["counts"]["correct"] == quality["counts"]["records"]
    assert quality["links"]["recall"] == quality["differences"]["recall"] == 1.0


@pytest.mark.parametrize("seed", [7, 2024])
def test_noisy_pair_with_its_profile_scores_perfectly(seed: int) -> None:
    """Every noise kind at once, with the relation's profile the generator returns: classes,
    links, differing fields, the rule that links each pair and the endsSwapped reason."""
    pair = generate_noisy_pair(6000, seed=seed)
    profile = profile_module.MatchProfile.from_dict(pair.profile)
    result = engine.match_records(pair.supplier, pair.customer, profile)
    _assert_perfect(score(pair.truth, predicted_from_items(result.item_dicts())))


def test_reference_matcher_agrees_with_the_noisy_truth_too() -> None:
    reference = pytest.importorskip("panther.matching.reference")
    pair = generate_noisy_pair(2000, seed=99)
    profile = profile_module.MatchProfile.from_dict(pair.profile)
    items = reference.reference_match(pair.supplier, pair.customer, profile)
    _assert_perfect(score(pair.truth, predicted_from_items(items)))


def _assert_perfect(quality: dict[str, Any]) -> None:
    for name in CLASSES:
        entry = quality["classes"][name]
        assert entry["support"] > 0, name
        assert (entry["precision"], entry["recall"]) == (1.0, 1.0), (name, entry)
    assert quality["counts"]["unpredicted"] == quality["counts"]["conflicting"] == 0
    assert quality["links"]["precision"] == quality["links"]["recall"] == 1.0
    assert quality["differences"]["recall"] == 1.0
    assert set(quality["rules"]) == {RULE_CIRCUIT_ID, RULE_ORDER_REFERENCE, RULE_COMPOSITE}
    assert set(quality["reasons"]) == {ENDS_SWAPPED}
    for label, entry in (*quality["rules"].items(), *quality["reasons"].items()):
        assert (entry["precision"], entry["recall"]) == (1.0, 1.0), (label, entry)


def test_the_fuzzy_rule_proposes_exactly_the_typo_pairs() -> None:
    """The default profile's fuzzy rule proposes each typo pair of the truth as a candidate
    (and nothing else here), while both records stay missing: candidates are no matches."""
    fuzzy = pytest.importorskip("panther.matching.fuzzy")
    pair = generate_pair(4000, seed=3)
    profile = profile_module.DEFAULT_PROFILE
    supplier = engine.extract(pair.supplier, profile, "supplier")
    customer = engine.extract(pair.customer, profile, "customer")
    result = engine.match(supplier, customer, profile)
    items = {item["itemNo"]: item for item in result.item_dicts()}
    quality = score(pair.truth, predicted_from_items(items.values()))
    assert quality["counts"]["correct"] == quality["counts"]["records"]
    proposed = {
        (
            items[row["supplier_item"]]["supplierRefs"][0],
            items[row["customer_item"]]["customerRefs"][0],
        )
        for row in fuzzy.suggest(supplier, customer, result, profile).to_pylist()
    }
    assert len(pair.truth.candidates) > 10
    assert proposed == set(pair.truth.candidates.items())
