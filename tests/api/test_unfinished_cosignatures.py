"""A co-signature both carriers signed that never completed (both signatures stored, the
transaction never appended, the resource never in its completed state: what a race left
before co-signing took the ledger's lock, or what editing the database leaves) makes the
ledger verification fail and names the resource, in each of the five co-signing contexts.

Each test completes its flow as far as one carrier's signature, checks that verification
is OK for that half-signed state, stores the other carrier's signature directly in the
database, checks that verification reports it, takes it out again and completes the flow
normally: OK again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from panther.adapters.sql import repository as repo
from panther.server.cli import main
from panther.server.services.ports import Ports

from .test_billing import _ask, _final_run, _patch
from .test_replay import _location
from .test_review import _act, _items, _run, inventories
from .test_tmf621 import item_entity, scene
from .test_tmf621_lifecycle import open_dispute
from .world import Actor, World, build_world

pytestmark = pytest.mark.usefixtures("official_schemas")


@dataclass(frozen=True)
class Stuck:
    """The signature row a race would have left: table, its key, and what verification
    must then name."""

    table: sa.Table
    key: dict[str, Any]  # the resource's id first
    signer: Actor
    resource: str
    missing: str

    @property
    def id(self) -> str:
        return str(next(iter(self.key.values())))


async def _verify(world: World) -> dict[str, Any]:
    r = await world.operator.post("/panther/v1/ledger/verification")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _mine(result: dict[str, Any], stuck: Stuck) -> list[dict[str, Any]]:
    return [
        u
        for u in result["unfinishedCoSignatures"]
        if (u["resource"], u["id"]) == (stuck.resource, stuck.id)
    ]


@contextmanager
def _stored(ports: Ports, stuck: Stuck) -> Iterator[None]:
    """The second signature stored directly, as a race or an edit leaves it; gone after."""
    table = stuck.table
    with ports.db.write() as conn:
        conn.execute(
            table.insert().values(
                **stuck.key,
                party_id=stuck.signer.party_id,
                signature="0x" + "11" * 65,
                created_at="2026-11-02T00:00:00.000000Z",
            )
        )
    try:
        yield
    finally:
        with ports.db.write() as conn:
            conn.execute(
                table.delete().where(
                    *(table.c[k] == v for k, v in stuck.key.items()),
                    table.c.party_id == stuck.signer.party_id,
                )
            )


async def _reported_only_while_stored(world: World, ports: Ports, stuck: Stuck) -> None:
    """Verification is OK half-signed, names the resource with both signatures stored, and
    is OK again once the row is gone."""
    assert (await _verify(world))["ok"], "the half-signed state must verify"
    with _stored(ports, stuck):
        result = await _verify(world)
        assert result["ok"] is False, f"a stuck {stuck.resource} passed verification"
        assert result["firstFailure"] is None  # every entry holds: only the agreement is stuck
        (found,) = _mine(result, stuck)
        assert {k: found[k] for k in ("resource", "id", "relationId", "missing")} == {
            "resource": stuck.resource,
            "id": stuck.id,
            "relationId": world.relation_id,
            "missing": stuck.missing,
        }
        assert found["detail"].startswith("unfinished co-signature: ")
        assert f"no {stuck.missing} entry is on the ledger" in found["detail"]
    assert (await _verify(world))["ok"]


async def test_a_relation_both_agreed_without_its_entry(http: Any, ports: Ports) -> None:
    w = await build_world(http, ports, agree=False)
    r = await w.supplier.post(f"/panther/v1/relation/{w.relation_id}/agreement", {})
    assert r.status_code == 200 and r.json()["state"] == "proposed", r.text
    stuck = Stuck(
        repo.T.relation_agreement,
        {"relation_id": w.relation_id},
        w.customer,
        "relation",
        "RelationAgreed",
    )
    await _reported_only_while_stored(w, ports, stuck)

    # A signature of someone who is not a carrier of the relation completes nothing.
    with _stored(ports, replace(stuck, signer=w.outsider)):
        assert (await _verify(w))["ok"]

    # The command prints it in one line and exits 1.
    where, env = _location(ports)
    runner = CliRunner(env=env)
    with _stored(ports, stuck):
        result = runner.invoke(main, ["ledger", "verify", *where])
        assert result.exit_code == 1, result.output
        lines = [x for x in result.output.splitlines() if w.relation_id in x]
        assert lines == [
            f"ledger BROKEN: unfinished co-signature: relation {w.relation_id}: both carriers' "
            "signatures over its RelationAgreed are stored, but no RelationAgreed entry is on "
            "the ledger and it is not agreed"
        ]
    result = runner.invoke(main, ["ledger", "verify", *where])
    assert result.exit_code == 0 and "ledger OK" in result.output, result.output

    r = await w.customer.post(f"/panther/v1/relation/{w.relation_id}/agreement", {})
    assert r.status_code == 200 and r.json()["state"] == "agreed", r.text
    assert (await _verify(w))["ok"]


async def test_a_run_both_endorsed_that_is_not_final(world: World, ports: Ports) -> None:
    run = await _run(world, *inventories())
    r = await world.supplier.post(f"/panther/v1/matchRun/{run['id']}/endorsement", {})
    assert r.status_code == 200 and r.json()["state"] == "recorded", r.text
    stuck = Stuck(
        repo.T.endorsement, {"run_id": run["id"]}, world.customer, "matchRun", "MatchEndorsed"
    )
    await _reported_only_while_stored(world, ports, stuck)
    r = await world.customer.post(f"/panther/v1/matchRun/{run['id']}/endorsement", {})
    assert r.status_code == 200 and r.json()["state"] == "final", r.text
    assert (await _verify(world))["ok"]

    # Final on the ledger, but the run row put back to `recorded`: the projection breaks at
    # the MatchEndorsed entry, and the co-signature names that entry.
    with ports.db.write() as conn:
        conn.execute(
            repo.T.run.update().where(repo.T.run.c.id == run["id"]).values(state="recorded")
        )
    try:
        result = await _verify(world)
        failure = result["firstFailure"]
        assert result["ok"] is False and failure["kind"] == "projection"
        (found,) = _mine(result, stuck)
        assert f"its MatchEndorsed entry {failure['seq']} is on the ledger" in found["detail"]
    finally:
        with ports.db.write() as conn:
            conn.execute(
                repo.T.run.update().where(repo.T.run.c.id == run["id"]).values(state="final")
            )
    assert (await _verify(world))["ok"]


async def test_a_review_proposal_both_signed_that_is_not_agreed(world: World, ports: Ports) -> None:
    run = await _run(world, *inventories())
    no = (await _items(world.customer, run["id"]))["CID-000002"]["itemNo"]
    r = await _act(world.customer, run["id"], no, {"action": "acceptValue"})
    assert r.status_code == 201, r.text
    proposal_id = r.json()["proposal"]["id"]
    stuck = Stuck(
        repo.T.review_signature,
        {"proposal_id": proposal_id},
        world.supplier,
        "reviewProposal",
        "ReviewAgreed",
    )
    await _reported_only_while_stored(world, ports, stuck)
    r = await _act(world.supplier, run["id"], no, {"action": "agree", "proposalId": proposal_id})
    assert r.status_code == 201 and r.json()["state"] == "agreed", r.text
    assert (await _verify(world))["ok"]


async def test_a_statement_both_signed_that_is_not_agreed(world: World, ports: Ports) -> None:
    await _final_run(world, *inventories())
    bill_id = (await _ask(world.supplier, world)).json()["customerBill"]["id"]
    signatures = repo.T.statement_endorsement
    stuck = Stuck(
        signatures, {"bill_id": bill_id}, world.customer, "customerBill", "StatementAgreed"
    )
    await _reported_only_while_stored(world, ports, stuck)
    r = await _patch(world.customer, bill_id, {"state": "validated"})
    assert r.status_code == 200 and r.json()["state"] == "validated", r.text
    assert (await _verify(world))["ok"]

    # The StatementAgreed entry is on the ledger but the statement no longer says it was
    # agreed: no projection check sees that; the co-signature does.
    table = repo.T.statement
    with ports.db.write() as conn:
        (seq,) = conn.execute(sa.select(table.c.agreed_seq).where(table.c.id == bill_id)).one()
        conn.execute(table.update().where(table.c.id == bill_id).values(agreed_seq=None))
    try:
        result = await _verify(world)
        assert result["ok"] is False and result["firstFailure"] is None
        (found,) = _mine(result, stuck)
        assert (
            f"its StatementAgreed entry {seq} is on the ledger, yet it is not agreed"
            in (found["detail"])
        )
    finally:
        with ports.db.write() as conn:
            conn.execute(table.update().where(table.c.id == bill_id).values(agreed_seq=seq))
    assert (await _verify(world))["ok"]


async def test_a_dispute_resolution_both_signed_that_did_not_resolve_it(
    world: World, ports: Ports
) -> None:
    s = await scene(world, ports)
    d = await open_dispute(world, item_entity(s.items["CID-000002"]))
    await d.walk([("other", "inProgress"), ("other", "resolved")])  # the supplier proposes
    ticket_id = d.ticket["id"]
    stuck = Stuck(
        repo.T.dispute_signature,
        {"ticket_id": ticket_id, "proposal_no": 1},
        world.customer,
        "troubleTicket",
        "DisputeResolved",
    )
    await _reported_only_while_stored(world, ports, stuck)
    await d.change("originator", "closed")
    assert (await _verify(world))["ok"]
