"""POST /panther/v1/profileCheck and a run's coverage: a compared field whose path resolves on
neither side is a warning and is counted as missing on both sides, never as agreeing."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

from conformance.official import validate_against_document
from panther.client import PantherClient
from panther.matching import DEFAULT_PROFILE

from ..served import panther_command
from .world import TODAY, World, product

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "panther-v1.yaml"
CHECK = "/panther/v1/profileCheck"
SIDES = ("supplier", "customer")


def mef_shaped(pid: str, *, external: str | None = None, site_a: str = "FRA1") -> dict[str, Any]:
    """A record that carries its sites as MEF 116 does (`relatedSite`, role `A-end`) instead
    of TMF637's `place` (role `A-End`), which the default profile reads."""
    record = product(pid, external=external, site_a=site_a)
    del record["place"]
    record["relatedSite"] = [{"role": "A-end", "id": site_a}, {"role": "B-end", "id": "LON3"}]
    return record


def trial_reports() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Three services both sides hold; the third one's A-end site differs."""
    supplier = [mef_shaped(f"CID-00000{i}") for i in (1, 2, 3)]
    customer = [
        mef_shaped(f"VF-{i}", external=f"CID-00000{i}", site_a="AMS2" if i == 3 else "FRA1")
        for i in (1, 2, 3)
    ]
    return supplier, customer


def sites_at(path_a: str, path_b: str) -> dict[str, Any]:
    """The default profile with the sites read at other paths (fields and keys)."""
    document = copy.deepcopy(DEFAULT_PROFILE.to_dict())
    paths = {"place[role=A-End].id": path_a, "place[role=B-End].id": path_b}
    for field in document["comparedFields"]:
        if field.get("field") in paths:
            field["field"] = paths[field["field"]]
    for rule in document["identifierRules"]:
        for side in ("supplier", "customer"):
            for component in rule[side]:
                component["field"] = paths.get(component["field"], component["field"])
    return document


def by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in entries}


def codes(figures: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(w["code"], w.get("field") or w.get("rule")) for w in figures["warnings"]}


async def _uploaded(world: World) -> dict[str, Any]:
    supplier, customer = trial_reports()
    r = await world.supplier.upload(world.relation_id, supplier, as_of=TODAY)
    assert r.status_code == 201, r.text
    r = await world.customer.upload(world.relation_id, customer, as_of=TODAY)
    assert r.status_code == 201, r.text
    r = await world.customer.get(f"/panther/v1/matchRun/{r.json()['matchRun']['id']}")
    assert r.status_code == 200, r.text
    run: dict[str, Any] = r.json()
    return run


async def test_the_trial_profile_warns_and_the_run_shows_the_sites_missing_on_both_sides(
    world: World,
) -> None:
    run = await _uploaded(world)
    validate_against_document(OPENAPI, "MatchRun", run)
    # Linked by circuit id, the sites never compared: nothing differs...
    assert (run["counts"]["matched"], run["counts"]["partial"]) == (3, 0)
    figures = run["coverage"]
    assert figures["linkedPairs"] == 3
    site_a = by_name(figures["fields"])["siteA"]
    # ...but the run says so: missing on both sides, not agreeing.
    assert (site_a["supplier"]["resolved"], site_a["customer"]["resolved"]) == (0, 0)
    assert (site_a["missingBoth"], site_a["agreed"], site_a["differed"]) == (3, 0, 0)
    assert by_name(figures["fields"])["status"]["agreed"] == 3
    assert ("fieldResolvesOnNeitherSide", "siteA") in codes(figures)
    assert ("ruleKeysNoRecord", "siteServiceBandwidth") in codes(figures)

    r = await world.supplier.get(f"/panther/v1/matchRun/{run['id']}/item/2/explanation")
    assert r.status_code == 200, r.text
    explanation = r.json()
    verdicts = {f["name"]: f["verdict"] for f in explanation["fields"]}
    assert verdicts["siteA"] == verdicts["siteB"] == "bothMissing"
    assert explanation["summary"].endswith(
        "; not compared, missing on both sides: terminationDate, siteA, siteB"
    )

    # The check of the relation's reports says the same before any run would.
    r = await world.supplier.post(CHECK, {"relationId": world.relation_id})
    assert r.status_code == 200, r.text
    check = r.json()
    validate_against_document(OPENAPI, "ProfileCheck", check)
    assert check["supplier"]["source"] == check["customer"]["source"] == "report"
    assert check["supplier"]["report"] == run["supplierReport"]
    assert check["profileHash"] == run["profileHash"]
    assert check["coverage"] == figures

    # The path the records use, with the selector in the docs' case: it resolves, and the
    # A-end site that differs is found.
    fixed = sites_at("relatedSite[role=A-End].id", "relatedSite[role=B-END].id")
    r = await world.customer.post(CHECK, {"relationId": world.relation_id, "profile": fixed})
    assert r.status_code == 200, r.text
    check = r.json()
    assert check["counts"]["partial"] == 1
    site_a = by_name(check["coverage"]["fields"])["siteA"]
    assert (site_a["supplier"]["resolved"], site_a["customer"]["resolved"]) == (3, 3)
    assert (site_a["missingBoth"], site_a["agreed"], site_a["differed"]) == (0, 2, 1)
    # What is left to warn of is true of these records: no order ids, no termination dates.
    assert codes(check["coverage"]) == {
        ("ruleKeysNoRecord", "orderReference"),
        ("fieldResolvesOnNeitherSide", "terminationDate"),
    }


