"""Issued statements as TMF678 customerBills: who may see one, listing and reading them, the
invoice PDF, and their lifecycle (the customer's `validated` completes StatementAgreed)."""

from __future__ import annotations

import json
from datetime import MINYEAR, UTC, date, datetime, time, timedelta
from typing import Any

from panther.inventory.views import select_fields
from panther.ledger.transactions import Transaction, TxType
from panther.settlement import statement_from_json

from ..representations import tmf678
from ..representations.tmf678 import etag
from .billing_events import publish_bill_event, publish_mef_state_change
from .context import Caller
from .errors import Conflict, Forbidden, NotFound, PreconditionFailed
from .ports import Ports, Row, UnitOfWork
from .ports.billing import Days
from .relations import relation_for
from .signing import co_sign

__all__ = [
    "TRANSITIONS",
    "agreed_tx",
    "bill_document",
    "bill_for",
    "day_starting",
    "days_starting_after",
    "days_starting_before",
    "get_bill",
    "list_bills",
    "patch_bill",
    "viewer",
]

# (from, to) -> the side that may make the change (TMF678 document, "Lifecycle").
TRANSITIONS: dict[tuple[str, str], str] = {
    ("new", "onHold"): "customer",
    ("onHold", "new"): "customer",
    ("new", "validated"): "customer",
    ("onHold", "validated"): "customer",
    ("validated", "sent"): "supplier",
    ("sent", "partiallyPaid"): "supplier",
    ("sent", "settled"): "supplier",
    ("partiallyPaid", "settled"): "supplier",
}


def agreed_tx(row: Row) -> Transaction:
    """StatementAgreed over a stored statement: the supplier signs it on issue, the customer
    when it validates the bill."""
    return Transaction(
        type=TxType.StatementAgreed,
        version=1,
        relation=row["relation_id"],
        payload={
            "statementId": row["id"],
            "relationId": row["relation_id"],
            "period": row["period"],
            "version": row["version"],
            "statementHash": row["statement_hash"],
            "issuedSeq": row["issued_seq"],
        },
        merkle_root=bytes.fromhex(row["lines_root"]),
    )


def viewer(caller: Caller) -> str | None:
    """Whose relations' bills the caller sees: its own; the operator's: everyone's (None)."""
    return None if caller.is_operator else caller.party_id


def bill_for(uow: UnitOfWork, caller: Caller, bill_id: str) -> tuple[Row, Row]:
    """The statement and its relation, if the caller may see them (404 otherwise)."""
    row = uow.billing.statement(bill_id)
    if row is None:
        raise NotFound(f"no customerBill {bill_id}")
    try:
        relation = relation_for(uow, caller, row["relation_id"])
    except NotFound:
        raise NotFound(f"no customerBill {bill_id}") from None
    return row, relation


# ---- reading ------------------------------------------------------------------------------


