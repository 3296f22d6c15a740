"""What cannot be kept exactly as sent is named, not altered: digits a double loses, strings
and bodies over the limits; what a double keeps is left alone."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panther.inventory.parse import ReportRejected, parse_report
from panther.ledger.canonical import (
    InexactNumber,
    canonical_json,
    exact_float,
    not_kept_exactly,
)


@pytest.mark.parametrize("text", ["0.1", "1.10", "-2.5e-3", "1E5", "123456.789", "0.0", "-0.0"])
def test_decimals_a_double_keeps_are_plain_floats(text: str) -> None:
    number = exact_float(text)
    assert type(number) is float and Decimal(repr(number)) == Decimal(text)
    assert not_kept_exactly({"n": number}) is None


@pytest.mark.parametrize(
    "text", ["0.12345678901234567891", "1.00000000000000000001", "3.141592653589793238"]
)
def test_decimals_with_more_digits_than_a_double_keeps_are_named(text: str) -> None:
    value = json.loads(f'{{"a": [1, {text}]}}', parse_float=exact_float)
    assert isinstance(value["a"][1], InexactNumber)
    pointer, reason = not_kept_exactly(value) or ("", "")
    assert pointer == "/a/1" and text in reason and "send it as a string" in reason


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_double_written_shortest_round_trips(number: float) -> None:
    parsed = json.loads(json.dumps({"n": number}), parse_float=exact_float)
    assert type(parsed["n"]) is float
    assert canonical_json(parsed) == canonical_json({"n": number})


def test_strings_keys_and_values_over_the_limits_are_named() -> None:
    assert not_kept_exactly({"a": "x" * 10}, max_string=10) is None
    assert not_kept_exactly({"a": "x" * 11}, max_string=10) == (
        "/a",
        "the string is 11 characters, over 10",
    )
    assert not_kept_exactly({"k" * 11: 1}, max_string=10) == (
        "",
        "a key is longer than 10 characters",
    )
    assert not_kept_exactly([0] * 9, max_values=10) is None
    assert not_kept_exactly([0] * 10, max_values=10) == ("/9", "the body holds more than 10 values")


@given(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(2**53) + 1, max_value=2**53 - 1)
)
def test_an_uploaded_number_is_signed_as_written_or_refused_by_name(number: Decimal) -> None:
    text = str(number).replace("E", "e")
    line = b'{"id": "CID-1", "status": "active", "capacity": ' + text.encode() + b"}\n"
    for media_type, body in (
        ("application/x-ndjson", line),
        ("application/json", b"[" + line + b"]"),
    ):
        try:
            parsed = parse_report(body, media_type)
        except ReportRejected as rejected:
            ((error,),) = [rejected.errors]
            assert error.pointer == "/capacity" and "more digits" in error.message
            assert Decimal(repr(float(text))) != number  # only digits a double loses
        else:
            signed = json.loads(parsed.leaves[0], parse_float=Decimal)["capacity"]
            assert Decimal(signed) == number, (text, parsed.leaves[0])
