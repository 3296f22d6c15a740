"""Turn an uploaded inventory report (JSON array, NDJSON or CSV) into its records, as sent.

Only what cannot be read is refused (`records.validate_record`, and the exactness rules of
`ledger.canonical`): every readable record comes back with its canonical bytes and the
report's content hash. A report with unreadable records is refused whole (`ReportRejected`
counts every problem by kind and lists the first `max_errors` by line and pointer) or, with
`hold_out=True`, kept without them: each held-out record is listed with its problems and the
digest of its bytes as sent.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from panther.inventory.errors import (
    InvalidCsvMapping,
    RecordError,
    ReportRejected,
    UnsupportedMediaType,
)
from panther.inventory.paths import FieldPath, InvalidPath, compile_path
from panther.inventory.records import json_pointer, kind, quote, validate_record
from panther.ledger.canonical import (
    MAX_JSON_DEPTH,
    MAX_RECORD_BYTES,
    canonical_json_and_doubt,
    exact_float,
    not_kept_exactly,
)

__all__ = [
    "MEDIA_TYPES",
    "HeldOutRecord",
    "ParsedReport",
    "check_csv_mapping",
    "content_hash",
    "held_out_hash",
    "parse_report",
]

JSON = "application/json"
NDJSON = "application/x-ndjson"
CSV = "text/csv"
MEDIA_TYPES = (JSON, NDJSON, CSV)

_BOM = b"\xef\xbb\xbf"
_MAX_SAFE_INTEGER = 2**53 - 1  # RFC 8785 numbers are IEEE doubles
_MONEY_KEYS = frozenset({"dutyFreeAmount", "taxIncludedAmount"})
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
# Everything except the bytes that matter for nesting: quotes and brackets.
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'"[]{}')
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True, slots=True)
class HeldOutRecord:
    """A record that cannot be read, held out of a report that is kept without it.

    `record` is its 0-based position in the upload, `line` its 1-based line (NDJSON line,
    first physical line of a CSV row, line of a JSON array element); `digest` is the SHA-256
    of its bytes as sent (the NDJSON line without its newline, the CSV row's physical lines,
    the JSON element's text)."""

    line: int | None
    record: int
    problems: tuple[RecordError, ...]
    digest: bytes


@dataclass(frozen=True)
class ParsedReport:
    """A report's readable records in upload order, their canonical JSON, and its hash.

    `content_hash` is the hex SHA-256 of the RFC 8785 canonical JSON of the records array
    (`[leaf,leaf,...]`), so the same records give the same hash whatever the upload format.
    `held_out` (only with `hold_out=True`) lists the records left out, in upload order.
    """

    records: list[dict[str, Any]]
    count: int
    content_hash: str
    leaves: list[bytes]
    held_out: list[HeldOutRecord] = field(default_factory=list)

    @property
    def held_out_hash(self) -> str | None:
        """`held_out_hash` of the held-out records; None when none was held out."""
        return held_out_hash(self.held_out) if self.held_out else None


def held_out_hash(held_out: Sequence[HeldOutRecord]) -> str:
    """The hex SHA-256 of the held-out records' digests, concatenated in upload order: what
    the ledger entry of a report kept without them commits to."""
    return hashlib.sha256(b"".join(h.digest for h in held_out)).hexdigest()


def parse_report(
    body: bytes,
    media_type: str,
    *,
    csv_mapping: Mapping[str, str] | None = None,
    hold_out: bool = False,
    known_status: Callable[[str], bool] | None = None,
    max_errors: int = 100,
    max_depth: int = MAX_JSON_DEPTH,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> ParsedReport:
    """Parse, check and canonicalise an uploaded report.

    `media_type` may carry parameters (`; charset=utf-8`); only UTF-8 is accepted.
    `csv_mapping` (CSV header -> field path) is required for `text/csv`. `max_depth` bounds
    the nesting of containers inside one record (the record object is depth 1);
    `max_record_bytes` the size of one record in canonical JSON. `known_status` says
    whether a status word can be served (a record with another is unreadable as a product).

    With `hold_out`, unreadable records are left out and listed in `held_out`; a problem
    of the whole document (not JSON, not an array, not UTF-8 in a JSON array or CSV, a CSV
    header or quoting that cannot be read) still refuses the report.

    Raises `UnsupportedMediaType`, `InvalidCsvMapping` (a broken profile) or
    `ReportRejected`, which counts every problem by kind and lists the first `max_errors`.
    """
    if max_errors < 1 or max_depth < 1:
        raise ValueError("max_errors and max_depth must be at least 1")
    fmt = _media_kind(media_type)
    columns: list[_Column] = []
    if fmt == CSV:
        if csv_mapping is None:
            raise UnsupportedMediaType(
                media_type, MEDIA_TYPES, "CSV needs the relation's csvMapping, which is not set"
            )
        columns = _compile_mapping(csv_mapping)

    errors = _Errors(max_errors, hold_out)
    offset = 0  # bytes dropped in front, so that reported offsets are into the upload
    if body.startswith(_BOM):  # spreadsheets write one; RFC 8259 lets parsers ignore it
        offset = len(_BOM)
        body = body[offset:]
    if not body or body.isspace():  # isspace stops at the first byte of a real body
        errors.add(None, None, "", "the report is empty", "emptyReport")
        raise errors.reject()

    # Parsing a large report allocates millions of containers; the cyclic collector would
    # rescan them over and over (measured 4x slower) and JSON data holds no cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if fmt == JSON:
            items = _read_json(body, offset, max_depth, errors)
        elif fmt == NDJSON:
            items = _read_ndjson(body, offset, max_depth, errors)
        else:
            items = _read_csv(body, offset, columns, max_depth, errors)
        return _finish(items, errors, max_record_bytes, known_status, _SentBytes(fmt, body))
    finally:
        if gc_was_enabled:
            gc.enable()


def check_csv_mapping(mapping: Mapping[str, str]) -> None:
    """Raise `InvalidCsvMapping` unless the mapping can build records from CSV rows.

    Each path must compile, end in a key, and not clash with another column's path (one
    column writing a value where another needs an object or a list, or two writing the same
    field, or a column overwriting the attribute its list selector matches on).
    """
    _compile_mapping(mapping)


# --- shared machinery ----------------------------------------------------------------------


class _Errors:
    """Counts every problem by kind and lists the first `limit`; with `hold_out`, also keeps
    each record's problems (`held`), and `document` says whether one was the whole body's."""

    __slots__ = ("counts", "document", "held", "hold_out", "items", "last", "limit", "records")

    def __init__(self, limit: int, hold_out: bool = False) -> None:
        self.items: list[RecordError] = []
        self.limit = limit
        self.hold_out = hold_out
        self.counts: Counter[str] = Counter()
        self.records = 0  # records with at least one problem
        self.last: int | None = None
        self.document = False
        self.held: dict[int, list[RecordError]] = {}

    def add(
        self, line: int | None, record: int | None, pointer: str, message: str, kind: str
    ) -> None:
        error = RecordError(line, record, pointer, message, kind)
        self.counts[kind] += 1
        if record is None:
            self.document = True
        else:
            if record != self.last:
                self.records += 1
                self.last = record
            if self.hold_out:
                self.held.setdefault(record, []).append(error)
        if len(self.items) < self.limit:
            self.items.append(error)

    def reject(self) -> ReportRejected:
        truncated = sum(self.counts.values()) > len(self.items)
        return ReportRejected(self.items, truncated, dict(self.counts), self.records)


# (line, record, where) per item; `None` record means the item already failed to parse;
# `where` finds its bytes as sent (see `_SentBytes`).
_Item = tuple[int | None, dict[str, Any] | None, Any]


def _media_kind(media_type: str) -> str:
    base, _, params = media_type.partition(";")
    base = base.strip().lower()
    if base not in MEDIA_TYPES:
        raise UnsupportedMediaType(media_type, MEDIA_TYPES)
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise UnsupportedMediaType(media_type, MEDIA_TYPES, "only UTF-8 is accepted")
    return base


def _finish(
    items: Iterator[_Item],
    errors: _Errors,
    max_record_bytes: int,
    known_status: Callable[[str], bool] | None,
    sent: _SentBytes,
) -> ParsedReport:
    records: list[dict[str, Any]] = []
    leaves: list[bytes] = []
    statuses: dict[str, bool] = {}
    where_held: dict[int, tuple[int | None, Any]] = {}
    for index, (line, record, where) in enumerate(items):
        if record is not None:
            leaf = _leaf(record, line, index, errors, max_record_bytes, known_status, statuses)
            if leaf is not None:
                records.append(record)
                leaves.append(leaf)
                continue
        if errors.hold_out:
            where_held[index] = (line, where)
    if errors.document or (errors.counts and not errors.hold_out):
        raise errors.reject()
    try:
        held_out = [
            sent.held_out(index, *where_held[index], tuple(problems))
            for index, problems in sorted(errors.held.items())
        ]
    except RecursionError:
        message = "a held-out record nests too deep to be separated from the report"
        errors.add(None, None, "", message, "tooDeep")
        raise errors.reject() from None
    return ParsedReport(records, len(records), content_hash(leaves), leaves, held_out)


def _leaf(
    record: dict[str, Any],
    line: int | None,
    index: int,
    errors: _Errors,
    max_record_bytes: int,
    known_status: Callable[[str], bool] | None,
    statuses: dict[str, bool],
) -> bytes | None:
    """The record's canonical JSON, or None with its problems added."""
    problems = validate_record(record, parsed_json=True)
    if problems:
        for problem in problems:
            errors.add(line, index, *problem)
        return None
    status = record["status"]
    if known_status is not None:
        known = statuses.get(status)
        if known is None:
            known = statuses[status] = known_status(status)
        if not known:
            message = (
                f"status {quote(status)} is neither a TMF637 nor a MEF 116 value and the "
                "relation's profile does not map it"
            )
            errors.add(line, index, "/status", message, "statusUnknown")
            return None
    try:
        # Records come from orjson (which refuses NaN and infinities) or from the CSV
        # builder (which checks every number): the non-finite check can be skipped.
        leaf, doubt = canonical_json_and_doubt(record, finite=True)
    except (ValueError, TypeError, RecursionError) as exc:
        errors.add(line, index, *_uncanonical(record, exc))
        return None
    if len(leaf) > max_record_bytes:
        message = f"the record is {len(leaf)} bytes, over {max_record_bytes}"
        errors.add(line, index, "", message, "recordTooLarge")
        return None
    if doubt:
        inexact = not_kept_exactly(record)
        if inexact is not None:
            errors.add(line, index, *inexact, _exactness_kind(inexact[1]))
            return None
    return leaf


def _exactness_kind(message: str) -> str:
    """The `KINDS` code of a `not_kept_exactly` reason."""
    if "NUL" in message:
        return "nulCharacter"
    if "nesting" in message:
        return "tooDeep"
    return "numberNotExact"


class _SentBytes:
    """Where a held-out record's bytes as sent are in the body: found only for held-out
    records, and only once one is (an NDJSON item carries its line; a CSV item its first
    and last physical line; a JSON array element is found by reading the array again)."""

    def __init__(self, fmt: str, body: bytes) -> None:
        self.fmt = fmt
        self.body = body
        self._lines: list[bytes] | None = None
        self._spans: list[tuple[int, int, int]] | None = None

    def held_out(
        self, index: int, line: int | None, where: Any, problems: tuple[RecordError, ...]
    ) -> HeldOutRecord:
        """The held-out record at `index`, with the SHA-256 of its bytes as sent."""
        if self.fmt == NDJSON:
            sent: bytes = where
        elif self.fmt == CSV:
            if self._lines is None:
                self._lines = self.body.split(b"\n")
            first, last = where
            sent = b"\n".join(self._lines[first - 1 : last])
        else:
            if self._spans is None:
                self._spans = _element_spans(self.body)
            start, end, line = self._spans[index]
            sent = self.body[start:end]
        return HeldOutRecord(line, index, problems, hashlib.sha256(sent).digest())


def _after_space(text: str, at: int) -> int:
    found = _JSON_SPACE.match(text, at)
    assert found is not None  # the pattern matches the empty string
    return found.end()


def _element_spans(body: bytes) -> list[tuple[int, int, int]]:
    """(start byte, end byte, line) of each element of a JSON array that orjson has read.

    Python's decoder gives the end of each element it reads; a held-out element nested near
    orjson's own limit can exceed the recursion limit, and then the report cannot be split
    (RecursionError reaches the caller, which refuses it whole)."""
    text = body.decode("utf-8")
    decoder = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str)
    spans: list[tuple[int, int, int]] = []
    at = _after_space(text, 0) + 1  # past "["
    line, counted, byte, counted_chars = 1, 0, 0, 0
    while True:
        at = _after_space(text, at)
        if text[at] == "]":
            return spans
        _, end = decoder.raw_decode(text, at)
        line += text.count("\n", counted, at)
        counted = at
        byte += len(text[counted_chars:at].encode())
        start_byte = byte
        byte += len(text[at:end].encode())
        counted_chars = end
        spans.append((start_byte, byte, line))
        at = _after_space(text, end)
        if text[at] == ",":
            at += 1


def content_hash(leaves: Sequence[bytes]) -> str:
    """SHA-256 hex of the canonical JSON array of the records: the same for the same records
    whether they came as JSON, NDJSON or CSV (RFC 8785 joins array elements with commas)."""
    digest = hashlib.sha256(b"[")
    digest.update(b",".join(leaves))
    digest.update(b"]")
    return digest.hexdigest()


def _uncanonical(record: dict[str, Any], exc: BaseException) -> tuple[str, str, str]:
    """Locate the value RFC 8785 refused (only reached on the error path)."""
    stack: list[tuple[Any, str]] = [(record, "")]
    while stack:
        node, ptr = stack.pop()
        if type(node) is dict:
            stack.extend((v, ptr + json_pointer(k)) for k, v in node.items())
        elif type(node) is list:
            stack.extend((v, f"{ptr}/{i}") for i, v in enumerate(node))
        elif type(node) is int and abs(node) > _MAX_SAFE_INTEGER:
            return (
                ptr,
                (
                    f"integer {quote(node)} is outside ±(2^53-1) and cannot be represented "
                    "exactly in canonical JSON (RFC 8785)"
                ),
                "numberNotExact",
            )
        elif type(node) is float and not math.isfinite(node):
            return ptr, f"{node!r} is not a JSON number", "notCanonical"
    return "", f"cannot be canonicalised (RFC 8785): {quote(str(exc))}", "notCanonical"


def _height_within(text: bytes, limit: int) -> bool:
    """True if the containers in valid JSON `text` nest at most `limit` deep.

    Works on bytes in C-speed passes: drop escapes and string contents, keep only the
    brackets, then strip empty pairs. Each `replace` removes at most one level, so emptiness
    after `limit` calls proves the bound; False can be a false alarm (the caller then walks
    the records exactly).
    """
    if len(text) <= 65536 and text.count(b"[") + text.count(b"{") <= limit:
        return True  # small bodies: counting is cheaper than the passes (not so for 100 MB)
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    text = text.translate(None, _NOT_STRUCTURE)
    # Removing two adjacent quotes keeps the open/close alternation of all the others.
    text = text.replace(b'""', b"")
    if b'"' in text:
        text = b"".join(text.split(b'"')[::2])
    for call in range(limit):
        if not text:
            return True
        text = text.replace(b"{}" if call % 2 == 0 else b"[]", b"")
    return not text


def _deep_pointer(record: dict[str, Any], max_depth: int) -> str | None:
    """Pointer to the first container nested deeper than `max_depth`, iteratively."""
    stack: list[tuple[Any, int, str]] = [(record, 1, "")]
    while stack:
        node, depth, ptr = stack.pop()
        if depth > max_depth:
            return ptr
        if type(node) is dict:
            children: Iterator[tuple[str, Any]] = ((json_pointer(k), v) for k, v in node.items())
        else:
            children = ((f"/{i}", v) for i, v in enumerate(node))
        for suffix, child in children:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1, ptr + suffix))
    return None


