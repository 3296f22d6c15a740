"""Our TMF621, TMF678 and MEF 141 documents: valid OAS 3, the agreed operations and scopes,
faithful ports of the official schemas, and realistic bodies valid against ours and theirs."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import ValidationError
from openapi_spec_validator import validate as validate_openapi

from conformance.official import (
    MEF141_V2,
    TMF621_V4,
    TMF637_V4,
    TMF678_V4,
    UnknownResponse,
    standards_dir,
    validate_against,
    validate_against_document,
    validate_mef141_customer_bill,
    validate_mef141_customer_bill_item,
    validate_mef141_customer_bill_list_item,
    validate_mef141_error,
    validate_response_against_document,
    validate_tmf621_trouble_ticket,
    validate_tmf678_applied_customer_billing_rate,
    validate_tmf678_customer_bill,
    validate_tmf678_customer_bill_on_demand,
    validate_tmf_error,
)

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"
TMF621_DOC = OPENAPI / "tmf621-trouble-ticket-v4.yaml"
TMF678_DOC = OPENAPI / "tmf678-customer-bill-v4.yaml"
MEF141_DOC = OPENAPI / "mef141-customer-bill-v2.yaml"
DOCS = [TMF621_DOC, TMF678_DOC, MEF141_DOC]
METHODS = {"get", "put", "post", "patch", "delete"}

TT = "/tmf-api/troubleTicket/v4"
CBM = "/tmf-api/customerBillManagement/v4"
MEF = "/mefApi/sonata/customerBillManagement/v2"

# (path, method) -> (operationId, scope)
OPERATIONS = {
    TMF621_DOC: {
        ("/troubleTicket", "get"): ("listTroubleTicket", "dispute:read"),
        ("/troubleTicket", "post"): ("createTroubleTicket", "dispute:write"),
        ("/troubleTicket/{id}", "get"): ("retrieveTroubleTicket", "dispute:read"),
        ("/troubleTicket/{id}", "patch"): ("patchTroubleTicket", "dispute:write"),
        ("/hub", "post"): ("registerTroubleTicketListener", "dispute:read"),
        ("/hub/{id}", "delete"): ("unregisterTroubleTicketListener", "dispute:read"),
    },
    TMF678_DOC: {
        ("/customerBill", "get"): ("listCustomerBill", "bill:read"),
        ("/customerBill/{id}", "get"): ("retrieveCustomerBill", "bill:read"),
        ("/customerBill/{id}", "patch"): ("patchCustomerBill", "bill:write"),
        ("/customerBill/{id}/billDocument", "get"): ("retrieveCustomerBillDocument", "bill:read"),
        ("/appliedCustomerBillingRate", "get"): ("listAppliedCustomerBillingRate", "bill:read"),
        ("/appliedCustomerBillingRate/{id}", "get"): (
            "retrieveAppliedCustomerBillingRate",
            "bill:read",
        ),
        ("/customerBillOnDemand", "get"): ("listCustomerBillOnDemand", "bill:read"),
        ("/customerBillOnDemand", "post"): ("createCustomerBillOnDemand", "bill:write"),
        ("/customerBillOnDemand/{id}", "get"): ("retrieveCustomerBillOnDemand", "bill:read"),
        ("/hub", "post"): ("registerCustomerBillListener", "bill:read"),
        ("/hub/{id}", "delete"): ("unregisterCustomerBillListener", "bill:read"),
    },
    MEF141_DOC: {
        ("/customerBill", "get"): ("listMEFCustomerBill", "bill:read"),
        ("/customerBill/{id}", "get"): ("retrieveMEFCustomerBill", "bill:read"),
        ("/customerBillItem/{id}", "get"): ("retrieveMEFCustomerBillItem", "bill:read"),
        ("/hub", "post"): ("registerMEFCustomerBillListener", "bill:read"),
        ("/hub/{id}", "get"): ("retrieveMEFCustomerBillListener", "bill:read"),
        ("/hub/{id}", "delete"): ("unregisterMEFCustomerBillListener", "bill:read"),
    },
}
SERVERS = {TMF621_DOC: TT, TMF678_DOC: CBM, MEF141_DOC: MEF}
SCOPES = {
    TMF621_DOC: {"dispute:read", "dispute:write"},
    TMF678_DOC: {"bill:read", "bill:write"},
    MEF141_DOC: {"bill:read"},
}

# Faithful ports. Our schema name -> the official one where they differ; schemas that are ours;
# properties we add (+) to or remove (-) from an official schema; properties whose official
# schema we narrow with an `enum` (or `minItems`), each documented with "Panther:".
TMF621_RENAMES = {
    "TroubleTicketCreate": "TroubleTicket_Create",
    "TroubleTicketUpdate": "TroubleTicket_Update",
}
TMF621_OWN = {"Dispute", "DisputeResolution", "DisputedFieldValue"}
TMF621_FROM_TMF678 = {"Money"}
TMF621_DEVIATIONS: dict[str, tuple[set[str], set[str]]] = {
    "TroubleTicketCreate": (
        set(),
        set(
            (
                "creationDate lastUpdate resolutionDate expectedResolutionDate status statusChange "
                "statusChangeDate statusChangeReason"
            ).split()
        ),
    ),
    "TroubleTicketUpdate": (
        {"resolution"},
        set(
            (
                "description expectedResolutionDate externalId name priority "
                "requestedResolutionDate resolutionDate severity ticketType attachment channel "
                "relatedEntity relatedParty troubleTicketRelationship @baseType @schemaLocation"
            ).split()
        ),
    ),
}
TMF621_NARROWED = {
    ("TroubleTicket", "ticketType"),
    ("TroubleTicketCreate", "ticketType"),
    ("TroubleTicketCreate", "relatedEntity"),
    ("TroubleTicketUpdate", "@type"),
    ("Note", "text"),  # maxLength: what one note may hold (issue 16)
}
TMF678_RENAMES = {
    "CustomerBillUpdate": "CustomerBill_Update",
    "CustomerBillOnDemandCreate": "CustomerBillOnDemand_Create",
    "CustomerBillStateType": "stateValue",
    "CustomerBillOnDemandStateType": "StateValues",
}
TMF678_OWN = {"BillingStatement", "BillingStatementOnDemand", "BillingStatementOnDemandCreate"}
TMF678_DEVIATIONS: dict[str, tuple[set[str], set[str]]] = {
    "CustomerBillUpdate": (set(), {"@baseType", "@schemaLocation", "@type"}),
    "CustomerBillOnDemandCreate": (set(), {"lastUpdate", "customerBill", "relatedParty", "state"}),
}
TMF678_NARROWED = {("CustomerBill", "billDocument"), ("AppliedCustomerBillingRate", "type")}
# Our extensions: schema -> (@type, @baseType)
EXTENSIONS = {
    TMF621_DOC: {"Dispute": "TroubleTicket"},
    TMF678_DOC: {
        "BillingStatement": "CustomerBill",
        "BillingStatementOnDemand": "CustomerBillOnDemand",
    },
}


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def official(spec_file: str) -> dict[str, Any]:
    root = standards_dir()
    assert root is not None
    path = root / spec_file
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        definitions: dict[str, Any] = json.loads(text)["definitions"]
        return definitions
    schemas: dict[str, Any] = yaml.safe_load(text)["components"]["schemas"]
    return schemas


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def parameter_names(document: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    return [resolve(document, p)["name"] for p in operation.get("parameters", [])]


def _strip(node: Any, keys: frozenset[str]) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v, keys) for k, v in node.items() if k not in keys}
    if isinstance(node, list):
        return [_strip(v, keys) for v in node]
    return node


# ---------------------------------------------------------------- structure


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_document_is_valid_openapi_3(path: Path) -> None:
    document = load(path)
    assert document["openapi"].startswith("3.0.")
    validate_openapi(document)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_base_path_operations_and_scopes(path: Path) -> None:
    document = load(path)
    assert document["servers"] == [{"url": SERVERS[path]}]
    found = {}
    for route, method, op in operations(document):
        (requirement,) = op["security"]
        (scopes,) = requirement.values()
        found[(route, method)] = (op["operationId"], *scopes)
    assert found == OPERATIONS[path]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_oauth2_client_credentials_scopes_listed_at_the_top(path: Path) -> None:
    document = load(path)
    scheme = document["components"]["securitySchemes"]["oauth2"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert scheme["x-tokenInfoFunc"] == "panther.server.auth.token_info"
    assert scheme["x-scopeValidateFunc"] == "panther.server.auth.validate_scope"
    assert set(scheme["flows"]["clientCredentials"]["scopes"]) == SCOPES[path]
    header = [line for line in path.read_text().splitlines() if line.startswith("#")]
    scope_line = next(line for line in header if "OAuth2 scopes:" in line)
    for scope in SCOPES[path]:
        assert scope in scope_line
    assert any("Apache-2.0" in line for line in header)  # ported from the official files


def test_operation_ids_are_unique_across_all_documents() -> None:
    counts: Counter[str] = Counter()
    for path in sorted(OPENAPI.glob("*.yaml")):
        counts.update(op["operationId"] for _, _, op in operations(load(path)))
    for path in DOCS:
        for _, _, op in operations(load(path)):
            assert counts[op["operationId"]] == 1, op["operationId"]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_lists_count_and_unknown_ids_are_404(path: Path) -> None:
    document = load(path)
    for route, method, op in operations(document):
        ok = op["responses"].get("200") or op["responses"].get("201")
        if method == "get" and "{id}" not in route:
            expected = {"X-Total-Count", "X-Result-Count"}
            if path == MEF141_DOC:
                expected.add("X-Pagination-Throttled")
            assert set(ok["headers"]) == expected, route
            assert ok["content"]["application/json"]["schema"]["type"] == "array"
            names = parameter_names(document, op)
            assert {"offset", "limit"} <= set(names), route
            if path != MEF141_DOC:
                assert {"fields", "id"} <= set(names), route
        if "{id}" in route:
            assert "404" in op["responses"], (route, method)


@pytest.mark.parametrize("path", [TMF621_DOC, TMF678_DOC], ids=lambda p: p.name)
def test_tmf_errors_are_tmf630_error_bodies(path: Path) -> None:
    document = load(path)
    for route, method, op in operations(document):
        codes = {int(code) for code in op["responses"] if int(code) >= 400}
        assert {400, 401, 403, 405, 500} <= codes, (route, method)
        for code in codes:
            response = resolve(document, op["responses"][str(code)])
            assert response["content"] == {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
            }


def test_mef141_errors_are_mef_error_bodies() -> None:
    document = load(MEF141_DOC)
    for route, method, op in operations(document):
        codes = {int(code) for code in op["responses"] if int(code) >= 400}
        assert {400, 401, 403, 500} <= codes, (route, method)
        for code in codes:
            schema = op["responses"][str(code)]["content"]["application/json"]["schema"]
            if code == 429:  # MEF 141 v2 has no Error429: its Error, with the code
                assert schema["allOf"][0] == {"$ref": "#/components/schemas/Error"}
                assert schema["allOf"][1]["properties"]["code"]["enum"] == ["tooManyRequests"]
                continue
            assert schema == {"$ref": f"#/components/schemas/Error{code}"}


def test_tmf621_filters_patch_and_lifecycle() -> None:
    document = load(TMF621_DOC)
    listing = document["paths"]["/troubleTicket"]["get"]
    assert (
        parameter_names(document, listing)
        == (
            "fields offset limit id status ticketType externalId relatedEntity.id relatedParty.id"
        ).split()
    )
    schemas = document["components"]["schemas"]
    assert (
        schemas["TroubleTicketStatusType"]["enum"]
        == ("acknowledged inProgress pending resolved closed rejected cancelled").split()
    )
    assert schemas["TroubleTicket"]["properties"]["ticketType"]["enum"] == [
        "inventoryDispute",
        "billingDispute",
    ]
    patch = document["paths"]["/troubleTicket/{id}"]["patch"]
    assert set(patch["requestBody"]["content"]) == {
        "application/merge-patch+json",
        "application/json",
    }
    assert "If-Match" in parameter_names(document, patch)
    assert "412" in patch["responses"]
    update = schemas["TroubleTicketUpdate"]
    assert update["additionalProperties"] is False
    assert set(update["properties"]) == {
        "status",
        "statusChangeReason",
        "note",
        "resolution",
        "@type",
    }
    assert set(schemas["TroubleTicketCreate"]["required"]) == {
        "description",
        "severity",
        "ticketType",
        "relatedEntity",
    }


def test_tmf678_filters_patch_and_states() -> None:
    document = load(TMF678_DOC)
    paths = document["paths"]
    assert (
        parameter_names(document, paths["/customerBill"]["get"])
        == (
            "fields offset limit id state billNo category runType billingAccount.id "
            "billingPeriod.startDateTime relatedParty.id"
        ).split()
    )
    assert (
        parameter_names(document, paths["/appliedCustomerBillingRate"]["get"])
        == ("fields offset limit id bill.id isBilled type product.id billingAccount.id").split()
    )
    schemas = document["components"]["schemas"]
    assert (
        schemas["CustomerBillStateType"]["enum"]
        == ("new onHold validated sent partiallyPaid settled").split()
    )
    update = schemas["CustomerBillUpdate"]
    assert (update["properties"].keys(), update["required"]) == ({"state"}, ["state"])
    assert update["additionalProperties"] is False
    patch = paths["/customerBill/{id}"]["patch"]
    assert "If-Match" in parameter_names(document, patch)
    assert "412" in patch["responses"]
    created = paths["/customerBillOnDemand"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BillingStatementOnDemand"
    }
    pdf = paths["/customerBill/{id}/billDocument"]["get"]["responses"]["200"]["content"]
    assert list(pdf) == ["application/pdf"]


def test_mef141_buyer_and_seller_on_every_operation() -> None:
    document = load(MEF141_DOC)
    for route, method, op in operations(document):
        names = parameter_names(document, op)
        assert {"buyerId", "sellerId"} <= set(names), (route, method)
        for parameter in op["parameters"]:
            if parameter["name"] in {"buyerId", "sellerId"}:
                assert parameter["required"] is False
    listing = document["paths"]["/customerBill"]["get"]
    assert (
        parameter_names(document, listing)
        == (
            "buyerId sellerId billingAccount.id billingPeriod.startDateTime.lt "
            "billingPeriod.startDateTime.gt billingPeriod.endDateTime.lt "
            "billingPeriod.endDateTime.gt category state offset limit"
        ).split()
    )
    for route in ("/customerBill/{id}", "/customerBillItem/{id}"):
        schema = document["paths"][route]["get"]["responses"]["200"]["content"]
        body = schema["application/json"]["schema"]
        assert (body["type"], body["minItems"], body["maxItems"]) == ("array", 1, 1)


@pytest.mark.parametrize("path", [TMF621_DOC, TMF678_DOC], ids=lambda p: p.name)
def test_every_schema_is_used(path: Path) -> None:
    document = load(path)
    schemas = document["components"]["schemas"]
    text = json.dumps({k: v for k, v in document.items() if k != "components"})
    reached: set[str] = set()
    pending = {name for name in schemas if f'"#/components/schemas/{name}"' in text}
    for response in document["components"]["responses"].values():
        pending.add(response["content"]["application/json"]["schema"]["$ref"].split("/")[-1])
    while pending:
        name = pending.pop()
        reached.add(name)
        body = json.dumps(schemas[name])
        pending |= {n for n in schemas if f'"#/components/schemas/{n}"' in body} - reached
    assert reached == set(schemas)


@pytest.mark.parametrize("path", list(EXTENSIONS), ids=lambda p: p.name)
def test_extensions_follow_tmf630_subclassing(path: Path) -> None:
    document = load(path)
    schemas = document["components"]["schemas"]
    for name, base in EXTENSIONS[path].items():
        schema = schemas[name]
        assert schema["allOf"][0] == {"$ref": f"#/components/schemas/{base}"}
        added = schema["allOf"][1]["properties"]
        assert added["@type"]["enum"] == [name]
        assert added["@baseType"]["enum"] == [base]
        location = f"{SERVERS[path]}/openapi.json#/components/schemas/{name}"
        assert location in schema["description"]
        assert schema["description"].startswith("Panther: a TMF630 extension")


# ---------------------------------------------------------------- faithful to the standards


def _assert_faithful_ports(
    ours: dict[str, Any],
    theirs: dict[str, Any],
    *,
    renames: dict[str, str],
    own: set[str],
    deviations: dict[str, tuple[set[str], set[str]]],
    narrowed: set[tuple[str, str]],
    elsewhere: dict[str, dict[str, Any]],
) -> None:
    ignore = frozenset({"description", "example"})
    for name, schema in ours.items():
        if name in own:
            assert schema["description"].startswith("Panther:"), name
            continue
        original = elsewhere.get(name) or theirs[renames.get(name, name)]
        if "enum" in original:
            assert set(schema["enum"]) <= set(original["enum"]), name
            if schema["enum"] != original["enum"]:
                assert "Panther:" in schema["description"], name
            continue
        added, removed = deviations.get(name, (set(), set()))
        properties = set(schema.get("properties", {}))
        assert properties == (set(original.get("properties", {})) | added) - removed, name
        if added or removed:
            assert "Panther:" in schema["description"], name
        for prop in properties - added:
            mine = _strip(schema["properties"][prop], ignore)
            if (name, prop) in narrowed:
                assert "Panther:" in schema["properties"][prop].get("description", "")
                mine = {k: v for k, v in mine.items() if k not in {"enum", "minItems", "maxLength"}}
            mine_text = json.dumps(mine, sort_keys=True)
            for old, new in renames.items():
                mine_text = mine_text.replace(f'/schemas/{old}"', f'/schemas/{new}"')
            theirs_text = json.dumps(_strip(original["properties"][prop], ignore), sort_keys=True)
            theirs_text = theirs_text.replace("#/definitions/", "#/components/schemas/")
            assert mine_text == theirs_text, f"{name}.{prop}"


@pytest.mark.usefixtures("official_schemas")
def test_tmf621_schemas_are_faithful_ports() -> None:
    tmf678 = official(TMF678_V4)
    _assert_faithful_ports(
        load(TMF621_DOC)["components"]["schemas"],
        official(TMF621_V4),
        renames=TMF621_RENAMES,
        own=TMF621_OWN,
        deviations=TMF621_DEVIATIONS,
        narrowed=TMF621_NARROWED,
        elsewhere={name: tmf678[name] for name in TMF621_FROM_TMF678},
    )


@pytest.mark.usefixtures("official_schemas")
def test_tmf678_schemas_are_faithful_ports() -> None:
    _assert_faithful_ports(
        load(TMF678_DOC)["components"]["schemas"],
        official(TMF678_V4),
        renames=TMF678_RENAMES,
        own=TMF678_OWN,
        deviations=TMF678_DEVIATIONS,
        narrowed=TMF678_NARROWED,
        elsewhere={},
    )


@pytest.mark.usefixtures("official_schemas")
def test_mef141_schemas_are_the_official_ones() -> None:
    ours = load(MEF141_DOC)["components"]["schemas"]
    theirs = official(MEF141_V2)
    assert set(ours) == set(theirs)
    for name, schema in theirs.items():
        assert _strip(ours[name], frozenset({"example"})) == schema, name


@pytest.mark.usefixtures("official_schemas")
def test_tmf_error_is_the_same_in_every_tmf_api() -> None:
    """So ``validate_tmf_error`` (TMF637's ``Error``) stands for TMF621 and TMF678 too."""
    error = official(TMF637_V4)["Error"]
    assert official(TMF621_V4)["Error"] == error
    assert official(TMF678_V4)["Error"] == error


# ---------------------------------------------------------------- realistic bodies

PARTIES = [
    {"id": "carrier-a", "name": "Carrier A", "role": "supplier", "@referredType": "Organization"},
    {"id": "carrier-b", "name": "Carrier B", "role": "customer", "@referredType": "Organization"},
]
SEP_BILL = "CB-rel-ab-2026-09-v1"
OCT_BILL = "CB-rel-ab-2026-10-v1"


def _eur(value: str) -> dict[str, Any]:
    return {"unit": "EUR", "value": float(value)}


def _entity(id_: str, href: str, role: str, referred: str, **extra: str) -> dict[str, Any]:
    return {"id": id_, "href": href, "role": role, "@referredType": referred, **extra}


# A billing dispute about a September line, resolved with a credit on the October statement.
DISPUTE: dict[str, Any] = {
    "id": "TT-2026-0009",
    "href": f"{TT}/troubleTicket/TT-2026-0009",
    "@type": "Dispute",
    "@baseType": "TroubleTicket",
    "@schemaLocation": f"https://panther.example{TT}/openapi.json#/components/schemas/Dispute",
    "ticketType": "billingDispute",
    "name": "September charge of CID-000456",
    "description": "CID-000456 is billed for all of September; it was handed over on 15 September.",
    "severity": "Minor",
    "priority": "Medium",
    "externalId": "B-DSP-2026-114",
    "status": "closed",
    "statusChangeReason": "credit agreed",
    "creationDate": "2026-10-02T08:30:00Z",
    "lastUpdate": "2026-10-06T11:05:00Z",
    "statusChangeDate": "2026-10-06T11:05:00Z",
    "resolutionDate": "2026-10-06T11:05:00Z",
    "relatedEntity": [
        _entity(
            "ACBR-rel-ab-2026-09-0004",
            f"{CBM}/appliedCustomerBillingRate/ACBR-rel-ab-2026-09-0004",
            "disputedCharge",
            "AppliedCustomerBillingRate",
        ),
        _entity(SEP_BILL, f"{CBM}/customerBill/{SEP_BILL}", "disputedBill", "CustomerBill"),
        _entity(OCT_BILL, f"{CBM}/customerBill/{OCT_BILL}", "creditedOn", "CustomerBill"),
        _entity(
            "1207",
            "/panther/v1/ledger/entry/1207",
            "ledgerEntry",
            "LedgerEntry",
            name="DisputeOpened",
        ),
        _entity(
            "1262",
            "/panther/v1/ledger/entry/1262",
            "ledgerEntry",
            "LedgerEntry",
            name="DisputeResolved",
        ),
    ],
    "relatedParty": [*PARTIES, {**PARTIES[1], "role": "originator"}],
    "note": [
        {
            "id": "1",
            "author": "carrier-b",
            "date": "2026-10-02T08:30:00Z",
            "text": "Handover protocol signed on 2026-09-15, attached to order PO-2025-000456.",
        },
        {
            "id": "2",
            "author": "carrier-a",
            "date": "2026-10-05T14:12:00Z",
            "text": "Confirmed: billing started from the order date, not the handover.",
        },
        {
            "id": "3",
            "author": "carrier-b",
            "date": "2026-10-06T11:05:00Z",
            "text": "Credit accepted.",
        },
    ],
    "statusChange": [
        {
            "status": "acknowledged",
            "changeDate": "2026-10-02T08:30:00Z",
            "changeReason": "opened by carrier-b",
        },
        {
            "status": "inProgress",
            "changeDate": "2026-10-03T09:00:00Z",
            "changeReason": "checking activation records",
        },
        {
            "status": "resolved",
            "changeDate": "2026-10-05T14:12:00Z",
            "changeReason": "credit for 14 days proposed",
        },
        {"status": "closed", "changeDate": "2026-10-06T11:05:00Z", "changeReason": "agreed"},
    ],
    "resolution": {
        "@type": "DisputeResolution",
        "outcome": "customerValueStands",
        "fieldValue": [{"field": "startDate", "valueFrom": "customer"}],
        "creditAmount": _eur("186.67"),  # 400.00 x 14/30, rounded half up
        "description": "Billing starts at handover; 14 days of September are credited.",
        "proposedBy": "carrier-a",
        "proposalDate": "2026-10-05T14:12:00Z",
        "agreementDate": "2026-10-06T11:05:00Z",
    },
}

# An inventory dispute being worked on, about a match item.
INVENTORY_DISPUTE: dict[str, Any] = {
    "id": "TT-2026-0011",
    "href": f"{TT}/troubleTicket/TT-2026-0011",
    "@type": "Dispute",
    "@baseType": "TroubleTicket",
    "ticketType": "inventoryDispute",
    "description": "Carrier B has CID-000456 at 1 Gbps, Carrier A at 10 Gbps.",
    "severity": "Major",
    "status": "pending",
    "creationDate": "2026-11-02T10:00:00Z",
    "relatedEntity": [
        _entity("MR-42:17", "/panther/v1/matchRun/MR-42/item/17", "disputedItem", "MatchItem"),
    ],
    "relatedParty": [*PARTIES, {**PARTIES[1], "role": "originator"}],
    "note": [
        {
            "id": "1",
            "author": "carrier-b",
            "date": "2026-11-02T10:00:00Z",
            "text": "Order PO-2025-000456 is for 1 Gbps.",
        },
    ],
    "statusChange": [
        {"status": "acknowledged", "changeDate": "2026-11-02T10:00:00Z"},
        {"status": "inProgress", "changeDate": "2026-11-02T15:00:00Z"},
        {
            "status": "pending",
            "changeDate": "2026-11-03T09:00:00Z",
            "changeReason": "waiting for the upgrade order",
        },
    ],
}

CREATE_DISPUTE = {
    "ticketType": "inventoryDispute",
    "description": "Carrier B has CID-000456 at 1 Gbps, Carrier A at 10 Gbps.",
    "severity": "Major",
    "relatedEntity": INVENTORY_DISPUTE["relatedEntity"],
    "note": [{"text": "Order PO-2025-000456 is for 1 Gbps."}],
}
PROPOSE_RESOLUTION = {
    "@type": "Dispute",
    "status": "resolved",
    "statusChangeReason": "upgrade order found",
    "note": [*INVENTORY_DISPUTE["note"], {"text": "Upgrade order PO-2026-000912 attached."}],
    "resolution": {
        "outcome": "supplierValueStands",
        "fieldValue": [{"field": "bandwidth", "valueFrom": "supplier"}],
    },
}


def _line(
    number: int,
    kind: str,
    amount: str,
    tax: str,
    *,
    product: str | None,
    name: str,
    start: str = "2026-10-01",
    end: str = "2026-11-01",
    billed: bool = True,
    characteristic: tuple[tuple[str, str, Any], ...] = (),
) -> dict[str, Any]:
    id_ = f"ACBR-rel-ab-2026-10-{number:04d}"
    total = Decimal(amount) + Decimal(tax)
    line: dict[str, Any] = {
        "id": id_,
        "href": f"{CBM}/appliedCustomerBillingRate/{id_}",
        "name": name,
        "type": kind,
        "isBilled": billed,
        "date": "2026-11-01T00:00:00Z",
        "bill": {"id": OCT_BILL, "href": f"{CBM}/customerBill/{OCT_BILL}"},
        "billingAccount": {"id": "rel-ab", "href": "/panther/v1/relation/rel-ab"},
        "periodCoverage": {
            "startDateTime": f"{start}T00:00:00Z",
            "endDateTime": f"{end}T00:00:00Z",
        },
        "taxExcludedAmount": _eur(amount),
        "taxIncludedAmount": _eur(str(total)),
        "appliedTax": [{"taxCategory": "VAT", "taxRate": 0.19, "taxAmount": _eur(tax)}],
        "characteristic": [{"name": "lineNumber", "valueType": "integer", "value": number}]
        + [{"name": n, "valueType": t, "value": v} for n, t, v in characteristic],
    }
    if product:
        line["product"] = {
            "id": product,
            "href": f"/tmf-api/productInventory/v4/product/{product}",
        }
    return line


# The October statement: a full month, a service starting on 15 October (17 of 31 days) with
# its installation charge, the credit of TT-2026-0009, and a disputed service held out.
RATES = [
    _line(
        1,
        "recurringCharge",
        "1250.00",
        "237.50",
        product="CID-000123",
        name="EPL Frankfurt - London 10G",
        characteristic=(
            ("activeDays", "integer", 31),
            ("monthsDue", "string", "1"),
            ("rate", "string", "1250.00"),
            ("prorationRule", "string", "actualDays"),
        ),
    ),
    _line(
        2,
        "recurringCharge",
        "493.55",
        "93.77",
        product="CID-000789",
        name="EPL Paris - Milan 1G",
        start="2026-10-15",
        characteristic=(
            ("activeDays", "integer", 17),
            ("monthsDue", "string", "17/31"),
            ("rate", "string", "900.00"),
            ("prorationRule", "string", "actualDays"),
        ),
    ),
    _line(
        3,
        "oneTimeCharge",
        "500.00",
        "95.00",
        product="CID-000789",
        name="Installation EPL Paris - Milan",
        start="2026-10-15",
        end="2026-10-16",
    ),
    _line(
        4,
        "appliedBillingCredit",
        "-186.67",
        "-35.47",
        product="CID-000456",
        name="Credit TT-2026-0009",
        characteristic=(("troubleTicketId", "string", "TT-2026-0009"),),
    ),
    _line(
        5,
        "recurringCharge",
        "400.00",
        "76.00",
        product="CID-000456",
        name="EPL Paris - Madrid 1G (held out)",
        billed=False,
        characteristic=(
            ("heldOutReason", "string", "disputed"),
            ("troubleTicketId", "string", "TT-2026-0011"),
        ),
    ),
]
BILLED = [rate for rate in RATES if rate["isBilled"]]


def _sum(lines: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(str(line[key]["value"])) for line in lines), Decimal(0))


