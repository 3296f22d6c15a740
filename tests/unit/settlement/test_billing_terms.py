"""Relation terms: strict parsing from JSON, every problem at once with its pointer."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from panther.settlement import (
    InvalidTerms,
    PeriodKind,
    ProrationRule,
    Rounding,
    Terms,
)


def pointers(raw: Any) -> list[str]:
    with pytest.raises(InvalidTerms) as info:
        Terms.from_json(raw)
    return [p.pointer for p in info.value.problems]


def test_todays_relation_terms_parse_with_defaults() -> None:
    terms = Terms.from_json({"currency": "EUR", "billingPeriod": "month"})
    assert terms == Terms()
    assert terms.currency == "EUR"
    assert terms.billing_period is PeriodKind.MONTH
    assert terms.proration is ProrationRule.ACTUAL_DAYS
    assert terms.tax_rate == Decimal(0)
    assert terms.rounding is Rounding.HALF_UP
    assert terms.settlement_rail == "manual"
    assert terms.exponent == 2


def test_the_relations_default_terms_parse() -> None:
    # The terms the relation service stores today must stay readable by billing.
    from panther.server.services.relations import DEFAULT_TERMS

    assert Terms.from_json(DEFAULT_TERMS) == Terms()


@pytest.mark.parametrize("raw", [None, {}])
def test_missing_terms_take_every_default(raw: Any) -> None:
    assert Terms.from_json(raw) == Terms()


def test_every_term() -> None:
    raw = {
        "currency": "JPY",
        "billingPeriod": "quarter",
        "proration": "thirtyDayMonth",
        "taxRate": "0.10",
        "rounding": "halfEven",
        "settlementRail": "token",
    }
    terms = Terms.from_json(raw)
    assert terms == Terms(
        currency="JPY",
        billing_period=PeriodKind.QUARTER,
        proration=ProrationRule.THIRTY_DAY_MONTH,
        tax_rate=Decimal("0.1"),
        rounding=Rounding.HALF_EVEN,
        settlement_rail="token",
    )
    assert terms.exponent == 0
    assert terms.to_json() == {**raw, "taxRate": "0.1"}
    assert Terms.from_json(terms.to_json()) == terms


def test_to_json_has_every_key_as_plain_strings() -> None:
    out = Terms().to_json()
    assert out == {
        "currency": "EUR",
        "billingPeriod": "month",
        "proration": "actualDays",
        "taxRate": "0",
        "rounding": "halfUp",
        "settlementRail": "manual",
    }
    assert all(type(v) is str for v in out.values())


@pytest.mark.parametrize(("text", "rate"), [("0", "0"), ("1", "1"), ("0.19", "0.19"),
                                            ("0.000", "0"), ("0.055", "0.055")])  # fmt: skip
def test_tax_rates(text: str, rate: str) -> None:
    assert Terms.from_json({"taxRate": text}).tax_rate == Decimal(rate)


@pytest.mark.parametrize(
    "bad", ["19%", "-0.1", "1.5", "2", "0.19 ", "1e-2", ".19", "0019", "", "NaN", 0.19, 0, None]
)
def test_bad_tax_rates(bad: Any) -> None:
    assert pointers({"taxRate": bad}) == ["/taxRate"]


def test_every_problem_at_once() -> None:
    raw = {
        "currency": "eur",
        "billingPeriod": "week",
        "proration": "daily",
        "taxRate": 0.19,
        "rounding": "up",
        "settlementRail": "crypto",
        "tax": "0.19",
    }
    with pytest.raises(InvalidTerms) as info:
        Terms.from_json(raw)
    by_pointer = {p.pointer: p for p in info.value.problems}
    assert sorted(by_pointer) == [
        "/billingPeriod",
        "/currency",
        "/proration",
        "/rounding",
        "/settlementRail",
        "/tax",
        "/taxRate",
    ]
    assert by_pointer["/tax"].code == "unknownTerm"
    assert by_pointer["/currency"].code == "unknownCurrency"
    assert "month, quarter" in by_pointer["/billingPeriod"].message
    assert "/billingPeriod" in str(info.value)


@pytest.mark.parametrize("currency", ["XXX", "EURO", "", "usd"])
def test_unknown_currencies(currency: str) -> None:
    assert pointers({"currency": currency}) == ["/currency"]


@pytest.mark.parametrize("key", ["currency", "billingPeriod", "proration", "rounding",
                                 "settlementRail"])  # fmt: skip
def test_non_string_values(key: str) -> None:
    with pytest.raises(InvalidTerms) as info:
        Terms.from_json({key: 978})
    assert [(p.pointer, p.message) for p in info.value.problems] == [
        (f"/{key}", "must be a string")
    ]


@pytest.mark.parametrize("raw", [[], "EUR", 1])
def test_terms_must_be_an_object(raw: Any) -> None:
    assert pointers(raw) == [""]


def test_unknown_key_pointer_is_escaped() -> None:
    assert pointers({"a/b~c": 1}) == ["/a~1b~0c"]


def test_direct_construction_is_checked_too() -> None:
    with pytest.raises(InvalidTerms) as info:
        Terms(currency="XYZ", tax_rate=0.19)  # type: ignore[arg-type]
    assert [p.pointer for p in info.value.problems] == ["/currency", "/taxRate"]
    with pytest.raises(InvalidTerms):
        Terms(tax_rate=Decimal("NaN"))
    with pytest.raises(InvalidTerms):
        Terms(billing_period="week")  # type: ignore[arg-type]
    terms = Terms(billing_period="quarter", rounding="halfEven")  # type: ignore[arg-type]
    assert terms.billing_period is PeriodKind.QUARTER
    assert terms.rounding is Rounding.HALF_EVEN


def test_terms_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Terms().currency = "USD"  # type: ignore[misc]
