"""A failure in the middle of a write leaves the previous state intact, and the same
request succeeds once the failure is gone."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import httpx
import sqlalchemy as sa

from panther.ledger.errors import LedgerUnavailable
from panther.ledger.transactions import LedgerEntry, Transaction
from panther.server import state
from panther.server.app import create_app
from panther.server.services.ports import Ports

from .world import World, product


@dataclass
class FailingLedger:
    """A ledger adapter whose store went away: appends fail, reads still work."""

    inner: Any

    @property
    def domain(self) -> Any:
        return self.inner.domain

    def append(self, tx: Transaction, conn: Any = None) -> LedgerEntry:
        raise LedgerUnavailable("the ledger store is unreachable")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _counts(ports: Ports) -> tuple[int, int, int]:
    with ports.db.read() as conn:
        reports, records = (
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("inventory_report", "inventory_record")
        )
    head = ports.ledger.head()  # whichever ledger: rows in the database or events on chain
    return reports, records, head.seq + 1 if head is not None else 0


async def test_upload_whose_ledger_append_fails_leaves_nothing(world: World, ports: Ports) -> None:
    records = [product(f"CID-{i}") for i in range(500)]
    broken = replace(ports, ledger=FailingLedger(ports.ledger))
    app = create_app(ports=broken)
    before = _counts(ports)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            body = b"\n".join(__import__("orjson").dumps(r) for r in records)
            r = await client.post(
                "/panther/v1/inventoryReport",
                params={"relationId": world.relation_id, "asOf": "2026-11-01"},
                content=body,
                headers={**world.supplier.auth, "Content-Type": "application/x-ndjson"},
            )
        assert r.status_code == 503, r.text
        assert r.json()["@type"] == "Error" and r.headers["Retry-After"] == "5"
        assert _counts(ports) == before  # records were inserted, then rolled back with the rest
    finally:
        state.install(ports)
    r = await world.supplier.upload(world.relation_id, records)
    assert r.status_code == 201 and r.json()["recordCount"] == 500
    assert (await world.operator.post("/panther/v1/ledger/verification")).json()["ok"]
