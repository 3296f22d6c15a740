"""Engines and schema migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
import tenacity
from alembic import command
from alembic.config import Config
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = ["Database", "DatabaseUnreachable", "make_engine", "migrate", "wait_until_reachable"]

_MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, *, schema: str | None = None) -> sa.Engine:
    """An engine tuned for our access pattern; ``schema`` pins PostgreSQL's search_path."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 60}, pool_pre_ping=False
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA cache_size=-262144")  # 256 MiB: bulk inserts into indexed tables
            cur.close()

        return engine
    connect_args: dict[str, object] = {}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True, pool_size=10)


class DatabaseUnreachable(RuntimeError):
    """The database could not be reached within the start-up wait; the message is one line."""


def _where(engine: sa.Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def _reason(exc: BaseException) -> str:
    """The driver's own words, first line only (psycopg adds a hint on a second line)."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def wait_until_reachable(
    engine: sa.Engine,
    *,
    seconds: float,
    on_retry: Callable[[str], None] = lambda _line: None,
) -> None:
    """Connect, retrying with exponential backoff (0.5 s doubling to 5 s) for at most
    ``seconds``; then :class:`DatabaseUnreachable` saying where and why in one line."""

    def tell(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        on_retry(
            f"{_where(engine)} is not reachable ({_reason(exc) if exc else '?'}); "
            f"retrying in {wait:.1f} s"
        )

    def connect() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    try:
        tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(sa.exc.OperationalError),
            wait=tenacity.wait_exponential(multiplier=0.5, max=5),
            stop=tenacity.stop_after_delay(seconds),
            before_sleep=tell,
            reraise=True,
        )(connect)
    except sa.exc.OperationalError as exc:
        raise DatabaseUnreachable(
            f"{_where(engine)} is not reachable after {seconds:g} s: {_reason(exc)} "
            "(is it running? PANTHER_DATABASE_URL and PANTHER_DATABASE_WAIT say where and "
            "how long to wait)"
        ) from None


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest Alembic revision (run once, before workers start)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # SQLite changes a table by copying it, dropping the old one and renaming the copy;
            # the drop fails while rows of other tables refer to it and foreign keys are
            # enforced. SQLite's own procedure: off outside the transaction, checked after.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


class Database:
    """An engine plus the one-writer discipline SQLite needs.

    SQLite allows one writer; two deferred transactions that both read and then write can
    deadlock, so writes in this process take a lock first. PostgreSQL needs no such lock.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_lock = threading.RLock()

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        if self.is_sqlite:
            with self._write_lock, self.engine.begin() as conn:
                yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn
