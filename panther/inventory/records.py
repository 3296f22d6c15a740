"""Fast structural checks of one product record against the TMF637 / MEF 116 shape.

Hand-written instead of JSON Schema because a report may hold a million records; each
problem comes back as (RFC 6901 pointer into the record, message).
"""

from __future__ import annotations

import math
import re
from datetime import date
from functools import lru_cache
from typing import Any

__all__ = ["MAX_ID_LENGTH", "json_pointer", "validate_record"]

MAX_ID_LENGTH = 256
_QUOTE_LIMIT = 40  # never echo more than this much of a carrier's value back
_MISSING: Any = object()

_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))"
)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_REF_FIELDS = ("productOffering", "productSpecification", "billingAccount")
_OBJECT_ARRAYS = ("productTerm", "productOrderItem", "relatedParty")
_SCALARS = (str, int, float, bool, type(None))


def validate_record(record: Any, *, parsed_json: bool = False) -> list[tuple[str, str]]:
    """Problems of one product record as (pointer, message); empty when it is valid.

    Unknown fields are allowed (TMF extension) but must be JSON values. `parsed_json=True`
    says the record came out of a JSON parser (or the CSV builder), so that walk is skipped.
    """
    if type(record) is not dict:
        return [("", f"a record must be a JSON object, not {kind(record)}")]
    errors: list[tuple[str, str]] = []
    get = record.get

    value = get("id", _MISSING)
    if value is _MISSING:
        errors.append(("/id", "required"))
    elif type(value) is not str or not value:
        errors.append(("/id", _expected("a non-empty string", value)))
    elif len(value) > MAX_ID_LENGTH:
        errors.append(("/id", f"longer than {MAX_ID_LENGTH} characters ({len(value)})"))

    value = get("status", _MISSING)
    if value is _MISSING:
        errors.append(("/status", "required"))
    elif type(value) is not str or not value:
        errors.append(("/status", _expected("a non-empty string", value)))

    value = get("externalId", _MISSING)
    if value is not _MISSING and type(value) is not str:
        errors.append(("/externalId", _expected("a string", value)))

    for name in ("startDate", "terminationDate"):
        value = get(name, _MISSING)
        if value is not _MISSING and value is not None:
            problem = _date_problem(value) if type(value) is str else _expected("a date", value)
            if problem is not None:
                errors.append(("/" + name, problem))

    for name in _REF_FIELDS:
        value = get(name, _MISSING)
        if value is not _MISSING:
            _check_ref(value, "/" + name, errors)

    value = get("place", _MISSING)
    if value is not _MISSING:
        _check_places(value, errors)
    value = get("productPrice", _MISSING)
    if value is not _MISSING:
        _check_prices(value, errors)
    value = get("productCharacteristic", _MISSING)
    if value is not _MISSING:
        _check_characteristics(value, errors)
    for name in _OBJECT_ARRAYS:
        value = get(name, _MISSING)
        if value is not _MISSING:
            _check_object_array(value, "/" + name, errors)

    if not parsed_json:
        _check_json(record, errors)
    return errors


def json_pointer(*tokens: str | int) -> str:
    """RFC 6901 pointer from reference tokens ('~' and '/' escaped)."""
    return "".join(
        "/" + (str(t) if type(t) is int else str(t).replace("~", "~0").replace("/", "~1"))
        for t in tokens
    )


