"""Normalisers: turn one raw field value into the comparable form a match profile names.

Each normaliser is one scalar function ``fn(value, params) -> normalised | None`` in a small
registry; ``normalise_column`` applies it to a whole column at once (memoised on repeated
values, with a pyarrow.compute fast path for the hot string normalisers), because reports
hold millions of records and the engine normalises each side exactly once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DASHES",
    "DAY_RULES",
    "DEFAULT_STATUS_MAP",
    "MONEY_TYPE",
    "RULES_VERSION",
    "Normaliser",
    "UnknownNormaliser",
    "check_date_params",
    "decimal_param",
    "decimal_text",
    "fold_unicode",
    "get",
    "names",
    "normalise",
    "normalise_column",
    "raw_json",
    "register",
]

# The version of the normalisers' rules: raised whenever some input normalises differently,
# so that columns extracted under older rules (the extract cache) are not reused. 2: Unicode
# folding, enum separators, dates as written (issue 11).
RULES_VERSION = 2

# Money and numbers are fixed point with 10 decimals; magnitudes stay below 10**17 so that
# differences and relative-tolerance products fit DuckDB's DECIMAL(38, x) without overflow.
DECIMAL_SCALE = 10
DECIMAL_TYPE = pa.decimal128(38, DECIMAL_SCALE)
_QUANTUM = Decimal(1).scaleb(-DECIMAL_SCALE)
_MAX_MAGNITUDE = Decimal(10) ** 17
MONEY_TYPE = pa.struct([("currency", pa.string()), ("value", DECIMAL_TYPE)])

ParamsCheck = Callable[[Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class UnknownNormaliser(KeyError):
    name: str

    def __str__(self) -> str:
        return f"unknown normaliser {self.name!r}"


@dataclass(frozen=True)
class Normaliser:
    """A registered normaliser.

    `scalar` is the definition; `column` is an optional vectorised fast path that must give
    exactly the same results (it may return None to decline a column it cannot handle).
    """

    name: str
    scalar: Callable[[Any, Mapping[str, Any]], Any]
    arrow_type: pa.DataType
    check_params: ParamsCheck
    column: Callable[[Sequence[Any], Mapping[str, Any]], pa.Array | None] | None = None


_REGISTRY: dict[str, Normaliser] = {}


def register(
    name: str,
    scalar: Callable[[Any, Mapping[str, Any]], Any],
    *,
    arrow_type: pa.DataType,
    check_params: ParamsCheck | None = None,
    column: Callable[[Sequence[Any], Mapping[str, Any]], pa.Array | None] | None = None,
) -> Normaliser:
    """Add (or replace) a normaliser; `check_params` returns a list of problems."""
    normaliser = Normaliser(name, scalar, arrow_type, check_params or _no_params, column)
    _REGISTRY[name] = normaliser
    return normaliser


def get(name: str) -> Normaliser:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNormaliser(name) from None


def names() -> list[str]:
    return sorted(_REGISTRY)


def normalise(name: str, value: Any, params: Mapping[str, Any] | None = None) -> Any:
    """Normalise one value (None when missing or unparseable)."""
    return get(name).scalar(value, params or {})


def normalise_column(
    name: str,
    values: Sequence[Any] | pa.Array | pa.ChunkedArray,
    params: Mapping[str, Any] | None = None,
    *,
    keys: Sequence[Any] | None = None,
) -> pa.Array:
    """Normalise a column; the result is an Arrow array of the normaliser's type.

    `keys`, if given, are hashable stand-ins for unhashable values (the raw JSON text), used
    only to memoise repeated values.
    """
    normaliser = get(name)
    params = params or {}
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = values.to_pylist()
    if normaliser.column is not None and keys is None:
        fast = normaliser.column(values, params)
        if fast is not None:
            return fast
    fn = normaliser.scalar
    cache: dict[Any, Any] = {}
    out: list[Any] = []
    append = out.append
    if keys is not None:
        for value, key in zip(values, keys, strict=True):
            try:
                result = cache[key]
            except KeyError:
                result = cache[key] = fn(value, params)
            append(result)
    else:
        for value in values:
            # Only strings are memoised by value: 1, 1.0 and True hash alike but differ here.
            if type(value) is str:
                try:
                    result = cache[value]
                except KeyError:
                    result = cache[value] = fn(value, params)
            else:
                result = fn(value, params)
            append(result)
    return pa.array(out, type=normaliser.arrow_type)


# -- helpers -----------------------------------------------------------------------------


def raw_json(value: Any) -> str | None:
    """The raw value as JSON text; None for a missing value (None or a blank string)."""
    if value is None or (type(value) is str and not value.strip()):
        return None
    if type(value) is str:
        return orjson.dumps(value).decode()
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, default=str)


def decimal_text(value: Decimal) -> str:
    """Fixed-point text without trailing zeros: the JSON form of a normalised number."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def decimal_param(value: Any) -> Decimal | None:
    """A profile parameter given as a decimal string or a JSON number, as a Decimal.

    A JSON float is taken as its shortest decimal repr (``0.005`` is exactly 0.005, not the
    binary double nearest to it); None when the value is neither (or not a decimal).
    """
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, str):
            return Decimal(value)
    except InvalidOperation:
        return None
    return None