def _within_depth(
    record: dict[str, Any], line: int | None, index: int, max_depth: int, errors: _Errors
) -> bool:
    pointer = _deep_pointer(record, max_depth)
    if pointer is None:
        return True
    errors.add(line, index, pointer, f"nesting is deeper than {max_depth} levels", "tooDeep")
    return False


# Digits and the point as 1, the rest as 0: a C-speed mask in which long numbers are runs.
_DIGIT_MASK = bytes(1 if chr(b) in "0123456789." else 0 for b in range(256))
_RUN = b"\x01" * 16
_BEFORE_NUMBER = frozenset(b":,[")


def _long_number(data: bytes) -> bool:
    """Whether `data` may hold a JSON number written with 16 or more digits and points (the
    only kind whose digits a double may not keep): a run of them that starts a token after
    ':', ',' or '[' (runs inside strings, such as ICCIDs, mostly start after a quote)."""
    mask = data.translate(_DIGIT_MASK)
    i = mask.find(_RUN)
    while i != -1:
        j = i - 1
        while j >= 0 and data[j] in b" \t\r-":
            j -= 1
        if j < 0 or data[j] in _BEFORE_NUMBER:
            return True
        end = i + len(_RUN)
        while end < len(mask) and mask[end]:
            end += 1
        i = mask.find(_RUN, end)
    return False


