"""Validate instances against the schemas of the official API specifications.

The official documents (TMF637, TMF621 and TMF678 v4 swagger 2.0; MEF 116 v7 and MEF 141 v2
OpenAPI 3.0) are loaded unmodified from the standards folder, adapted to JSON Schema draft 4 in
memory, and cached. ``validate_response_against_document`` checks a body against the response
of an operation of one of our own ``openapi/`` documents, the same way.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT4

__all__ = [
    "MEF116_V7",
    "MEF141_V2",
    "TMF621_V4",
    "TMF637_V4",
    "TMF678_V4",
    "StandardsNotFound",
    "UnknownResponse",
    "UnknownSchema",
    "standards_dir",
    "validate_against",
    "validate_against_document",
    "validate_mef116_error",
    "validate_mef116_product",
    "validate_mef116_product_list_item",
    "validate_mef141_customer_bill",
    "validate_mef141_customer_bill_item",
    "validate_mef141_customer_bill_list_item",
    "validate_mef141_error",
    "validate_response_against_document",
    "validate_tmf621_trouble_ticket",
    "validate_tmf637_product",
    "validate_tmf678_applied_customer_billing_rate",
    "validate_tmf678_customer_bill",
    "validate_tmf678_customer_bill_on_demand",
    "validate_tmf_error",
]

TMF637_V4 = "tmf/TMF637-ProductInventory-v4.0.0.swagger.json"
TMF621_V4 = "tmf/TMF621-TroubleTicket-v4.0.0.swagger.json"
TMF678_V4 = "tmf/TMF678-CustomerBill-v4.0.0.swagger.json"
MEF116_V7 = "mef-sonata-grace/productApi_inventory_productInventoryManagement.api.yaml"
MEF141_V2 = "mef-sonata-grace/productApi_billing_billingManagement.api.yaml"

_ENV_DIR = "PANTHER_STANDARDS_DIR"
_MAX_REPORTED_ERRORS = 5


@dataclass(frozen=True)
class StandardsNotFound(FileNotFoundError):
    """The standards folder (or a file in it) is not where we looked."""

    looked_at: str

    def __str__(self) -> str:
        return (
            f"official API specifications not found at {self.looked_at}; "
            f"set {_ENV_DIR} to the folder holding tmf/ and mef-sonata-grace/"
        )


@dataclass(frozen=True)
class UnknownSchema(KeyError):
    """The named schema is not defined in the official document."""

    spec_file: str
    schema_name: str

    def __str__(self) -> str:
        return f"{self.spec_file} defines no schema named {self.schema_name!r}"


@dataclass(frozen=True)
class UnknownResponse(KeyError):
    """The document has no such operation, or it declares no body for that status."""

    document: str
    operation_id: str
    status: int
    media_type: str

    def __str__(self) -> str:
        return (
            f"{self.document}: operation {self.operation_id!r} declares no {self.media_type} "
            f"body for status {self.status}"
        )


def standards_dir() -> Path | None:
    """The folder holding the official specifications, or None when it is absent.

    ``PANTHER_STANDARDS_DIR`` wins; otherwise ``<repo root>/../shared/standards``.
    """
    configured = os.environ.get(_ENV_DIR)
    candidate = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[1].parent / "shared" / "standards"
    )
    return candidate if candidate.is_dir() else None


def validate_tmf637_product(instance: Any) -> None:
    """Validate a TMF637 v4 ``Product`` (as returned by list, retrieve, create, patch)."""
    validate_against(TMF637_V4, "Product", instance)


def validate_tmf_error(instance: Any) -> None:
    """Validate a TMF630 ``Error`` body, as TMF637 v4 defines it."""
    validate_against(TMF637_V4, "Error", instance)


def validate_mef116_product(instance: Any) -> None:
    """Validate a MEF 116 v7 ``MEFProduct`` (the body of ``GET /product/{id}``)."""
    validate_against(MEF116_V7, "MEFProduct", instance)


def validate_mef116_product_list_item(instance: Any) -> None:
    """Validate a MEF 116 v7 ``MEFProduct_Find`` (one item of ``GET /product``)."""
    validate_against(MEF116_V7, "MEFProduct_Find", instance)


def validate_mef116_error(status: int, instance: Any) -> None:
    """Validate a MEF error body for an HTTP status (422 bodies are arrays of Error422)."""
    if status == 422:
        validate_against(MEF116_V7, "Error422", instance, as_array=True)
    else:
        validate_against(MEF116_V7, f"Error{status}", instance)


def validate_tmf621_trouble_ticket(instance: Any) -> None:
    """Validate a TMF621 v4 ``TroubleTicket`` (as returned by list, retrieve, create, patch)."""
    validate_against(TMF621_V4, "TroubleTicket", instance)


def validate_tmf678_customer_bill(instance: Any) -> None:
    """Validate a TMF678 v4 ``CustomerBill`` (as returned by list, retrieve, patch)."""
    validate_against(TMF678_V4, "CustomerBill", instance)


def validate_tmf678_applied_customer_billing_rate(instance: Any) -> None:
    """Validate a TMF678 v4 ``AppliedCustomerBillingRate`` (one line of a bill)."""
    validate_against(TMF678_V4, "AppliedCustomerBillingRate", instance)


def validate_tmf678_customer_bill_on_demand(instance: Any) -> None:
    """Validate a TMF678 v4 ``CustomerBillOnDemand`` (as returned by create, list, retrieve)."""
    validate_against(TMF678_V4, "CustomerBillOnDemand", instance)


def validate_mef141_customer_bill(instance: Any) -> None:
    """Validate a MEF 141 v2 ``CustomerBill``.

    MEF 141 2.0.0 declares the body of ``GET /customerBill/{id}`` as an array of them: validate
    each element (or the whole body with ``validate_against(..., as_array=True)``).
    """
    validate_against(MEF141_V2, "CustomerBill", instance)


def validate_mef141_customer_bill_list_item(instance: Any) -> None:
    """Validate a MEF 141 v2 ``CustomerBill_Find`` (one item of ``GET /customerBill``)."""
    validate_against(MEF141_V2, "CustomerBill_Find", instance)


def validate_mef141_customer_bill_item(instance: Any) -> None:
    """Validate a MEF 141 v2 ``CustomerBillItem`` (an element of ``GET /customerBillItem/{id}``)."""
    validate_against(MEF141_V2, "CustomerBillItem", instance)


def validate_mef141_error(status: int, instance: Any) -> None:
    """Validate a MEF 141 error body for an HTTP status (``Error400`` ... ``Error501``)."""
    validate_against(MEF141_V2, f"Error{status}", instance)


def validate_against(
    spec_file: str, schema_name: str, instance: Any, *, as_array: bool = False
) -> None:
    """Validate ``instance`` against a named schema of an official specification.

    ``spec_file`` is relative to the standards folder (``TMF637_V4``, ``MEF116_V7``); the
    schema is looked up in swagger 2 ``definitions`` or OpenAPI 3 ``components/schemas``.
    With ``as_array`` the instance must be an array of that schema. Raises
    ``jsonschema.ValidationError`` naming the schema, the file and every failing location
    (up to five), ``StandardsNotFound`` or ``UnknownSchema``.
    """
    _validate(_spec_path(spec_file), spec_file, schema_name, instance, as_array)


def validate_against_document(
    path: Path, schema_name: str, instance: Any, *, as_array: bool = False
) -> None:
    """``validate_against`` for any OpenAPI or swagger file, e.g. our own ``openapi/`` ones."""
    if not path.is_file():
        raise StandardsNotFound(str(path))
    _validate(path, path.name, schema_name, instance, as_array)


def validate_response_against_document(
    path: Path,
    operation_id: str,
    status: int,
    instance: Any,
    *,
    media_type: str = "application/json",
) -> None:
    """Validate ``instance`` as the ``status`` response body of an operation of an OpenAPI 3
    document (one of our ``openapi/`` ones), following ``$ref``s to shared responses.

    Raises ``jsonschema.ValidationError`` like ``validate_against``, ``StandardsNotFound`` for a
    missing file, ``UnknownResponse`` when the operation declares no such body.
    """
    if not path.is_file():
        raise StandardsNotFound(str(path))
    resolved = path.resolve()
    pointer = _response_pointer(resolved, operation_id, status, media_type)
    if pointer is None:
        raise UnknownResponse(path.name, operation_id, status, media_type)
    validator = _pointer_validator(resolved, pointer)
    _report(validator, instance, f"{operation_id} {status} response", path.name)


_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@lru_cache(maxsize=256)
def _response_pointer(path: Path, operation_id: str, status: int, media_type: str) -> str | None:
    document = _load_document(path)
    for route, item in document.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if not isinstance(operation, dict) or operation.get("operationId") != operation_id:
                continue
            responses = operation.get("responses", {})
            key = str(status) if str(status) in responses else None
            if key is None:
                return None
            pointer = f"#/paths/{_escape(route)}/{method}/responses/{key}"
            response = responses[key]
            while isinstance(response, dict) and "$ref" in response:
                pointer = response["$ref"]
                response = _resolve_local(document, pointer)
            content = response.get("content", {}) if isinstance(response, dict) else {}
            if media_type not in content or "schema" not in content[media_type]:
                return None
            return f"{pointer}/content/{_escape(media_type)}/schema"
    return None


def _resolve_local(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for token in pointer.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _validate(path: Path, label: str, schema_name: str, instance: Any, as_array: bool) -> None:
    validator = _validator(path.resolve(), label, schema_name, as_array)
    target = f"array of {schema_name}" if as_array else schema_name
    _report(validator, instance, target, label)


def _report(validator: _BoundValidator, instance: Any, target: str, label: str) -> None:
    errors = sorted((_explain(e) for e in validator.iter_errors(instance)), key=_location)
    if not errors:
        return
    first = errors[0]
    lines = [f"{_location(e)}: {e.message}" for e in errors[:_MAX_REPORTED_ERRORS]]
    if len(errors) > _MAX_REPORTED_ERRORS:
        lines.append(f"... and {len(errors) - _MAX_REPORTED_ERRORS} more")
    message = f"not a valid {target} ({label}):\n  " + "\n  ".join(lines)
    raise ValidationError(
        message,
        validator=first.validator,
        path=first.absolute_path,
        schema_path=first.absolute_schema_path,
        instance=first.instance,
        validator_value=first.validator_value,
        cause=first.cause,
    )


def _explain(error: ValidationError) -> ValidationError:
    """For a nullable property, the error of the non-null branch says what is wrong."""
    if error.validator != "anyOf" or not isinstance(error.schema, dict):
        return error
    if not error.schema.get(_NULLABLE_MARK):
        return error
    branches = [e for e in error.context or [] if e.schema_path and e.schema_path[0] == 1]
    best = best_match(branches)
    return error if best is None else _explain(best)


def _location(error: ValidationError) -> str:
    location = "$"
    for part in error.absolute_path:
        location += f"[{part}]" if isinstance(part, int) else f".{part}"
    return location


def _spec_path(spec_file: str) -> Path:
    root = standards_dir()
    if root is None:
        configured = os.environ.get(_ENV_DIR)
        raise StandardsNotFound(configured or "<repo root>/../shared/standards")
    path = root / spec_file
    if not path.is_file():
        raise StandardsNotFound(str(path))
    return path


@lru_cache(maxsize=16)
def _load_document(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    adapted: dict[str, Any] = _adapt(raw)
    return adapted


def _schemas_of(document: dict[str, Any]) -> dict[str, Any]:
    if "definitions" in document:
        definitions: dict[str, Any] = document["definitions"]
        return definitions
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    return schemas


def _pointer_prefix(document: dict[str, Any]) -> str:
    return "#/definitions/" if "definitions" in document else "#/components/schemas/"


# Marks the anyOf that stands for ``nullable``, so errors can be reported on the real schema.
_NULLABLE_MARK = "x-panther-nullable"

# Keys whose values are data, not schemas: adapting them would change the data.
_DATA_KEYS = frozenset({"example", "examples", "default", "x-examples"})


def _adapt(node: Any) -> Any:
    """Turn OpenAPI schema dialect into draft 4 JSON Schema the validator understands.

    - ``nullable: true`` (OAS 3) and ``x-nullable: true`` (swagger 2) become ``anyOf`` null;
    - enum strings lose surrounding blanks: TMF637 v4 publishes ``"aborted "``, an erratum.
    """
    if isinstance(node, list):
        return [_adapt(item) for item in node]
    if not isinstance(node, dict):
        return node
    adapted: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DATA_KEYS or key.startswith("x-"):
            adapted[key] = value
        elif key == "enum" and isinstance(value, list):
            adapted[key] = [v.strip() if isinstance(v, str) else v for v in value]
        else:
            adapted[key] = _adapt(value)
    nullable = adapted.pop("nullable", None) is True or adapted.pop("x-nullable", None) is True
    if nullable:
        return {"anyOf": [{"type": "null"}, adapted], _NULLABLE_MARK: True}
    return adapted


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Our own checker so the result does not depend on which optional format packages are
# installed: dates and date-times are what the carriers get wrong, so those are checked.
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


@_FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    date.fromisoformat(value)
    return True


# Discriminator dispatch is re-entrant (a subclass is ``allOf`` its base, which carries the
# discriminator again): remember which (instance, target) pairs are being validated.
_in_progress = threading.local()


def _discriminator(
    validator: Validator, discriminator: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """OpenAPI ``discriminator``: also validate against the schema the property names.

    A value naming no schema of the document is accepted on the base schema alone: MEF
    defines ``MEFProductConfiguration`` subclasses in separate product specifications.
    """
    if not isinstance(instance, dict) or not isinstance(discriminator, dict):
        return
    value = instance.get(discriminator.get("propertyName", ""))
    if not isinstance(value, str):
        return
    context: _Document | None = getattr(_in_progress, "document", None)
    if context is None:
        return
    mapping = discriminator.get("mapping") or {}
    target = mapping.get(value) or f"{context.prefix}{value}"
    reference = f"{context.uri}{target}" if target.startswith("#") else target
    try:
        context.registry.resolver().lookup(reference)
    except Unresolvable:  # a name we cannot resolve is "not a known subclass", not an error
        return
    active: set[tuple[int, str]] = getattr(_in_progress, "active", set())
    _in_progress.active = active
    key = (id(instance), reference)
    if key in active:
        return
    active.add(key)
    try:
        yield from validator.descend(instance, {"$ref": reference})
    finally:
        active.discard(key)


_OpenApiValidator = validators.extend(Draft4Validator, {"discriminator": _discriminator})


@dataclass(frozen=True)
class _Document:
    uri: str
    prefix: str
    registry: Registry[Any]


@dataclass(frozen=True)
class _BoundValidator:
    """A validator that sets the document context the discriminator keyword needs."""

    inner: Validator
    document: _Document

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        previous = getattr(_in_progress, "document", None)
        _in_progress.document = self.document
        try:
            yield from self.inner.iter_errors(instance)
        finally:
            _in_progress.document = previous


@lru_cache(maxsize=128)
def _validator(path: Path, label: str, schema_name: str, as_array: bool) -> _BoundValidator:
    document = _load_document(path)
    if schema_name not in _schemas_of(document):
        raise UnknownSchema(label, schema_name)
    return _bind(path, document, f"{_pointer_prefix(document)}{schema_name}", as_array)


@lru_cache(maxsize=256)
def _pointer_validator(path: Path, pointer: str) -> _BoundValidator:
    return _bind(path, _load_document(path), pointer, False)


def _bind(path: Path, document: dict[str, Any], pointer: str, as_array: bool) -> _BoundValidator:
    uri = f"urn:panther:spec:{path.as_posix()}"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource(contents=document, specification=DRAFT4)
    )
    reference: dict[str, Any] = {"$ref": f"{uri}{pointer}"}
    schema = {"type": "array", "items": reference} if as_array else reference
    inner = _OpenApiValidator(schema, registry=registry, format_checker=_FORMATS)
    return _BoundValidator(inner, _Document(uri, _pointer_prefix(document), registry))
