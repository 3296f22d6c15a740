"""TMF678 representations: a stored statement, its lines and a request as JSON (no database)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from panther.server.representations import tmf678
from panther.server.services.statements import line_rows
from panther.settlement import (
    BillingPeriod,
    BillingStatement,
    Credit,
    HeldOutItem,
    PeriodKind,
    ServiceCharge,
    Terms,
    build_statement,
)

BASE = "https://panther.example"
CBM = f"{BASE}/tmf-api/customerBillManagement/v4"
RELATION = {"supplier_id": "sup", "customer_id": "cus"}


def _statement() -> BillingStatement:
    return build_statement(
        relation_id="rel-x",
        supplier="sup",
        customer="cus",
        terms=Terms(tax_rate=Decimal("0.19")),
        period=BillingPeriod(PeriodKind.MONTH, date(2026, 11, 1)),
        services=[ServiceCharge("CID-1", Decimal(1000), "EUR", date(2024, 1, 1))],
        held_out=[HeldOutItem("CID-2", "differences", Decimal(400), "EUR")],
        credits=[Credit("TT-1", Decimal(100), "EUR", "CID-1")],
    )


def _row(statement: BillingStatement, **values: Any) -> dict[str, Any]:
    return {
        "id": "CB-rel-x-2026-11-v2",
        "relation_id": "rel-x",
        "version": 2,
        "state": "new",
        "statement": statement.canonical_json.decode(),
        "statement_hash": statement.statement_hash,
        "lines_root": statement.lines_root.hex(),
        "supersedes": "CB-rel-x-2026-11-v1",
        "superseded_by": None,
        "revision": 3,
        "updated_at": "2026-12-02T10:00:00.000000Z",
        **values,
    }


def test_money_is_minor_units_in_the_currency_s_exponent() -> None:
    assert tmf678.money(12345, "EUR") == {"unit": "EUR", "value": 123.45}
    assert tmf678.money(12345, "JPY") == {"unit": "JPY", "value": 12345.0}
    assert tmf678.at(date(2026, 11, 1)) == "2026-11-01T00:00:00Z"


def test_a_bill_is_its_stored_header_and_totals() -> None:
    statement = _statement()
    view = tmf678.bill_view(BASE, _row(statement), RELATION)
    assert view["id"] == "CB-rel-x-2026-11-v2"
    assert view["href"] == f"{CBM}/customerBill/CB-rel-x-2026-11-v2"
    assert view["billNo"] == "rel-x-2026-11-v2"
    assert view["billingPeriod"] == {
        "startDateTime": "2026-11-01T00:00:00Z",
        "endDateTime": "2026-12-01T00:00:00Z",
    }
    assert view["taxExcludedAmount"] == {"unit": "EUR", "value": 900.0}  # 1000 - 100
    assert view["taxIncludedAmount"] == view["amountDue"] == view["remainingAmount"]
    assert view["amountDue"] == {"unit": "EUR", "value": 1071.0}
    assert view["heldOutAmount"] == {"unit": "EUR", "value": 400.0}
    assert view["taxItem"][0]["taxRate"] == 0.19
    assert view["supersedes"]["id"] == "CB-rel-x-2026-11-v1"
    assert "supersededBy" not in view
    assert view["@schemaLocation"].startswith(f"{CBM}/openapi.json")
    assert [p["role"] for p in view["relatedParty"]] == ["supplier", "customer"]


def test_a_settled_bill_has_nothing_remaining_and_no_base_url_no_schema_location() -> None:
    view = tmf678.bill_view("", _row(_statement(), state="settled"), RELATION)
    assert view["remainingAmount"] == {"unit": "EUR", "value": 0.0}
    assert view["amountDue"] == {"unit": "EUR", "value": 1071.0}
    assert "@schemaLocation" not in view
    assert view["href"] == "/tmf-api/customerBillManagement/v4/customerBill/CB-rel-x-2026-11-v2"


def test_rates_of_a_billed_line_a_credit_and_a_held_out_item() -> None:
    statement = _statement()
    row = _row(statement)
    doc = tmf678.statement_header(row["statement"])
    bill = {"id": row["id"], "relation_id": "rel-x", "doc": doc}
    recurring, credit, held = (tmf678.rate_view(BASE, ln, bill) for ln in line_rows(row, statement))

    assert recurring["isBilled"] is True and recurring["type"] == "recurringCharge"
    assert recurring["taxExcludedAmount"] == {"unit": "EUR", "value": 1000.0}
    assert recurring["taxIncludedAmount"] == {"unit": "EUR", "value": 1190.0}
    chars = {c["name"]: c["value"] for c in recurring["characteristic"]}
    assert chars["lineNumber"] == 1 and chars["prorationRule"] == "actualDays"
    assert recurring["product"]["id"] == "CID-1"

    chars = {c["name"]: c["value"] for c in credit["characteristic"]}
    assert credit["type"] == "appliedBillingCredit" and chars["troubleTicketId"] == "TT-1"
    assert "prorationRule" not in chars

    assert held["isBilled"] is False
    assert held["name"] == "CID-2 (held out: differences)"
    assert held["taxExcludedAmount"] == {"unit": "EUR", "value": 400.0}
    assert "appliedTax" not in held and "taxIncludedAmount" not in held


def test_a_request_names_its_period_and_its_bill_once_issued() -> None:
    row = {
        "id": "CBOD-1",
        "relation_id": "rel-x",
        "party_id": "sup",
        "period": "2026-Q4",
        "state": "done",
        "bill_id": None,
        "name": "Q4",
        "description": None,
        "created_at": "2027-01-02T00:00:00Z",
    }
    view = tmf678.request_view(BASE, row)
    assert view["billingPeriod"] == {
        "startDateTime": "2026-10-01T00:00:00Z",
        "endDateTime": "2027-01-01T00:00:00Z",
    }
    assert view["name"] == "Q4" and "description" not in view and "customerBill" not in view
    issued = tmf678.request_view(BASE, {**row, "bill_id": "CB-rel-x-2026-Q4-v1"})
    assert issued["customerBill"]["href"] == f"{CBM}/customerBill/CB-rel-x-2026-Q4-v1"


def test_the_etag_is_the_revision() -> None:
    assert tmf678.etag({"revision": 7}) == '"7"'
    assert json.loads(tmf678.etag({"revision": 7})) == "7"
