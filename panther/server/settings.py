"""Settings, read once from the environment (``PANTHER_*``) into a typed, frozen object."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Settings"]


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _optional_int(name: str) -> int | None:
    raw = os.environ.get(name)
    return int(raw) if raw else None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite file in data_dir
    database_wait_seconds: float = 30.0  # how long start-up retries an unreachable database
    host: str = "127.0.0.1"
    port: int = 8080
    ledger: str = "embedded"  # or "evm"
    chain_id: int | None = None  # embedded: 1337 when unset; evm: required, checked at start
    evm_rpc_url: str = "http://127.0.0.1:8545"
    evm_contract: str = ""  # empty: deploy once, remember it in data_dir/evm-ledger.json
    evm_key: str = ""  # hex key of the relaying account; empty: one kept in data_dir
    evm_from_block: int | None = None
    evm_receipt_timeout: float = 30.0
    max_upload_bytes: int = 1024 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024
    token_ttl_seconds: int = 3600
    validate_responses: bool = False
    auto_match: bool = True
    public_base_url: str = ""
    idempotency_ttl_seconds: int = 24 * 3600  # how long a response is kept for retries
    max_pending_proposals: int = 100  # relations a carrier proposed that await agreement
    verification_wait_seconds: float = 5.0  # then POST /ledger/verification answers 202

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'panther.db').resolve()}"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """The environment's settings, with `overrides` (fields by name) taking precedence."""
        env = os.environ
        from_env = cls(
            data_dir=Path(env.get("PANTHER_DATA_DIR", "data")),
            database_url=env.get("PANTHER_DATABASE_URL", ""),
            database_wait_seconds=float(env.get("PANTHER_DATABASE_WAIT", "30")),
            host=env.get("PANTHER_HOST", "127.0.0.1"),
            port=_int("PANTHER_PORT", 8080),
            ledger=env.get("PANTHER_LEDGER", "embedded"),
            chain_id=_optional_int("PANTHER_CHAIN_ID"),
            evm_rpc_url=env.get("PANTHER_EVM_RPC_URL", "http://127.0.0.1:8545"),
            evm_contract=env.get("PANTHER_EVM_CONTRACT", ""),
            evm_key=env.get("PANTHER_EVM_KEY", ""),
            evm_from_block=_optional_int("PANTHER_EVM_FROM_BLOCK"),
            evm_receipt_timeout=float(env.get("PANTHER_EVM_RECEIPT_TIMEOUT", "30")),
            max_upload_bytes=_int("PANTHER_MAX_UPLOAD_BYTES", 1024 * 1024 * 1024),
            token_ttl_seconds=_int("PANTHER_TOKEN_TTL", 3600),
            validate_responses=env.get("PANTHER_VALIDATE_RESPONSES", "") == "1",
            auto_match=env.get("PANTHER_AUTO_MATCH", "1") != "0",
            public_base_url=env.get("PANTHER_PUBLIC_BASE_URL", ""),
            idempotency_ttl_seconds=_int("PANTHER_IDEMPOTENCY_TTL", 24 * 3600),
            max_pending_proposals=_int("PANTHER_MAX_PENDING_PROPOSALS", 100),
            verification_wait_seconds=float(env.get("PANTHER_VERIFICATION_WAIT", "5")),
        )
        return dataclasses.replace(from_env, **overrides)
