"""Hostile and broken input never crashes the server, never answers 500 and never leaves
anything behind: a corpus of bad bodies (deep nesting, not UTF-8, not JSON, numbers JSON
cannot keep exactly, NaN, NUL, huge strings, too many values, oversized with and without
Content-Length, wrong content types) on every JSON operation and on uploads, offsets out of
range, on every database; every answer a 4xx in the document's error format, every table
and the ledger as they were."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
import yaml

from panther.server.app import APIS, OPENAPI_DIR
from panther.server.services.ports import Ports

from .world import TODAY, World, client_with, product

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"profile": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}"


def _json_operations() -> Iterator[tuple[str, str, bool]]:
    """(method, path, body required) of every operation of every document that takes a JSON
    body (bulk uploads, which have their own parser, are tested apart); path parameters
    filled in."""
    for document, base, _ in APIS:
        spec = yaml.safe_load((OPENAPI_DIR / document).read_text())
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if method not in ("post", "patch", "put"):
                    continue
                content = (op.get("requestBody") or {}).get("content") or {}
                if not any("json" in media for media in content):
                    continue
                if document == "oauth.yaml":
                    continue  # a form body
                if path == "/inventoryReport":
                    continue
                required = bool(op["requestBody"].get("required"))
                yield method.upper(), base + re.sub(r"\{[^}]+\}", "1", path), required


JSON_OPERATIONS = sorted({(method, path) for method, path, _ in _json_operations()})
OPTIONAL_BODY = {(method, path) for method, path, required in _json_operations() if not required}


def _ledger_height(ports: Ports) -> int:
    head = ports.ledger.head()
    return head.seq + 1 if head is not None else 0


def _count(ports: Ports, table: str) -> int:
    with ports.db.read() as conn:  # type: ignore[attr-defined]  # the composed System
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body.get("@type") == "Error" or "title" in body or "code" in body, body
    return body


def test_importing_the_server_keeps_the_recursion_limit() -> None:
    """py_ecc raises the limit to 100,000 when imported (eth-account imports it); a deeply
    nested body then overflows the C stack instead of raising RecursionError."""
    code = (
        "import sys; before = sys.getrecursionlimit();"
        "import panther.server.app, panther.server.bootstrap, eth_account, py_ecc;"
        "print(before, sys.getrecursionlimit())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = out.stdout.split()
    assert after == before, out.stdout


def test_every_json_operation_is_found() -> None:
    assert len(JSON_OPERATIONS) >= 15, JSON_OPERATIONS
    assert ("POST", "/panther/v1/relation") in JSON_OPERATIONS
    assert ("PATCH", "/tmf-api/productInventory/v4/product/1") in JSON_OPERATIONS


def _snapshot(ports: Ports) -> dict[str, int]:
    """Rows in every table, and the ledger's height: what bad input must leave as it was."""
    with ports.db.read() as conn:  # type: ignore[attr-defined]  # the composed System
        names = sa.inspect(conn).get_table_names()
        counts = {
            name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in names
            if name != "alembic_version"
        }
    return {**counts, "(ledger)": _ledger_height(ports)}


def _in_the_error_format(path: str, r: httpx.Response) -> None:
    body = r.json()
    if path.startswith("/oauth/"):
        assert body["error"] and body["error_description"], body
    elif path.startswith("/mefApi/"):
        for error in body if isinstance(body, list) else [body]:
            assert error["code"] and error["reason"] and error["message"], body
    else:
        assert body["@type"] == "Error" and body["status"] == str(r.status_code), body
        assert body["code"] and body["reason"] and body["message"], body


def _values(n: int) -> bytes:
    return b'{"a": [' + b",".join([b"0"] * n) + b"]}"


# (name, content type, body, statuses): what a hostile or broken client sends as a JSON body.
# 403 where the carrier may not call the operation at all (checked before the body).
JSON_CORPUS = [
    ("deep array", "application/json", DEEP, {400, 422}),
    ("deep object", "application/json", DEEP_OBJECT, {400, 422}),
    ("not UTF-8", "application/json", b'{"name": "caf\xe9 \xff"}', {400}),
    ("not JSON", "application/json", b'{"name": ', {400}),
    ("empty", "application/json", b"", {400}),
    ("NaN", "application/json", b'{"name": NaN}', {400}),
    ("Infinity", "application/json", b'{"name": -Infinity}', {400}),
    ("2^64", "application/json", b'{"name": 18446744073709551616}', {400, 422}),
    ("1e400", "application/json", b'{"name": 1e400}', {400, 422}),
    ("long decimal", "application/json", b'{"name": 0.12345678901234567891}', {400, 422}),
    ("NUL", "application/json", b'{"name": "a\\u0000b"}', {400, 422}),
    ("NUL key", "application/json", b'{"a\\u0000b": 1}', {400, 422}),
    ("huge string", "application/json", b'{"name": "' + b"x" * 70_000 + b'"}', {400, 422}),
    ("many values", "application/json", _values(120_000), {400, 422}),
    ("over the limit", "application/json", b'{"name": "' + b"x" * 1_100_000 + b'"}', {413}),
    ("wrong type", "text/plain", b'{"name": "x"}', {400, 415}),
    ("XML", "application/xml", b"<name>x</name>", {400, 415}),
]