def _bill() -> dict[str, Any]:
    amount = _sum(BILLED, "taxExcludedAmount")
    total = _sum(BILLED, "taxIncludedAmount")
    return {
        "id": OCT_BILL,
        "href": f"{CBM}/customerBill/{OCT_BILL}",
        "@type": "BillingStatement",
        "@baseType": "CustomerBill",
        "@schemaLocation": f"https://panther.example{CBM}/openapi.json"
        "#/components/schemas/BillingStatement",
        "billNo": "A-2026-10-0001",
        "billDate": "2026-11-01T00:00:00Z",
        "lastUpdate": "2026-11-07T09:00:00Z",
        "paymentDueDate": "2026-12-01T00:00:00Z",
        "category": "normal",
        "runType": "onCycle",
        "state": "sent",
        "billingAccount": {"id": "rel-ab", "href": "/panther/v1/relation/rel-ab"},
        "financialAccount": {"id": "rel-ab", "name": "Carrier A - Carrier B"},
        "billingPeriod": {
            "startDateTime": "2026-10-01T00:00:00Z",
            "endDateTime": "2026-11-01T00:00:00Z",
        },
        "relatedParty": PARTIES,
        "taxExcludedAmount": _eur(str(amount)),
        "taxIncludedAmount": _eur(str(total)),
        "amountDue": _eur(str(total)),
        "remainingAmount": _eur(str(total)),
        "appliedPayment": [],
        "taxItem": [
            {"taxCategory": "VAT", "taxRate": 0.19, "taxAmount": _eur(str(total - amount))}
        ],
        "billDocument": [
            {
                "id": f"{OCT_BILL}.pdf",
                "name": "A-2026-10-0001.pdf",
                "description": "Invoice A-2026-10-0001, Carrier A to Carrier B, October 2026",
                "attachmentType": "invoice",
                "mimeType": "application/pdf",
                "url": f"https://panther.example{CBM}/customerBill/{OCT_BILL}/billDocument",
                "size": {"amount": 48213, "units": "bytes"},
                "@referredType": "Attachment",
            }
        ],
        "statementVersion": 1,
        "statementHash": "3c5f0e8a" * 8,
        "linesRoot": "9d41b7c2" * 8,
        "heldOutAmount": _eur("400.00"),
    }


