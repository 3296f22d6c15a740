"""Races against a real server: many threads hit `panther serve` at the same instant (a
barrier), on SQLite and on PostgreSQL. Co-signing completes exactly once whoever signs last,
and no acknowledged write is lost."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from ..conftest import PG_URL, pg_schema
from ..served import serve_many
from .world import TODAY, product

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TMF637 = "/tmf-api/productInventory/v4/product"


@dataclass(frozen=True)
class Party:
    http: httpx.Client
    party_id: str
    token: str
    address: str = ""

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        via: httpx.Client | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """One request, on ``via`` (another connection) if given."""
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        if isinstance(body, list):  # an inventory's records, as NDJSON
            kw["content"] = b"\n".join(orjson.dumps(x) for x in body)
            headers["Content-Type"] = "application/x-ndjson"
        elif body is not None:
            kw["content"] = orjson.dumps(body)
            merge = method == "PATCH"  # every PATCH here is a JSON merge patch
            headers.setdefault("Content-Type", f"application/{'merge-patch+' if merge else ''}json")
        return (via or self.http).request(method, path, headers=headers, **kw)


Call = tuple[Party, str, str, Any]  # (party, method, path, JSON body or records)


def report(party: Party, relation_id: str, records: list[dict[str, Any]]) -> Call:
    """The party's inventory of ``records`` for the relation, as of TODAY."""
    return (
        party,
        "POST",
        f"/panther/v1/inventoryReport?relationId={relation_id}&asOf={TODAY}",
        records,
    )


def at_once(calls: list[Call]) -> list[httpx.Response]:
    """Send every call from its own thread, all released by one barrier once each thread
    has its connection open."""
    barrier = threading.Barrier(len(calls))

    def run(call: Call) -> httpx.Response:
        party, method, path, body = call
        with httpx.Client(base_url=party.http.base_url, timeout=60) as own:
            party.call("GET", "/panther/v1/party/" + party.party_id, via=own)  # connect
            barrier.wait(timeout=30)
            return party.call(method, path, body, via=own)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _token(http: httpx.Client, creds: dict[str, Any]) -> str:
    r = http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": creds["clientId"],
            "client_secret": creds["clientSecret"],
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@dataclass(frozen=True)
class Carriers:
    operator: Party
    supplier: Party
    customer: Party

    def relation(self, *, agreed: bool = False) -> str:
        """A new relation between the two, proposed by the operator (and agreed, one
        carrier after the other)."""
        # An id of its own: the same proposal without one is the same relation (idempotent).
        body = {
            "id": f"rel-{secrets.token_hex(6)}",
            "supplier": self.supplier.party_id,
            "customer": self.customer.party_id,
        }
        r = self.operator.call("POST", "/panther/v1/relation", body)
        assert r.status_code == 201, r.text
        relation_id = str(r.json()["id"])
        for party in (self.supplier, self.customer) if agreed else ():
            r = party.call("POST", f"/panther/v1/relation/{relation_id}/agreement", {})
            assert r.status_code == 200, r.text
        return relation_id

    def entries(self, tx_type: str) -> list[dict[str, Any]]:
        r = self.operator.call(
            "GET", "/panther/v1/ledger/entry", params={"type": tx_type, "limit": 1000}
        )
        assert r.status_code == 200, r.text
        return list(r.json())

    def verified(self) -> dict[str, Any]:
        r = self.operator.call("POST", "/panther/v1/ledger/verification")
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, Any]]]:
    """`panther serve` on SQLite and, given a server, on a fresh PostgreSQL schema, started
    side by side: backend -> (URL, operator credentials)."""
    with ExitStack() as stack:
        folders = {"sqlite": (tmp_path_factory.mktemp("races-sqlite"), "")}
        if PG_URL:
            schema = stack.enter_context(pg_schema())
            sep = "&" if "?" in PG_URL else "?"
            url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
            folders["postgres"] = (tmp_path_factory.mktemp("races-postgres"), url)
        urls = stack.enter_context(serve_many(*folders.values()))
        yield {
            backend: (url, json.loads((data / "operator-credentials.json").read_text()))
            for (backend, (data, _)), url in zip(folders.items(), urls, strict=True)
        }


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, servers: dict[str, tuple[str, Any]]) -> tuple[str, Any]:
    if request.param not in servers:
        pytest.skip("PostgreSQL tests need PANTHER_TEST_DATABASE_URL")
    return servers[request.param]


@pytest.fixture
def carriers(server: tuple[str, dict[str, Any]]) -> Iterator[Carriers]:
    url, creds = server
    http = httpx.Client(base_url=url, timeout=60)
    operator = Party(http, "operator", _token(http, creds))

    def carrier(name: str) -> Party:
        body = {"name": name, "id": f"{name}-{secrets.token_hex(4)}"}
        r = operator.call("POST", "/panther/v1/party", body)
        assert r.status_code == 201, r.text
        party = r.json()
        return Party(http, party["id"], _token(http, party["credentials"]), party["address"])

    try:
        yield Carriers(operator, carrier("dtgc"), carrier("vodafone"))
    finally:
        http.close()


