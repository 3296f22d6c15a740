"""The composed ports of the running app, reachable from connexion's module-level handlers."""

from __future__ import annotations

from typing import Any

from .services.context import Caller
from .services.errors import Unauthorized
from .services.ports import Ports
from .services.verification_jobs import VerificationJobs

__all__ = ["caller", "install", "ports", "verification_jobs"]

_ports: Ports | None = None
_jobs = VerificationJobs()


def install(value: Ports) -> None:
    global _ports, _jobs
    _ports = value
    _jobs = VerificationJobs()


def verification_jobs() -> VerificationJobs:
    """The ledger verification jobs of the app installed last."""
    return _jobs


def ports() -> Ports:
    if _ports is None:
        raise RuntimeError("the app is not composed; call server.app.create_app first")
    return _ports


def caller(token_info: dict[str, Any] | None) -> Caller:
    if not token_info or "caller" not in token_info:
        raise Unauthorized("a bearer token is required")
    value = token_info["caller"]
    assert isinstance(value, Caller)
    return value
