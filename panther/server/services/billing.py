"""Billing statements: the supplier's statement of a relation and period from its newest final
match run, issued on the ledger, endorsed by the customer, served as TMF678 bills.

Which run a statement is made of: the newest *final* run (endorsed by both carriers) whose
as-of date is before the period's end, i.e. the inventory both agreed on as of the latest date
not after the period's last day (a run dated inside the period wins over any earlier one).
From that run: one service per `matched` item, from the supplier's record (product id, the
recurring `productPrice[priceType=recurring].price.dutyFreeAmount`, `startDate`,
`terminationDate`, the latter read as the first day the service no longer runs); `partial`
items are held out as `differences`, `mismatch` items with their reason (`missingAtCustomer`
and `ambiguous` with the supplier's records, `missingAtSupplier` with the customer's), each
with the amount at stake: its recurring charge prorated over the period like a line.

The supplier issues (`StatementIssued`, supplier-signed, merkle root = the lines' root) and at
the same time signs its agreement to exactly that statement (the `StatementAgreed`
transaction, which needs both signatures and cannot reuse the issue signature); the customer's
`validated` adds its signature and the ledger records `StatementAgreed` with both. Only
custodial parties can do either through this API (the TMF678 bodies carry no signature).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import orjson
import sqlalchemy as sa

from panther.adapters.sql import repository as repo
from panther.inventory.views import select_fields
from panther.ledger.transactions import Transaction, TxType
from panther.settlement import (
    BillingPeriod,
    BillingStatement,
    Credit,
    HeldOutItem,
    InvalidPeriod,
    InvalidStatementInput,
    InvalidTerms,
    OneTimeCharge,
    ServiceCharge,
    Terms,
    build_statement,
    period_containing,
    prorate,
    revise,
    statement_from_json,
)
from panther.settlement.money import CURRENCY_EXPONENTS, minor_text, to_minor

from . import hub, review_state
from .context import Caller, now_iso
from .disputes import OPEN_STATUSES
from .errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from .ports import Ports, UnitOfWork
from .relations import relation_for
from .signing import co_sign, endorse

__all__ = [
    "TMF_BASE",
    "bill_document",
    "etag",
    "get_bill",
    "get_bill_request",
    "get_rate",
    "list_bill_requests",
    "list_bills",
    "list_rates",
    "patch_bill",
    "register_listener",
    "request_statement",
    "unregister_listener",
]

TMF_BASE = "/tmf-api/customerBillManagement/v4"
_API = "customerBillManagement"

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
_OPEN = ("new", "onHold")  # states in which a statement may still be revised
RECURRING_FIELD = "recurringCharge"  # the compared field of the recurring charge
_LINE_TYPE = {
    "recurring": "recurringCharge",
    "oneTime": "oneTimeCharge",
    "credit": "appliedBillingCredit",
}


# ---- ledger transactions ------------------------------------------------------------------


def issued_tx(row: dict[str, Any], statement: BillingStatement) -> Transaction:
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


def agreed_tx(row: dict[str, Any]) -> Transaction:
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


# ---- generating a statement ---------------------------------------------------------------


def _terms(relation: dict[str, Any]) -> Terms:
    try:
        return Terms.from_json(json.loads(relation["terms"]))
    except InvalidTerms as exc:
        raise InvalidInput(
            "the relation's terms cannot be billed",
            details=[{"pointer": f"/terms{p.pointer}", "message": p.message} for p in exc.problems],
        ) from None


def _instant(text: Any, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        raise _bad_period(name, "not a date-time") from None
    if (
        value.tzinfo is None
        or value.utcoffset() != timedelta(0)
        or value.time() != datetime.min.time()
    ):
        raise _bad_period(name, "must be 00:00 UTC")
    return value


def _bad_period(name: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"billingPeriod: {message}",
        details=[{"pointer": f"/billingPeriod/{name}", "message": message}],
    )


def parse_period(terms: Terms, asked: dict[str, Any] | None, today: date) -> BillingPeriod:
    """The whole period of the terms that `asked` names; none: the last complete period."""
    if not asked:
        current = period_containing(today, terms.billing_period)
        return period_containing(current.start - timedelta(days=1), terms.billing_period)
    if "startDateTime" not in asked or "endDateTime" not in asked:
        raise _bad_period("startDateTime", "give both startDateTime and endDateTime")
    start = _instant(asked["startDateTime"], "startDateTime").date()
    end = _instant(asked["endDateTime"], "endDateTime").date()
    try:
        period = BillingPeriod(terms.billing_period, start)
    except InvalidPeriod:
        raise _bad_period(
            "startDateTime", f"not the first day of a {terms.billing_period.value}"
        ) from None
    if period.end != end:
        raise _bad_period("endDateTime", f"the {period.label} period ends on {period.end}")
    return period


def _final_run(uow: UnitOfWork, relation_id: str, period: BillingPeriod) -> dict[str, Any]:
    run = repo.T.run
    row = (
        uow.conn.execute(
            sa.select(run)
            .where(
                run.c.relation_id == relation_id,
                run.c.state == "final",
                run.c.as_of < period.end.isoformat(),
            )
            .order_by(run.c.as_of.desc(), run.c.endorsed_seq.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise Conflict(
            f"no final match run (endorsed by both) for relation {relation_id} "
            f"as of {period.last_day} or earlier"
        )
    return dict(row)


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _recurring(record: dict[str, Any], currency: str) -> tuple[Decimal, str]:
    for price in record.get("productPrice") or []:
        if isinstance(price, dict) and price.get("priceType") == "recurring":
            amount = ((price.get("price") or {}).get("dutyFreeAmount")) or {}
            value = amount.get("value")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return Decimal(str(value)), str(amount.get("unit") or currency)
    return Decimal(0), currency


def _span(record: dict[str, Any], period: BillingPeriod) -> tuple[date, date | None]:
    start = _day(record.get("startDate")) or period.start
    end = _day(record.get("terminationDate"))
    return start, (max(end, start) if end is not None else None)


def _one_time(record: dict[str, Any], currency: str, start: date) -> tuple[OneTimeCharge, ...]:
    """The record's one-time prices (`priceType` `oneTime`), each due on its
    `validFor.startDateTime` or, without one, on the service's start date."""
    out = []
    for price in record.get("productPrice") or []:
        if not isinstance(price, dict) or price.get("priceType") != "oneTime":
            continue
        amount = ((price.get("price") or {}).get("dutyFreeAmount")) or {}
        value = amount.get("value")
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        on = _day((price.get("validFor") or {}).get("startDateTime")) or start
        out.append(
            OneTimeCharge(
                on,
                Decimal(str(value)),
                str(amount.get("unit") or currency),
                str(price.get("name") or price.get("description") or "one-time charge"),
            )
        )
    return tuple(out)


