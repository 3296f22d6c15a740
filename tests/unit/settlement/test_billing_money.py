"""Rounding to minor units and the text forms of amounts and rates."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from panther.settlement.money import (
    CURRENCY_EXPONENTS,
    Rounding,
    decimal_text,
    minor_text,
    round_fraction,
    to_minor,
)

UP, EVEN = Rounding.HALF_UP, Rounding.HALF_EVEN


@pytest.mark.parametrize(
    ("value", "half_up", "half_even"),
    [
        (Fraction(5, 2), 3, 2),
        (Fraction(7, 2), 4, 4),
        (Fraction(-5, 2), -3, -2),
        (Fraction(-7, 2), -4, -4),
        (Fraction(1, 2), 1, 0),
        (Fraction(-1, 2), -1, 0),
        (Fraction(1, 3), 0, 0),
        (Fraction(2, 3), 1, 1),
        (Fraction(-2, 3), -1, -1),
        (Fraction(-1, 3), 0, 0),
        (Fraction(0), 0, 0),
        (Fraction(12), 12, 12),
    ],
)
def test_round_fraction(value: Fraction, half_up: int, half_even: int) -> None:
    assert round_fraction(value, UP) == half_up
    assert round_fraction(value, EVEN) == half_even


@pytest.mark.parametrize(
    ("amount", "exponent", "half_up", "half_even"),
    [
        (Decimal("0.125"), 2, 13, 12),
        (Decimal("0.135"), 2, 14, 14),
        (Decimal("0.124999"), 2, 12, 12),
        (Decimal("100.5"), 0, 101, 100),  # JPY
        (Decimal("1.2345"), 3, 1235, 1234),  # BHD
        (Decimal("10"), 2, 1000, 1000),
        (Fraction(100 * 15, 29), 2, 5172, 5172),  # 51.7241...
    ],
)
def test_to_minor(amount: Decimal | Fraction, exponent: int, half_up: int, half_even: int) -> None:
    assert to_minor(amount, exponent, UP) == half_up
    assert to_minor(amount, exponent, EVEN) == half_even


def test_minor_text() -> None:
    assert minor_text(12345, 2) == "123.45"
    assert minor_text(-5, 2) == "-0.05"
    assert minor_text(-100, 2) == "-1.00"
    assert minor_text(0, 2) == "0.00"
    assert minor_text(0, 3) == "0.000"
    assert minor_text(7, 0) == "7"
    assert minor_text(-7, 0) == "-7"
    assert minor_text(1234567, 3) == "1234.567"


def test_decimal_text_is_one_text_per_number() -> None:
    assert decimal_text(Decimal("100"), 2) == "100.00"
    assert decimal_text(Decimal("1E+2"), 2) == "100.00"
    assert decimal_text(Decimal("100.000"), 2) == "100.00"
    assert decimal_text(Decimal("12.3450"), 2) == "12.345"
    assert decimal_text(Decimal("0.050"), 2) == "0.05"
    assert decimal_text(Decimal("-0"), 2) == "0.00"
    assert decimal_text(Decimal("-0.00")) == "0"
    assert decimal_text(Decimal("0.19")) == "0.19"
    assert decimal_text(Decimal("0.190")) == "0.19"
    assert decimal_text(Decimal("-10"), 2) == "-10.00"
    assert decimal_text(7, 0) == "7"
    # No decimal context in the way: more digits than its default precision stay exact.
    long = Decimal("1234567890123456789012345678901234.567890")
    assert decimal_text(long, 2) == "1234567890123456789012345678901234.56789"


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_decimal_text_refuses_non_finite(bad: Decimal) -> None:
    with pytest.raises(ValueError):
        decimal_text(bad)


def test_currency_exponents() -> None:
    assert CURRENCY_EXPONENTS["EUR"] == CURRENCY_EXPONENTS["USD"] == CURRENCY_EXPONENTS["GBP"] == 2
    assert CURRENCY_EXPONENTS["JPY"] == 0
    assert CURRENCY_EXPONENTS["KWD"] == 3
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_EXPONENTS)
