"""The ports a use case receives: typing.Protocols that the adapters satisfy structurally.

`Ports` is what every use case is handed; `UnitOfWork` is one database transaction with the
repositories of every aggregate, the ledger's append and the events to publish once it
commits. Nothing here imports an adapter; `server/bootstrap.py` builds the concrete objects.
"""

from .billing import BillingRepository
from .disputes import DisputeRepository
from .idempotency import IdempotencyRepository
from .ledger_entries import LedgerEntryRepository
from .listeners import ListenerRepository
from .parties import PartyRepository
from .relations import RelationRepository
from .reports import STORED_STRINGS, RecordFilter, RecordKeys, ReportRepository, stored_string
from .review import ReviewRepository
from .rows import CoSignatures, Row
from .runs import RunRepository
from .system import (
    Clock,
    ExtractCache,
    Keystore,
    Outbox,
    Ports,
    RateLimiter,
    UnitOfWork,
    UnitsOfWork,
)

__all__ = [
    "STORED_STRINGS",
    "BillingRepository",
    "Clock",
    "CoSignatures",
    "DisputeRepository",
    "ExtractCache",
    "IdempotencyRepository",
    "Keystore",
    "LedgerEntryRepository",
    "ListenerRepository",
    "Outbox",
    "PartyRepository",
    "Ports",
    "RateLimiter",
    "RecordFilter",
    "RecordKeys",
    "RelationRepository",
    "ReportRepository",
    "ReviewRepository",
    "Row",
    "RunRepository",
    "UnitOfWork",
    "UnitsOfWork",
    "stored_string",
]
