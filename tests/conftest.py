"""Shared fixtures: the app over SQLite and over PostgreSQL, and carriers to drive it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conformance.fixtures import official_schemas  # noqa: F401  (a fixture for every test)
from panther.server.bootstrap import compose
from panther.server.services.ports import Ports
from panther.server.settings import Settings

PG_URL = os.environ.get("PANTHER_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("PANTHER_REQUIRE_POSTGRES") == "1"

# The suite writes far faster than any carrier: rate limits are raised for every system a test
# composes (tests of the limits set low ones on a system of their own).
for _limit in ("TOKEN_PER_IP", "TOKEN_FAILURES_PER_IP", "TOKEN_FAILURES_PER_CLIENT"):
    os.environ.setdefault(f"PANTHER_RATE_LIMIT_{_limit}", "100000/minute")
os.environ.setdefault("PANTHER_RATE_LIMIT_WRITES_PER_CLIENT", "1000000/minute")
# The webhook receivers of the tests (the `listener` fixture) listen on plain http on
# 127.0.0.1, which the defaults refuse.
LISTENER_SETTINGS: dict[str, Any] = {"callback_allow_http": True, "callback_allow": ("127.0.0.1",)}

# sqlite and postgres: the embedded ledger in that database. evm: SQLite for the system of
# record and the ledger contract on the session's anvil node.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "evm"]


def pytest_configure(config: Any) -> None:
    if REQUIRE_PG and not PG_URL:
        raise pytest.UsageError("PANTHER_REQUIRE_POSTGRES=1 needs PANTHER_TEST_DATABASE_URL")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test session, dropped afterwards."""
    if not PG_URL:
        pytest.skip(
            "PostgreSQL tests need PANTHER_TEST_DATABASE_URL "
            "(CI sets it to postgresql+psycopg://root@127.0.0.1:5432/test)"
        )
    schema = f"t_{secrets.token_hex(6)}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def make_ports(backend: str, data_dir: Path, **settings: Any) -> Iterator[Ports]:
    # A test that verifies the ledger reads the outcome: it waits for it however long the
    # session's ledger takes on a loaded machine (the 202 path has its own test).
    settings = {"verification_wait_seconds": 600.0, **LISTENER_SETTINGS, **settings}
    if backend == "evm":
        settings = {"ledger": "evm", **settings}
        backend = "sqlite"
    if backend == "sqlite":
        ports = compose(
            Settings.from_env(
                data_dir=data_dir, database_url="", validate_responses=True, **settings
            )
        )
        try:
            yield ports
        finally:
            ports.db.engine.dispose()
            if hasattr(ports.ledger, "close"):
                ports.ledger.close()
        return
    with pg_schema() as schema:
        ports = compose(
            Settings.from_env(
                data_dir=data_dir, database_url=PG_URL, validate_responses=True, **settings
            ),
            schema=schema,
        )
        try:
            yield ports
        finally:
            ports.db.engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def ports(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ports]:
    """One composed system per backend for the whole session; tests use fresh parties."""
    extra: dict[str, Any] = {}
    if request.param == "evm":
        node = request.getfixturevalue("anvil_node")
        extra = {"evm_rpc_url": node.url, "chain_id": node.chain_id}
    with make_ports(request.param, tmp_path_factory.mktemp(f"data-{request.param}"), **extra) as p:
        yield p


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[Any]:
    """One fresh anvil node per test session (automine), on a free 127.0.0.1 port,
    stopped by its pid at the end."""
    from panther.adapters.evm.anvil import Anvil

    node = Anvil().start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def evm_ledger(anvil_node: Any) -> Iterator[Any]:
    """A freshly deployed ledger contract on the session's node, relayed by a new key."""
    from panther.adapters.evm.ledger import EvmConfig, EvmLedger
    from panther.ledger.eip712 import new_key

    key, _ = new_key()
    ledger = EvmLedger(EvmConfig(anvil_node.url, anvil_node.chain_id, key))
    try:
        yield ledger
    finally:
        ledger.close()
