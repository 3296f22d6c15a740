"""A migrated database for the repository tests: SQLite in a temporary folder, and a fresh
PostgreSQL schema when PANTHER_TEST_DATABASE_URL names a server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from panther.adapters.sql.db import make_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
        yield made
        made.dispose()
        return
    from tests.conftest import pg_schema

    if not os.environ.get("PANTHER_TEST_DATABASE_URL"):
        pytest.skip("needs PANTHER_TEST_DATABASE_URL")
    with pg_schema() as schema:
        made = make_engine(os.environ["PANTHER_TEST_DATABASE_URL"], schema=schema)
        try:
            yield made
        finally:
            made.dispose()


def upgrade_to(conn: sa.Connection, revision: str) -> None:
    """Migrate the connection's database up to `revision` only (to store rows as they were
    before a later migration, which the test then runs with `migrate`)."""
    from alembic import command
    from alembic.config import Config

    from panther.adapters.sql.db import _MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)
