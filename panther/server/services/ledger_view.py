"""Reading and verifying the ledger against the data the server stores.

Verification recomputes the chain and the signatures (``panther.ledger.verify``), every
Merkle root from the stored rows, and checks that each projection row (party, relation,
report, run) says what its ledger entry says. The first broken thing is reported, and
besides it every co-signature both carriers completed that never completed its resource
(``cosignatures``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple

from panther.inventory.parse import content_hash
from panther.ledger.eip712 import LedgerDomain
from panther.ledger.merkle import merkle_root
from panther.ledger.transactions import LedgerEntry, TxType
from panther.ledger.verify import VerificationFailure, verify_ledger
from panther.matching.profile import MatchProfile
from panther.settlement import BillingError, statement_from_json

from . import review_state
from .context import Caller
from .cosignatures import UnfinishedCoSignature, unfinished_co_signatures
from .errors import InvalidInput, NotFound
from .ports import Ports, UnitOfWork
from .relations import relation_for

__all__ = [
    "InclusionProof",
    "LedgerVerification",
    "Projection",
    "ProjectionFailure",
    "UnfinishedCoSignature",
    "entry_columns",
    "get_entry",
    "list_entries",
    "proof",
    "verify",
]


# ---- entries ----


def list_entries(
    ports: Ports, caller: Caller, *, offset: int, limit: int, type_: str | None = None
) -> tuple[list[LedgerEntry], int]:
    """The page of entries the caller sees (of one type if given) and how many it sees.

    A carrier sees the entries of its relations and the one that registered it; the
    operator sees every entry. The filter and the page are the database's
    (``ledger_visibility``); only the entries of the page are read from the ledger."""
    ledger = ports.ledger
    if caller.is_operator and type_ is None:
        head = ledger.head()
        total = 0 if head is None else head.seq + 1
        return list(islice(ledger.iterate(offset), max(0, min(limit, total - offset)))), total
    _catch_up(ports, ledger.head())
    party = None if caller.is_operator else caller.party_id
    with ports.uow.read() as uow:
        seqs, total = uow.ledger_entries.visible_seqs(
            party, tx_type=type_, offset=offset, limit=limit
        )
    return [ledger.get(seq) for seq in seqs], total


def get_entry(ports: Ports, caller: Caller, seq: int) -> LedgerEntry:
    """One entry; one the caller may not see is as missing as one that is not there."""
    head = ports.ledger.head()
    if head is None or seq < 0 or seq > head.seq:
        raise NotFound(f"no ledger entry {seq}")
    if not caller.is_operator:
        _catch_up(ports, head)
        with ports.uow.read() as uow:
            if not uow.ledger_entries.is_visible(seq, caller.party_id):
                raise NotFound(f"no ledger entry {seq}")
    return ports.ledger.get(seq)


_CATCH_UP_BATCH = 1000


def _catch_up(ports: Ports, head: LedgerEntry | None) -> None:
    """Note whose each entry is for the entries the unit of work did not note (on the EVM
    ledger: those recorded before the table existed). Costs one look at the highest noted
    seq when nothing is missing."""
    if head is None:
        return
    with ports.uow.read() as uow:
        top = uow.ledger_entries.noted_top()
        if top >= head.seq:
            return
        # A hole below the top (a process that stopped between the chain and the database):
        # go over them all.
        start = top + 1 if uow.ledger_entries.noted_count() == top + 1 else 0
    entries = ports.ledger.iterate(start)
    while batch := list(islice(entries, _CATCH_UP_BATCH)):
        with ports.uow.write() as uow:
            uow.ledger_entries.record_visibility(batch)


# ---- what an entry says of the projections ----


class Projection(NamedTuple):
    """A projection row an entry speaks for: its table, the columns that find it, and the
    columns the entry determines with their values."""

    table: str
    key: dict[str, Any]
    columns: dict[str, Any]


def entry_columns(entry: LedgerEntry) -> Projection | None:
    """The projection row an entry speaks for and what it says of it.

    This is the one place that says which column holds which payload field; verification
    and the replay (``replay.py``) both read it. An inventory report is found by its
    ledger_seq (its id is not in the payload). None for types with no projection yet.
    """
    p, t, seq = entry.tx.payload, entry.tx.type, entry.seq
    root = entry.tx.merkle_root.hex() if entry.tx.merkle_root else None
    if t == TxType.PartyRegistered:
        return Projection(
            "party",
            {"id": p["partyId"]},
            {"address": p["address"], "name": p["name"], "role": p["role"], "ledger_seq": seq},
        )
    if t == TxType.RelationAgreed:
        return Projection(
            "relation",
            {"id": p["relationId"]},
            {
                "supplier_id": p["supplier"],
                "customer_id": p["customer"],
                "profile_hash": p["profileHash"],
                "terms": p["terms"],
                "state": "agreed",
                "ledger_seq": seq,
            },
        )
    if t == TxType.InventoryReported:
        return Projection(
            "inventory_report",
            {"ledger_seq": seq},
            {
                "relation_id": p["relationId"],
                "reporter_id": p["reporter"],
                "side": p["side"],
                "as_of": p["asOf"],
                "version": p["version"],
                "record_count": p["recordCount"],
                "content_hash": p["contentHash"],
                "merkle_root": root,
                "held_out_count": p.get("heldOutCount", 0),
                "held_out_hash": p.get("heldOutHash"),
            },
        )
    if t == TxType.MatchRecorded:
        return Projection(
            "match_run",
            {"id": p["runId"]},
            {
                "relation_id": p["relationId"],
                "as_of": p["asOf"],
                "supplier_report_id": p["supplierReport"],
                "customer_report_id": p["customerReport"],
                "profile_hash": p["profileHash"],
                "counts": p["counts"],
                "item_count": p["itemCount"],
                "items_root": root,
                "ledger_seq": seq,
            },
        )
    if t == TxType.MatchEndorsed:
        return Projection(
            "match_run",
            {"id": p["runId"]},
            {
                "state": "final",
                "endorsed_seq": seq,
                "counts": p["counts"],
                "items_root": root,
                "ledger_seq": p["recordedSeq"],
            },
        )
    return None


def _differs(row: dict[str, Any] | None, expected: dict[str, Any]) -> bool:
    return row is None or any(row[k] != v for k, v in expected.items())


def _projection_problem(uow: UnitOfWork, entry: LedgerEntry) -> str | None:
    """What a projection row says differently from its ledger entry, if anything."""
    found = entry_columns(entry)
    if found is None:
        return None
    table, key, expected = found
    row = uow.ledger_entries.projection(table, key)
    broken = row is None or _differs(row, expected)
    if not broken and row is not None and entry.tx.type == TxType.RelationAgreed:
        stored = MatchProfile.from_dict(row["profile"])
        broken = stored.profile_hash() != expected["profile_hash"]
    if not broken:
        return None
    if table == "inventory_report":
        return f"the inventory report of entry {entry.seq} differs from it"
    noun = {"party": "party", "relation": "relation", "match_run": "match run"}[table]
    return f"{noun} {key['id']} differs from its {entry.tx.type.value} entry"


# ---- verification ----


@dataclass(frozen=True)
class ProjectionFailure:
    """A projection row that says something else than its entry."""

    seq: int
    detail: str
    kind: str = "projection"


@dataclass(frozen=True)
class LedgerVerification:
    entries_checked: int
    head: LedgerEntry | None
    first_failure: VerificationFailure | ProjectionFailure | None
    unfinished_co_signatures: tuple[UnfinishedCoSignature, ...] = ()

    @property
    def ok(self) -> bool:
        return self.first_failure is None and not self.unfinished_co_signatures


def _recomputed_root(uow: UnitOfWork, entry: LedgerEntry) -> bytes | None:
    """The Merkle root of what the entry attests, from the stored rows; b"" when they are
    gone or no longer hash to what the entry says; None for an entry with no root."""
    t, p = entry.tx.type, entry.tx.payload
    rows = uow.ledger_entries
    if t == TxType.InventoryReported:
        report = rows.report_at(entry.seq)
        if report is None:
            return b""  # the report the entry attests is gone
        leaves = rows.record_leaves(report["id"])
        if content_hash(leaves) != p["contentHash"] or len(leaves) != p["recordCount"]:
            return b""
        return merkle_root(leaves)
    if t in (TxType.MatchRecorded, TxType.MatchEndorsed):
        if uow.runs.get(p["runId"]) is None:
            return b""
        return merkle_root(rows.item_leaves(p["runId"]))
    if t in (TxType.StatementIssued, TxType.StatementAgreed):
        # The statement as stored must still hash to what was issued and agreed.
        text = rows.statement_text(p["statementId"])
        if text is None:
            return b""
        try:
            statement = statement_from_json(json.loads(text))
        except (ValueError, BillingError):
            return b""
        if statement.statement_hash != p["statementHash"]:
            return b""
        return statement.lines_root
    if t == TxType.ReviewAgreed:
        agreed = rows.agreed_resolutions(p["runId"], p["proposalId"], entry.seq)
        if len(agreed) != p["itemCount"]:
            return b""
        return merkle_root(review_state.leaves(agreed))
    return None


def verify(ports: Ports, caller: Caller | None = None) -> LedgerVerification:
    """Recompute everything; ``caller`` is accepted for symmetry (the result has no data)."""
    del caller
    first: VerificationFailure | ProjectionFailure | None = None
    with ports.uow.read() as uow:
        entries = list(ports.ledger.iterate(0))
        report = verify_ledger(
            entries,
            ports.domain,
            recompute_root=lambda entry: _recomputed_root(uow, entry),
            entry_hasher=ports.ledger.hash_entry,
        )
        first = report.first_failure
        if report.ok:
            for entry in entries:
                problem = _projection_problem(uow, entry)
                if problem:
                    first = ProjectionFailure(entry.seq, problem)
                    break
        unfinished = unfinished_co_signatures(uow, entries)
    head = entries[-1] if entries else None
    return LedgerVerification(report.entries_checked, head, first, unfinished)


# ---- Merkle proofs ----


@dataclass(frozen=True)
class InclusionProof:
    """What proves one record of a report or one item of a run: every leaf under the root,
    the index of the one proven, the entry that holds the root, what was asked for, where
    the ledger holds the entry (``LedgerAdapter.anchor``) and the signatures' domain."""

    leaves: list[bytes]
    index: int
    entry: LedgerEntry
    subject: dict[str, Any]
    anchor: dict[str, Any]
    domain: LedgerDomain


