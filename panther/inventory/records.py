"""Fast structural checks of one product record against the TMF637 / MEF 116 shape.

Hand-written instead of JSON Schema because a report may hold a million records; each
problem comes back as (RFC 6901 pointer into the record, message).
"""

from __future__ import annotations

import math
import re
from datetime import date
from functools import lru_cache
from itertools import product
from string import ascii_uppercase
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
_LONGEST_DATE = 64  # "YYYY-MM-DDThh:mm:ss.fffffffff+hh:mm" with room for long fractions
_DATE_FIELDS = ("startDate", "terminationDate")
_REF_FIELDS = ("productOffering", "productSpecification", "billingAccount")
_OBJECT_ARRAYS = ("productTerm", "productOrderItem", "relatedParty")
_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)
# All 17,576 codes of three upper-case ASCII letters: one set lookup instead of four tests.
_CURRENCY_CODES = frozenset(map("".join, product(ascii_uppercase, repeat=3)))


def validate_record(record: Any, *, parsed_json: bool = False) -> list[tuple[str, str]]:
    """Problems of one product record as (pointer, message); empty when it is valid.

    Unknown fields are allowed (TMF extension) but must be JSON values. `parsed_json=True`
    says the record came out of a JSON parser (or the CSV builder), so that walk is skipped.
    An optional field that is ``null`` counts as absent: carriers' exports carry nulls.
    """
    if type(record) is not dict:
        return [("", f"a record must be a JSON object, not {kind(record)}")]
    errors: list[tuple[str, str]] = []
    get = record.get
    # Each check is a cheap test first; only a failing part is re-examined in detail, so a
    # valid record (the common case, a million times over) costs a few dict lookups.
    ident = get("id", _MISSING)
    status = get("status", _MISSING)
    if not (
        type(ident) is str and 0 < len(ident) <= MAX_ID_LENGTH and type(status) is str and status
    ):
        _explain_id_status(ident, status, errors)
    value = get("externalId")
    if value is not None and type(value) is not str:
        errors.append(("/externalId", _expected("a string", value)))
    for name in _DATE_FIELDS:
        value = get(name)
        if value is not None:
            if type(value) is not str:
                problem: str | None = _expected("a date", value)
            elif len(value) > _LONGEST_DATE:  # also keeps huge strings out of the cache
                problem = f"must be an RFC 3339 date-time or YYYY-MM-DD date, got {quote(value)}"
            else:
                problem = _date_problem(value)
            if problem is not None:
                errors.append(("/" + name, problem))
    for name in _REF_FIELDS:
        value = get(name, _MISSING)
        if (
            value is not _MISSING
            and value is not None
            and not (type(value) is dict and type(ref_id := value.get("id")) is str and ref_id)
        ):
            _explain_ref(value, "/" + name, errors)
    value = get("place")
    if value is not None:
        _check_places(value, errors)
    value = get("productPrice")
    if value is not None:
        _check_prices(value, errors)
    value = get("productCharacteristic")
    if value is not None:
        _check_characteristics(value, errors)
    for name in _OBJECT_ARRAYS:
        value = get(name)
        if value is None:
            continue
        if type(value) is list:
            for item in value:
                if type(item) is not dict:
                    break
            else:
                continue
        _explain_object_array(value, "/" + name, errors)
    if not parsed_json:
        reported = {pointer for pointer, _ in errors}
        errors.extend(e for e in _json_problems(record) if e[0] not in reported)
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


def _explain_id_status(ident: Any, status: Any, errors: list[tuple[str, str]]) -> None:
    if ident is _MISSING:
        errors.append(("/id", "required"))
    elif type(ident) is not str or not ident:
        errors.append(("/id", _expected("a non-empty string", ident)))
    elif len(ident) > MAX_ID_LENGTH:
        errors.append(("/id", f"longer than {MAX_ID_LENGTH} characters ({len(ident)})"))
    if status is _MISSING:
        errors.append(("/status", "required"))
    elif type(status) is not str or not status:
        errors.append(("/status", _expected("a non-empty string", status)))


def _explain_ref(value: Any, ptr: str, errors: list[tuple[str, str]]) -> None:
    if type(value) is not dict:
        errors.append((ptr, _expected("an object", value)))
    else:
        _require_text(value, "id", ptr, errors)


def _require_text(obj: dict[str, Any], name: str, ptr: str, errors: list[tuple[str, str]]) -> None:
    text = obj.get(name, _MISSING)
    if text is _MISSING:
        errors.append((f"{ptr}/{name}", "required"))
    elif type(text) is not str or not text:
        errors.append((f"{ptr}/{name}", _expected("a non-empty string", text)))


