"""Bad uploads get clear errors in the TMF format, and nothing of them is stored."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from panther.server.services import replay
from panther.server.services.ports import Ports

from .world import TODAY, World, client_with, product


def _stored(ports: Ports, relation_id: str) -> tuple[int, int, int]:
    with ports.db.read() as conn:
        reports = conn.execute(
            sa.text("SELECT count(*) FROM inventory_report WHERE relation_id = :r"),
            {"r": relation_id},
        ).scalar_one()
        records = conn.execute(
            sa.text(
                "SELECT count(*) FROM inventory_record r JOIN inventory_report p "
                "ON p.id = r.report_id WHERE p.relation_id = :r"
            ),
            {"r": relation_id},
        ).scalar_one()
    head = ports.ledger.head()  # whichever ledger: rows in the database or events on chain
    return reports, records, head.seq + 1 if head is not None else 0


async def _rejected(
    world: World, ports: Ports, body: bytes, media_type: str, status: int
) -> dict[str, Any]:
    before = _stored(ports, world.relation_id)
    r = await world.supplier.upload(world.relation_id, body, media_type=media_type)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    after = _stored(ports, world.relation_id)
    assert after[:2] == before[:2], "a rejected upload left rows behind"
    assert after[2] == before[2], "a rejected upload reached the ledger"
    body_json = r.json()
    assert body_json["@type"] == "Error" and body_json["code"] and body_json["reason"]
    return dict(body_json)


async def test_every_unreadable_record_is_listed_with_line_pointer_and_kind(
    world: World, ports: Ports
) -> None:
    lines = [
        b'{"id": "A-1", "status": "active"}',
        b'{"status": "active"}',  # no id: cannot be identified
        b'{"id": "A-3", "status": "active", "startDate": 7}',  # a shape: kept as sent
        b'{"id": 4, "status": "active"}',  # an id that is not a string
        b'{"id": "A-5", "status": "active", "productPrice": [{"priceType": "recurring", '
        b'"price": {"dutyFreeAmount": {"unit": "eur", "value": "lots"}}}]}',  # kept as sent
        b'{"id": "A-6"',  # not JSON
    ]
    err = await _rejected(world, ports, b"\n".join(lines), "application/x-ndjson", 422)
    got = [(d["line"], d["record"], d["pointer"], d["kind"]) for d in err["details"]]
    assert got == [(2, 1, "/id", "idMissing"), (4, 3, "/id", "idInvalid"), (6, 5, "", "notJson")]
    assert err["problemCount"] == 3 and err["recordsWithProblems"] == 3
    assert err["problemCounts"] == {"idMissing": 1, "idInvalid": 1, "notJson": 1}


async def test_malformed_ndjson_line(world: World, ports: Ports) -> None:
    body = b'{"id": "A-1", "status": "active"}\n{"id": "A-2", "status": \n'
    err = await _rejected(world, ports, body, "application/x-ndjson", 422)
    assert err["details"][0]["line"] == 2


async def test_malformed_json(world: World, ports: Ports) -> None:
    err = await _rejected(
        world, ports, b'[{"id": "A-1", "status": "active"},', "application/json", 422
    )
    assert "JSON" in err["message"] or "JSON" in str(err["details"])


async def test_json_that_is_not_an_array(world: World, ports: Ports) -> None:
    err = await _rejected(
        world, ports, b'{"id": "A-1", "status": "active"}', "application/json", 422
    )
    assert err["details"]


async def test_not_utf8(world: World, ports: Ports) -> None:
    body = b'{"id": "A-\xff\xfe", "status": "active"}\n'
    err = await _rejected(world, ports, body, "application/x-ndjson", 422)
    assert "UTF-8" in str(err)


async def test_deeply_nested_body(world: World, ports: Ports) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    err = await _rejected(world, ports, body, "application/json", 422)
    assert "deep" in str(err).lower() or "nest" in str(err).lower()


async def test_csv_with_unknown_column(world: World, ports: Ports) -> None:
    body = b"id,status,colour\nA-1,active,blue\n"
    err = await _rejected(world, ports, body, "text/csv", 422)
    assert "colour" in str(err)


async def test_csv_with_known_columns_is_stored(world: World, ports: Ports) -> None:
    body = (
        b"id,external_id,status,start_date,bandwidth,site_a,site_b,mrc,currency\n"
        b"A-1,,active,2024-01-01,10G,FRA1,LON3,1250.00,EUR\n"
        b"A-2,,active,2024-02-01,1G,AMS2,PAR7,300.50,EUR\n"
    )
    r = await world.supplier.upload(world.relation_id, body, media_type="text/csv")
    assert r.status_code == 201, r.text
    assert r.json()["recordCount"] == 2
    listed = await world.supplier.get("/tmf-api/productInventory/v4/product", id="A-2")
    (prod,) = listed.json()
    price = prod["productPrice"][0]["price"]["dutyFreeAmount"]
    assert price == {"unit": "EUR", "value": 300.5}


async def test_unknown_status_vocabulary_is_refused(world: World, ports: Ports) -> None:
    records = [product("A-1"), product("A-2", status="live-ish")]
    body = b"\n".join(__import__("orjson").dumps(r) for r in records)
    err = await _rejected(world, ports, body, "application/x-ndjson", 422)
    assert err["details"][0]["record"] == 1 and err["details"][0]["pointer"] == "/status"


async def test_the_refusal_counts_every_problem_and_lists_the_first(
    world: World, ports: Ports
) -> None:
    body = b"\n".join(
        b'{"status": "active"}' if i % 5 else b'{"id": "X", "status": "s0 what"}'
        for i in range(500)
    )
    err = await _rejected(world, ports, body, "application/x-ndjson", 422)
    assert 100 <= len(err["details"]) <= 101
    assert (
        "capped" in err["details"][-1]["message"] and "500 in all" in err["details"][-1]["message"]
    )
    assert err["problemCount"] == 500 and err["recordsWithProblems"] == 500
    assert err["problemCounts"] == {"idMissing": 400, "statusUnknown": 100}
    # The full listing: the same report again, asking for more of its problems.
    before = _stored(ports, world.relation_id)
    r = await world.supplier.http.post(
        "/panther/v1/inventoryReport",
        params={"relationId": world.relation_id, "asOf": TODAY, "problemLimit": 1000},
        content=body,
        headers={**world.supplier.auth, "Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 422
    assert len(r.json()["details"]) == 500 and r.json()["problemCount"] == 500
    assert [d["line"] for d in r.json()["details"]] == list(range(1, 501))
    assert _stored(ports, world.relation_id) == before


async def test_unsupported_media_type(world: World, ports: Ports) -> None:
    await _rejected(world, ports, b"<xml/>", "application/xml", 415)


async def test_upload_over_the_limit(world: World, ports: Ports, asgi_app: Any) -> None:
    limit = ports.settings.max_upload_bytes
    object.__setattr__(ports.settings, "max_upload_bytes", 1000)
    try:
        # the middleware read the limit at start: check the service refuses it too
        from panther.server.services import reports

        with pytest.raises(Exception) as info:
            reports.upload_report(
                ports,
                _caller(ports, world),
                relation_id=world.relation_id,
                as_of=TODAY,
                body=b"x" * 2000,
                media_type="application/x-ndjson",
            )
        assert getattr(info.value, "status", None) == 413
    finally:
        object.__setattr__(ports.settings, "max_upload_bytes", limit)


def _caller(ports: Ports, world: World) -> Any:
    from panther.server.services.parties import read_token

    return read_token(ports, world.supplier.token)


async def test_body_limit_middleware_answers_413(ports: Ports) -> None:
    async with client_with(ports, max_upload_bytes=1000, max_json_bytes=200) as client:
        r = await client.post(
            "/panther/v1/inventoryReport",
            params={"relationId": "r", "asOf": TODAY},
            content=b"x" * 5000,
            headers={"Content-Type": "application/x-ndjson"},
        )
        assert r.status_code == 413 and r.json()["code"] == "413"
        r = await client.post(
            "/panther/v1/relation",
            content=b"{" + b" " * 500 + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 413


async def test_unknown_relation_is_404(world: World) -> None:
    r = await world.supplier.upload("rel-nope", [product("A")])
    assert r.status_code == 404 and r.json()["code"] == "notFound"


async def test_bad_json_body_elsewhere_is_400_not_500(world: World) -> None:
    r = await world.operator.post(
        "/panther/v1/relation", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["@type"] == "Error"
    r = await world.operator.post(
        "/panther/v1/relation", content=b"[" * 50_000, headers={"Content-Type": "application/json"}
    )
    assert r.status_code in (400, 413) and r.json()["@type"] == "Error"


async def test_strict_query_parameters(world: World) -> None:
    r = await world.supplier.get("/panther/v1/relation", colour="blue")
    assert r.status_code == 400 and r.json()["@type"] == "Error"


# ---- kept as sent, served as the standards allow ----------------------------------------


async def test_lower_case_currencies_are_kept_and_matched(world: World, ports: Ports) -> None:
    """The trial's export: one record in ten with a lower-case currency code. Ingest keeps it
    as sent; the money normaliser reads it; every pair matches."""
    supplier = [product(f"CID-{i:06d}", order=f"PO-{i}") for i in range(30)]
    for record in supplier[::10]:
        record["productPrice"][0]["price"]["dutyFreeAmount"]["unit"] = "eur"
    customer = [product(f"VF-{i}", external=f"CID-{i:06d}", order=f"PO-{i}") for i in range(30)]
    r = await world.supplier.upload(world.relation_id, supplier)
    assert r.status_code == 201, r.text
    assert r.json()["recordCount"] == 30 and r.json()["heldOutCount"] == 0
    r = await world.customer.upload(world.relation_id, customer)
    assert r.status_code == 201, r.text
    run = (await world.supplier.get(f"/panther/v1/matchRun/{r.json()['matchRun']['id']}")).json()
    assert run["counts"]["matched"] == 30, run["counts"]
    assert run["counts"]["partial"] == 0
    # Kept exactly as sent: the stored record (TMF637 serves what it can of it) says "eur".
    listed = await world.supplier.get("/tmf-api/productInventory/v4/product", id="CID-000010")
    assert listed.status_code == 200, listed.text
    (served,) = listed.json()
    assert served["productPrice"][0]["price"]["dutyFreeAmount"]["unit"] == "eur"


async def test_a_numeric_name_is_kept_and_left_out_of_the_served_product(
    world: World, ports: Ports
) -> None:
    """TMF637's Product.name is a string: a record whose name is a number is stored as sent
    and served without it (the tests validate every response against the documents)."""
    record = {**product("CID-N1"), "name": 42, "startDate": "01/03/2024"}
    r = await world.supplier.upload(world.relation_id, [record, product("CID-N2")])
    assert r.status_code == 201, r.text
    tmf = await world.supplier.get("/tmf-api/productInventory/v4/product/CID-N1")
    assert tmf.status_code == 200, tmf.text
    assert "name" not in tmf.json() and "startDate" not in tmf.json()
    listed = await world.supplier.get("/tmf-api/productInventory/v4/product")
    assert listed.status_code == 200, listed.text
    assert {p["id"] for p in listed.json()} == {"CID-N1", "CID-N2"}
    mef = await world.customer.get(
        "/mefApi/sonata/productInventory/v7/product", buyerId=world.customer.party_id
    )
    assert mef.status_code == 200, mef.text
    assert {p["id"] for p in mef.json()} == {"CID-N1", "CID-N2"}


# ---- the relation term unreadableRecords: holdOut ---------------------------------------


async def _propose(world: World, unreadable_records: str) -> Any:
    return await world.operator.post(
        "/panther/v1/relation",
        {"supplier": world.supplier.party_id, "customer": world.customer.party_id,
         "terms": {"unreadableRecords": unreadable_records}},
    )  # fmt: skip


async def _holding_out(world: World) -> str:
    r = await _propose(world, "holdOut")
    assert r.status_code == 201, r.text
    assert r.json()["terms"]["unreadableRecords"] == "holdOut"
    relation_id = str(r.json()["id"])
    for actor in (world.supplier, world.customer):
        r = await actor.post(f"/panther/v1/relation/{relation_id}/agreement", {})
        assert r.status_code == 200, r.text
    return relation_id


async def test_the_term_is_checked_when_proposed(world: World) -> None:
    r = await _propose(world, "dropThem")
    assert r.status_code == 400, r.text


async def test_held_out_records_are_listed_counted_and_signed(world: World, ports: Ports) -> None:
    relation_id = await _holding_out(world)
    good = [orjson.dumps(product(f"CID-{i}")) for i in range(4)]
    bad = [b'{"status": "active"}', b'{"id": "CID-x", "status": "live-ish"}', b"{oops"]
    lines = [good[0], bad[0], good[1], bad[1], good[2], bad[2], good[3]]
    before = _stored(ports, relation_id)
    r = await world.supplier.upload(relation_id, b"\n".join(lines))
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["recordCount"] == 4 and report["heldOutCount"] == 3
    held = report["heldOut"]
    assert [
        (h["line"], h["record"], [x["kind"] for x in h["reasons"]]) for h in held["records"]
    ] == [
        (2, 1, ["idMissing"]),
        (4, 3, ["statusUnknown"]),
        (6, 5, ["notJson"]),
    ]
    assert held["problemCounts"] == {"idMissing": 1, "notJson": 1, "statusUnknown": 1}
    digests = b"".join(hashlib.sha256(line).digest() for line in bad)
    assert report["heldOutHash"] == hashlib.sha256(digests).hexdigest()
    after = _stored(ports, relation_id)
    assert after == (before[0] + 1, before[1] + 4, before[2] + 1)
    # The entry commits to what is kept and to what was held out.
    entry = (await world.supplier.get(f"/panther/v1/ledger/entry/{report['ledgerSeq']}")).json()
    assert entry["payload"]["recordCount"] == 4
    assert entry["payload"]["heldOutCount"] == 3
    assert entry["payload"]["heldOutHash"] == report["heldOutHash"]
    # The ledger verifies, and replaying it gives the count and hash the database holds.
    r = await world.operator.post("/panther/v1/ledger/verification")
    assert r.json()["ok"] is True, r.json()
    with ports.uow.read() as uow:
        database = replay.read_database(uow)
    assert replay.compare(replay.rebuild(ports.ledger).projections, database) == []
    # Never silently dropped: the report resource lists them, a page at a time.
    path = f"/panther/v1/inventoryReport/{report['id']}"
    again = (await world.customer.get(path)).json()
    assert again["heldOut"]["records"] == held["records"]
    page = (await world.supplier.get(path, heldOutOffset=1, heldOutLimit=1)).json()
    assert [h["line"] for h in page["heldOut"]["records"]] == [4]
    # The readable records are the report: served, and the same upload is the same report.
    listed = await world.supplier.get("/tmf-api/productInventory/v4/product")
    assert sorted(p["id"] for p in listed.json()) == ["CID-0", "CID-1", "CID-2", "CID-3"]
    r = await world.supplier.upload(relation_id, b"\n".join(lines))
    assert r.status_code == 200 and r.json()["id"] == report["id"]
    # Only the readable ones again: another version (what was held out differs).
    r = await world.supplier.upload(relation_id, b"\n".join(good))
    assert r.status_code == 201 and r.json()["heldOutCount"] == 0 and "heldOut" not in r.json()


async def test_a_body_that_cannot_be_read_is_refused_even_when_holding_out(
    world: World, ports: Ports
) -> None:
    world.relation_id = await _holding_out(world)
    await _rejected(world, ports, b'[{"id": "A"},', "application/json", 422)
    await _rejected(world, ports, b'{"id": "A", "status": "x"}', "application/json", 422)
