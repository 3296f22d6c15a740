"""The supplier's billing statement for one relation and period, built from plain inputs
(the matched services with their agreed charges, the held-out items, the credits from resolved
disputes) and hashed so both carriers can endorse exactly the same bytes.

Rules (see `periods` for dates and proration, `terms` for tax, `money.Rounding`):

- One `recurring` line per service active in the period: its monthly charge times the months
  due (prorated month by month, summed over a quarter), rounded once to minor units by the
  relation's rounding rule. A service not active on any day of the period has no line.
- One `oneTime` line per one-time charge dated in the period, whatever the service's dates.
- One `credit` line per credit (a resolved dispute's outcome): a negative amount, taxed at the
  same rate, because a credit reduces the price that was taxed.
- Held-out items (disputed, unmatched) are listed with their reason and amount at stake and
  are never in the totals.
- Tax is per line (each line's amount times the rate, rounded by the same rule); the totals are
  the sums of the lines, so they always equal them. A total may be negative (a credit note).
- Every amount is in the relation's currency; anything else is refused (`currencyMismatch`):
  converting is the matching's business, through the terms.

Lines are in a canonical order (by product, then kind, then date), so the order of the inputs
does not matter: the same inputs always give byte-identical canonical JSON and the same hash,
and any change of an input changes the hash. A correction after a statement was issued is a
new version that names the hash it supersedes (`revise`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from typing import Any

from panther.ledger.canonical import canonical_json
from panther.ledger.merkle import merkle_root
from panther.settlement.errors import InvalidStatementInput, Problem
from panther.settlement.money import CURRENCY_EXPONENTS, decimal_text, minor_text, to_minor
from panther.settlement.periods import BillingPeriod, prorate
from panther.settlement.terms import PeriodKind, Terms

__all__ = [
    "STATEMENT_SCHEMA_VERSION",
    "BillingStatement",
    "Credit",
    "HeldOutItem",
    "HeldOutLine",
    "LineKind",
    "OneTimeCharge",
    "ServiceCharge",
    "StatementLine",
    "StatementTotals",
    "build_statement",
    "revise",
    "statement_from_json",
]

# The shape of the canonical JSON below; bump it when that shape changes, so an old hash is
# never recomputed from a new shape.
STATEMENT_SCHEMA_VERSION = 1
_HASH_HEX = re.compile(r"[0-9a-f]{64}")


class LineKind(StrEnum):
    RECURRING = "recurring"
    ONE_TIME = "oneTime"
    CREDIT = "credit"


_KIND_ORDER = {LineKind.RECURRING: 0, LineKind.ONE_TIME: 1, LineKind.CREDIT: 2}


# ---- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OneTimeCharge:
    """A charge due once, on `on` (installation, change fee), billed in the period of `on`."""

    on: date
    amount: Decimal
    currency: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class ServiceCharge:
    """A matched and agreed service: its agreed recurring charge per month, active from
    `start` to `end` (half-open; None while it runs), and its one-time charges.

    The same product may come more than once (a price change splits it in two), as long as the
    spans do not overlap."""

    product_id: str
    monthly_charge: Decimal
    currency: str
    start: date
    end: date | None = None
    one_time: tuple[OneTimeCharge, ...] = ()


@dataclass(frozen=True, slots=True)
class HeldOutItem:
    """An item kept off the bill: why (e.g. "disputed", "missingAtCustomer") and what is at
    stake for the period."""

    product_id: str
    reason: str
    amount_at_stake: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Credit:
    """A credit to the customer from a resolved dispute: a positive `amount`, for one product
    or (`product_id` None) for the relation as a whole."""

    dispute_id: str
    amount: Decimal
    currency: str
    product_id: str | None = None


# ---- outputs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of a statement. Amounts are integers in the currency's minor units.

    `start` to `end` (half-open) is what the line covers: the active part of the period for a
    recurring line, the charge's day for a one-time charge, the period for a credit. `days`
    (active calendar days) and `months` (monthly charges due) are set on recurring lines only.
    `rate` is the unrounded price: the monthly charge, the one-time amount, or minus the
    credit; `amount` is `rate x months` (or `rate`) rounded, `tax` is `amount x tax rate`
    rounded. `reference` is the dispute id of a credit or the description of a one-time charge.
    """

    number: int
    kind: LineKind
    product_id: str | None
    period: BillingPeriod
    start: date
    end: date
    days: int | None
    months: Fraction | None
    rate: Decimal
    amount: int
    tax: int
    currency: str
    reference: str | None = None

    @property
    def total(self) -> int:
        return self.amount + self.tax

    def to_json(self) -> dict[str, Any]:
        exp = CURRENCY_EXPONENTS[self.currency]
        return {
            "line": self.number,
            "kind": self.kind.value,
            "product": self.product_id,
            "period": self.period.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "months": None if self.months is None else str(self.months),
            "rate": decimal_text(self.rate, exp),
            "amount": minor_text(self.amount, exp),
            "tax": minor_text(self.tax, exp),
            "total": minor_text(self.total, exp),
            "currency": self.currency,
            "reference": self.reference,
        }

    def canonical_json(self) -> bytes:
        """RFC 8785 bytes of `to_json()`: the line's leaf in the statement's Merkle tree."""
        return canonical_json(self.to_json())