def _problem(r: httpx.Response, status: int) -> None:
    """A refusal in the API's error format."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["@type"] == "Error" and body["message"], body


def test_both_carriers_agree_ten_relations_at_the_same_instant(carriers: Carriers) -> None:
    c = carriers
    relations = [c.relation() for _ in range(10)]
    calls: list[Call] = [
        (party, "POST", f"/panther/v1/relation/{rid}/agreement", {})
        for rid in relations
        for party in (c.supplier, c.customer)
    ]
    # Uploads append to the ledger meanwhile, in a relation agreed before.
    agreed = c.relation(agreed=True)
    records = [product(f"P-{i}") for i in range(20)]
    uploads = [report(party, agreed, records) for party in (c.supplier, c.customer)]
    for r in at_once(calls + uploads):
        assert r.status_code in (200, 201), r.text
    for rid in relations:
        assert c.operator.call("GET", f"/panther/v1/relation/{rid}").json()["state"] == "agreed"
    entries = [e for e in c.entries("RelationAgreed") if e["relation"] in relations]
    assert sorted(e["relation"] for e in entries) == sorted(relations)  # one entry each
    for e in entries:
        assert [s.lower() for s in e["signers"]] == [
            c.supplier.address.lower(),
            c.customer.address.lower(),
        ]
        assert len(e["signatures"]) == 2
    assert c.verified()["ok"]


def _run(c: Carriers, relation_id: str) -> str:
    """A match run of a few products reported by both carriers."""
    records = [product(f"P-{i}", external=f"X-{i}") for i in range(5)]
    for party in (c.supplier, c.customer):
        r = party.call(*report(party, relation_id, records)[1:])
        assert r.status_code == 201, r.text
    return str(r.json()["matchRun"]["id"])


def test_both_carriers_endorse_runs_at_the_same_instant(carriers: Carriers) -> None:
    c = carriers
    runs = [_run(c, c.relation(agreed=True)) for _ in range(3)]
    calls: list[Call] = [
        (party, "POST", f"/panther/v1/matchRun/{run}/endorsement", {})
        for run in runs
        for party in (c.supplier, c.customer)
    ]
    for r in at_once(calls):
        assert r.status_code == 200, r.text
    for run in runs:
        assert c.operator.call("GET", f"/panther/v1/matchRun/{run}").json()["state"] == "final"
    endorsed = [e for e in c.entries("MatchEndorsed") if e["payload"]["runId"] in runs]
    assert sorted(e["payload"]["runId"] for e in endorsed) == sorted(runs)
    assert all(len(e["signatures"]) == 2 for e in endorsed)
    assert c.verified()["ok"]


def test_twenty_patches_of_one_product_lose_no_acknowledged_change(carriers: Carriers) -> None:
    c = carriers
    relation_id = c.relation(agreed=True)
    r = c.supplier.call(*report(c.supplier, relation_id, [product("P-1")])[1:])
    assert r.status_code == 201, r.text
    patches = [{f"x{i}": f"value {i}"} for i in range(20)]
    calls: list[Call] = [(c.supplier, "PATCH", f"{TMF637}/P-1", p) for p in patches]
    results = at_once(calls)
    done = [p for p, r in zip(patches, results, strict=True) if r.status_code == 200]
    for r in results:
        if r.status_code != 200:
            _problem(r, 409)
    assert done, [r.text for r in results]
    stored = c.supplier.call("GET", f"{TMF637}/P-1").json()
    for p in done:
        ((key, value),) = p.items()
        assert stored.get(key) == value, (key, stored)
    assert c.verified()["ok"]


def _items(c: Carriers, run: str) -> list[dict[str, Any]]:
    r = c.supplier.call("GET", f"/panther/v1/matchRun/{run}/item", params={"limit": 1000})
    assert r.status_code == 200, r.text
    return list(r.json())


def _one_each(c: Carriers, tx_type: str, key: str, wanted: list[str]) -> list[dict[str, Any]]:
    """The ledger's ``tx_type`` entries about ``wanted``: exactly one each, both signed."""
    found = [e for e in c.entries(tx_type) if e["payload"][key] in wanted]
    assert sorted(e["payload"][key] for e in found) == sorted(wanted), found
    assert all(len(e["signatures"]) == 2 for e in found), found
    return found


def _answered(results: list[httpx.Response], ok: int) -> int:
    """How many succeeded; every other answer is a 409 in the error format."""
    for r in results:
        if r.status_code != ok:
            _problem(r, 409)
    return sum(r.status_code == ok for r in results)


