"""RFC 8785 (JSON Canonicalization Scheme) encoding and the SHA-256 helpers built on it.

`canonical_json` is byte-for-byte `rfc8785.dumps`, but fast: orjson does the work and the
few spots where orjson and JCS could disagree are detected and repaired or handed to rfc8785.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from typing import Any

import orjson
import rfc8785

__all__ = [
    "MAX_EXACT_INTEGER",
    "MAX_JSON_DEPTH",
    "MAX_JSON_VALUES",
    "MAX_RECORD_BYTES",
    "MAX_STRING_CHARS",
    "InexactNumber",
    "exact_float",
    "canonical_json",
    "canonical_json_and_doubt",
    "not_kept_exactly",
    "payload_hash",
    "sha256",
]

MAX_EXACT_INTEGER = 2**53 - 1
"""Numbers beyond ±(2^53 - 1) are refused: JSON implementations (and RFC 8785, which signs
IEEE doubles) cannot keep them exactly, so what is signed would differ from what was sent
(I-JSON, RFC 7493 section 2.2). Every double of that size is an integer: no fraction is lost."""

MAX_JSON_DEPTH = 32
"""How deep the containers of one request body or one report record may nest."""

MAX_STRING_CHARS = 65_536
"""The longest string (or key) one request body may hold: a note, a name, a profile rule."""

MAX_JSON_VALUES = 100_000
"""How many values (containers, strings, numbers, literals) one request body may hold."""

MAX_RECORD_BYTES = 65_536
"""The largest record of a report, in canonical JSON bytes (a product is about 1 KB)."""


class InexactNumber(float):
    """A JSON number whose digits a double cannot keep (``0.12345678901234567891``): parsed
    with its text so that :func:`not_kept_exactly` can name it instead of rounding it."""

    text: str

    def __new__(cls, text: str) -> InexactNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number


def exact_float(text: str) -> float:
    """``float(text)``, or an :class:`InexactNumber` when the double's shortest decimal form
    differs in value from ``text`` (digits would be lost); a ``parse_float`` hook."""
    number = float(text)
    if math.isfinite(number) and Decimal(repr(number)) != Decimal(text):
        return InexactNumber(text)
    return number


# Sorted keys by code point; integers beyond 2**53 make orjson raise (JCS forbids them too);
# subclasses, datetimes and dataclasses are not JSON, so orjson refuses them and rfc8785
# gives its own verdict.
_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_STRICT_INTEGER
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_TOKEN_LEFT = frozenset(b"0123456789.-")
_TOKEN_RIGHT = frozenset(b"0123456789.e+-")
_BEFORE = frozenset(b":[,")
_AFTER = frozenset(b",]}")
# bytes.translate deletes everything except the lead bytes of 4-byte UTF-8 sequences
# (code points above U+FFFF), which is the only case where UTF-16 key order differs from
# orjson's code point order.
_ALL_BUT_NON_BMP_LEADS = bytes(b for b in range(256) if not 0xF0 <= b <= 0xF4)


def sha256(data: bytes) -> bytes:
    """SHA-256 digest of `data` (32 bytes)."""
    return hashlib.sha256(data).digest()


def payload_hash(obj: Any) -> bytes:
    """SHA-256 of the canonical JSON of `obj`."""
    return hashlib.sha256(canonical_json(obj)).digest()


def canonical_json(obj: Any, *, finite: bool = False) -> bytes:
    """Encode a JSON value (dict, list, tuple, str, int, float, bool, None) per RFC 8785.

    Raises `rfc8785.CanonicalizationError` (a ValueError) for values JCS cannot encode
    (NaN, infinities, integers beyond 2**53 - 1, non-string keys, lone surrogates).
    Pass `finite=True` only for values that cannot hold NaN or infinities (for instance
    straight from `orjson.loads`, which rejects them): it skips the check for them.
    """
    return canonical_json_and_doubt(obj, finite=finite)[0]


def canonical_json_and_doubt(obj: Any, *, finite: bool = False) -> tuple[bytes, bool]:
    """`canonical_json`, and whether `obj` may hold what `not_kept_exactly` refuses (a double
    of 2^53 or more, or a NUL): False proves it does not; True means: walk it. Nearly free:
    orjson writes such doubles as ``...e+NN`` or as 16 digits and ``.0``."""
    try:
        out = orjson.dumps(obj, option=_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return rfc8785.dumps(obj), True
    fixed, exact, large = _fix_floats(out)
    # A backslash is rare (memchr-fast); only then can an escaped NUL hide in the text.
    doubt = large or (b"\\" in out and b"\\u0000" in out)
    if not out.isascii() and out.translate(None, _ALL_BUT_NON_BMP_LEADS):
        return rfc8785.dumps(obj), doubt
    # orjson writes NaN and infinities as null, where JCS refuses them: any null is checked.
    if (not exact or (not finite and b"null" in out)) and not _same(fixed, obj):
        return rfc8785.dumps(obj), True
    return fixed, doubt


def _same(encoded: bytes, obj: Any) -> bool:
    """True if `encoded` decodes to a value equal to `obj` (numbers compare numerically)."""
    try:
        return bool(orjson.loads(encoded) == obj)
    except orjson.JSONDecodeError:
        return False


def _fix_floats(out: bytes) -> tuple[bytes, bool, bool]:
    """Rewrite orjson's float tokens that differ from ECMAScript's Number.toString form.

    orjson and ECMAScript write the same shortest round-trip digits; they differ only for
    integral floats (orjson adds ".0") and in where they switch to exponent notation
    (orjson's exponents always carry a sign). Every such token sits between a structural byte
    (':', '[', ',' before; ',', ']', '}' after) or the ends of the text. Returns the rewritten
    bytes, whether every rewrite is known to be outside a string (False when escapes make
    that unclear), and whether a token may be a double of 2^53 or more (orjson writes those
    as ``Xe+NN`` or as 16 or more digits and ``.0``; a string that looks so counts too).
    """
    starts: set[int] = set()
    large = False
    # Only these spellings differ: "X.0", "Xe+16" to "Xe+20" and "Xe-6". Single-byte
    # membership tests are memchr-fast and skip the slower substring searches.
    needles = []
    if b"." in out:
        needles.append(b".0")
    if b"+" in out:
        needles.append(b"e+")
    needles.append(b"e-6")
    for needle in needles:
        i = out.find(needle)
        while i != -1:
            s = i
            while s > 0 and out[s - 1] in _TOKEN_LEFT:
                s -= 1
            if s < i and (s == 0 or out[s - 1] in _BEFORE):
                starts.add(s)
                large = large or needle == b"e+" or i - s - (out[s] == 45) >= 16
            i = out.find(needle, i + 1)
    if not starts:
        return out, True, large
    # Without backslashes every '"' delimits a string, so quote parity tells whether a
    # position is inside one; with escapes the caller re-checks the whole result instead.
    exact = b"\\" not in out
    pieces: list[bytes] = []
    pos = 0
    n = len(out)
    for s in sorted(starts):
        e = s
        while e < n and out[e] in _TOKEN_RIGHT:
            e += 1
        if e < n and out[e] not in _AFTER:
            continue
        if exact and out.count(b'"', 0, s) % 2:
            continue
        token = out[s:e]
        replacement = _es6_number(token)
        if replacement is None or replacement == token:
            continue
        pieces.append(out[pos:s])
        pieces.append(replacement)
        pos = e
    if not pieces:
        return out, True, large
    pieces.append(out[pos:])
    return b"".join(pieces), exact, large


def _es6_number(token: bytes) -> bytes | None:
    """The JCS form of an orjson float token, or None if it is not a number."""
    if token.endswith(b".0") and b"e" not in token:
        # Integral and below 1e16: orjson wrote the shortest digits padded with zeros,
        # exactly what ECMAScript writes, plus ".0".
        digits = token[:-2]
        return b"0" if digits == b"-0" else digits
    if b"e" not in token:
        # Non-integral in orjson's fixed range [1e-5, 1e16), inside ECMAScript's fixed
        # range [1e-6, 1e21): the same shortest round-trip digits.
        return token
    try:
        return rfc8785.dumps(float(token))
    except ValueError:
        return None


def not_kept_exactly(
    value: Any,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_string: int | None = None,
    max_values: int | None = None,
) -> tuple[str, str] | None:
    """The first place, as (JSON pointer, reason), where ``value`` could not be signed and
    stored exactly as it was sent; None when it can. Refused: containers nested deeper than
    ``max_depth`` (the value itself is level 1), numbers beyond ±(2^53 - 1), numbers with
    more digits than a double keeps (:class:`InexactNumber`), NaN and the infinities, and
    the NUL character in a string or key (PostgreSQL cannot store it, and every database
    must keep the same text); with ``max_string`` and ``max_values``, longer strings or keys
    and more values than that. Walks iteratively: any depth is safe."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    seen = 0
    while stack:
        node, depth, at = stack.pop()
        seen += 1
        if max_values is not None and seen > max_values:
            return at, f"the body holds more than {max_values} values"
        kind = type(node)
        if kind is dict or kind is list:
            if depth > max_depth:
                return at, f"nesting is deeper than {max_depth} levels"
            pairs = node.items() if kind is dict else enumerate(node)
            children = []
            for key, child in pairs:
                token = str(key)
                if "\x00" in token:
                    return at, "a key holds the NUL character (U+0000)"
                if max_string is not None and len(token) > max_string:
                    return at, f"a key is longer than {max_string} characters"
                children.append((child, depth + 1, f"{at}/{_pointer_token(token)}"))
            stack.extend(reversed(children))  # report in document order
        elif kind is str:
            if "\x00" in node:
                return at, "the string holds the NUL character (U+0000)"
            if max_string is not None and len(node) > max_string:
                return at, f"the string is {len(node)} characters, over {max_string}"
        elif kind is int:
            if abs(node) > MAX_EXACT_INTEGER:
                return at, (
                    f"the number {node} is beyond ±(2^53 - 1) and cannot be kept exactly; "
                    "send it as a string"
                )
        elif kind is InexactNumber:
            return at, (
                f"the number {node.text} has more digits than can be kept exactly "
                f"(it would become {float(node)!r}); send it as a string"
            )
        elif kind is float:
            if not math.isfinite(node):
                return at, f"{node!r} is not a JSON number"
            if abs(node) > MAX_EXACT_INTEGER:
                return at, (
                    f"the number {node!r} is beyond ±(2^53 - 1) and cannot be kept exactly; "
                    "send it as a string"
                )
    return None


def _pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