# -- Unicode folding ---------------------------------------------------------------------
#
# Every normaliser that reads text (all but `exact`) first folds it: format characters
# (category Cf: zero-width space and joiners, soft hyphen, word joiner, BOM, bidi marks) are
# removed, the text is put in NFKC (full-width forms, ligatures, compatibility digits and
# spaces become their plain forms), then every dash below becomes "-" and every space,
# line or paragraph separator (Zs, Zl, Zp) becomes " ". ASCII text is left as it is, at no
# cost: none of these steps changes it.

# Every Pd (dash punctuation) character of Unicode 14, plus U+2212 MINUS SIGN (NFKC also
# brings superscript and subscript minus here). U+00AD SOFT HYPHEN is Cf: removed.
DASHES = (
    "\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a"
    "\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead\u2212"
)
_DASH_SET = frozenset(DASHES)


class _Folding(dict[int, Any]):
    """The `str.translate` table of the folding, filled per code point on first sight."""

    def __missing__(self, code: int) -> Any:
        char = chr(code)
        category = unicodedata.category(char)
        if char in _DASH_SET:
            out: Any = "-"
        elif category in ("Zs", "Zl", "Zp"):
            out = " "
        elif category == "Cf":
            out = None
        else:
            out = code
        self[code] = out
        return out


_FOLDING = _Folding()


def fold_unicode(text: str) -> str:
    """The folding every text normaliser applies first (see above); ASCII is unchanged."""
    if text.isascii():
        return text
    # Format characters go before NFKC, so that what they separated composes; NFKC itself
    # makes some dashes (U+2011 -> U+2010, U+FE58 -> U+2014), hence the second pass.
    return unicodedata.normalize("NFKC", text.translate(_FOLDING)).translate(_FOLDING)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return raw_json(value)


def _no_params(params: Mapping[str, Any]) -> list[str]:
    return [f"unknown parameter {key!r}" for key in params]


def _unknown(params: Mapping[str, Any], allowed: set[str]) -> list[str]:
    return [f"unknown parameter {key!r}" for key in params if key not in allowed]