def _check_places(value: Any, errors: list[tuple[str, str]]) -> None:
    if type(value) is list:
        for item in value:
            if not (
                type(item) is dict
                and type(role := item.get("role")) is str
                and role
                and type(ident := item.get("id")) is str
                and ident
            ):
                break
        else:
            return
    _explain_object_array(value, "/place", errors)
    if type(value) is list:
        for i, item in enumerate(value):
            if type(item) is dict:
                _require_text(item, "role", f"/place/{i}", errors)
                _require_text(item, "id", f"/place/{i}", errors)


def _money_ok(money: Any) -> bool:
    return (
        type(money) is dict
        and type(unit := money.get("unit")) is str
        and unit in _CURRENCY_CODES
        and (
            type(amount := money.get("value")) is int
            # x - x is 0.0 for finite floats and NaN for infinities and NaN
            or (type(amount) is float and amount - amount == 0.0)
        )
    )


def _check_prices(value: Any, errors: list[tuple[str, str]]) -> None:
    if type(value) is list:
        for item in value:
            if not (
                type(item) is dict
                and type(price_type := item.get("priceType")) is str
                and price_type
                and type(price := item.get("price")) is dict
                and (
                    (money := price.get("dutyFreeAmount", _MISSING)) is _MISSING or _money_ok(money)
                )
                and (
                    (money := price.get("taxIncludedAmount", _MISSING)) is _MISSING
                    or _money_ok(money)
                )
            ):
                break
        else:
            return
    _explain_object_array(value, "/productPrice", errors)
    if type(value) is not list:
        return
    for i, item in enumerate(value):
        if type(item) is not dict:
            continue
        ptr = f"/productPrice/{i}"
        _require_text(item, "priceType", ptr, errors)
        price = item.get("price", _MISSING)
        if price is _MISSING:
            errors.append((ptr + "/price", "required"))
        elif type(price) is not dict:
            errors.append((ptr + "/price", _expected("an object", price)))
        else:
            for name in ("dutyFreeAmount", "taxIncludedAmount"):
                money = price.get(name, _MISSING)
                if money is not _MISSING:
                    _explain_money(money, f"{ptr}/price/{name}", errors)


def _explain_money(value: Any, ptr: str, errors: list[tuple[str, str]]) -> None:
    if type(value) is not dict:
        errors.append((ptr, _expected("a Money object {unit, value}", value)))
        return
    unit = value.get("unit", _MISSING)
    if unit is _MISSING:
        errors.append((ptr + "/unit", "required"))
    elif type(unit) is not str or unit not in _CURRENCY_CODES:
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
    if type(value) is list:
        for item in value:
            if not (
                type(item) is dict
                and type(name := item.get("name")) is str
                and name
                and type(item.get("value", _MISSING)) in _SCALAR_TYPES
            ):
                break
        else:
            return
    _explain_object_array(value, "/productCharacteristic", errors)
    if type(value) is not list:
        return
    for i, item in enumerate(value):
        if type(item) is not dict:
            continue
        ptr = f"/productCharacteristic/{i}"
        _require_text(item, "name", ptr, errors)
        scalar = item.get("value", _MISSING)
        if scalar is _MISSING:
            errors.append((ptr + "/value", "required"))
        elif type(scalar) not in _SCALAR_TYPES:
            errors.append((ptr + "/value", _expected("a string, number, boolean or null", scalar)))


def _explain_object_array(value: Any, ptr: str, errors: list[tuple[str, str]]) -> None:
    if type(value) is not list:
        errors.append((ptr, _expected("an array", value)))
        return
    for i, item in enumerate(value):
        if type(item) is not dict:
            errors.append((f"{ptr}/{i}", _expected("an object", item)))


def _json_problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    """Values that are not JSON, found with an explicit stack, never recursion."""
    problems: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(record, "")]
    while stack:
        node, ptr = stack.pop()
        if type(node) is dict:
            for key, child in node.items():
                if type(key) is not str:
                    problems.append((ptr, f"object key {quote(key)} is not a string"))
                else:
                    stack.append((child, ptr + json_pointer(key)))
        elif type(node) is list:
            stack.extend((child, f"{ptr}/{i}") for i, child in enumerate(node))
        elif type(node) is float:
            if not math.isfinite(node):
                problems.append((ptr, f"{node!r} is not a JSON number"))
        elif type(node) not in _SCALAR_TYPES:
            problems.append((ptr, f"a {type(node).__name__} is not a JSON value"))
    problems.sort()
    return problems
