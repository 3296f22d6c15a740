"""Replaying the ledger rebuilds the server's projections: equal to the database after a
realistic flow, and a projection column changed behind the server's back shows up as exactly
that difference (in the service, in ``panther ledger replay`` and its exit code)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from panther.adapters.sql import repository as repo
from panther.adapters.sql.db import make_engine
from panther.adapters.sql.uow import SqlUnitOfWork
from panther.server.cli import main
from panther.server.services import replay
from panther.server.services.ports import Ports
from panther.server.services.relations import DEFAULT_TERMS

from .test_spine import inventories
from .world import World, build_world, product

OTHER_SIGNATURE = "0x" + "ab" * 65


@dataclass
class Flow:
    world: World
    first: dict[str, Any]  # the supplier's first report (version 1, three records)
    second: dict[str, Any]  # its second version (six records), the one the run matches
    customer: dict[str, Any]  # the customer's report
    run: dict[str, Any]  # endorsed by both: final
    pending_run: dict[str, Any]  # after a second customer version, endorsed by one side only
    pending_relation: str  # proposed, agreed by one side only


@pytest.fixture
async def flow(world: World, http: Any, ports: Ports) -> Flow:
    w = world
    sup, cus = inventories()
    first = await w.supplier.upload(w.relation_id, sup[:3])
    second = await w.supplier.upload(w.relation_id, sup)
    customer = await w.customer.upload(w.relation_id, cus)
    assert [r.status_code for r in (first, second, customer)] == [201, 201, 201]
    run_id = customer.json()["matchRun"]["id"]
    for actor in (w.supplier, w.customer):
        r = await actor.post(f"/panther/v1/matchRun/{run_id}/endorsement", {})
        assert r.status_code == 200, r.text
    run = (await w.supplier.get(f"/panther/v1/matchRun/{run_id}")).json()
    assert run["state"] == "final" and run["supplierReport"] == second.json()["id"]

    r = await w.customer.upload(w.relation_id, [*cus, product("VF-7", order="PO-7")])
    pending_id = r.json()["matchRun"]["id"]
    r = await w.supplier.post(f"/panther/v1/matchRun/{pending_id}/endorsement", {})
    assert r.status_code == 200 and r.json()["endorsedBy"] == [w.supplier.party_id]
    pending_run = r.json()

    other = await build_world(http, ports, agree=False)
    r = await other.supplier.post(f"/panther/v1/relation/{other.relation_id}/agreement", {})
    assert r.status_code == 200 and r.json()["state"] == "proposed"
    return Flow(
        w, first.json(), second.json(), customer.json(), run, pending_run, other.relation_id
    )


def _database(ports: Ports) -> replay.Projections:
    with ports.uow.read() as uow:
        return replay.read_database(uow)


async def test_replay_equals_the_database(flow: Flow, ports: Ports) -> None:
    w = flow.world
    rebuilt = replay.rebuild(ports.ledger)
    database = _database(ports)
    assert replay.compare(rebuilt.projections, database) == []
    assert rebuilt.projections.problems == [] and database.problems == []
    assert rebuilt.projections.counts() == database.counts()
    assert rebuilt.entries == rebuilt.head + 1 == ports.ledger.head().seq + 1

    t = rebuilt.projections.tables
    party = (await w.operator.get(f"/panther/v1/party/{w.supplier.party_id}")).json()
    assert t["party"][(w.supplier.party_id,)] == {
        "id": w.supplier.party_id,
        "name": "dtgc",
        "role": "carrier",
        "address": w.supplier.address,
        "ledger_seq": party["ledgerSeq"],
    }

    relation = (await w.operator.get(f"/panther/v1/relation/{w.relation_id}")).json()
    assert t["relation"][(w.relation_id,)] == {
        "id": w.relation_id,
        "supplier_id": w.supplier.party_id,
        "customer_id": w.customer.party_id,
        "profile_hash": relation["profileHash"],
        "terms": DEFAULT_TERMS,
        "state": "agreed",
        "ledger_seq": relation["ledgerSeq"],
    }
    with ports.db.read() as conn:
        agreements = {
            a["party_id"]: a["signature"] for a in repo.agreement_rows(conn, w.relation_id)
        }
        endorsements = {
            e["party_id"]: e["signature"] for e in repo.endorsement_rows(conn, flow.run["id"])
        }
    for party_id in (w.supplier.party_id, w.customer.party_id):
        row = t["relation_agreement"][(w.relation_id, party_id)]
        assert row["signature"] == agreements[party_id] and len(row["signature"]) == 132
        row = t["match_endorsement"][(flow.run["id"], party_id)]
        assert row["signature"] == endorsements[party_id] and len(row["signature"]) == 132

    for view, version, count in ((flow.first, 1, 3), (flow.second, 2, 6)):
        row = t["inventory_report"][(view["ledgerSeq"],)]
        assert {k: v for k, v in row.items() if k != "signature"} == {
            "ledger_seq": view["ledgerSeq"],
            "relation_id": w.relation_id,
            "reporter_id": w.supplier.party_id,
            "side": "supplier",
            "as_of": view["asOf"],
            "version": version,
            "record_count": count,
            "content_hash": view["contentHash"],
            "merkle_root": view["merkleRoot"],
            "held_out_count": 0,
            "held_out_hash": None,
        }
        assert row["signature"].startswith("0x") and len(row["signature"]) == 132

    run = flow.run
    assert t["match_run"][(run["id"],)] == {
        "id": run["id"],
        "relation_id": w.relation_id,
        "as_of": run["asOf"],
        "supplier_report_id": flow.second["id"],
        "customer_report_id": flow.customer["id"],
        "profile_hash": relation["profileHash"],
        "counts": run["counts"],
        "item_count": run["itemCount"],
        "items_root": run["itemsRoot"],
        "state": "final",
        "ledger_seq": run["ledgerSeq"],
        "endorsed_seq": run["endorsedSeq"],
    }
    assert run["counts"]["matched"] == 2 and run["itemCount"] >= 5

    # What is not on the ledger yet is on neither side: the one-sided endorsement and the
    # half-agreed relation exist in the database only as pending state.
    pending = t["match_run"][(flow.pending_run["id"],)]
    assert pending["state"] == "recorded" and pending["endorsed_seq"] is None
    for proj in (rebuilt.projections, database):
        assert (flow.pending_run["id"], w.supplier.party_id) not in proj.tables["match_endorsement"]
        assert (flow.pending_relation,) not in proj.tables["relation"]
        assert not [k for k in proj.tables["relation_agreement"] if k[0] == flow.pending_relation]


@contextmanager
def _tampered(ports: Ports, sql: str, params: dict[str, Any]) -> Iterator[replay.Projections]:
    """The database's projections with ``sql`` applied, in a transaction rolled back after."""
    with ports.db.engine.connect() as conn:
        trans = conn.begin()
        try:
            assert conn.execute(sa.text(sql), params).rowcount == 1
            yield replay.read_database(SqlUnitOfWork(conn, ports.ledger, writable=False))
        finally:
            trans.rollback()