def _all_str(values: Sequence[Any]) -> pa.Array | None:
    """`values` as an Arrow string array if every value is a str or None."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _ascii_or_python(
    values: Sequence[Any],
    params: Mapping[str, Any],
    ascii_rule: Callable[[pa.Array, Mapping[str, Any]], pa.Array],
    scalar: Callable[[Any, Mapping[str, Any]], str | None],
) -> pa.Array | None:
    """A string normaliser over a column of strings: `ascii_rule` (Arrow compute, exact for
    ASCII text only) on every row, then the rows beyond ASCII replaced by `scalar`, once per
    distinct value. None when a value is not a string."""
    array = _all_str(values)
    if array is None:
        return None
    out = ascii_rule(array, params)
    beyond = pc.invert(pc.fill_null(pc.string_is_ascii(array), True))
    if pc.any(beyond).as_py():
        encoded = pc.filter(array, beyond).dictionary_encode()
        mapped = [scalar(v, params) for v in encoded.dictionary.to_pylist()]
        replacement = pc.take(pa.array(mapped, type=pa.string()), encoded.indices)
        out = pc.replace_with_mask(out, beyond, replacement)
    return out


def _empty_to_null(array: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(pc.utf8_length(array), 0), pa.scalar(None, pa.string()), array)


# -- identifier --------------------------------------------------------------------------

# Whitespace as str.isspace() sees it in ASCII, plus - _ . / and backslash.
_ASCII_SEPARATORS = r"[\t\n\x0b\x0c\r\x1c-\x1f \-_./\\]+"
_SEPARATORS = re.compile(r"[\s\-_./\\]+")
_LEADING_ZEROS = r"(^|[^0-9])0+([0-9])"
_ZEROS = re.compile(_LEADING_ZEROS)


def _canonical_identifier(text: str) -> str:
    # Zeros first, while separators still delimit digit runs: PO-2024-000123 -> PO2024123.
    return _SEPARATORS.sub("", _ZEROS.sub(r"\1\2", fold_unicode(text).upper()))


def _prefixes(params: Mapping[str, Any]) -> tuple[str, ...]:
    raw = params.get("stripPrefixes")
    return _canonical_prefixes(tuple(raw)) if raw else ()


@lru_cache(maxsize=256)
def _canonical_prefixes(raw: tuple[str, ...]) -> tuple[str, ...]:
    # Longest first, so CIDX is stripped before CID.
    canonical = {_canonical_identifier(p) for p in raw}
    return tuple(sorted((p for p in canonical if p), key=lambda p: (-len(p), p)))


def identifier(value: Any, params: Mapping[str, Any]) -> str | None:
    """Fold Unicode, uppercase, strip leading zeros of ASCII digit runs, drop separators
    (whitespace - _ . / and backslash), strip one prefix."""
    text = _as_text(value)
    if text is None:
        return None
    out = _canonical_identifier(text)
    for prefix in _prefixes(params):
        if out.startswith(prefix):
            out = out[len(prefix) :]
            break
    return out or None


def _identifier_column(values: Sequence[Any], params: Mapping[str, Any]) -> pa.Array | None:
    return _ascii_or_python(values, params, _ascii_identifier, identifier)


def _ascii_identifier(array: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    out = pc.ascii_upper(array)
    out = pc.replace_substring_regex(out, pattern=_LEADING_ZEROS, replacement=r"\1\2")
    out = pc.replace_substring_regex(out, pattern=_ASCII_SEPARATORS, replacement="")
    prefixes = _prefixes(params)
    if prefixes:
        alternatives = "|".join(re.escape(p) for p in prefixes)
        out = pc.replace_substring_regex(
            out, pattern=f"^(?:{alternatives})", replacement="", max_replacements=1
        )
    return _empty_to_null(out)


def _check_identifier(params: Mapping[str, Any]) -> list[str]:
    problems = _unknown(params, {"stripPrefixes"})
    prefixes = params.get("stripPrefixes", [])
    if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
        problems.append("stripPrefixes must be a list of strings")
    elif any(not _canonical_identifier(p) for p in prefixes):
        problems.append("stripPrefixes must not contain a prefix that normalises to nothing")
    return problems


# -- text --------------------------------------------------------------------------------


def text(value: Any, params: Mapping[str, Any]) -> str | None:
    """Fold Unicode, casefold, collapse whitespace runs to one space, strip."""
    raw = _as_text(value)
    if raw is None:
        return None
    return " ".join(fold_unicode(raw).casefold().split()) or None


_ASCII_SPACE_RUN = r"[\t\n\x0b\x0c\r\x1c-\x1f ]+"


def _text_column(values: Sequence[Any], params: Mapping[str, Any]) -> pa.Array | None:
    return _ascii_or_python(values, params, _ascii_text, text)


def _ascii_text(array: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    out = pc.ascii_lower(array)
    out = pc.replace_substring_regex(out, pattern=_ASCII_SPACE_RUN, replacement=" ")
    out = pc.utf8_trim(out, characters=" ")
    return _empty_to_null(out)


# -- address ---------------------------------------------------------------------------

# Street words carriers spell out or abbreviate, mapped to one abbreviation.
_ADDRESS_WORDS = {
    "street": "st", "str": "st", "strasse": "st", "straße": "st", "road": "rd",
    "avenue": "ave", "av": "ave", "boulevard": "blvd", "lane": "ln", "drive": "dr",
    "place": "pl", "square": "sq", "court": "ct", "suite": "ste", "floor": "fl",
    "building": "bldg", "north": "n", "south": "s", "east": "e", "west": "w",
}  # fmt: skip
_ADDRESS_PUNCTUATION = re.compile(r"[.,;:/#'\"()\-]+")


def address(value: Any, params: Mapping[str, Any]) -> str | None:
    """Fold Unicode, casefold, punctuation to spaces, street words abbreviated one way
    ("Street", "Str.", "Straße" -> "st"), whitespace collapsed: "12, Main Street" =
    "12 MAIN ST."."""
    raw = _as_text(value)
    if raw is None:
        return None
    words = _ADDRESS_PUNCTUATION.sub(" ", fold_unicode(raw).casefold()).split()
    out = []
    for word in words:
        for suffix in ("straße", "strasse", "str"):
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                word = word.removesuffix(suffix) + " st"
                break
        out.append(_ADDRESS_WORDS.get(word, word))
    return " ".join(out) or None


# -- bandwidth ---------------------------------------------------------------------------

_BANDWIDTH = re.compile(
    r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<prefix>[kmgt]?)(?:bps|bit/s|bits/s|bit|bits|b/s|e|be)?"
)
_SI = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def bandwidth(value: Any, params: Mapping[str, Any]) -> int | None:
    """Bits per second: 10G = 10 Gbps = 10000 Mbps = 10GE; a bare number is bit/s."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    raw = _as_text(value)
    if raw is None:
        return None
    match = _BANDWIDTH.fullmatch("".join(fold_unicode(raw).casefold().split()))
    if match is None:
        return None
    bits = Decimal(match["number"]) * _SI[match["prefix"]]
    if bits != bits.to_integral_value():
        return None
    result = int(bits)
    return result if result < 2**63 else None


