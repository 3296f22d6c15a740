"""Issue 16, outbound safety and bounds on abuse: hub callbacks go to public https addresses
only (checked at registration and again at delivery, against DNS rebinding), token requests
and writes are rate limited (429 with Retry-After), and one party's listeners and one
ticket's notes are capped."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest

from panther.adapters.outbound import SystemResolver
from panther.server import state
from panther.server.app import create_app
from panther.server.services.ports import Ports

from .test_tmf621 import TT, error_ok, item_entity, open_ticket, patch, scene, ticket_ok
from .world import Actor, World, new_carrier, operator_actor, product, same_system_with

TMF637 = "/tmf-api/productInventory/v4"
TMF678 = "/tmf-api/customerBillManagement/v4"
MEF141 = "/mefApi/sonata/customerBillManagement/v2"
TMF_HUBS = (f"{TMF637}/hub", f"{TT}/hub", f"{TMF678}/hub")
SAFE = {"callback_allow_http": False, "callback_allow": ()}


class Names:
    """A resolver whose answers the test decides (the far side: DNS), for names it knows;
    the system's resolver for the others."""

    def __init__(self, **names: list[str]) -> None:
        self.names = {k.replace("_", "."): v for k, v in names.items()}

    def resolve(self, host: str, port: int) -> list[str]:
        if host in self.names:
            return self.names[host]
        return SystemResolver().resolve(host, port)


