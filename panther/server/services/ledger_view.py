"""Reading and verifying the ledger against the data the server stores.

Verification recomputes the chain and the signatures (``panther.ledger.verify``), every
Merkle root from the stored rows, and checks that each projection row (party, relation,
report, run) says what its ledger entry says. The first broken thing is reported.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.inventory.parse import content_hash
from panther.ledger.merkle import merkle_root
from panther.ledger.transactions import LedgerEntry, TxType
from panther.ledger.verify import verify_ledger
from panther.matching.profile import MatchProfile
from panther.settlement import BillingError, statement_from_json

from . import review_state
from .context import Caller
from .errors import NotFound
from .ports import Ports, UnitOfWork

__all__ = [
    "JSON_COLUMNS",
    "decode_row",
    "entry_columns",
    "entry_view",
    "get_entry",
    "list_entries",
    "proof",
    "verify",
]


def entry_view(entry: LedgerEntry, base: str) -> dict[str, Any]:
    tx = entry.tx
    return {
        "id": str(entry.seq),
        "href": f"{base}/panther/v1/ledger/entry/{entry.seq}",
        "@type": "LedgerEntry",
        "seq": entry.seq,
        "type": str(tx.type.value),
        "version": tx.version,
        "relation": tx.relation,
        "payload": dict(tx.payload),
        "merkleRoot": tx.merkle_root.hex() if tx.merkle_root else None,
        "signers": list(tx.signers),
        "signatures": ["0x" + s.hex() for s in tx.signatures],
        "prevHash": entry.prev_hash.hex(),
        "entryHash": entry.entry_hash.hex(),
        "recordedAt": entry.recorded_at,
    }


def _visible(uow: UnitOfWork, caller: Caller, entry: LedgerEntry) -> bool:
    if caller.is_operator or entry.tx.relation is None:
        return True
    rel = repo.get_row(uow.conn, repo.T.relation, id=entry.tx.relation)
    return rel is not None and caller.party_id in (rel["supplier_id"], rel["customer_id"])


def list_entries(
    ports: Ports, caller: Caller, *, offset: int, limit: int, type_: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    out: list[dict[str, Any]] = []
    total = 0
    with ports.uow.read() as uow:
        for entry in ports.ledger.iterate(0):
            if type_ and entry.tx.type.value != type_:
                continue
            if not _visible(uow, caller, entry):
                continue
            if offset <= total < offset + limit:
                out.append(entry_view(entry, ports.settings.public_base_url))
            total += 1
    return out, total


def get_entry(ports: Ports, caller: Caller, seq: int) -> dict[str, Any]:
    head = ports.ledger.head()
    if head is None or seq < 0 or seq > head.seq:
        raise NotFound(f"no ledger entry {seq}")
    entry = ports.ledger.get(seq)
    with ports.uow.read() as uow:
        if not _visible(uow, caller, entry):
            raise NotFound(f"no ledger entry {seq}")
    return entry_view(entry, ports.settings.public_base_url)


def _leaves(
    uow: UnitOfWork, table: sa.Table, key_col: str, key: str, order_col: str
) -> list[bytes]:
    rows = uow.conn.execute(
        sa.select(table.c.body).where(table.c[key_col] == key).order_by(table.c[order_col])
    )
    return [b.encode() for (b,) in rows]


def _differs(row: dict[str, Any] | None, expected: dict[str, Any]) -> bool:
    return row is None or any(row[k] != v for k, v in expected.items())


# Projection columns that hold JSON text; entry_columns gives their values decoded.
JSON_COLUMNS = frozenset({"terms", "counts"})


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """A projection row with its JSON text columns decoded (text that is not JSON stays)."""
    out = dict(row)
    for name in JSON_COLUMNS.intersection(out):
        try:
            out[name] = json.loads(out[name])
        except (TypeError, ValueError):
            pass
    return out


def entry_columns(entry: LedgerEntry) -> tuple[sa.Table, dict[str, Any], dict[str, Any]] | None:
    """The projection row an entry speaks for and what it says: (table, key, columns).

    This is the one place that says which column holds which payload field; verification
    and the replay (``replay.py``) both read it. An inventory report is found by its
    ledger_seq (its id is not in the payload). None for types with no projection yet.
    """
    p, t, seq = entry.tx.payload, entry.tx.type, entry.seq
    root = entry.tx.merkle_root.hex() if entry.tx.merkle_root else None
    if t == TxType.PartyRegistered:
        return (
            repo.T.party,
            {"id": p["partyId"]},
            {"address": p["address"], "name": p["name"], "role": p["role"], "ledger_seq": seq},
        )
    if t == TxType.RelationAgreed:
        return (
            repo.T.relation,
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
        return (
            repo.T.report,
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
            },
        )
    if t == TxType.MatchRecorded:
        return (
            repo.T.run,
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
        return (
            repo.T.run,
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


def _projection_problem(uow: UnitOfWork, entry: LedgerEntry) -> str | None:
    """What a projection row says differently from its ledger entry, if anything."""
    found = entry_columns(entry)
    if found is None:
        return None
    table, key, expected = found
    row = repo.get_row(uow.conn, table, **key)
    broken = row is None or _differs(decode_row(row), expected)
    if not broken and row is not None and entry.tx.type == TxType.RelationAgreed:
        stored = MatchProfile.from_dict(json.loads(row["profile"]))
        broken = stored.profile_hash() != expected["profile_hash"]
    if not broken:
        return None
    if table is repo.T.report:
        return f"the inventory report of entry {entry.seq} differs from it"
    noun = {"party": "party", "relation": "relation", "match_run": "match run"}[table.name]
    return f"{noun} {key['id']} differs from its {entry.tx.type.value} entry"


def verify(ports: Ports, caller: Caller | None = None) -> dict[str, Any]:
    """Recompute everything; ``caller`` is accepted for symmetry (the result has no data)."""
    del caller
    with ports.uow.read() as uow:
        problems: list[dict[str, Any]] = []

        def recompute_root(entry: LedgerEntry) -> bytes | None:
            t, p = entry.tx.type, entry.tx.payload
            if t == TxType.InventoryReported:
                r = repo.T.report
                row = (
                    uow.conn.execute(sa.select(r).where(r.c.ledger_seq == entry.seq))
                    .mappings()
                    .first()
                )
                if row is None:
                    return b""  # the report the entry attests is gone
                leaves = _leaves(uow, repo.T.record, "report_id", row["id"], "seq")
                if content_hash(leaves) != p["contentHash"] or len(leaves) != p["recordCount"]:
                    return b""
                return merkle_root(leaves)
            if t in (TxType.MatchRecorded, TxType.MatchEndorsed):
                if repo.get_row(uow.conn, repo.T.run, id=p["runId"]) is None:
                    return b""
                return merkle_root(_leaves(uow, repo.T.item, "run_id", p["runId"], "item_no"))
            if t in (TxType.StatementIssued, TxType.StatementAgreed):
                # The statement as stored must still hash to what was issued and agreed.
                row = repo.get_row(uow.conn, repo.T.statement, id=p["statementId"])
                if row is None:
                    return b""
                try:
                    statement = statement_from_json(json.loads(row["statement"]))
                except (ValueError, BillingError):
                    return b""
                if statement.statement_hash != p["statementHash"]:
                    return b""
                return statement.lines_root
            if t == TxType.ReviewAgreed:
                ri = repo.T.review_item
                rows = uow.conn.execute(
                    sa.select(ri.c.item_no, ri.c.resolution).where(
                        ri.c.run_id == p["runId"],
                        ri.c.proposal_id == p["proposalId"],
                        ri.c.agreed_seq == entry.seq,
                    )
                ).all()
                if len(rows) != p["itemCount"]:
                    return b""
                return merkle_root(review_state.leaves([(n, json.loads(r)) for n, r in rows]))
            return None

        entries = list(ports.ledger.iterate(0))
        report = verify_ledger(
            entries,
            ports.domain,
            recompute_root=recompute_root,
            entry_hasher=ports.ledger.hash_entry,
        )
        if report.ok:
            for entry in entries:
                problem = _projection_problem(uow, entry)
                if problem:
                    problems.append({"seq": entry.seq, "kind": "projection", "detail": problem})
                    break
    first = None
    if report.first_failure is not None:
        f = report.first_failure
        first = {"seq": f.seq, "kind": f.kind, "detail": f.detail}
    elif problems:
        first = problems[0]
    return {
        "@type": "LedgerVerification",
        "ok": first is None,
        "entriesChecked": report.entries_checked,
        "head": entries[-1].entry_hash.hex() if entries else None,
        "firstFailure": first,
    }


def proof(
    ports: Ports,
    caller: Caller,
    *,
    report_id: str | None = None,
    index: int | None = None,
    product_id: str | None = None,
    run_id: str | None = None,
    item_no: int | None = None,
) -> dict[str, Any]:
    """An inclusion proof for one record of a report or one item of a match run."""
    from panther.ledger.proofs import build_proof_document

    from .errors import InvalidInput
    from .relations import relation_for

    if (report_id is None) == (run_id is None):
        raise InvalidInput(
            "give reportId (with index or productId) or runId (with itemNo)", status_code=422
        )
    with ports.uow.read() as uow:
        if report_id is not None:
            row = repo.get_row(uow.conn, repo.T.report, id=report_id)
            if row is None:
                raise NotFound(f"no inventory report {report_id}")
            relation_for(uow, caller, row["relation_id"])
            leaves = _leaves(uow, repo.T.record, "report_id", report_id, "seq")
            if product_id is not None:
                rec = repo.get_row(
                    uow.conn, repo.T.record, report_id=report_id, product_id=product_id
                )
                if rec is None:
                    raise NotFound(f"no product {product_id} in report {report_id}")
                index = rec["seq"]
            if index is None:
                raise InvalidInput("give index or productId with reportId", status_code=422)
            seq, subject = row["ledger_seq"], {"reportId": report_id, "index": index}
        else:
            row = repo.get_row(uow.conn, repo.T.run, id=run_id)
            if row is None:
                raise NotFound(f"no match run {run_id}")
            relation_for(uow, caller, row["relation_id"])
            if item_no is None:
                raise InvalidInput("give itemNo with runId", status_code=422)
            leaves = _leaves(uow, repo.T.item, "run_id", str(run_id), "item_no")
            index, seq = item_no, row["ledger_seq"]
            subject = {"runId": run_id, "itemNo": item_no}
    if not 0 <= index < len(leaves):
        raise NotFound(f"no record {index} (there are {len(leaves)})")
    entry = entry_view(ports.ledger.get(seq), ports.settings.public_base_url)
    return build_proof_document(leaves, index, entry=entry, subject=subject)
