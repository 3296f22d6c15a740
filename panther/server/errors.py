"""One place where every failure becomes the error body of the standard the path belongs to.

TMF and our ``/panther/v1`` extension: TMF630 ``Error``; MEF Sonata: MEF ``Error`` (422 as an
array); ``/oauth/token``: RFC 6749. Nothing here echoes request bodies back.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import orjson
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from panther.ledger.errors import (
    ConflictError,
    InvalidSignature,
    InvalidTransaction,
    LedgerError,
    LedgerUnavailable,
    PolicyViolation,
    UnknownParty,
)

from .services.errors import InvalidInput, ServiceError

__all__ = ["error_response", "path_pattern", "register_error_handlers"]

log = logging.getLogger("panther")

_MEF_CODES = {
    400: "invalidBody",
    401: "invalidCredentials",
    403: "accessDenied",
    404: "notFound",
    409: "conflict",
    422: "invalidValue",
    429: "tooManyRequests",
    500: "internalError",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_response(
    path: str,
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    summary: dict[str, Any] | None = None,
) -> ConnexionResponse:
    message = message[:2000]
    body: Any
    if path.startswith("/oauth/"):
        oauth_code = {
            401: "invalid_client",
            403: "invalid_scope",
            429: "temporarily_unavailable",
        }.get(status, "invalid_request")
        body = {"error": oauth_code, "error_description": message}
    elif path.startswith("/mefApi/"):
        if status == 422:
            body = [
                {
                    "code": "invalidValue",
                    "reason": _reason(status),
                    "message": message,
                    "propertyPath": (d or {}).get("pointer", ""),
                }
                for d in (details or [{}])
            ]
        else:
            body = {
                "code": _MEF_CODES.get(status, "internalError"),
                "reason": _reason(status),
                "message": message,
            }
    else:
        body = {
            "code": code or str(status),
            "reason": _reason(status),
            "message": message,
            "status": str(status),
            "@type": "Error",
        }
        if details:
            body["details"] = details
        if summary:
            body.update(summary)
    return ConnexionResponse(
        status_code=status,
        body=orjson.dumps(body),
        content_type="application/json",
        headers=headers or {},
    )


def _path(request: ConnexionRequest) -> str:
    return str(request.url.path)


def _service_error_handler(
    without_422: list[tuple[re.Pattern[str], str]],
) -> Any:
    async def _service_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, ServiceError)
        details = exc.details if isinstance(exc, InvalidInput) else None
        summary = exc.summary if isinstance(exc, InvalidInput) else None
        if isinstance(exc, InvalidInput) and exc.truncated and details is not None:
            more = "more problems were found; the list is capped"
            if summary and "problemCount" in summary:
                more += f" ({summary['problemCount']} in all, counted by kind in problemCounts)"
            details = [*details, {"message": more}]
        path, status = _path(request), exc.status
        # An operation whose standard declares no 422 (MEF 141's hub) says 400 for the same.
        if status == 422 and any(p.match(path) and m == request.method for p, m in without_422):
            status = 400
        return error_response(
            path, status, str(exc), code=exc.code, details=details, summary=summary
        )

    return _service_error


async def _problem(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    status = exc.status or 500
    message = str(exc.detail or exc.title or _reason(status))
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="stone-panther"')
    return error_response(_path(request), status, message, headers=headers)


async def _bad_encoding(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    return error_response(
        _path(request), 400, f"the request body is not valid: {type(exc).__name__}"
    )


async def _integrity(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    # Two writers raced for the same unique thing (a report version, a party id): the loser's
    # transaction was rolled back whole, so retrying is safe.
    log.info("integrity conflict on %s: %s", _path(request), exc)
    return error_response(
        _path(request), 409, "a concurrent change got there first; nothing was applied, retry"
    )


_LEDGER_STATUS = {
    LedgerUnavailable: 503,
    ConflictError: 409,
    PolicyViolation: 422,
    InvalidSignature: 422,
    UnknownParty: 422,
    InvalidTransaction: 422,
}


async def _ledger_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    # The ledger refused or could not take the transaction; the business write that
    # carried it was in the same transaction and rolled back with it.
    status = next((code for kind, code in _LEDGER_STATUS.items() if isinstance(exc, kind)), 500)
    if status == 500:
        log.error("ledger error on %s: %r", _path(request), exc)
    return error_response(
        _path(request),
        status,
        f"ledger: {exc}; nothing was recorded",
        headers={"Retry-After": "5"} if status == 503 else None,
    )


async def _unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.exception("unhandled error on %s", _path(request), exc_info=exc)
    return error_response(_path(request), 500, "internal error; the request was not applied")


def path_pattern(base: str, template: str) -> re.Pattern[str]:
    """The paths of a document's path template (``{id}`` is one segment)."""
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(base + template))
    return re.compile(f"^{pattern}/?$")


def _route_methods(apis: list[tuple[str, dict[str, Any]]]) -> list[tuple[re.Pattern[str], str]]:
    """(path pattern, "GET, POST") for every path of every document, for ``Allow``."""
    out = []
    for base, spec in apis:
        for template, item in spec.get("paths", {}).items():
            methods = [
                m.upper()
                for m in item
                if m in ("get", "put", "post", "delete", "patch", "options", "head", "trace")
            ]
            out.append((path_pattern(base, template), ", ".join(methods)))
    return out


def _without_422(apis: list[tuple[str, dict[str, Any]]]) -> list[tuple[re.Pattern[str], str]]:
    """(path pattern, method) of every operation that declares neither 422 nor a default
    response (MEF 141's hub declares 400 only)."""
    out = []
    for base, spec in apis:
        for template, item in spec.get("paths", {}).items():
            for method, op in item.items():
                if isinstance(op, dict) and not {"422", 422, "4XX", "default"} & set(
                    op.get("responses", {"default": 0})
                ):
                    out.append((path_pattern(base, template), method.upper()))
    return out


def register_error_handlers(app: Any, apis: list[tuple[str, dict[str, Any]]]) -> None:
    routes = _route_methods(apis)

    async def _http_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        status = int(getattr(exc, "status_code", 500))
        path = _path(request)
        if status == 405:
            allow = next((m for p, m in routes if p.match(path)), "")
            return error_response(
                path, 405, f"{request.method} is not allowed here", headers={"Allow": allow}
            )
        if status == 404:
            return error_response(path, 404, f"no resource at {path}")
        return error_response(path, status, str(getattr(exc, "detail", "") or _reason(status)))

    app.add_error_handler(StarletteHTTPException, _http_error)
    app.add_error_handler(ServiceError, _service_error_handler(_without_422(apis)))
    app.add_error_handler(IntegrityError, _integrity)
    app.add_error_handler(LedgerError, _ledger_error)
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(UnicodeDecodeError, _bad_encoding)
    app.add_error_handler(RecursionError, _bad_encoding)
    app.add_error_handler(Exception, _unexpected)
