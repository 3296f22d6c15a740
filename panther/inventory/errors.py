"""Why an inventory report upload is refused: the errors `parse_report` raises.

    ValueError
     ├── ReportRejected        the body cannot be accepted; `.errors` lists the first problems,
     │                         `.counts` counts every problem by kind
     ├── UnsupportedMediaType  not JSON, NDJSON or CSV (or CSV without a column mapping)
     └── InvalidCsvMapping     the match profile's csvMapping cannot build records

`ReportRejected` and `UnsupportedMediaType` are the uploader's problem (4xx);
`InvalidCsvMapping` is a broken profile and should be caught when the profile is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "InvalidCsvMapping",
    "RecordError",
    "ReportRejected",
    "UnsupportedMediaType",
]


@dataclass(frozen=True, slots=True)
class RecordError:
    """One problem in a report.

    `line` is 1-based (NDJSON line, CSV physical line, or the JSON line of a syntax error);
    `record` is the 0-based index of the record; `pointer` is an RFC 6901 JSON pointer into
    that record, or "" when the problem is the whole record or the whole document; `kind` is
    one of `records.KINDS`.
    """

    line: int | None
    record: int | None
    pointer: str
    message: str
    kind: str = ""

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.pointer:
            where.append(self.pointer)
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


# Exceptions are mutable dataclasses on purpose: `raise` through a contextlib.contextmanager
# assigns `exc.__traceback__`, which a frozen dataclass refuses with FrozenInstanceError.
@dataclass(eq=False)
class ReportRejected(ValueError):
    """The report is refused as a whole. `errors` lists the first problems (up to the cap;
    `truncated` when there were more); `counts` counts every problem found by kind and
    `records` how many records had at least one (the whole report is always read)."""

    errors: list[RecordError]
    truncated: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    records: int = 0

    @property
    def problem_count(self) -> int:
        return sum(self.counts.values()) if self.counts else len(self.errors)

    def __str__(self) -> str:
        first = f"; first: {self.errors[0]}" if self.errors else ""
        return f"inventory report rejected: {self.problem_count} error(s){first}"


@dataclass(eq=False)
class UnsupportedMediaType(ValueError):
    """The body's media type is not one a report can be uploaded as."""

    media_type: str
    supported: tuple[str, ...] = field(default=())
    reason: str = "unsupported media type"

    def __str__(self) -> str:
        shown = self.media_type if len(self.media_type) <= 60 else self.media_type[:60] + "…"
        return f"{self.reason}: {shown!r} (supported: {', '.join(self.supported)})"


@dataclass(eq=False)
class InvalidCsvMapping(ValueError):
    """A csvMapping entry (CSV column -> field path) cannot be used to build records."""

    column: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"csvMapping column {self.column!r} -> {self.path!r}: {self.reason}"
