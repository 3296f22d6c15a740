"""Incremental re-match equals a full match of the corrected reports, item for item."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panther.matching import DEFAULT_PROFILE
from panther.matching.engine import extract, match
from panther.matching.incremental import Correction, rematch
from panther.matching.reference import reference_match
from tests.unit.matching.test_matching_fidelity import _messy, service


def _full(supplier: list[Any], customer: list[Any]):
    s, c = (
        extract(supplier, DEFAULT_PROFILE, "supplier"),
        extract(customer, DEFAULT_PROFILE, "customer"),
    )
    return s, c, match(s, c, DEFAULT_PROFILE)


def _check(old_s, old_c, new_s, new_c, s_fix, c_fix):
    s0, c0, previous = _full(old_s, old_c)
    s1, c1, expected = _full(new_s, new_c)
    result, stats = rematch(previous, (s0, c0), (s1, c1), (s_fix, c_fix), DEFAULT_PROFILE)
    assert list(result.item_dicts()) == list(expected.item_dicts())
    assert result.counts == expected.counts
    return stats


def test_a_corrected_identifier_moves_a_record_from_missing_to_matched() -> None:
    supplier = [service(id=f"C{i}", a=f"A{i}", b=f"B{i}") for i in range(50)]
    customer = [service(external=f"C{i}", a=f"A{i}", b=f"B{i}") for i in range(50)]
    customer[7] = service(external="WRONG", a="A7", b="Q")  # missing on both sides
    fixed = copy.deepcopy(customer)
    fixed[7] = service(external="C7", a="A7", b="B7")
    stats = _check(supplier, customer, supplier, fixed, Correction.in_place(50, []),
                   Correction.in_place(50, [7]))  # fmt: skip
    # Only the corrected record and the one its keys reach were re-matched.
    assert (stats["supplierRematched"], stats["customerRematched"]) == (1, 1)
    assert stats["itemsKept"] == 49


def test_records_removed_and_added_in_a_new_version() -> None:
    supplier = [service(id=f"C{i}", a=f"A{i}", b=f"B{i}") for i in range(20)]
    customer = [service(external=f"C{i}", a=f"A{i}", b=f"B{i}") for i in range(20)]
    added = [service(external="C5", a="A5", b="B5"), service(external="C3", a="A3", b="B3")]
    new_customer = customer[:5] + customer[6:] + added
    old_to_new = np.array([i if i < 5 else (-1 if i == 5 else i - 1) for i in range(20)])
    c_fix = Correction(old_to_new, np.array([19, 20]))
    _check(supplier, customer, supplier, new_customer, Correction.in_place(20, []), c_fix)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_messy("id"), min_size=1, max_size=10),
    st.lists(_messy("external"), min_size=1, max_size=10),
    st.data(),
)
def test_rematch_equals_full_match(supplier: list[Any], customer: list[Any], data: Any) -> None:
    new_s, new_c = list(supplier), list(customer)
    s_changed, c_changed = [], []
    for records, changed, strategy in ((new_s, s_changed, _messy("id")),
                                       (new_c, c_changed, _messy("external"))):  # fmt: skip
        for i in data.draw(st.lists(st.integers(0, len(records) - 1), max_size=3, unique=True)):
            records[i] = data.draw(strategy)
            changed.append(i)
    _check(supplier, customer, new_s, new_c, Correction.in_place(len(supplier), s_changed),
           Correction.in_place(len(customer), c_changed))  # fmt: skip


_links = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_messy("id"), min_size=1, max_size=10),
    st.lists(_messy("external"), min_size=1, max_size=10),
    _links,
    _links,
)
def test_confirmed_links_engine_reference_and_rematch_agree(
    supplier: list[Any], customer: list[Any], before: list[Any], added: list[Any]
) -> None:
    """Links (possibly to records that do not exist, or claiming a record twice) behave the
    same in the engine, the reference, and an incremental re-match that adds some."""
    links = [(s, c) for s, c in before if s < len(supplier) and c < len(customer)] + before
    s0, c0 = (
        extract(supplier, DEFAULT_PROFILE, "supplier"),
        extract(customer, DEFAULT_PROFILE, "customer"),
    )
    previous = match(s0, c0, DEFAULT_PROFILE, links)
    assert list(previous.item_dicts()) == reference_match(
        supplier, customer, DEFAULT_PROFILE, links
    )
    all_links = links + added
    expected = match(s0, c0, DEFAULT_PROFILE, all_links)
    assert list(expected.item_dicts()) == reference_match(
        supplier, customer, DEFAULT_PROFILE, all_links
    )
    result, _ = rematch(
        previous,
        (s0, c0),
        (s0, c0),
        (Correction.in_place(len(supplier), []), Correction.in_place(len(customer), [])),
        DEFAULT_PROFILE,
        all_links,
    )
    assert list(result.item_dicts()) == list(expected.item_dicts())
