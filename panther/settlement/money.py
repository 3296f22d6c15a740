"""Exact money for statements: currencies' minor units, the rounding rules, and the text forms
amounts and rates take in a statement's canonical JSON.

Amounts are integers in minor units (cents for EUR); rates and prorated quantities stay
exact (`Decimal`, `Fraction`) until a line's amount is rounded, once, by the relation's rule.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

__all__ = [
    "CURRENCY_EXPONENTS",
    "Rounding",
    "decimal_text",
    "minor_text",
    "round_fraction",
    "to_minor",
]

# ISO 4217 minor units of the currencies carriers bill each other in. A currency missing
# here is refused by the terms rather than guessed: adding one is a line here and a test.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2,
    "AUD": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "ILS": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "MXN": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PLN": 2,
    "RON": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "TND": 3,
    "TRY": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
}


class Rounding(StrEnum):
    """How a line's exact amount becomes whole minor units.

    `halfUp` is commercial rounding: a tie goes away from zero (as `decimal.ROUND_HALF_UP`),
    so a credit rounds to the negation of the same charge. `halfEven` sends a tie to the even
    neighbour (banker's rounding).
    """

    HALF_UP = "halfUp"
    HALF_EVEN = "halfEven"


def round_fraction(value: Fraction, rule: Rounding) -> int:
    """`value` rounded to an integer by `rule`; exact for any rational value."""
    floor, rest = divmod(value.numerator, value.denominator)  # rest >= 0: floor division
    twice = 2 * rest
    if twice < value.denominator:
        return floor
    if twice > value.denominator:
        return floor + 1
    if rule is Rounding.HALF_EVEN:
        return floor if floor % 2 == 0 else floor + 1
    return floor + 1 if value > 0 else floor


def to_minor(amount: Decimal | Fraction, exponent: int, rule: Rounding) -> int:
    """`amount` in major units (e.g. EUR) as whole minor units (cents), rounded by `rule`."""
    return round_fraction(Fraction(amount) * 10**exponent, rule)


def minor_text(units: int, exponent: int) -> str:
    """Minor units as a fixed-point decimal string with exactly `exponent` places: 12345, 2 ->
    "123.45"; -5, 2 -> "-0.05"; 7, 0 -> "7"."""
    sign = "-" if units < 0 else ""
    digits = str(abs(units)).rjust(exponent + 1, "0")
    if exponent == 0:
        return sign + digits
    return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"


def decimal_text(value: Decimal | int, min_places: int = 0) -> str:
    """A finite decimal in fixed-point notation, trailing zeros dropped down to `min_places`
    places: the same number always has the same text (Decimal("100") and Decimal("1E+2")
    with 2 places are both "100.00"), so equal rates hash equally.

    Works on the digits, never through a decimal context, so no precision is lost.
    """
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value}")
    sign, digit_tuple, exp = value.as_tuple()
    assert isinstance(exp, int)  # finite
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    while exp < 0 and digits.endswith("0") and -exp > min_places:
        digits = digits[:-1]
        exp += 1
    if not digits:
        return minor_text(0, min_places)
    if exp >= 0:
        digits += "0" * exp
        exp = 0
    places = max(-exp, min_places)
    units = int(digits) * 10 ** (places + exp)
    return minor_text(-units if sign else units, places)
