"""The ports every use case shares: the unit of work, the ledger, keys, clock and outbox."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

import pyarrow as pa

from panther.ledger.eip712 import LedgerDomain
from panther.ledger.port import LedgerAdapter
from panther.ledger.transactions import LedgerEntry, Transaction

from ...settings import Settings
from .billing import BillingRepository
from .disputes import DisputeRepository
from .idempotency import IdempotencyRepository
from .ledger_entries import LedgerEntryRepository
from .listeners import ListenerRepository
from .parties import PartyRepository
from .relations import RelationRepository
from .reports import ReportRepository
from .review import ReviewRepository
from .rows import CoSignatures, Row
from .runs import RunRepository

__all__ = [
    "Clock",
    "CoSignatures",
    "ExtractCache",
    "Keystore",
    "Outbox",
    "Ports",
    "RateLimiter",
    "Row",
    "UnitOfWork",
    "UnitsOfWork",
]


class UnitOfWork(Protocol):
    """One database transaction. Everything written through it (the repositories and the
    embedded ledger's entries) commits or rolls back as one; events published through it
    leave only after the commit."""

    @property
    def parties(self) -> PartyRepository: ...

    @property
    def relations(self) -> RelationRepository: ...

    @property
    def reports(self) -> ReportRepository: ...

    @property
    def runs(self) -> RunRepository: ...

    @property
    def review(self) -> ReviewRepository: ...

    @property
    def disputes(self) -> DisputeRepository: ...

    @property
    def billing(self) -> BillingRepository: ...

    @property
    def listeners(self) -> ListenerRepository: ...

    @property
    def ledger_entries(self) -> LedgerEntryRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    def append(self, tx: Transaction) -> LedgerEntry:
        """Append an endorsed transaction to the ledger within this unit of work."""
        ...

    def publish(self, callback: str, event_type: str, event: dict[str, Any]) -> None:
        """Deliver an event to a listener once this unit of work has committed."""
        ...


class UnitsOfWork(Protocol):
    """Opens units of work: `write()` commits at the end of the block (rolls back on an
    exception), `read()` never writes."""

    def write(self) -> AbstractContextManager[UnitOfWork]: ...

    def read(self) -> AbstractContextManager[UnitOfWork]: ...


class Keystore(Protocol):
    """Custodial signing keys at rest."""

    def seal(self, private_key: bytes) -> bytes: ...

    def unseal(self, blob: bytes) -> bytes: ...


class Outbox(Protocol):
    """Where hub events go (``POST <callback>/listener/<eventType>``)."""

    def publish(self, callback: str, event_type: str, event: dict[str, Any]) -> None: ...

    def refusal(self, callback: str) -> str | None:
        """Why events may not go to `callback` (not https, credentials, this server, an
        address that is not public); None when they may."""
        ...


class RateLimiter(Protocol):
    """Requests counted against rules in the `limits` notation ("10/minute") per key; each
    answers None while allowed, else the seconds until one more request will be."""

    def hit(self, rule: str, *key: str) -> int | None:
        """Count one request."""
        ...

    def exhausted(self, rule: str, *key: str) -> int | None:
        """Whether the rule is used up, counting nothing."""
        ...


class ExtractCache(Protocol):
    """Match columns of stored reports and items of runs, kept to make later runs faster;
    a miss (None) only costs speed."""

    def get(self, content_hash: str, side: str, profile_hash: str) -> pa.Table | None: ...

    def put(self, content_hash: str, side: str, profile_hash: str, table: pa.Table) -> None: ...

    def get_items(self, run_id: str) -> pa.Table | None: ...

    def put_items(self, run_id: str, table: pa.Table) -> None: ...


class Clock(Protocol):
    def now_iso(self) -> str:
        """The current instant, UTC, ISO 8601 with microseconds and a ``Z``."""
        ...


class Ports(Protocol):
    """What every use case receives."""

    @property
    def settings(self) -> Settings: ...

    @property
    def uow(self) -> UnitsOfWork: ...

    @property
    def ledger(self) -> LedgerAdapter: ...

    @property
    def keystore(self) -> Keystore: ...

    @property
    def domain(self) -> LedgerDomain: ...

    @property
    def webhooks(self) -> Outbox: ...

    @property
    def extract_cache(self) -> ExtractCache | None: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def limiter(self) -> RateLimiter: ...