BILL = _bill()
BILL_ON_DEMAND = {
    "id": "CBOD-77",
    "href": f"{CBM}/customerBillOnDemand/CBOD-77",
    "@type": "BillingStatementOnDemand",
    "@baseType": "CustomerBillOnDemand",
    "@schemaLocation": f"https://panther.example{CBM}/openapi.json"
    "#/components/schemas/BillingStatementOnDemand",
    "name": "October statement",
    "state": "done",
    "lastUpdate": "2026-11-01T06:00:02Z",
    "billingAccount": {"id": "rel-ab", "href": "/panther/v1/relation/rel-ab"},
    "billingPeriod": {
        "startDateTime": "2026-10-01T00:00:00Z",
        "endDateTime": "2026-11-01T00:00:00Z",
    },
    "customerBill": {"id": OCT_BILL, "href": f"{CBM}/customerBill/{OCT_BILL}"},
    "relatedParty": {"id": "carrier-a", "role": "requester", "@referredType": "Organization"},
}
ASK_FOR_STATEMENT = {
    "@type": "BillingStatementOnDemand",
    "billingAccount": {"id": "rel-ab"},
    "billingPeriod": BILL_ON_DEMAND["billingPeriod"],
}


def _mef_item(rate: dict[str, Any], state: str, **fields: Any) -> dict[str, Any]:
    tax = rate["appliedTax"][0]
    item = {
        "id": rate["id"],
        "href": f"{MEF}/customerBillItem/{rate['id']}",
        "customerBillItemType": "recurring",
        "description": rate["name"],
        "periodCoverage": rate["periodCoverage"],
        "product": {
            "id": rate["product"]["id"],
            "href": f"/mefApi/sonata/productInventory/v7/product/{rate['product']['id']}",
        },
        "productName": rate["name"],
        "productOrderItem": {"productOrderId": "PO-2025-000456", "productOrderItemId": "1"},
        "state": state,
        "taxExcludedAmount": rate["taxExcludedAmount"],
        "unit": "month",
        "unitQuantity": 1,
        "unitRate": rate["taxExcludedAmount"],
        "appliedTax": [{"category": "country", "rate": 0.19, "amount": tax["taxAmount"]}],
        "appliedFee": [],
    }
    return {**item, **fields}


