"""The composed ports of the running app, reachable from connexion's module-level handlers."""

from __future__ import annotations

from typing import Any

from .services.context import Caller
from .services.errors import Unauthorized
from .services.ports import Ports

__all__ = ["caller", "install", "ports"]

_ports: Ports | None = None


def install(value: Ports) -> None:
    global _ports
    _ports = value


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
