"""The invoice PDF: produced, reproducible, and carrying the lines, totals, held-out items and
the statement's hash and version."""

from __future__ import annotations

import re
import zlib
from datetime import date
from decimal import Decimal as D

import pytest

from panther.settlement import (
    BillingPeriod,
    BillingStatement,
    Credit,
    HeldOutItem,
    OneTimeCharge,
    ServiceCharge,
    Terms,
    build_statement,
)
from panther.settlement.invoice import invoice_number, render_invoice

d = date


def statement(extra: int = 0, **kw: object) -> BillingStatement:
    args: dict[str, object] = {
        "relation_id": "rel-1",
        "supplier": "carrier-a",
        "customer": "carrier-b",
        "terms": Terms.from_json({"currency": "EUR", "taxRate": "0.19"}),
        "period": BillingPeriod.month(2024, 2),
        "services": [
            ServiceCharge(
                "P1",
                D("100.00"),
                "EUR",
                d(2024, 2, 15),
                None,
                (OneTimeCharge(d(2024, 2, 15), D("250"), "EUR", "installation"),),
            ),
            ServiceCharge("P2", D("99.99"), "EUR", d(2023, 1, 1)),
            *(ServiceCharge(f"X{i:03d}", D("12.50"), "EUR", d(2024, 1, 1)) for i in range(extra)),
        ],
        "credits": [Credit("TT-1", D("10"), "EUR", "P2")],
        "held_out": [HeldOutItem("P3", "disputed", D("42.5"), "EUR")],
    }
    return build_statement(**(args | kw))  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> str:
    """Everything the pages draw: the content streams, inflated, as Latin-1 text."""
    parts = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            parts.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            parts.append(stream.decode("latin-1"))
    return "\n".join(parts)


def test_the_invoice_is_a_pdf_with_totals_hash_and_version() -> None:
    s = statement()
    # P1 51.72 + 250.00 + P2 99.99 - 10.00 = 391.71; tax 9.83 + 47.50 + 19.00 - 1.90 = 74.43
    assert (s.totals.amount, s.totals.tax, s.totals.total) == (39171, 7443, 46614)
    pdf = render_invoice(
        s, supplier_name="Carrier A", customer_name="Carrier B", agreed_on=d(2024, 3, 5)
    )
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    for expected in (
        "391.71 EUR",
        "74.43 EUR",
        "466.14 EUR",
        s.statement_hash,
        s.lines_root.hex(),
        "rel-1-2024-02-v1",
        "Carrier A \\(carrier-a\\)",  # parentheses are escaped in PDF strings
        "Carrier B \\(carrier-b\\)",
        "2024-02 \\(2024-02-01 to 2024-02-29\\)",
        "2024-03-05",
        "installation",
        "dispute TT-1",
        "15/29",
        "-10.00",
        "P3",
        "disputed",
        "42.50 EUR",
    ):
        assert expected in text, expected
    assert "DRAFT" not in text


def test_the_same_statement_renders_the_same_bytes() -> None:
    first = render_invoice(statement(), agreed_on=d(2024, 3, 5))
    assert render_invoice(statement(), agreed_on=d(2024, 3, 5)) == first
    # the creation date is the statement's date, not the time of rendering
    assert b"/CreationDate (D:20240301000000Z" in first
    assert render_invoice(statement(relation_id="rel-2"), agreed_on=d(2024, 3, 5)) != first


def test_unagreed_statements_render_as_drafts() -> None:
    text = pdf_text(render_invoice(statement()))
    assert "DRAFT" in text
    assert "not yet agreed" in text


def test_later_versions_show_what_they_supersede() -> None:
    v1 = statement()
    v2 = statement(version=2, supersedes=v1.statement_hash)
    assert invoice_number(v2) == "rel-1-2024-02-v2"
    text = pdf_text(render_invoice(v2, agreed_on=d(2024, 3, 9)))
    assert "rel-1-2024-02-v2" in text
    assert v1.statement_hash in text
    assert v2.statement_hash in text


def test_many_lines_run_over_several_pages() -> None:
    s = statement(extra=120)
    pdf = render_invoice(s, agreed_on=d(2024, 3, 5))
    assert len(re.findall(rb"/Type /Page\b", pdf)) >= 3
    text = pdf_text(pdf)
    assert "X119" in text
    # 120 x 12.50 = 1500.00 more, tax 2.375 -> 2.38 each = 285.60 more
    assert (s.totals.amount, s.totals.tax) == (39171 + 150000, 7443 + 28560)
    # 391.71 + 1500.00 = 1891.71; 74.43 + 285.60 = 360.03; 1891.71 + 360.03 = 2251.74
    assert "1891.71 EUR" in text and "360.03 EUR" in text and "2251.74 EUR" in text


def test_empty_statement_and_text_beyond_latin_1() -> None:
    empty = pdf_text(render_invoice(statement(services=[], credits=[], held_out=[])))
    assert "No billable lines" in empty and "Nothing held out" in empty and "0.00 EUR" in empty
    odd = statement(**{"services": [ServiceCharge("\u4e2d-1", D("1"), "EUR", d(2024, 2, 1))]})
    text = pdf_text(render_invoice(odd, supplier_name="Bj\u00f6rn \u2013 Telco"))
    assert "\\\\u4e2d-1" in text  # printed as an escape, not refused
    assert "Bj\xf6rn \\\\u2013 Telco" in text


@pytest.mark.parametrize("currency", ["JPY", "KWD"])
def test_other_minor_units(currency: str) -> None:
    s = build_statement(
        relation_id="rel-1",
        supplier="carrier-a",
        customer="carrier-b",
        terms=Terms.from_json({"currency": currency}),
        period=BillingPeriod.month(2024, 2),
        services=[ServiceCharge("P1", D("1000"), currency, d(2024, 2, 1))],
    )
    text = pdf_text(render_invoice(s, agreed_on=d(2024, 3, 1)))
    assert ("1000 JPY" if currency == "JPY" else "1000.000 KWD") in text
