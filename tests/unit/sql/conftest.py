"""`engine`: an empty database on SQLite, and on PostgreSQL (a schema of its own) when
PANTHER_TEST_DATABASE_URL names one."""

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
