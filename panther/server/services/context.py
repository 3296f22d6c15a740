"""What every use case gets: the ports (database, ledger, keystore) and who is calling."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from panther.adapters.keystore import Keystore
from panther.adapters.sql.db import Database
from panther.adapters.webhooks import WebhookDispatcher
from panther.ledger.eip712 import LedgerDomain

from ..settings import Settings

__all__ = ["Caller", "Ports", "now_iso"]


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


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
