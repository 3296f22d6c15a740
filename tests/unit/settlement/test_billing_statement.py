"""Billing statements: exact amounts worked out by hand, tax, rounding, quarters, one-time
charges, credits, held-out items, input errors, idempotence and hashes."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal as D
from fractions import Fraction
from typing import Any

import pytest

from panther.ledger.canonical import canonical_json
from panther.ledger.merkle import merkle_proof, merkle_root, verify_proof
from panther.settlement import (
    BillingPeriod,
    BillingStatement,
    Credit,
    HeldOutItem,
    InvalidStatementInput,
    LineKind,
    OneTimeCharge,
    ServiceCharge,
    Terms,
    build_statement,
    revise,
)

d = date
FEB24 = BillingPeriod.month(2024, 2)
EUR19 = Terms.from_json({"currency": "EUR", "taxRate": "0.19"})


def build(
    services: list[ServiceCharge] | tuple[ServiceCharge, ...] = (),
    *,
    terms: Terms = EUR19,
    period: BillingPeriod = FEB24,
    **kw: Any,
) -> BillingStatement:
    args: dict[str, Any] = {
        "relation_id": "rel-1",
        "supplier": "carrier-a",
        "customer": "carrier-b",
        "terms": terms,
        "period": period,
        "services": services,
    }
    return build_statement(**(args | kw))


def svc(
    product: str,
    monthly: str,
    start: date,
    end: date | None = None,
    *one_time: OneTimeCharge,
    currency: str = "EUR",
) -> ServiceCharge:
    return ServiceCharge(product, D(monthly), currency, start, end, tuple(one_time))


def amounts(statement: BillingStatement) -> list[tuple[str | None, str, int, int]]:
    return [(ln.product_id, ln.kind.value, ln.amount, ln.tax) for ln in statement.lines]


def problems(**kw: Any) -> dict[str, str]:
    with pytest.raises(InvalidStatementInput) as info:
        build(**kw)
    return {p.pointer: p.code for p in info.value.problems}


# ---- amounts --------------------------------------------------------------------------------


def test_actual_days_with_tax_per_line() -> None:
    statement = build([svc("P1", "100.00", d(2024, 2, 15)), svc("P2", "99.99", d(2023, 1, 1))])
    # P1: 100.00 x 15/29 = 51.7241... -> 51.72; tax 51.72 x 0.19 = 9.8268 -> 9.83
    # P2: 99.99 whole month;            tax 99.99 x 0.19 = 18.9981 -> 19.00
    assert amounts(statement) == [
        ("P1", "recurring", 5172, 983),
        ("P2", "recurring", 9999, 1900),
    ]
    totals = statement.totals
    assert (totals.amount, totals.tax, totals.total, totals.held_out) == (15171, 2883, 18054, 0)
    p1 = statement.lines[0]
    assert (p1.number, p1.days, p1.months, p1.rate) == (1, 15, Fraction(15, 29), D("100.00"))
    assert (p1.start, p1.end, p1.period, p1.total) == (d(2024, 2, 15), d(2024, 3, 1), FEB24, 6155)
    assert p1.to_json() == {
        "line": 1,
        "kind": "recurring",
        "product": "P1",
        "period": "2024-02",
        "start": "2024-02-15",
        "end": "2024-03-01",
        "days": 15,
        "months": "15/29",
        "rate": "100.00",
        "amount": "51.72",
        "tax": "9.83",
        "total": "61.55",
        "currency": "EUR",
        "reference": None,
    }
    assert statement.to_json()["totals"] == {
        "amount": "151.71",
        "tax": "28.83",
        "total": "180.54",
        "heldOut": "0.00",
    }


def test_thirty_day_month() -> None:
    terms = Terms.from_json({"proration": "thirtyDayMonth"})
    jan = build([svc("P1", "90", d(2024, 1, 16))], terms=terms, period=BillingPeriod.month(2024, 1))
    assert amounts(jan) == [("P1", "recurring", 4500, 0)]  # 90 x 15/30
    feb = build([svc("P1", "90", d(2024, 2, 15))], terms=terms)
    assert amounts(feb) == [("P1", "recurring", 4800, 0)]  # 90 x 16/30 (29th weighs 2)
    # active on the 31st only: a line for the day, nothing to pay
    only_31st = build(
        [svc("P1", "90", d(2024, 1, 31))], terms=terms, period=BillingPeriod.month(2024, 1)
    )
    assert [(ln.days, ln.months, ln.amount) for ln in only_31st.lines] == [(1, 0, 0)]


def test_no_proration() -> None:
    terms = Terms.from_json({"proration": "none", "taxRate": "0.2"})
    statement = build(
        [svc("P1", "100", d(2024, 2, 28)), svc("P2", "50", d(2023, 1, 1))], terms=terms
    )
    assert amounts(statement) == [("P1", "recurring", 10000, 2000), ("P2", "recurring", 5000, 1000)]


def test_start_and_stop_in_the_same_month() -> None:
    # 10..19 February 2024: 10 days of 29; 29.00 x 10/29 = 10.00 exactly
    statement = build([svc("P1", "29.00", d(2024, 2, 10), d(2024, 2, 20))])
    assert amounts(statement) == [("P1", "recurring", 1000, 190)]
    assert (statement.lines[0].start, statement.lines[0].end) == (d(2024, 2, 10), d(2024, 2, 20))


def test_leap_day() -> None:
    # 29 February alone: 1/29 of 58.00 = 2.00
    statement = build([svc("P1", "58.00", d(2024, 2, 29), d(2024, 3, 1))])
    assert amounts(statement) == [("P1", "recurring", 200, 38)]


def test_services_not_active_in_the_period_have_no_line() -> None:
    statement = build(
        [
            svc("ended", "100", d(2023, 1, 1), d(2024, 2, 1)),  # last active 31 January
            svc("later", "100", d(2024, 3, 1)),
            svc("never", "100", d(2024, 2, 10), d(2024, 2, 10)),
            svc("on", "100", d(2024, 1, 1), d(2024, 2, 2)),  # 1 February only
        ]
    )
    # 100 x 1/29 = 3.448... -> 3.45
    assert amounts(statement) == [("on", "recurring", 345, 66)]


def test_a_price_change_splits_a_product_in_two_lines() -> None:
    statement = build(
        [svc("P1", "130", d(2024, 2, 15)), svc("P1", "100", d(2023, 6, 1), d(2024, 2, 15))]
    )
    # 100 x 14/29 = 48.2758... -> 48.28; 130 x 15/29 = 67.2413... -> 67.24
    assert [(ln.rate, ln.days, ln.amount) for ln in statement.lines] == [
        (D("100"), 14, 4828),
        (D("130"), 15, 6724),
    ]


def test_quarter_sums_the_prorated_months() -> None:
    q1 = BillingPeriod.quarter(2024, 1)
    services = [svc("P1", "100", d(2024, 1, 16), d(2024, 3, 10)), svc("P2", "100", d(2020, 1, 1))]
    actual = build(services, terms=Terms.from_json({"billingPeriod": "quarter"}), period=q1)
    # P1: 100 x (16/31 + 29/29 + 9/31) = 100 x 56/31 = 180.6451... -> 180.65
    assert amounts(actual) == [("P1", "recurring", 18065, 0), ("P2", "recurring", 30000, 0)]
    assert (actual.lines[0].days, actual.lines[0].months) == (54, Fraction(56, 31))
    assert actual.lines[0].to_json()["period"] == "2024-Q1"
    thirty = build(
        services,
        terms=Terms.from_json({"billingPeriod": "quarter", "proration": "thirtyDayMonth"}),
        period=q1,
    )
    assert amounts(thirty)[0] == ("P1", "recurring", 18000, 0)  # 100 x (15 + 30 + 9) / 30
    none = build(
        services,
        terms=Terms.from_json({"billingPeriod": "quarter", "proration": "none"}),
        period=q1,
    )
    assert amounts(none)[0] == ("P1", "recurring", 30000, 0)


def test_period_must_be_the_terms_kind() -> None:
    assert problems(period=BillingPeriod.quarter(2024, 1)) == {"/period": "periodKind"}


def test_jpy_has_no_minor_units() -> None:
    terms = Terms.from_json({"currency": "JPY", "taxRate": "0.1"})
    statement = build([svc("P1", "10000", d(2024, 2, 15), currency="JPY")], terms=terms)
    # 10000 x 15/29 = 5172.41 -> 5172; tax 517.2 -> 517
    assert amounts(statement) == [("P1", "recurring", 5172, 517)]
    assert statement.lines[0].to_json()["amount"] == "5172"
    assert statement.to_json()["totals"]["total"] == "5689"


def test_three_decimal_currency() -> None:
    terms = Terms.from_json({"currency": "KWD"})
    statement = build([svc("P1", "1.000", d(2024, 2, 15), currency="KWD")], terms=terms)
    assert amounts(statement) == [("P1", "recurring", 517, 0)]  # 1 x 15/29 = 0.51724 -> 0.517
    assert statement.lines[0].to_json()["amount"] == "0.517"


# ---- rounding -------------------------------------------------------------------------------


def test_rounding_rule_applies_per_line() -> None:
    # 16..30 April is 15 days of 30: half a month. 10.05 / 2 = 5.025, a tie.
    period = BillingPeriod.month(2024, 4)
    services = [svc("P1", "10.05", d(2024, 4, 16)), svc("P2", "10.05", d(2024, 4, 16))]
    up = build(services, terms=Terms.from_json({"rounding": "halfUp"}), period=period)
    even = build(services, terms=Terms.from_json({"rounding": "halfEven"}), period=period)
    assert [ln.amount for ln in up.lines] == [503, 503]
    assert [ln.amount for ln in even.lines] == [502, 502]
    # rounded per line, then summed: 10.06 and 10.04, never round(10.05)
    assert (up.totals.amount, even.totals.amount) == (1006, 1004)


def test_tax_rounding_ties() -> None:
    # 0.10 x 5% = 0.005 (half a cent), 0.30 x 5% = 0.015
    one_time = [
        OneTimeCharge(d(2024, 2, 3), D("0.10"), "EUR"),
        OneTimeCharge(d(2024, 2, 4), D("0.30"), "EUR"),
    ]
    services = [svc("P1", "0", d(2024, 3, 1), None, *one_time)]
    credits = [Credit("TT-1", D("0.10"), "EUR")]
    up = build(services, credits=credits, terms=Terms.from_json({"taxRate": "0.05"}))
    even = build(
        services,
        credits=credits,
        terms=Terms.from_json({"taxRate": "0.05", "rounding": "halfEven"}),
    )
    assert [(ln.amount, ln.tax) for ln in up.lines] == [(10, 1), (30, 2), (-10, -1)]
    assert [(ln.amount, ln.tax) for ln in even.lines] == [(10, 0), (30, 2), (-10, 0)]


def test_one_time_amounts_are_rounded_by_the_rule_too() -> None:
    charge = OneTimeCharge(d(2024, 2, 1), D("10.005"), "EUR", "odd price")
    statement = build([svc("P1", "0", d(2024, 5, 1), None, charge)])
    assert [(ln.rate, ln.amount) for ln in statement.lines] == [(D("10.005"), 1001)]
    assert statement.lines[0].to_json()["rate"] == "10.005"


# ---- one-time charges, credits, held-out items ----------------------------------------------


def test_one_time_charges_fall_in_their_period() -> None:
    charges = [
        OneTimeCharge(d(2024, 1, 31), D("1.00"), "EUR", "january"),
        OneTimeCharge(d(2024, 2, 1), D("250.00"), "EUR", "installation"),
        OneTimeCharge(d(2024, 2, 29), D("20.00"), "EUR", "change"),
        OneTimeCharge(d(2024, 3, 1), D("2.00"), "EUR", "march"),
    ]
    # the service itself starts in March: its one-time charges still bill by their own date
    statement = build([svc("P1", "100", d(2024, 3, 1), None, *charges)])
    assert [
        (ln.kind, ln.start, ln.end, ln.amount, ln.tax, ln.reference) for ln in statement.lines
    ] == [
        (LineKind.ONE_TIME, d(2024, 2, 1), d(2024, 2, 2), 25000, 4750, "installation"),
        (LineKind.ONE_TIME, d(2024, 2, 29), d(2024, 3, 1), 2000, 380, "change"),
    ]
    assert statement.lines[0].days is None and statement.lines[0].months is None


def test_credits_are_negative_lines_taxed_alike() -> None:
    statement = build(
        [svc("P2", "99.99", d(2023, 1, 1))],
        credits=[Credit("TT-9", D("5"), "EUR"), Credit("TT-1", D("10.00"), "EUR", "P2")],
    )
    assert [
        (ln.product_id, ln.kind.value, ln.rate, ln.amount, ln.tax, ln.reference)
        for ln in statement.lines
    ] == [
        ("P2", "recurring", D("99.99"), 9999, 1900, None),
        ("P2", "credit", D("-10.00"), -1000, -190, "TT-1"),
        (None, "credit", D("-5"), -500, -95, "TT-9"),  # a relation-wide credit comes last
    ]
    credit = statement.lines[1]
    assert (credit.start, credit.end) == (FEB24.start, FEB24.end)
    assert credit.to_json()["rate"] == "-10.00"
    assert credit.to_json()["total"] == "-11.90"
    # 99.99 - 15.00 = 84.99; 19.00 - 2.85 = 16.15
    assert (statement.totals.amount, statement.totals.tax) == (8499, 1615)


def test_credits_beyond_the_charges_make_a_negative_total() -> None:
    statement = build(credits=[Credit("TT-1", D("40"), "EUR")])
    assert (statement.totals.amount, statement.totals.tax, statement.totals.total) == (
        -4000,
        -760,
        -4760,
    )
    assert statement.to_json()["totals"]["total"] == "-47.60"


def test_held_out_items_are_listed_not_totalled() -> None:
    held = [
        HeldOutItem("P9", "missingAtCustomer", D("12.345"), "EUR"),
        HeldOutItem("P3", "disputed", D("42.5"), "EUR"),
    ]
    statement = build([svc("P1", "10", d(2024, 1, 1))], held_out=held)
    assert [(h.product_id, h.reason, h.amount_at_stake) for h in statement.held_out] == [
        ("P3", "disputed", 4250),
        ("P9", "missingAtCustomer", 1235),  # 12.345 -> 12.35, half up
    ]
    assert (statement.totals.amount, statement.totals.tax, statement.totals.held_out) == (
        1000,
        190,
        5485,
    )
    assert statement.to_json()["heldOut"][0] == {
        "product": "P3",
        "reason": "disputed",
        "amountAtStake": "42.50",
        "currency": "EUR",
    }
    assert statement.to_json()["totals"]["heldOut"] == "54.85"
    assert statement.totals.total == 1190


def test_empty_statement() -> None:
    statement = build()
    assert statement.lines == () and statement.held_out == ()
    assert statement.totals.total == 0
    assert statement.to_json()["totals"]["total"] == "0.00"


# ---- input errors ---------------------------------------------------------------------------


def test_currency_mismatch_everywhere_at_once() -> None:
    usd_fee = OneTimeCharge(d(2024, 2, 1), D("1"), "USD")
    found = problems(
        services=[svc("P1", "1", d(2024, 1, 1), None, usd_fee, currency="USD")],
        credits=[Credit("TT-1", D("1"), "GBP")],
        held_out=[HeldOutItem("P2", "disputed", D("1"), "USD")],
    )
    assert found == {
        "/services/0/currency": "currencyMismatch",
        "/services/0/oneTime/0/currency": "currencyMismatch",
        "/credits/0/currency": "currencyMismatch",
        "/heldOut/0/currency": "currencyMismatch",
    }


def test_a_mismatch_is_refused_even_outside_the_period() -> None:
    assert problems(services=[svc("P1", "1", d(2020, 1, 1), d(2020, 2, 1), currency="USD")]) == {
        "/services/0/currency": "currencyMismatch"
    }


def test_bad_inputs_are_all_reported() -> None:
    found = problems(
        services=[
            ServiceCharge("", 12.5, "EUR", d(2024, 1, 1)),  # type: ignore[arg-type]
            svc("P2", "-1", d(2024, 2, 10), d(2024, 2, 9)),
            ServiceCharge("P3", D("NaN"), "EUR", datetime(2024, 1, 1)),
            ServiceCharge("P4", D(1), "EUR", d(2024, 1, 1), "2024-03-01"),  # type: ignore[arg-type]
            "P5",
        ],
        credits=[Credit("", D("0"), "EUR"), Credit("TT-2", D("-1"), "EUR", "")],
        held_out=[HeldOutItem("P9", " ", True, "EUR")],  # type: ignore[arg-type]
    )
    assert found == {
        "/services/0/productId": "invalid",
        "/services/0/monthlyCharge": "notDecimal",
        "/services/1/monthlyCharge": "invalid",
        "/services/1/end": "endBeforeStart",
        "/services/2/monthlyCharge": "invalid",
        "/services/2/start": "invalid",
        "/services/3/end": "invalid",
        "/services/4": "invalid",
        "/credits/0/disputeId": "invalid",
        "/credits/0/amount": "invalid",
        "/credits/1/productId": "invalid",
        "/credits/1/amount": "invalid",
        "/heldOut/0/reason": "invalid",
        "/heldOut/0/amountAtStake": "notDecimal",
    }


def test_overlapping_spans_of_one_product_are_refused() -> None:
    found = problems(
        services=[
            svc("P1", "1", d(2024, 1, 1)),
            svc("P1", "2", d(2024, 2, 10), d(2024, 3, 1)),
            svc("P2", "1", d(2024, 1, 1), d(2024, 2, 10)),
            svc("P2", "1", d(2024, 2, 10)),  # back to back: fine
            svc("P2", "1", d(2024, 2, 10), d(2024, 2, 10)),  # never active: fine
        ]
    )
    assert found == {"/services/1/start": "overlap"}


def test_parties_terms_and_version() -> None:
    assert problems(supplier="x", customer="x") == {"/customer": "invalid"}
    assert problems(relation_id="") == {"/relationId": "invalid"}
    assert problems(terms={"currency": "EUR"}) == {"/terms": "invalid"}
    assert problems(period="2024-02") == {"/period": "invalid"}
    assert problems(version=0) == {"/version": "invalid"}
    assert problems(version=True) == {"/version": "invalid"}
    assert problems(version=2) == {"/supersedes": "invalid"}
    assert problems(version=2, supersedes="ab") == {"/supersedes": "invalid"}
    assert problems(version=1, supersedes="0" * 64) == {"/supersedes": "invalid"}
    assert build(version=2, supersedes="0" * 64).version == 2


def test_the_error_says_where() -> None:
    with pytest.raises(InvalidStatementInput) as info:
        build([svc("P1", "1", d(2024, 1, 1), currency="USD")])
    assert info.value.codes == {"currencyMismatch"}
    assert "/services/0/currency" in str(info.value)
    assert "'USD' is not the relation's currency 'EUR'" in str(info.value)


# ---- canonical form, hashes, versions -------------------------------------------------------

SERVICES = [
    svc(
        "P1", "100", d(2024, 2, 15), None, OneTimeCharge(d(2024, 2, 15), D("250"), "EUR", "install")
    ),
    svc("P2", "99.99", d(2023, 1, 1)),
    svc("P3", "10", d(2024, 1, 1), d(2024, 2, 20)),
]
CREDITS = [Credit("TT-1", D("10"), "EUR", "P2"), Credit("TT-2", D("3"), "EUR")]
HELD = [
    HeldOutItem("P4", "disputed", D("42.5"), "EUR"),
    HeldOutItem("P5", "unmatched", D("7"), "EUR"),
]


def full(**kw: Any) -> BillingStatement:
    return build(**({"services": SERVICES, "credits": CREDITS, "held_out": HELD} | kw))


def test_same_inputs_same_bytes_in_any_order() -> None:
    first = full()
    again = full()
    shuffled = full(services=SERVICES[::-1], credits=CREDITS[::-1], held_out=HELD[::-1])
    assert first.canonical_json == again.canonical_json == shuffled.canonical_json
    assert first.statement_hash == shuffled.statement_hash
    assert first == shuffled
    assert [ln.number for ln in first.lines] == list(range(1, len(first.lines) + 1))


def test_hash_and_root_are_the_ledger_primitives() -> None:
    statement = full()
    assert statement.canonical_json == canonical_json(statement.to_json())
    assert statement.statement_hash == hashlib.sha256(statement.canonical_json).hexdigest()
    leaves = [canonical_json(line.to_json()) for line in statement.lines]
    assert statement.lines_root == merkle_root(leaves)
    assert statement.to_json()["linesRoot"] == statement.lines_root.hex()
    for i, leaf in enumerate(leaves):
        assert verify_proof(leaf, merkle_proof(leaves, i), statement.lines_root)
    document = statement.to_json()
    assert document["@type"] == "BillingStatement"
    assert document["schemaVersion"] == 1
    assert document["statementDate"] == "2024-03-01"
    assert document["terms"] == EUR19.to_json()
    assert (document["version"], document["supersedes"]) == (1, None)


def test_equal_numbers_hash_equally() -> None:
    a = build([svc("P1", "100", d(2024, 1, 1))])
    b = build([ServiceCharge("P1", D("1.000E+2"), "EUR", d(2024, 1, 1))])
    assert a.statement_hash == b.statement_hash


VARIANTS: dict[str, dict[str, Any]] = {
    "monthly charge": {"services": [svc("P1", "100.01", d(2024, 2, 15)), *SERVICES[1:]]},
    "start": {"services": [svc("P1", "100", d(2024, 2, 16)), *SERVICES[1:]]},
    "end": {"services": [*SERVICES[:2], svc("P3", "10", d(2024, 1, 1), d(2024, 2, 21))]},
    "one-time amount": {
        "services": [
            svc(
                "P1",
                "100",
                d(2024, 2, 15),
                None,
                OneTimeCharge(d(2024, 2, 15), D("251"), "EUR", "install"),
            ),
            *SERVICES[1:],
        ]
    },
    "one-time text": {
        "services": [
            svc(
                "P1",
                "100",
                d(2024, 2, 15),
                None,
                OneTimeCharge(d(2024, 2, 15), D("250"), "EUR", "setup"),
            ),
            *SERVICES[1:],
        ]
    },
    "product id": {"services": [svc("P1b", "100", d(2024, 2, 15)), *SERVICES[1:]]},
    "a service less": {"services": SERVICES[:2]},
    "credit amount": {"credits": [Credit("TT-1", D("11"), "EUR", "P2"), CREDITS[1]]},
    "credit dispute": {"credits": [Credit("TT-7", D("10"), "EUR", "P2"), CREDITS[1]]},
    "credit product": {"credits": [Credit("TT-1", D("10"), "EUR", "P3"), CREDITS[1]]},
    "held-out reason": {"held_out": [HeldOutItem("P4", "unmatched", D("42.5"), "EUR"), HELD[1]]},
    "held-out amount": {"held_out": [HeldOutItem("P4", "disputed", D("42.51"), "EUR"), HELD[1]]},
    "no held-out": {"held_out": []},
    "relation": {"relation_id": "rel-2"},
    "supplier": {"supplier": "carrier-c"},
    "customer": {"customer": "carrier-c"},
    "period": {"period": BillingPeriod.month(2024, 3)},
    "tax rate": {"terms": Terms.from_json({"taxRate": "0.2"})},
    "rounding": {"terms": Terms.from_json({"taxRate": "0.19", "rounding": "halfEven"})},
    "proration": {"terms": Terms.from_json({"taxRate": "0.19", "proration": "thirtyDayMonth"})},
    "rail": {"terms": Terms.from_json({"taxRate": "0.19", "settlementRail": "token"})},
    "version": {"version": 2, "supersedes": "ab" * 32},
}


def test_any_change_of_input_changes_the_hash() -> None:
    hashes = {"base": full().statement_hash}
    for name, change in VARIANTS.items():
        hashes[name] = full(**change).statement_hash
    assert len(set(hashes.values())) == len(hashes), hashes


def test_revise_keeps_identical_statements_and_versions_changes() -> None:
    v1 = revise(None, full())
    assert (v1.version, v1.supersedes) == (1, None)
    assert revise(v1, full()) is v1  # idempotent: generating again changes nothing
    v2 = revise(v1, full(credits=[*CREDITS, Credit("TT-3", D("1"), "EUR")]))  # a late credit
    assert (v2.version, v2.supersedes) == (2, v1.statement_hash)
    assert v2.statement_hash != v1.statement_hash
    assert revise(v2, full(credits=[*CREDITS, Credit("TT-3", D("1"), "EUR")])) is v2
    v3 = revise(v2, full())
    assert (v3.version, v3.supersedes) == (3, v2.statement_hash)
    assert v3.lines == v1.lines
    with pytest.raises(ValueError):
        revise(v1, full(period=BillingPeriod.month(2024, 3)))
