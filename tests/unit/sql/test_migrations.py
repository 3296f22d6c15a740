"""A database migrated to head has exactly the tables the models declare."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from panther.adapters import ledger_embedded  # noqa: F401  (registers ledger_entry)
from panther.adapters.sql import tables  # noqa: F401  (registers the tables)
from panther.adapters.sql.db import make_engine, migrate
from panther.adapters.sql.metadata import metadata


def _diff(engine: sa.Engine) -> list[object]:
    migrate(engine)
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def test_sqlite_migrated_equals_metadata(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        assert _diff(engine) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_migrated_equals_metadata() -> None:
    from tests.conftest import pg_schema

    if not os.environ.get("PANTHER_TEST_DATABASE_URL"):
        pytest.skip("needs PANTHER_TEST_DATABASE_URL")
    with pg_schema() as schema:
        engine = make_engine(os.environ["PANTHER_TEST_DATABASE_URL"], schema=schema)
        try:
            assert _diff(engine) == []
        finally:
            engine.dispose()
