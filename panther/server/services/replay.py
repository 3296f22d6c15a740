"""Rebuild the server's projections from the ledger alone and compare them with the database.

``rebuild`` reads the ledger once, through the LedgerAdapter port only, and builds plain
comparable rows; ``read_database`` reads the same rows from the system of record;
``compare`` lists every difference (table, key, field, ledger value, database value);
``replay_into.write_projections`` writes a rebuild into an empty database. Replay trusts the
entries it reads: the hash chain, the signatures and the Merkle roots are ``panther ledger
verify``'s job.

What the ledger determines, per table (an inventory report is keyed by its ledger_seq, as
its id is not in the payload; JSON columns are compared decoded):

- party: id, name, role, address, ledger_seq
- relation: id, supplier_id, customer_id, profile_hash, terms, state, ledger_seq
- relation_agreement: relation_id, party_id, signature (the RelationAgreed signers)
- inventory_report: ledger_seq, relation_id, reporter_id, side, as_of, version, record_count,
  content_hash, merkle_root, held_out_count, held_out_hash, signature
- match_run: id, relation_id, as_of, supplier_report_id, customer_report_id, profile_hash,
  counts, item_count, items_root, state, ledger_seq, endorsed_seq
- match_endorsement: run_id, party_id, signature (the MatchEndorsed signers)

What it does not determine, so replay neither compares nor truly restores it:

- every created_at (an adapter's recorded_at is its own clock: the EVM block time);
- party.custody, and the custodial keys, API clients and server secrets;
- relation.profile (the payload carries only its hash, which verification checks the stored
  profile against) and relation.proposed_by;
- inventory_report.id, media_type and origin, the records themselves (off-ledger, proven by
  the Merkle root) and the listing of the records held out of an upload (off-ledger, its
  count and hash are on the ledger);
- the match items (off-ledger, proven by items_root and item_count);
- what is not on the ledger yet: a proposed relation, and the first of two signatures on a
  relation or a run. Such rows are left out on the database side too: a relation counts once
  it says it is agreed or has a ledger_seq, an endorsement once its run says it is final or
  has an endorsed_seq.

``replay_into.write_projections`` fills what the ledger lacks with stand-ins: created_at is
the entry's recorded_at, custody is ``external`` (the rebuilt database holds no keys),
proposed_by is empty, the profile is the default profile when its hash matches and JSON
``null`` otherwise, media_type is empty and origin is ``replay``. A report's id is taken
from the match runs that name it (the newest report of its side for the run's date before
the run, as the server picks it); a report no run names gets ``rpt-ledger-<seq>``. No
records or items are written, so the rebuilt database serves metadata, not matching, and
holds no ledger of its own (an embedded ledger's entries stay in the source database). On a
live server, writes between the two reads show up as differences; run it again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from panther.ledger.port import LedgerAdapter
from panther.ledger.transactions import LedgerEntry, TxType

from .ledger_view import entry_columns
from .ports import UnitOfWork

__all__ = [
    "FIELDS",
    "KEYS",
    "Difference",
    "Projections",
    "Rebuild",
    "compare",
    "read_database",
    "rebuild",
    "replay",
]

# Table name -> the columns that identify a row, and every column the ledger determines
# (key columns included), in the order a difference is reported.
KEYS: dict[str, tuple[str, ...]] = {
    "party": ("id",),
    "relation": ("id",),
    "relation_agreement": ("relation_id", "party_id"),
    "inventory_report": ("ledger_seq",),
    "match_run": ("id",),
    "match_endorsement": ("run_id", "party_id"),
}
FIELDS: dict[str, tuple[str, ...]] = {
    "party": ("id", "name", "role", "address", "ledger_seq"),
    "relation": (
        "id",
        "supplier_id",
        "customer_id",
        "profile_hash",
        "terms",
        "state",
        "ledger_seq",
    ),
    "relation_agreement": ("relation_id", "party_id", "signature"),
    "inventory_report": (
        "ledger_seq",
        "relation_id",
        "reporter_id",
        "side",
        "as_of",
        "version",
        "record_count",
        "content_hash",
        "merkle_root",
        "held_out_count",
        "held_out_hash",
        "signature",
    ),
    "match_run": (
        "id",
        "relation_id",
        "as_of",
        "supplier_report_id",
        "customer_report_id",
        "profile_hash",
        "counts",
        "item_count",
        "items_root",
        "state",
        "ledger_seq",
        "endorsed_seq",
    ),
    "match_endorsement": ("run_id", "party_id", "signature"),
}
# Columns a later entry moves on (a run becomes final); any other column a second entry
# about the same row states must agree with the first.
_MOVES = frozenset({"state", "endorsed_seq"})

Key = tuple[Any, ...]
Rows = dict[Key, dict[str, Any]]


def _plain(value: Any) -> Any:
    """Payload values as plain JSON types (the port may hand out read-only mappings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class Projections:
    """Rows per table, keyed by ``KEYS``; each row holds exactly the ``FIELDS`` columns.

    ``problems`` are what kept a side from being one clean projection: the ledger saying two
    things about one row, or two database rows with the same key.
    """

    tables: dict[str, Rows] = field(default_factory=lambda: {name: {} for name in KEYS})
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}

    def put(self, table: str, row: dict[str, Any]) -> bool:
        key = tuple(row[k] for k in KEYS[table])
        if key in self.tables[table]:
            return False
        self.tables[table][key] = {f: row.get(f) for f in FIELDS[table]}
        return True