MEF_ITEMS = {
    "prorated": _mef_item(
        RATES[1],
        "paymentDue",
        unitQuantity=17 / 31,
        unitRate=_eur("900.00"),
        productOrderItem={"productOrderId": "PO-2026-000789", "productOrderItemId": "1"},
    ),
    "credit": _mef_item(RATES[3], "credit", customerBillItemType="nonRecurring", unit="each"),
    "disputed": _mef_item(
        RATES[4],
        "disputeBeingInvestigated",
        description="Held out: disputed in TT-2026-0011 (EUR 400.00 at stake)",
    ),
}
MEF_BILL = {
    **{k: BILL[k] for k in ("id", "billNo", "billDate", "lastUpdate", "paymentDueDate")},
    **{k: BILL[k] for k in ("category", "runType", "billingPeriod", "appliedPayment")},
    **{k: BILL[k] for k in ("taxExcludedAmount", "taxIncludedAmount", "amountDue")},
    **{k: BILL[k] for k in ("remainingAmount", "taxItem")},
    "href": f"{MEF}/customerBill/{OCT_BILL}",
    "state": "paymentDue",
    "billCycle": "2026-10",
    "billingAccount": {"id": "rel-ab"},
    "financialAccount": {"id": "rel-ab", "name": "Carrier A - Carrier B"},
    "billDocument": {"url": BILL["billDocument"][0]["url"]},
    "credits": _eur("186.67"),
    "discounts": _eur("0"),
    "fees": _eur("0"),
    "relatedContactInformation": [
        {
            "role": "sellerContact",
            "name": "Carrier A wholesale billing",
            "organization": "Carrier A",
            "emailAddress": "billing@carrier-a.example",
            "number": "+49 69 1234 5678",
        }
    ],
    "customerBillItem": [
        {"id": r["id"], "href": f"{MEF}/customerBillItem/{r['id']}"} for r in RATES
    ],
}
MEF_LIST_ITEM = {
    k: MEF_BILL[k] for k in ("id", "billNo", "category", "state", "billingAccount", "billingPeriod")
}
TMF_ERRORS = {
    404: {"code": "notFound", "reason": "Trouble ticket not found", "status": "404"},
    409: {
        "code": "conflict",
        "reason": "Outdated statement",
        "message": f"{OCT_BILL} is superseded by CB-rel-ab-2026-10-v2",
        "status": "409",
    },
    412: {"code": "preconditionFailed", "reason": "The bill changed meanwhile", "status": "412"},
    422: {"code": "invalidValue", "reason": "resolution is given with status resolved only"},
}
SUBSCRIPTION = {
    "id": "sub-7",
    "callback": "https://carrier-b.example/notifications",
    "query": "eventType=troubleTicketStatusChangeEvent",
}

