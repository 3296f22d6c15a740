"""Billing statements on demand (TMF678 customerBillOnDemand): the supplier asks for its
statement of a relation and period, which is issued on the ledger with its lines.

The supplier issues (`StatementIssued`, supplier-signed, merkle root = the lines' root) and at
the same time signs its agreement to exactly that statement (the `StatementAgreed`
transaction, which needs both signatures and cannot reuse the issue signature); the customer's
`validated` (see `bills`) adds its signature and the ledger records `StatementAgreed` with
both. Only custodial parties can do either through this API (the TMF678 bodies carry no
signature).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from typing import Any

from panther.inventory.views import select_fields
from panther.ledger.transactions import Transaction, TxType
from panther.settlement import (
    BillingPeriod,
    BillingStatement,
    InvalidStatementInput,
    build_statement,
    revise,
    statement_from_json,
)
from panther.settlement.money import minor_text

from ..representations import tmf678
from .billing_events import publish_bill_event
from .bills import agreed_tx, viewer
from .context import Caller
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .ports import Ports, Row, UnitOfWork
from .ports.billing import StatementTaken
from .relations import relation_for
from .signing import co_sign, endorse
from .statement_inputs import credits, final_run, parse_period, relation_terms, statement_inputs

__all__ = [
    "get_bill_request",
    "issued_tx",
    "line_rows",
    "list_bill_requests",
    "request_statement",
]

_OPEN = ("new", "onHold")  # states in which a statement may still be revised
_LINE_TYPE = {
    "recurring": "recurringCharge",
    "oneTime": "oneTimeCharge",
    "credit": "appliedBillingCredit",
}


def issued_tx(row: Row, statement: BillingStatement) -> Transaction:
    """StatementIssued: the supplier's statement, committed to by its hash and lines' root."""
    exp = statement.terms.exponent
    totals = statement.totals
    return Transaction(
        type=TxType.StatementIssued,
        version=1,
        relation=row["relation_id"],
        payload={
            "statementId": row["id"],
            "relationId": row["relation_id"],
            "period": row["period"],
            "version": row["version"],
            "statementHash": row["statement_hash"],
            "supersedes": statement.supersedes,
            "currency": statement.currency,
            "totals": {
                "amount": minor_text(totals.amount, exp),
                "tax": minor_text(totals.tax, exp),
                "total": minor_text(totals.total, exp),
                "heldOut": minor_text(totals.held_out, exp),
            },
        },
        merkle_root=bytes.fromhex(row["lines_root"]),
    )


def _bill_id(relation_id: str, period: BillingPeriod, version: int) -> str:
    return f"CB-{relation_id}-{period.label}-v{version}"


def line_rows(row: Row, statement: BillingStatement) -> list[Row]:
    """The stored lines of a statement: its billed lines, then its held-out items."""
    rows = []
    stem = row["id"].removeprefix("CB-")
    for line in statement.lines:
        rows.append(
            {
                "id": f"ACBR-{stem}-{line.number:04d}",
                "bill_id": row["id"],
                "relation_id": row["relation_id"],
                "line_no": line.number,
                "is_billed": True,
                "kind": _LINE_TYPE[line.kind.value],
                "product_id": line.product_id,
                "body": json.dumps(line.to_json(), sort_keys=True),
            }
        )
    for n, item in enumerate(statement.held_out, start=len(statement.lines) + 1):
        rows.append(
            {
                "id": f"ACBR-{stem}-{n:04d}",
                "bill_id": row["id"],
                "relation_id": row["relation_id"],
                "line_no": n,
                "is_billed": False,
                "kind": "recurringCharge",
                "product_id": item.product_id,
                "body": json.dumps(item.to_json(), sort_keys=True),
            }
        )
    return rows


def request_statement(
    ports: Ports, caller: Caller, body: dict[str, Any], *, today: date | None = None
) -> dict[str, Any]:
    """The supplier asks for its statement of a relation and period (a customerBillOnDemand).

    The same inputs give the same statement; changed inputs give its next version, which
    supersedes the open one (an agreed statement is never revised: 409).
    """
    relation_id = str(body["billingAccount"]["id"])
    try:
        with ports.uow.write() as uow:
            try:
                relation = relation_for(uow, caller, relation_id)
            except NotFound:
                # A reference in the body, so 422 (the operation has no 404); the same for
                # a relation that exists but is not the caller's.
                raise InvalidInput(
                    f"no relation {relation_id}",
                    details=[{"pointer": "/billingAccount/id", "message": "unknown relation"}],
                ) from None
            if caller.party_id != relation["supplier_id"]:
                raise Forbidden("only the relation's supplier asks for its statements")
            if relation["state"] != "agreed":
                raise Conflict(f"relation {relation_id} is not agreed by both parties")
            terms = relation_terms(relation)
            period = parse_period(
                terms, body.get("billingPeriod"), today or datetime.now(UTC).date()
            )
            run = final_run(uow, relation_id, period)
            services, held = statement_inputs(uow, run, terms, period)
            previous_row = uow.billing.latest_statement(relation_id, period.label)
            carried = credits(
                uow,
                relation_id,
                period,
                new_ones=previous_row is None or previous_row["state"] in _OPEN,
            )
            try:
                fresh = build_statement(
                    relation_id=relation_id,
                    supplier=relation["supplier_id"],
                    customer=relation["customer_id"],
                    terms=terms,
                    period=period,
                    services=services,
                    held_out=held,
                    credits=[c for _, c in carried],
                )
            except InvalidStatementInput as exc:
                raise InvalidInput(
                    "the final match run cannot be billed under the relation's terms",
                    details=[{"pointer": p.pointer, "message": p.message} for p in exc.problems],
                ) from None
            previous = (
                statement_from_json(json.loads(previous_row["statement"])) if previous_row else None
            )
            kept = revise(previous, fresh)
            if previous_row is not None and kept is previous:
                bill = previous_row
            else:
                if previous_row is not None and previous_row["state"] not in _OPEN:
                    raise Conflict(
                        f"statement {previous_row['id']} is already {previous_row['state']}; "
                        "a correction cannot revise it"
                    )
                bill = _issue(ports, uow, relation, kept, run, previous_row)
            if carried:
                uow.billing.carry_credits([t for t, _ in carried], period.label)
            request = {
                "id": f"CBOD-{secrets.token_hex(8)}",
                "relation_id": relation_id,
                "party_id": caller.party_id,
                "period": period.label,
                "state": "done",
                "bill_id": bill["id"],
                "name": body.get("name"),
                "description": body.get("description"),
                "created_at": ports.clock.now_iso(),
            }
            uow.billing.add_request(request)
    except StatementTaken:
        raise Conflict(
            f"another statement of relation {relation_id} was issued meanwhile; ask again"
        ) from None
    base = ports.settings.public_base_url
    if bill is not previous_row:
        view = tmf678.bill_view(base, bill, relation)
        publish_bill_event(ports, relation, "customerBillCreateEvent", view)
    return tmf678.request_view(base, request)


def _issue(
    ports: Ports,
    uow: UnitOfWork,
    relation: Row,
    statement: BillingStatement,
    run: Row,
    previous: Row | None,
) -> Row:
    now = ports.clock.now_iso()
    row: Row = {
        "id": _bill_id(relation["id"], statement.period, statement.version),
        "relation_id": relation["id"],
        "period": statement.period.label,
        "period_start": statement.period.start.isoformat(),
        "period_end": statement.period.end.isoformat(),
        "version": statement.version,
        "state": "new",
        "statement": statement.canonical_json.decode(),
        "statement_hash": statement.statement_hash,
        "lines_root": statement.lines_root.hex(),
        "supersedes": previous["id"] if previous else None,
        "superseded_by": None,
        "run_id": run["id"],
        "issued_seq": None,
        "agreed_seq": None,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    supplier = uow.parties.get(relation["supplier_id"])
    assert supplier is not None
    tx = issued_tx(row, statement)
    sig = endorse(ports, uow, supplier, tx, None)
    signed = Transaction(
        tx.type, tx.version, tx.relation, tx.payload, tx.merkle_root, (supplier["address"],), (sig,)
    )
    entry = uow.append(signed)
    row["issued_seq"] = entry.seq
    uow.billing.add_statement(row, line_rows(row, statement))
    if previous is not None:
        uow.billing.supersede(previous["id"], row["id"], previous["revision"] + 1, now)
    # Issuing is the supplier's agreement to exactly this statement: its half of
    # StatementAgreed, which the customer's endorsement completes.
    co_sign(
        ports,
        uow,
        signatures=uow.billing.endorsements(row["id"]),
        relation=relation,
        party_id=relation["supplier_id"],
        tx=agreed_tx(row),
        signature=None,
    )
    return row


# ---- statement requests (customerBillOnDemand) ----------------------------------------------


def list_bill_requests(
    ports: Ports,
    caller: Caller,
    *,
    filters: dict[str, str],
    fields: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    with ports.uow.read() as uow:
        rows, total = uow.billing.list_requests(
            viewer(caller),
            request_id=filters.get("id"),
            state=filters.get("state"),
            relation_id=filters.get("billingAccount.id"),
            offset=offset,
            limit=limit,
        )
    base = ports.settings.public_base_url
    return [select_fields(tmf678.request_view(base, r), fields) for r in rows], total


def get_bill_request(
    ports: Ports, caller: Caller, request_id: str, fields: str | None = None
) -> dict[str, Any]:
    page, total = list_bill_requests(
        ports, caller, filters={"id": request_id}, fields=fields, offset=0, limit=1
    )
    if not total:
        raise NotFound(f"no customerBillOnDemand {request_id}")
    return page[0]
