"""Our OpenAPI documents: valid OAS 3, the agreed operations, faithful ports of the standards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi

from conformance.official import (
    MEF116_V7,
    TMF637_V4,
    validate_against,
    validate_against_document,
)

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"
TMF_DOC = OPENAPI / "tmf637-product-inventory-v4.yaml"
MEF_DOC = OPENAPI / "mef116-product-inventory-v7.yaml"

# Our schema name -> the official one, where they differ.
TMF_RENAMES = {"ProductCreate": "Product_Create", "ProductUpdate": "Product_Update"}
# Schemas that are ours alone.
TMF_OWN = {"PartnerRelatedParty"}
MEF_OWN = {"PantherProductConfiguration"}
# Properties we add to (+) or remove from (-) an official TMF schema, each documented in the
# schema's description.
TMF_PROPERTY_DEVIATIONS = {
    "Product": ({"externalId"}, set()),
    "ProductCreate": ({"id", "externalId"}, set()),
    "ProductUpdate": ({"externalId"}, {"relatedParty"}),
}
METHODS = {"get", "put", "post", "patch", "delete"}


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


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


def official_tmf() -> dict[str, Any]:
    from conformance.official import standards_dir

    root = standards_dir()
    assert root is not None
    document: dict[str, Any] = json.loads((root / TMF637_V4).read_text(encoding="utf-8"))
    return document


def official_mef() -> dict[str, Any]:
    from conformance.official import standards_dir

    root = standards_dir()
    assert root is not None
    return load(root / MEF116_V7)


@pytest.mark.parametrize("path", [TMF_DOC, MEF_DOC], ids=lambda p: p.name)
def test_document_is_valid_openapi_3(path: Path) -> None:
    document = load(path)
    assert document["openapi"].startswith("3.0.")
    validate_openapi(document)


def test_tmf637_operations() -> None:
    document = load(TMF_DOC)
    assert document["servers"] == [{"url": "/tmf-api/productInventory/v4"}]
    found = {(path, method): op["operationId"] for path, method, op in operations(document)}
    assert found == {
        ("/product", "get"): "listProduct",
        ("/product", "post"): "createProduct",
        ("/product/{id}", "get"): "retrieveProduct",
        ("/product/{id}", "patch"): "patchProduct",
        ("/product/{id}", "delete"): "deleteProduct",
        ("/hub", "post"): "registerListener",
        ("/hub/{id}", "delete"): "unregisterListener",
    }
    listing = document["paths"]["/product"]["get"]
    names = [resolve(document, p)["name"] for p in listing["parameters"]]
    assert names == [
        "fields", "offset", "limit", "id", "status", "externalId", "name",
        "productOffering.id", "relatedParty.id",
    ]  # fmt: skip
    limit = resolve(document, listing["parameters"][2])["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 1000)
    assert set(listing["responses"]["200"]["headers"]) == {"X-Total-Count", "X-Result-Count"}
    patch = document["paths"]["/product/{id}"]["patch"]["requestBody"]["content"]
    assert set(patch) == {"application/merge-patch+json", "application/json"}
    create = resolve(document, {"$ref": "#/components/schemas/ProductCreate"})
    assert set(create["required"]) == {"id", "status", "relatedParty"}
    product = resolve(document, {"$ref": "#/components/schemas/Product"})
    assert set(product["required"]) <= {"id", "href"}


def test_tmf637_errors_are_tmf630_error_bodies() -> None:
    document = load(TMF_DOC)
    for path, method, op in operations(document):
        codes = {int(code) for code in op["responses"] if int(code) >= 400}
        assert {400, 401, 403, 405, 422, 500} <= codes, (path, method)
        for code in codes:
            response = resolve(document, op["responses"][str(code)])
            assert list(response["content"]) == ["application/json"]
            assert response["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }


def test_mef116_operations() -> None:
    document = load(MEF_DOC)
    assert document["servers"] == [{"url": "/mefApi/sonata/productInventory/v7"}]
    found = {(path, method): op["operationId"] for path, method, op in operations(document)}
    assert found == {
        ("/product", "get"): "listProduct",
        ("/product/{id}", "get"): "retrieveProduct",
    }
    listing = document["paths"]["/product"]["get"]
    assert [p["name"] for p in listing["parameters"]] == [
        "buyerId", "sellerId", "status", "productOfferingId", "productSpecificationId",
        "externalId", "offset", "limit",
    ]  # fmt: skip
    ok = listing["responses"]["200"]
    assert set(ok["headers"]) == {"X-Total-Count", "X-Result-Count", "X-Pagination-Throttled"}
    assert ok["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/MEFProduct_Find"
    }
    unprocessable = listing["responses"]["422"]["content"]["application/json"]["schema"]
    assert unprocessable == {"type": "array", "items": {"$ref": "#/components/schemas/Error422"}}
    retrieve = document["paths"]["/product/{id}"]["get"]
    assert [p["name"] for p in retrieve["parameters"]] == ["id", "buyerId", "sellerId"]
    for code in ("400", "401", "403", "404", "500"):
        schema = retrieve["responses"][code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/Error{code}"}


@pytest.mark.parametrize("path", [TMF_DOC, MEF_DOC], ids=lambda p: p.name)
def test_oauth2_client_credentials_with_scopes(path: Path) -> None:
    document = load(path)
    scheme = document["components"]["securitySchemes"]["oauth2"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert scheme["x-tokenInfoFunc"] == "panther.server.auth.token_info"
    assert scheme["x-scopeValidateFunc"] == "panther.server.auth.validate_scope"
    declared = set(scheme["flows"]["clientCredentials"]["scopes"])
    for _, method, op in operations(document):
        (requirement,) = op["security"]
        (scopes,) = requirement.values()
        assert set(scopes) <= declared
        expected = "inventory:write" if method in {"post", "patch", "delete"} else "inventory:read"
        if op["operationId"] in {"registerListener", "unregisterListener"}:
            expected = "inventory:read"  # subscribing to events is reading them
        assert scopes == [expected], op["operationId"]


def _strip(node: Any, keys: frozenset[str]) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v, keys) for k, v in node.items() if k not in keys}
    if isinstance(node, list):
        return [_strip(v, keys) for v in node]
    return node


@pytest.mark.usefixtures("official_schemas")
def test_mef116_schemas_are_the_official_ones() -> None:
    ours = load(MEF_DOC)["components"]["schemas"]
    official = official_mef()["components"]["schemas"]
    assert set(ours) - MEF_OWN == set(official)
    for name, schema in official.items():
        assert _strip(ours[name], frozenset({"example"})) == schema, name


@pytest.mark.usefixtures("official_schemas")
def test_tmf637_schemas_are_faithful_ports() -> None:
    ours = load(TMF_DOC)["components"]["schemas"]
    official = official_tmf()["definitions"]
    for name, schema in ours.items():
        if name in TMF_OWN:
            continue
        original = official[TMF_RENAMES.get(name, name)]
        added, removed = TMF_PROPERTY_DEVIATIONS.get(name, (set(), set()))
        properties = set(schema.get("properties", {}))
        assert properties == (set(original.get("properties", {})) | added) - removed, name
        ignore = frozenset({"description", "nullable", "example"})
        for prop in properties - added:
            if name == "ProductCreate" and prop == "relatedParty":
                continue  # narrowed to the partner, documented
            mine = json.dumps(_strip(schema["properties"][prop], ignore))
            theirs = _strip(original["properties"][prop], ignore)
            for old, new in TMF_RENAMES.items():
                mine = mine.replace(f'/schemas/{old}"', f'/schemas/{new}"')
            theirs_text = json.dumps(theirs).replace("#/definitions/", "#/components/schemas/")
            assert mine == theirs_text, f"{name}.{prop}"


def _examples(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, schema in document["components"]["schemas"].items():
        if "example" in schema:
            yield name, schema["example"]


@pytest.mark.usefixtures("official_schemas")
def test_tmf637_examples_validate_against_ours_and_the_official_schema() -> None:
    examples = dict(_examples(load(TMF_DOC)))
    assert {"Product", "ProductCreate", "ProductUpdate", "Error"} <= set(examples)
    for name, example in examples.items():
        validate_against_document(TMF_DOC, name, example)
        validate_against(TMF637_V4, TMF_RENAMES.get(name, name), example)


@pytest.mark.usefixtures("official_schemas")
def test_mef116_examples_validate_against_ours_and_the_official_schema() -> None:
    examples = dict(_examples(load(MEF_DOC)))
    assert {"MEFProduct", "MEFProduct_Find"} <= set(examples)
    for name, example in examples.items():
        validate_against_document(MEF_DOC, name, example)
        validate_against(MEF116_V7, name, example)


# ---- rate limits ----

WRITES = {"put", "post", "patch", "delete"}


@pytest.mark.parametrize("path", sorted(OPENAPI.glob("*.yaml")), ids=lambda p: p.name)
def test_every_write_documents_its_429_with_retry_after(path: Path) -> None:
    """Writes are rate limited per client, token requests per address (server/throttle.py):
    each such operation declares 429 with Retry-After and the body the server sends, which
    is the document's own error body."""
    from conformance.official import validate_response_against_document
    from panther.server.errors import error_response

    document = load(path)
    base = document["servers"][0]["url"]
    writes = [(r, op) for r, method, op in operations(document) if method in WRITES]
    for route, op in writes:
        assert "429" in op["responses"], (path.name, route)
        response = resolve(document, op["responses"]["429"])
        retry = response["headers"]["Retry-After"]
        assert retry["schema"] == {"type": "integer", "minimum": 1}, (path.name, route)
        sent = error_response(base + route, 429, "slow down", headers={"Retry-After": "3"})
        body = json.loads(bytes(sent.body))
        validate_response_against_document(path, op["operationId"], 429, body)