Check = Callable[[Any], None]
# (document, operationId, status, body, official check of the body or of each of its items)
RESPONSES: list[tuple[Path, str, int, Any, Check]] = [
    (TMF621_DOC, "retrieveTroubleTicket", 200, DISPUTE, validate_tmf621_trouble_ticket),
    (TMF621_DOC, "patchTroubleTicket", 200, DISPUTE, validate_tmf621_trouble_ticket),
    (TMF621_DOC, "createTroubleTicket", 201, INVENTORY_DISPUTE, validate_tmf621_trouble_ticket),
    (
        TMF621_DOC,
        "listTroubleTicket",
        200,
        [DISPUTE, INVENTORY_DISPUTE, {"id": DISPUTE["id"], "href": DISPUTE["href"]}],
        validate_tmf621_trouble_ticket,
    ),
    (TMF621_DOC, "registerTroubleTicketListener", 201, SUBSCRIPTION, lambda _: None),
    (TMF678_DOC, "retrieveCustomerBill", 200, BILL, validate_tmf678_customer_bill),
    (TMF678_DOC, "patchCustomerBill", 200, BILL, validate_tmf678_customer_bill),
    (TMF678_DOC, "listCustomerBill", 200, [BILL], validate_tmf678_customer_bill),
    (
        TMF678_DOC,
        "listAppliedCustomerBillingRate",
        200,
        RATES,
        validate_tmf678_applied_customer_billing_rate,
    ),
    (
        TMF678_DOC,
        "retrieveAppliedCustomerBillingRate",
        200,
        RATES[1],
        validate_tmf678_applied_customer_billing_rate,
    ),
    (
        TMF678_DOC,
        "createCustomerBillOnDemand",
        201,
        BILL_ON_DEMAND,
        validate_tmf678_customer_bill_on_demand,
    ),
    (
        TMF678_DOC,
        "listCustomerBillOnDemand",
        200,
        [BILL_ON_DEMAND],
        validate_tmf678_customer_bill_on_demand,
    ),
    (
        MEF141_DOC,
        "listMEFCustomerBill",
        200,
        [MEF_LIST_ITEM],
        validate_mef141_customer_bill_list_item,
    ),
    (MEF141_DOC, "retrieveMEFCustomerBill", 200, [MEF_BILL], validate_mef141_customer_bill),
    *[
        (MEF141_DOC, "retrieveMEFCustomerBillItem", 200, [item], validate_mef141_customer_bill_item)
        for item in MEF_ITEMS.values()
    ],
    *[
        (TMF621_DOC, "patchTroubleTicket", status, body, validate_tmf_error)
        for status, body in TMF_ERRORS.items()
    ],
    (TMF678_DOC, "patchCustomerBill", 409, TMF_ERRORS[409], validate_tmf_error),
    (
        MEF141_DOC,
        "retrieveMEFCustomerBillItem",
        404,
        {"code": "notFound", "reason": "No such bill item"},
        lambda body: validate_mef141_error(404, body),
    ),
]


