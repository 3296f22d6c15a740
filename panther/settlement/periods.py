"""Billing periods (calendar months and quarters) and proration: how much of a monthly
recurring charge a service owes for the days it was active in a period.

Dates are half-open everywhere: a service is active from `start` (its first active day,
included) to `end` (the first day it is no longer active, excluded; None while it runs), and a
period covers `start` to `end` the same way. So a service that ends on 1 March was last active
on 28 (or 29) February, a service replaced by another on the same date is billed each day
exactly once, and `start == end` is a service that was never active (nothing to bill).

A recurring charge is a price per month. For a quarter the three months are prorated each on
their own and summed. Per month, the proration rules are:

- `actualDays`: active days / days in that month (28, 29, 30 or 31; 29 February counts).
- `thirtyDayMonth`: every month counts 30 days. Each day weighs one thirtieth, except the 31st,
  which weighs nothing, and the last day of February, which weighs the days up to the 30th
  (3 in a common year, 2 in a leap year). So a whole month is always 30/30, the 16th to the end
  of any month of 30 or 31 days is 15/30, and a service active only on a 31st owes nothing.
  Unlike the 30/360 US day count, the weights are per day, so splitting a service at any date
  never gains or loses a day.
- `none`: the whole month's charge if the service was active on any day of that month, else
  nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import TypeGuard

from panther.settlement.errors import EndBeforeStart, InvalidPeriod
from panther.settlement.terms import PeriodKind, ProrationRule

__all__ = [
    "BillingPeriod",
    "Proration",
    "active_days",
    "month_fraction",
    "period_containing",
    "prorate",
]

_MONTH_LABEL = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
_QUARTER_LABEL = re.compile(r"([0-9]{4})-Q([1-4])")
_THIRTY = 30


def _add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """One calendar month or quarter, from `start` (its first day) to `end` (excluded)."""

    kind: PeriodKind
    start: date

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _kind(self.kind, str(self.start)))
        if not _is_date(self.start):
            raise InvalidPeriod(repr(self.start), "start must be a date")
        first_months = (1, 4, 7, 10) if self.kind is PeriodKind.QUARTER else range(1, 13)
        if self.start.day != 1 or self.start.month not in first_months:
            raise InvalidPeriod(str(self.start), f"a {self.kind.value} starts on its first day")
        if self.start.year == date.max.year and self.start.month + self.size > 12:
            raise InvalidPeriod(str(self.start), "the period ends beyond the calendar")

    @classmethod
    def month(cls, year: int, month: int) -> BillingPeriod:
        return cls(PeriodKind.MONTH, date(year, month, 1))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> BillingPeriod:
        if not 1 <= quarter <= 4:
            raise InvalidPeriod(f"{year}-Q{quarter}", "quarters are numbered 1 to 4")
        return cls(PeriodKind.QUARTER, date(year, 3 * quarter - 2, 1))

    @classmethod
    def from_label(cls, label: str) -> BillingPeriod:
        """Parse `"2024-02"` (a month) or `"2024-Q1"` (a quarter)."""
        if m := _MONTH_LABEL.fullmatch(label):
            if int(m[1]) > 0:
                return cls.month(int(m[1]), int(m[2]))
        elif (m := _QUARTER_LABEL.fullmatch(label)) and int(m[1]) > 0:
            return cls.quarter(int(m[1]), int(m[2]))
        raise InvalidPeriod(label, 'expected a month "YYYY-MM" or a quarter "YYYY-Qn"')

    @property
    def size(self) -> int:
        """The number of months in the period."""
        return 3 if self.kind is PeriodKind.QUARTER else 1

    @property
    def end(self) -> date:
        """The first day after the period."""
        return _add_months(self.start, self.size)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year:04d}-Q{(self.start.month + 2) // 3}"
        return f"{self.start.year:04d}-{self.start.month:02d}"

    def months(self) -> tuple[BillingPeriod, ...]:
        """The calendar months of the period, in order."""
        return tuple(
            BillingPeriod(PeriodKind.MONTH, _add_months(self.start, i)) for i in range(self.size)
        )

    def __contains__(self, day: object) -> bool:
        return _is_date(day) and self.start <= day < self.end

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


def period_containing(day: date, kind: PeriodKind | str = PeriodKind.MONTH) -> BillingPeriod:
    """The billing period of `kind` that contains `day`."""
    if not _is_date(day):
        raise InvalidPeriod(repr(day), "expected a date")
    kind = _kind(kind, str(day))
    first_month = day.month if kind is PeriodKind.MONTH else day.month - (day.month - 1) % 3
    return BillingPeriod(kind, date(day.year, first_month, 1))


@dataclass(frozen=True, slots=True)
class Proration:
    """What a service owes for one period.

    `days` are the calendar days it was active in the period; `months` is the number of
    monthly charges due (the sum of each month's fraction, so 0 to 1 for a month and 0 to 3
    for a quarter); `fraction` is the share of the period's full recurring charge.
    """

    days: int
    months: Fraction
    fraction: Fraction


def _check_span(start: date, end: date | None) -> None:
    if not _is_date(start):
        raise TypeError(f"a service's start must be a date, not {type(start).__name__}")
    if end is not None:
        if not _is_date(end):
            raise TypeError(f"a service's end must be a date or None, not {type(end).__name__}")
        if end < start:
            raise EndBeforeStart(start, end)


def _clip(period: BillingPeriod, start: date, end: date | None) -> tuple[date, date] | None:
    """The active part of the period, half-open, or None if the service was not active in it."""
    lo = max(start, period.start)
    hi = period.end if end is None else min(end, period.end)
    return (lo, hi) if lo < hi else None


def active_days(period: BillingPeriod, start: date, end: date | None) -> int:
    """Calendar days in `period` on which a service active from `start` to `end` was active."""
    _check_span(start, end)
    span = _clip(period, start, end)
    return 0 if span is None else (span[1] - span[0]).days


def _thirty_day_position(month: BillingPeriod, boundary: date) -> int:
    """Where a day boundary falls in `month` counted as 30 days: the start of day d is at
    d - 1 (the 31st starts at 30, so it weighs nothing) and the month's end is at 30 (so the
    last day of February weighs the rest)."""
    return _THIRTY if boundary == month.end else min(boundary.day - 1, _THIRTY)


def month_fraction(
    month: BillingPeriod, start: date, end: date | None, rule: ProrationRule | str
) -> Fraction:
    """The fraction of `month`'s recurring charge owed by a service active from `start` to
    `end` (half-open), by `rule`."""
    if month.kind is not PeriodKind.MONTH:
        raise InvalidPeriod(month.label, "month_fraction needs a month")
    _check_span(start, end)
    rule = ProrationRule(rule)
    span = _clip(month, start, end)
    if span is None:
        return Fraction(0)
    lo, hi = span
    if rule is ProrationRule.NONE:
        return Fraction(1)
    if rule is ProrationRule.ACTUAL_DAYS:
        return Fraction((hi - lo).days, month.days)
    return Fraction(_thirty_day_position(month, hi) - _thirty_day_position(month, lo), _THIRTY)


def prorate(
    period: BillingPeriod, start: date, end: date | None, rule: ProrationRule | str
) -> Proration:
    """What a service active from `start` to `end` (half-open; None: still active) owes for
    `period` under `rule`. Raises `EndBeforeStart` if `end` precedes `start`."""
    _check_span(start, end)
    months = sum((month_fraction(m, start, end, rule) for m in period.months()), start=Fraction(0))
    return Proration(
        days=active_days(period, start, end),
        months=months,
        fraction=months / period.size,
    )


def _is_date(value: object) -> TypeGuard[date]:
    # A datetime is a date subclass: one slipping in would compare and count days wrongly.
    return isinstance(value, date) and not isinstance(value, datetime)


def _kind(kind: PeriodKind | str, where: str) -> PeriodKind:
    try:
        return PeriodKind(kind)
    except ValueError:
        raise InvalidPeriod(where, f"{kind!r} is not month or quarter") from None
