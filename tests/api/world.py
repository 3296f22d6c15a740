"""Helpers for API tests: actors (a party with a token) and a world of carriers."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson

from panther.server.services.ports import Ports


@dataclass
class Actor:
    http: httpx.AsyncClient
    party_id: str
    token: str
    address: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers=self.auth)

    async def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        if body is not None:
            kw["json"] = body
        return await self.http.post(path, headers={**self.auth, **kw.pop("headers", {})}, **kw)

    async def upload(
        self,
        relation_id: str,
        records: list[dict[str, Any]] | bytes,
        *,
        as_of: str = "2026-11-01",
        media_type: str = "application/x-ndjson",
    ) -> httpx.Response:
        if isinstance(records, bytes):
            body = records
        elif media_type == "application/json":
            body = orjson.dumps(records)
        else:
            body = b"\n".join(orjson.dumps(r) for r in records)
        return await self.http.post(
            "/panther/v1/inventoryReport",
            params={"relationId": relation_id, "asOf": as_of},
            content=body,
            headers={**self.auth, "Content-Type": media_type},
        )


async def token_for(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    r = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@dataclass
class World:
    operator: Actor
    supplier: Actor
    customer: Actor
    outsider: Actor
    relation_id: str


async def operator_actor(http: httpx.AsyncClient, ports: Ports) -> Actor:
    creds = json.loads((Path(ports.settings.data_dir) / "operator-credentials.json").read_text())
    token = await token_for(http, creds["clientId"], creds["clientSecret"])
    return Actor(http, "operator", token)


async def new_carrier(http: httpx.AsyncClient, operator: Actor, name: str) -> Actor:
    r = await operator.post(
        "/panther/v1/party", {"name": name, "id": f"{name}-{secrets.token_hex(4)}"}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    token = await token_for(
        http, body["credentials"]["clientId"], body["credentials"]["clientSecret"]
    )
    return Actor(http, body["id"], token, body["address"])


async def build_world(
    http: httpx.AsyncClient,
    ports: Ports,
    *,
    agree: bool = True,
    profile: dict[str, Any] | None = None,
) -> World:
    operator = await operator_actor(http, ports)
    supplier = await new_carrier(http, operator, "dtgc")
    customer = await new_carrier(http, operator, "vodafone")
    outsider = await new_carrier(http, operator, "colt")
    body: dict[str, Any] = {"supplier": supplier.party_id, "customer": customer.party_id}
    if profile is not None:
        body["profile"] = profile
    r = await operator.post("/panther/v1/relation", body)
    assert r.status_code == 201, r.text
    relation_id = r.json()["id"]
    if agree:
        for actor in (supplier, customer):
            r = await actor.post(f"/panther/v1/relation/{relation_id}/agreement", {})
            assert r.status_code == 200, r.text
    return World(operator, supplier, customer, outsider, relation_id)


def product(
    pid: str,
    *,
    external: str | None = None,
    status: str = "active",
    bandwidth: str = "10 Gbps",
    mrc: float = 1250.0,
    site_a: str = "FRA1",
    site_b: str = "LON3",
    start: str = "2024-03-01",
    order: str | None = None,
) -> dict[str, Any]:
    """A product record in the TMF637 shape of docs/records-and-profiles.md."""
    record: dict[str, Any] = {
        "id": pid,
        "status": status,
        "startDate": start,
        "productOffering": {"id": "EPL", "name": "Ethernet Private Line"},
        "place": [{"role": "A-End", "id": site_a}, {"role": "B-End", "id": site_b}],
        "productPrice": [
            {
                "priceType": "recurring",
                "recurringChargePeriod": "month",
                "price": {"dutyFreeAmount": {"unit": "EUR", "value": mrc}},
            }
        ],
        "productCharacteristic": [
            {"name": "bandwidth", "value": bandwidth},
            {"name": "serviceType", "value": "EPL"},
        ],
        "billingAccount": {"id": "BA-1"},
    }
    if external is not None:
        record["externalId"] = external
    if order is not None:
        record["productOrderItem"] = [{"productOrderId": order, "orderItemId": "1"}]
    return record


TODAY = date(2026, 11, 1).isoformat()


def same_system_with(ports: Ports, **settings: Any) -> Ports:
    """The composed system (same database, ledger and keys) under other settings."""
    system: Any = ports  # the composed System: its constructor takes the database too
    return type(system)(  # type: ignore[no-any-return]
        settings=replace(ports.settings, **settings),
        db=system.db,
        ledger=ports.ledger,
        keystore=ports.keystore,
        domain=ports.domain,
    )


@asynccontextmanager
async def client_with(ports: Ports, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an app over the same system under other settings (limits, say)."""
    from panther.server import state
    from panther.server.app import create_app

    app = create_app(ports=same_system_with(ports, **settings))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            yield client
    finally:
        state.install(ports)


async def matched(
    world: World, supplier: list[dict[str, Any]], customer: list[dict[str, Any]]
) -> str:
    """Both sides report these records for TODAY; the id of the match run that starts."""
    r = await world.supplier.upload(world.relation_id, supplier, as_of=TODAY)
    assert r.status_code == 201, r.text
    r = await world.customer.upload(world.relation_id, customer, as_of=TODAY)
    assert r.status_code == 201, r.text
    return str(r.json()["matchRun"]["id"])
