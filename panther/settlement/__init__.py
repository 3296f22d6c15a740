"""Billing statements: a relation's terms, billing periods and proration, the supplier's
statement for a period (exact amounts, canonical hash, lines' Merkle root) and its invoice PDF.

Plain domain code: no database, no HTTP. The services layer feeds it matched and agreed
services, held-out items and credits, and records the hash and root on the ledger.
The invoice is imported on its own, `from panther.settlement.invoice import render_invoice`:
it loads fpdf2 (and Pillow), about half a second that statements alone do not need.
"""

from panther.settlement.errors import (
    BillingError,
    EndBeforeStart,
    InvalidPeriod,
    InvalidStatementInput,
    InvalidTerms,
    Problem,
)
from panther.settlement.money import CURRENCY_EXPONENTS, Rounding
from panther.settlement.periods import (
    BillingPeriod,
    Proration,
    active_days,
    month_fraction,
    period_containing,
    prorate,
)
from panther.settlement.statement import (
    BillingStatement,
    Credit,
    HeldOutItem,
    HeldOutLine,
    LineKind,
    OneTimeCharge,
    ServiceCharge,
    StatementLine,
    StatementTotals,
    build_statement,
    revise,
    statement_from_json,
)
from panther.settlement.terms import PeriodKind, ProrationRule, Terms

__all__ = [
    "CURRENCY_EXPONENTS",
    "BillingError",
    "BillingPeriod",
    "BillingStatement",
    "Credit",
    "EndBeforeStart",
    "HeldOutItem",
    "HeldOutLine",
    "InvalidPeriod",
    "InvalidStatementInput",
    "InvalidTerms",
    "LineKind",
    "OneTimeCharge",
    "PeriodKind",
    "Problem",
    "Proration",
    "ProrationRule",
    "Rounding",
    "ServiceCharge",
    "StatementLine",
    "StatementTotals",
    "Terms",
    "active_days",
    "build_statement",
    "month_fraction",
    "period_containing",
    "prorate",
    "revise",
    "statement_from_json",
]