def kind(value: Any) -> str:
    """The JSON type name of a value, for messages."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "boolean"
    if type(value) in (int, float):
        return "number"
    if type(value) is str:
        return "string"
    if type(value) is dict:
        return "object"
    if type(value) is list:
        return "array"
    return type(value).__name__


def quote(value: Any) -> str:
    """A value for a message, cut to a few dozen characters."""
    text = value if type(value) is str else repr(value)
    if len(text) > _QUOTE_LIMIT:
        text = text[:_QUOTE_LIMIT] + "…"
    return repr(text) if type(value) is str else text


def _expected(what: str, value: Any) -> str:
    if type(value) is str:
        return f"must be {what}, got {quote(value)}"
    return f"must be {what}, not {kind(value)}"


@lru_cache(maxsize=8192)  # dates repeat heavily across a report
def _date_problem(text: str) -> str | None:
    m = _DATE_TIME.fullmatch(text)
    if m is not None:
        year, month, day, hour, minute, second, off_h, off_m = m.groups()
        if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
            return f"time out of range in {quote(text)}"
        if off_h is not None and (int(off_h) > 23 or int(off_m) > 59):
            return f"UTC offset out of range in {quote(text)}"
    else:
        m = _DATE.fullmatch(text)
        if m is None:
            return f"must be an RFC 3339 date-time or YYYY-MM-DD date, got {quote(text)}"
        year, month, day = m.groups()
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return f"no such calendar date in {quote(text)}"
    return None


def _check_ref(value: Any, ptr: str, errors: list[tuple[str, str]]) -> None:
    if type(value) is not dict:
        errors.append((ptr, _expected("an object", value)))
        return
    ident = value.get("id", _MISSING)
    if ident is _MISSING:
        errors.append((ptr + "/id", "required"))
    elif type(ident) is not str or not ident:
        errors.append((ptr + "/id", _expected("a non-empty string", ident)))


def _check_places(value: Any, errors: list[tuple[str, str]]) -> None:
    if type(value) is not list:
        errors.append(("/place", _expected("an array", value)))
        return
    for i, item in enumerate(value):
        if type(item) is not dict:
            errors.append((f"/place/{i}", _expected("an object", item)))
            continue
        for name in ("role", "id"):
            text = item.get(name, _MISSING)
            if text is _MISSING:
                errors.append((f"/place/{i}/{name}", "required"))
            elif type(text) is not str or not text:
                errors.append((f"/place/{i}/{name}", _expected("a non-empty string", text)))


def _check_prices(value: Any, errors: list[tuple[str, str]]) -> None:
    if type(value) is not list:
        errors.append(("/productPrice", _expected("an array", value)))
        return
    for i, item in enumerate(value):
        ptr = f"/productPrice/{i}"
        if type(item) is not dict:
            errors.append((ptr, _expected("an object", item)))
            continue
        price_type = item.get("priceType", _MISSING)
        if price_type is _MISSING:
            errors.append((ptr + "/priceType", "required"))
        elif type(price_type) is not str or not price_type:
            errors.append((ptr + "/priceType", _expected("a non-empty string", price_type)))
        price = item.get("price", _MISSING)
        if price is _MISSING:
            errors.append((ptr + "/price", "required"))
        elif type(price) is not dict:
            errors.append((ptr + "/price", _expected("an object", price)))
        else:
            for name in ("dutyFreeAmount", "taxIncludedAmount"):
                money = price.get(name, _MISSING)
                if money is not _MISSING:
                    _check_money(money, f"{ptr}/price/{name}", errors)


def _check_money(value: Any, ptr: str, errors: list[tuple[str, str]]) -> None:
    if type(value) is not dict:
        errors.append((ptr, _expected("a Money object {unit, value}", value)))
        return
    unit = value.get("unit", _MISSING)
    if unit is _MISSING:
        errors.append((ptr + "/unit", "required"))
    elif not (
        type(unit) is str
        and len(unit) == 3
        and unit.isascii()
        and unit.isalpha()
        and unit.isupper()
    ):
        errors.append((ptr + "/unit", _expected("a 3-letter upper-case currency code", unit)))
    amount = value.get("value", _MISSING)
    if amount is _MISSING:
        errors.append((ptr + "/value", "required"))
    elif type(amount) is int:
        pass
    elif type(amount) is not float:
        # bool is a subclass of int, and `type(...) is` keeps it out
        errors.append((ptr + "/value", _expected("a number", amount)))
    elif not math.isfinite(amount):
        errors.append((ptr + "/value", "must be a finite number"))


def _check_characteristics(value: Any, errors: list[tuple[str, str]]) -> None:
    if type(value) is not list:
        errors.append(("/productCharacteristic", _expected("an array", value)))
        return
    for i, item in enumerate(value):
        ptr = f"/productCharacteristic/{i}"
        if type(item) is not dict:
            errors.append((ptr, _expected("an object", item)))
            continue
        name = item.get("name", _MISSING)
        if name is _MISSING:
            errors.append((ptr + "/name", "required"))
        elif type(name) is not str or not name:
            errors.append((ptr + "/name", _expected("a non-empty string", name)))
        scalar = item.get("value", _MISSING)
        if scalar is _MISSING:
            errors.append((ptr + "/value", "required"))
        elif type(scalar) not in _SCALARS:
            errors.append((ptr + "/value", _expected("a string, number, boolean or null", scalar)))


def _check_object_array(value: Any, ptr: str, errors: list[tuple[str, str]]) -> None:
    if type(value) is not list:
        errors.append((ptr, _expected("an array", value)))
        return
    for i, item in enumerate(value):
        if type(item) is not dict:
            errors.append((f"{ptr}/{i}", _expected("an object", item)))


def _check_json(record: dict[str, Any], errors: list[tuple[str, str]]) -> None:
    """Every value is a JSON value: walked with an explicit stack, never recursion."""
    stack: list[tuple[Any, str]] = [(record, "")]
    while stack:
        node, ptr = stack.pop()
        if type(node) is dict:
            for key, child in node.items():
                if type(key) is not str:
                    errors.append((ptr, f"object key {quote(key)} is not a string"))
                    continue
                stack.append((child, ptr + json_pointer(key)))
        elif type(node) is list:
            for i, child in enumerate(node):
                stack.append((child, f"{ptr}/{i}"))
        elif type(node) is float:
            if not math.isfinite(node):
                errors.append((ptr, f"{node!r} is not a JSON number"))
        elif type(node) not in _SCALARS:
            errors.append((ptr, f"a {type(node).__name__} is not a JSON value"))