def _agreed_monthly(
    item: dict[str, Any], resolution: dict[str, Any] | None, own: Decimal
) -> Decimal:
    """The recurring charge that stands after review or dispute: the supplier's own unless
    the resolution says the customer's value (or an agreed value) stands for it."""
    if not resolution:
        return own
    diff = next(
        (d for d in item.get("differences") or [] if d.get("field") == RECURRING_FIELD), None
    )
    for fv in resolution.get("fieldValue") or []:
        if fv.get("field") != RECURRING_FIELD:
            continue
        if fv.get("valueFrom") == "agreed":
            return review_state.number_of(fv.get("value")) or own
        if fv.get("valueFrom") == "customer" and diff is not None:
            return review_state.number_of(diff.get("customerValue")) or own
        return own
    if resolution.get("outcome") == "customerValueStands" and diff is not None:
        return review_state.number_of(diff.get("customerValue")) or own
    return own


def _records(uow: UnitOfWork, report_id: str, refs: set[int]) -> dict[int, dict[str, Any]]:
    if not refs:
        return {}
    rec = repo.T.record
    rows = uow.conn.execute(
        sa.select(rec.c.seq, rec.c.body).where(rec.c.report_id == report_id, rec.c.seq.in_(refs))
    )
    return {seq: orjson.loads(body) for seq, body in rows}


