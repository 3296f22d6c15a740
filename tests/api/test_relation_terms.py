"""A relation's commercial terms: checked when proposed, and a tax rate that reaches the bill."""

from __future__ import annotations

from typing import Any

from .test_billing import CBM, _ask, _final_run, inventories
from .world import World, build_world


async def _relation(world: World, terms: dict[str, Any]) -> Any:
    return await world.operator.post(
        "/panther/v1/relation",
        {"supplier": world.supplier.party_id, "customer": world.customer.party_id,
         "terms": terms},
    )  # fmt: skip


async def test_terms_are_checked_every_problem_at_once(world: World) -> None:
    r = await _relation(world, {"currency": "EUR", "taxRate": "0.19", "rounding": "halfEven"})
    assert r.status_code == 201, r.text
    assert r.json()["terms"]["taxRate"] == "0.19" and r.json()["terms"]["rounding"] == "halfEven"
    # A misspelt key or a malformed value is refused by the document (400); a well-formed
    # currency code without known minor units by the terms check (422, with its pointer).
    r = await _relation(world, {"taxrate": "0.19"})
    assert r.status_code == 400 and r.json()["@type"] == "Error"
    r = await _relation(world, {"currency": "EURO"})
    assert r.status_code == 400
    r = await _relation(world, {"currency": "ZZZ"})
    assert r.status_code == 422, r.text
    assert "/terms/currency" in r.text and "ISO 4217" in r.text


async def test_a_tax_rate_in_the_terms_is_applied_to_every_line(http: Any, ports: Any) -> None:
    world = await build_world(http, ports, agree=False)
    r = await world.operator.post(
        "/panther/v1/relation",
        {"supplier": world.supplier.party_id, "customer": world.customer.party_id,
         "terms": {"currency": "EUR", "taxRate": "0.19"}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    relation_id = r.json()["id"]
    for actor in (world.supplier, world.customer):
        r = await actor.post(f"/panther/v1/relation/{relation_id}/agreement", {})
        assert r.status_code == 200, r.text
    world.relation_id = relation_id
    await _final_run(world, *inventories())
    r = await _ask(world.supplier, world)
    assert r.status_code == 201, r.text
    bill = (await world.customer.get(f"{CBM}/customerBill/{r.json()['customerBill']['id']}")).json()
    # 1250.00 + 480.00 + 200.00 net; 19 % on each line: 237.50 + 91.20 + 38.00 = 366.70.
    assert bill["taxExcludedAmount"]["value"] == 1930.0
    assert bill["taxIncludedAmount"]["value"] == 2296.7
