"""Retries are safe: Idempotency-Key on every write, the same proposal made once, a cap on
what one carrier leaves pending, and nothing that tells a stranger which party ids exist."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

from panther.client import PantherClient
from panther.server import state
from panther.server.app import APIS, OPENAPI_DIR, create_app
from panther.server.idempotency import idempotent_operations
from panther.server.services.idempotency import stored_key
from panther.server.services.ports import Ports

from .test_review import _act, _entries, _items, _run, inventories
from .world import Actor, World, client_with, new_carrier, operator_actor

MEF = "/mefApi/sonata/customerBillManagement/v2"


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f'"{secrets.token_urlsafe(16)}"'}


def _head(ports: Ports) -> int:
    head = ports.ledger.head()
    return -1 if head is None else head.seq


def _count(ports: Ports, sql: str, **params: Any) -> int:
    with ports.db.read() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def _parties(ports: Ports) -> int:
    return _count(ports, "SELECT count(*) FROM party")


def _tmf_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["@type"] == "Error" and body["status"] == str(status) and body["reason"]
    return dict(body)


# ---------------------------------------------------------------- natural idempotency


async def test_forty_identical_relation_proposals_make_one_relation(
    world: World, ports: Ports
) -> None:
    body = {
        "supplier": world.supplier.party_id,
        "customer": world.customer.party_id,
        "terms": {"currency": "USD"},
    }
    head = _head(ports)
    results = await asyncio.gather(
        *(world.supplier.post("/panther/v1/relation", body) for _ in range(40))
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 39 + [201], [r.text for r in results if r.status_code >= 400]
    assert {r.json()["id"] for r in results} == {results[0].json()["id"]}
    relation_id = results[0].json()["id"]
    assert results[0].json()["terms"]["currency"] == "USD"
    stored = _count(
        ports,
        "SELECT count(*) FROM relation WHERE proposed_by = :p AND customer_id = :c",
        p=world.supplier.party_id,
        c=world.customer.party_id,
    )
    assert stored == 1
    assert _head(ports) == head  # a proposal is not on the ledger

    for actor in (world.supplier, world.customer):
        r = await actor.post(f"/panther/v1/relation/{relation_id}/agreement", {})
        assert r.status_code == 200, r.text
    assert _head(ports) == head + 1  # one RelationAgreed
    # The same proposal once agreed is still that relation, agreed.
    r = await world.supplier.post("/panther/v1/relation", body)
    assert r.status_code == 200 and r.json()["id"] == relation_id
    assert r.json()["state"] == "agreed" and r.json()["ledgerSeq"] == head + 1
    # Other terms are another proposal; an explicit id is its own relation.
    r = await world.supplier.post("/panther/v1/relation", {**body, "terms": {"currency": "GBP"}})
    assert r.status_code == 201 and r.json()["id"] != relation_id
    named = {**body, "id": f"rel-{secrets.token_hex(4)}"}
    first = await world.supplier.post("/panther/v1/relation", named)
    again = await world.supplier.post("/panther/v1/relation", named)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    r = await world.supplier.post("/panther/v1/relation", {**named, "terms": {"currency": "CHF"}})
    assert r.status_code == 409


async def test_forty_identical_accept_value_proposals_make_one_ledger_entry(
    world: World, ports: Ports
) -> None:
    run = await _run(world, *inventories())
    no = (await _items(world.customer, run["id"]))["CID-000002"]["itemNo"]
    before = len(await _entries(world.customer, "ReviewActionTaken"))
    body = {"action": "acceptValue", "note": "ok"}
    results = await asyncio.gather(*(_act(world.customer, run["id"], no, body) for _ in range(40)))
    codes = [r.status_code for r in results]
    # PostgreSQL may refuse a few that raced for the same item version (409, nothing kept).
    assert codes.count(201) == 1 and set(codes) <= {200, 201, 409}, codes
    proposals = {r.json()["proposal"]["id"] for r in results if r.status_code in (200, 201)}
    assert len(proposals) == 1
    assert len(await _entries(world.customer, "ReviewActionTaken")) == before + 1
    # A retry that still carries the ETag it sent first is the same proposal, not a 412.
    r = await _act(world.customer, run["id"], no, body, '"0"')
    assert r.status_code == 200 and r.json()["proposal"]["id"] in proposals
    assert r.headers["ETag"] == '"1"'
    # Another resolution (another note) is another proposal, superseding the first.
    r = await _act(world.customer, run["id"], no, {"action": "acceptValue", "note": "fine"})
    assert r.status_code == 201 and r.json()["proposal"]["id"] not in proposals
    assert len(await _entries(world.customer, "ReviewActionTaken")) == before + 2


# ---------------------------------------------------------------- Idempotency-Key


async def test_a_retry_with_the_same_key_replays_the_response(world: World, ports: Ports) -> None:
    key = _key()
    parties, head = _parties(ports), _head(ports)
    first = await world.operator.post("/panther/v1/party", {"name": "Retried"}, headers=key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert (_parties(ports), _head(ports)) == (parties + 1, head + 1)
    again = await world.operator.post("/panther/v1/party", {"name": "Retried"}, headers=key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # the same party, the same credentials
    assert again.headers["content-type"] == first.headers["content-type"]
    assert (_parties(ports), _head(ports)) == (parties + 1, head + 1)
    # The key is the caller's: another party's same key is another request.
    r = await world.supplier.post("/panther/v1/party", {"name": "Retried"}, headers=key)
    assert r.status_code == 403 and "idempotent-replayed" not in r.headers

    # A ledger write with no natural key of its own: a review comment.
    run = await _run(world, *inventories())
    no = (await _items(world.supplier, run["id"]))["CID-000004"]["itemNo"]
    taken = len(await _entries(world.supplier, "ReviewActionTaken"))
    key = _key()
    path = f"/panther/v1/matchRun/{run['id']}/item/{no}/reviewAction"
    body = {"action": "comment", "note": "checking"}
    first = await world.supplier.post(path, body, headers=key)
    again = await world.supplier.post(path, body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await _entries(world.supplier, "ReviewActionTaken")) == taken + 1
    assert [a["note"] for a in again.json()["actions"]] == ["checking"]


async def test_a_kept_response_holds_no_secret_in_clear(world: World, ports: Ports) -> None:
    """createParty answers with the new client's secret: the row kept for its retries holds
    neither the key nor anything of the response readable without it."""
    key = _key()
    first = await world.operator.post("/panther/v1/party", {"name": "Sealed"}, headers=key)
    assert first.status_code == 201, first.text
    secret = first.json()["credentials"]["clientSecret"]
    raw_key = key["Idempotency-Key"].strip('"')
    with ports.db.read() as conn:
        rows = conn.execute(sa.text("SELECT * FROM idempotency_key")).mappings().all()
    kept = [r for r in rows if r["key"] == stored_key(world.operator.party_id, raw_key)]
    assert len(kept) == 1 and kept[0]["status"] == 201
    for row in rows:
        stored = b"".join(
            v if isinstance(v, bytes) else str(v).encode() for v in row.values() if v is not None
        )
        assert secret.encode() not in stored and raw_key.encode() not in stored
        assert first.json()["id"].encode() not in stored
    again = await world.operator.post("/panther/v1/party", {"name": "Sealed"}, headers=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["credentials"]["clientSecret"] == secret
    # Another caller with the same key finds another row, and nothing to open.
    other = await world.supplier.post("/panther/v1/party", {"name": "Sealed"}, headers=key)
    assert other.status_code == 403 and "idempotent-replayed" not in other.headers


async def test_the_same_key_with_another_request_is_refused(world: World, ports: Ports) -> None:
    key = _key()
    r = await world.operator.post("/panther/v1/party", {"name": "First"}, headers=key)
    assert r.status_code == 201
    parties = _parties(ports)
    r = await world.operator.post("/panther/v1/party", {"name": "Second"}, headers=key)
    assert "another request" in _tmf_error(r, 422)["message"]
    r = await world.operator.post(
        "/panther/v1/relation", {"supplier": "a", "customer": "b"}, headers=key
    )
    _tmf_error(r, 422)
    assert _parties(ports) == parties
    # MEF 141's hub declares no 422: the same refusal is its 400, in MEF's error format.
    key = _key()
    r = await world.customer.post(f"{MEF}/hub", {"callback": "https://b.example/1"}, headers=key)
    assert r.status_code == 201, r.text
    again = await world.customer.post(
        f"{MEF}/hub", {"callback": "https://b.example/1"}, headers=key
    )
    assert again.status_code == 201 and again.json() == r.json()
    r = await world.customer.post(f"{MEF}/hub", {"callback": "https://b.example/2"}, headers=key)
    assert r.status_code == 400 and r.json()["code"] == "invalidBody", r.text
    assert "another request" in r.json()["message"]


async def test_a_malformed_key_is_400_and_changes_nothing(world: World, ports: Ports) -> None:
    parties = _parties(ports)
    for bad in ("x" * 256, "has space", '"unclosed', "", 'in"side'):
        r = await world.operator.post(
            "/panther/v1/party", {"name": "Bad key"}, headers={"Idempotency-Key": bad}
        )
        assert "Idempotency-Key" in _tmf_error(r, 400)["message"], bad
    assert _parties(ports) == parties
    # The longest key, quoted or bare, is fine; without a token the key is not even looked at.
    r = await world.operator.post(
        "/panther/v1/party", {"name": "Long key"}, headers={"Idempotency-Key": "k" * 255}
    )
    assert r.status_code == 201, r.text
    r = await world.operator.http.post(
        "/panther/v1/party", json={"name": "Anonymous"}, headers={"Idempotency-Key": "k" * 255}
    )
    assert r.status_code == 401


async def test_concurrent_requests_with_one_key_run_once(world: World, ports: Ports) -> None:
    key = _key()
    parties, head = _parties(ports), _head(ports)
    results = await asyncio.gather(
        *(
            world.operator.post("/panther/v1/party", {"name": "Once"}, headers=key)
            for _ in range(12)
        )
    )
    ran = [r for r in results if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(ran) == 1
    for r in results:
        if r.status_code == 409:
            assert "still being processed" in _tmf_error(r, 409)["message"]
        else:
            assert r.status_code == 201 and r.json() == ran[0].json()
    assert (_parties(ports), _head(ports)) == (parties + 1, head + 1)
    # Once it finished, the retry is a replay.
    r = await world.operator.post("/panther/v1/party", {"name": "Once"}, headers=key)
    assert r.headers["Idempotent-Replayed"] == "true" and r.json() == ran[0].json()


async def test_a_failed_request_frees_its_key(world: World, ports: Ports) -> None:
    key = _key()
    relation = {"supplier": world.supplier.party_id, "customer": world.supplier.party_id}
    r = await world.supplier.post("/panther/v1/relation", relation, headers=key)
    _tmf_error(r, 422)  # supplier and customer must differ: nothing was applied
    relation["customer"] = world.customer.party_id
    relation["terms"] = {"currency": "SEK"}
    r = await world.supplier.post("/panther/v1/relation", relation, headers=key)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    stored = _count(
        ports, "SELECT count(*) FROM idempotency_key WHERE owner = :o", o=world.supplier.party_id
    )
    assert stored == 1


@dataclasses.dataclass
class LaterClock:
    """The wall clock, ``ahead`` later: a day passes without waiting for it."""

    ahead: timedelta

    def now_iso(self) -> str:
        now = datetime.now(UTC) + self.ahead
        return now.isoformat(timespec="microseconds").replace("+00:00", "Z")


async def test_keys_are_kept_a_day_then_forgotten(world: World, ports: Ports) -> None:
    key = _key()
    first = await world.operator.post("/panther/v1/party", {"name": "Daily"}, headers=key)
    assert first.status_code == 201
    with ports.db.read() as conn:
        created, expires = conn.execute(
            sa.text("SELECT created_at, expires_at FROM idempotency_key WHERE key = :k"),
            {"k": stored_key(world.operator.party_id, key["Idempotency-Key"].strip('"'))},
        ).one()
    kept = datetime.fromisoformat(expires) - datetime.fromisoformat(created)
    assert timedelta(hours=24) <= kept < timedelta(hours=24, minutes=1)

    async def at(ahead: timedelta) -> httpx.Response:
        system: Any = ports  # the composed System, a dataclass
        later = dataclasses.replace(system, clock=LaterClock(ahead))
        app = create_app(ports=later)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as http:
                operator = await operator_actor(http, ports)
                return await operator.post("/panther/v1/party", {"name": "Daily"}, headers=key)
        finally:
            state.install(ports)

    r = await at(timedelta(hours=23))
    assert r.headers["Idempotent-Replayed"] == "true" and r.json() == first.json()
    parties = _parties(ports)
    r = await at(timedelta(hours=24, minutes=1))  # expired: purged, and the key is new again
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert r.json()["id"] != first.json()["id"] and _parties(ports) == parties + 1
    old = _count(
        ports,
        "SELECT count(*) FROM idempotency_key WHERE expires_at < :t",
        t=LaterClock(timedelta(hours=24, minutes=1)).now_iso(),
    )
    assert old == 0


# ---------------------------------------------------------------- strangers


async def test_pending_proposals_of_one_carrier_are_capped(world: World, ports: Ports) -> None:
    async with client_with(ports, max_pending_proposals=3) as http:
        operator = await operator_actor(http, ports)
        stranger = await new_carrier(http, operator, "stranger")
        made = []
        for _ in range(3):
            body = {"supplier": stranger.party_id, "customer": f"nobody-{secrets.token_hex(4)}"}
            r = await stranger.post("/panther/v1/relation", body)
            assert r.status_code == 201, r.text
            made.append(body)
        r = await stranger.post(
            "/panther/v1/relation",
            {"supplier": stranger.party_id, "customer": world.customer.party_id},
        )
        error = _tmf_error(r, 422)
        assert error["code"] == "tooManyPending" and "3" in error["message"]
        # Proposing again what is already pending is not more.
        r = await stranger.post("/panther/v1/relation", made[0])
        assert r.status_code == 200
        pending = _count(
            ports,
            "SELECT count(*) FROM relation WHERE proposed_by = :p",
            p=stranger.party_id,
        )
        assert pending == 3
        # The operator sets relations up for carriers; it has no cap.
        for currency in ("EUR", "USD", "GBP", "CHF"):
            body = {"supplier": stranger.party_id, "customer": world.customer.party_id}
            r = await operator.post(
                "/panther/v1/relation", {**body, "terms": {"currency": currency}}
            )
            assert r.status_code in (200, 201), r.text


def _shape(body: Any) -> Any:
    """The keys and value types of a JSON body, all the way down."""
    if isinstance(body, dict):
        return {k: _shape(v) for k, v in body.items()}
    if isinstance(body, list):
        return [_shape(v) for v in body]
    return type(body).__name__


async def test_a_stranger_cannot_tell_existing_carriers_from_unknown_ids(
    http: httpx.AsyncClient, world: World, ports: Ports
) -> None:
    stranger: Actor = await new_carrier(http, world.operator, "stranger")
    unknown = f"carrier-{secrets.token_hex(4)}"
    answers = {}
    for target in (world.customer.party_id, unknown):
        body = {"supplier": stranger.party_id, "customer": target}
        proposed = await stranger.post("/panther/v1/relation", body)
        assert proposed.status_code == 201, proposed.text
        relation_id = proposed.json()["id"]
        read = await stranger.get(f"/panther/v1/relation/{relation_id}")
        agreed = await stranger.post(f"/panther/v1/relation/{relation_id}/agreement", {})
        party = await stranger.get(f"/panther/v1/party/{target}")
        listed = await stranger.get("/panther/v1/party")
        answers[target] = (proposed, read, agreed, party, listed)

    known, nobody = answers[world.customer.party_id], answers[unknown]
    for a, b in zip(known, nobody, strict=True):
        assert a.status_code == b.status_code
        assert _shape(a.json()) == _shape(b.json())
    assert [r.status_code for r in known] == [201, 200, 200, 404, 200]
    assert known[2].json()["agreedBy"] == [stranger.party_id] == nobody[2].json()["agreedBy"]
    assert known[2].json()["state"] == nobody[2].json()["state"] == "proposed"
    # The 404 of a party is the same words whether or not it exists.
    assert known[3].json()["message"].replace(world.customer.party_id, "X") == nobody[3].json()[
        "message"
    ].replace(unknown, "X")
    assert {p["id"] for p in known[4].json()} == {stranger.party_id, "operator"}
    assert known[4].json() == nobody[4].json()
    # The carrier proposed to sees the proposal and who made it, and agreeing puts it in force.
    rel = known[0].json()["id"]
    r = await world.customer.get(f"/panther/v1/relation/{rel}")
    assert r.status_code == 200 and r.json()["proposedBy"] == stranger.party_id
    assert (await world.customer.get(f"/panther/v1/party/{stranger.party_id}")).status_code == 200
    r = await world.customer.post(f"/panther/v1/relation/{rel}/agreement", {})
    assert r.json()["state"] == "agreed"
    assert (await stranger.get(f"/panther/v1/party/{world.customer.party_id}")).status_code == 200
    # The proposal to nobody stays a proposal; the operator, who sees every party, is told.
    with ports.db.read() as conn:
        row = conn.execute(
            sa.text("SELECT state, customer_id FROM relation WHERE id = :i"),
            {"i": nobody[0].json()["id"]},
        ).one()
    assert tuple(row) == ("proposed", unknown)
    r = await world.operator.post(
        "/panther/v1/relation", {"supplier": stranger.party_id, "customer": unknown}
    )
    assert _tmf_error(r, 422)["details"][0]["pointer"] == "/customer"


def test_every_write_of_every_document_takes_the_key() -> None:
    """Each POST and PATCH declares Idempotency-Key, except the token endpoint, the ledger
    verification and the profile check (they compute, write nothing); DELETE is idempotent
    already."""
    documents = [(base, yaml.safe_load((OPENAPI_DIR / doc).read_text())) for doc, base, _ in APIS]
    declared = {(o.method, o.pattern.pattern) for o in idempotent_operations(documents)}
    writes = {
        (method.upper(), op["operationId"], base + path)
        for base, spec in documents
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("post", "patch")
    }
    missing = {
        operation_id
        for method, operation_id, path in writes
        if not any(
            m == method and re.match(p, path.replace("{", "x").replace("}", ""))
            for m, p in declared
        )
    }
    assert missing == {"createToken", "createLedgerVerification", "createProfileCheck"}
    assert len(declared) == len(writes) - 3 == 19


class LosesFirstAnswer(httpx.HTTPTransport):
    """A network that delivers the first write but loses its answer."""

    lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path == "/panther/v1/party" and not self.lost:
            response.read()
            response.close()
            self.lost += 1
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


def test_the_client_retries_a_lost_answer_without_doing_it_twice(
    served: str,
    tmp_path: Path,
) -> None:
    creds = json.loads((tmp_path / "operator-credentials.json").read_text())
    transport = LosesFirstAnswer()
    operator = PantherClient(
        served,
        creds["clientId"],
        creds["clientSecret"],
        http=httpx.Client(base_url=served, transport=transport),
    )
    try:
        party = operator.register_party("Lost answer")
        assert transport.lost == 1
        named = [p for p in operator.pages("/panther/v1/party") if p["name"] == "Lost answer"]
        assert [p["id"] for p in named] == [party["id"]]
        # The retry comes the moment the answer is lost: the key must already be settled
        # (the server holds the end of its answer until it is), never "still processing".
        for n in range(15):
            transport.lost = 0
            again = operator.register_party(f"Lost answer {n}")
            assert transport.lost == 1 and again["name"] == f"Lost answer {n}"
        # What the retry returned is what the first request made: its credentials work.
        carrier = PantherClient(
            served, party["credentials"]["clientId"], party["credentials"]["clientSecret"]
        )
        assert carrier.get(f"/panther/v1/party/{party['id']}")["id"] == party["id"]
        carrier.close()
    finally:
        operator.close()
