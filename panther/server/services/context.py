"""What every use case gets: the ports (database, ledger, keystore) and who is calling."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from panther.adapters.extract_cache import ExtractCache
from panther.adapters.keystore import Keystore
from panther.adapters.sql.db import Database
from panther.adapters.webhooks import WebhookDispatcher
from panther.ledger.eip712 import LedgerDomain

from ..settings import Settings

__all__ = ["Caller", "Ports", "gc_paused", "now_iso"]


@dataclass(frozen=True)
class Caller:
    party_id: str
    client_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    is_operator: bool = False


@dataclass
class Ports:
    settings: Settings
    db: Database
    ledger: Any  # LedgerAdapter with append(tx, conn=...) for the embedded ledger
    keystore: Keystore
    domain: LedgerDomain
    webhooks: WebhookDispatcher = field(default_factory=WebhookDispatcher)
    extract_cache: ExtractCache | None = None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Bulk paths build millions of short-lived objects that are never cyclic; the cycle
    collector rescanning them made uploads and match runs 2-4x slower."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
