"""Properties over random statements: totals are the sums of the lines (in minor units and in
the canonical JSON), each line is rounded once and by at most half a minor unit, held-out
items stay out of the totals, and building is idempotent and order-blind."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from panther.settlement import (
    CURRENCY_EXPONENTS,
    BillingStatement,
    Credit,
    HeldOutItem,
    LineKind,
    OneTimeCharge,
    PeriodKind,
    ServiceCharge,
    Terms,
    build_statement,
    period_containing,
    prorate,
)

days = st.dates(min_value=date(2019, 1, 1), max_value=date(2027, 12, 31))
terms_st = st.builds(
    Terms,
    currency=st.sampled_from(["EUR", "JPY", "KWD", "USD"]),
    billing_period=st.sampled_from(list(PeriodKind)),
    proration=st.sampled_from(["actualDays", "thirtyDayMonth", "none"]),
    tax_rate=st.sampled_from([Decimal(x) for x in ("0", "0.19", "0.2", "0.055", "0.07", "1")]),
    rounding=st.sampled_from(["halfUp", "halfEven"]),
)


def money(max_units: int = 10**9) -> st.SearchStrategy[Decimal]:
    """Exact non-negative decimals with 0 to 5 places (rates may be finer than minor units)."""
    return st.builds(
        lambda units, places: Decimal(units).scaleb(-places),
        st.integers(0, max_units),
        st.integers(0, 5),
    )


@st.composite
def inputs(draw: st.DrawFn) -> dict[str, Any]:
    terms = draw(terms_st)
    cur = terms.currency
    period = period_containing(draw(days), terms.billing_period)
    services = []
    # dates around the period, so that most services and charges touch it
    near = st.integers(-400, 120).map(lambda n: period.start + timedelta(days=n))
    for i in range(draw(st.integers(0, 12))):
        start = draw(near)
        length = draw(st.one_of(st.none(), st.integers(0, 500)))
        one_time = tuple(
            OneTimeCharge(draw(near), draw(money()), cur, draw(st.sampled_from(["", "install"])))
            for _ in range(draw(st.integers(0, 3)))
        )
        end = None if length is None else start + timedelta(days=length)
        services.append(ServiceCharge(f"P{i}", draw(money()), cur, start, end, one_time))
    credits = [
        Credit(f"TT-{i}", draw(money()).max(Decimal(1)), cur, draw(st.sampled_from([None, "P0"])))
        for i in range(draw(st.integers(0, 4)))
    ]
    held_out = [
        HeldOutItem(f"H{i}", draw(st.sampled_from(["disputed", "unmatched"])), draw(money()), cur)
        for i in range(draw(st.integers(0, 4)))
    ]
    return {
        "relation_id": "rel-1",
        "supplier": "carrier-a",
        "customer": "carrier-b",
        "terms": terms,
        "period": period,
        "services": services,
        "credits": credits,
        "held_out": held_out,
    }


@settings(max_examples=200)
@given(inputs())
def test_totals_are_the_sums_of_the_lines(kw: dict[str, Any]) -> None:
    statement = build_statement(**kw)
    totals = statement.totals
    assert totals.amount == sum(line.amount for line in statement.lines)
    assert totals.tax == sum(line.tax for line in statement.lines)
    assert totals.total == sum(line.total for line in statement.lines) == totals.amount + totals.tax
    assert totals.held_out == sum(item.amount_at_stake for item in statement.held_out)
    # the same in the canonical JSON both carriers sign, summed as exact decimals
    document = statement.to_json()
    for key in ("amount", "tax", "total"):
        assert Decimal(document["totals"][key]) == sum(
            (Decimal(line[key]) for line in document["lines"]), start=Decimal(0)
        )
    assert Decimal(document["totals"]["heldOut"]) == sum(
        (Decimal(item["amountAtStake"]) for item in document["heldOut"]), start=Decimal(0)
    )
    # held-out items never reach the totals: dropping them changes nothing but the list
    without = build_statement(**(kw | {"held_out": []}))
    assert (without.totals.amount, without.totals.tax) == (totals.amount, totals.tax)


@settings(max_examples=200)
@given(inputs())
def test_each_line_is_rounded_once_within_half_a_minor_unit(kw: dict[str, Any]) -> None:
    statement = build_statement(**kw)
    terms: Terms = kw["terms"]
    scale = 10 ** CURRENCY_EXPONENTS[terms.currency]
    half = Fraction(1, 2)
    services = {s.product_id: s for s in kw["services"]}
    for line in statement.lines:
        if line.kind is LineKind.RECURRING:
            service = services[line.product_id]
            due = prorate(statement.period, service.start, service.end, terms.proration)
            assert (line.days, line.months) == (due.days, due.months)
            exact = Fraction(line.rate) * due.months * scale
        else:
            exact = Fraction(line.rate) * scale
        assert abs(line.amount - exact) <= half
        assert abs(line.tax - Fraction(line.amount) * Fraction(terms.tax_rate)) <= half
        assert (line.amount < 0) == (line.kind is LineKind.CREDIT and line.amount != 0)
        assert line.currency == terms.currency


@settings(max_examples=100)
@given(inputs(), st.randoms(use_true_random=False))
def test_idempotent_and_blind_to_input_order(kw: dict[str, Any], rnd: Any) -> None:
    first: BillingStatement = build_statement(**kw)
    shuffled = dict(kw)
    for key in ("services", "credits", "held_out"):
        items = list(kw[key])
        rnd.shuffle(items)
        shuffled[key] = items
    again = build_statement(**shuffled)
    assert again.canonical_json == first.canonical_json
    assert again.statement_hash == first.statement_hash
    assert again.lines_root == first.lines_root
