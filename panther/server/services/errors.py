"""Errors the use cases raise; ``server/errors.py`` maps each to its HTTP status and body.

ServiceError
 ├── NotFound            404 (also whatever the caller may not see)
 ├── Forbidden           403 (seen, but not theirs to change)
 ├── Unauthorized        401
 ├── Conflict            409
 ├── PreconditionFailed  412
 ├── InvalidInput        400 / 422 (with per-record details)
 ├── TooManyPending      422 (a cap on what awaits the partner is reached)
 ├── PayloadTooLarge     413
 ├── UnsupportedMedia    415
 └── Unavailable         503
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "ServiceError",
    "TooManyPending",
    "Unauthorized",
    "Unavailable",
    "UnsupportedMedia",
]


@dataclass
class ServiceError(Exception):
    message: str
    status = 500
    code = "internalError"

    def __str__(self) -> str:
        return self.message


@dataclass
class NotFound(ServiceError):
    status = 404
    code = "notFound"


@dataclass
class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


@dataclass
class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


@dataclass
class Conflict(ServiceError):
    status = 409
    code = "conflict"


@dataclass
class PreconditionFailed(ServiceError):
    status = 412
    code = "preconditionFailed"


@dataclass
class InvalidInput(ServiceError):
    details: list[dict[str, Any]] = field(default_factory=list)
    status_code: int = 422
    truncated: bool = False
    # Shown beside ``details`` (an upload's problems counted by kind: ``problemCounts``...)
    summary: dict[str, Any] | None = None
    code = "invalidInput"

    @property
    def status(self) -> int:  # type: ignore[override]
        return self.status_code


@dataclass
class TooManyPending(ServiceError):
    """422, not 429: the limit is on what awaits the partner, not on a rate, so waiting does
    not lift it (a 429 invites retries after a delay that would fail the same way); the
    partner's agreement does."""

    status = 422
    code = "tooManyPending"


@dataclass
class PayloadTooLarge(ServiceError):
    status = 413
    code = "payloadTooLarge"


@dataclass
class UnsupportedMedia(ServiceError):
    status = 415
    code = "unsupportedMediaType"


@dataclass
class Unavailable(ServiceError):
    status = 503
    code = "serviceUnavailable"