def _keeps_its_digits(value: Any, line: int | None, index: int, errors: _Errors) -> bool:
    """False, with the problem added, when a number of `value` (parsed with `exact_float`)
    has more digits than a double keeps: orjson would round it silently."""
    problem = not_kept_exactly(value)
    if problem is None:
        return True
    errors.add(line, index, *problem, _exactness_kind(problem[1]))
    return False


def _utf8_error(data: bytes, offset: int) -> tuple[int, str] | None:
    """Where `data` (byte `offset` of the upload) stops being UTF-8: (index, message)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start, _utf8_message(exc, offset)
    return None


def _utf8_message(exc: UnicodeDecodeError, offset: int) -> str:
    return f"not valid UTF-8: {exc.reason} at byte offset {offset + exc.start}"


def _decode_error(exc: orjson.JSONDecodeError, max_depth: int) -> tuple[str, str]:
    """(message, kind) of a document or line orjson could not read."""
    if "depth" in exc.msg or "recursion" in exc.msg:
        return f"nesting is deeper than {max_depth} levels", "tooDeep"
    return f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg[:80]}", "notJson"


# --- JSON and NDJSON -----------------------------------------------------------------------


def _read_json(body: bytes, offset: int, max_depth: int, errors: _Errors) -> Iterator[_Item]:
    try:
        document = orjson.loads(body)  # orjson checks UTF-8 itself; we only explain failures
    except orjson.JSONDecodeError as exc:
        bad_utf8 = _utf8_error(body, offset)
        if bad_utf8 is None:
            errors.add(exc.lineno, None, "", *_decode_error(exc, max_depth))
        else:
            position, message = bad_utf8
            errors.add(body.count(b"\n", 0, position) + 1, None, "", message, "notUtf8")
        raise errors.reject() from None
    if type(document) is not list:
        message = f"a JSON report must be an array of records, not {kind(document)}"
        errors.add(None, None, "", message, "notAnArray")
        raise errors.reject()
    # One C-speed look at the whole body (the array adds a level) decides whether the
    # records need the exact, slower walk.
    suspect = not _height_within(body, max_depth + 1)
    exact: list[Any] | None = None
    if not suspect and _long_number(body):
        exact = json.loads(body, parse_float=exact_float)
    for index, record in enumerate(document):
        if type(record) is not dict:
            message = f"a record must be a JSON object, not {kind(record)}"
            errors.add(None, index, "", message, "notAnObject")
            yield None, None, None
        elif suspect and not _within_depth(record, None, index, max_depth, errors):
            yield None, None, None
        elif exact is not None and not _keeps_its_digits(exact[index], None, index, errors):
            yield None, None, None
        else:
            yield None, record, None


def _read_ndjson(body: bytes, offset: int, max_depth: int, errors: _Errors) -> Iterator[_Item]:
    loads = orjson.loads
    long_numbers = _long_number(body)  # one look at the body; at lines only then
    index = 0
    start = offset - 1  # byte offset of the current line, minus its newline
    for number, line in enumerate(body.split(b"\n"), start=1):
        start += 1
        try:
            record = loads(line)
        except orjson.JSONDecodeError as exc:
            if line.isspace() or not line:
                start += len(line)
                continue  # blank lines (and the final newline) separate nothing
            bad_utf8 = _utf8_error(line, start)
            if bad_utf8 is not None:
                message, problem = bad_utf8[1], "notUtf8"
            else:
                message, problem = _decode_error(exc, max_depth)
                if problem == "notJson":  # the line number is reported apart
                    message = f"malformed JSON at column {exc.colno}: {exc.msg[:80]}"
            errors.add(number, index, "", message, problem)
            record = None
        else:
            if type(record) is not dict:
                message = f"a record must be a JSON object, not {kind(record)}"
                errors.add(number, index, "", message, "notAnObject")
                record = None
            # Counting brackets (strings included) over-estimates depth, so only lines that
            # could be too deep get the exact walk.
            elif line.count(b"{") + line.count(b"[") > max_depth and not _within_depth(
                record, number, index, max_depth, errors
            ):
                record = None
            elif (
                long_numbers
                and _long_number(line)
                and not _keeps_its_digits(
                    json.loads(line, parse_float=exact_float), number, index, errors
                )
            ):
                record = None
        yield number, record, line
        index += 1
        start += len(line)


# --- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    path: FieldPath
    money_value: bool  # the path ends in a Money value, so the cell must be a number


def _compile_mapping(mapping: Mapping[str, str]) -> list[_Column]:
    columns: list[_Column] = []
    for name, text in mapping.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidCsvMapping(str(name), str(text), "the column name is empty")
        if not isinstance(text, str):
            raise InvalidCsvMapping(name, repr(text), "the field path must be a string")
        try:
            path = compile_path(text)
        except InvalidPath as exc:
            raise InvalidCsvMapping(name, text, exc.reason) from exc
        last = path.steps[-1]
        if last.attr is not None or last.index is not None:
            raise InvalidCsvMapping(name, text, "a path must end in a key, not a list element")
        for step, after in zip(path.steps, path.steps[1:], strict=False):
            if step.attr is not None and after.key == step.attr:
                reason = "it overwrites the attribute its selector matches"
                raise InvalidCsvMapping(name, text, reason)
        money = last.key == "value" and len(path.steps) > 1 and path.steps[-2].key in _MONEY_KEYS
        columns.append(_Column(name.strip(), path, money))
    for i, a in enumerate(columns):
        for b in columns[i + 1 :]:
            if a.name == b.name:
                raise InvalidCsvMapping(b.name, b.path.text, "the column is mapped twice")
            clash = _clash(a.path, b.path)
            if clash:
                raise InvalidCsvMapping(b.name, b.path.text, f"{clash} {a.path.text!r}")
    return columns


def _clash(a: FieldPath, b: FieldPath) -> str | None:
    """Why two paths cannot both be set on one record, or None."""
    for i, (sa, sb) in enumerate(zip(a.steps, b.steps, strict=False)):
        if sa.key != sb.key:
            return None
        a_last, b_last = i == len(a.steps) - 1, i == len(b.steps) - 1
        if a_last and b_last:
            return "it writes the same field as"
        if a_last or b_last:
            return "it needs an object or list where a value is written by"
        a_list = sa.attr is not None or sa.index is not None
        b_list = sb.attr is not None or sb.index is not None
        if a_list != b_list:
            return "it needs a list where an object is written by"
        if sa != sb:
            return None  # different elements of the same list
    return None


def _read_csv(
    body: bytes, offset: int, columns: list[_Column], max_depth: int, errors: _Errors
) -> Iterator[_Item]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        errors.add(line, None, "", _utf8_message(exc, offset), "notUtf8")
        raise errors.reject() from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        header = []
    except csv.Error as exc:
        errors.add(reader.line_num, None, "", f"malformed CSV: {quote(str(exc))}", "malformedCsv")
        raise errors.reject() from None
    plan = _plan_header(header, columns, reader.line_num, errors)
    if errors.document:
        raise errors.reject()
    # A path of n steps nests at most 2n - 1 containers (a list step adds list and element).
    suspect = 2 * max(len(c.path.steps) for c in columns) - 1 > max_depth

    width = len(header)
    index = 0
    line = reader.line_num
    while True:
        start = line + 1  # a quoted cell may span lines: report where the row starts
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader cannot go on past broken quoting: the whole body is unreadable.
            message = f"malformed CSV at record {index}: {quote(str(exc))}"
            errors.add(reader.line_num, None, "", message, "malformedCsv")
            raise errors.reject() from None
        line = reader.line_num
        if not row:
            continue  # blank line
        record: dict[str, Any] | None = None
        if len(row) != width:
            message = f"the row has {len(row)} cells, the header has {width}"
            errors.add(start, index, "", message, "csvRow")
        else:
            record = _build_record(row, plan, start, index, errors)
            if (
                record is not None
                and suspect
                and not _within_depth(record, start, index, max_depth, errors)
            ):
                record = None
        yield start, record, (start, line)
        index += 1


def _plan_header(
    header: list[str], columns: list[_Column], line: int, errors: _Errors
) -> list[tuple[int, _Column]]:
    """(cell index, column) in mapping order, so records do not depend on column order."""
    known = {c.name: c for c in columns}
    names = [cell.strip() for cell in header]
    if not any(name in known for name in names):
        expected = ", ".join(sorted(known))
        errors.add(
            line or 1,
            None,
            "",
            f"missing header: the first line names none of the mapped columns ({quote(expected)})",
            "csvHeader",
        )
        return []
    position: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            errors.add(line, None, "", f"header cell {i + 1} is empty", "csvHeader")
        elif name not in known:
            message = f"unknown column {quote(name)}: not in the csvMapping"
            errors.add(line, None, "", message, "csvHeader")
        elif name in position:
            errors.add(line, None, "", f"column {quote(name)} appears twice", "csvHeader")
        else:
            position[name] = i
    for column in columns:
        if column.name not in position and column.path.text in ("id", "status"):
            errors.add(
                line,
                None,
                "",
                f"missing column {quote(column.name)} (the record's {column.path.text})",
                "csvHeader",
            )
    return [(position[c.name], c) for c in columns if c.name in position]


def _build_record(
    row: list[str], plan: list[tuple[int, _Column]], line: int, index: int, errors: _Errors
) -> dict[str, Any] | None:
    record: dict[str, Any] = {}
    ok = True
    for cell_index, column in plan:
        cell = row[cell_index]
        if cell == "":
            continue  # an empty cell means the field is absent
        value: Any = cell
        if column.money_value:
            number = _csv_number(cell)
            if number is not None:
                value = number
        try:
            column.path.set(record, value)
        except (InvalidPath, AttributeError, TypeError, IndexError):
            # Only reachable when two columns alias one list element in clashing ways.
            message = f"column {quote(column.name)} clashes with another column"
            errors.add(line, index, "", message, "csvRow")
            ok = False
    return record if ok else None


def _csv_number(cell: str) -> int | float | None:
    """The JSON number a money cell spells (as orjson would read it), or None when it spells
    none that a double keeps exactly: the cell is then kept as the text it is (`"12,50"`,
    `"9007199254740993"`), for the profile's `money` normaliser to read or not.
    """
    text = cell.strip()
    if len(text) > 40 or not _NUMBER.fullmatch(text):
        return None
    if _INTEGER.fullmatch(text):
        integer = int(text)
        return integer if abs(integer) <= _MAX_SAFE_INTEGER else None
    exact = Decimal(text)
    number = float(exact)
    if not math.isfinite(number) or Decimal(repr(number)) != exact:
        return None
    return number