@pytest.mark.parametrize("method,path", JSON_OPERATIONS)
async def test_the_bad_input_corpus_on_every_json_operation(
    world: World, ports: Ports, method: str, path: str
) -> None:
    # The operator where a carrier may not call the operation at all (403 before the body).
    probe = await world.supplier.http.request(method, path, json={}, headers=world.supplier.auth)
    actor = world.operator if probe.status_code == 403 else world.supplier
    before = _snapshot(ports)
    for name, media_type, body, statuses in JSON_CORPUS:
        if name == "empty" and (method, path) in OPTIONAL_BODY:
            statuses = {404}  # no body is a valid request: it reaches the handler
        r = await actor.http.request(
            method, path, content=body, headers={**actor.auth, "Content-Type": media_type}
        )
        assert r.status_code in statuses, (name, path, r.status_code, r.text[:300])
        _in_the_error_format(path, r)
    assert _snapshot(ports) == before
    ok = await world.supplier.get(f"/panther/v1/relation/{world.relation_id}")
    assert ok.status_code == 200  # the server is alive and serving


def _record(extra: bytes) -> bytes:
    return orjson.dumps(product("CID-B"))[:-1] + b', "note": ' + extra + b"}"


# (name, content type, body): what a hostile or broken client uploads as a report.
UPLOAD_CORPUS = [
    ("not UTF-8", "application/x-ndjson", _record(b'"caf\xe9"') + b"\n"),
    ("not UTF-8", "text/csv", b"id,external_id,status\nCID-B,caf\xe9,active\n"),
    ("deep", "application/x-ndjson", DEEP + b"\n"),
    ("deep", "application/json", DEEP),
    ("2^64", "application/x-ndjson", _record(b"18446744073709551616") + b"\n"),
    ("NaN", "application/x-ndjson", _record(b"NaN") + b"\n"),
    ("Infinity", "application/json", b"[" + _record(b"Infinity") + b"]"),
    ("NUL", "application/json", b"[" + _record(b'"a\\u0000"') + b"]"),
    ("huge record", "application/x-ndjson", _record(b'"' + b"x" * 70_000 + b'"') + b"\n"),
    ("huge record", "text/csv", b"id,external_id,status\nCID-B," + b"x" * 70_000 + b",active\n"),
    ("not JSON", "application/x-ndjson", b'{"id": "CID-B", \n'),
    ("not a list", "application/json", b'{"id": "CID-B"}'),
    ("empty", "application/x-ndjson", b""),
    ("wrong type", "text/plain", _record(b"1") + b"\n"),
    ("XML", "application/xml", b"<product id='CID-B'/>"),
]


async def test_the_bad_input_corpus_on_uploads(world: World, ports: Ports) -> None:
    before = _snapshot(ports)
    for name, media_type, body in UPLOAD_CORPUS:
        r = await world.supplier.upload(world.relation_id, body, media_type=media_type)
        assert r.status_code in (400, 413, 415, 422), (name, media_type, r.status_code, r.text)
        _in_the_error_format("/panther/v1/inventoryReport", r)
    async with client_with(ports, max_upload_bytes=10_000) as client:
        r = await client.post(
            "/panther/v1/inventoryReport",
            params={"relationId": world.relation_id, "asOf": TODAY},
            content=b"\n".join(orjson.dumps(product(f"CID-{i}")) for i in range(200)),
            headers={**world.supplier.auth, "Content-Type": "application/x-ndjson"},
        )
        assert "content-length" in r.request.headers
        assert r.status_code == 413 and r.json()["code"] == "413", r.text
    assert _snapshot(ports) == before


async def test_a_value_nested_deeper_than_the_limit_is_refused_and_reads_keep_working(
    world: World, ports: Ports
) -> None:
    tmf = "/tmf-api/productInventory/v4/product"
    r = await world.supplier.upload(world.relation_id, [product("CID-1")])
    assert r.status_code == 201, r.text
    deep: Any = "leaf"
    for _ in range(200):
        deep = {"n": deep}
    height = _ledger_height(ports)
    r = await world.supplier.http.patch(
        f"{tmf}/CID-1",
        content=orjson.dumps({"description": "x", "productCharacteristic": [deep]}),
        headers={**world.supplier.auth, "Content-Type": "application/merge-patch+json"},
    )
    problem = _problem(r, 422)
    assert "nesting is deeper than" in str(problem)
    assert _ledger_height(ports) == height
    listed = await world.supplier.get(tmf)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()] == ["CID-1"]
    mef = await world.customer.get(
        "/mefApi/sonata/productInventory/v7/product", buyerId=world.customer.party_id
    )
    assert mef.status_code == 200, mef.text