# -- enum --------------------------------------------------------------------------------

# MEF 116 and TMF637 product status vocabularies mapped onto one canonical vocabulary
# (keys and values text-normalised). TMF `created` is MEF `pendingActive`; a change or a
# pending termination does not stop a product being active or suspended; TMF `aborted `
# (published with a trailing space) is MEF `cancelled`.
DEFAULT_STATUS_MAP: Mapping[str, str] = {
    "created": "pendingactive",
    "pendingactive": "pendingactive",
    "active": "active",
    "active.pendingchange": "active",
    "suspended": "suspended",
    "suspendedpendingterminate": "suspended",
    "pendingterminate": "pendingterminate",
    "terminated": "terminated",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "aborted": "cancelled",
}


# Hyphens, underscores and whitespace are one separator to `enum`, and not a significant one:
# "Ethernet Private Line", "ethernet-private-line" and "ETHERNET_PRIVATE_LINE" are one
# value, and so are "E-VPL" and "EVPL", or "pending_active" and "pendingActive".
_ENUM_SEPARATORS = re.compile(r"[\s\-_]+")
_ASCII_ENUM_SEPARATORS = r"[\t\n\x0b\x0c\r\x1c-\x1f \-_]+"


def _enum_key(value: Any, params: Mapping[str, Any]) -> str | None:
    raw = _as_text(value)
    if raw is None:
        return None
    return _ENUM_SEPARATORS.sub("", fold_unicode(raw).casefold()) or None


