"""API fixtures: the real ASGI app behind httpx, and a world of carriers to act in it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from panther.server import state
from panther.server.app import create_app
from panther.server.services.context import Ports

from .world import World, build_world


@pytest.fixture(scope="session")
def asgi_app(ports: Ports) -> Any:
    return create_app(ports=ports)


@pytest.fixture
async def http(ports: Ports, asgi_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    state.install(ports)  # the session may hold apps of both backends
    transport = httpx.ASGITransport(app=asgi_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://panther.test", timeout=120
    ) as client:
        yield client


@pytest.fixture
async def world(http: httpx.AsyncClient, ports: Ports) -> World:
    return await build_world(http, ports)
