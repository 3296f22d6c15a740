"""parse_report_summary: the parallel NDJSON path gives exactly what parse_report gives."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panther.demo.generator import generate_pair
from panther.inventory import parallel
from panther.inventory.errors import ReportRejected
from panther.inventory.parallel import ParsedSummary, parse_report_summary
from panther.inventory.parse import parse_report

NDJSON = "application/x-ndjson"
MakeRecord = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module", autouse=True)
def _stop_workers() -> Iterator[None]:
    yield
    parallel.shutdown_pool()


def expected(body: bytes, **kwargs: Any) -> ParsedSummary | tuple[list[Any], bool]:
    """What parse_report on the whole body gives, in the summary's terms."""
    try:
        report = parse_report(body, NDJSON, **kwargs)
    except ReportRejected as exc:
        return exc.errors, exc.truncated
    return ParsedSummary(
        report.count,
        report.content_hash,
        report.leaves,
        [r["id"] for r in report.records],
        [r.get("externalId") for r in report.records],
        [r["status"] for r in report.records],
    )


def in_parallel(body: bytes, workers: int = 2, **kwargs: Any) -> Any:
    # Forcing the parallel path: any size qualifies.
    try:
        return parse_report_summary(body, NDJSON, workers=workers, min_parallel_bytes=1, **kwargs)
    except ReportRejected as exc:
        return exc.errors, exc.truncated


def pieces(body: bytes, workers: int) -> int:
    return len(parallel._split(body, workers)) - 1


def lines(records: list[Any], end: bytes = b"\n") -> bytes:
    return b"".join(orjson.dumps(r) + end for r in records)


def test_generated_reports_summarise_alike() -> None:
    records = generate_pair(300, seed=3).supplier
    body = lines(records)
    assert pieces(body, 2) == 2
    summary = in_parallel(body)
    assert summary == expected(body)
    assert isinstance(summary, ParsedSummary)
    assert summary.count == len(records)
    assert summary.ids == [r["id"] for r in records]


def test_small_json_and_serial_calls_give_parse_reports_summary(make_record: MakeRecord) -> None:
    records = [make_record(i) for i in range(5)]
    body = lines(records)
    whole = expected(body)
    assert parse_report_summary(body, NDJSON) == whole  # under min_parallel_bytes
    assert parse_report_summary(body, NDJSON, workers=1, min_parallel_bytes=1) == whole
    assert parse_report_summary(orjson.dumps(records), "application/json") == whole


def test_bad_records_in_several_pieces_are_reported_as_one_body(make_record: MakeRecord) -> None:
    records: list[Any] = [make_record(i) for i in range(40)]
    for i in (1, 12, 25, 39):
        records[i] = make_record(i, status=7, startDate="yesterday")
    records[20] = [1, 2]
    body = lines(records).replace(b'"CID-000030"', b"not json", 1)
    assert pieces(body, 3) == 3
    result = in_parallel(body, workers=3)
    assert result == expected(body)
    errors, truncated = result
    assert not truncated
    assert {e.record for e in errors} == {1, 12, 20, 25, 30, 39}


@pytest.mark.parametrize("max_errors", [1, 3, 4, 7, 8, 9])
def test_the_error_cap_and_truncation_match(make_record: MakeRecord, max_errors: int) -> None:
    # Two errors per bad record, bad records in every piece: the cap falls inside records,
    # exactly at their end and across pieces.
    records = [
        make_record(i, status=7, startDate="x") if i % 5 == 0 else make_record(i) for i in range(40)
    ]
    body = lines(records)
    result = in_parallel(body, workers=4, max_errors=max_errors)
    assert result == expected(body, max_errors=max_errors)
    errors, truncated = result
    assert len(errors) == min(max_errors, 16)
    assert truncated == (max_errors < 16)


def test_blank_lines_and_crlf(make_record: MakeRecord) -> None:
    body = b"\r\n\n" + lines([make_record(i) for i in range(10)], b"\r\n\n  \n")
    body += b"\t\n" + orjson.dumps(make_record(10, id="")) + b"\r\n\n\n"
    assert pieces(body, 3) == 3
    assert in_parallel(body, workers=3) == expected(body)
    good = body.replace(b'"id":""', b'"id":"X"')
    summary = in_parallel(good, workers=3)
    assert summary == expected(good)
    assert summary.count == 11


def test_invalid_utf8_in_a_later_piece_names_the_bodys_offset(make_record: MakeRecord) -> None:
    body = lines([make_record(i) for i in range(20)])
    at = body.index(b"CID-000015")
    body = body[:at] + b"\xff" + body[at + 1 :]
    assert parallel._split(body, 2)[1] < at
    result = in_parallel(body)
    assert result == expected(body)
    assert str(at) in result[0][0].message


def test_a_bom_at_the_start_or_at_a_piece_boundary(make_record: MakeRecord) -> None:
    body = b"\xef\xbb\xbf" + lines([make_record(i) for i in range(20)])
    assert in_parallel(body) == expected(body)
    boundary = parallel._split(body, 2)[1]
    # A mark after a newline in the middle is no BOM: parse_report refuses that line.
    spoilt = body[: boundary + 1] + b"\xef\xbb\xbf" + body[boundary + 1 :]
    result = in_parallel(spoilt)
    assert result == expected(spoilt)
    assert len(result[0]) == 1


def test_blank_pieces_and_blank_bodies() -> None:
    body = lines([{"id": "a", "status": "active"}]) + b"\n" * 50
    assert in_parallel(body, workers=3) == expected(body)
    assert in_parallel(b"\xef\xbb\xbf\n \n\n", workers=2) == expected(b"\xef\xbb\xbf\n \n\n")


_LINES = st.sampled_from(
    [
        b'{"id":"a","status":"active"}',
        b'{"id":"b","status":"active","externalId":"E"}\r',
        b'{"id":"","status":5}',
        b'{"id":"c"',
        b"[1]",
        b"",
        b"  \r",
        b'{"id":"\xff","status":"x"}',
        b'{"id":"d","status":"x","startDate":"never"}',
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_LINES, min_size=1, max_size=30),
    st.integers(2, 4),
    st.integers(1, 6),
    st.booleans(),
)
def test_any_mix_of_lines_matches_parse_report(
    body_lines: list[bytes], workers: int, max_errors: int, bom: bool
) -> None:
    body = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(body_lines)
    assert in_parallel(body, workers, max_errors=max_errors) == expected(
        body, max_errors=max_errors
    )
