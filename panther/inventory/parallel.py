"""Parse large NDJSON inventory uploads on several cores, returning only what storing needs.

`parse_report_summary` gives the same leaves, hash and `ReportRejected` as `parse_report`;
big NDJSON bodies are cut at newlines and the pieces parsed in worker processes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from panther.inventory.errors import RecordError, ReportRejected
from panther.inventory.parse import NDJSON, ParsedReport, _media_kind, parse_report

__all__ = [
    "ParsedSummary",
    "parse_report_summary",
    "shutdown_pool",
]

_BOM = b"\xef\xbb\xbf"
_UTF8_MARK = "not valid UTF-8: "
_OFFSET_MARK = " at byte offset "


@dataclass(frozen=True)
class ParsedSummary:
    """A valid report reduced to what the upload service stores, in upload order.

    `content_hash` is the hex SHA-256 of `[leaf,leaf,...]`, as in `ParsedReport`.
    """

    count: int
    content_hash: str
    leaves: list[bytes]
    ids: list[str]
    external_ids: list[str | None]
    statuses: list[str]


def parse_report_summary(
    body: bytes,
    media_type: str,
    *,
    csv_mapping: Mapping[str, str] | None = None,
    max_errors: int = 100,
    max_depth: int = 32,
    workers: int | None = None,
    min_parallel_bytes: int = 8 * 1024 * 1024,
) -> ParsedSummary:
    """`parse_report`, summarised; NDJSON of `min_parallel_bytes` or more uses `workers` cores.

    `workers` defaults to `os.cpu_count()`; the calling process parses one piece itself, so
    `workers - 1` processes are started (once, then reused). Raises exactly what
    `parse_report` raises on the whole body.
    """
    if max_errors < 1 or max_depth < 1:
        raise ValueError("max_errors and max_depth must be at least 1")
    workers = (os.cpu_count() or 1) if workers is None else workers
    if (
        workers > 1
        and len(body) >= min_parallel_bytes
        and _media_kind(media_type) == NDJSON
        and not body.removeprefix(_BOM).isspace()  # the whole-body "empty" error is one error
    ):
        bounds = _split(body, workers)
        if len(bounds) > 2:
            try:
                return _parse_parallel(body, bounds, media_type, max_errors, max_depth)
            except BrokenProcessPool:
                shutdown_pool()  # a worker died (OOM killer?): parse here rather than fail
    return _summarise(
        parse_report(
            body, media_type, csv_mapping=csv_mapping, max_errors=max_errors, max_depth=max_depth
        )
    )


def shutdown_pool() -> None:
    """Stop the worker processes (they are started again on the next parallel parse)."""
    global _pool, _pool_size
    with _pool_lock:
        pool, _pool, _pool_size = _pool, None, 0
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


# --- the pool --------------------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _get_pool(size: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            # fork: workers start in milliseconds with parse.py already imported; they run
            # only pure parsing code, so locks held by other threads at fork time are not
            # touched. forkserver/spawn where fork does not exist.
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            _pool = ProcessPoolExecutor(max_workers=size, mp_context=context)
            _pool_size = size
        return _pool


# --- splitting and merging -------------------------------------------------------------------


def _split(body: bytes, pieces: int) -> list[int]:
    """Piece boundaries: [0, b1, ..., len(body)], each inner b at a b"\\n".

    Every piece but the first starts with the newline that ends the line before it, so it
    never starts with a BOM and its first line is an empty (skipped) one: line j of piece k
    is line `body.count(b"\\n", 0, b_k) + j` of the body, and byte q is byte `b_k + q`.
    """
    bounds = [0]
    size = len(body)
    for k in range(1, pieces):
        at = body.find(b"\n", max(size * k // pieces, bounds[-1] + 1))
        if at < 0:
            break
        bounds.append(at)
    bounds.append(size)
    return bounds


# What a piece sends back: the summary columns, or (errors, truncated, item count).
_Columns = tuple[list[bytes], list[str], list[str | None], list[str]]
_Failure = tuple[list[tuple[int | None, int | None, str, str]], bool, int]


def _parse_piece(
    piece: bytes, media_type: str, max_errors: int, max_depth: int
) -> tuple[_Columns | None, _Failure | None]:
    """Parse one piece; runs in a worker, so only compact columns cross back."""
    if not piece.removeprefix(_BOM).strip():
        return ([], [], [], []), None  # only blank lines: no records, not an empty report
    try:
        parsed = parse_report(piece, media_type, max_errors=max_errors, max_depth=max_depth)
    except ReportRejected as exc:
        # The item count places the next pieces' record indexes; a truncated piece ends
        # the report's error list, so nothing after it needs placing.
        items = 0 if exc.truncated else _count_items(piece)
        errors = [(e.line, e.record, e.pointer, e.message) for e in exc.errors]
        return None, (errors, exc.truncated, items)
    records = parsed.records
    return (
        parsed.leaves,
        [r["id"] for r in records],
        [r.get("externalId") for r in records],
        [r["status"] for r in records],
    ), None


def _count_items(piece: bytes) -> int:
    """Non-blank lines: each is one record index in `parse_report`'s NDJSON reader."""
    if piece.startswith(_BOM):
        piece = piece[len(_BOM) :]
    return sum(1 for line in piece.split(b"\n") if line and not line.isspace())


