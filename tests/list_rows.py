"""Trouble tickets and bills written straight through the repositories, varied where the list
filters look (externalId, related entities, credits carried on a bill, bill numbers, periods),
for the list filter tests and bench/bench_list_filters.py. The bench writes them with main's
tree too (the figures before): rows keep only the columns the tree's tables have."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.server.representations.tmf621 import ledger_entity
from panther.server.services.ports import Ports, Row
from panther.settlement import BillingPeriod

# Three carriers and three relations between them.
RELATIONS = {"rel-1": ("sup", "cus"), "rel-2": ("oth", "cus"), "rel-3": ("sup", "oth")}
PERIODS = [BillingPeriod.month(2026, m) for m in (1, 2, 3)] + [BillingPeriod.quarter(2026, 2)]
BILL_STATES = ["new", "validated", "sent", "settled", "onHold", "partiallyPaid"]
# What ticket n gives as externalId (absent for None).
EXTERNAL_IDS: list[Any] = ["EXT-a", "EXT-b", None, "ext-a", "a\x00b", "L" * 3000, "EXT-a "]
TICKET_STATUSES = ["acknowledged", "inProgress", "resolved", "closed", "rejected"]


def external_key(given: Any) -> str | None:
    """The SHA-256 of an externalId string (computed here: main's tree has no such key)."""
    if not isinstance(given, str):
        return None
    return hashlib.sha256(given.encode("utf-8", "surrogatepass")).hexdigest()


def _known(table: Any, row: Row) -> Row:
    return {k: v for k, v in row.items() if k in table.c}


def _parents(conn: sa.Connection) -> None:
    t = repo.T
    for n, party in enumerate(("sup", "cus", "oth")):
        conn.execute(
            t.party.insert().values(
                id=party,
                name=party.upper(),
                role="carrier",
                address=f"0x{n:040x}",
                custody="custodial",
                created_at="t",
            )
        )
    for rel, (supplier, customer) in RELATIONS.items():
        conn.execute(
            t.relation.insert().values(
                id=rel,
                supplier_id=supplier,
                customer_id=customer,
                profile="{}",
                profile_hash="h",
                terms="{}",
                state="agreed",
                proposed_by=supplier,
                created_at="t",
            )
        )
        for side, reporter in (("supplier", supplier), ("customer", customer)):
            conn.execute(
                t.report.insert().values(
                    id=f"rep-{rel}-{side}",
                    relation_id=rel,
                    reporter_id=reporter,
                    side=side,
                    as_of="2026-01-01",
                    version=1,
                    content_hash="h",
                    merkle_root="m",
                    record_count=0,
                    media_type="application/json",
                    origin="upload",
                    signature="s",
                    created_at="t",
                )
            )
        conn.execute(
            t.run.insert().values(
                id=f"run-{rel}",
                relation_id=rel,
                as_of="2026-01-01",
                supplier_report_id=f"rep-{rel}-supplier",
                customer_report_id=f"rep-{rel}-customer",
                profile_hash="h",
                state="final",
                counts="{}",
                items_root="r",
                item_count=0,
                created_at="t",
            )
        )


def _statement(bill_id: str, rel: str, period: BillingPeriod, version: int, n: int) -> Row:
    doc = {
        "currency": "EUR",
        "period": period.to_json(),
        "statementDate": period.end.isoformat(),
        "terms": {"taxRate": "0.2"},
        "totals": {"amount": "10", "tax": "2", "total": "12", "heldOut": "0"},
    }
    return {
        "id": bill_id,
        "relation_id": rel,
        "period": period.label,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "version": version,
        "state": BILL_STATES[n % len(BILL_STATES)],
        "statement": json.dumps(doc),
        "statement_hash": "0" * 64,
        "lines_root": "0" * 64,
        "supersedes": None,
        "superseded_by": None,
        "run_id": f"run-{rel}",
        "issued_seq": None,
        "agreed_seq": None,
        "revision": 1,
        "created_at": f"2026-05-01T00:00:{n % 60:02d}.{n:06d}Z",
        "updated_at": "t",
    }


def bill_ids(bills: int) -> list[tuple[str, str, BillingPeriod, int]]:
    """(bill id, relation, period, version) of ``bills`` statements: every relation and
    period, then more versions; a few ids without the CB- prefix or with it twice."""
    out = []
    for n in range(bills):
        rel = list(RELATIONS)[n % len(RELATIONS)]
        period = PERIODS[(n // len(RELATIONS)) % len(PERIODS)]
        version = 1 + n // (len(RELATIONS) * len(PERIODS))
        bill_id = f"CB-{rel}-{period.label}-v{version}"
        if n % 7 == 5:
            bill_id = f"X{n}"
        elif n % 7 == 6:
            bill_id = f"CB-CB-X{n}"
        out.append((bill_id, rel, period, version))
    return out


def write(ports: Ports, *, tickets: int, bills: int) -> None:
    """The parties, relations and runs, ``bills`` statements and ``tickets`` tickets."""
    with ports.db.engine.begin() as conn:
        _parents(conn)
    made = bill_ids(bills)
    with ports.uow.write() as uow:
        for n, (bill_id, rel, period, version) in enumerate(made):
            row = _statement(bill_id, rel, period, version, n)
            uow.billing.add_statement(_known(repo.T.statement, row), [])
        noted = getattr(uow.disputes, "add_ledger_entry", None)
        for n in range(tickets):
            row, entities, seqs = _ticket(n, made)
            uow.disputes.add_ticket(_known(repo.T.ticket, row), entities)
            for seq in seqs if noted is not None else ():
                noted(row["id"], seq)


def _ticket(
    n: int, bills: list[tuple[str, str, BillingPeriod, int]]
) -> tuple[Row, list[Row], list[int]]:
    rel = list(RELATIONS)[n % len(RELATIONS)]
    of_rel = [b for b in bills if b[1] == rel]
    body: dict[str, Any] = {"note": [], "relatedParty": [], "statusChange": []}
    body["statusChangeDate"] = "t"
    given = EXTERNAL_IDS[n % len(EXTERNAL_IDS)]
    if given is not None:
        body["externalId"] = given
    entities: list[Row] = []
    related = []
    if n % 2:
        kind, role, entity_id = "MatchItem", "disputedItem", f"run-{rel}:{n % 11}"
    else:
        kind, role, entity_id = "AppliedCustomerBillingRate", "disputedCharge", f"L-{n % 13}"
    related.append({"id": entity_id, "role": role, "@referredType": kind})
    entities.append({"entity_id": entity_id, "kind": kind, "relation_id": rel, "product_id": None})
    if n % 4 == 0 and of_rel:
        bill_id = of_rel[n % len(of_rel)][0]
        related.append({"id": bill_id, "role": "disputedBill", "@referredType": "CustomerBill"})
        entities.append(
            {"entity_id": bill_id, "kind": "CustomerBill", "relation_id": rel, "product_id": None}
        )
    # The ledger entries of its transactions: 2n + 1, and 2n + 2 for half of them; seq 7
    # is also named by a few more.
    seqs = [2 * n + 1] + ([2 * n + 2] if n % 2 else []) + ([7] if n % 7 == 4 else [])
    related += [ledger_entity(seq, "DisputeOpened") for seq in seqs]
    body["relatedEntity"] = related
    credited = PERIODS[n % len(PERIODS)].label if n % 3 == 0 else None
    row: Row = {
        "id": f"TT-{n:06d}",
        "relation_id": rel,
        "ticket_type": "inventoryDispute" if n % 2 else "billingDispute",
        "status": TICKET_STATUSES[n % len(TICKET_STATUSES)],
        "originator_id": RELATIONS[rel][n % 2],
        "external_key": external_key(given),
        "body": json.dumps(body, sort_keys=True),
        "revision": 1,
        "proposal_no": 0,
        "credit": None,
        "credited_period": credited,
        "resolved_seq": None,
        "created_at": f"2026-06-01T00:{n % 60:02d}:00.{n:06d}Z",
        "updated_at": "t",
    }
    return row, entities, seqs