@dataclass(frozen=True, slots=True)
class HeldOutLine:
    """A held-out item as listed on the statement (amount at stake in minor units)."""

    product_id: str
    reason: str
    amount_at_stake: int
    currency: str

    def to_json(self) -> dict[str, Any]:
        return {
            "product": self.product_id,
            "reason": self.reason,
            "amountAtStake": minor_text(self.amount_at_stake, CURRENCY_EXPONENTS[self.currency]),
            "currency": self.currency,
        }


@dataclass(frozen=True, slots=True)
class StatementTotals:
    """Sums over the lines, in minor units: `amount` (tax excluded), `tax`, `total` (tax
    included); `held_out` sums the amounts at stake, which none of the others include."""

    amount: int
    tax: int
    total: int
    held_out: int


@dataclass(frozen=True)
class BillingStatement:
    """A supplier's statement for one relation and period, version `version`.

    Build it with `build_statement`; `statement_hash` (SHA-256 of the RFC 8785 canonical JSON)
    and `lines_root` (Merkle root over the lines' canonical JSON, in line order) are what the
    ledger records.
    """

    relation_id: str
    supplier: str
    customer: str
    period: BillingPeriod
    terms: Terms
    lines: tuple[StatementLine, ...]
    held_out: tuple[HeldOutLine, ...] = ()
    version: int = 1
    supersedes: str | None = None

    @property
    def currency(self) -> str:
        return self.terms.currency

    @property
    def statement_date(self) -> date:
        """The statement's date: the first day after the period (fixed, so the statement and
        its invoice are reproducible)."""
        return self.period.end

    @cached_property
    def totals(self) -> StatementTotals:
        amount = sum(line.amount for line in self.lines)
        tax = sum(line.tax for line in self.lines)
        return StatementTotals(
            amount=amount,
            tax=tax,
            total=amount + tax,
            held_out=sum(item.amount_at_stake for item in self.held_out),
        )

    @cached_property
    def lines_root(self) -> bytes:
        """Merkle root (`panther.ledger.merkle`) over the lines' canonical JSON, in order."""
        return merkle_root([line.canonical_json() for line in self.lines])

    def to_json(self) -> dict[str, Any]:
        exp = self.terms.exponent
        totals = self.totals
        return {
            "@type": "BillingStatement",
            "schemaVersion": STATEMENT_SCHEMA_VERSION,
            "relation": self.relation_id,
            "supplier": self.supplier,
            "customer": self.customer,
            "period": self.period.to_json(),
            "statementDate": self.statement_date.isoformat(),
            "currency": self.currency,
            "terms": self.terms.to_json(),
            "version": self.version,
            "supersedes": self.supersedes,
            "lines": [line.to_json() for line in self.lines],
            "linesRoot": self.lines_root.hex(),
            "heldOut": [item.to_json() for item in self.held_out],
            "totals": {
                "amount": minor_text(totals.amount, exp),
                "tax": minor_text(totals.tax, exp),
                "total": minor_text(totals.total, exp),
                "heldOut": minor_text(totals.held_out, exp),
            },
        }

    @cached_property
    def canonical_json(self) -> bytes:
        """RFC 8785 bytes of `to_json()`: identical for identical inputs."""
        return canonical_json(self.to_json())

    @cached_property
    def statement_hash(self) -> str:
        """SHA-256 of `canonical_json`, as lowercase hex (the form `supersedes` takes)."""
        return hashlib.sha256(self.canonical_json).hexdigest()


