"""The composition root: the only module that picks concrete adapters."""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from panther.adapters.clock import SystemClock
from panther.adapters.extract_cache import ExtractCache
from panther.adapters.keystore import Keystore
from panther.adapters.ledger_embedded import EmbeddedLedger
from panther.adapters.outbound import DestinationPolicy, own_addresses
from panther.adapters.rate_limits import RateLimits
from panther.adapters.sql.db import Database, make_engine, migrate, wait_until_reachable
from panther.adapters.sql.uow import SqlUnitsOfWork
from panther.adapters.webhooks import WebhookDispatcher
from panther.ledger.eip712 import LedgerDomain

from .services.parties import ensure_operator
from .settings import Settings

if TYPE_CHECKING:
    from panther.adapters.evm.ledger import EvmLedger

__all__ = ["System", "compose"]


@dataclass
class System:
    """The composed system: concrete adapters that satisfy `services.ports.Ports`
    structurally, plus the database itself for the CLI's maintenance commands and tests."""

    settings: Settings
    db: Database
    ledger: EmbeddedLedger | EvmLedger
    keystore: Keystore
    domain: LedgerDomain
    extract_cache: ExtractCache | None = None
    clock: SystemClock = field(default_factory=SystemClock)
    webhooks: WebhookDispatcher = field(init=False)
    limiter: RateLimits = field(init=False)
    uow: SqlUnitsOfWork = field(init=False)

    def __post_init__(self) -> None:
        self.webhooks = WebhookDispatcher(policy=destination_policy(self.settings))
        self.limiter = RateLimits(self.settings.rate_limit_storage)
        # The outbox is looked up at each commit: tests swap `webhooks` on a running system.
        self.uow = SqlUnitsOfWork(self.db, self.ledger, lambda: self.webhooks)


def destination_policy(settings: Settings) -> DestinationPolicy:
    """Where hub events may go under these settings; this server's own addresses are the
    public base URL's and the listening socket's."""
    own = [(settings.host, settings.port)]
    if settings.public_base_url:
        base = httpx.URL(settings.public_base_url)
        own.append((base.host, base.port or (443 if base.scheme == "https" else 80)))
    return DestinationPolicy(
        allow_http=settings.callback_allow_http,
        allowed=settings.callback_allow,
        own=own_addresses(own),
    )


def _keystore_password(settings: Settings) -> str:
    env = os.environ.get("PANTHER_KEYSTORE_PASSWORD")
    if env:
        return env
    return _secret_file(Path(settings.data_dir) / "keystore.secret", secrets.token_urlsafe(32))


def _secret_file(path: Path, make: str) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make)
        path.chmod(0o600)
    return path.read_text().strip()


def _evm_ledger(settings: Settings) -> EvmLedger:
    """The ledger contract on a JSON-RPC node. Without PANTHER_EVM_CONTRACT the contract is
    deployed once and remembered in the data folder; with it, or remembered, the node must
    be the configured chain and the address must hold a PantherLedger, or start fails."""
    from panther.adapters.evm.ledger import EvmConfig, EvmLedger
    from panther.ledger.errors import LedgerMisconfigured

    if settings.chain_id is None:
        raise LedgerMisconfigured("PANTHER_CHAIN_ID is required with PANTHER_LEDGER=evm")
    key_hex = settings.evm_key or _secret_file(
        Path(settings.data_dir) / "evm-sender.key", secrets.token_hex(32)
    )
    key = bytes.fromhex(key_hex.removeprefix("0x"))
    memo = Path(settings.data_dir) / "evm-ledger.json"
    remembered = json.loads(memo.read_text()) if memo.exists() else None
    contract = settings.evm_contract or None
    from_block = settings.evm_from_block
    if contract is None and remembered is not None:
        if remembered.get("chainId") != settings.chain_id:
            raise LedgerMisconfigured(
                f"{memo} records chain {remembered.get('chainId')}, the configuration says "
                f"{settings.chain_id}; set PANTHER_EVM_CONTRACT or move the data folder"
            )
        contract = remembered["contract"]
        from_block = remembered["fromBlock"] if from_block is None else from_block
    config = EvmConfig(
        rpc_url=settings.evm_rpc_url,
        chain_id=settings.chain_id,
        sender_key=key,
        contract=contract,
        from_block=from_block or 0,
        receipt_timeout=settings.evm_receipt_timeout,
    )
    ledger = EvmLedger(config)
    if contract is None:
        memo.write_text(
            json.dumps(
                {
                    "chainId": settings.chain_id,
                    "contract": ledger.contract,
                    "fromBlock": ledger.from_block,
                    "rpcUrl": settings.evm_rpc_url,
                },
                indent=1,
            )
        )
    return ledger


def compose(
    settings: Settings,
    *,
    schema: str | None = None,
    run_migrations: bool = True,
    ensure_operator_party: bool = True,
) -> System:
    if settings.ledger not in ("embedded", "evm"):
        raise ValueError(f"unknown ledger adapter {settings.ledger!r} (embedded or evm)")
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url, schema=schema)
    wait_until_reachable(
        engine,
        seconds=settings.database_wait_seconds,
        on_retry=logging.getLogger("panther.start").warning,
    )
    if run_migrations:
        migrate(engine)
    ledger: EmbeddedLedger | EvmLedger
    if settings.ledger == "evm":
        ledger = _evm_ledger(settings)
    else:
        chain_id = settings.chain_id if settings.chain_id is not None else 1337
        ledger = EmbeddedLedger(engine, LedgerDomain(chain_id=chain_id))
    ports = System(
        settings=settings,
        db=Database(engine),
        ledger=ledger,
        keystore=Keystore(_keystore_password(settings)),
        domain=ledger.domain,
        extract_cache=ExtractCache(Path(settings.data_dir) / "cache" / "extract"),
    )
    if ensure_operator_party:
        ensure_operator(ports)
    return ports