@asynccontextmanager
async def serving(
    ports: Ports, system: Any, address: str = "127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client, from `address`, of an app over `system` (the test's ports again after)."""
    async with clients(ports, system, address) as (client,):
        yield client


@asynccontextmanager
async def clients(
    ports: Ports, system: Any, *addresses: str
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Clients of one app over `system`, one from each address."""
    app = create_app(ports=system)
    try:
        async with AsyncExitStack() as stack:
            yield [
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                        base_url="http://t",
                    )
                )
                for address in addresses
            ]
    finally:
        state.install(ports)


def listeners_of(ports: Ports, party_id: str) -> int:
    with ports.uow.read() as uow:
        return uow.listeners.count_of(party_id)


async def register(actor: Actor, hub: str, callback: str) -> httpx.Response:
    return await actor.post(hub, {"callback": callback})


def refused(r: httpx.Response, why: str) -> None:
    """A refused registration: TMF 422 (TMF630 Error, the pointer) or MEF 400."""
    body = r.json()
    if "/mefApi/" in str(r.url):
        assert r.status_code == 400, r.text
        assert body["code"] == "invalidBody" and why in body["message"], body
        return
    assert r.status_code == 422, r.text
    assert body["@type"] == "Error" and body["status"] == "422"
    assert body["details"][0]["pointer"] == "/callback" and why in body["message"], body


# ---- callbacks ------------------------------------------------------------------------------


REPORTED = {
    # the addresses, on a system that allows plain http: refused for where they go
    "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is a link-local address",
    "http://127.0.0.1:22/": "127.0.0.1 is a loopback address",
    "http://[::1]:5432/": "::1 is a loopback address",
    "http://localhost:6379/": "localhost resolves to",
    "https://panther.example.net/cb": "the callback is this server",
    "https://panther.example.net:443/cb": "the callback is this server",
    "http://127.0.0.1:8080/cb": "the callback is this server",
    "https://user:pw@hooks.example.com/cb": "must not carry credentials",
    "https://token@hooks.example.com/cb": "must not carry credentials",
    "http://[::ffff:127.0.0.1]:9/": "a loopback address",
    "http://10.0.0.5/": "10.0.0.5 is a private address",
    "http://224.0.0.1/": "224.0.0.1 is a multicast address",
    "http://0.0.0.0:9/": "0.0.0.0 is an unspecified address",
    "http://100.64.0.1/": "100.64.0.1 is a non-public address",
}


async def test_reported_callbacks_are_refused(world: World, ports: Ports) -> None:
    system = same_system_with(
        ports,
        callback_allow_http=True,
        callback_allow=(),
        public_base_url="https://panther.example.net",
    )
    async with serving(ports, system) as client:
        customer = replace(world.customer, http=client)
        for callback, why in REPORTED.items():
            for hub in (*TMF_HUBS, f"{MEF141}/hub"):
                refused(await register(customer, hub, callback), why)
        r = await register(customer, f"{TT}/hub", "https://hooks.example.com/cb")
        assert r.status_code == 201, r.text  # a public name (or none yet) is let through
    assert listeners_of(ports, world.customer.party_id) == 1


async def test_https_only_by_default(world: World, ports: Ports) -> None:
    async with serving(ports, same_system_with(ports, **SAFE)) as client:
        customer = replace(world.customer, http=client)
        for hub in (*TMF_HUBS, f"{MEF141}/hub"):
            refused(await register(customer, hub, "http://hooks.example.com/cb"), "https URL")
            # The test systems' allow-list names 127.0.0.1; the defaults name nothing.
            refused(await register(customer, hub, "https://127.0.0.1:9/cb"), "loopback")
    assert listeners_of(ports, world.customer.party_id) == 0


async def test_own_address_refused_even_when_allowed(world: World, ports: Ports) -> None:
    """The test systems allow 127.0.0.1, but not this server's own port on it."""
    assert "127.0.0.1" in ports.settings.callback_allow
    r = await register(world.customer, f"{TT}/hub", f"http://127.0.0.1:{ports.settings.port}/x")
    refused(r, "this server")


async def test_names_resolving_to_private_addresses_are_refused(world: World, ports: Ports) -> None:
    system: Any = same_system_with(ports, callback_allow_http=True, callback_allow=())
    system.webhooks.resolver = Names(
        intranet_partner_test=["10.1.2.3"],
        mixed_partner_test=["93.184.215.14", "fd00::1"],
        public_partner_test=["93.184.215.14"],
    )
    async with serving(ports, system) as client:
        customer = replace(world.customer, http=client)
        hub = f"{TT}/hub"
        refused(
            await register(customer, hub, "https://intranet.partner.test/cb"),
            "intranet.partner.test resolves to 10.1.2.3, a private address",
        )
        refused(  # every address is checked, not the first
            await register(customer, hub, "https://mixed.partner.test/cb"),
            "resolves to fd00::1, a private address",
        )
        r = await register(customer, hub, "https://public.partner.test/cb")
        assert r.status_code == 201, r.text
    assert listeners_of(ports, world.customer.party_id) == 1


async def test_no_delivery_to_a_name_that_rebinds_to_a_private_address(
    world: World, ports: Ports, listener: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url, received = listener
    port = httpx.URL(url).port
    system: Any = same_system_with(ports, callback_allow_http=True, callback_allow=())
    names = Names(hooks_partner_test=["93.184.215.14"])  # public when registered
    system.webhooks.resolver = names
    async with serving(ports, system) as client:
        customer = replace(world.customer, http=client)
        await customer.upload(world.relation_id, [product("VF-1", external="CID-1")])
        r = await register(customer, f"{TMF637}/hub", f"http://hooks.partner.test:{port}/hooks")
        assert r.status_code == 201, r.text

        async def new_product(pid: str) -> None:
            body = {
                **product(pid, external=f"C-{pid}", start="2024-01-01T00:00:00Z"),
                "relatedParty": [
                    {
                        "id": world.supplier.party_id,
                        "role": "supplier",
                        "@referredType": "Organization",
                    }
                ],
            }
            r = await customer.post(f"{TMF637}/product", body)
            assert r.status_code == 201, r.text
            system.webhooks.drain()

        # The name now answers the listener's loopback address: nothing is sent.
        names.names["hooks.partner.test"] = ["127.0.0.1"]
        with caplog.at_level(logging.WARNING, logger="panther.webhooks"):
            await new_product("VF-2")
        assert received == []
        assert "127.0.0.1, a loopback address" in caplog.text

        # Had the operator allowed the address, the same event would have arrived there:
        # delivery connects to the address it checked, under the listener's own name.
        system.webhooks.policy = replace(system.webhooks.policy, allowed=("127.0.0.1",))
        await new_product("VF-3")
    assert [p for p, _ in received] == ["/hooks/listener/ProductCreateEvent"]
    assert received[0][1]["event"]["product"]["id"] == "VF-3"


# ---- rate limits ----------------------------------------------------------------------------


async def _token(client: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


def too_many(r: httpx.Response, most: int) -> int:
    """A 429 (the OAuth error body) and its Retry-After, checked to be within the window."""
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "temporarily_unavailable"
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= most
    return wait


async def _credentials(http: httpx.AsyncClient, ports: Ports) -> tuple[str, str]:
    operator = await operator_actor(http, ports)
    r = await operator.post("/panther/v1/party", {"name": "rl", "id": f"rl-{secrets.token_hex(4)}"})
    assert r.status_code == 201, r.text
    creds = r.json()["credentials"]
    return creds["clientId"], creds["clientSecret"]


async def test_failed_token_requests_are_limited_per_address(
    http: httpx.AsyncClient, ports: Ports
) -> None:
    client_id, secret = await _credentials(http, ports)
    system = same_system_with(ports, rate_limit_token_failures_per_ip="5 per 6 seconds")
    async with clients(ports, system, "203.0.113.7", "198.51.100.9") as (attacker, other):
        for n in range(5):  # wrong secrets of different clients: the address is what counts
            r = await _token(attacker, f"guess-{n}", "wrong")
            assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        for _ in range(3):
            wait = too_many(await _token(attacker, f"guess-{secrets.token_hex(2)}", "x"), 6)
        too_many(await _token(attacker, client_id, secret), 6)  # the address waits
        assert (await _token(other, client_id, secret)).status_code == 200
        await asyncio.sleep(wait + 0.1)
        r = await _token(attacker, client_id, secret)
        assert r.status_code == 200 and r.json()["token_type"] == "Bearer"


async def test_failed_token_requests_are_limited_per_client(
    http: httpx.AsyncClient, ports: Ports
) -> None:
    client_id, secret = await _credentials(http, ports)
    other_id, other_secret = await _credentials(http, ports)
    system = same_system_with(ports, rate_limit_token_failures_per_client="3 per 6 seconds")
    addresses = [f"203.0.113.{n}" for n in range(4)]
    async with clients(ports, system, *addresses) as (*others, client):
        for one in others:  # from three addresses: the client id is what counts
            assert (await _token(one, client_id, "wrong")).status_code == 401
        too_many(await _token(client, client_id, "wrong"), 6)
        wait = too_many(await _token(client, client_id, secret), 6)
        basic = httpx.BasicAuth(client_id, secret)
        r = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=basic)
        too_many(r, 6)
        assert (await _token(client, other_id, other_secret)).status_code == 200
        await asyncio.sleep(wait + 0.1)
        assert (await _token(client, client_id, secret)).status_code == 200


async def test_token_requests_are_limited_per_address(
    http: httpx.AsyncClient, ports: Ports
) -> None:
    client_id, secret = await _credentials(http, ports)
    system = same_system_with(ports, rate_limit_token_per_ip="3 per 6 seconds")
    async with serving(ports, system, "203.0.113.30") as client:
        for _ in range(3):
            assert (await _token(client, client_id, secret)).status_code == 200
        too_many(await _token(client, client_id, secret), 6)


async def test_writes_are_limited_per_client(world: World, ports: Ports) -> None:
    system = same_system_with(ports, rate_limit_writes_per_client="3 per 30 seconds")
    async with serving(ports, system) as client:
        customer = replace(world.customer, http=client)
        supplier = replace(world.supplier, http=client)
        for n in range(3):
            r = await register(customer, f"{TT}/hub", f"https://c{n}.example.com/cb")
            assert r.status_code == 201, r.text
        r = await register(customer, f"{TT}/hub", "https://c3.example.com/cb")
        assert r.status_code == 429, r.text
        assert 1 <= int(r.headers["Retry-After"]) <= 30
        body = r.json()
        assert body["@type"] == "Error" and body["status"] == "429", body
        r = await register(customer, f"{MEF141}/hub", "https://c3.example.com/cb")
        assert r.status_code == 429 and r.json()["code"] == "tooManyRequests", r.text
        assert "Retry-After" in r.headers
        r = await customer.get(f"{MEF141}/hub/nothing")  # reads are not writes
        assert r.status_code == 404, r.text
        r = await register(supplier, f"{TT}/hub", "https://s.example.com/cb")
        assert r.status_code == 201, r.text  # another client
    assert listeners_of(ports, world.customer.party_id) == 3


# ---- what one party can store ---------------------------------------------------------------


async def test_listeners_per_party_are_capped(
    http: httpx.AsyncClient, ports: Ports, world: World
) -> None:
    system = same_system_with(ports, max_listeners_per_party=2)
    async with serving(ports, system) as client:
        operator = await operator_actor(http, ports)
        carrier = replace(await new_carrier(http, operator, "capped"), http=client)
        r = await register(carrier, f"{TT}/hub", "https://a.example.com/cb")
        assert r.status_code == 201, r.text
        first = r.json()["id"]
        r = await register(carrier, f"{MEF141}/hub", "https://b.example.com/cb")
        assert r.status_code == 201, r.text
        r = await register(carrier, f"{TT}/hub", "https://c.example.com/cb")
        body = error_ok(r, "registerTroubleTicketListener", 409)
        assert "at most 2 listeners" in body["message"]
        r = await register(carrier, f"{MEF141}/hub", "https://c.example.com/cb")
        assert r.status_code == 403 and "at most 2 listeners" in r.json()["message"], r.text
        assert listeners_of(ports, carrier.party_id) == 2
        r = await client.delete(f"{TT}/hub/{first}", headers=carrier.auth)
        assert r.status_code == 204
        r = await register(carrier, f"{TMF637}/hub", "https://c.example.com/cb")
        assert r.status_code == 201, r.text
    assert listeners_of(ports, carrier.party_id) == 2


async def test_notes_per_ticket_are_capped(world: World, ports: Ports) -> None:
    s = await scene(world, ports)
    system = same_system_with(ports, max_notes_per_ticket=3, max_note_bytes=200)
    entity = item_entity(s.items["CID-000002"])
    async with serving(ports, system) as client:
        customer = replace(world.customer, http=client)
        supplier = replace(world.supplier, http=client)
        many = [{"text": f"n{n}"} for n in range(4)]
        r = await open_ticket(customer, [entity], note=many)
        body = error_ok(r, "createTroubleTicket", 422)
        assert body["details"][0]["pointer"] == "/note" and "at most 3 notes" in body["message"]
        r = await open_ticket(customer, [entity], note=[{"text": "x" * 200}])
        body = error_ok(r, "createTroubleTicket", 422)
        assert body["details"][0]["pointer"] == "/note/0" and "200 bytes" in body["message"]

        r = await open_ticket(customer, [entity], note=[{"text": "one"}, {"text": "two"}])
        ticket = ticket_ok(r, "createTroubleTicket", 201)
        notes = ticket["note"]
        r = await patch(supplier, ticket["id"], {"note": [*notes, {"text": "3"}, {"text": "4"}]})
        assert error_ok(r, "patchTroubleTicket", 422)["details"][0]["pointer"] == "/note"
        r = await patch(supplier, ticket["id"], {"note": [*notes, {"text": "é" * 100}]})
        assert error_ok(r, "patchTroubleTicket", 422)["details"][0]["pointer"] == "/note/2"
        r = await customer.get(f"{TT}/troubleTicket/{ticket['id']}")
        assert ticket_ok(r, "retrieveTroubleTicket")["note"] == notes  # nothing was added
        r = await patch(supplier, ticket["id"], {"note": [*notes, {"text": "three"}]})
        assert [n["text"] for n in ticket_ok(r, "patchTroubleTicket")["note"]] == [
            "one",
            "two",
            "three",
        ]
