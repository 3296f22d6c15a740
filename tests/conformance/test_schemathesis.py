"""schemathesis over every operation of every API document, in process, with 0 failures.

The app runs on a fresh SQLite system holding a realistic relation (two carriers, both
reports, a match run), so generated requests reach real data as well as the error paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from panther.adapters.sql import repository as repo
from panther.adapters.webhooks import WebhookDispatcher
from panther.demo.generator import generate_pair
from panther.server import state
from panther.server.app import create_app
from panther.server.bootstrap import compose
from panther.server.services import (
    bills,
    disputes,
    matchruns,
    parties,
    relations,
    reports,
    run_endorsement,
    statements,
)
from panther.server.settings import Settings

BASES = {
    "panther": "/panther/v1",
    "tmf637": "/tmf-api/productInventory/v4",
    "mef116": "/mefApi/sonata/productInventory/v7",
    "oauth": "/oauth",
    "tmf678": "/tmf-api/customerBillManagement/v4",
    "mef141": "/mefApi/sonata/customerBillManagement/v2",
    "tmf621": "/tmf-api/troubleTicket/v4",
}


@dataclass
class Env:
    app: Any
    headers: dict[str, str]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    data = tmp_path_factory.mktemp("schemathesis")
    ports = compose(Settings.from_env(data_dir=data, database_url="", validate_responses=True))
    # Generated hub registrations name arbitrary callback hosts: events must never leave the
    # machine, so this system delivers them to a transport that only records them.
    delivered: list[httpx.Request] = []
    ports.webhooks = WebhookDispatcher(
        httpx.Client(
            transport=httpx.MockTransport(
                lambda request: delivered.append(request) or httpx.Response(204)
            )
        )
    )
    app = create_app(ports=ports)
    creds = json.loads((Path(data) / "operator-credentials.json").read_text())
    operator = parties.read_token(
        ports,
        parties.issue_token(ports, creds["clientId"], creds["clientSecret"], None)["access_token"],
    )
    sup = parties.register_party(ports, operator, {"name": "Supplier", "id": "sup"})
    cus = parties.register_party(ports, operator, {"name": "Customer", "id": "cus"})
    rel = relations.propose_relation(ports, operator, {"supplier": "sup", "customer": "cus"})
    callers = {}
    for party in (sup, cus):
        token = parties.issue_token(
            ports, party["credentials"]["clientId"], party["credentials"]["clientSecret"], None
        )
        callers[party["id"]] = parties.read_token(ports, token["access_token"])
        relations.agree_relation(ports, callers[party["id"]], rel["id"], None)
    pair = generate_pair(40, seed=3)
    for pid, records in (("sup", pair.supplier), ("cus", pair.customer)):
        reports.upload_report(
            ports,
            callers[pid],
            relation_id=rel["id"],
            as_of="2026-11-01",
            body=b"\n".join(orjson.dumps(r) for r in records),
            media_type="application/x-ndjson",
        )
    run, _ = matchruns.run_match(ports, callers["sup"], rel["id"], "2026-11-01")
    for caller in callers.values():
        run_endorsement.endorse_run(ports, caller, run["id"], None)
    asked = statements.request_statement(
        ports,
        callers["sup"],
        {
            "billingAccount": {"id": rel["id"]},
            "billingPeriod": {
                "startDateTime": "2026-11-01T00:00:00Z",
                "endDateTime": "2026-12-01T00:00:00Z",
            },
        },
    )
    # The customer endorses it, so MEF 141 (which shows endorsed statements only) has a bill.
    bills.patch_bill(
        ports, callers["cus"], asked["customerBill"]["id"], {"state": "validated"}, None
    )
    # A dispute about a partial item, so TMF621 has a ticket to read and change.
    with ports.db.read() as conn:
        it = repo.T.item
        item = repo.list_rows(conn, it, [it.c.run_id == run["id"], it.c["class"] == "partial"])[0]
    disputes.open_dispute(
        ports,
        callers["cus"],
        {
            "ticketType": "inventoryDispute",
            "description": "The records differ",
            "severity": "Minor",
            "relatedEntity": [
                {
                    "id": f"{run['id']}:{item['item_no']}",
                    "role": "disputedItem",
                    "@referredType": "MatchItem",
                }
            ],
        },
    )
    token = parties.issue_token(ports, creds["clientId"], creds["clientSecret"], None)
    yield Env(app, {"Authorization": f"Bearer {token['access_token']}"})
    state.install(ports)
    ports.db.engine.dispose()


def _schema_fixture(name: str) -> Any:
    @pytest.fixture(scope="module", name=f"{name}_schema")
    def _fixture(env: Env) -> Any:
        state_ports = state.ports()
        del state_ports
        return schemathesis.openapi.from_asgi(f"{BASES[name]}/openapi.json", env.app)

    return _fixture


panther_schema = _schema_fixture("panther")
tmf637_schema = _schema_fixture("tmf637")
mef116_schema = _schema_fixture("mef116")
oauth_schema = _schema_fixture("oauth")
tmf678_schema = _schema_fixture("tmf678")
mef141_schema = _schema_fixture("mef141")
tmf621_schema = _schema_fixture("tmf621")

_SETTINGS = settings(
    max_examples=20, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
)


def _check(case: Any, env: Env) -> None:
    case.call_and_validate(headers=env.headers)


panther = schemathesis.pytest.from_fixture("panther_schema")
tmf637 = schemathesis.pytest.from_fixture("tmf637_schema")
mef116 = schemathesis.pytest.from_fixture("mef116_schema")
oauth = schemathesis.pytest.from_fixture("oauth_schema")
tmf678 = schemathesis.pytest.from_fixture("tmf678_schema")
mef141 = schemathesis.pytest.from_fixture("mef141_schema")
tmf621 = schemathesis.pytest.from_fixture("tmf621_schema")


@panther.parametrize()
@_SETTINGS
def test_panther_api(case: Any, env: Env) -> None:
    _check(case, env)


@tmf637.parametrize()
@settings(max_examples=6, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_tmf637_api(case: Any, env: Env) -> None:
    _check(case, env)


@mef116.parametrize()
@_SETTINGS
def test_mef116_api(case: Any, env: Env) -> None:
    _check(case, env)


@tmf678.parametrize()
@_SETTINGS
def test_tmf678_api(case: Any, env: Env) -> None:
    _check(case, env)


@mef141.parametrize()
@_SETTINGS
def test_mef141_api(case: Any, env: Env) -> None:
    _check(case, env)


@tmf621.parametrize()
@_SETTINGS
def test_tmf621_api(case: Any, env: Env) -> None:
    _check(case, env)


@oauth.parametrize()
@_SETTINGS
def test_oauth_api(case: Any, env: Env) -> None:
    case.call_and_validate()
