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


def test_sqlite_with_rows_referring_to_a_rebuilt_table_migrates(tmp_path: Path) -> None:
    """SQLite rebuilds a table to change its constraints (0006 rebuilds `relation`): with rows
    of other tables referring to it, that works only with foreign keys off meanwhile."""
    from alembic import command
    from alembic.config import Config

    from panther.adapters.sql.db import _MIGRATIONS

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0004")
            for party in ("a", "b"):
                conn.execute(
                    sa.text(
                        f"INSERT INTO party VALUES ('{party}', 'A', 'carrier', '0x{party}', "
                        "'custodial', NULL, 't')"
                    )
                )
            conn.execute(
                sa.text(
                    "INSERT INTO relation VALUES ('r', 'a', 'b', '{}', 'h', '{}', "
                    "'proposed', 'a', NULL, 't')"
                )
            )
            conn.execute(sa.text("INSERT INTO relation_agreement VALUES ('r', 'a', '0x', 't')"))
        migrate(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT relation_id FROM relation_agreement")).all() == [
                ("r",)
            ]
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
            # A proposal may now name a party that does not exist.
            conn.execute(
                sa.text(
                    "INSERT INTO relation VALUES ('r2', 'a', 'nobody', '{}', 'h', '{}', "
                    "'proposed', 'a', NULL, 't')"
                )
            )
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_the_visibility_of_entries_already_on_the_ledger_is_filled_in(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from panther.adapters.ledger_embedded import EmbeddedLedger
    from panther.adapters.sql.db import _MIGRATIONS
    from panther.ledger.testing import seed_ledger

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        with engine.begin() as conn:  # the schema before the visibility table
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0004")
        cast = seed_ledger(EmbeddedLedger(engine), "rel-A-B")
        migrate(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT seq, tx_type, relation_id, party_id FROM ledger_visibility")
            ).all()
        assert sorted(tuple(r) for r in rows) == [
            (0, "PartyRegistered", None, cast.operator.party_id),
            (1, "PartyRegistered", None, cast.supplier.party_id),
            (2, "PartyRegistered", None, cast.customer.party_id),
            (3, "RelationAgreed", "rel-A-B", None),
        ]
    finally:
        engine.dispose()