async def test_a_typo_in_a_path_warns_on_a_sample(world: World) -> None:
    """Records sent inline, no relation: a field on neither side, one on one side only,
    duplicate keys counted per side."""
    profile = {
        "name": "typo",
        "version": 1,
        "identifierRules": [
            {"name": "circuit", "supplier": [{"field": "id"}], "customer": [{"field": "id"}]}
        ],
        "comparedFields": [
            {"name": "status", "field": "statsu", "comparator": "enum"},
            {
                "name": "start",
                "supplierField": "startDate",
                "customerField": "start_date",
                "comparator": "date",
            },
        ],
    }
    supplier = [product("C1"), product("C2"), product("C2")]
    customer = [product("C1"), product("C2")]
    r = await world.outsider.post(
        CHECK, {"profile": profile, "supplierRecords": supplier, "customerRecords": customer}
    )
    assert r.status_code == 200, r.text
    check = r.json()
    validate_against_document(OPENAPI, "ProfileCheck", check)
    assert check["relationId"] is None and check["supplier"] == {
        "source": "inline",
        "report": None,
        "records": 3,
    }
    figures = check["coverage"]
    assert codes(figures) == {
        ("fieldResolvesOnNeitherSide", "status"),
        ("fieldResolvesOnOneSideOnly", "start"),
    }
    (rule,) = figures["rules"]
    assert rule["supplier"] == {"keyed": 3, "duplicateKeys": 1, "duplicateRecords": 2}
    assert rule["customer"] == {"keyed": 2, "duplicateKeys": 0, "duplicateRecords": 0}
    assert rule["linked"] == figures["linkedPairs"] == 1
    fields = by_name(figures["fields"])
    assert fields["status"]["missingBoth"] == 1 and fields["status"]["agreed"] == 0
    assert (fields["start"]["differed"], fields["start"]["missingBoth"]) == (1, 0)