def test_review_dispute_and_statement_agreements_complete_once(carriers: Carriers) -> None:
    """The one who completes a co-signature sends it twice at once (or more): one ledger
    entry each, the rest is a clean 409 or the same answer."""
    c = carriers
    relation_id = c.relation(agreed=True)
    for party, records in (
        (c.supplier, [product(f"CID-{i}", mrc=1300.0) for i in range(4)]),
        (c.customer, [product(f"VF-{i}", external=f"CID-{i}") for i in range(4)]),
    ):
        r = party.call(*report(party, relation_id, records)[1:])
        assert r.status_code == 201, r.text
    run = str(r.json()["matchRun"]["id"])
    items = [i["itemNo"] for i in _items(c, run) if i["class"] == "partial"]
    assert len(items) == 4
    act = f"/panther/v1/matchRun/{run}/item/{{}}/reviewAction"

    # Review: the customer proposes on three items; the supplier agrees to each twice at once.
    proposals = []
    for no in items[:3]:
        r = c.customer.call("POST", act.format(no), {"action": "acceptValue"})
        assert r.status_code == 201, r.text
        proposals.append(r.json()["proposal"]["id"])
    calls: list[Call] = [
        (c.supplier, "POST", act.format(no), {"action": "agree"})
        for no in items[:3]
        for _ in (1, 2)
    ]
    assert _answered(at_once(calls), 201) >= 3
    _one_each(c, "ReviewAgreed", "proposalId", proposals)
    for no in items[:3]:
        item = c.customer.call("GET", f"/panther/v1/matchRun/{run}/item/{no}").json()
        assert item["review"]["state"] == "agreed"

    # A dispute: the supplier proposes a resolution, the customer closes it three times at once.
    r = c.customer.call("POST", act.format(items[3]), {"action": "dispute", "note": "too dear"})
    assert r.status_code == 201, r.text
    ticket = f"/tmf-api/troubleTicket/v4/troubleTicket/{r.json()['dispute']['id']}"
    resolved = {"status": "resolved", "resolution": {"outcome": "supplierValueStands"}}
    for body in ({"status": "inProgress"}, resolved):
        r = c.supplier.call("PATCH", ticket, body)
        assert r.status_code == 200, r.text
    calls = [(c.customer, "PATCH", ticket, {"status": "closed"})] * 3
    assert _answered(at_once(calls), 200) >= 1
    closed = c.customer.call("GET", ticket).json()
    assert closed["status"] == "closed"
    assert [s["status"] for s in closed["statusChange"]].count("closed") == 1
    _one_each(c, "DisputeResolved", "ticketId", [closed["id"]])

    # The statement, from the endorsed run.
    for party in (c.supplier, c.customer):
        r = party.call("POST", f"/panther/v1/matchRun/{run}/endorsement", {})
        assert r.status_code == 200, r.text
    r = c.supplier.call(
        "POST",
        "/tmf-api/customerBillManagement/v4/customerBillOnDemand",
        {
            "billingAccount": {"id": relation_id},
            "billingPeriod": {
                "startDateTime": "2026-11-01T00:00:00Z",
                "endDateTime": "2026-12-01T00:00:00Z",
            },
        },
    )
    assert r.status_code == 201, r.text
    bill_id = r.json()["customerBill"]["id"]
    bill = f"/tmf-api/customerBillManagement/v4/customerBill/{bill_id}"
    # Its state: put on hold and released at once, twice each; every change that was
    # acknowledged is one revision (its ETag), none is lost or counted twice.
    before = c.customer.call("GET", bill).headers["ETag"]
    calls = [(c.customer, "PATCH", bill, {"state": s}) for s in ("onHold", "new") * 2]
    done = [r for r in at_once(calls) if r.status_code == 200]
    changed = {r.headers["ETag"] for r in done} - {before}
    after = c.customer.call("GET", bill)
    assert int(after.headers["ETag"].strip('"')) == int(before.strip('"')) + len(changed)
    if after.json()["state"] == "onHold":
        assert c.customer.call("PATCH", bill, {"state": "new"}).status_code == 200
    # The agreement: the customer validates it four times at once.
    calls = [(c.customer, "PATCH", bill, {"state": "validated"})] * 4
    assert _answered(at_once(calls), 200) >= 1
    assert c.supplier.call("GET", bill).json()["state"] == "validated"
    _one_each(c, "StatementAgreed", "statementId", [bill_id])
    assert c.verified()["ok"]


def test_listeners_registered_at_the_same_instant_stop_at_the_cap(carriers: Carriers) -> None:
    """Thirty registrations at once by one carrier, whose cap is twenty (the default): each
    counts the listeners before it adds one, so without a lock several pass the same count."""
    carrier = carriers.supplier
    calls: list[Call] = [
        (
            carrier,
            "POST",
            "/tmf-api/troubleTicket/v4/hub",
            {"callback": f"https://93.184.215.{n}/cb"},
        )
        for n in range(1, 31)
    ]
    statuses = sorted(r.status_code for r in at_once(calls))
    assert statuses == [201] * 20 + [409] * 10, statuses
    r = carrier.call(
        "POST", "/tmf-api/troubleTicket/v4/hub", {"callback": "https://93.184.215.99/cb"}
    )
    _problem(r, 409)
