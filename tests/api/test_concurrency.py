"""Two uploads for the same relation, side and date at once: one version each or a clean
409, never a half-written report, and the ledger stays verifiable."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import sqlalchemy as sa

from panther.server.services.ports import Ports

from .world import World, product


async def test_concurrent_uploads_keep_versions_whole(world: World, ports: Ports) -> None:
    bodies = [
        b"\n".join(orjson.dumps(product(f"CID-{k}-{i}")) for i in range(300)) for k in range(4)
    ]
    results = await asyncio.gather(
        *(world.supplier.upload(world.relation_id, body) for body in bodies)
    )
    codes = sorted(r.status_code for r in results)
    assert set(codes) <= {201, 409}, codes
    assert codes.count(201) >= 1
    for r in results:
        if r.status_code == 409:
            assert r.json()["@type"] == "Error" and "retry" in r.json()["message"]
    with ports.db.read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT version, record_count, (SELECT count(*) FROM inventory_record r "
                "WHERE r.report_id = p.id) FROM inventory_report p WHERE relation_id = :r "
                "ORDER BY version"
            ),
            {"r": world.relation_id},
        ).all()
    assert [v for v, _, _ in rows] == list(range(1, codes.count(201) + 1))
    assert all(count == stored == 300 for _, count, stored in rows)
    assert (await world.operator.post("/panther/v1/ledger/verification")).json()["ok"]
    # what lost the race can simply be sent again
    retried: list[Any] = [
        await world.supplier.upload(world.relation_id, bodies[i])
        for i, r in enumerate(results)
        if r.status_code == 409
    ]
    assert all(r.status_code in (200, 201) for r in retried)