def day_starting(text: str) -> str | None:
    """The day (YYYY-MM-DD) whose start, UTC, is the instant ``text`` says (``at`` shows a
    period's bounds so); None when it names none: not a date-time with an offset, or not the
    start of a day."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    if instant.tzinfo is None:  # never the same instant as one with an offset
        return None
    try:
        utc = instant.astimezone(UTC)
    except OverflowError:  # before or after every day
        return None
    return utc.date().isoformat() if utc.time() == time() else None


def days_starting_before(bound: datetime) -> Days | None:
    """The days whose start, UTC, is before ``bound`` (an aware instant); None if none is."""
    try:
        utc = bound.astimezone(UTC)
    except OverflowError:
        return None if bound.year == MINYEAR else Days()
    try:
        last = utc.date() - timedelta(days=1) if utc.time() == time() else utc.date()
    except OverflowError:
        return None
    return Days(last=last.isoformat())


def days_starting_after(bound: datetime) -> Days | None:
    """The days whose start, UTC, is after ``bound`` (an aware instant); None if none is."""
    try:
        first = bound.astimezone(UTC).date() + timedelta(days=1)
    except OverflowError:
        return Days() if bound.year == MINYEAR else None
    return Days(first=first.isoformat())


def list_bills(
    ports: Ports,
    caller: Caller,
    *,
    filters: dict[str, str],
    fields: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    # Every filter is a condition of the query: the page and its total are the database's.
    bill_ids: set[str] | None = {filters["id"]} if "id" in filters else None
    if "billNo" in filters:
        numbered = tmf678.bill_ids_numbered(filters["billNo"])
        bill_ids = numbered if bill_ids is None else bill_ids & numbered
    starts = None
    if "billingPeriod.startDateTime" in filters:
        day = day_starting(filters["billingPeriod.startDateTime"])
        if day is None:  # no period starts then
            return [], 0
        starts = Days(day, day)
    # Every bill is a normal, off-cycle one (bill_view).
    if filters.get("category", "normal") != "normal" or filters.get("runType", "offCycle") != (
        "offCycle"
    ):
        return [], 0
    with ports.uow.read() as uow:
        rows, total = uow.billing.list_statements(
            viewer(caller),
            bill_ids=bill_ids,
            states=[filters["state"]] if "state" in filters else None,
            relation_id=filters.get("billingAccount.id"),
            carrier_id=filters.get("relatedParty.id"),
            starts=starts,
            offset=offset,
            limit=limit,
        )
    base = ports.settings.public_base_url
    views = (
        tmf678.bill_view(
            base, r, {"supplier_id": r["supplier_id"], "customer_id": r["customer_id"]}
        )
        for r in rows
    )
    return [select_fields(v, fields) for v in views], total


def get_bill(
    ports: Ports, caller: Caller, bill_id: str, fields: str | None = None
) -> tuple[dict[str, Any], str]:
    with ports.uow.read() as uow:
        row, relation = bill_for(uow, caller, bill_id)
    view = tmf678.bill_view(ports.settings.public_base_url, row, relation)
    return select_fields(view, fields), etag(row)


def bill_document(ports: Ports, caller: Caller, bill_id: str) -> tuple[bytes, str]:
    """The invoice PDF (a draft until the customer endorsed the statement)."""
    # fpdf2 is loaded only when an invoice is rendered (not to dodge a cycle: it is heavy).
    from panther.settlement.invoice import render_invoice

    with ports.uow.read() as uow:
        row, relation = bill_for(uow, caller, bill_id)
        supplier = uow.parties.get(relation["supplier_id"])
        customer = uow.parties.get(relation["customer_id"])
    agreed_on = None
    if row["agreed_seq"] is not None:
        agreed_on = date.fromisoformat(ports.ledger.get(row["agreed_seq"]).recorded_at[:10])
    pdf = render_invoice(
        statement_from_json(json.loads(row["statement"])),
        supplier_name=supplier["name"] if supplier else None,
        customer_name=customer["name"] if customer else None,
        agreed_on=agreed_on,
    )
    return pdf, etag(row)


# ---- changing a bill's state --------------------------------------------------------------


def patch_bill(
    ports: Ports, caller: Caller, bill_id: str, body: dict[str, Any], if_match: str | None
) -> tuple[dict[str, Any], str]:
    """Change the state of a bill (only the state), per the lifecycle table."""
    wanted = str(body["state"])
    base = ports.settings.public_base_url
    with ports.uow.write() as uow:
        row, relation = bill_for(uow, caller, bill_id)
        if if_match is not None and if_match.strip() not in ("*", etag(row)):
            raise PreconditionFailed(
                f"customerBill {bill_id} changed: its ETag is {etag(row)}, not {if_match}"
            )
        if row["superseded_by"]:
            raise Conflict(
                f"statement {bill_id} is superseded by {row['superseded_by']}; act on that one"
            )
        if caller.party_id == relation["supplier_id"]:
            side = "supplier"
        elif caller.party_id == relation["customer_id"]:
            side = "customer"
        else:
            raise Forbidden("only the relation's carriers change its bills")
        if wanted == row["state"]:
            return tmf678.bill_view(base, row, relation), etag(row)
        before = row["state"]
        allowed = TRANSITIONS.get((row["state"], wanted))
        if allowed is None:
            raise Conflict(f"a bill in state {row['state']} cannot become {wanted}")
        if allowed != side:
            raise Forbidden(f"only the {allowed} moves a bill from {row['state']} to {wanted}")
        values: dict[str, Any] = {
            "state": wanted,
            "revision": row["revision"] + 1,
            "updated_at": ports.clock.now_iso(),
        }
        if wanted == "validated":
            signed = co_sign(
                ports,
                uow,
                signatures=uow.billing.endorsements(bill_id),
                relation=relation,
                party_id=caller.party_id,
                tx=agreed_tx(row),
                signature=None,
            )
            if signed.entry is None and signed.already:
                raise _changed_meanwhile(bill_id, if_match)
            if signed.entry is None:
                raise Conflict(f"statement {bill_id} lacks the supplier's signature")
            values["agreed_seq"] = signed.entry.seq
        if not uow.billing.change_statement(bill_id, row["revision"], values):
            raise _changed_meanwhile(bill_id, if_match)
        row = {**row, **values}
    view = tmf678.bill_view(base, row, relation)
    publish_bill_event(ports, relation, "customerBillStateChangeEvent", view)
    publish_mef_state_change(ports, relation, before, row)
    return view, etag(row)


def _changed_meanwhile(bill_id: str, if_match: str | None) -> Conflict | PreconditionFailed:
    """Someone else changed the bill between our read and our write: the caller's If-Match
    no longer holds (412), or, without one, the change it asked for must be asked again (409)."""
    message = f"customerBill {bill_id} changed meanwhile; read it again"
    return PreconditionFailed(message) if if_match is not None else Conflict(message)