# ---- building -------------------------------------------------------------------------------


def build_statement(
    *,
    relation_id: str,
    supplier: str,
    customer: str,
    terms: Terms,
    period: BillingPeriod,
    services: Iterable[ServiceCharge] = (),
    held_out: Iterable[HeldOutItem] = (),
    credits: Iterable[Credit] = (),
    version: int = 1,
    supersedes: str | None = None,
) -> BillingStatement:
    """The supplier's statement for `period` under `terms`.

    Raises `InvalidStatementInput` listing every problem at once (pointers such as
    `/services/3/currency`; a charge in another currency than the terms' has code
    `currencyMismatch`).
    """
    services, held_out, credits = tuple(services), tuple(held_out), tuple(credits)
    problems = _check_inputs(
        relation_id, supplier, customer, terms, period, services, held_out, credits
    )
    problems += _check_version(version, supersedes)
    if problems:
        raise InvalidStatementInput(tuple(problems))

    rule, rate, cur = terms.rounding, terms.tax_rate, terms.currency

    def line(
        kind: LineKind,
        product: str | None,
        start: date,
        end: date,
        price: Decimal,
        amount: int,
        days: int | None = None,
        months: Fraction | None = None,
        reference: str | None = None,
    ) -> StatementLine:
        tax = to_minor(Fraction(amount) * Fraction(rate), 0, rule)
        return StatementLine(
            0, kind, product, period, start, end, days, months, price, amount, tax, cur, reference
        )

    lines: list[StatementLine] = []
    for service in services:
        monthly = Decimal(service.monthly_charge)
        due = prorate(period, service.start, service.end, terms.proration)
        if due.days:
            lines.append(
                line(
                    LineKind.RECURRING,
                    service.product_id,
                    max(service.start, period.start),
                    period.end if service.end is None else min(service.end, period.end),
                    monthly,
                    to_minor(Fraction(monthly) * due.months, terms.exponent, rule),
                    days=due.days,
                    months=due.months,
                )
            )
        for charge in service.one_time:
            if charge.on in period:
                price = Decimal(charge.amount)
                lines.append(
                    line(
                        LineKind.ONE_TIME,
                        service.product_id,
                        charge.on,
                        charge.on + timedelta(days=1),
                        price,
                        to_minor(price, terms.exponent, rule),
                        reference=charge.description or None,
                    )
                )
    for credit in credits:
        price = -Decimal(credit.amount)
        lines.append(
            line(
                LineKind.CREDIT,
                credit.product_id,
                period.start,
                period.end,
                price,
                -to_minor(-price, terms.exponent, rule),
                reference=credit.dispute_id,
            )
        )
    lines.sort(key=_line_order)
    held = sorted(
        (
            HeldOutLine(
                item.product_id,
                item.reason,
                to_minor(Decimal(item.amount_at_stake), terms.exponent, rule),
                cur,
            )
            for item in held_out
        ),
        key=lambda h: (h.product_id, h.reason, h.amount_at_stake),
    )
    return BillingStatement(
        relation_id=relation_id,
        supplier=supplier,
        customer=customer,
        period=period,
        terms=terms,
        lines=tuple(replace(ln, number=i) for i, ln in enumerate(lines, start=1)),
        held_out=tuple(held),
        version=version,
        supersedes=supersedes,
    )


def revise(previous: BillingStatement | None, fresh: BillingStatement) -> BillingStatement:
    """The statement to keep after generating `fresh` for the period of `previous`.

    Same content as `previous` (whatever `fresh`'s version): `previous` itself, so generating
    twice is idempotent. Different content: `fresh` as the next version, superseding
    `previous`'s hash. No `previous`: `fresh` as version 1.
    """
    if previous is None:
        return replace(fresh, version=1, supersedes=None)
    if (previous.relation_id, previous.period) != (fresh.relation_id, fresh.period):
        raise ValueError("a revision must be for the same relation and period")
    same = replace(fresh, version=previous.version, supersedes=previous.supersedes)
    if same.statement_hash == previous.statement_hash:
        return previous
    return replace(fresh, version=previous.version + 1, supersedes=previous.statement_hash)


