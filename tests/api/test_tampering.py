"""Change any stored fact behind the server's back and the ledger verification names the
entry it contradicts."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from panther.server.services.ports import Ports

from .test_spine import inventories
from .world import World, build_world

# (table, column, how to find the row, a new value as SQL)
TAMPERINGS = [
    ("party", "address", "id = :supplier", "'0x0000000000000000000000000000000000000001'"),
    ("party", "name", "id = :supplier", "'Someone Else'"),
    ("relation", "supplier_id", "id = :relation", ":customer"),
    ("relation", "terms", "id = :relation", '\'{"currency": "USD"}\''),
    (
        "relation",
        "profile",
        "id = :relation",
        "replace(profile, 'supplierCircuitId', 'anotherRule')",
    ),
    ("inventory_report", "as_of", "relation_id = :relation AND side = 'supplier'", "'1999-01-01'"),
    (
        "inventory_report",
        "record_count",
        "relation_id = :relation AND side = 'supplier'",
        "record_count + 1",
    ),
    (
        "inventory_record",
        "body",
        "report_id IN (SELECT id FROM inventory_report WHERE relation_id = :relation) AND seq = 1",
        "replace(body, 'EUR', 'USD')",
    ),
    ("match_run", "counts", "relation_id = :relation", "'{}'"),
    ("match_run", "state", "relation_id = :relation", "'recorded'"),
    (
        "match_item",
        "body",
        "run_id IN (SELECT id FROM match_run WHERE relation_id = :relation) AND item_no = 0",
        "replace(body, 'matched', 'partial')",
    ),
    (
        "ledger_entry",
        "payload",
        "seq = (SELECT ledger_seq FROM relation WHERE id = :relation)",
        "replace(payload, 'EUR', 'USD')",
    ),
]


@pytest.fixture
async def endorsed(http: Any, ports: Ports) -> World:
    w = await build_world(http, ports)
    sup, cus = inventories()
    await w.supplier.upload(w.relation_id, sup)
    run = (await w.customer.upload(w.relation_id, cus)).json()["matchRun"]
    for actor in (w.supplier, w.customer):
        await actor.post(f"/panther/v1/matchRun/{run['id']}/endorsement", {})
    assert (await w.operator.post("/panther/v1/ledger/verification")).json()["ok"]
    return w


@pytest.mark.parametrize(
    ("table", "column", "where", "value"), TAMPERINGS, ids=[f"{t[0]}.{t[1]}" for t in TAMPERINGS]
)
async def test_tampering_is_detected(
    endorsed: World, ports: Ports, table: str, column: str, where: str, value: str
) -> None:
    if table == "ledger_entry" and ports.settings.ledger == "evm":
        pytest.skip("a chain's events cannot be edited; tests/contract make a node lie instead")
    w = endorsed
    params = {
        "relation": w.relation_id,
        "supplier": w.supplier.party_id,
        "customer": w.customer.party_id,
    }
    key_cols = {
        "party": "id",
        "relation": "id",
        "inventory_report": "id",
        "inventory_record": "report_id, seq",
        "match_run": "id",
        "match_item": "run_id, item_no",
        "ledger_entry": "seq",
    }[table]
    select = f"SELECT {key_cols}, {column} FROM {table} WHERE {where}"
    with ports.db.write() as conn:
        saved = conn.execute(sa.text(select), params).all()
        assert saved, "the tampering found no row"
        changed = conn.execute(
            sa.text(f"UPDATE {table} SET {column} = {value} WHERE {where}"), params
        ).rowcount
        assert changed >= 1
    try:
        result = (await w.operator.post("/panther/v1/ledger/verification")).json()
        assert result["ok"] is False, f"{table}.{column} changed and nobody noticed"
        assert result["firstFailure"]["seq"] is not None
    finally:
        keys = [k.strip() for k in key_cols.split(",")]
        with ports.db.write() as conn:
            for row in saved:
                cond = " AND ".join(f"{k} = :k{i}" for i, k in enumerate(keys))
                conn.execute(
                    sa.text(f"UPDATE {table} SET {column} = :v WHERE {cond}"),
                    {"v": row[-1], **{f"k{i}": row[i] for i in range(len(keys))}},
                )
    assert (await w.operator.post("/panther/v1/ledger/verification")).json()["ok"]
