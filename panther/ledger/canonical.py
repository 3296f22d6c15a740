"""RFC 8785 (JSON Canonicalization Scheme) encoding and the SHA-256 helpers built on it.

`canonical_json` is byte-for-byte `rfc8785.dumps`, but fast: orjson does the work and the
few spots where orjson and JCS could disagree are detected and repaired or handed to rfc8785.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import rfc8785

__all__ = ["canonical_json", "payload_hash", "sha256"]

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
    try:
        out = orjson.dumps(obj, option=_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return rfc8785.dumps(obj)
    if not out.isascii() and out.translate(None, _ALL_BUT_NON_BMP_LEADS):
        return rfc8785.dumps(obj)
    fixed, exact = _fix_floats(out)
    # orjson writes NaN and infinities as null, where JCS refuses them: any null is checked.
    if (not exact or (not finite and b"null" in out)) and not _same(fixed, obj):
        return rfc8785.dumps(obj)
    return fixed


def _same(encoded: bytes, obj: Any) -> bool:
    """True if `encoded` decodes to a value equal to `obj` (numbers compare numerically)."""
    try:
        return bool(orjson.loads(encoded) == obj)
    except orjson.JSONDecodeError:
        return False


def _fix_floats(out: bytes) -> tuple[bytes, bool]:
    """Rewrite orjson's float tokens that differ from ECMAScript's Number.toString form.

    orjson and ECMAScript write the same shortest round-trip digits; they differ only for
    integral floats (orjson adds ".0") and in where they switch to exponent notation
    (orjson's exponents always carry a sign). Every such token sits between a structural byte
    (':', '[', ',' before; ',', ']', '}' after) or the ends of the text. Returns the rewritten
    bytes and whether every rewrite is known to be outside a string (False when escapes make
    that unclear).
    """
    starts: set[int] = set()
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
            i = out.find(needle, i + 1)
    if not starts:
        return out, True
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
        return out, True
    pieces.append(out[pos:])
    return b"".join(pieces), exact


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