def _line_order(line: StatementLine) -> tuple[Any, ...]:
    return (
        line.product_id is None,
        line.product_id or "",
        _KIND_ORDER[line.kind],
        line.start,
        line.end,
        line.reference or "",
        line.rate,
        line.amount,
    )


# ---- input checks ---------------------------------------------------------------------------


def _check_inputs(
    relation_id: Any,
    supplier: Any,
    customer: Any,
    terms: Any,
    period: Any,
    services: Sequence[Any],
    held_out: Sequence[Any],
    credits: Sequence[Any],
) -> list[Problem]:
    problems: list[Problem] = []
    for pointer, value in (
        ("/relationId", relation_id),
        ("/supplier", supplier),
        ("/customer", customer),
    ):
        _text(problems, pointer, value)
    if isinstance(supplier, str) and supplier and supplier == customer:
        problems.append(Problem("/customer", "the customer must differ from the supplier"))
    if not isinstance(terms, Terms):
        problems.append(Problem("/terms", "must be Terms"))
        return problems
    if not isinstance(period, BillingPeriod):
        problems.append(Problem("/period", "must be a BillingPeriod"))
    elif period.kind is not terms.billing_period:
        problems.append(
            Problem(
                "/period",
                f"the relation bills by {terms.billing_period.value}, not by {period.kind.value}",
                "periodKind",
            )
        )
    cur = terms.currency
    spans: dict[str, list[tuple[date, date | None, int]]] = {}
    for i, service in enumerate(services):
        at = f"/services/{i}"
        if not isinstance(service, ServiceCharge):
            problems.append(Problem(at, "must be a ServiceCharge"))
            continue
        _text(problems, f"{at}/productId", service.product_id)
        _amount(problems, f"{at}/monthlyCharge", service.monthly_charge)
        _currency(problems, f"{at}/currency", service.currency, cur)
        start_ok = _date(problems, f"{at}/start", service.start)
        end_ok = service.end is None or _date(problems, f"{at}/end", service.end)
        if start_ok and end_ok:
            if service.end is not None and service.end < service.start:
                problems.append(
                    Problem(
                        f"{at}/end",
                        f"ends ({service.end}) before it starts ({service.start})",
                        "endBeforeStart",
                    )
                )
            elif isinstance(service.product_id, str) and service.end != service.start:
                spans.setdefault(service.product_id, []).append((service.start, service.end, i))
        if not isinstance(service.one_time, tuple | list):
            problems.append(Problem(f"{at}/oneTime", "must be a tuple of OneTimeCharge"))
            continue
        for j, charge in enumerate(service.one_time):
            cat = f"{at}/oneTime/{j}"
            if not isinstance(charge, OneTimeCharge):
                problems.append(Problem(cat, "must be a OneTimeCharge"))
                continue
            _date(problems, f"{cat}/on", charge.on)
            _amount(problems, f"{cat}/amount", charge.amount)
            _currency(problems, f"{cat}/currency", charge.currency, cur)
            if not isinstance(charge.description, str):
                problems.append(Problem(f"{cat}/description", "must be a string"))
    for product, product_spans in spans.items():
        product_spans.sort(key=lambda s: s[0])
        for (_, prev_end, prev_i), (start, _, i) in zip(
            product_spans, product_spans[1:], strict=False
        ):
            if prev_end is None or start < prev_end:
                problems.append(
                    Problem(
                        f"/services/{i}/start",
                        f"product {product!r} is already billed on this date by /services/{prev_i}",
                        "overlap",
                    )
                )
    for i, item in enumerate(held_out):
        at = f"/heldOut/{i}"
        if not isinstance(item, HeldOutItem):
            problems.append(Problem(at, "must be a HeldOutItem"))
            continue
        _text(problems, f"{at}/productId", item.product_id)
        _text(problems, f"{at}/reason", item.reason)
        _amount(problems, f"{at}/amountAtStake", item.amount_at_stake)
        _currency(problems, f"{at}/currency", item.currency, cur)
    for i, credit in enumerate(credits):
        at = f"/credits/{i}"
        if not isinstance(credit, Credit):
            problems.append(Problem(at, "must be a Credit"))
            continue
        _text(problems, f"{at}/disputeId", credit.dispute_id)
        if credit.product_id is not None:
            _text(problems, f"{at}/productId", credit.product_id)
        if _amount(problems, f"{at}/amount", credit.amount) and credit.amount == 0:
            problems.append(Problem(f"{at}/amount", "a credit must be positive"))
        _currency(problems, f"{at}/currency", credit.currency, cur)
    return problems