def proof(
    ports: Ports,
    caller: Caller,
    *,
    report_id: str | None = None,
    index: int | None = None,
    product_id: str | None = None,
    run_id: str | None = None,
    item_no: int | None = None,
) -> InclusionProof:
    """An inclusion proof for one record of a report or one item of a match run."""
    if (report_id is None) == (run_id is None):
        raise InvalidInput(
            "give reportId (with index or productId) or runId (with itemNo)", status_code=422
        )
    with ports.uow.read() as uow:
        rows = uow.ledger_entries
        if report_id is not None:
            row = uow.reports.get(report_id)
            if row is None:
                raise NotFound(f"no inventory report {report_id}")
            relation_for(uow, caller, row["relation_id"])
            leaves = rows.record_leaves(report_id)
            if product_id is not None:
                index = uow.reports.product_seq(report_id, product_id)
                if index is None:
                    raise NotFound(f"no product {product_id} in report {report_id}")
            if index is None:
                raise InvalidInput("give index or productId with reportId", status_code=422)
            seq, subject = row["ledger_seq"], {"reportId": report_id, "index": index}
            subject["relationId"] = row["relation_id"]
        else:
            row = uow.runs.get(str(run_id))
            if row is None:
                raise NotFound(f"no match run {run_id}")
            relation_for(uow, caller, row["relation_id"])
            if item_no is None:
                raise InvalidInput("give itemNo with runId", status_code=422)
            leaves = rows.item_leaves(str(run_id))
            index, seq = item_no, row["ledger_seq"]
            subject = {"runId": run_id, "itemNo": item_no, "relationId": row["relation_id"]}
    if not 0 <= index < len(leaves):
        raise NotFound(f"no record {index} (there are {len(leaves)})")
    ledger = ports.ledger
    return InclusionProof(
        leaves, index, ledger.get(seq), subject, ledger.anchor(seq), ledger.domain
    )