def _disputed_products(uow: UnitOfWork, relation_id: str) -> set[str]:
    """Products of the relation under an open dispute (inventory or billing)."""
    de, tt = repo.T.dispute_entity, repo.T.ticket
    return set(
        uow.conn.execute(
            sa.select(de.c.product_id)
            .join(tt, tt.c.id == de.c.ticket_id)
            .where(
                de.c.relation_id == relation_id,
                de.c.product_id.is_not(None),
                tt.c.status.in_(sorted(OPEN_STATUSES)),
            )
        ).scalars()
    )


def _credits(
    uow: UnitOfWork, relation_id: str, label: str, new_ones: bool
) -> list[tuple[str, Credit]]:
    """Agreed credits of closed disputes for this period's statement: those it already
    carries and, while it is open, those no statement carries yet."""
    tt = repo.T.ticket
    cond = tt.c.credited_period == label
    if new_ones:
        cond = sa.or_(cond, tt.c.credited_period.is_(None))
    out = []
    for ticket_id, text in uow.conn.execute(
        sa.select(tt.c.id, tt.c.credit)
        .where(tt.c.relation_id == relation_id, tt.c.status == "closed", tt.c.credit.is_not(None))
        .where(cond)
        .order_by(tt.c.id)
    ):
        credit = json.loads(text)
        out.append(
            (
                ticket_id,
                Credit(
                    ticket_id,
                    Decimal(str(credit["value"])),
                    str(credit["unit"]),
                    credit.get("productId"),
                ),
            )
        )
    return out


def statement_inputs(
    uow: UnitOfWork, run: dict[str, Any], terms: Terms, period: BillingPeriod
) -> tuple[list[ServiceCharge], list[HeldOutItem]]:
    """The services to bill and the items to hold out, from a run's items and their review.

    Billed: `matched` items, and `partial` and `mismatch` items both carriers agreed on (by
    review or by a closed dispute), at the recurring charge the agreement lets stand; an
    agreed `missingAtSupplier` item has nothing to bill. Held out: products under an open
    dispute (`disputed`), partial items not agreed (`differences`), mismatches not agreed
    (their reason)."""
    it = repo.T.item
    items = [
        (item_no, orjson.loads(body))
        for item_no, body in uow.conn.execute(
            sa.select(it.c.item_no, it.c.body)
            .where(it.c.run_id == run["id"])
            .order_by(it.c.item_no)
        )
    ]
    reviewed = review_state.resolutions_for_run(uow, run["id"])
    disputed = _disputed_products(uow, run["relation_id"])
    sup = _records(uow, run["supplier_report_id"], {r for _, i in items for r in i["supplierRefs"]})
    missing_at_supplier = {
        r for _, i in items if i.get("reason") == "missingAtSupplier" for r in i["customerRefs"]
    }
    cus = _records(uow, run["customer_report_id"], missing_at_supplier)
    services: list[ServiceCharge] = []
    held: list[HeldOutItem] = []
    cur, exp = terms.currency, terms.exponent

    def hold(record: dict[str, Any], reason: str) -> None:
        monthly, unit = _recurring(record, cur)
        start, end = _span(record, period)
        due = prorate(period, start, end, terms.proration)
        minor = to_minor(Fraction(monthly) * due.months, exp, terms.rounding)
        held.append(HeldOutItem(str(record["id"]), reason, Decimal(minor).scaleb(-exp), unit))

    for item_no, item in items:
        cls = item["class"]
        state = reviewed.get(item_no, {"state": "open", "resolution": None})
        if item.get("reason") == "missingAtSupplier":
            if state["state"] != "agreed":
                for ref in item["customerRefs"]:
                    record = cus[ref]
                    hold(record, "disputed" if str(record.get("id")) in disputed
                         or state["state"] == "disputed" else "missingAtSupplier")  # fmt: skip
            continue
        agreed = cls == "matched" or state["state"] == "agreed"
        for ref in item["supplierRefs"]:
            record = sup[ref]
            if str(record["id"]) in disputed or state["state"] == "disputed":
                hold(record, "disputed")
            elif not agreed:
                hold(record, "differences" if cls == "partial" else str(item.get("reason") or cls))
            else:
                own, unit = _recurring(record, cur)
                monthly = _agreed_monthly(item, state["resolution"], own)
                start, end = _span(record, period)
                services.append(
                    ServiceCharge(
                        str(record["id"]), monthly, unit, start, end, _one_time(record, cur, start)
                    )
                )
    return services, held


