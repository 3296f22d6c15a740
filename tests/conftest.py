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
from panther.server.services.context import Ports
from panther.server.settings import Settings

PG_URL = os.environ.get("PANTHER_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("PANTHER_REQUIRE_POSTGRES") == "1"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


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
    with make_ports(request.param, tmp_path_factory.mktemp(f"data-{request.param}")) as p:
        yield p