@dataclass
class Rebuild:
    """The projections the ledger determines, with what the ledger said besides."""

    projections: Projections
    entries: int = 0
    head: int | None = None
    not_projected: Counter[str] = field(default_factory=Counter)
    recorded_at: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    """One disagreement. ``field`` None: the whole row is missing on one side (that side's
    value is None, the other side's is the row)."""

    table: str
    key: dict[str, Any]
    field: str | None
    ledger: Any
    database: Any

    @property
    def kind(self) -> str:
        if self.field is not None:
            return "differs"
        return "missing_in_database" if self.database is None else "missing_on_ledger"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "field": self.field,
            "kind": self.kind,
            "ledger": self.ledger,
            "database": self.database,
            "detail": str(self),
        }

    def __str__(self) -> str:
        where = f"{self.table}[{', '.join(f'{k}={v}' for k, v in self.key.items())}]"
        if self.kind == "differs":
            return (
                f"{where}.{self.field}: ledger {json.dumps(self.ledger, default=str)}, "
                f"database {json.dumps(self.database, default=str)}"
            )
        if self.kind == "missing_in_database":
            return f"{where}: on the ledger, missing in the database"
        return f"{where}: in the database, not on the ledger"


# ---- from the ledger ----


def _signature_rows(
    entry: LedgerEntry, key_col: str, key: str, parties: dict[str, str]
) -> Iterable[dict[str, Any]]:
    for signer, signature in zip(entry.tx.signers, entry.tx.signatures, strict=True):
        yield {
            key_col: key,
            "party_id": parties.get(signer.lower(), signer),
            "signature": "0x" + signature.hex(),
        }


def _endorse_run(
    proj: Projections, entry: LedgerEntry, row: dict[str, Any], parties: dict[str, str]
) -> None:
    """A MatchEndorsed entry makes its run final; what else it states must agree with the
    run's MatchRecorded entry."""
    run = proj.tables["match_run"].get((row["id"],))
    if run is None:
        proj.problems.append(f"entry {entry.seq} endorses match run {row['id']}, unknown")
        return
    if run["state"] == "final":
        proj.problems.append(f"entry {entry.seq} endorses match run {row['id']} again")
    for name, value in row.items():
        if name in _MOVES:
            run[name] = value
        elif run[name] != value:
            proj.problems.append(
                f"entry {entry.seq} says match run {row['id']} has {name} "
                f"{json.dumps(value)}, its MatchRecorded entry {json.dumps(run[name])}"
            )
    for sig_row in _signature_rows(entry, "run_id", row["id"], parties):
        proj.put("match_endorsement", sig_row)


