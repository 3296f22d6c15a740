"""The matching engine with the default profile reproduces the generator's ground truth.

The truth is built from the noise each service got, never from an engine run; a failure
here means one of the two is wrong, and the scorer's figures say which classes disagree.
"""

from __future__ import annotations

import pytest

from panther.demo.generator import CLASSES, generate_pair
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
