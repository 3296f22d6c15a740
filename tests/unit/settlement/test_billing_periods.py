"""Billing periods and proration: every rule, worked out by hand, and their edge cases.

Service dates are half-open: active from `start` (included) to `end` (excluded).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panther.settlement import (
    BillingPeriod,
    EndBeforeStart,
    InvalidPeriod,
    PeriodKind,
    ProrationRule,
    active_days,
    month_fraction,
    period_containing,
    prorate,
)

ACTUAL, THIRTY, NONE = (
    ProrationRule.ACTUAL_DAYS,
    ProrationRule.THIRTY_DAY_MONTH,
    ProrationRule.NONE,
)
JAN24, FEB24, FEB23, APR24 = (
    BillingPeriod.month(2024, 1),
    BillingPeriod.month(2024, 2),
    BillingPeriod.month(2023, 2),
    BillingPeriod.month(2024, 4),
)
Q1_24 = BillingPeriod.quarter(2024, 1)
d = date


# ---- periods --------------------------------------------------------------------------------


def test_month_period() -> None:
    assert (FEB24.start, FEB24.end, FEB24.last_day) == (
        d(2024, 2, 1),
        d(2024, 3, 1),
        d(2024, 2, 29),
    )
    assert (FEB24.days, FEB23.days, JAN24.days, APR24.days) == (29, 28, 31, 30)
    assert FEB24.label == "2024-02"
    assert FEB24.size == 1
    assert FEB24.months() == (FEB24,)
    assert BillingPeriod.month(2024, 12).end == d(2025, 1, 1)
    assert FEB24.to_json() == {
        "kind": "month",
        "label": "2024-02",
        "start": "2024-02-01",
        "end": "2024-03-01",
    }


def test_quarter_period() -> None:
    assert (Q1_24.start, Q1_24.end, Q1_24.last_day) == (
        d(2024, 1, 1),
        d(2024, 4, 1),
        d(2024, 3, 31),
    )
    assert Q1_24.days == 31 + 29 + 31
    assert BillingPeriod.quarter(2023, 1).days == 31 + 28 + 31
    assert Q1_24.label == "2024-Q1"
    assert Q1_24.months() == (JAN24, FEB24, BillingPeriod.month(2024, 3))
    q4 = BillingPeriod.quarter(2024, 4)
    assert (q4.start, q4.end, q4.label) == (d(2024, 10, 1), d(2025, 1, 1), "2024-Q4")


@pytest.mark.parametrize("label", ["2024-01", "2024-12", "2024-Q1", "2024-Q4", "0001-01"])
def test_labels_round_trip(label: str) -> None:
    assert BillingPeriod.from_label(label).label == label


@pytest.mark.parametrize(
    "label", ["2024-13", "2024-00", "2024-Q5", "2024-Q0", "24-01", "2024-1", "0000-01",
              " 2024-01", "2024-01-01", "2024-q1", "9999-12", "9999-Q4", ""]
)  # fmt: skip
def test_bad_labels(label: str) -> None:
    with pytest.raises(InvalidPeriod):
        BillingPeriod.from_label(label)


def test_a_period_starts_on_its_first_day() -> None:
    with pytest.raises(InvalidPeriod):
        BillingPeriod(PeriodKind.MONTH, d(2024, 2, 2))
    with pytest.raises(InvalidPeriod):
        BillingPeriod(PeriodKind.QUARTER, d(2024, 2, 1))
    with pytest.raises(InvalidPeriod):
        BillingPeriod("week", d(2024, 2, 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidPeriod):
        BillingPeriod(PeriodKind.MONTH, datetime(2024, 2, 1))
    with pytest.raises(InvalidPeriod):
        BillingPeriod.quarter(2024, 5)
    assert BillingPeriod("quarter", d(2024, 4, 1)).kind is PeriodKind.QUARTER  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "kind", "label"),
    [
        (d(2024, 2, 29), PeriodKind.MONTH, "2024-02"),
        (d(2024, 2, 1), PeriodKind.MONTH, "2024-02"),
        (d(2024, 12, 31), PeriodKind.MONTH, "2024-12"),
        (d(2024, 12, 31), PeriodKind.QUARTER, "2024-Q4"),
        (d(2024, 4, 1), PeriodKind.QUARTER, "2024-Q2"),
        (d(2024, 3, 31), PeriodKind.QUARTER, "2024-Q1"),
        (d(2024, 8, 15), "quarter", "2024-Q3"),
    ],
)
def test_period_containing(day: date, kind: PeriodKind, label: str) -> None:
    period = period_containing(day, kind)
    assert period.label == label
    assert day in period


def test_period_containing_refuses_datetimes() -> None:
    with pytest.raises(InvalidPeriod):
        period_containing(datetime(2024, 2, 1, 12))


def test_contains_is_half_open() -> None:
    assert FEB24.start in FEB24
    assert FEB24.last_day in FEB24
    assert FEB24.end not in FEB24
    assert d(2024, 1, 31) not in FEB24
    assert "2024-02-10" not in FEB24
    assert datetime(2024, 2, 10) not in FEB24


# ---- proration, one month -------------------------------------------------------------------

# (month, start, end, active days, actualDays, thirtyDayMonth, none), worked out by hand.
CASES = [
    # the whole month, whatever its length
    (JAN24, d(2023, 5, 1), None, 31, F(1), F(1), F(1)),
    (FEB24, d(2024, 2, 1), d(2024, 3, 1), 29, F(1), F(1), F(1)),
    (FEB23, d(2023, 2, 1), d(2023, 3, 1), 28, F(1), F(1), F(1)),
    (APR24, d(2024, 4, 1), d(2024, 5, 1), 30, F(1), F(1), F(1)),
    # starts on the 16th: 16..31 is 16 actual days; 30-day month counts 16..30 = 15
    (JAN24, d(2024, 1, 16), None, 16, F(16, 31), F(15, 30), F(1)),
    # 16th to the end of a 30-day month: 15 days either way
    (APR24, d(2024, 4, 16), None, 15, F(15, 30), F(15, 30), F(1)),
    # start and end inside the period (starts and stops in the same month): 10th..19th
    (JAN24, d(2024, 1, 10), d(2024, 1, 20), 10, F(10, 31), F(10, 30), F(1)),
    (APR24, d(2024, 4, 5), d(2024, 4, 12), 7, F(7, 30), F(7, 30), F(1)),
    # ends inside the period: 1st..14th
    (JAN24, d(2023, 11, 3), d(2024, 1, 15), 14, F(14, 31), F(14, 30), F(1)),
    # leap year: 15..29 February 2024 is 15 days of 29; in 30-day months the 29th weighs 2
    (FEB24, d(2024, 2, 15), None, 15, F(15, 29), F(16, 30), F(1)),
    # leap day alone
    (FEB24, d(2024, 2, 29), d(2024, 3, 1), 1, F(1, 29), F(2, 30), F(1)),
    # February without its last day: 28 days; 30-day months: 28 of 30
    (FEB24, d(2024, 1, 1), d(2024, 2, 29), 28, F(28, 29), F(28, 30), F(1)),
    # 28 February of a common year alone weighs 3 thirtieths
    (FEB23, d(2023, 2, 28), None, 1, F(1, 28), F(3, 30), F(1)),
    # the 31st alone weighs nothing in 30-day months, the 30th weighs one
    (JAN24, d(2024, 1, 31), None, 1, F(1, 31), F(0), F(1)),
    (JAN24, d(2024, 1, 30), d(2024, 1, 31), 1, F(1, 31), F(1, 30), F(1)),
    # a single day
    (JAN24, d(2024, 1, 1), d(2024, 1, 2), 1, F(1, 31), F(1, 30), F(1)),
    # ended before the period (last active day 31 January)
    (FEB24, d(2023, 5, 1), d(2024, 2, 1), 0, F(0), F(0), F(0)),
    (FEB24, d(2023, 5, 1), d(2023, 12, 1), 0, F(0), F(0), F(0)),
    # starts after the period
    (FEB24, d(2024, 3, 1), None, 0, F(0), F(0), F(0)),
    (FEB24, d(2024, 5, 1), d(2024, 6, 1), 0, F(0), F(0), F(0)),
    # never active (starts and ends on the same day)
    (FEB24, d(2024, 2, 10), d(2024, 2, 10), 0, F(0), F(0), F(0)),
]


@pytest.mark.parametrize(
    ("month", "start", "end", "days", "actual", "thirty", "none"),
    CASES,
    ids=[f"{c[0].label}:{c[1]}..{c[2]}" for c in CASES],
)
def test_month_proration(
    month: BillingPeriod,
    start: date,
    end: date | None,
    days: int,
    actual: F,
    thirty: F,
    none: F,
) -> None:
    assert active_days(month, start, end) == days
    for rule, expected in ((ACTUAL, actual), (THIRTY, thirty), (NONE, none)):
        assert month_fraction(month, start, end, rule) == expected, rule
        assert prorate(month, start, end, rule).days == days
        assert prorate(month, start, end, rule).months == expected
        assert prorate(month, start, end, rule).fraction == expected
        assert month_fraction(month, start, end, rule.value) == expected


def test_end_before_start_is_an_error() -> None:
    with pytest.raises(EndBeforeStart) as info:
        prorate(FEB24, d(2024, 2, 10), d(2024, 2, 9), ACTUAL)
    assert (info.value.start, info.value.end) == (d(2024, 2, 10), d(2024, 2, 9))
    assert "before it starts" in str(info.value)
    for call in (active_days, lambda p, s, e: month_fraction(p, s, e, NONE)):
        with pytest.raises(EndBeforeStart):
            call(FEB24, d(2024, 2, 10), d(2024, 1, 1))
    # even when neither date is in the period
    with pytest.raises(EndBeforeStart):
        prorate(FEB24, d(2025, 1, 10), d(2024, 12, 1), THIRTY)


def test_dates_must_be_dates() -> None:
    with pytest.raises(TypeError):
        prorate(FEB24, datetime(2024, 2, 1), None, ACTUAL)
    with pytest.raises(TypeError):
        prorate(FEB24, d(2024, 2, 1), "2024-03-01", ACTUAL)  # type: ignore[arg-type]


def test_month_fraction_needs_a_month() -> None:
    with pytest.raises(InvalidPeriod):
        month_fraction(Q1_24, d(2024, 1, 1), None, ACTUAL)


# ---- proration, one quarter: the months are prorated each and summed ------------------------


def test_quarter_sums_its_months() -> None:
    # 16 January to 9 March 2024: 16 days of January, all February, 9 days of March
    start, end = d(2024, 1, 16), d(2024, 3, 10)
    actual = prorate(Q1_24, start, end, ACTUAL)
    assert actual.days == 16 + 29 + 9
    assert actual.months == F(16, 31) + 1 + F(9, 31) == F(56, 31)
    assert actual.fraction == F(56, 93)
    thirty = prorate(Q1_24, start, end, THIRTY)
    assert thirty.months == F(15, 30) + 1 + F(9, 30) == F(9, 5)
    assert prorate(Q1_24, start, end, NONE).months == 3


def test_quarter_whole_partial_and_outside() -> None:
    q4 = BillingPeriod.quarter(2023, 4)
    for rule in ProrationRule:
        assert prorate(q4, d(2020, 1, 1), None, rule).months == 3
        assert prorate(q4, d(2020, 1, 1), None, rule).fraction == 1
        assert prorate(q4, d(2024, 1, 1), None, rule).months == 0
        assert prorate(q4, d(2020, 1, 1), d(2023, 10, 1), rule).months == 0
    # from 10 February: none bills February and March whole, not January
    assert prorate(Q1_24, d(2024, 2, 10), None, NONE).months == 2
    assert prorate(Q1_24, d(2024, 2, 10), None, ACTUAL).months == F(20, 29) + 1
    assert prorate(Q1_24, d(2024, 2, 10), None, ACTUAL).days == 20 + 31


# ---- properties -----------------------------------------------------------------------------

days_2020s = st.dates(min_value=d(2019, 1, 1), max_value=d(2030, 12, 31))


@given(days_2020s, st.integers(0, 120), st.integers(0, 120), days_2020s)
def test_splitting_a_service_never_gains_or_loses(
    start: date, first: int, second: int, some_day: date
) -> None:
    """Billed 'a to b' then 'b to c' is billed exactly 'a to c' (day weights are per day)."""
    split, end = start + timedelta(days=first), start + timedelta(days=first + second)
    month = period_containing(some_day, PeriodKind.MONTH)
    for rule in (ACTUAL, THIRTY):
        whole = month_fraction(month, start, end, rule)
        parts = month_fraction(month, start, split, rule) + month_fraction(month, split, end, rule)
        assert whole == parts
        assert 0 <= whole <= 1
    assert active_days(month, start, split) + active_days(month, split, end) == active_days(
        month, start, end
    )


@given(st.integers(1900, 2100), st.integers(1, 12))
def test_every_whole_month_is_one(year: int, month: int) -> None:
    period = BillingPeriod.month(year, month)
    for rule in ProrationRule:
        assert month_fraction(period, period.start, period.end, rule) == 1
    # and under thirtyDayMonth its days' weights sum to 30 thirtieths, one day at a time
    day, total = period.start, F(0)
    while day < period.end:
        total += month_fraction(period, day, day + timedelta(days=1), THIRTY)
        day += timedelta(days=1)
    assert total == 1


@given(days_2020s, st.one_of(st.none(), st.integers(0, 400)), days_2020s)
def test_actual_days_is_days_over_month_length(
    start: date, length: int | None, some_day: date
) -> None:
    end = None if length is None else start + timedelta(days=length)
    month = period_containing(some_day)
    due = prorate(month, start, end, ACTUAL)
    assert due.months == F(due.days, month.days)
    assert prorate(month, start, end, NONE).months == (1 if due.days else 0)