def _tamperings(
    f: Flow, before: replay.Projections
) -> list[tuple[str, dict[str, Any], replay.Difference]]:
    """(SQL, parameters, the one difference replay must report); ``before`` is the database
    as it was, equal to the ledger."""
    w, run = f.world, f.run
    sup, cus = w.supplier.party_id, w.customer.party_id
    seq = f.second["ledgerSeq"]
    endorsement = {"run_id": run["id"], "party_id": cus}
    endorsed = before.tables["match_endorsement"][(run["id"], cus)]
    return [
        (
            "UPDATE inventory_report SET record_count = record_count + 1 WHERE id = :id",
            {"id": f.second["id"]},
            replay.Difference("inventory_report", {"ledger_seq": seq}, "record_count", 6, 7),
        ),
        (
            "UPDATE inventory_report SET content_hash = :v WHERE id = :id",
            {"id": f.first["id"], "v": "0" * 64},
            replay.Difference(
                "inventory_report",
                {"ledger_seq": f.first["ledgerSeq"]},
                "content_hash",
                f.first["contentHash"],
                "0" * 64,
            ),
        ),
        (
            "UPDATE match_run SET counts = :v WHERE id = :id",
            {"id": run["id"], "v": '{"matched": 99}'},
            replay.Difference(
                "match_run", {"id": run["id"]}, "counts", run["counts"], {"matched": 99}
            ),
        ),
        (
            "UPDATE match_run SET item_count = item_count - 1 WHERE id = :id",
            {"id": run["id"]},
            replay.Difference(
                "match_run", {"id": run["id"]}, "item_count", run["itemCount"], run["itemCount"] - 1
            ),
        ),
        (
            "UPDATE match_run SET state = 'recorded' WHERE id = :id",
            {"id": run["id"]},
            replay.Difference("match_run", {"id": run["id"]}, "state", "final", "recorded"),
        ),
        (
            "UPDATE match_endorsement SET signature = :v WHERE run_id = :run AND party_id = :p",
            {"run": run["id"], "p": cus, "v": OTHER_SIGNATURE},
            replay.Difference(
                "match_endorsement",
                endorsement,
                "signature",
                endorsed["signature"],
                OTHER_SIGNATURE,
            ),
        ),
        (
            "DELETE FROM match_endorsement WHERE run_id = :run AND party_id = :p",
            {"run": run["id"], "p": cus},
            replay.Difference("match_endorsement", endorsement, None, endorsed, None),
        ),
        (
            "INSERT INTO match_endorsement (run_id, party_id, signature, created_at) "
            "VALUES (:run, :p, :v, '2026-11-02T00:00:00Z')",
            {"run": run["id"], "p": w.outsider.party_id, "v": OTHER_SIGNATURE},
            replay.Difference(
                "match_endorsement",
                {"run_id": run["id"], "party_id": w.outsider.party_id},
                None,
                None,
                {
                    "run_id": run["id"],
                    "party_id": w.outsider.party_id,
                    "signature": OTHER_SIGNATURE,
                },
            ),
        ),
        (
            "UPDATE relation SET state = 'proposed' WHERE id = :id",
            {"id": w.relation_id},
            replay.Difference("relation", {"id": w.relation_id}, "state", "agreed", "proposed"),
        ),
        (
            "UPDATE party SET name = 'Someone Else' WHERE id = :id",
            {"id": sup},
            replay.Difference("party", {"id": sup}, "name", "dtgc", "Someone Else"),
        ),
    ]


