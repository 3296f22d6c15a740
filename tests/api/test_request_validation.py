"""Requests our documents refuse are refused, before anything changes: what schemathesis
found accepted (issue 16): a `format: uri` value that is no URI, a `null` body where an
object (or nothing) is declared."""

from __future__ import annotations

from typing import Any

import httpx

from panther.server.services.ports import Ports

from .world import TODAY, World, build_world, product

TMF = "/tmf-api/productInventory/v4/product"


def _refused(r: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["@type"] == "Error" and body["status"] == str(status), body
    return body


async def test_a_schema_location_that_is_not_a_uri_is_refused_and_nothing_is_stored(
    world: World,
) -> None:
    r = await world.customer.upload(world.relation_id, [product("VF-1")], as_of=TODAY)
    assert r.status_code == 201, r.text
    party = [{"id": world.supplier.party_id, "role": "supplier", "@referredType": "Organization"}]
    body = {
        **product("VF-2", start="2024-03-01T00:00:00Z"),
        "relatedParty": party,
        "@schemaLocation": "AAA",
    }
    problem = _refused(await world.customer.post(TMF, body))
    assert "@schemaLocation" in problem["message"] or "uri" in problem["message"]
    assert (await world.customer.get(f"{TMF}/VF-2")).status_code == 404
    # A URI is kept and served back as sent.
    uri = "https://example.com/schemas/Product.json"
    r = await world.customer.post(TMF, {**body, "@schemaLocation": uri})
    assert r.status_code == 201, r.text
    served = await world.customer.get(f"{TMF}/VF-2")
    assert served.status_code == 200 and served.json().get("@schemaLocation", uri) == uri


async def test_a_null_body_is_not_a_body_left_out(http: httpx.AsyncClient, ports: Ports) -> None:
    world = await build_world(http, ports, agree=False)
    path = f"/panther/v1/relation/{world.relation_id}/agreement"
    headers = {**world.supplier.auth, "Content-Type": "application/json"}
    problem = _refused(await http.post(path, content=b"null", headers=headers))
    assert "null" in problem["message"]
    relation = (await world.supplier.get(f"/panther/v1/relation/{world.relation_id}")).json()
    assert relation["state"] != "agreed" and not relation.get("agreements")
    # No body at all is the optional body left out: the agreement counts.
    r = await http.post(path, headers=world.supplier.auth)
    assert r.status_code == 200, r.text
    assert world.supplier.party_id in str(r.json())