@pytest.mark.parametrize(
    "literal", [b"18446744073709551616", b"9007199254740993", b"-1e300", b"1e400"]
)
async def test_numbers_json_cannot_keep_exactly_are_refused_with_their_path(
    world: World, ports: Ports, literal: bytes
) -> None:
    height, records = _ledger_height(ports), _count(ports, "inventory_record")
    record = orjson.dumps(product("CID-9"))[:-1] + b', "capacity": ' + literal + b"}"
    r = await world.supplier.upload(world.relation_id, record + b"\n")
    problem = _problem(r, 422)
    ((line, pointer),) = [(d["line"], d["pointer"]) for d in problem["details"]]
    # 1e400 is not even a double: the line cannot be parsed, so it names no field.
    assert (line, pointer) == (1, "" if literal == b"1e400" else "/capacity")
    r = await world.supplier.http.post(
        "/panther/v1/relation",
        content=b'{"supplier": "a", "customer": "b", "terms": {"taxRate": ' + literal + b"}}",
        headers={**world.supplier.auth, "Content-Type": "application/json"},
    )
    problem = _problem(r, 422)
    assert "/terms/taxRate" in str(problem)
    assert _ledger_height(ports) == height
    assert _count(ports, "inventory_record") == records


@pytest.mark.parametrize("value", [b"NaN", b"Infinity", b"1e400", b"-1e999"])
async def test_a_bulk_review_filter_of_nan_or_infinity_is_refused(
    world: World, ports: Ports, value: bytes
) -> None:
    height = _ledger_height(ports)
    r = await world.customer.http.post(
        "/panther/v1/matchRun/run-1/reviewAction",
        content=b'{"action": "acceptValue", "filter": {"maxRelativeDifference": ' + value + b"}}",
        headers={**world.customer.auth, "Content-Type": "application/json"},
    )
    # NaN and Infinity are not JSON (400); 1e400 is JSON but no double (422)
    _problem(r, 400 if value in (b"NaN", b"Infinity") else 422)
    assert _ledger_height(ports) == height


@pytest.mark.parametrize(
    "media_type,body",
    [
        ("application/x-ndjson", b'{"id": "CID-N", "status": "active", "name": "a\\u0000b"}\n'),
        ("application/json", b'[{"id": "CID-N\\u0000", "status": "active"}]'),
        ("text/csv", b"id,external_id,status\nCID-N,ext\x00ernal,active\n"),
    ],
)
async def test_nul_characters_are_refused_alike_on_every_database(
    world: World, ports: Ports, media_type: str, body: bytes
) -> None:
    height, reports = _ledger_height(ports), _count(ports, "inventory_report")
    r = await world.supplier.upload(world.relation_id, body, media_type=media_type)
    problem = _problem(r, 422)
    assert "NUL" in str(problem["details"])
    assert _ledger_height(ports) == height
    assert _count(ports, "inventory_report") == reports


@pytest.mark.parametrize(
    "path",
    [
        "/tmf-api/productInventory/v4/product",
        "/tmf-api/customerBillManagement/v4/appliedCustomerBillingRate",
        "/tmf-api/customerBillManagement/v4/customerBillOnDemand",
        "/tmf-api/customerBillManagement/v4/customerBill",
        "/tmf-api/troubleTicket/v4/troubleTicket",
        "/panther/v1/relation",
    ],
)
async def test_offsets_beyond_any_relation_are_400(world: World, path: str) -> None:
    for offset in (2**63, 2**64 + 1, 10**30):
        r = await world.supplier.get(path, offset=str(offset))
        _problem(r, 400)
    r = await world.supplier.get(path, offset="100000000")
    assert r.status_code == 200 and r.json() == []


async def test_a_chunked_upload_over_the_limit_is_413_and_stores_nothing(
    world: World, ports: Ports
) -> None:
    async def chunks(total: int) -> AsyncIterator[bytes]:
        line = orjson.dumps(product("CID-C")) + b"\n"
        sent = 0
        while sent < total:
            yield line
            sent += len(line)

    height = _ledger_height(ports)
    async with client_with(ports, max_upload_bytes=10_000, max_json_bytes=1_000) as client:
        r = await client.post(
            "/panther/v1/inventoryReport",
            params={"relationId": world.relation_id, "asOf": TODAY},
            content=chunks(50_000),
            headers={**world.supplier.auth, "Content-Type": "application/x-ndjson"},
        )
        assert "content-length" not in r.request.headers
        assert r.status_code == 413, r.text
        assert r.json()["code"] == "413"
        r = await client.post(
            "/panther/v1/relation",
            content=chunks(5_000),
            headers={**world.supplier.auth, "Content-Type": "application/json"},
        )
        # connexion takes a JSON body without Content-Length for no body at all
        assert r.status_code in (400, 413), r.text
    assert _ledger_height(ports) == height