TAMPERING_IDS = [
    "report.record_count",
    "report.content_hash",
    "run.counts",
    "run.item_count",
    "run.state",
    "endorsement.signature",
    "endorsement.deleted",
    "endorsement.added",
    "relation.state",
    "party.name",
]


@pytest.mark.parametrize("case", range(len(TAMPERING_IDS)), ids=TAMPERING_IDS)
async def test_a_changed_projection_is_exactly_one_difference(
    flow: Flow, ports: Ports, case: int
) -> None:
    rebuilt = replay.rebuild(ports.ledger).projections
    before = _database(ports)
    assert replay.compare(rebuilt, before) == []
    sql, params, expected = _tamperings(flow, before)[case]
    with _tampered(ports, sql, params) as database:
        assert replay.compare(rebuilt, database) == [expected]
    assert replay.compare(rebuilt, _database(ports)) == []


# ---- the command ----


def _location(ports: Ports) -> tuple[list[str], dict[str, str]]:
    """Options and environment that make the command compose the fixture's database and
    ledger (PostgreSQL: its schema, through the search_path; EVM: the same node, and the
    contract remembered in the data folder)."""
    s = ports.settings
    url = s.resolved_database_url
    if ports.db.engine.dialect.name == "postgresql":
        with ports.db.read() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        url += f"?options=-csearch_path%3D{schema}"
    env = {"PANTHER_LEDGER": s.ledger, "PANTHER_EVM_RPC_URL": s.evm_rpc_url}
    if s.chain_id is not None:
        env["PANTHER_CHAIN_ID"] = str(s.chain_id)
    return ["--data-dir", str(s.data_dir), "--database-url", url], env