async def test_refusals(world: World) -> None:
    r = await world.supplier.post(CHECK, {"relationId": "rel-nobody"})
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "notFound"
    r = await world.outsider.post(CHECK, {"relationId": world.relation_id})
    assert r.status_code == 404, r.text

    bad = sites_at("place[role=A-End.id", "place[role=B-End].id")
    r = await world.supplier.post(CHECK, {"relationId": world.relation_id, "profile": bad})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert "invalid match profile" in problem["message"] and "bad segment" in problem["message"]
    assert problem["details"][0]["pointer"].startswith("/profile/")

    r = await world.supplier.post(CHECK, {"supplierRecords": []})
    assert r.status_code == 422, r.text
    assert [d["pointer"] for d in r.json()["details"]] == ["/customerRecords"]

    # No report on either side yet.
    r = await world.supplier.post(CHECK, {"relationId": world.relation_id})
    assert r.status_code == 409, r.text
    r = await world.supplier.post(
        CHECK, {"relationId": world.relation_id, "supplierRecords": [product("C1")]}
    )
    assert r.status_code == 409 and "customer report" in r.json()["message"], r.text


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*panther_command(), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_panther_profile_check_on_files_warns_and_strict_fails(tmp_path: Path) -> None:
    supplier, customer = trial_reports()
    files = {}
    for side, records in (("supplier", supplier), ("customer", customer)):
        files[side] = tmp_path / f"{side}.ndjson"
        files[side].write_text("\n".join(json.dumps(r) for r in records))
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(DEFAULT_PROFILE.to_dict()))
    on_files = ["--supplier", str(files["supplier"]), "--customer", str(files["customer"])]

    proc = _cli("profile", "check", str(profile), *on_files)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].endswith("3 matched, 0 partial, 0 missingAtSupplier, 0 missingAtCustomer, "
                             "0 ambiguous, 3 total")  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines if line.startswith("  ")}
    assert rows["siteA"] == ["siteA", "0", "|", "0;", "0,", "0,", "3"]
    assert rows["status"] == ["status", "3", "|", "3;", "3,", "0,", "0"]
    assert any(
        line.startswith("warning: compared field 'siteA' resolves in no record") for line in lines
    )
    assert _cli("profile", "check", str(profile), *on_files, "--strict").returncode == 1

    as_json = _cli("profile", "check", str(profile), *on_files, "--json")
    document = json.loads(as_json.stdout)
    assert ("fieldResolvesOnNeitherSide", "siteB") in codes(document["coverage"])

    profile.write_text(json.dumps(sites_at("place[role=A-End.id", "place[role=B-End].id")))
    bad = _cli("profile", "check", str(profile), *on_files)
    assert bad.returncode == 1 and "bad segment" in bad.stderr and "Traceback" not in bad.stderr


def test_panther_profile_check_and_match_coverage_against_a_server(
    served: str, tmp_path: Path
) -> None:
    operator_creds = json.loads((tmp_path / "operator-credentials.json").read_text())
    operator = PantherClient(served, operator_creds["clientId"], operator_creds["clientSecret"])
    parties = {side: operator.register_party(side.title(), side[:3]) for side in SIDES}
    relation = operator.propose_relation("sup", "cus")
    clients = {}
    for side, party in parties.items():
        c = party["credentials"]
        clients[side] = PantherClient(served, c["clientId"], c["clientSecret"])
        clients[side].agree(relation["id"])
    for side, records in zip(SIDES, trial_reports(), strict=True):
        body = b"\n".join(json.dumps(r).encode() for r in records)
        report = clients[side].upload(relation["id"], TODAY, body, "application/x-ndjson")
    run_id = report["matchRun"]["id"]
    for client in (operator, *clients.values()):
        client.close()
    creds = tmp_path / "cus.json"
    creds.write_text(json.dumps(parties["customer"]["credentials"]))
    connection = ["--url", served, "--credentials", str(creds)]

    coverage = _cli("match", *connection, "coverage", run_id)
    assert coverage.returncode == 0, coverage.stderr
    rows = {line.split()[0]: line.split() for line in coverage.stdout.splitlines()}
    assert rows["siteA"] == ["siteA", "0", "|", "0;", "0,", "0,", "3"]
    assert "warning: compared field 'siteA' resolves in no record" in coverage.stdout

    profile = tmp_path / "profile.json"
    profile.write_text(
        json.dumps(sites_at("relatedSite[role=a-end].id", "relatedSite[role=B-End].id"))
    )
    check = _cli(
        "profile", "check", str(profile), "--relation", relation["id"], *connection, "--json"
    )
    assert check.returncode == 0, check.stderr
    document = json.loads(check.stdout)
    assert document["supplier"]["source"] == "report" and document["counts"]["partial"] == 1

    outsider = _cli("profile", "check", str(profile), "--relation", "rel-none", *connection)
    assert outsider.returncode == 1 and "HTTP 404" in outsider.stderr