def _parse_parallel(
    body: bytes, bounds: list[int], media_type: str, max_errors: int, max_depth: int
) -> ParsedSummary:
    pool = _get_pool(len(bounds) - 2)
    futures: list[Future[tuple[_Columns | None, _Failure | None]]] = [
        pool.submit(_parse_piece, body[a:b], media_type, max_errors, max_depth)
        for a, b in zip(bounds[1:-1], bounds[2:], strict=True)
    ]
    try:
        # This process takes the first piece while the workers take the others.
        results = [_parse_piece(body[: bounds[1]], media_type, max_errors, max_depth)]
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    results.extend(future.result() for future in futures)

    if any(failure is not None for _, failure in results):
        raise _merge_errors(body, bounds, results, max_errors)
    leaves: list[bytes] = []
    ids: list[str] = []
    external_ids: list[str | None] = []
    statuses: list[str] = []
    for columns, _ in results:
        assert columns is not None
        leaves += columns[0]
        ids += columns[1]
        external_ids += columns[2]
        statuses += columns[3]
    return ParsedSummary(len(leaves), _content_hash(leaves), leaves, ids, external_ids, statuses)


def _merge_errors(
    body: bytes,
    bounds: list[int],
    results: list[tuple[_Columns | None, _Failure | None]],
    max_errors: int,
) -> ReportRejected:
    """The whole body's rejection: pieces' errors in order, moved to body lines and indexes."""
    errors: list[RecordError] = []
    truncated = False
    items_before = 0
    for start, (columns, failure) in zip(bounds, results, strict=False):
        if failure is None:
            assert columns is not None
            items_before += len(columns[0])
            continue
        piece_errors, piece_truncated, piece_items = failure
        lines_before = body.count(b"\n", 0, start)
        for line, record, pointer, message in piece_errors:
            if len(errors) == max_errors:
                truncated = True
                break
            errors.append(
                RecordError(
                    None if line is None else line + lines_before,
                    None if record is None else record + items_before,
                    pointer,
                    _moved_offset(message, start),
                )
            )
        if piece_truncated:
            truncated = True
        if truncated:
            break
        items_before += piece_items
    return ReportRejected(errors, truncated)


def _moved_offset(message: str, start: int) -> str:
    """A piece's UTF-8 error names a byte offset into the piece; make it one into the body."""
    if start == 0 or not message.startswith(_UTF8_MARK):
        return message
    head, mark, offset = message.rpartition(_OFFSET_MARK)
    if not mark or not offset.isdigit():
        return message
    return f"{head}{mark}{int(offset) + start}"


def _summarise(parsed: ParsedReport) -> ParsedSummary:
    records: list[dict[str, Any]] = parsed.records
    return ParsedSummary(
        parsed.count,
        parsed.content_hash,
        parsed.leaves,
        [r["id"] for r in records],
        [r.get("externalId") for r in records],
        [r["status"] for r in records],
    )


def _content_hash(leaves: list[bytes]) -> str:
    digest = hashlib.sha256()
    digest.update(b"[")
    digest.update(b",".join(leaves))
    digest.update(b"]")
    return digest.hexdigest()