async def test_cli_replay_exit_code_and_output(flow: Flow, ports: Ports) -> None:
    where, env = _location(ports)
    runner = CliRunner(env=env)
    seq = flow.second["ledgerSeq"]
    counts = replay.rebuild(ports.ledger).projections.counts()

    result = runner.invoke(main, ["ledger", "replay", *where])
    assert result.exit_code == 0, result.output
    assert "replay EQUAL" in result.output
    table = {
        line.split()[0]: [int(n) for n in line.split()[1:]]
        for line in result.output.splitlines()
        if line.split()[:1] and line.split()[0] in counts
    }
    assert table == {name: [n, n] for name, n in counts.items()}
    result = runner.invoke(main, ["ledger", "replay", *where, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["equal"] is True and doc["differences"] == []
    assert doc["counts"] == {name: {"ledger": n, "database": n} for name, n in counts.items()}
    assert doc["entries"] == ports.ledger.head().seq + 1

    with ports.db.write() as conn:
        repo.update_row(conn, repo.T.report, {"id": flow.second["id"]}, {"record_count": 7})
    try:
        result = runner.invoke(main, ["ledger", "replay", *where])
        assert result.exit_code == 1, result.output
        assert f"inventory_report[ledger_seq={seq}].record_count: ledger 6, database 7" in (
            result.output
        )
        assert "replay DIFFERS: 1 difference(s)" in result.output
        result = runner.invoke(main, ["ledger", "replay", *where, "--json"])
        assert result.exit_code == 1
        doc = json.loads(result.output)
        assert doc["equal"] is False
        assert [
            {k: d[k] for k in ("table", "key", "field", "kind", "ledger", "database")}
            for d in doc["differences"]
        ] == [
            {
                "table": "inventory_report",
                "key": {"ledger_seq": seq},
                "field": "record_count",
                "kind": "differs",
                "ledger": 6,
                "database": 7,
            }
        ]
    finally:
        with ports.db.write() as conn:
            repo.update_row(conn, repo.T.report, {"id": flow.second["id"]}, {"record_count": 6})
    assert runner.invoke(main, ["ledger", "replay", *where]).exit_code == 0


async def test_cli_replay_into_an_empty_database(flow: Flow, ports: Ports, tmp_path: Path) -> None:
    where, env = _location(ports)
    runner = CliRunner(env=env)
    target = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    result = runner.invoke(main, ["ledger", "replay", *where, "--into", target, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    rebuilt = replay.rebuild(ports.ledger).projections
    assert doc["into"]["written"] == rebuilt.counts()

    engine = make_engine(target)
    try:
        with engine.connect() as conn:
            written = SqlUnitOfWork(conn, ports.ledger, writable=False)
            assert replay.compare(rebuilt, replay.read_database(written)) == []
            # the reports the run names keep their ids; the ledger does not carry the others'
            run = repo.get_row(conn, repo.T.run, id=flow.run["id"])
            assert run is not None and run["state"] == "final"
            for view in (flow.second, flow.customer):
                row = repo.get_row(conn, repo.T.report, id=view["id"])
                assert row is not None and row["ledger_seq"] == view["ledgerSeq"]
            first = repo.get_row(conn, repo.T.report, ledger_seq=flow.first["ledgerSeq"])
            assert first is not None and first["id"] == f"rpt-ledger-{flow.first['ledgerSeq']}"
            assert repo.count_where(conn, repo.T.record) == 0  # records are off-ledger
            party = repo.get_row(conn, repo.T.party, id=flow.world.supplier.party_id)
            assert party is not None and party["custody"] == "external"
            assert party["address"] == flow.world.supplier.address
    finally:
        engine.dispose()

    result = runner.invoke(main, ["ledger", "replay", *where, "--into", target])
    assert result.exit_code == 2
    assert "the target database is not empty: party has" in result.output