def _response_id(case: tuple[Path, str, int, Any, Check]) -> str:
    return f"{case[1]}-{case[2]}"


@pytest.mark.usefixtures("official_schemas")
@pytest.mark.parametrize("case", RESPONSES, ids=[_response_id(c) for c in RESPONSES])
def test_realistic_response_is_valid_for_us_and_the_standard(
    case: tuple[Path, str, int, Any, Check],
) -> None:
    document, operation_id, status, body, check = case
    validate_response_against_document(document, operation_id, status, body)
    for element in body if isinstance(body, list) else [body]:
        check(element)


@pytest.mark.usefixtures("official_schemas")
def test_realistic_requests_are_valid_for_us_and_the_standard() -> None:
    validate_against_document(TMF621_DOC, "TroubleTicketCreate", CREATE_DISPUTE)
    validate_against(TMF621_V4, "TroubleTicket_Create", CREATE_DISPUTE)
    validate_against_document(TMF621_DOC, "TroubleTicketUpdate", PROPOSE_RESOLUTION)
    validate_against(TMF621_V4, "TroubleTicket_Update", PROPOSE_RESOLUTION)
    validate_against_document(TMF678_DOC, "CustomerBillUpdate", {"state": "validated"})
    validate_against(TMF678_V4, "CustomerBill_Update", {"state": "validated"})
    validate_against_document(TMF678_DOC, "BillingStatementOnDemandCreate", ASK_FOR_STATEMENT)
    validate_against(TMF678_V4, "CustomerBillOnDemand_Create", ASK_FOR_STATEMENT)