def rebuild(ledger: LedgerAdapter) -> Rebuild:
    """Read every entry once and build the projections it determines."""
    out = Rebuild(Projections())
    proj = out.projections
    parties: dict[str, str] = {}  # address (lowercase) -> party id
    addresses: dict[str, str] = {}  # party id -> address (lowercase)
    for entry in ledger.iterate(0):
        out.entries += 1
        out.head = entry.seq
        out.recorded_at[entry.seq] = entry.recorded_at
        tx = entry.tx
        found = entry_columns(entry)
        if found is None:
            out.not_projected[tx.type.value] += 1
            continue
        table, key, columns = found
        row = {**key, **_plain(columns)}
        if tx.type == TxType.MatchEndorsed:
            _endorse_run(proj, entry, row, parties)
            continue
        if tx.type == TxType.PartyRegistered:
            parties[str(row["address"]).lower()] = str(row["id"])
            addresses[str(row["id"])] = str(row["address"]).lower()
        elif tx.type == TxType.InventoryReported:
            by = {s.lower(): sig for s, sig in zip(tx.signers, tx.signatures, strict=True)}
            signature = by.get(addresses.get(row["reporter_id"], ""))
            row["signature"] = "0x" + signature.hex() if signature is not None else None
        elif tx.type == TxType.MatchRecorded:
            row |= {"state": "recorded", "endorsed_seq": None}
        if not proj.put(table, row):
            proj.problems.append(
                f"entry {entry.seq} ({tx.type.value}) is about {table} "
                f"{'/'.join(str(v) for v in key.values())} again"
            )
        elif tx.type == TxType.RelationAgreed:
            for sig_row in _signature_rows(entry, "relation_id", row["id"], parties):
                proj.put("relation_agreement", sig_row)
    return out


# ---- from the database ----


def read_database(uow: UnitOfWork) -> Projections:
    """The same projections as the server's database holds them."""
    proj = Projections()
    for name in KEYS:
        for values in uow.ledger_entries.recorded_rows(name):
            if not proj.put(name, values):
                key = ", ".join(f"{k}={values[k]}" for k in KEYS[name])
                proj.problems.append(f"more than one {name} row with {key}")
    return proj


# ---- comparing ----


def _sort_key(key: Key) -> tuple[tuple[int, Any], ...]:
    # ledger_seq keys in number order; None (a row without one) and text after numbers
    return tuple((0, v) if isinstance(v, int) else (1, str(v)) for v in key)


def compare(ledger: Projections, database: Projections) -> list[Difference]:
    """Every row missing on one side and every column that differs, table by table."""
    out: list[Difference] = []
    for name, keys in KEYS.items():
        mine, theirs = ledger.tables[name], database.tables[name]
        for key in sorted(mine.keys() | theirs.keys(), key=_sort_key):
            key_dict = dict(zip(keys, key, strict=True))
            left, right = mine.get(key), theirs.get(key)
            if left is None or right is None:
                out.append(Difference(name, key_dict, None, left, right))
                continue
            for column in FIELDS[name]:
                if column not in keys and left[column] != right[column]:
                    out.append(Difference(name, key_dict, column, left[column], right[column]))
    return out


def replay(ledger: LedgerAdapter, uow: UnitOfWork) -> tuple[Rebuild, dict[str, Any]]:
    """Rebuild from ``ledger``, read through ``uow``, compare: the rebuild and a summary
    ready for JSON (``equal`` is true when nothing differs and neither side has problems)."""
    rebuilt = rebuild(ledger)
    database = read_database(uow)
    differences = compare(rebuilt.projections, database)
    ours, theirs = rebuilt.projections.counts(), database.counts()
    equal = not differences and not rebuilt.projections.problems and not database.problems
    return rebuilt, {
        "@type": "LedgerReplay",
        "equal": equal,
        "entries": rebuilt.entries,
        "head": rebuilt.head,
        "notProjected": dict(sorted(rebuilt.not_projected.items())),
        "counts": {name: {"ledger": ours[name], "database": theirs[name]} for name in KEYS},
        "ledgerProblems": list(rebuilt.projections.problems),
        "databaseProblems": list(database.problems),
        "differences": [d.to_dict() for d in differences],
    }
