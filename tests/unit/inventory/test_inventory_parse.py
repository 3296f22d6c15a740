"""parse_report over JSON and NDJSON: the happy path, the hash, and every rejection."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from panther.inventory import errors as errors_module
from panther.inventory import parse as parse_module
from panther.inventory import records as records_module
from panther.inventory.errors import RecordError, ReportRejected, UnsupportedMediaType
from panther.inventory.parse import ParsedReport, parse_report
from panther.ledger.canonical import canonical_json

JSON = "application/json"
NDJSON = "application/x-ndjson"
MakeRecord = Callable[..., dict[str, Any]]


def as_json(records: list[Any], **dumps: Any) -> bytes:
    return json.dumps(records, **dumps).encode()


def as_ndjson(records: list[Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def rejected(body: bytes, media_type: str, **kwargs: Any) -> ReportRejected:
    with pytest.raises(ReportRejected) as info:
        parse_report(body, media_type, **kwargs)
    return info.value


# --- accepted reports ----------------------------------------------------------------------


def test_json_report_gives_records_leaves_and_hash(make_record: MakeRecord) -> None:
    records = [make_record(i) for i in range(3)]
    report = parse_report(as_json(records), JSON)
    assert isinstance(report, ParsedReport)
    assert report.records == records
    assert report.count == 3
    assert report.leaves == [canonical_json(r) for r in records]
    # The hash is the canonical JSON of the whole array, by RFC 8785's array rule.
    assert report.content_hash == hashlib.sha256(canonical_json(records)).hexdigest()


def test_json_and_ndjson_of_the_same_records_hash_alike(make_record: MakeRecord) -> None:
    records = [make_record(i) for i in range(4)]
    pretty = parse_report(as_json(records, indent=2, sort_keys=False), JSON)
    compact = parse_report(orjson.dumps(records), JSON)
    lines = parse_report(as_ndjson(records), NDJSON)
    crlf = parse_report(as_ndjson(records).replace(b"\n", b"\r\n\r\n"), NDJSON)
    hashes = {r.content_hash for r in (pretty, compact, lines, crlf)}
    assert len(hashes) == 1
    assert pretty.leaves == lines.leaves == crlf.leaves


def test_record_order_changes_the_hash(make_record: MakeRecord) -> None:
    records = [make_record(i) for i in range(2)]
    forward = parse_report(as_json(records), JSON)
    backward = parse_report(as_json(records[::-1]), JSON)
    assert forward.content_hash != backward.content_hash


def test_media_type_parameters_and_bom_are_accepted(make_record: MakeRecord) -> None:
    body = as_json([make_record()])
    plain = parse_report(body, JSON)
    assert parse_report(body, "Application/JSON; charset=UTF-8").content_hash == plain.content_hash
    assert parse_report(b"\xef\xbb\xbf" + body, JSON).content_hash == plain.content_hash


def test_empty_array_is_a_report_with_no_records() -> None:
    report = parse_report(b"[]", JSON)
    assert (report.count, report.records, report.leaves) == (0, [], [])
    assert report.content_hash == hashlib.sha256(b"[]").hexdigest()


def test_unknown_fields_are_kept(make_record: MakeRecord) -> None:
    record = make_record(extension={"nested": [1, {"x": None}]}, **{"@type": "Product"})
    report = parse_report(as_json([record]), JSON)
    assert report.records[0]["extension"] == {"nested": [1, {"x": None}]}
    assert b'"@type":"Product"' in report.leaves[0]


def test_brackets_inside_strings_do_not_count_as_nesting(make_record: MakeRecord) -> None:
    tricky = "[[[[{{{{" * 10 + '\\"' + "]" * 3 + "\\\\"
    record = make_record(description=tricky, notes=['"[[[[' * 20])
    for body, media_type in ((as_json([record]), JSON), (as_ndjson([record]), NDJSON)):
        assert parse_report(body, media_type).records == [record]


# --- media type ----------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", ["text/plain", "application/xml", "", "application/json+x"])
def test_unsupported_media_type(media_type: str) -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        parse_report(b"[]", media_type)
    assert info.value.media_type == media_type
    assert set(info.value.supported) == {JSON, NDJSON, "text/csv"}


def test_only_utf8_charset_is_accepted() -> None:
    with pytest.raises(UnsupportedMediaType, match="UTF-8"):
        parse_report(b"[]", "application/json; charset=latin-1")


def test_csv_without_a_mapping_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaType, match="csvMapping"):
        parse_report(b"id,status\n1,active\n", "text/csv")


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        parse_report(b"[]", JSON, max_errors=0)
    with pytest.raises(ValueError):
        parse_report(b"[]", JSON, max_depth=0)


# --- document-level rejections -------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   ", b"\n\n\r\n", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("media_type", [JSON, NDJSON])
def test_empty_body(body: bytes, media_type: str) -> None:
    exc = rejected(body, media_type)
    assert exc.errors == [RecordError(None, None, "", "the report is empty", "emptyReport")]
    assert not exc.truncated


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_invalid_utf8_reports_the_byte_offset_of_the_upload(
    bom: bytes, make_record: MakeRecord
) -> None:
    good = as_ndjson([make_record(0)])
    bad = as_ndjson([make_record(1, status="activé")]).replace("é".encode(), b"\xe9")
    worse = as_ndjson([make_record(2, id="")])
    body = bom + good + bad + worse
    offset = body.index(b"\xe9")
    exc = rejected(body, NDJSON)
    # The broken line is reported like any bad record, and the others are still checked.
    assert [(e.line, e.record, e.pointer) for e in exc.errors] == [(2, 1, ""), (3, 2, "/id")]
    assert (
        exc.errors[0].message
        == f"not valid UTF-8: invalid continuation byte at byte offset {offset}"
    )


def test_invalid_utf8_in_a_json_array(make_record: MakeRecord) -> None:
    body = as_json([make_record(0), make_record(1, status="é")], indent=1).replace(
        b"\\u00e9", b"\xe9\xff"
    )
    offset = body.index(b"\xe9")
    [error] = rejected(body, JSON).errors
    assert error.message.endswith(f"at byte offset {offset}")
    assert error.line == body.count(b"\n", 0, offset) + 1


def test_malformed_json_reports_line_and_column() -> None:
    bad_line = b'  {"id": "b" "status": "x"}'
    body = b'[\n  {"id": "a", "status": "x"},\n' + bad_line + b"\n]"
    column = bad_line.index(b'"status"') + 1  # 1-based, at the unexpected string
    [error] = rejected(body, JSON).errors
    assert error.line == 3
    assert error.message.startswith(f"malformed JSON at line 3, column {column}: ")
    assert error.pointer == ""


@pytest.mark.parametrize(
    ("body", "what"),
    [(b'{"id": "a", "status": "x"}', "object"), (b'"records"', "string"), (b"42", "number")],
)
def test_json_top_level_must_be_an_array(body: bytes, what: str) -> None:
    [error] = rejected(body, JSON).errors
    assert error == RecordError(
        None, None, "", f"a JSON report must be an array of records, not {what}", "notAnArray"
    )


def test_json_elements_must_be_objects(make_record: MakeRecord) -> None:
    body = as_json([make_record(0), [1], "x", None, make_record(4)])
    exc = rejected(body, JSON)
    assert [(e.record, e.message) for e in exc.errors] == [
        (1, "a record must be a JSON object, not array"),
        (2, "a record must be a JSON object, not string"),
        (3, "a record must be a JSON object, not null"),
    ]


def test_ndjson_lines_that_are_not_objects_name_their_line(make_record: MakeRecord) -> None:
    body = as_ndjson([make_record(0)]) + b"\n[1, 2]\n" + b'"text"\n' + as_ndjson([make_record(3)])
    exc = rejected(body, NDJSON)
    # Line 2 is blank and skipped; the record index counts records, not lines.
    assert [(e.line, e.record, e.pointer, e.message) for e in exc.errors] == [
        (3, 1, "", "a record must be a JSON object, not array"),
        (4, 2, "", "a record must be a JSON object, not string"),
    ]


def test_ndjson_collects_syntax_and_validation_errors_in_line_order(
    make_record: MakeRecord,
) -> None:
    lines = [
        orjson.dumps(make_record(0, status=5)),
        b'{"id": "x", "status": ',
        orjson.dumps(make_record(2)),
        orjson.dumps(make_record(3, id="")),
    ]
    exc = rejected(b"\n".join(lines), NDJSON)
    assert [(e.line, e.record, e.pointer) for e in exc.errors] == [
        (1, 0, "/status"),
        (2, 1, ""),
        (4, 3, "/id"),
    ]
    assert exc.errors[1].message.startswith("malformed JSON at column 23")


# --- nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", [JSON, NDJSON])
def test_a_hundred_thousand_brackets_is_a_clean_error(media_type: str) -> None:
    [error] = rejected(b"[" * 100_000, media_type).errors
    assert error.message == "nesting is deeper than 32 levels"
    assert error.line == 1


def test_deep_but_parseable_json_is_refused_before_canonicalisation(
    make_record: MakeRecord,
) -> None:
    # 600 levels: fine for orjson's parser, beyond orjson's encoder and Python's recursion.
    body = b'[{"id": "a", "status": "x", "deep": ' + b"[" * 600 + b"]" * 600 + b"}]"
    [error] = rejected(body, JSON).errors
    assert error.record == 0
    assert error.pointer == "/deep" + "/0" * 31
    assert error.message == "nesting is deeper than 32 levels"


def nested(levels: int) -> Any:
    """`levels` containers, alternating lists and objects."""
    value: Any = "leaf"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("media_type", [JSON, NDJSON])
def test_max_depth_counts_the_record_as_level_one(media_type: str, make_record: MakeRecord) -> None:
    encode = as_json if media_type == JSON else as_ndjson
    ok = make_record(0, deep=nested(31))  # 1 (record) + 31 = 32
    assert parse_report(encode([ok]), media_type).count == 1
    too_deep = make_record(1, deep=nested(32))
    exc = rejected(encode([ok, too_deep, ok]), media_type)
    [error] = exc.errors
    assert error.record == 1
    assert error.line == (None if media_type == JSON else 2)
    assert error.pointer.startswith("/deep")
    assert error.pointer.count("/") == 32  # the 33rd container
    assert parse_report(encode([too_deep]), media_type, max_depth=33).count == 1


@pytest.mark.parametrize("text", ["]", "]]]]}}}}", '\\"]', "\\\\", "[]{}", '"]"'])
@pytest.mark.parametrize("media_type", [JSON, NDJSON])
def test_brackets_in_strings_cannot_hide_nesting(
    text: str, media_type: str, make_record: MakeRecord
) -> None:
    # Strings full of closing brackets, placed between the levels of a too-deep value.
    value: Any = "leaf"
    for _ in range(32):
        value = [text, value, text]
    record = make_record(0, deep=value, **{text: text})
    encode = as_json if media_type == JSON else as_ndjson
    [error] = rejected(encode([record]), media_type).errors
    assert error.message == "nesting is deeper than 32 levels"


# --- record errors, cap and messages -------------------------------------------------------


def test_record_errors_carry_index_pointer_and_kind(make_record: MakeRecord) -> None:
    bad = make_record(1, id=17)
    del bad["status"]
    exc = rejected(as_json([make_record(0), bad]), JSON)
    assert [(e.line, e.record, e.pointer, e.kind) for e in exc.errors] == [
        (None, 1, "/id", "idInvalid"),
        (None, 1, "/status", "statusMissing"),
    ]
    assert exc.errors[0].message == "must be a non-empty string, not number"


@pytest.mark.parametrize(
    ("bad", "cap", "truncated"), [(150, 100, True), (100, 100, False), (3, 2, True)]
)
def test_errors_are_capped(bad: int, cap: int, truncated: bool, make_record: MakeRecord) -> None:
    records = [make_record(i, status="") for i in range(bad)] + [make_record(bad)]
    exc = rejected(as_ndjson(records), NDJSON, max_errors=cap)
    assert len(exc.errors) == min(bad, cap)
    assert exc.truncated is truncated
    assert [e.line for e in exc.errors] == list(range(1, min(bad, cap) + 1))


def test_messages_never_echo_large_values(make_record: MakeRecord) -> None:
    huge = "x" * 100_000
    records = [make_record(0, status="y" * 64), make_record(1, id=huge), make_record(2)]
    records[2]["status"] = huge
    exc = rejected(as_json(records), JSON, known_status=lambda status: False)
    assert len(exc.errors) == 3
    for error in exc.errors:
        assert len(error.message) < 140, error.message
    assert "y" * 40 + "…" in exc.errors[0].message
    assert len(str(exc)) < 250


def test_integers_beyond_double_precision_are_refused(make_record: MakeRecord) -> None:
    record = make_record(0, extra={"counts": [1, 2**53]})
    [error] = rejected(as_json([record]), JSON).errors
    assert error.pointer == "/extra/counts/1"
    assert "2^53" in error.message


# --- the exceptions ------------------------------------------------------------------------


def test_rejection_survives_a_contextmanager() -> None:
    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        yield

    with pytest.raises(ReportRejected) as info, guard():
        parse_report(b"{}", JSON)
    assert "rejected: 1 error(s)" in str(info.value)
    assert "must be an array" in str(info.value)


def test_gc_state_is_restored(make_record: MakeRecord) -> None:
    assert gc.isenabled()
    parse_report(as_json([make_record()]), JSON)
    assert gc.isenabled()
    with pytest.raises(ReportRejected):
        parse_report(b"[1]", JSON)
    assert gc.isenabled()
    gc.disable()
    try:
        parse_report(as_json([make_record()]), JSON)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_record_error_str() -> None:
    assert str(RecordError(3, 2, "/id", "required")) == "line 3, record 2, /id: required"
    assert str(RecordError(None, None, "", "the report is empty")) == "the report is empty"


@pytest.mark.parametrize("module", [parse_module, records_module, errors_module])
def test_exported_names_exist(module: Any) -> None:
    for name in module.__all__:
        assert hasattr(module, name), name


def test_parsing_imports_no_framework() -> None:
    code = (
        "import sys, panther.inventory.parse;"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy','sqlmodel','connexion','starlette','psycopg','jsonschema')"
        " or m.startswith(('panther.server','panther.adapters'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- kept as sent, counted, held out -----------------------------------------------------


def test_shapes_the_profile_interprets_are_kept_byte_for_byte(make_record: MakeRecord) -> None:
    """Ingest keeps what was sent: lower-case currencies, amounts as text, dates in any
    format, wrong types in known fields are records like any other, signed as sent."""
    record = make_record(0, name=7, startDate="01/03/2024", productOffering="EPL")
    record["productPrice"][0]["price"]["dutyFreeAmount"] = {"unit": "eur", "value": "1250,00"}
    report = parse_report(as_ndjson([record]), NDJSON)
    assert report.records == [record]
    assert report.leaves == [canonical_json(record)]


def test_every_problem_is_counted_by_kind_beyond_the_listed_ones(make_record: MakeRecord) -> None:
    records = [make_record(i, status="") if i % 2 else make_record(i, id=None) for i in range(500)]
    records += [make_record(500), "not a record"]
    exc = rejected(as_ndjson(records), NDJSON, max_errors=10)
    assert len(exc.errors) == 10 and exc.truncated
    assert exc.counts == {"statusInvalid": 250, "idInvalid": 250, "notAnObject": 1}
    assert exc.problem_count == 501 and exc.records == 501


def test_unknown_statuses_are_refused_once_each(make_record: MakeRecord) -> None:
    asked: list[str] = []

    def known(status: str) -> bool:
        asked.append(status)
        return status == "active"

    records = [make_record(i, status="live-ish" if i % 3 == 0 else "active") for i in range(9)]
    exc = rejected(as_ndjson(records), NDJSON, known_status=known)
    assert [(e.record, e.pointer, e.kind) for e in exc.errors] == [
        (0, "/status", "statusUnknown"),
        (3, "/status", "statusUnknown"),
        (6, "/status", "statusUnknown"),
    ]
    assert sorted(asked) == ["active", "live-ish"]


def test_held_out_ndjson_records_keep_their_lines_and_bytes(make_record: MakeRecord) -> None:
    good = [orjson.dumps(make_record(i)) for i in range(3)]
    lines = [good[0], b'{"status": "active"}', good[1], b"{broken", b"[1]", good[2]]
    report = parse_report(b"\n".join(lines) + b"\n", NDJSON, hold_out=True)
    assert [r["id"] for r in report.records] == ["CID-000000", "CID-000001", "CID-000002"]
    assert report.content_hash == parse_report(b"\n".join(good), NDJSON).content_hash
    held = [(h.line, h.record, [p.kind for p in h.problems]) for h in report.held_out]
    assert held == [(2, 1, ["idMissing"]), (4, 3, ["notJson"]), (5, 4, ["notAnObject"])]
    digests = [hashlib.sha256(line).digest() for line in (lines[1], lines[3], lines[4])]
    assert [h.digest for h in report.held_out] == digests
    assert report.held_out_hash == hashlib.sha256(b"".join(digests)).hexdigest()


def test_held_out_json_elements_are_digested_as_sent(make_record: MakeRecord) -> None:
    first = json.dumps(make_record(0))
    body = ("[\n" + first + ',\n  {"id": "é", "status": 3} ,\n\t5,' + first + "]").encode()
    report = parse_report(body, JSON, hold_out=True)
    assert report.count == 2
    assert [(h.line, h.record) for h in report.held_out] == [(3, 1), (4, 2)]
    assert report.held_out[0].digest == hashlib.sha256('{"id": "é", "status": 3}'.encode()).digest()
    assert report.held_out[1].digest == hashlib.sha256(b"5").digest()


def test_without_records_to_hold_out_nothing_is_held_out(make_record: MakeRecord) -> None:
    report = parse_report(as_ndjson([make_record(0)]), NDJSON, hold_out=True)
    assert report.held_out == [] and report.held_out_hash is None


@pytest.mark.parametrize(
    ("body", "media_type", "kind"),
    [
        (b'[{"id": "a", "status": "x"},', JSON, "notJson"),
        (b'{"id": "a", "status": "x"}', JSON, "notAnArray"),
        (b"", NDJSON, "emptyReport"),
        (b'[{"id": "caf\xe9", "status": "x"}]', JSON, "notUtf8"),
    ],
)
def test_a_document_that_cannot_be_read_is_refused_even_when_holding_out(
    body: bytes, media_type: str, kind: str
) -> None:
    exc = rejected(body, media_type, hold_out=True)
    assert [e.kind for e in exc.errors] == [kind]