def test_the_statement_adds_up() -> None:
    """The example bill's totals are the sums of its billed lines; held-out items are apart."""
    assert Decimal(str(BILL["taxExcludedAmount"]["value"])) == Decimal("2056.88")
    assert Decimal(str(BILL["taxIncludedAmount"]["value"])) == Decimal("2447.68")
    assert Decimal(str(BILL["taxItem"][0]["taxAmount"]["value"])) == Decimal("390.80")
    held_out = _sum([r for r in RATES if not r["isBilled"]], "taxExcludedAmount")
    assert held_out == Decimal(str(BILL["heldOutAmount"]["value"]))
    assert -_sum([RATES[3]], "taxExcludedAmount") == Decimal(
        str(DISPUTE["resolution"]["creditAmount"]["value"])
    )


@pytest.mark.usefixtures("official_schemas")
@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_document_examples_are_valid_for_us_and_the_standard(path: Path) -> None:
    schemas = load(path)["components"]["schemas"]
    examples = {name: s["example"] for name, s in schemas.items() if "example" in s}
    assert examples
    for name, example in examples.items():
        validate_against_document(path, name, example)
        if path == MEF141_DOC:
            validate_against(MEF141_V2, name, example)
            continue
        spec = TMF621_V4 if path == TMF621_DOC else TMF678_V4
        renames = TMF621_RENAMES if path == TMF621_DOC else TMF678_RENAMES
        bases = {**EXTENSIONS[path], "BillingStatementOnDemandCreate": "CustomerBillOnDemandCreate"}
        base = bases.get(name, name)
        validate_against(spec, renames.get(base, base), example)


