"""Issue 16: the ledger entry listings (``ledger_visibility``), timed in process against the
repository (``SqlLedgerEntryRepository.visible_seqs``, no HTTP): the best of 5 calls each, on
N rows across R relations of which the carrier is in C, with a few entry types.

    python bench/bench_ledger_listing.py [--rows 200000] [--relations 500] [--mine 50]
    PANTHER_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test \\
        python bench/bench_ledger_listing.py

The rows are written as a database at revision 0010 held them, then the migrations run (so
the same script times the code before and after positions). On PostgreSQL it works in a
schema of its own, dropped at the end. Also times noting one appended entry's visibility.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from panther.adapters.sql.db import _MIGRATIONS, make_engine, migrate  # noqa: E402
from panther.adapters.sql.ledger_entries import SqlLedgerEntryRepository  # noqa: E402
from panther.ledger.transactions import LedgerEntry, Transaction, TxType  # noqa: E402

TYPES = ["InventoryReported", "MatchRecorded", "MatchEndorsed", "StatementIssued", "RelationAgreed"]
_URL = os.environ.get("PANTHER_BENCH_DATABASE_URL", "")


@contextmanager
def _engine() -> Iterator[sa.Engine]:
    if not _URL:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{folder}/bench.sqlite")
            yield engine
            engine.dispose()
        return
    schema = f"bench_ledger_{secrets.token_hex(4)}"
    admin = sa.create_engine(_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(_URL, schema=schema)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _fill(engine: sa.Engine, rows: int, relations: int, mine: int) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0010")
        conn.execute(
            sa.text(
                "INSERT INTO relation (id, supplier_id, customer_id, profile, profile_hash, "
                "terms, state, proposed_by, created_at) "
                "VALUES (:id, :s, :c, '{}', 'h', '{}', 'agreed', :s, 't')"
            ),
            [
                {"id": f"r{i}", "s": "me" if i < mine else f"s{i}", "c": f"c{i}"}
                for i in range(relations)
            ],
        )
        insert = sa.text(
            "INSERT INTO ledger_visibility (seq, tx_type, relation_id, party_id) "
            "VALUES (:seq, :t, :r, :p)"
        )
        batch: list[dict[str, Any]] = []
        for seq in range(rows):
            # Every relation's entries spread over the whole ledger, as relations live side
            # by side; one PartyRegistered in a hundred.
            if seq % 100 == 0:
                batch.append({"seq": seq, "t": "PartyRegistered", "r": None, "p": f"p{seq}"})
            else:
                r = (seq * 7919) % relations
                batch.append(
                    {"seq": seq, "t": TYPES[(seq // 3) % len(TYPES)], "r": f"r{r}", "p": None}
                )
            if len(batch) == 10_000:
                conn.execute(insert, batch)
                batch = []
        if batch:
            conn.execute(insert, batch)
        conn.execute(insert, [{"seq": rows, "t": "PartyRegistered", "r": None, "p": "me"}])
    migrate(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE ledger_visibility"))
            c.execute(sa.text("VACUUM ANALYZE relation"))
    else:
        with engine.begin() as c:
            c.execute(sa.text("ANALYZE"))


def _best(call: Callable[[], Any], times: int = 5) -> tuple[Any, float]:
    spent, out = [], None
    for _ in range(times):
        t0 = time.perf_counter()
        out = call()
        spent.append(time.perf_counter() - t0)
    return out, min(spent) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--relations", type=int, default=500)
    ap.add_argument("--mine", type=int, default=50)
    args = ap.parse_args()
    with _engine() as engine:
        t0 = time.perf_counter()
        _fill(engine, args.rows, args.relations, args.mine)
        print(
            f"{engine.dialect.name}: {args.rows} rows, {args.relations} relations, carrier in "
            f"{args.mine}; built in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        seen = args.rows * args.mine // args.relations
        typed = args.rows // len(TYPES)
        targets: list[tuple[str, str | None, str | None, int]] = [
            ("operator ?type=MatchRecorded", None, "MatchRecorded", 0),
            (
                f"operator ?type=MatchRecorded offset={typed * 9 // 10}",
                None,
                "MatchRecorded",
                typed * 9 // 10,
            ),
            ("carrier", "me", None, 0),
            (f"carrier offset={seen // 2}", "me", None, seen // 2),
            (f"carrier offset={seen * 9 // 10}", "me", None, seen * 9 // 10),
            ("carrier ?type=MatchRecorded", "me", "MatchRecorded", 0),
            (f"carrier ?type=MatchRecorded offset={seen // 10}", "me", "MatchRecorded", seen // 10),
        ]
        with engine.connect() as conn:
            repo = SqlLedgerEntryRepository(conn)
            for name, party, tx_type, offset in targets:
                (seqs, total), ms = _best(
                    lambda p=party, t=tx_type, o=offset: repo.visible_seqs(
                        p, tx_type=t, offset=o, limit=100
                    )
                )
                print(f"  {name:<45} {ms:9.2f} ms  ({len(seqs)} of {total})", flush=True)
        seq = args.rows + 1
        spent = []
        for _ in range(50):
            tx = Transaction(TxType.MatchRecorded, 1, f"r{seq % args.relations}", {})
            with engine.begin() as conn:
                t0 = time.perf_counter()
                SqlLedgerEntryRepository(conn).record_visibility([LedgerEntry(seq, tx, b"", b"")])
                spent.append(time.perf_counter() - t0)
            seq += 1
        spent.sort()
        print(f"  {'note one appended entry (median of 50)':<45} {spent[25] * 1000:9.2f} ms")


if __name__ == "__main__":
    main()