def _ascii_enum_key(array: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    out = pc.ascii_lower(array)
    out = pc.replace_substring_regex(out, pattern=_ASCII_ENUM_SEPARATORS, replacement="")
    return _empty_to_null(out)


def _enum_map(params: Mapping[str, Any]) -> Mapping[str, str]:
    return _enum_map_of(orjson.dumps(params, option=orjson.OPT_SORT_KEYS))


@lru_cache(maxsize=64)
def _enum_map_of(params_json: bytes) -> Mapping[str, str]:
    params = orjson.loads(params_json)
    mapping: dict[str, str] = {}
    if params.get("defaultMap", True):
        mapping.update(DEFAULT_STATUS_MAP)
    for key, target in (params.get("map") or {}).items():
        k, t = _enum_key(key, {}), _enum_key(target, {})
        if k is not None and t is not None:
            mapping[k] = t
    return mapping


def enum(value: Any, params: Mapping[str, Any]) -> str | None:
    """Fold Unicode, casefold, drop hyphens, underscores and whitespace, then map through
    params.map (keys and values read the same way) over the default status vocabulary."""
    key = _enum_key(value, params)
    if key is None:
        return None
    return _enum_map(params).get(key, key)


def _enum_column(values: Sequence[Any], params: Mapping[str, Any]) -> pa.Array | None:
    mapping = _enum_map(params)
    keys = _ascii_or_python(values, params, _ascii_enum_key, _enum_key)
    if keys is not None:
        # Few distinct values: map the dictionary, not the rows.
        encoded = keys.dictionary_encode()
        labels = [mapping.get(v, v) for v in encoded.dictionary.to_pylist()]
        return pc.take(pa.array(labels, type=pa.string()), encoded.indices)
    cache: dict[str, str | None] = {}
    out: list[str | None] = []
    for value in values:
        if type(value) is str:
            if value not in cache:
                k = _enum_key(value, params)
                cache[value] = None if k is None else mapping.get(k, k)
            out.append(cache[value])
        else:
            k = _enum_key(value, params)
            out.append(None if k is None else mapping.get(k, k))
    return pa.array(out, type=pa.string())


def _check_enum(params: Mapping[str, Any]) -> list[str]:
    problems = _unknown(params, {"map", "defaultMap"})
    mapping = params.get("map", {})
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        problems.append("map must be an object of strings")
    if not isinstance(params.get("defaultMap", True), bool):
        problems.append("defaultMap must be a boolean")
    return problems


# -- date --------------------------------------------------------------------------------


DAY_RULES = ("as-written", "utc")


def date_(value: Any, params: Mapping[str, Any]) -> date | None:
    """RFC 3339 date-time or plain date -> date.

    A date-time's day is the calendar day as written, in its own offset
    (``2020-01-01T00:30:00+02:00`` is 2020-01-01); with param ``"day": "utc"`` it is the
    day in UTC (2019-12-31).
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        raw = fold_unicode(value).strip()
        try:
            if len(raw) == 10:
                return date.fromisoformat(raw)
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is not None and params.get("day") == "utc":
        moment = moment.astimezone(UTC)
    return moment.date()


def check_date_params(params: Mapping[str, Any]) -> list[str]:
    """Problems with the date normaliser's params (``day``)."""
    problems = _unknown(params, {"day"})
    if "day" in params and params["day"] not in DAY_RULES:
        problems.append("day must be 'as-written' or 'utc'")
    return problems


# -- numbers and money -------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))  # the shortest decimal the JSON text had
        elif isinstance(value, str):
            number = Decimal(fold_unicode(value).strip())
        elif isinstance(value, Decimal):
            number = value
        else:
            return None
        if not number.is_finite() or abs(number) >= _MAX_MAGNITUDE:
            return None
        number = number.quantize(_QUANTUM)
    except (InvalidOperation, ValueError):
        return None
    return number if number else Decimal(0).quantize(_QUANTUM)  # no negative zero


def number(value: Any, params: Mapping[str, Any]) -> Decimal | None:
    """A number (JSON number or numeric string) as a Decimal with 10 decimals."""
    return _decimal(value)


_CURRENCY = re.compile(r"[A-Z]{3}")


def _money_parts(value: Any) -> tuple[str, Decimal] | None:
    if not isinstance(value, dict):
        return None
    unit = value.get("unit")
    if not isinstance(unit, str):
        return None
    currency = fold_unicode(unit).strip().upper()
    amount = _decimal(value.get("value"))
    if amount is None or not _CURRENCY.fullmatch(currency):
        return None
    return currency, amount


def money(value: Any, params: Mapping[str, Any]) -> tuple[str, Decimal] | None:
    """``{"unit": ISO 4217, "value": number}`` -> (currency, Decimal).

    A TMF ``Price`` object (``dutyFreeAmount`` and/or ``taxIncludedAmount``) is read net of
    tax: its duty-free amount, or else its tax-included amount divided by ``1 + taxRate``
    (the relation's tax rate, param ``taxRate``; without it a gross-only price has no net
    value). With param ``currency`` (the relation's currency) an amount in another currency
    is converted at ``rates[currency]`` (units of the relation's currency per unit); an
    amount in a currency without a rate keeps its currency, so it differs, visibly.
    """
    gross = False
    if isinstance(value, dict) and "unit" not in value:
        if isinstance(value.get("dutyFreeAmount"), dict):
            value = value["dutyFreeAmount"]
        elif isinstance(value.get("taxIncludedAmount"), dict):
            value, gross = value["taxIncludedAmount"], True
    parts = _money_parts(value)
    if parts is None:
        return None
    currency, amount = parts
    if gross:
        rate = params.get("taxRate")
        if rate is None:
            return None
        amount = amount / (1 + (decimal_param(rate) or 0))
    target = params.get("currency")
    if target and currency != target:
        per_unit = decimal_param((params.get("rates") or {}).get(currency))
        if per_unit is not None:
            amount, currency = amount * per_unit, target
    if gross or currency != parts[0]:
        amount = amount.quantize(_QUANTUM)
    return currency, amount


def check_money_params(params: Mapping[str, Any]) -> list[str]:
    """Problems with the money normaliser's conversion params (currency, rates, taxRate)."""
    problems = []
    currency = params.get("currency")
    if currency is not None and not (isinstance(currency, str) and _CURRENCY.fullmatch(currency)):
        problems.append("currency must be an ISO 4217 code such as EUR")
    rates = params.get("rates")
    if rates is not None:
        if currency is None:
            problems.append("rates need a currency to convert to")
        if not isinstance(rates, dict) or not all(
            isinstance(k, str) and _CURRENCY.fullmatch(k) and _positive_decimal(v)
            for k, v in rates.items()
        ):
            problems.append("rates must map ISO 4217 codes to positive decimals")
    tax = params.get("taxRate")
    if tax is not None and not (_positive_decimal(tax) and (decimal_param(tax) or 0) < 10):
        problems.append('taxRate must be a decimal such as "0.19" or 0.19')
    return problems


def _positive_decimal(value: Any) -> bool:
    number = decimal_param(value)
    return number is not None and number.is_finite() and number > 0


# -- exact -------------------------------------------------------------------------------


def exact(value: Any, params: Mapping[str, Any]) -> str | None:
    """The value unchanged: strings as they are, anything else as its JSON text."""
    if type(value) is str:
        return value if value.strip() else None
    return raw_json(value)


register(
    "identifier",
    identifier,
    arrow_type=pa.string(),
    check_params=_check_identifier,
    column=_identifier_column,
)
register("text", text, arrow_type=pa.string(), column=_text_column)
register("bandwidth", bandwidth, arrow_type=pa.int64())
register("address", address, arrow_type=pa.string())
register("enum", enum, arrow_type=pa.string(), check_params=_check_enum, column=_enum_column)
register("date", date_, arrow_type=pa.date32(), check_params=check_date_params)
register("number", number, arrow_type=DECIMAL_TYPE)
register("money", money, arrow_type=MONEY_TYPE)
register("exact", exact, arrow_type=pa.string())
