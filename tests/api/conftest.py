"""API fixtures: the real ASGI app behind httpx, and a world of carriers to act in it."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from panther.server import state
from panther.server.app import create_app
from panther.server.services.ports import Ports
from tests.served import serve

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


@pytest.fixture
def listener() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """A webhook receiver on 127.0.0.1 (a free port), stopped after the test: its URL and
    every (path, JSON body) it received."""
    received: list[tuple[str, dict[str, Any]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            length = int(self.headers["Content-Length"])
            received.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`panther serve` on a free port with its own data folder; stopped by its pid."""
    with serve(tmp_path) as url:
        yield url
