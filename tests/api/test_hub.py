"""TMF637 hub: a listener registered by a carrier receives its product events over HTTP."""

from __future__ import annotations

from typing import Any

from .world import World, product

TMF = "/tmf-api/productInventory/v4"


async def test_listener_gets_create_and_delete_events(
    world: World, ports: Any, listener: Any
) -> None:
    url, received = listener
    await world.customer.upload(world.relation_id, [product("VF-1", external="CID-1")])
    r = await world.customer.post(f"{TMF}/hub", {"callback": url})
    assert r.status_code == 201
    hub_id = r.json()["id"]
    new = {
        **product("VF-2", external="CID-2", start="2024-01-01T00:00:00Z"),
        "relatedParty": [
            {"id": world.supplier.party_id, "role": "supplier", "@referredType": "Organization"}
        ],
    }
    assert (await world.customer.post(f"{TMF}/product", new)).status_code == 201
    r = await world.customer.http.delete(f"{TMF}/product/VF-1", headers=world.customer.auth)
    assert r.status_code == 204
    ports.webhooks.drain()
    paths = [p for p, _ in received]
    assert paths == ["/hooks/listener/ProductCreateEvent", "/hooks/listener/ProductDeleteEvent"]
    assert received[0][1]["event"]["product"]["id"] == "VF-2"

    r = await world.supplier.http.delete(f"{TMF}/hub/{hub_id}", headers=world.supplier.auth)
    assert r.status_code == 404  # not the supplier's listener
    r = await world.customer.http.delete(f"{TMF}/hub/{hub_id}", headers=world.customer.auth)
    assert r.status_code == 204
    r = await world.customer.post(f"{TMF}/hub", {"callback": "ftp://nowhere"})
    assert r.status_code in (400, 422)
