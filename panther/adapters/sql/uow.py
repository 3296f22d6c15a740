"""The unit of work: one database transaction in which the repositories, the embedded
ledger's appends and the events to publish are written, committed or rolled back as one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import sqlalchemy as sa

from panther.ledger.errors import LedgerError
from panther.ledger.transactions import LedgerEntry, Transaction

from .billing import SqlBillingRepository
from .db import Database
from .disputes import SqlDisputeRepository
from .idempotency import SqlIdempotencyRepository
from .ledger_entries import SqlLedgerEntryRepository
from .listeners import SqlListenerRepository
from .parties import SqlPartyRepository
from .relations import SqlRelationRepository
from .reports import SqlReportRepository
from .review import SqlReviewRepository
from .runs import SqlRunRepository

__all__ = ["EventSink", "ReadOnly", "SqlUnitOfWork", "SqlUnitsOfWork", "TransactionalLedger"]

log = logging.getLogger(__name__)


class TransactionalLedger(Protocol):
    """A ledger whose append can join the caller's database transaction (the embedded
    ledger does; the EVM ledger ignores ``conn``: its entry is on chain once mined)."""

    def append(self, tx: Transaction, conn: sa.Connection | None = None) -> LedgerEntry: ...

    def get(self, seq: int) -> LedgerEntry: ...


class EventSink(Protocol):
    def publish(self, callback: str, event_type: str, event: dict[str, Any]) -> None: ...


def _still_held(ledger: TransactionalLedger, entry: LedgerEntry) -> bool:
    try:
        return ledger.get(entry.seq).entry_hash == entry.entry_hash
    except LedgerError:
        return False


class ReadOnly(RuntimeError):
    """A write was attempted through a read-only unit of work."""


class SqlUnitOfWork:
    def __init__(self, conn: sa.Connection, ledger: TransactionalLedger, *, writable: bool) -> None:
        self._conn = conn
        self._ledger = ledger
        self._writable = writable
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.appended: list[LedgerEntry] = []
        self.parties = SqlPartyRepository(conn)
        self.relations = SqlRelationRepository(conn)
        self.reports = SqlReportRepository(conn)
        self.runs = SqlRunRepository(conn)
        self.review = SqlReviewRepository(conn)
        self.disputes = SqlDisputeRepository(conn)
        self.billing = SqlBillingRepository(conn)
        self.listeners = SqlListenerRepository(conn)
        self.ledger_entries = SqlLedgerEntryRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn)

    def append(self, tx: Transaction) -> LedgerEntry:
        if not self._writable:
            raise ReadOnly("a ledger entry is appended only in a write unit of work")
        entry = self._ledger.append(tx, conn=self._conn)
        self.ledger_entries.record_visibility([entry])
        self.appended.append(entry)
        return entry

    def publish(self, callback: str, event_type: str, event: dict[str, Any]) -> None:
        self.events.append((callback, event_type, event))


class SqlUnitsOfWork:
    """Units of work over one database; events go to ``outbox()`` after each commit (looked up
    then, so a test may swap the outbox on a running system)."""

    def __init__(
        self, db: Database, ledger: TransactionalLedger, outbox: Callable[[], EventSink]
    ) -> None:
        self._db = db
        self._ledger = ledger
        self._outbox = outbox

    @contextmanager
    def write(self) -> Iterator[SqlUnitOfWork]:
        uow: SqlUnitOfWork | None = None
        try:
            with self._db.write() as conn:
                uow = SqlUnitOfWork(conn, self._ledger, writable=True)
                yield uow
        except BaseException:
            if uow is not None and uow.appended:
                self._note_kept(uow.appended)
            raise
        sink = self._outbox()
        for callback, event_type, event in uow.events:
            sink.publish(callback, event_type, event)

    def _note_kept(self, entries: list[LedgerEntry]) -> None:
        """After a rollback, note whose the appended entries are that the ledger kept (on the
        EVM ledger, mined before the database rolled back); the embedded ledger's went with
        the rollback."""
        try:
            kept = [e for e in entries if _still_held(self._ledger, e)]
            if kept:
                with self._db.write() as conn:
                    SqlLedgerEntryRepository(conn).record_visibility(kept)
        except Exception:  # noqa: BLE001 - the rollback's own error is the one to raise
            log.warning("could not note the visibility of kept ledger entries", exc_info=True)

    @contextmanager
    def read(self) -> Iterator[SqlUnitOfWork]:
        with self._db.read() as conn:
            uow = SqlUnitOfWork(conn, self._ledger, writable=False)
            yield uow
        if uow.events:
            raise ReadOnly("events are published only from a write unit of work")
