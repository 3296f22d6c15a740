"""What makes one product record readable: a JSON object that names itself with an `id`
(and says its `status`). Everything else of its shape is kept exactly as sent and left to
the relation's match profile to interpret (and to the API views to serve what fits).

Hand-written, a handful of dict lookups a record: a report may hold a million of them.
Each problem comes back as a `RecordProblem` (RFC 6901 pointer into the record, message,
kind).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

__all__ = [
    "KINDS",
    "MAX_ID_LENGTH",
    "MAX_STATUS_LENGTH",
    "UNREADABLE_RECORDS",
    "RecordProblem",
    "json_pointer",
    "kind",
    "quote",
    "validate_record",
]

# A relation's term `unreadableRecords`: an upload with records that cannot be read is
# refused whole (the default, first) or kept without them, each listed with its reasons.
UNREADABLE_RECORDS = ("refuseReport", "holdOut")

MAX_ID_LENGTH = 256
MAX_STATUS_LENGTH = 64  # the stored status column, which the product lists filter on
_QUOTE_LIMIT = 40  # never echo more than this much of a carrier's value back
_MISSING: Any = object()
_SCALAR_TYPES = frozenset((str, int, float, bool, type(None)))

# Why a record (or a whole report) cannot be read: the stable codes an error report counts
# problems by (docs/records-and-profiles.md, "What ingest refuses").
KINDS = {
    "emptyReport": "the body holds no report at all",
    "notAnArray": "a JSON report is not an array of records",
    "notUtf8": "the bytes are not UTF-8",
    "notJson": "the text is not JSON",
    "malformedCsv": "the CSV cannot be read (quoting)",
    "csvHeader": "the CSV header does not fit the relation's csvMapping",
    "csvRow": "a CSV row has the wrong number of cells or its columns clash",
    "notAnObject": "a record is not a JSON object",
    "idMissing": "a record has no id",
    "idInvalid": "a record's id is not a non-empty string",
    "idTooLong": f"a record's id is longer than {MAX_ID_LENGTH} characters",
    "statusMissing": "a record has no status",
    "statusInvalid": "a record's status is not a non-empty string",
    "statusTooLong": f"a record's status is longer than {MAX_STATUS_LENGTH} characters",
    "statusUnknown": "a status neither TMF637 nor MEF 116 knows, nor the profile maps",
    "tooDeep": "containers nested deeper than the limit",
    "numberNotExact": "a number a double cannot keep exactly (beyond ±(2^53-1), too many digits)",
    "nulCharacter": "a string or key holding U+0000",
    "recordTooLarge": "a record over the size limit in canonical JSON",
    "notCanonical": "a value RFC 8785 cannot encode",
    "notJsonValue": "a value that is not JSON (records built in code)",
}


class RecordProblem(NamedTuple):
    """Why one record cannot be read: where (RFC 6901 pointer), what, and its `KINDS` code."""

    pointer: str
    message: str
    kind: str


def validate_record(record: Any, *, parsed_json: bool = False) -> list[RecordProblem]:
    """Why a record cannot be read or identified; empty when it can.

    Refused: not an object; `id` missing, not a non-empty string, or longer than
    `MAX_ID_LENGTH`; `status` missing, not a non-empty string, or longer than
    `MAX_STATUS_LENGTH` (the product APIs serve and count products by it). Every other
    field, known or not, is kept as sent. `parsed_json=False` also walks the record for
    values that are not JSON (records built in code); a record from a JSON parser or the
    CSV builder cannot hold such values.
    """
    if type(record) is not dict:
        return [
            RecordProblem("", f"a record must be a JSON object, not {kind(record)}", "notAnObject")
        ]
    ident = record.get("id", _MISSING)
    status = record.get("status", _MISSING)
    errors: list[RecordProblem] = []
    if not (
        type(ident) is str
        and 0 < len(ident) <= MAX_ID_LENGTH
        and type(status) is str
        and 0 < len(status) <= MAX_STATUS_LENGTH
    ):
        _explain_text(ident, "id", MAX_ID_LENGTH, errors)
        _explain_text(status, "status", MAX_STATUS_LENGTH, errors)
    if not parsed_json:
        reported = {problem.pointer for problem in errors}
        errors.extend(e for e in _json_problems(record) if e.pointer not in reported)
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


def _explain_text(value: Any, name: str, limit: int, errors: list[RecordProblem]) -> None:
    pointer = "/" + name
    if value is _MISSING:
        errors.append(RecordProblem(pointer, "required", name + "Missing"))
    elif type(value) is not str or not value:
        if type(value) is str:
            message = "must be a non-empty string, got ''"
        else:
            message = f"must be a non-empty string, not {kind(value)}"
        errors.append(RecordProblem(pointer, message, name + "Invalid"))
    elif len(value) > limit:
        message = f"longer than {limit} characters ({len(value)})"
        errors.append(RecordProblem(pointer, message, name + "TooLong"))


def _json_problems(record: dict[str, Any]) -> list[RecordProblem]:
    """Values that are not JSON, found with an explicit stack, never recursion."""
    problems: list[RecordProblem] = []
    stack: list[tuple[Any, str]] = [(record, "")]
    while stack:
        node, ptr = stack.pop()
        if type(node) is dict:
            for key, child in node.items():
                if type(key) is not str:
                    message = f"object key {quote(key)} is not a string"
                    problems.append(RecordProblem(ptr, message, "notJsonValue"))
                else:
                    stack.append((child, ptr + json_pointer(key)))
        elif type(node) is list:
            stack.extend((child, f"{ptr}/{i}") for i, child in enumerate(node))
        elif type(node) is float:
            if not math.isfinite(node):
                problems.append(
                    RecordProblem(ptr, f"{node!r} is not a JSON number", "notJsonValue")
                )
        elif type(node) not in _SCALAR_TYPES:
            message = f"a {type(node).__name__} is not a JSON value"
            problems.append(RecordProblem(ptr, message, "notJsonValue"))
    problems.sort()
    return problems