def _check_version(version: Any, supersedes: Any) -> list[Problem]:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return [Problem("/version", "must be an integer from 1")]
    if version == 1 and supersedes is not None:
        return [Problem("/supersedes", "version 1 supersedes nothing")]
    if version > 1 and not (isinstance(supersedes, str) and _HASH_HEX.fullmatch(supersedes)):
        return [
            Problem("/supersedes", "a later version names the hash it supersedes (64 hex digits)")
        ]
    return []


def _text(problems: list[Problem], pointer: str, value: Any) -> bool:
    if isinstance(value, str) and value.strip():
        return True
    problems.append(Problem(pointer, "must be a non-empty string"))
    return False


def _amount(problems: list[Problem], pointer: str, value: Any) -> bool:
    """A finite, non-negative Decimal (or int); floats are refused, never rounded."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        problems.append(Problem(pointer, "must be a Decimal (never a float)", "notDecimal"))
        return False
    if isinstance(value, Decimal) and not value.is_finite():
        problems.append(Problem(pointer, "must be finite"))
        return False
    if value < 0:
        problems.append(Problem(pointer, "must not be negative"))
        return False
    return True


def _currency(problems: list[Problem], pointer: str, value: Any, expected: str) -> None:
    if value != expected:
        problems.append(
            Problem(
                pointer,
                f"{value!r} is not the relation's currency {expected!r}",
                "currencyMismatch",
            )
        )


def _date(problems: list[Problem], pointer: str, value: Any) -> bool:
    if isinstance(value, date) and not isinstance(value, datetime):
        return True
    problems.append(Problem(pointer, "must be a date (not a datetime)"))
    return False


# ---- reading back -----------------------------------------------------------------------


def statement_from_json(doc: Any) -> BillingStatement:
    """The statement whose `to_json()` is `doc` (e.g. as stored): its hash is the same.

    Raises `InvalidStatementInput` when `doc` does not read back to the same canonical JSON.
    """
    try:
        terms = Terms.from_json(doc["terms"])
        period = BillingPeriod(
            PeriodKind(doc["period"]["kind"]), date.fromisoformat(doc["period"]["start"])
        )
        exp = terms.exponent

        def minor(text: str) -> int:
            return int(Decimal(text).scaleb(exp))

        lines = tuple(
            StatementLine(
                number=ln["line"],
                kind=LineKind(ln["kind"]),
                product_id=ln["product"],
                period=period,
                start=date.fromisoformat(ln["start"]),
                end=date.fromisoformat(ln["end"]),
                days=ln["days"],
                months=None if ln["months"] is None else Fraction(ln["months"]),
                rate=Decimal(ln["rate"]),
                amount=minor(ln["amount"]),
                tax=minor(ln["tax"]),
                currency=ln["currency"],
                reference=ln["reference"],
            )
            for ln in doc["lines"]
        )
        held = tuple(
            HeldOutLine(h["product"], h["reason"], minor(h["amountAtStake"]), h["currency"])
            for h in doc["heldOut"]
        )
        statement = BillingStatement(
            relation_id=doc["relation"],
            supplier=doc["supplier"],
            customer=doc["customer"],
            period=period,
            terms=terms,
            lines=lines,
            held_out=held,
            version=doc["version"],
            supersedes=doc["supersedes"],
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidStatementInput((Problem("", f"not a statement document: {exc}"),)) from exc
    if statement.canonical_json != canonical_json(doc):
        raise InvalidStatementInput((Problem("", "does not read back to the same statement"),))
    return statement
