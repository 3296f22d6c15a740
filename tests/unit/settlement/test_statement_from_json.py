"""A stored statement reads back to the same statement: same hash, same lines' root."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from panther.settlement import (
    BillingPeriod,
    BillingStatement,
    Credit,
    HeldOutItem,
    InvalidStatementInput,
    OneTimeCharge,
    ServiceCharge,
    Terms,
    build_statement,
    revise,
    statement_from_json,
)


def _statement(terms: Terms, period: BillingPeriod) -> BillingStatement:
    return build_statement(
        relation_id="rel-ab",
        supplier="a",
        customer="b",
        terms=terms,
        period=period,
        services=[
            ServiceCharge("CID-1", Decimal("1250.00"), terms.currency, date(2024, 2, 10)),
            ServiceCharge(
                "CID-2",
                Decimal("99.995"),
                terms.currency,
                date(2023, 1, 1),
                period.start.replace(day=20),
                one_time=(OneTimeCharge(period.start, Decimal("5"), terms.currency, "setup"),),
            ),
        ],
        held_out=[HeldOutItem("CID-3", "differences", Decimal("3.3"), terms.currency)],
        credits=[Credit("TT-1", Decimal("1.5"), terms.currency)],
    )


@pytest.mark.parametrize(
    ("raw", "period"),
    [
        ({"taxRate": "0.19"}, BillingPeriod.month(2024, 2)),
        ({"currency": "JPY", "billingPeriod": "quarter"}, BillingPeriod.quarter(2024, 1)),
        ({"proration": "thirtyDayMonth", "rounding": "halfEven"}, BillingPeriod.month(2026, 11)),
    ],
)
def test_round_trip(raw: dict[str, str], period: BillingPeriod) -> None:
    original = _statement(Terms.from_json(raw), period)
    revised = revise(
        original,
        build_statement(
            relation_id="rel-ab",
            supplier="a",
            customer="b",
            terms=Terms.from_json(raw),
            period=period,
        ),
    )
    for statement in (original, revised):
        back = statement_from_json(json.loads(statement.canonical_json))
        assert back == statement
        assert back.statement_hash == statement.statement_hash
        assert back.lines_root == statement.lines_root


def test_a_changed_document_is_refused() -> None:
    statement = _statement(Terms(), BillingPeriod.month(2024, 2))
    doc = json.loads(statement.canonical_json)
    doc["totals"]["amount"] = "0.00"
    with pytest.raises(InvalidStatementInput):
        statement_from_json(doc)
    with pytest.raises(InvalidStatementInput):
        statement_from_json({"terms": {}})
