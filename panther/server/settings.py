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


def _words(name: str) -> tuple[str, ...]:
    return tuple(w for w in os.environ.get(name, "").replace(",", " ").split() if w)


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
    # Hub callbacks: https only unless plain http is allowed (tests); names and networks
    # (CIDR) the operator allows although they are loopback, private, link-local, ...
    callback_allow_http: bool = False
    callback_allow: tuple[str, ...] = ()
    # Rate limits in the `limits` notation ("10/minute", "5 per 2 seconds"); "" turns one off.
    rate_limit_storage: str = "memory://"  # redis://host:6379 to share limits between processes
    rate_limit_token_per_ip: str = "60/minute"
    rate_limit_token_failures_per_ip: str = "10/minute"
    rate_limit_token_failures_per_client: str = "5/minute"
    rate_limit_writes_per_client: str = "600/minute"
    # What one party can store.
    max_listeners_per_party: int = 20
    max_notes_per_ticket: int = 200
    max_note_bytes: int = 16 * 1024

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
            callback_allow_http=env.get("PANTHER_CALLBACK_ALLOW_HTTP", "") == "1",
            callback_allow=_words("PANTHER_CALLBACK_ALLOW"),
            rate_limit_storage=env.get("PANTHER_RATE_LIMIT_STORAGE", "memory://"),
            rate_limit_token_per_ip=env.get("PANTHER_RATE_LIMIT_TOKEN_PER_IP", "60/minute"),
            rate_limit_token_failures_per_ip=env.get(
                "PANTHER_RATE_LIMIT_TOKEN_FAILURES_PER_IP", "10/minute"
            ),
            rate_limit_token_failures_per_client=env.get(
                "PANTHER_RATE_LIMIT_TOKEN_FAILURES_PER_CLIENT", "5/minute"
            ),
            rate_limit_writes_per_client=env.get(
                "PANTHER_RATE_LIMIT_WRITES_PER_CLIENT", "600/minute"
            ),
            max_listeners_per_party=_int("PANTHER_MAX_LISTENERS_PER_PARTY", 20),
            max_notes_per_ticket=_int("PANTHER_MAX_NOTES_PER_TICKET", 200),
            max_note_bytes=_int("PANTHER_MAX_NOTE_BYTES", 16 * 1024),
        )
        return dataclasses.replace(from_env, **overrides)
