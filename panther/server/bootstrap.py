"""The composition root: the only module that picks concrete adapters."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from panther.adapters.extract_cache import ExtractCache
from panther.adapters.keystore import Keystore
from panther.adapters.ledger_embedded import EmbeddedLedger
from panther.adapters.sql.db import Database, make_engine, migrate
from panther.ledger.eip712 import LedgerDomain

from .services.context import Ports
from .services.parties import ensure_operator
from .settings import Settings

__all__ = ["compose"]


def _keystore_password(settings: Settings) -> str:
    env = os.environ.get("PANTHER_KEYSTORE_PASSWORD")
    if env:
        return env
    path = Path(settings.data_dir) / "keystore.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def compose(
    settings: Settings,
    *,
    schema: str | None = None,
    run_migrations: bool = True,
    ensure_operator_party: bool = True,
) -> Ports:
    if settings.ledger != "embedded":
        raise ValueError(f"unknown ledger adapter {settings.ledger!r} (embedded is built in)")
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url, schema=schema)
    if run_migrations:
        migrate(engine)
    domain = LedgerDomain(chain_id=settings.chain_id)
    ports = Ports(
        settings=settings,
        db=Database(engine),
        ledger=EmbeddedLedger(engine, domain),
        keystore=Keystore(_keystore_password(settings)),
        domain=domain,
        extract_cache=ExtractCache(Path(settings.data_dir) / "cache" / "extract"),
    )
    if ensure_operator_party:
        ensure_operator(ports)
    return ports
