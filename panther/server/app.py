"""The ASGI app: the OpenAPI documents in ``openapi/`` wired to thin handlers."""

from __future__ import annotations

import copy
import functools
import json
import logging
import typing as t
from pathlib import Path

import connexion
import yaml
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.middleware import MiddlewarePosition
from connexion.resolver import RelativeResolver
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator
from starlette.types import ASGIApp, Receive, Scope, Send

from panther.ledger.canonical import (
    MAX_JSON_VALUES,
    MAX_STRING_CHARS,
    exact_float,
    not_kept_exactly,
)

from . import state
from .errors import register_error_handlers
from .idempotency import IdempotencyKeys, idempotent_operations
from .services.errors import InvalidInput
from .services.ports import Ports
from .settings import Settings
from .throttle import RateLimit, send_error

__all__ = ["OPENAPI_DIR", "APIS", "create_app"]

OPENAPI_DIR = Path(__file__).resolve().parents[2] / "openapi"
if not OPENAPI_DIR.is_dir():  # installed without the source tree: documents ship as data
    OPENAPI_DIR = Path(__file__).resolve().parent / "openapi"

# (document, base path, handler module)
APIS = (
    ("oauth.yaml", "/oauth", "panther.server.handlers.oauth"),
    ("panther-v1.yaml", "/panther/v1", "panther.server.handlers.panther"),
    (
        "tmf637-product-inventory-v4.yaml",
        "/tmf-api/productInventory/v4",
        "panther.server.handlers.tmf637",
    ),
    (
        "mef116-product-inventory-v7.yaml",
        "/mefApi/sonata/productInventory/v7",
        "panther.server.handlers.mef116",
    ),
    (
        "tmf678-customer-bill-v4.yaml",
        "/tmf-api/customerBillManagement/v4",
        "panther.server.handlers.tmf678",
    ),
    (
        "mef141-customer-bill-v2.yaml",
        "/mefApi/sonata/customerBillManagement/v2",
        "panther.server.handlers.mef141",
    ),
    (
        "tmf621-trouble-ticket-v4.yaml",
        "/tmf-api/troubleTicket/v4",
        "panther.server.handlers.tmf621",
    ),
)


class _JSONBody(JSONRequestBodyValidator):  # type: ignore[misc]  # connexion is untyped: Any base
    """connexion's JSON validator, minus its 500s, and hands-off for bulk uploads.

    Bulk inventory uploads (schemas marked ``x-panther-raw``) are parsed and validated by
    the report parser, which reports every bad record rather than the first.
    """

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        if self._schema.get("x-panther-raw"):
            return receive, scope
        wrapped: tuple[Receive, Scope] = await super().wrap_receive(receive, scope=scope)
        return wrapped

    def _validate(self, body: t.Any) -> dict[str, t.Any] | None:  # connexion's signature
        if body is None and not self._required:
            return None  # an optional body that was left out
        validated: dict[str, t.Any] | None = super()._validate(body)
        return validated

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            value = json.loads(
                raw.decode(self._encoding), parse_constant=_not_a_number, parse_float=exact_float
            )
        except UnicodeDecodeError as exc:
            raise BadRequestProblem(
                detail=f"body is not {self._encoding}: byte {exc.start}"
            ) from None
        except RecursionError:
            raise BadRequestProblem(detail="body is nested too deeply") from None
        except ValueError as exc:
            raise BadRequestProblem(detail=f"body is not JSON: {exc}") from None
        if value is None and not self._nullable:
            # `null` is not the optional body left out: it is a value the schema refuses.
            raise BadRequestProblem(detail="body is null: send a JSON object, or no body")
        # What is signed and stored must be what was sent: refuse what JSON cannot keep
        # exactly (and what would break every later read) before anything looks at it.
        problem = not_kept_exactly(value, max_string=MAX_STRING_CHARS, max_values=MAX_JSON_VALUES)
        if problem is not None:
            pointer, reason = problem
            raise InvalidInput(
                f"the body cannot be kept exactly as sent: {reason}",
                details=[{"pointer": pointer, "message": reason}],
            )
        return value


def _not_a_number(token: str) -> t.NoReturn:
    raise ValueError(f"{token} is not a JSON number")