# ---------------------------------------------------------------- the validators can fail


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def _changed(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


# (official check, broken body, what the error says)
BROKEN: list[tuple[Check, Any, str]] = [
    (
        validate_tmf621_trouble_ticket,
        _changed(DISPUTE, ("relatedParty", 0), _without(PARTIES[0], "@referredType")),
        "'@referredType' is a required property",
    ),
    (
        validate_tmf621_trouble_ticket,
        _changed(DISPUTE, ("relatedEntity", 0), _without(DISPUTE["relatedEntity"][0], "role")),
        "'role' is a required property",
    ),
    (validate_tmf621_trouble_ticket, {**DISPUTE, "status": "open"}, "is not one of"),
    (
        validate_tmf621_trouble_ticket,
        _changed(DISPUTE, ("note", 0, "date"), "2026-10-02"),
        "is not a 'date-time'",
    ),
    (validate_tmf678_customer_bill, {**BILL, "state": "paid"}, "is not one of"),
    (validate_tmf678_customer_bill, {**BILL, "billDocument": BILL["billDocument"][0]}, "array"),
    (
        validate_tmf678_applied_customer_billing_rate,
        _without(RATES[0], "id"),
        "'id' is a required property",
    ),
    (
        validate_tmf678_customer_bill_on_demand,
        {**BILL_ON_DEMAND, "state": "completed"},
        "is not one of",
    ),
    (
        validate_mef141_customer_bill,
        _without(MEF_BILL, "billDocument"),
        "'billDocument' is a required property",
    ),
    (
        validate_mef141_customer_bill_item,
        _without(MEF_ITEMS["disputed"], "productOrderItem"),
        "'productOrderItem' is a required property",
    ),
    (
        validate_mef141_customer_bill_item,
        {**MEF_ITEMS["disputed"], "state": "disputed"},
        "is not one of",
    ),
    (
        validate_mef141_customer_bill_list_item,
        _without(MEF_LIST_ITEM, "billNo"),
        "'billNo' is a required property",
    ),
    (validate_tmf_error, _without(TMF_ERRORS[409], "code"), "'code' is a required property"),
]


@pytest.mark.usefixtures("official_schemas")
@pytest.mark.parametrize("case", BROKEN, ids=[f"{c[0].__name__}-{c[2]}" for c in BROKEN])
def test_official_validators_reject_broken_bodies(case: tuple[Check, Any, str]) -> None:
    check, body, expected = case
    with pytest.raises(ValidationError, match=expected):
        check(body)


@pytest.mark.usefixtures("official_schemas")
def test_our_documents_are_stricter_where_they_say_so() -> None:
    """Narrowings pass the official schema and fail ours: the documents mean what they say."""
    incident = {**DISPUTE, "ticketType": "incident"}
    validate_tmf621_trouble_ticket(incident)
    with pytest.raises(ValidationError, match="'incident' is not one of"):
        validate_response_against_document(TMF621_DOC, "retrieveTroubleTicket", 200, incident)
    held = {**DISPUTE, "status": "held"}
    validate_tmf621_trouble_ticket(held)
    with pytest.raises(ValidationError, match="'held' is not one of"):
        validate_response_against_document(TMF621_DOC, "retrieveTroubleTicket", 200, held)
    more_than_state = {"state": "validated", "billNo": "X-1"}
    validate_against(TMF678_V4, "CustomerBill_Update", more_than_state)
    with pytest.raises(ValidationError, match="Additional properties"):
        validate_against_document(TMF678_DOC, "CustomerBillUpdate", more_than_state)
    with pytest.raises(ValidationError, match="'id' is a required property"):
        validate_response_against_document(TMF678_DOC, "listCustomerBill", 200, [{"href": "x"}])
    with pytest.raises(ValidationError, match="is too long"):
        validate_response_against_document(
            MEF141_DOC, "retrieveMEFCustomerBill", 200, [MEF_BILL, MEF_BILL]
        )
    bad_credit = _changed(DISPUTE, ("resolution", "creditAmount", "value"), -5.0)
    with pytest.raises(ValidationError, match="minimum"):
        validate_response_against_document(TMF621_DOC, "retrieveTroubleTicket", 200, bad_credit)


def test_unknown_operation_or_status_is_its_own_error() -> None:
    with pytest.raises(UnknownResponse, match="listNothing"):
        validate_response_against_document(TMF621_DOC, "listNothing", 200, [])
    with pytest.raises(UnknownResponse, match="status 418"):
        validate_response_against_document(TMF621_DOC, "listTroubleTicket", 418, [])
    with pytest.raises(UnknownResponse):  # 204 has no body
        validate_response_against_document(TMF621_DOC, "unregisterTroubleTicketListener", 204, {})


def test_spec_file_constants_name_real_files(official_schemas: Path) -> None:
    for spec in (TMF621_V4, TMF678_V4, MEF141_V2):
        assert (official_schemas / spec).is_file()
