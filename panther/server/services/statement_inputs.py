"""What a statement bills: the period asked for, the relation's terms, and from its newest final
match run the services to charge, the items to hold out and the agreed dispute credits.

Which run a statement is made of: the newest *final* run (endorsed by both carriers) whose
as-of date is before the period's end, i.e. the inventory both agreed on as of the latest date
not after the period's last day (a run dated inside the period wins over any earlier one).
From that run: one service per `matched` item, from the supplier's record (product id, the
recurring `productPrice[priceType=recurring].price.dutyFreeAmount`, `startDate`,
`terminationDate`, the latter read as the first day the service no longer runs); `partial`
items are held out as `differences`, `mismatch` items with their reason (`missingAtCustomer`
and `ambiguous` with the supplier's records, `missingAtSupplier` with the customer's), each
with the amount at stake: its recurring charge prorated over the period like a line.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from panther.settlement import (
    BillingPeriod,
    Credit,
    HeldOutItem,
    InvalidPeriod,
    InvalidTerms,
    OneTimeCharge,
    ServiceCharge,
    Terms,
    period_containing,
    prorate,
)
from panther.settlement.money import to_minor

from . import review_state
from .disputes import OPEN_STATUSES
from .errors import Conflict, InvalidInput
from .ports import Row, UnitOfWork

__all__ = [
    "RECURRING_FIELD",
    "credits",
    "final_run",
    "parse_period",
    "relation_terms",
    "statement_inputs",
]

RECURRING_FIELD = "recurringCharge"  # the compared field of the recurring charge


def relation_terms(relation: Row) -> Terms:
    """The relation's commercial terms, as the settlement domain reads them (422 if it cannot)."""
    try:
        return Terms.from_json(json.loads(relation["terms"]))
    except InvalidTerms as exc:
        raise InvalidInput(
            "the relation's terms cannot be billed",
            details=[{"pointer": f"/terms{p.pointer}", "message": p.message} for p in exc.problems],
        ) from None


# ---- the period ---------------------------------------------------------------------------


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


# ---- the run ------------------------------------------------------------------------------


def final_run(uow: UnitOfWork, relation_id: str, period: BillingPeriod) -> Row:
    """The run a statement of the period is made of (409 if there is none)."""
    row = uow.billing.final_run(relation_id, period.end.isoformat())
    if row is None:
        raise Conflict(
            f"no final match run (endorsed by both) for relation {relation_id} "
            f"as of {period.last_day} or earlier"
        )
    return row


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


def statement_inputs(
    uow: UnitOfWork, run: Row, terms: Terms, period: BillingPeriod
) -> tuple[list[ServiceCharge], list[HeldOutItem]]:
    """The services to bill and the items to hold out, from a run's items and their review.

    Billed: `matched` items, and `partial` and `mismatch` items both carriers agreed on (by
    review or by a closed dispute), at the recurring charge the agreement lets stand; an
    agreed `missingAtSupplier` item has nothing to bill. Held out: products under an open
    dispute (`disputed`), partial items not agreed (`differences`), mismatches not agreed
    (their reason)."""
    items = uow.billing.run_items(run["id"])
    reviewed = review_state.resolutions_for_run(uow, run["id"])
    disputed = uow.billing.disputed_products(run["relation_id"], OPEN_STATUSES)
    sup = uow.billing.records(
        run["supplier_report_id"], {r for _, i in items for r in i["supplierRefs"]}
    )
    missing_at_supplier = {
        r for _, i in items if i.get("reason") == "missingAtSupplier" for r in i["customerRefs"]
    }
    cus = uow.billing.records(run["customer_report_id"], missing_at_supplier)
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


def credits(
    uow: UnitOfWork, relation_id: str, period: BillingPeriod, *, new_ones: bool
) -> list[tuple[str, Credit]]:
    """Agreed credits of closed disputes for this period's statement: those it already
    carries and, while it is open (``new_ones``), those no statement carries yet."""
    return [
        (
            ticket_id,
            Credit(
                ticket_id,
                Decimal(str(credit["value"])),
                str(credit["unit"]),
                credit.get("productId"),
            ),
        )
        for ticket_id, credit in uow.billing.credits(relation_id, period.label, uncarried=new_ones)
    ]