def _validator_map() -> dict[str, t.Any]:
    body = MediaTypeDict(dict(VALIDATOR_MAP["body"]))
    body["*/*json"] = _JSONBody
    return {**VALIDATOR_MAP, "body": body}


class BodyLimit:
    """413 before anything reads a body over the limit (connexion has no limit of its own)."""

    def __init__(self, app: ASGIApp, *, max_json: int, max_upload: int) -> None:
        self.app, self.max_json, self.max_upload = app, max_json, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "DELETE"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.max_upload if path.endswith("/inventoryReport") else self.max_json
        length = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if length is not None and length.isdigit() and int(length) > limit:
            await self._reject(scope, send, limit)
            return
        # A body without Content-Length (chunked) is counted as it arrives. Past the limit the
        # 413 goes out at once and the app is told the client left; whatever it answers to
        # that is dropped (raising here instead reached connexion's handler as a 500).
        seen, rejected = 0, False

        async def limited() -> t.MutableMapping[str, t.Any]:
            nonlocal seen, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                rejected = True
                await self._reject(scope, send, limit)
                return {"type": "http.disconnect"}
            return message

        async def unless_rejected(message: t.MutableMapping[str, t.Any]) -> None:
            if not rejected:
                await send(message)

        try:
            await self.app(scope, limited, unless_rejected)
        except Exception:
            if not rejected:
                raise

    @staticmethod
    async def _reject(scope: Scope, send: Send, limit: int) -> None:
        message = f"request body over the limit of {limit} bytes"
        await send_error(send, scope.get("path", ""), 413, message)


class OpenAPIDocuments:
    """Serves ``<base>/openapi.json`` from the documents as written.

    connexion serves its ref-resolved copy, which cannot be encoded when a schema is
    recursive (TMF637's Product contains Products): it answered 500.
    """

    def __init__(self, app: ASGIApp, *, documents: dict[str, bytes]) -> None:
        self.app, self.documents = app, documents

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.documents.get(scope.get("path", "")) if scope["type"] == "http" else None
        if body is None or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": body if scope["method"] == "GET" else b""}
        )


@functools.cache
def _document(name: str) -> dict[str, t.Any]:
    """One OpenAPI document, parsed once a process with libyaml's loader: the pure-Python
    one took most of a server's start (about 10 of 17 s at load 9 for the seven documents,
    parsed twice); same safe subset, same result. Callers must not change it."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    parsed: dict[str, t.Any] = yaml.load((OPENAPI_DIR / name).read_text(), Loader=loader)
    return parsed


def create_app(
    settings: Settings | None = None, *, ports: Ports | None = None
) -> connexion.AsyncApp:
    """The app over ``ports`` (composed from ``settings`` by bootstrap when not given)."""
    # connexion warns on every request to an operation with several request media types
    # (our uploads take JSON, NDJSON and CSV by design); the warning carries no information.
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
    if ports is None:
        from .bootstrap import compose

        ports = compose(settings or Settings.from_env())
    state.install(ports)
    app = connexion.AsyncApp(__name__, specification_dir=str(OPENAPI_DIR))
    for document, base_path, module in APIS:
        app.add_api(
            copy.deepcopy(_document(document)),  # connexion may resolve references in place
            base_path=base_path,
            resolver=RelativeResolver(module),
            strict_validation=True,
            validate_responses=ports.settings.validate_responses,
            validator_map=_validator_map(),
            pythonic_params=True,
        )
    documents = [(base, _document(doc)) for doc, base, _ in APIS]
    register_error_handlers(app, documents)
    app.add_middleware(
        OpenAPIDocuments,
        position=MiddlewarePosition.BEFORE_SWAGGER,
        documents={
            f"{base}/openapi.json": json.dumps({**spec, "servers": [{"url": base}]}).encode()
            for base, spec in documents
        },
    )
    app.add_middleware(
        BodyLimit,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        max_json=ports.settings.max_json_bytes,
        max_upload=ports.settings.max_upload_bytes,
    )
    # Inside BodyLimit (a body it reads to compare with the first request's is bounded too),
    # outside the error handlers (it sees every final response, errors included).
    app.add_middleware(
        IdempotencyKeys,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        ports=ports,
        operations=idempotent_operations(documents),
    )
    app.add_middleware(
        RateLimit,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        limiter=ports.limiter,
        settings=ports.settings,
    )
    return app