def _bill_id(relation_id: str, period: BillingPeriod, version: int) -> str:
    return f"CB-{relation_id}-{period.label}-v{version}"


def _line_rows(row: dict[str, Any], statement: BillingStatement) -> list[dict[str, Any]]:
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


def _latest(uow: UnitOfWork, relation_id: str, label: str) -> dict[str, Any] | None:
    st = repo.T.statement
    row = (
        uow.conn.execute(
            sa.select(st)
            .where(st.c.relation_id == relation_id, st.c.period == label)
            .order_by(st.c.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


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
            terms = _terms(relation)
            period = parse_period(
                terms, body.get("billingPeriod"), today or datetime.now(UTC).date()
            )
            run = _final_run(uow, relation_id, period)
            services, held = statement_inputs(uow, run, terms, period)
            previous_row = _latest(uow, relation_id, period.label)
            credits = _credits(
                uow,
                relation_id,
                period.label,
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
                    credits=[c for _, c in credits],
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
            if credits:
                tt = repo.T.ticket
                uow.conn.execute(
                    tt.update()
                    .where(tt.c.id.in_([t for t, _ in credits]))
                    .values(credited_period=period.label)
                )
            request = {
                "id": f"CBOD-{secrets.token_hex(8)}",
                "relation_id": relation_id,
                "party_id": caller.party_id,
                "period": period.label,
                "state": "done",
                "bill_id": bill["id"],
                "name": body.get("name"),
                "description": body.get("description"),
                "created_at": now_iso(),
            }
            repo.insert_row(uow.conn, repo.T.bill_request, request)
    except sa.exc.IntegrityError:
        raise Conflict(
            f"another statement of relation {relation_id} was issued meanwhile; ask again"
        ) from None
    if bill is not previous_row:
        _publish(
            ports,
            relation,
            "customerBillCreateEvent",
            {"customerBill": _bill_view(ports, bill, relation)},
        )
    return request_view(ports, request)


def _issue(
    ports: Ports,
    uow: UnitOfWork,
    relation: dict[str, Any],
    statement: BillingStatement,
    run: dict[str, Any],
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    now = now_iso()
    row: dict[str, Any] = {
        "id": _bill_id(relation["id"], statement.period, statement.version),
        "relation_id": relation["id"],
        "period": statement.period.label,
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
    supplier = repo.get_row(uow.conn, repo.T.party, id=relation["supplier_id"])
    assert supplier is not None
    tx = issued_tx(row, statement)
    sig = endorse(ports, uow, supplier, tx, None)
    signed = Transaction(
        tx.type, tx.version, tx.relation, tx.payload, tx.merkle_root, (supplier["address"],), (sig,)
    )
    entry = uow.append(signed)
    row["issued_seq"] = entry.seq
    repo.insert_row(uow.conn, repo.T.statement, row)
    cols = ("id", "bill_id", "relation_id", "line_no", "is_billed", "kind", "product_id", "body")
    repo.bulk_insert(
        uow.conn,
        repo.T.bill_line,
        cols,
        ([line[c] for c in cols] for line in _line_rows(row, statement)),
    )
    if previous is not None:
        repo.update_row(
            uow.conn,
            repo.T.statement,
            {"id": previous["id"]},
            {"superseded_by": row["id"], "revision": previous["revision"] + 1, "updated_at": now},
        )
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


# ---- reading ------------------------------------------------------------------------------


def _visible(caller: Caller) -> list[Any]:
    rel = repo.T.relation
    if caller.is_operator:
        return []
    return [sa.or_(rel.c.supplier_id == caller.party_id, rel.c.customer_id == caller.party_id)]


def _money(units: int, currency: str) -> dict[str, Any]:
    return {"unit": currency, "value": float(minor_text(units, CURRENCY_EXPONENTS[currency]))}


def _at(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _ref(ports: Ports, kind: str, id_: str) -> dict[str, str]:
    return {"id": id_, "href": f"{ports.settings.public_base_url}{TMF_BASE}/{kind}/{id_}"}


def etag(row: dict[str, Any]) -> str:
    return f'"{row["revision"]}"'


def _bill_view(ports: Ports, row: dict[str, Any], relation: dict[str, Any]) -> dict[str, Any]:
    """The TMF678 customerBill. It reads the stored statement's header (period, date, terms,
    totals) and never rebuilds its lines: a bill of 20,000 lines is viewed in milliseconds
    (`panther ledger verify` is what checks that the stored statement still hashes right)."""
    base = ports.settings.public_base_url
    doc = json.loads(row["statement"])
    cur = doc["currency"]
    totals = {k: Decimal(v) for k, v in doc["totals"].items()}

    def money(value: Decimal) -> dict[str, Any]:
        return {"unit": cur, "value": float(value)}

    bill_no = row["id"].removeprefix("CB-")
    due = Decimal(0) if row["state"] == "settled" else totals["total"]
    view: dict[str, Any] = {
        **_ref(ports, "customerBill", row["id"]),
        "@type": "BillingStatement",
        "@baseType": "CustomerBill",
        "billNo": bill_no,
        "billDate": f"{doc['statementDate']}T00:00:00Z",
        "lastUpdate": row["updated_at"],
        "category": "normal",
        "runType": "offCycle",
        "state": row["state"],
        "billingAccount": {
            "id": row["relation_id"],
            "href": f"{base}/panther/v1/relation/{row['relation_id']}",
        },
        "billingPeriod": {
            "startDateTime": f"{doc['period']['start']}T00:00:00Z",
            "endDateTime": f"{doc['period']['end']}T00:00:00Z",
        },
        "relatedParty": [
            {"id": relation["supplier_id"], "role": "supplier", "@referredType": "Organization"},
            {"id": relation["customer_id"], "role": "customer", "@referredType": "Organization"},
        ],
        "taxExcludedAmount": money(totals["amount"]),
        "taxIncludedAmount": money(totals["total"]),
        "amountDue": money(totals["total"]),
        "remainingAmount": money(due),
        "taxItem": [
            {
                "taxCategory": "VAT",
                "taxRate": float(Decimal(doc["terms"]["taxRate"])),
                "taxAmount": money(totals["tax"]),
            }
        ],
        "billDocument": [
            {
                "id": f"{row['id']}.pdf",
                "name": f"{bill_no}.pdf",
                "attachmentType": "invoice",
                "mimeType": "application/pdf",
                "url": f"{base}{TMF_BASE}/customerBill/{row['id']}/billDocument",
                "@referredType": "Attachment",
            }
        ],
        "statementVersion": row["version"],
        "statementHash": row["statement_hash"],
        "linesRoot": row["lines_root"],
        "heldOutAmount": money(totals["heldOut"]),
    }
    if base:
        view["@schemaLocation"] = (
            f"{base}{TMF_BASE}/openapi.json#/components/schemas/BillingStatement"
        )
    if row["supersedes"]:
        view["supersedes"] = _ref(ports, "customerBill", row["supersedes"])
    if row["superseded_by"]:
        view["supersededBy"] = _ref(ports, "customerBill", row["superseded_by"])
    return view


def _bill_for(
    uow: UnitOfWork, caller: Caller, bill_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    row = repo.get_row(uow.conn, repo.T.statement, id=bill_id)
    if row is None:
        raise NotFound(f"no customerBill {bill_id}")
    try:
        relation = relation_for(uow, caller, row["relation_id"])
    except NotFound:
        raise NotFound(f"no customerBill {bill_id}") from None
    return row, relation


def _same_instant(a: str | None, b: str) -> bool:
    if a is None:
        return False
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        return False


def _bill_matches(view: dict[str, Any], filters: dict[str, str]) -> bool:
    for name, wanted in filters.items():
        if name == "billingAccount.id":
            ok = view["billingAccount"]["id"] == wanted
        elif name == "billingPeriod.startDateTime":
            ok = _same_instant(view["billingPeriod"]["startDateTime"], wanted)
        elif name == "relatedParty.id":
            ok = any(p["id"] == wanted for p in view["relatedParty"])
        else:
            ok = str(view.get(name)) == wanted
        if not ok:
            return False
    return True


def list_bills(
    ports: Ports,
    caller: Caller,
    *,
    filters: dict[str, str],
    fields: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    st, rel = repo.T.statement, repo.T.relation
    q = sa.select(st, rel.c.supplier_id, rel.c.customer_id).join(rel, rel.c.id == st.c.relation_id)
    for cond in _visible(caller):
        q = q.where(cond)
    if "id" in filters:
        q = q.where(st.c.id == filters["id"])
    if "state" in filters:
        q = q.where(st.c.state == filters["state"])
    if "billingAccount.id" in filters:
        q = q.where(st.c.relation_id == filters["billingAccount.id"])
    with ports.uow.read() as uow:
        rows = [dict(r) for r in uow.conn.execute(q.order_by(st.c.created_at, st.c.id)).mappings()]
    views = [
        v
        for v in (
            _bill_view(ports, r, {"supplier_id": r["supplier_id"], "customer_id": r["customer_id"]})
            for r in rows
        )
        if _bill_matches(v, filters)
    ]
    return [select_fields(v, fields) for v in views[offset : offset + limit]], len(views)


def get_bill(
    ports: Ports, caller: Caller, bill_id: str, fields: str | None = None
) -> tuple[dict[str, Any], str]:
    with ports.uow.read() as uow:
        row, relation = _bill_for(uow, caller, bill_id)
    return select_fields(_bill_view(ports, row, relation), fields), etag(row)


def bill_document(ports: Ports, caller: Caller, bill_id: str) -> tuple[bytes, str]:
    """The invoice PDF (a draft until the customer endorsed the statement)."""
    from panther.settlement.invoice import render_invoice  # fpdf2: loaded only when needed

    with ports.uow.read() as uow:
        row, relation = _bill_for(uow, caller, bill_id)
        names = {
            p["id"]: p["name"]
            for p in repo.list_rows(
                uow.conn,
                repo.T.party,
                [repo.T.party.c.id.in_([relation["supplier_id"], relation["customer_id"]])],
            )
        }
    agreed_on = None
    if row["agreed_seq"] is not None:
        agreed_on = date.fromisoformat(ports.ledger.get(row["agreed_seq"]).recorded_at[:10])
    pdf = render_invoice(
        statement_from_json(json.loads(row["statement"])),
        supplier_name=names.get(relation["supplier_id"]),
        customer_name=names.get(relation["customer_id"]),
        agreed_on=agreed_on,
    )
    return pdf, etag(row)


# ---- changing a bill's state --------------------------------------------------------------


def patch_bill(
    ports: Ports, caller: Caller, bill_id: str, body: dict[str, Any], if_match: str | None
) -> tuple[dict[str, Any], str]:
    """Change the state of a bill (only the state), per the lifecycle table."""
    wanted = str(body["state"])
    with ports.uow.write() as uow:
        row, relation = _bill_for(uow, caller, bill_id)
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
            return _bill_view(ports, row, relation), etag(row)
        before = row["state"]
        allowed = TRANSITIONS.get((row["state"], wanted))
        if allowed is None:
            raise Conflict(f"a bill in state {row['state']} cannot become {wanted}")
        if allowed != side:
            raise Forbidden(f"only the {allowed} moves a bill from {row['state']} to {wanted}")
        values: dict[str, Any] = {
            "state": wanted,
            "revision": row["revision"] + 1,
            "updated_at": now_iso(),
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
            if signed.entry is None:
                raise Conflict(f"statement {bill_id} lacks the supplier's signature")
            values["agreed_seq"] = signed.entry.seq
        st = repo.T.statement
        changed = uow.conn.execute(
            st.update().where(st.c.id == bill_id, st.c.revision == row["revision"]).values(**values)
        ).rowcount
        if not changed:  # someone else changed it between our read and this write
            raise PreconditionFailed(f"customerBill {bill_id} changed meanwhile; read it again")
        row = {**row, **values}
    view = _bill_view(ports, row, relation)
    _publish(ports, relation, "customerBillStateChangeEvent", {"customerBill": view})
    from .billing_mef import publish_state_change  # the MEF 141 view of the same bills

    publish_state_change(ports, relation, before, row)
    return view, etag(row)


# ---- lines --------------------------------------------------------------------------------


def _rate_view(ports: Ports, line: dict[str, Any], bill: dict[str, Any]) -> dict[str, Any]:
    """One line as an appliedCustomerBillingRate; ``bill`` has the bill's id, relation and
    ``doc``: its statement's period and terms (decoded once per bill, not per line)."""
    base = ports.settings.public_base_url
    body = json.loads(line["body"])
    doc = bill["doc"]
    period = doc["period"]
    cur = body["currency"]
    rate = Decimal(str(doc["terms"]["taxRate"]))
    view: dict[str, Any] = {
        **_ref(ports, "appliedCustomerBillingRate", line["id"]),
        "type": line["kind"],
        "isBilled": bool(line["is_billed"]),
        "date": f"{period['end']}T00:00:00Z",
        "bill": _ref(ports, "customerBill", bill["id"]),
        "billingAccount": {
            "id": bill["relation_id"],
            "href": f"{base}/panther/v1/relation/{bill['relation_id']}",
        },
    }
    chars: list[dict[str, Any]] = [
        {"name": "lineNumber", "valueType": "integer", "value": line["line_no"]}
    ]
    if line["is_billed"]:
        view["name"] = f"{body['product'] or 'relation'} {body['kind']}"
        view["periodCoverage"] = {
            "startDateTime": f"{body['start']}T00:00:00Z",
            "endDateTime": f"{body['end']}T00:00:00Z",
        }
        view["taxExcludedAmount"] = {"unit": cur, "value": float(body["amount"])}
        view["taxIncludedAmount"] = {"unit": cur, "value": float(body["total"])}
        view["appliedTax"] = [
            {
                "taxCategory": "VAT",
                "taxRate": float(rate),
                "taxAmount": {"unit": cur, "value": float(body["tax"])},
            }
        ]
        if body["days"] is not None:
            chars.append({"name": "activeDays", "valueType": "integer", "value": body["days"]})
        if body["months"] is not None:
            chars.append({"name": "monthsDue", "valueType": "string", "value": body["months"]})
        chars.append({"name": "rate", "valueType": "string", "value": body["rate"]})
        if body["kind"] == "recurring":
            chars.append(
                {"name": "prorationRule", "valueType": "string", "value": doc["terms"]["proration"]}
            )
        chars.append(
            {"name": "roundingRule", "valueType": "string", "value": doc["terms"]["rounding"]}
        )
        if body["kind"] == "credit" and body["reference"]:
            chars.append(
                {"name": "troubleTicketId", "valueType": "string", "value": body["reference"]}
            )
    else:
        view["name"] = f"{body['product']} (held out: {body['reason']})"
        view["periodCoverage"] = {
            "startDateTime": f"{period['start']}T00:00:00Z",
            "endDateTime": f"{period['end']}T00:00:00Z",
        }
        view["taxExcludedAmount"] = {"unit": cur, "value": float(body["amountAtStake"])}
        chars.append({"name": "heldOutReason", "valueType": "string", "value": body["reason"]})
    if line["product_id"]:
        view["product"] = {
            "id": line["product_id"],
            "href": f"{base}/tmf-api/productInventory/v4/product/{line['product_id']}",
        }
    view["characteristic"] = chars
    return view


def list_rates(
    ports: Ports,
    caller: Caller,
    *,
    filters: dict[str, str],
    fields: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    ln, st, rel = repo.T.bill_line, repo.T.statement, repo.T.relation
    where: list[Any] = [*_visible(caller)]
    column = {
        "id": ln.c.id,
        "bill.id": ln.c.bill_id,
        "type": ln.c.kind,
        "product.id": ln.c.product_id,
        "billingAccount.id": ln.c.relation_id,
    }
    for name, value in filters.items():
        if name == "isBilled":
            where.append(ln.c.is_billed == (value.lower() == "true"))
        elif name in column:
            where.append(column[name] == value)
    joined = ln.join(st, st.c.id == ln.c.bill_id).join(rel, rel.c.id == ln.c.relation_id)
    with ports.uow.read() as uow:
        total = int(
            uow.conn.execute(
                sa.select(sa.func.count()).select_from(joined).where(*where)
            ).scalar_one()
        )
        rows = [
            dict(r)
            for r in uow.conn.execute(
                sa.select(ln)
                .select_from(joined)
                .where(*where)
                .order_by(ln.c.bill_id, ln.c.line_no)
                .offset(offset)
                .limit(limit)
            ).mappings()
        ]
        bills = {
            bill_id: {"id": bill_id, "relation_id": relation_id, "doc": _terms_of(text)}
            for bill_id, relation_id, text in uow.conn.execute(
                sa.select(st.c.id, st.c.relation_id, st.c.statement).where(
                    st.c.id.in_({r["bill_id"] for r in rows})
                )
            )
        }
    views = [select_fields(_rate_view(ports, r, bills[r["bill_id"]]), fields) for r in rows]
    return views, total


def _terms_of(statement_text: str) -> dict[str, Any]:
    """What a line's view needs of its statement: the period and the terms."""
    doc = json.loads(statement_text)
    return {"period": doc["period"], "terms": doc["terms"]}


def get_rate(
    ports: Ports, caller: Caller, rate_id: str, fields: str | None = None
) -> dict[str, Any]:
    page, total = list_rates(
        ports, caller, filters={"id": rate_id}, fields=fields, offset=0, limit=1
    )
    if not total:
        raise NotFound(f"no appliedCustomerBillingRate {rate_id}")
    return page[0]


# ---- statement requests (customerBillOnDemand) ----------------------------------------------


def request_view(ports: Ports, row: dict[str, Any]) -> dict[str, Any]:
    base = ports.settings.public_base_url
    label = row["period"]
    period = BillingPeriod.from_label(label)
    view: dict[str, Any] = {
        **_ref(ports, "customerBillOnDemand", row["id"]),
        "@type": "BillingStatementOnDemand",
        "@baseType": "CustomerBillOnDemand",
        "state": row["state"],
        "lastUpdate": row["created_at"],
        "billingAccount": {
            "id": row["relation_id"],
            "href": f"{base}/panther/v1/relation/{row['relation_id']}",
        },
        "billingPeriod": {"startDateTime": _at(period.start), "endDateTime": _at(period.end)},
        "relatedParty": {
            "id": row["party_id"],
            "role": "requester",
            "@referredType": "Organization",
        },
    }
    if base:
        view["@schemaLocation"] = (
            f"{base}{TMF_BASE}/openapi.json#/components/schemas/BillingStatementOnDemand"
        )
    for key in ("name", "description"):
        if row.get(key) is not None:
            view[key] = row[key]
    if row["bill_id"]:
        view["customerBill"] = _ref(ports, "customerBill", row["bill_id"])
    return view


def list_bill_requests(
    ports: Ports,
    caller: Caller,
    *,
    filters: dict[str, str],
    fields: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    br, rel = repo.T.bill_request, repo.T.relation
    where: list[Any] = [*_visible(caller)]
    if "id" in filters:
        where.append(br.c.id == filters["id"])
    if "state" in filters:
        where.append(br.c.state == filters["state"])
    if "billingAccount.id" in filters:
        where.append(br.c.relation_id == filters["billingAccount.id"])
    joined = br.join(rel, rel.c.id == br.c.relation_id)
    with ports.uow.read() as uow:
        total = int(
            uow.conn.execute(
                sa.select(sa.func.count()).select_from(joined).where(*where)
            ).scalar_one()
        )
        rows = [
            dict(r)
            for r in uow.conn.execute(
                sa.select(br)
                .select_from(joined)
                .where(*where)
                .order_by(br.c.created_at, br.c.id)
                .offset(offset)
                .limit(limit)
            ).mappings()
        ]
    return [select_fields(request_view(ports, r), fields) for r in rows], total


def get_bill_request(
    ports: Ports, caller: Caller, request_id: str, fields: str | None = None
) -> dict[str, Any]:
    page, total = list_bill_requests(
        ports, caller, filters={"id": request_id}, fields=fields, offset=0, limit=1
    )
    if not total:
        raise NotFound(f"no customerBillOnDemand {request_id}")
    return page[0]


# ---- hub ----------------------------------------------------------------------------------


def register_listener(ports: Ports, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    return hub.tmf_listener(ports, caller, _API, body)


def unregister_listener(ports: Ports, caller: Caller, listener_id: str) -> None:
    hub.remove_listener(ports, caller, _API, listener_id)


def _publish(
    ports: Ports, relation: dict[str, Any], event_type: str, event: dict[str, Any]
) -> None:
    hub.publish_to_relation(ports, _API, relation, event_type, event)
