"""A seeded system for the schemathesis runs: the same data for the in-process suite and a
live `panther serve` run (`python -m tests.conformance.seeded DATA_DIR` seeds a folder and
prints the callers' tokens as a Web Fuzzing Commons auth document).

Two carriers share a relation with both reports, an endorsed match run, an endorsed bill and
a dispute; a third carrier (the stranger) has its own relation with a fourth party, so each
carrier owns objects the others must not read.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from panther.adapters.sql import repository as repo
from panther.adapters.webhooks import WebhookDispatcher
from panther.demo.generator import generate_pair
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
from panther.server.services.context import Caller
from panther.server.services.ports import Ports
from panther.server.settings import Settings

# Identity names in the auth document, in the order schemathesis tries them per operation:
# a carrier first, the operator last (only operations the carriers are refused escalate to it).
CARRIERS = ("supplier", "customer", "stranger")


@dataclass(frozen=True)
class Seeded:
    tokens: dict[str, str]  # identity name -> bearer token

    def wfc(self) -> dict[str, Any]:
        """The Web Fuzzing Commons auth document schemathesis reads (`[auth.wfc]`)."""
        return {
            "auth": [
                {
                    "name": name,
                    "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}],
                }
                for name, token in self.tokens.items()
            ]
        }


def _caller(ports: Ports, credentials: dict[str, str]) -> tuple[str, Caller]:
    token = parties.issue_token(ports, credentials["clientId"], credentials["clientSecret"], None)
    return token["access_token"], parties.read_token(ports, token["access_token"])


def _relation(
    ports: Ports, operator: Caller, supplier: str, customer: str, seed: int
) -> tuple[dict[str, Any], list[tuple[str, Caller]]]:
    """An agreed relation between two new carriers, both of whom have reported."""
    callers = []
    for pid in (supplier, customer):
        party = parties.register_party(ports, operator, {"name": pid.title(), "id": pid})
        callers.append(_caller(ports, party["credentials"]))
    rel = relations.propose_relation(ports, operator, {"supplier": supplier, "customer": customer})
    for _, caller in callers:
        relations.agree_relation(ports, caller, rel["id"], None)
    pair = generate_pair(40, seed=seed)
    for (_, caller), records in zip(callers, (pair.supplier, pair.customer), strict=True):
        reports.upload_report(
            ports,
            caller,
            relation_id=rel["id"],
            as_of="2026-11-01",
            body=b"\n".join(orjson.dumps(r) for r in records),
            media_type="application/x-ndjson",
        )
    return rel, callers


def seed(ports: Ports, data_dir: Path) -> Seeded:
    creds = json.loads((data_dir / "operator-credentials.json").read_text())
    operator_token, operator = _caller(ports, creds)
    rel, (sup, cus) = _relation(ports, operator, "sup", "cus", 3)
    # The stranger's own relation: objects neither the supplier nor the customer may read.
    _, (stranger, _) = _relation(ports, operator, "stranger", "other", 5)
    run, _ = matchruns.run_match(ports, sup[1], rel["id"], "2026-11-01")
    for _, caller in (sup, cus):
        run_endorsement.endorse_run(ports, caller, run["id"], None)
    asked = statements.request_statement(
        ports,
        sup[1],
        {
            "billingAccount": {"id": rel["id"]},
            "billingPeriod": {
                "startDateTime": "2026-11-01T00:00:00Z",
                "endDateTime": "2026-12-01T00:00:00Z",
            },
        },
    )
    # The customer endorses it, so MEF 141 (which shows endorsed statements only) has a bill.
    bills.patch_bill(ports, cus[1], asked["customerBill"]["id"], {"state": "validated"}, None)
    # A dispute about a partial item, so TMF621 has a ticket to read and change.
    with ports.db.read() as conn:
        it = repo.T.item
        item = repo.list_rows(conn, it, [it.c.run_id == run["id"], it.c["class"] == "partial"])[0]
    disputes.open_dispute(
        ports,
        cus[1],
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
    tokens = dict(zip(CARRIERS, (sup[0], cus[0], stranger[0]), strict=True))
    return Seeded({**tokens, "operator": operator_token})


def system(folder: Path) -> tuple[Any, Seeded, Ports]:
    """The app over a fresh, seeded SQLite system in `folder`, validating its own responses."""
    # The listener cap out of reach: the stateful phase registers listeners, and once it hit
    # the cap (20) a replayed scenario got 409 where its first run got 201, which Hypothesis
    # takes as a flaky strategy and ends the phase early (TMF621: 1,716 cases instead of
    # 2,263, depending only on which string literals the server's modules hold). The cap
    # keeps its own tests (tests/api/test_races.py, test_hub.py).
    ports = compose(
        Settings.from_env(
            data_dir=folder,
            database_url="",
            validate_responses=True,
            max_listeners_per_party=100_000,
        )
    )
    # Generated hub registrations name arbitrary callback hosts: events must never leave the
    # machine, so this system delivers them to a transport that only records them.
    ports.webhooks = WebhookDispatcher(
        httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(204)))
    )
    app = create_app(ports=ports)
    return app, seed(ports, folder), ports


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    system = compose(Settings.from_env(data_dir=folder, database_url=""))
    print(json.dumps(seed(system, folder).wfc(), indent=2))
