"""A relation's commercial terms, as billing needs them: currency, billing period, proration,
tax and rounding, parsed strictly from the relation's `terms` JSON.

The relation resource today stores `{"currency", "billingPeriod", "proration",
"settlementRail"}`; every key is optional and takes the default below, so those documents
parse unchanged. Unknown keys are refused rather than ignored: a misspelt `taxRate` must not
bill without tax.

| key | values | default |
|---|---|---|
| `currency` | ISO 4217 code with known minor units (`money.CURRENCY_EXPONENTS`) | `"EUR"` |
| `billingPeriod` | `month`, `quarter` (calendar) | `"month"` |
| `proration` | `actualDays`, `thirtyDayMonth`, `none` (see `periods`) | `"actualDays"` |
| `taxRate` | decimal string from `"0"` to `"1"`, e.g. `"0.19"` | `"0"` |
| `rounding` | `halfUp`, `halfEven` (see `money.Rounding`) | `"halfUp"` |
| `settlementRail` | `manual`, `token` (kept so the terms round-trip) | `"manual"` |

A relation's terms also hold terms billing does not read (`RELATION_KEYS`): they are
accepted here and checked where they apply (`unreadableRecords`: what an upload with
unreadable records does, checked by the relations use case).

Tax is applied per line: each line's tax is its rounded amount times the rate, rounded by
the same rule, and the statement's tax is the sum of its lines' tax (so the totals always
equal the sum of the lines; they may differ from `rate x net total` by up to half a minor unit
per line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from panther.settlement.errors import InvalidTerms, Problem
from panther.settlement.money import CURRENCY_EXPONENTS, Rounding, decimal_text

__all__ = [
    "RELATION_KEYS",
    "SETTLEMENT_RAILS",
    "PeriodKind",
    "ProrationRule",
    "Terms",
]

SETTLEMENT_RAILS = ("manual", "token")
_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,5})(\.[0-9]{1,12})?")
RELATION_KEYS = frozenset({"unreadableRecords"})
"""Terms of the relation that billing does not read, checked where they apply."""
_KEYS = frozenset(
    {"currency", "billingPeriod", "proration", "taxRate", "rounding", "settlementRail"}
)


class PeriodKind(StrEnum):
    """The length of a billing period: a calendar month or a calendar quarter."""

    MONTH = "month"
    QUARTER = "quarter"


class ProrationRule(StrEnum):
    """How much of a month's recurring charge a partly active month costs (see `periods`)."""

    ACTUAL_DAYS = "actualDays"
    THIRTY_DAY_MONTH = "thirtyDayMonth"
    NONE = "none"


def _check(
    currency: Any,
    tax_rate: Any,
    rail: Any,
    enums: Mapping[str, tuple[Any, type[StrEnum]]],
) -> list[Problem]:
    problems: list[Problem] = []
    if currency not in CURRENCY_EXPONENTS:
        problems.append(
            Problem(
                "/currency",
                f"{currency!r} is not an ISO 4217 currency code with known minor units "
                "(e.g. EUR, USD, GBP, JPY)",
                "unknownCurrency",
            )
        )
    for pointer, (value, enum) in enums.items():
        if value not in [m.value for m in enum]:
            allowed = ", ".join(m.value for m in enum)
            problems.append(Problem(pointer, f"{value!r} is not one of {allowed}"))
    if not (isinstance(tax_rate, Decimal) and tax_rate.is_finite() and 0 <= tax_rate <= 1):
        problems.append(Problem("/taxRate", "must be a rate from 0 to 1, e.g. 0.19 for 19%"))
    if rail not in SETTLEMENT_RAILS:
        problems.append(
            Problem("/settlementRail", f"{rail!r} is not one of {', '.join(SETTLEMENT_RAILS)}")
        )
    return problems


@dataclass(frozen=True, slots=True)
class Terms:
    """The commercial terms of one relation (supplier to customer) that a statement applies."""

    currency: str = "EUR"
    billing_period: PeriodKind = PeriodKind.MONTH
    proration: ProrationRule = ProrationRule.ACTUAL_DAYS
    tax_rate: Decimal = field(default=Decimal(0))
    rounding: Rounding = Rounding.HALF_UP
    settlement_rail: str = "manual"

    def __post_init__(self) -> None:
        problems = _check(
            self.currency,
            self.tax_rate,
            self.settlement_rail,
            {
                "/billingPeriod": (self.billing_period, PeriodKind),
                "/proration": (self.proration, ProrationRule),
                "/rounding": (self.rounding, Rounding),
            },
        )
        if problems:
            raise InvalidTerms(tuple(problems))
        # Plain strings are accepted and stored as the enum members they name.
        object.__setattr__(self, "billing_period", PeriodKind(self.billing_period))
        object.__setattr__(self, "proration", ProrationRule(self.proration))
        object.__setattr__(self, "rounding", Rounding(self.rounding))

    @property
    def exponent(self) -> int:
        """The currency's minor-unit exponent: an amount is `units / 10**exponent`."""
        return CURRENCY_EXPONENTS[self.currency]

    @classmethod
    def from_json(cls, raw: Any) -> Terms:
        """Parse a terms document (a decoded JSON object, or None for all defaults).

        Raises `InvalidTerms` listing every problem, each with a JSON pointer into `raw`.
        """
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise InvalidTerms((Problem("", "terms must be a JSON object"),))
        problems: list[Problem] = []
        for key in raw:
            if key not in _KEYS and key not in RELATION_KEYS:
                problems.append(
                    Problem(
                        "/" + _escape(str(key)),
                        f"unknown term (known: {', '.join(sorted(_KEYS | RELATION_KEYS))})",
                        "unknownTerm",
                    )
                )

        def text(key: str, default: str) -> str:
            value = raw.get(key, default)
            if isinstance(value, str):
                return value
            problems.append(Problem(f"/{key}", "must be a string"))
            return default

        currency = text("currency", "EUR")
        rail = text("settlementRail", "manual")
        enums: dict[str, tuple[Any, type[StrEnum]]] = {
            "/billingPeriod": (text("billingPeriod", "month"), PeriodKind),
            "/proration": (text("proration", "actualDays"), ProrationRule),
            "/rounding": (text("rounding", "halfUp"), Rounding),
        }
        tax_rate = Decimal(0)
        tax_text = raw.get("taxRate", "0")
        if not isinstance(tax_text, str) or not _DECIMAL.fullmatch(tax_text):
            problems.append(
                Problem("/taxRate", 'must be a decimal string such as "0.19" (not a number)')
            )
        else:
            tax_rate = Decimal(tax_text)
        problems.extend(_check(currency, tax_rate, rail, enums))
        if problems:
            raise InvalidTerms(tuple(problems))
        return cls(
            currency=currency,
            billing_period=PeriodKind(enums["/billingPeriod"][0]),
            proration=ProrationRule(enums["/proration"][0]),
            tax_rate=tax_rate,
            rounding=Rounding(enums["/rounding"][0]),
            settlement_rail=rail,
        )

    def to_json(self) -> dict[str, str]:
        """The terms as a JSON object with every key, in the form `from_json` reads back."""
        return {
            "currency": self.currency,
            "billingPeriod": self.billing_period.value,
            "proration": self.proration.value,
            "taxRate": decimal_text(self.tax_rate),
            "rounding": self.rounding.value,
            "settlementRail": self.settlement_rail,
        }


def _escape(key: str) -> str:
    """A key as one RFC 6901 reference token."""
    return key.replace("~", "~0").replace("/", "~1")
